//go:build !unix

package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

type walWatch struct{}

func openWALWatch(context.Context, *sql.DB, string) (*walWatch, error) {
	return nil, errors.New("no shared memory mapping on this system")
}

func (*walWatch) Token() ([6]uint64, bool) { return [6]uint64{}, false }
func (*walWatch) Close() error             { return nil }
