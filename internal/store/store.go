// Package store defines how Bulwark keeps STIX objects: every version of
// every object, the collections they were added to (each with a strictly
// increasing date_added that TAXII paging relies on), and the indexes the
// rest of the system queries — by id, type, observable value, name and
// relationship. The interfaces and value types live here; the backends are
// store/sqlite (embedded default) and store/postgres, and both must pass the
// contract suite in store/storetest.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

// Errors shared by all backends.
var (
	ErrNotFound          = errors.New("not found")
	ErrCollectionExists  = errors.New("collection already exists")
	ErrInvalidCursor     = errors.New("invalid cursor")
	ErrInvalidCollection = errors.New("invalid collection")
)

// Collection is a sharing group of objects, served as one TAXII collection.
type Collection struct {
	ID          string // UUID, the TAXII collection id
	Title       string // unique, human-chosen
	Description string
	DefaultTLP  stix.TLP // applies to objects without a TLP marking; AMBER when unset
	Public      bool     // anonymous viewers may read its TLP:CLEAR objects
	Created     time.Time
	// Removals counts the Removes that took objects out of it (ListCollections
	// only). It only grows: a reader that follows the collection by what
	// was added (AddedAfter) knows to reload when it moves.
	Removals int64
}

// Record is one stored version of an object as a query returns it.
type Record struct {
	Object    *stix.Object
	Version   time.Time // the object's modified (or created) instant
	TLP       stix.TLP  // from the object's markings; TLPNone when unmarked
	CreatedBy string    // created_by_ref
	Source    string    // provenance: feed, file and line it was imported from
	// Collection and DateAdded describe the membership the record was found
	// through. For queries not scoped to a collection, Collection is empty
	// and DateAdded is when the version was first added anywhere.
	Collection string
	DateAdded  time.Time
	// EffectiveTLP is TLP, or the collection's default when the object is
	// unmarked. Set for collection-scoped queries; TLP otherwise.
	EffectiveTLP stix.TLP
}

// PutItem is one object to store, with where it came from.
type PutItem struct {
	Object *stix.Object
	Source string
}

// Outcome is what Put did with one object.
type Outcome uint8

// Outcomes of Put.
const (
	Created    Outcome = iota + 1 // first version of a new object
	NewVersion                    // newer version of a known object
	Unchanged                     // this exact version was already stored
	Stale                         // older than the current version: kept as history only
)

func (o Outcome) String() string {
	switch o {
	case Created:
		return "created"
	case NewVersion:
		return "new version"
	case Unchanged:
		return "unchanged"
	case Stale:
		return "stale"
	}
	return "unknown"
}

// PutResult reports a Put, per item (same order) and in total.
type PutResult struct {
	Outcomes                               []Outcome
	Created, NewVersions, Unchanged, Stale int
}

// Count tallies one outcome.
func (r *PutResult) Count(o Outcome) {
	r.Outcomes = append(r.Outcomes, o)
	switch o {
	case Created:
		r.Created++
	case NewVersion:
		r.NewVersions++
	case Unchanged:
		r.Unchanged++
	case Stale:
		r.Stale++
	}
}

// VersionMode selects which versions of an object a query returns.
type VersionMode uint8

// Version modes, as TAXII's match[version].
const (
	Last VersionMode = iota // newest version (the default)
	First
	All
)

// Versions selects versions: a mode, or specific version instants (which
// take precedence when given), ORed together.
type Versions struct {
	Mode VersionMode
	At   []time.Time
}

// Query selects object versions. Empty fields do not filter. Results are
// ordered by date_added ascending (then by collection), which makes Cursor
// resumable: pass Page.Next back to continue exactly after the last record.
type Query struct {
	Collection   string // collection id; empty for all collections
	IDs          []string
	Types        []string
	SpecVersions []string
	Versions     Versions
	AddedAfter   time.Time // strictly after
	MaxTLP       stix.TLP  // when set, only records whose EffectiveTLP is at most this
	// RedFor, when set, admits TLP:RED records only if they were created
	// by this identity or name it in x_bulwark_recipients. Unset, RED is
	// governed by MaxTLP alone (local, operator use).
	RedFor string
	Limit  int // <= 0 means the backend default (1000)
	Cursor string
}

// Page is one page of query results.
type Page struct {
	Records []Record
	More    bool
	Next    string // cursor for the following page; empty when !More
}

// DefaultLimit is the page size when a query sets none; MaxLimit caps any.
const (
	DefaultLimit = 1000
	MaxLimit     = 10000
)

// Collections manages collections.
type Collections interface {
	CreateCollection(ctx context.Context, c Collection) (Collection, error)
	// Collection finds a collection by id or by title.
	Collection(ctx context.Context, idOrTitle string) (Collection, error)
	ListCollections(ctx context.Context) ([]Collection, error)
}

