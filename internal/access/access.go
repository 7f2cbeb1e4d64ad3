// Package access is the single access decision of the hub: who is asking
// (an organisation authenticated by its token, or anonymous), which
// collections it may read and write, and which objects in them it may see.
//
// Every read path — TAXII, the JSON API, export — asks this package, and
// the decision is pushed into the store query itself (collection grant,
// TLP clearance, TLP:RED recipients), so limits, counts, cursors and
// date_added headers are computed over visible objects only. The policy
// fails closed:
//   - an unmarked object takes its collection's default TLP (AMBER unless set);
//   - TLP:RED is visible only to the creating organisation and to the
//     identities named in x_bulwark_recipients;
//   - anonymous viewers see only TLP:CLEAR in collections marked public;
//   - a collection the viewer may not read is reported as not found.
package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// Errors of the access decision.
var (
	ErrUnauthenticated = errors.New("unauthenticated")
	ErrForbidden       = errors.New("forbidden")
	// ErrNotFound hides what a viewer may not see: a missing collection and
	// an unreadable one answer alike.
	ErrNotFound = store.ErrNotFound
)

// Store is what access needs of the store.
type Store interface {
	store.Collections
	store.Writer
	store.Reader
	store.Orgs
	store.Remover
}

// Viewer is who is asking.
type Viewer struct {
	Org       store.Org // zero for anonymous
	Anonymous bool
}

// Name is the organisation's name, or "anonymous".
func (v Viewer) Name() string {
	if v.Anonymous {
		return "anonymous"
	}
	return v.Org.Name
}

// Anonymous is the viewer without a token.
var Anonymous = Viewer{Anonymous: true}

// CollectionAccess is a collection as one viewer sees it.
type CollectionAccess struct {
	store.Collection
	CanRead, CanWrite bool
	// Granted: the viewer reads through a grant of its own, not only
	// because the collection is public (which opens TLP:CLEAR alone).
	Granted bool
}

// Service makes access decisions over a store.
type Service struct {
	s     Store
	now   func() time.Time
	audit *auditor
	cache policyCache
}

// New returns the access service over s.
// Call Close to write the last audit entries.
func New(s Store) *Service { return &Service{s: s, now: time.Now, audit: newAuditor(s)} }

// Flush writes the audit entries gathered so far.
func (a *Service) Flush(ctx context.Context) error { return a.audit.flush(ctx) }

// Close writes pending audit entries and stops the background writer.
func (a *Service) Close() error { return a.audit.close() }

// TokenPrefix starts every token, so leaked tokens are easy to grep for.
const TokenPrefix = "bwk_"

