package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// Serving a TAXII page straight from SQL cost ~0.5 ms of CPU for 100
// objects on the embedded engine (the join of memberships and objects and
// the copying of ~150 KB of JSON), which capped a 2-core server at a few
// hundred pages a second. QueryRaw therefore memoizes, for a collection
// and one normalised scoped query (filters, version mode, the viewer's TLP
// cap and RED identity, all of which the access layer has already put into
// the query), the whole answer: the date_added of every visible record, in
// order, and their stored JSON back to back in large chunks. Any page of
// that query — any added_after, next cursor or limit — is then a binary
// search and a run of slices, read sequentially.
//
// A list is current while the data generation it was checked under is the
// one the request read (see generations.go); when another write has
// happened since, the collection's own change generation says whether it
// touched this collection, and only then is the list built again. Under
// WithRequest a page thus costs one small query for the generations, which
// also validates the access layer's cache, and no other.
//
// The visibility decision is still the SQL of collectionPage: the cache
// only remembers its answer for the whole collection instead of one page.

// Cache bounds; SetCacheLimit changes the budget.
const (
	defaultResultBytes = 256 << 20
	maxListBytes       = 1 << 30
	chunkSize          = 1 << 20 // records are copied into chunks of this size
	maxBuilds          = 2       // lists built at the same time
	perRecord          = 20      // bytes of bookkeeping per record: date_added and recordAt
)

type resultCache struct {
	mu     sync.Mutex
	budget int // bytes over all lists; 0 disables
	bytes  int
	tick   int64
	lists  map[string]*resultList
	flight map[string]bool // builds running, by key and collection generation
}

// resultList is the answer to one normalised query over a collection.
type resultList struct {
	data    int64   // data generation it is known current at; under mu
	collGen int64   // collection change generation it was built under
	added   []int64 // date_added of each record, ascending
	// The records' JSON, in chunks that no record straddles: filling
	// chunks allocates the list's size once, where one growing buffer
	// would allocate it twice over.
	chunks [][]byte
	at     []recordAt // where each record is
	bytes  int        // allocated for chunks
	tooBig bool       // over the list limit: the query is answered from SQL
	used   int64      // tick of the last use, for eviction; under mu
}

type recordAt struct{ chunk, off, n int32 }

func (l *resultList) size() int { return l.bytes + perRecord*len(l.added) }

// record returns the JSON of record k.
func (l *resultList) record(k int) []byte {
	a := l.at[k]
	return l.chunks[a.chunk][a.off : a.off+a.n]
}

// add appends a record, copying its JSON into the last chunk or a new one.
// Chunks grow from 4 KB to chunkSize, so a small collection's list stays
// small.
func (l *resultList) add(added int64, raw []byte) {
	last := len(l.chunks) - 1
	if last < 0 || len(l.chunks[last])+len(raw) > cap(l.chunks[last]) {
		size := 4 << 10
		if last >= 0 {
			size = min(chunkSize, 2*cap(l.chunks[last]))
		}
		l.chunks = append(l.chunks, make([]byte, 0, max(size, len(raw))))
		l.bytes += cap(l.chunks[last+1])
		last++
	}
	c := l.chunks[last]
	l.at = append(l.at, recordAt{chunk: int32(last), off: int32(len(c)), n: int32(len(raw))})
	l.chunks[last] = append(c, raw...)
	l.added = append(l.added, added)
}

// trim gives back the unused end of the last chunk.
func (l *resultList) trim() {
	if last := len(l.chunks) - 1; last >= 0 {
		c := l.chunks[last]
		l.bytes -= cap(c) - len(c)
		l.chunks[last] = append(make([]byte, 0, len(c)), c...)
	}
	l.added, l.at = slices.Clip(l.added), slices.Clip(l.at)
}

type collNames struct {
	mu sync.Mutex
	m  map[string]collState // id or title → what it resolved to
}

// WaitBuilds waits for the lists being built in the background, so that
// tests and benchmarks can know the next query is answered from the cache.
func (s *Store) WaitBuilds() { s.builds.Wait() }

// SetCacheLimit bounds the memory of the query result cache (stored JSON
// and date_added values over all cached lists); zero turns it off. The
// default is 256 MB; one list may take half of the budget.
func (s *Store) SetCacheLimit(bytes int) {
	s.results.mu.Lock()
	s.results.budget, s.results.bytes, s.results.lists = bytes, 0, nil
	s.results.mu.Unlock()
}

// collState is a collection as QueryRaw needs it: its seq and default TLP,
// resolved under a policy generation (collections are policy: any change
// to one raises it).
type collState struct {
	seq    int64
	defTLP int
	policy int64
}

// collectionState resolves a collection id or title, from memory while the
// policy generation is the one it was resolved under.
func (s *Store) collectionState(ctx context.Context, idOrTitle string, policy int64) (collState, error) {
	s.collSeqs.mu.Lock()
	st, ok := s.collSeqs.m[idOrTitle]
	s.collSeqs.mu.Unlock()
	if ok && st.policy == policy {
		return st, nil
	}
	st = collState{policy: policy}
	err := s.queryRow(ctx, `SELECT seq, default_tlp FROM collections WHERE id = ? OR title = ? ORDER BY seq LIMIT 1`, idOrTitle, idOrTitle).Scan(&st.seq, &st.defTLP)
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("collection %q: %w", idOrTitle, store.ErrNotFound)
	}
	if err != nil {
		return st, fmt.Errorf("collection %q: %w", idOrTitle, err)
	}
	s.collSeqs.mu.Lock()
	if s.collSeqs.m == nil || len(s.collSeqs.m) >= maxCollNames {
		s.collSeqs.m = map[string]collState{}
	}
	s.collSeqs.m[idOrTitle] = st
	s.collSeqs.mu.Unlock()
	return st, nil
}

