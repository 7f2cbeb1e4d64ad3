// Package sqlite is the embedded store backend: one SQLite file in WAL mode
// (modernc.org/sqlite, pure Go, no cgo), with synchronous=FULL so that a
// write that returned success survives a crash of the process or the host.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/bulwark-intel/bulwark/internal/store/sqlstore"
)

// Option adjusts how Open sets up the database.
type Option func(*options)

type options struct{ noMmap bool }

// WithoutMmap reads the file through SQLite's own page cache instead of
// mapping up to 1 GiB of it. A short-lived reader that streams a large store
// once (bulwark scan --indicators store) keeps its resident memory small
// this way; a server is better off with the mapping.
func WithoutMmap() Option { return func(o *options) { o.noMmap = true } }

// Open opens (creating when missing) the store in the SQLite file at path.
func Open(ctx context.Context, path string, opts ...Option) (*sqlstore.Store, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	if path == "" {
		return nil, errors.New("sqlite: empty path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("sqlite: creating %s: %w", dir, err)
		}
	}
	q := url.Values{}
	for _, p := range []string{
		"journal_mode(WAL)",
		"synchronous(FULL)",
		"busy_timeout(30000)",
		"foreign_keys(1)",
		"cache_size(-16384)", // 16 MiB a connection: larger caches cost more to tear down than they save
		"temp_store(MEMORY)",
		"wal_autocheckpoint(16384)",
		"mmap_size(1073741824)", // readers share the OS page cache instead of copying pages per connection
	} {
		if o.noMmap && strings.HasPrefix(p, "mmap_size") {
			p = "mmap_size(0)"
		}
		q.Add("_pragma", p)
	}
	// Writers take the lock when they begin, not when they first write, so
	// two writers queue on busy_timeout instead of failing with SQLITE_BUSY
	// on lock upgrade.
	q.Set("_txlock", "immediate")
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	s, err := sqlstore.New(ctx, db, dialect{})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	// Without the watch every request reads the generations table: correct,
	// only slower, so a failure to map the WAL index is not an error.
	if w, err := openWALWatch(ctx, db, path); err == nil {
		s.SetChangeWatch(w)
	}
	return s, nil
}

type dialect struct{}

func (dialect) Name() string           { return "sqlite" }
func (dialect) Serial() string         { return "INTEGER" }
func (dialect) Blob() string           { return "BLOB" }
func (dialect) WithoutRowID() string   { return " WITHOUT ROWID" }
func (dialect) Rebind(q string) string { return q }
func (dialect) ForUpdate() string      { return "" } // the immediate transaction already holds the write lock
func (dialect) PreparedRows() bool     { return true }
func (dialect) MaxParams() int         { return 32766 }

func (dialect) IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}
