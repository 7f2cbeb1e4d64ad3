// Package postgres is the store backend for larger deployments, over pgx.
// It shares its SQL with the SQLite backend (store/sqlstore) and differs only
// in dialect: $n placeholders, BIGSERIAL keys and a row lock on the store's
// clock that serialises writers, as SQLite's single writer does.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/bulwark-intel/bulwark/internal/store/sqlstore"
)

// Open connects to the database at url (postgres://…) and prepares the schema.
func Open(ctx context.Context, url string) (*sqlstore.Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connecting: %w", err)
	}
	s, err := sqlstore.New(ctx, db, dialect{})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

type dialect struct{}

func (dialect) Name() string         { return "postgres" }
func (dialect) Serial() string       { return "BIGSERIAL" }
func (dialect) Blob() string         { return "BYTEA" }
func (dialect) WithoutRowID() string { return "" }
func (dialect) ForUpdate() string    { return " FOR UPDATE" }
func (dialect) PreparedRows() bool   { return false }
func (dialect) MaxParams() int       { return 65535 }

// Rebind turns ? placeholders into $1, $2, …. Our queries hold no string
// literals containing '?', so a plain scan is enough.
func (dialect) Rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func (dialect) IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
