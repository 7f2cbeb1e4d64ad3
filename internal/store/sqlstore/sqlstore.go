// Package sqlstore implements store.Store over database/sql. The SQLite and
// PostgreSQL backends are thin wrappers that open a connection and supply a
// Dialect; the queries, the versioning rules and the date_added sequencing
// are written once here, so both backends behave identically and pass the
// same contract suite.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// Dialect is what differs between SQL backends.
type Dialect interface {
	Name() string
	Serial() string         // auto-increment integer primary key type
	Blob() string           // column type for raw JSON bytes
	WithoutRowID() string   // table suffix for clustered tables
	Rebind(q string) string // turn ? placeholders into the backend's
	ForUpdate() string      // suffix that row-locks what a SELECT reads, in a tx
	MaxParams() int
	// PreparedRows: insert row by row through a prepared statement rather
	// than with multi-row INSERTs (true for in-process SQLite, where there
	// is no round trip to save).
	PreparedRows() bool
	IsUniqueViolation(err error) bool
}

// Store is a store.Store over a *sql.DB.
type Store struct {
	db *sql.DB
	d  Dialect
	// now is the clock for date_added; tests may replace it.
	now      func() time.Time
	stmts    stmtCache
	results  resultCache
	collSeqs collNames
	// bg is the context of background work (building cached lists); Close
	// cancels it and waits for builds to stop.
	bg     context.Context
	stopBG context.CancelFunc
	builds sync.WaitGroup
	// watch, when set, spares the generations query while nothing was
	// committed (generations.go).
	watch    ChangeWatch
	genCache atomic.Pointer[genCached]
}

var _ store.Store = (*Store)(nil)

// New prepares the schema and returns the store.
func New(ctx context.Context, db *sql.DB, d Dialect) (*Store, error) {
	s := &Store{db: db, d: d, now: time.Now}
	s.results.budget = defaultResultBytes
	s.bg, s.stopBG = context.WithCancel(context.Background())
	for _, q := range schema(d) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("creating %s schema: %w", d.Name(), err)
		}
	}
	return s, nil
}

// DB exposes the handle for backend-specific extras.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the database.
func (s *Store) Close() error {
	s.stopBG()
	s.builds.Wait()
	s.closeStmts()
	if s.watch != nil {
		s.watch.Close()
	}
	return s.db.Close()
}

func (s *Store) q(query string) string { return s.d.Rebind(query) }

// CreateCollection adds a collection. An empty ID gets a random UUID and an
// unset DefaultTLP becomes AMBER.
func (s *Store) CreateCollection(ctx context.Context, c store.Collection) (store.Collection, error) {
	if strings.TrimSpace(c.Title) == "" {
		return c, fmt.Errorf("%w: empty title", store.ErrInvalidCollection)
	}
	if c.ID == "" {
		c.ID = uuid.NewString()
	} else if _, err := uuid.Parse(c.ID); err != nil {
		return c, fmt.Errorf("%w: id %q is not a UUID", store.ErrInvalidCollection, c.ID)
	}
	if c.DefaultTLP == stix.TLPNone {
		c.DefaultTLP = stix.TLPAmber
	}
	if c.Created.IsZero() {
		c.Created = s.now()
	}
	// Stored in microseconds: return what a later lookup will return.
	c.Created = c.Created.UTC().Truncate(time.Microsecond)
	_, err := s.policyExec(ctx, `INSERT INTO collections (id, title, description, default_tlp, public, created) VALUES (?, ?, ?, ?, ?, ?)`,
		c.ID, c.Title, c.Description, int(c.DefaultTLP), boolInt(c.Public), c.Created.UnixMicro())
	if err != nil {
		if s.d.IsUniqueViolation(err) {
			return c, fmt.Errorf("collection %q: %w", c.Title, store.ErrCollectionExists)
		}
		return c, fmt.Errorf("creating collection %q: %w", c.Title, err)
	}
	return c, nil
}

// Collection finds a collection by id or title.
func (s *Store) Collection(ctx context.Context, idOrTitle string) (store.Collection, error) {
	c, _, err := s.collectionSeq(ctx, idOrTitle)
	return c, err
}

// ListCollections lists collections in creation order.
func (s *Store) ListCollections(ctx context.Context) ([]store.Collection, error) {
	rows, err := s.query(ctx, `SELECT c.id, c.title, c.description, c.default_tlp, c.public, c.created, COALESCE(r.generation, 0)
		FROM collections c LEFT JOIN collection_removals r ON r.coll = c.seq ORDER BY c.seq`)
	if err != nil {
		return nil, fmt.Errorf("listing collections: %w", err)
	}
	defer rows.Close()
	var out []store.Collection
	for rows.Next() {
		var removals int64
		c, err := scanCollection(rows, &removals)
		if err != nil {
			return nil, err
		}
		c.Removals = removals
		out = append(out, c)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(...any) error }

// scanCollection reads the collection columns, then any extra ones.
func scanCollection(r scanner, extra ...any) (store.Collection, error) {
	var c store.Collection
	var tlp, public int
	var created int64
	if err := r.Scan(append([]any{&c.ID, &c.Title, &c.Description, &tlp, &public, &created}, extra...)...); err != nil {
		return c, err
	}
	c.DefaultTLP, c.Public, c.Created = stix.TLP(tlp), public != 0, time.UnixMicro(created).UTC()
	return c, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Cursors are opaque to callers; they carry the position of the last record
// returned: "c<date_added>.<coll>" for collection-ordered queries and
// "o<seq>" for object-ordered ones.
func encodeCursor(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodeCursor(c string) (kind byte, a, b int64, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(raw) < 2 {
		return 0, 0, 0, store.ErrInvalidCursor
	}
	kind = raw[0]
	first, second, _ := strings.Cut(string(raw[1:]), ".")
	if a, err = strconv.ParseInt(first, 10, 64); err != nil {
		return 0, 0, 0, store.ErrInvalidCursor
	}
	if second != "" {
		if b, err = strconv.ParseInt(second, 10, 64); err != nil {
			return 0, 0, 0, store.ErrInvalidCursor
		}
	}
	if kind != 'c' && kind != 'o' {
		return 0, 0, 0, store.ErrInvalidCursor
	}
	return kind, a, b, nil
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
