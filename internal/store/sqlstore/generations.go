package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// Generations let a server cache what it reads on every request — the
// inputs of access decisions (organisations, tokens, grants, collections)
// and the answers of collection queries (results.go) — without serving a
// revoked token, a removed grant or a deleted object for even one request.
// Every change raises a generation in the same transaction: policy for the
// access tables, data for memberships. A reader that finds the generation
// its copy was made under knows nothing has changed, whichever process made
// the change (the command line writes to the database a server reads), and
// both generations cost one small query per request. Every process that
// writes to a database must therefore be of this version or later: an
// older one changes the tables without raising the generations.

// ChangeWatch tells, without a query, whether anything was committed to
// the database since an earlier look, by any process: Token changes with
// every commit. ok is false when it cannot tell; the store then reads the
// generations as usual. Backends supply one where they can (SQLite's
// WAL-index header, see the sqlite package).
type ChangeWatch interface {
	Token() (tok [6]uint64, ok bool)
	Close() error
}

// SetChangeWatch makes the store read the generations only after a commit:
// while the watch's token is the one seen with the last reading, that
// reading still holds. Call it before the store is used; Close closes w.
func (s *Store) SetChangeWatch(w ChangeWatch) { s.watch = w }

// genCached is a reading of the generations and the watch token seen
// before it was taken.
type genCached struct {
	tok          [6]uint64
	policy, data int64
}

// genKey is the context key of a request's generations, per store.
type genKey struct{ s *Store }

// genMemo remembers the generations one request read first.
type genMemo struct {
	once         sync.Once
	policy, data int64
	err          error
}

// WithRequest returns a context for one incoming request: under it the
// generations are read once, at the first call that needs them, and every
// later decision and query of the request uses that reading. The request
// thus sees every change committed before it started being served. Do not
// keep the context beyond the request.
func (s *Store) WithRequest(ctx context.Context) context.Context {
	return context.WithValue(ctx, genKey{s}, &genMemo{})
}

// generations returns the policy and data generations, read once per
// request context (WithRequest) and on every call otherwise.
func (s *Store) generations(ctx context.Context) (policy, data int64, err error) {
	if m, _ := ctx.Value(genKey{s}).(*genMemo); m != nil {
		m.once.Do(func() { m.policy, m.data, m.err = s.readGenerations(ctx) })
		return m.policy, m.data, m.err
	}
	return s.readGenerations(ctx)
}

func (s *Store) readGenerations(ctx context.Context) (policy, data int64, err error) {
	if s.watch == nil {
		return s.queryGenerations(ctx)
	}
	// The token is taken before the query: a commit between the two makes
	// the next token differ, so the reading is never trusted for longer
	// than it is true.
	tok, ok := s.watch.Token()
	if ok {
		if c := s.genCache.Load(); c != nil && c.tok == tok {
			return c.policy, c.data, nil
		}
	}
	policy, data, err = s.queryGenerations(ctx)
	if err == nil && ok {
		s.genCache.Store(&genCached{tok: tok, policy: policy, data: data})
	}
	return policy, data, err
}

func (s *Store) queryGenerations(ctx context.Context) (policy, data int64, err error) {
	if err := s.queryRow(ctx, `SELECT policy, data FROM generations WHERE id = 1`).Scan(&policy, &data); err != nil {
		return 0, 0, fmt.Errorf("reading the store's generations: %w", err)
	}
	return policy, data, nil
}

// PolicyGeneration returns the policy generation: it changes whenever an
// organisation, token, grant or collection does.
func (s *Store) PolicyGeneration(ctx context.Context) (int64, error) {
	p, _, err := s.generations(ctx)
	return p, err
}

// policyExec runs one statement that changes the policy tables and, when
// it changed a row, raises the policy generation in the same transaction.
// Errors are returned unwrapped so callers can test for unique violations.
func (s *Store) policyExec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	res, err := tx.ExecContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return res, nil // nothing changed: the deferred rollback ends the transaction
	}
	if _, err := tx.ExecContext(ctx, `UPDATE generations SET policy = policy + 1 WHERE id = 1`); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return res, nil
}

// collectionChanged raises the data generation and the collection's own,
// inside the transaction that changes the collection's memberships.
func (s *Store) collectionChanged(ctx context.Context, tx *sql.Tx, collSeq int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE generations SET data = data + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("raising the data generation: %w", err)
	}
	_, err := tx.ExecContext(ctx, s.q(`INSERT INTO collection_changes (coll, generation) VALUES (?, 1)
		ON CONFLICT (coll) DO UPDATE SET generation = collection_changes.generation + 1`), collSeq)
	if err != nil {
		return fmt.Errorf("raising the collection's change generation: %w", err)
	}
	return nil
}

// collectionGeneration reads one collection's change generation.
func (s *Store) collectionGeneration(ctx context.Context, collSeq int64) (int64, error) {
	var g int64
	err := s.queryRow(ctx, `SELECT generation FROM collection_changes WHERE coll = ?`, collSeq).Scan(&g)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading a collection's change generation: %w", err)
	}
	return g, nil
}
