package access

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/bulwark-intel/bulwark/internal/store"
)

// The inputs of an access decision — the token, its organisation, the
// organisation's grants, the collection — were read from the store on every
// request, several queries before the page query itself. They change
// rarely, so the service keeps them in memory, but it never trusts that
// copy blindly: a store that has a policy generation (a counter raised in
// the same transaction as any change to organisations, tokens, grants or
// collections, by whichever process) is asked for it on every decision —
// once per request under WithRequest, where the store remembers the
// reading — and the copy is used only while the generation is the one it
// was read under. A revoked token or a removed grant therefore fails the
// very next request, even when the revocation came from the command line
// of another process. Stores without a generation are read on every
// decision, as before.

// policyVersioner is the optional store capability the cache rests on.
type policyVersioner interface {
	PolicyGeneration(ctx context.Context) (int64, error)
}

// requestScoper is the optional store capability of reading its
// generations once per request (sqlstore has it).
type requestScoper interface {
	WithRequest(ctx context.Context) context.Context
}

// WithRequest returns a context for one incoming request, under which the
// store's generations are read once, at the first decision, and reused by
// every later decision and query of the request: a request costs one such
// read, however many decisions it takes (authentication, the collection,
// the query's scope, the query). HTTP handlers wrap each request in one.
// Never keep such a context beyond its request: its decisions would not
// notice later changes.
func (a *Service) WithRequest(ctx context.Context) context.Context {
	if rs, ok := a.s.(requestScoper); ok {
		return rs.WithRequest(ctx)
	}
	return ctx
}

// generation returns the store's current policy generation and whether the
// cache may be used under it.
func (a *Service) generation(ctx context.Context) (int64, bool) {
	pv, ok := a.s.(policyVersioner)
	if !ok {
		return 0, false
	}
	g, err := pv.PolicyGeneration(ctx)
	return g, err == nil
}

// policyCache holds what was read from the store under one generation.
// Entries are added only by callers that read the generation before they
// read the store, so an entry is never older than the generation it is
// filed under; a newer generation empties the cache.
type policyCache struct {
	mu     sync.Mutex
	gen    int64
	valid  bool
	tokens map[[sha256.Size]byte]authEntry
	grants map[string]map[string]store.Grant // org id → collection id → grant
	colls  map[string]store.Collection       // id or title, as asked → collection
	list   []store.Collection                // all collections; nil until read
	idents map[string]string                 // org identity → org name; nil until read
}

// authEntry is a token as authentication needs it. Expiry is checked on
// every use, so it needs no invalidation.
type authEntry struct {
	org     store.Org
	expires time.Time
	revoked bool
}

// maxCachedTokens bounds the token map; beyond it the map starts over.
const maxCachedTokens = 10_000

// at reports whether the cache holds generation gen; the caller holds mu.
func (c *policyCache) at(gen int64) bool { return c.valid && c.gen == gen }

// advance makes the cache hold generation gen if gen is newer, emptying
// it; it reports whether the cache now holds gen. The caller holds mu.
func (c *policyCache) advance(gen int64) bool {
	if c.valid && gen < c.gen {
		return false // an older request's reading: keep the newer cache
	}
	if !c.at(gen) {
		c.gen, c.valid = gen, true
		c.tokens = map[[sha256.Size]byte]authEntry{}
		c.grants = map[string]map[string]store.Grant{}
		c.colls = map[string]store.Collection{}
		c.list, c.idents = nil, nil
	}
	return true
}

func (c *policyCache) token(gen int64, h [sha256.Size]byte) (authEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(gen) {
		return authEntry{}, false
	}
	e, ok := c.tokens[h]
	return e, ok
}

func (c *policyCache) putToken(gen int64, h [sha256.Size]byte, e authEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.advance(gen) {
		if len(c.tokens) >= maxCachedTokens {
			clear(c.tokens)
		}
		c.tokens[h] = e
	}
}

func (c *policyCache) grantsOf(gen int64, org string) (map[string]store.Grant, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(gen) {
		return nil, false
	}
	m, ok := c.grants[org]
	return m, ok
}

func (c *policyCache) putGrants(gen int64, org string, m map[string]store.Grant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.advance(gen) {
		c.grants[org] = m
	}
}

func (c *policyCache) collection(gen int64, key string) (store.Collection, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(gen) {
		return store.Collection{}, false
	}
	col, ok := c.colls[key]
	return col, ok
}

func (c *policyCache) putCollection(gen int64, key string, col store.Collection) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.advance(gen) {
		c.colls[key] = col
	}
}

func (c *policyCache) collections(gen int64) ([]store.Collection, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(gen) || c.list == nil {
		return nil, false
	}
	return c.list, true
}

func (c *policyCache) putCollections(gen int64, list []store.Collection) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.advance(gen) {
		c.list = append(make([]store.Collection, 0, len(list)), list...)
	}
}

func (c *policyCache) identities(gen int64) (map[string]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at(gen) || c.idents == nil {
		return nil, false
	}
	return c.idents, true
}

func (c *policyCache) putIdentities(gen int64, m map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.advance(gen) {
		c.idents = m
	}
}
