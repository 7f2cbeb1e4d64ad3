package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bulwark-intel/bulwark/internal/store"
)

// TAXII status resources are kept in the store, so that a client polling a
// status after a restart of the server still finds it (TAXII asks for at
// least 24 hours). The store keeps them as opaque documents with their
// owner; access decides who may read one.

// PutStatus keeps a status document, replacing one with the same id.
func (s *Store) PutStatus(ctx context.Context, id, owner string, created time.Time, body []byte) error {
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO statuses (id, owner, created, body) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, created = excluded.created, body = excluded.body`),
		id, owner, created.UnixMicro(), body)
	if err != nil {
		return fmt.Errorf("keeping status %s: %w", id, err)
	}
	return nil
}

// GetStatus returns a status document; store.ErrNotFound when there is
// none with that id.
func (s *Store) GetStatus(ctx context.Context, id string) (owner string, created time.Time, body []byte, err error) {
	var at int64
	err = s.queryRow(ctx, `SELECT owner, created, body FROM statuses WHERE id = ?`, id).Scan(&owner, &at, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil, fmt.Errorf("status %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return "", time.Time{}, nil, fmt.Errorf("reading status %s: %w", id, err)
	}
	return owner, time.UnixMicro(at).UTC(), body, nil
}

// DeleteStatuses deletes the statuses created before a time.
func (s *Store) DeleteStatuses(ctx context.Context, createdBefore time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM statuses WHERE created < ?`), createdBefore.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("expiring statuses: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
