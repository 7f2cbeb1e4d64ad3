package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared read statements by SQL text. Reads are the hot
// path of the hub (TAXII pages), and compiling their SQL on every call cost
// as much as running it. The set of distinct texts is small (one per
// combination of filters), and bounded here anyway.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

const maxStmts = 256

// stmt returns the cached statement for q (already rebound), preparing it
// on first use. once reports a statement that is not cached (the cache is
// full) and must be closed after use.
func (s *Store) stmt(ctx context.Context, q string) (st *sql.Stmt, once bool, err error) {
	s.stmts.mu.Lock()
	st, ok := s.stmts.m[q]
	s.stmts.mu.Unlock()
	if ok {
		return st, false, nil
	}
	if st, err = s.db.PrepareContext(ctx, q); err != nil {
		return nil, false, err
	}
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if s.stmts.m == nil {
		s.stmts.m = map[string]*sql.Stmt{}
	}
	if prev, dup := s.stmts.m[q]; dup {
		st.Close()
		return prev, false, nil
	}
	if len(s.stmts.m) >= maxStmts {
		return st, true, nil
	}
	s.stmts.m[q] = st
	return st, false, nil
}

// query runs a read through a cached prepared statement.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, once, err := s.stmt(ctx, s.q(q))
	if err != nil {
		return nil, err
	}
	if once {
		defer st.Close()
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is query for one row.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	q = s.q(q)
	st, once, err := s.stmt(ctx, q)
	if err != nil || once {
		if st != nil {
			st.Close()
		}
		// database/sql reports a preparation error through the Row.
		return s.db.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func (s *Store) closeStmts() {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	for _, st := range s.stmts.m {
		st.Close()
	}
	s.stmts.m = nil
}