// maxCollNames bounds the remembered names (only names that resolved are
// kept, so this is two per collection in practice).
const maxCollNames = 10_000

// resultKey names a query's whole answer: everything that selects records
// except the position and the page size. RedFor matters only when RED is
// within the cap, so it is left out otherwise (one list serves every
// organisation below RED clearance).
func resultKey(q store.Query, st collState) string {
	// The policy generation is not part of the key: the default TLP is,
	// and the viewer's scope is in q.
	var b strings.Builder
	b.WriteString(strconv.FormatInt(st.seq, 10))
	b.WriteString("|" + strconv.Itoa(st.defTLP))
	sorted := func(xs []string) string {
		if !slices.IsSorted(xs) {
			xs = slices.Sorted(slices.Values(xs))
		}
		return strings.Join(xs, ",")
	}
	b.WriteString("|t=" + sorted(q.Types))
	b.WriteString("|s=" + sorted(q.SpecVersions))
	b.WriteString("|v=" + strconv.Itoa(int(q.Versions.Mode)))
	b.WriteString("|max=" + strconv.Itoa(int(q.MaxTLP)))
	if q.RedFor != "" && (q.MaxTLP == stix.TLPNone || q.MaxTLP >= stix.TLPRed) {
		b.WriteString("|red=" + q.RedFor)
	}
	return b.String()
}

// cacheable: lists are kept for collection-wide reads; a query naming ids
// or version instants reads a few rows anyway.
func (s *Store) cacheable(q store.Query) bool {
	if len(q.IDs) > 0 || len(q.Versions.At) > 0 {
		return false
	}
	s.results.mu.Lock()
	defer s.results.mu.Unlock()
	return s.results.budget > 0
}

// resultList returns the list for key that is current at data generation
// data: the cached one when nothing has changed since it was checked, or
// nothing in its collection. Otherwise it returns nil, and the caller
// answers from SQL while the list is built in the background (once for a
// key and collection generation, at most maxBuilds at a time): after a
// write to a large collection, requests keep their usual latency instead
// of waiting for the rebuild.
func (s *Store) resultList(ctx context.Context, q store.Query, key string, collSeq, data int64) (*resultList, error) {
	r := &s.results
	r.mu.Lock()
	l := r.lists[key]
	// A list found too big stays so: trying again after every write would
	// read the large collection each time only to give up again.
	if l != nil && (l.data == data || l.tooBig) {
		r.tick++
		l.used = r.tick
		r.mu.Unlock()
		return l, nil
	}
	r.mu.Unlock()
	// Read after data: a list built from this reading on is at least as
	// new as data.
	collGen, err := s.collectionGeneration(ctx, collSeq)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if l != nil && l.collGen == collGen {
		// Other collections changed, not this one.
		l.data = max(l.data, data)
		r.tick++
		l.used = r.tick
		return l, nil
	}
	fk := key + "@" + strconv.FormatInt(collGen, 10)
	if r.flight[fk] || len(r.flight) >= maxBuilds || s.bg.Err() != nil {
		return nil, nil
	}
	if r.flight == nil {
		r.flight = map[string]bool{}
	}
	r.flight[fk] = true
	s.builds.Add(1)
	go func() {
		defer s.builds.Done()
		bctx, cancel := context.WithTimeout(s.bg, time.Minute)
		nl, err := s.buildList(bctx, q)
		cancel()
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.flight, fk)
		if err != nil {
			return // the next request tries again; meanwhile SQL answers
		}
		nl.data, nl.collGen = data, collGen
		// Builds for two generations may finish out of order.
		if old := r.lists[key]; old == nil || old.tooBig || old.collGen <= collGen {
			r.keep(key, nl)
		}
	}()
	return nil, nil
}

// buildList runs the query over the whole collection, giving up (tooBig)
// past the largest list the budget allows.
func (s *Store) buildList(ctx context.Context, q store.Query) (*resultList, error) {
	s.results.mu.Lock()
	limit := min(s.results.budget/2, maxListBytes)
	s.results.mu.Unlock()
	q.AddedAfter, q.Cursor = time.Time{}, ""
	sqlq, args := collectionPage(q, `m.date_added, o.raw`, int64(-1<<62))
	rows, err := s.query(ctx, sqlq, append(args, store.MaxLimit*1000)...)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", q.Collection, err)
	}
	defer rows.Close()
	l := &resultList{}
	for rows.Next() {
		var added, collSeq int64
		var raw sql.RawBytes
		if err := rows.Scan(&added, &raw, &collSeq); err != nil {
			return nil, fmt.Errorf("query %s: %w", q.Collection, err)
		}
		if l.size()+len(raw)+perRecord > limit {
			return &resultList{tooBig: true}, nil
		}
		l.add(added, raw)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query %s: %w", q.Collection, err)
	}
	l.trim()
	return l, nil
}

// keep files a list, evicting the least recently used ones to stay within
// the budget. The caller holds mu.
func (r *resultCache) keep(key string, l *resultList) {
	n := l.size()
	if r.budget <= 0 || n > r.budget {
		return
	}
	if r.lists == nil {
		r.lists = map[string]*resultList{}
	}
	if old := r.lists[key]; old != nil {
		r.bytes -= old.size()
		delete(r.lists, key)
	}
	for r.bytes+n > r.budget && len(r.lists) > 0 {
		var victim string
		oldest := int64(-1)
		for k, x := range r.lists {
			if oldest < 0 || x.used < oldest {
				victim, oldest = k, x.used
			}
		}
		r.bytes -= r.lists[victim].size()
		delete(r.lists, victim)
	}
	r.tick++
	l.used = r.tick
	r.lists[key] = l
	r.bytes += n
}
