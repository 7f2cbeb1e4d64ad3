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

// query runs a read through a cached prepared statement.
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = s.q(q)
	s.stmts.mu.Lock()
	st, ok := s.stmts.m[q]
	s.stmts.mu.Unlock()
	if !ok {
		var err error
		if st, err = s.db.PrepareContext(ctx, q); err != nil {
			return nil, err
		}
		s.stmts.mu.Lock()
		if s.stmts.m == nil {
			s.stmts.m = map[string]*sql.Stmt{}
		}
		if prev, dup := s.stmts.m[q]; dup {
			st.Close()
			st = prev
		} else if len(s.stmts.m) < maxStmts {
			s.stmts.m[q] = st
		} else {
			defer st.Close() // over the bound: use once
		}
		s.stmts.mu.Unlock()
	}
	return st.QueryContext(ctx, args...)
}

func (s *Store) closeStmts() {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	for _, st := range s.stmts.m {
		st.Close()
	}
	s.stmts.m = nil
}

// queryRow is query for one row.
func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	q = s.q(q)
	s.stmts.mu.Lock()
	st, ok := s.stmts.m[q]
	s.stmts.mu.Unlock()
	if !ok {
		prepared, err := s.db.PrepareContext(ctx, q)
		if err != nil {
			// database/sql reports the same error through the Row.
			return s.db.QueryRowContext(ctx, q, args...)
		}
		s.stmts.mu.Lock()
		if s.stmts.m == nil {
			s.stmts.m = map[string]*sql.Stmt{}
		}
		if prev, dup := s.stmts.m[q]; dup {
			prepared.Close()
			st = prev
		} else if len(s.stmts.m) < maxStmts {
			s.stmts.m[q] = prepared
			st = prepared
		} else {
			s.stmts.mu.Unlock()
			prepared.Close()
			return s.db.QueryRowContext(ctx, q, args...)
		}
		s.stmts.mu.Unlock()
	}
	return st.QueryRowContext(ctx, args...)
}