// NewToken makes a random token for an organisation, stores its hash and
// returns the secret (shown once) and the token's id.
func (a *Service) NewToken(ctx context.Context, org string, expires time.Time) (secret, id string, err error) {
	o, err := a.s.Org(ctx, org)
	if err != nil {
		return "", "", err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	t := store.Token{ID: newUUID(), Org: o.ID, Hash: hashToken(secret), Expires: expires}
	if err := a.s.CreateToken(ctx, t); err != nil {
		return "", "", err
	}
	return secret, t.ID, nil
}

// hashToken: tokens are 256 random bits, so a plain SHA-256 is enough to
// make a stolen database useless (no password-style stretching needed).
// Authenticate hashes the same way.
func hashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// maxTokenLen bounds what is hashed and looked up.
const maxTokenLen = 256

// Authenticate turns a token into a viewer. Any failure is
// ErrUnauthenticated, without saying which check failed.
func (a *Service) Authenticate(ctx context.Context, secret string) (Viewer, error) {
	if secret == "" || len(secret) > maxTokenLen {
		return Viewer{}, ErrUnauthenticated
	}
	h := sha256.Sum256([]byte(secret))
	gen, cacheable := a.generation(ctx)
	e, ok := authEntry{}, false
	if cacheable {
		e, ok = a.cache.token(gen, h)
	}
	if !ok {
		t, err := a.s.TokenByHash(ctx, h[:])
		if errors.Is(err, store.ErrNotFound) {
			return Viewer{}, ErrUnauthenticated
		}
		if err != nil {
			return Viewer{}, fmt.Errorf("authenticating: %w", err)
		}
		o, err := a.s.Org(ctx, t.Org)
		if errors.Is(err, store.ErrNotFound) {
			return Viewer{}, ErrUnauthenticated
		}
		if err != nil {
			return Viewer{}, fmt.Errorf("authenticating: %w", err)
		}
		e = authEntry{org: o, expires: t.Expires, revoked: t.Revoked}
		if cacheable {
			a.cache.putToken(gen, h, e)
		}
	}
	if e.revoked || (!e.expires.IsZero() && !a.now().Before(e.expires)) {
		return Viewer{}, ErrUnauthenticated
	}
	return Viewer{Org: e.org}, nil
}

// Collections lists the collections the viewer may read or write, in
// creation order.
func (a *Service) Collections(ctx context.Context, v Viewer) ([]CollectionAccess, error) {
	gen, cacheable := a.generation(ctx)
	all, ok := []store.Collection(nil), false
	if cacheable {
		all, ok = a.cache.collections(gen)
	}
	if !ok {
		var err error
		if all, err = a.s.ListCollections(ctx); err != nil {
			return nil, err
		}
		if cacheable {
			a.cache.putCollections(gen, all)
		}
	}
	grants, err := a.grants(ctx, v)
	if err != nil {
		return nil, err
	}
	var out []CollectionAccess
	for _, c := range all {
		ca := a.decide(v, c, grants)
		if ca.CanRead || ca.CanWrite {
			out = append(out, ca)
		}
	}
	return out, nil
}

// Collection finds one collection by id as the viewer sees it; ErrNotFound
// when it does not exist or the viewer has no access to it.
func (a *Service) Collection(ctx context.Context, v Viewer, id string) (CollectionAccess, error) {
	gen, cacheable := a.generation(ctx)
	c, ok := store.Collection{}, false
	if cacheable {
		c, ok = a.cache.collection(gen, id)
	}
	if !ok {
		var err error
		if c, err = a.s.Collection(ctx, id); err != nil {
			return CollectionAccess{}, err
		}
		if cacheable {
			a.cache.putCollection(gen, id, c)
		}
	}
	grants, err := a.grants(ctx, v)
	if err != nil {
		return CollectionAccess{}, err
	}
	ca := a.decide(v, c, grants)
	if !ca.CanRead && !ca.CanWrite {
		return CollectionAccess{}, fmt.Errorf("collection %q: %w", id, ErrNotFound)
	}
	return ca, nil
}

// grants maps the viewer's grants by collection id. The map may be shared
// through the cache: callers only read it.
func (a *Service) grants(ctx context.Context, v Viewer) (map[string]store.Grant, error) {
	if v.Anonymous || v.Org.ID == "" {
		return nil, nil
	}
	gen, cacheable := a.generation(ctx)
	if cacheable {
		if m, ok := a.cache.grantsOf(gen, v.Org.ID); ok {
			return m, nil
		}
	}
	gs, err := a.s.Grants(ctx, v.Org.ID)
	if err != nil {
		return nil, err
	}
	m := make(map[string]store.Grant, len(gs))
	for _, g := range gs {
		m[g.Collection] = g
	}
	if cacheable {
		a.cache.putGrants(gen, v.Org.ID, m)
	}
	return m, nil
}

func (a *Service) decide(v Viewer, c store.Collection, grants map[string]store.Grant) CollectionAccess {
	ca := CollectionAccess{Collection: c}
	switch {
	case v.Anonymous:
		ca.CanRead = c.Public
	case v.Org.ID == "":
		// A zero viewer is nobody: fail closed.
	case v.Org.Admin:
		ca.CanRead, ca.CanWrite = true, true
	default:
		g := grants[c.ID]
		ca.CanRead = g.Read || c.Public
		ca.CanWrite = g.Write
		ca.Granted = g.Read
	}
	return ca
}

// Scope narrows a query to what the viewer may see in its collection. It
// is the one place the read policy is written down; every read path calls
// it (through Query) before touching the store.
func (a *Service) Scope(ctx context.Context, v Viewer, q store.Query) (store.Query, error) {
	if q.Collection == "" {
		return q, fmt.Errorf("%w: a viewer's query must name a collection", ErrForbidden)
	}
	ca, err := a.Collection(ctx, v, q.Collection)
	if err != nil {
		return q, err
	}
	if !ca.CanRead {
		return q, fmt.Errorf("collection %q: %w", q.Collection, ErrNotFound)
	}
	q.Collection = ca.ID
	limit := stix.TLPClear
	switch {
	case v.Anonymous:
	case v.Org.Admin:
		limit = stix.TLPRed
	default:
		limit = v.Org.Clearance
		// Public access to a collection grants CLEAR only.
		if !ca.Granted {
			limit = stix.TLPClear
		}
	}
	if q.MaxTLP == stix.TLPNone || q.MaxTLP > limit {
		q.MaxTLP = limit
	}
	switch {
	case v.Anonymous || v.Org.Identity == "":
		// No identity can be a RED recipient; MaxTLP is CLEAR anyway.
		q.RedFor = "identity--00000000-0000-4000-8000-000000000000"
	case v.Org.Admin:
		q.RedFor = ""
	default:
		q.RedFor = v.Org.Identity
	}
	return q, nil
}

// Query runs a query as the viewer and records it in the audit log.
func (a *Service) Query(ctx context.Context, v Viewer, q store.Query, action string) (store.Page, error) {
	sq, err := a.Scope(ctx, v, q)
	if err != nil {
		return store.Page{}, err
	}
	page, err := a.s.Query(ctx, sq)
	if err != nil {
		return page, err
	}
	if action != "" {
		a.audit.add(store.AuditEntry{Org: v.Name(), Action: action, Collection: sq.Collection, Count: len(page.Records)})
	}
	return page, nil
}

// rawQuerier is an optional store capability (sqlstore has it): a
// collection query that hands over each record's stored JSON instead of
// decoding it.
type rawQuerier interface {
	QueryRaw(ctx context.Context, q store.Query, each func(dateAdded time.Time, raw []byte) error) (store.Page, error)
}

// QueryRaw runs a collection query as the viewer, exactly as Query scopes
// it, for read paths that pass stored objects on untouched (TAXII
// envelopes): each visible record's date_added and stored JSON go to each,
// in date_added order, and raw is valid only during that call. The page
// returned has More and Next but no Records.
func (a *Service) QueryRaw(ctx context.Context, v Viewer, q store.Query, action string, each func(dateAdded time.Time, raw []byte) error) (store.Page, error) {
	sq, err := a.Scope(ctx, v, q)
	if err != nil {
		return store.Page{}, err
	}
	n := 0
	count := func(t time.Time, raw []byte) error { n++; return each(t, raw) }
	var page store.Page
	if rq, ok := a.s.(rawQuerier); ok {
		page, err = rq.QueryRaw(ctx, sq, count)
	} else {
		page, err = a.s.Query(ctx, sq)
		for _, rec := range page.Records {
			if err == nil {
				err = count(rec.DateAdded, rec.Object.Raw)
			}
		}
		page.Records = nil
	}
	if err != nil {
		return store.Page{}, err
	}
	if action != "" {
		a.audit.add(store.AuditEntry{Org: v.Name(), Action: action, Collection: sq.Collection, Count: n})
	}
	return page, nil
}

// PutResult reports a write, per object in input order.
type PutResult struct {
	store.PutResult
	Errors []error // nil where the object was stored
}

// Put writes objects into a collection as the viewer. Objects must pass
// stix validation already. created_by_ref is filled with the viewer's
// identity when absent; an object naming another organisation's identity is
// refused (its slot in Errors says why), the others are stored.
func (a *Service) Put(ctx context.Context, v Viewer, collection string, objs []*stix.Object, source string) (PutResult, error) {
	var res PutResult
	ca, err := a.Collection(ctx, v, collection)
	if err != nil {
		return res, err
	}
	if !ca.CanWrite {
		return res, fmt.Errorf("collection %q: %w", collection, ErrForbidden)
	}
	others, err := a.orgIdentities(ctx)
	if err != nil {
		return res, err
	}
	res.Errors = make([]error, len(objs))
	var items []store.PutItem
	var index []int
	for i, o := range objs {
		switch {
		case o.CreatedByRef == "" && !stix.IsSCO(o.Type) && o.Type != "marking-definition":
			filled, err := o.WithProps(map[string]any{"created_by_ref": v.Org.Identity})
			if err != nil {
				res.Errors[i] = err
				continue
			}
			o = filled
		case o.CreatedByRef != "" && o.CreatedByRef != v.Org.Identity && others[o.CreatedByRef] != "" && !v.Org.Admin:
			res.Errors[i] = fmt.Errorf("created_by_ref names organisation %q, not the writer", others[o.CreatedByRef])
			continue
		}
		items = append(items, store.PutItem{Object: o, Source: source})
		index = append(index, i)
	}
	pr, err := a.s.Put(ctx, ca.ID, items)
	if err != nil {
		return res, err
	}
	res.Created, res.NewVersions, res.Unchanged, res.Stale = pr.Created, pr.NewVersions, pr.Unchanged, pr.Stale
	res.Outcomes = make([]store.Outcome, len(objs))
	for k, i := range index {
		res.Outcomes[i] = pr.Outcomes[k]
	}
	a.audit.add(store.AuditEntry{Org: v.Name(), Action: "write", Collection: ca.ID, Count: len(items), Detail: fmt.Sprintf("%d refused", len(objs)-len(items))})
	return res, nil
}

// Remove deletes an object's selected versions from a collection: it needs
// both read and write access, and only versions the viewer can see are
// removed (a writer cleared AMBER asking for "all" leaves a RED version it
// cannot see in place). specVersions, when given, narrows the versions as
// TAXII's match[spec_version] does.
func (a *Service) Remove(ctx context.Context, v Viewer, collection, id string, vers store.Versions, specVersions []string) (int, error) {
	ca, err := a.Collection(ctx, v, collection)
	if err != nil {
		return 0, err
	}
	var visible []time.Time
	q := store.Query{Collection: collection, IDs: []string{id}, Versions: vers, SpecVersions: specVersions, Limit: store.MaxLimit}
	for {
		page, err := a.Query(ctx, v, q, "")
		if err != nil {
			return 0, err
		}
		for _, rec := range page.Records {
			visible = append(visible, rec.Version)
		}
		if !page.More {
			break
		}
		q.Cursor = page.Next
	}
	if len(visible) == 0 {
		return 0, fmt.Errorf("object %q: %w", id, ErrNotFound)
	}
	if !ca.CanWrite {
		return 0, fmt.Errorf("collection %q: %w", collection, ErrForbidden)
	}
	n, err := a.s.Remove(ctx, ca.ID, id, store.Versions{At: visible})
	if err == nil {
		a.audit.add(store.AuditEntry{Org: v.Name(), Action: "delete", Collection: ca.ID, Count: n, Detail: id})
	}
	return n, err
}

// orgIdentities maps the identity ids of registered organisations to their
// names.
func (a *Service) orgIdentities(ctx context.Context) (map[string]string, error) {
	gen, cacheable := a.generation(ctx)
	if cacheable {
		if m, ok := a.cache.identities(gen); ok {
			return m, nil
		}
	}
	orgs, err := a.s.ListOrgs(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(orgs))
	for _, o := range orgs {
		m[o.Identity] = o.Name
	}
	if cacheable {
		a.cache.putIdentities(gen, m)
	}
	return m, nil
}

// ParseClearance reads a clearance level for the command line.
func ParseClearance(s string) (stix.TLP, error) {
	t, err := stix.ParseTLP(strings.TrimSpace(s))
	if err != nil {
		return stix.TLPNone, err
	}
	return t, nil
}