// Writer stores objects.
type Writer interface {
	// Put stores a batch in one transaction: either all of it is durable when
	// Put returns nil, or none of it is. Objects are added to the collection
	// (which must exist) with fresh date_added values.
	Put(ctx context.Context, collection string, items []PutItem) (PutResult, error)
}

// Reader answers queries.
type Reader interface {
	// Get returns the selected versions of one object, oldest first, across
	// all collections. ErrNotFound when there is none.
	Get(ctx context.Context, id string, v Versions) ([]Record, error)
	Query(ctx context.Context, q Query) (Page, error)
	// ByValue returns the latest versions of objects whose indexed values
	// (indicator pattern literals, SCO values, hashes) include the value,
	// after stix.NormalizeValue.
	ByValue(ctx context.Context, value string, limit int) ([]Record, error)
	// ByName returns the latest versions of objects called name, or with it
	// among their aliases, after stix.NormalizeName.
	ByName(ctx context.Context, name string) ([]Record, error)
	// Edges returns the edges (relationships and embedded references) of
	// the latest, non-revoked versions that start or end at any of ids.
	Edges(ctx context.Context, ids []string) ([]stix.Edge, error)
	// Latest returns the latest version of each id found, in no set order.
	Latest(ctx context.Context, ids []string) ([]Record, error)
	// Stats counts stored objects.
	Stats(ctx context.Context) (Stats, error)
}

// Stats summarises a store's content.
type Stats struct {
	Objects     int64            // distinct ids
	Versions    int64            // stored versions
	ByType      map[string]int64 // latest versions per type
	Collections int64
}

// Store is the whole storage contract. Consumers should accept the smaller
// interfaces above.
type Store interface {
	Collections
	Writer
	Reader
	Orgs
	Remover
	Close() error
}

// Org is an organisation that shares through the hub: a CERT, a bank, an
// exchange. Its Identity is the STIX identity its objects are created by.
type Org struct {
	ID        string // UUID
	Name      string // unique
	Identity  string // identity--…
	Clearance stix.TLP
	Admin     bool
	Created   time.Time
}

// Token is an API token of an organisation. Only its hash is stored.
type Token struct {
	ID      string // UUID, shown to operators for revocation
	Org     string // Org.ID
	Hash    []byte // SHA-256 of the secret
	Created time.Time
	Expires time.Time // zero: never
	Revoked bool
}

// Grant is an organisation's access to a collection.
type Grant struct {
	Collection string // Collection.ID
	Org        string // Org.ID
	Read       bool
	Write      bool
}

// AuditEntry records one read or write through the hub.
type AuditEntry struct {
	Time       time.Time
	Org        string // Org.Name, "" for anonymous
	Action     string // e.g. "objects.get", "objects.post", "export"
	Collection string
	Count      int
	Detail     string
}

// Orgs keeps organisations, their tokens and grants, and the audit log.
type Orgs interface {
	CreateOrg(ctx context.Context, o Org) (Org, error)
	// Org finds an organisation by id or name.
	Org(ctx context.Context, idOrName string) (Org, error)
	ListOrgs(ctx context.Context) ([]Org, error)
	CreateToken(ctx context.Context, t Token) error
	// TokenByHash returns the token with that hash, revoked or not.
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	RevokeToken(ctx context.Context, id string) error
	ListTokens(ctx context.Context, org string) ([]Token, error)
	SetGrant(ctx context.Context, g Grant) error
	Grants(ctx context.Context, org string) ([]Grant, error)
	// Audit appends entries to the audit log, in one transaction.
	Audit(ctx context.Context, entries ...AuditEntry) error
	AuditLog(ctx context.Context, since time.Time, limit int) ([]AuditEntry, error)
}

// Remover takes objects out of a collection (TAXII DELETE). The versions
// stay in the store for other collections and history.
type Remover interface {
	Remove(ctx context.Context, collection, id string, v Versions) (int, error)
}

// ErrOrgExists is returned when an organisation name is taken.
var ErrOrgExists = errors.New("organisation already exists")

// MaxRecipients is how many positions of a TLP:RED object's
// x_bulwark_recipients count, and maxRecipientBytes how much of each.
const (
	MaxRecipients     = 1000
	maxRecipientBytes = 256
)

// Recipients returns the identities a TLP:RED object is shared with, by
// the one rule every reader applies (the stores' indexes, the screening
// index): of the first MaxRecipients entries of x_bulwark_recipients, the
// non-empty ones, each once, cut to 256 bytes. An object not marked RED
// has none.
func Recipients(o *stix.Object) []string {
	if o.EffectiveTLP() != stix.TLPRed {
		return nil
	}
	var out []string
	seen := map[string]bool{} // up to 1,000 entries: a scan of out would be quadratic
	for i, r := range o.Strings("x_bulwark_recipients") {
		if i >= MaxRecipients {
			break
		}
		if len(r) > maxRecipientBytes {
			r = r[:maxRecipientBytes]
		}
		if r != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
