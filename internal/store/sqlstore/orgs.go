package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// CreateOrg adds an organisation. An empty ID gets a UUID; an empty
// Identity gets a fresh identity id.
func (s *Store) CreateOrg(ctx context.Context, o store.Org) (store.Org, error) {
	o.Name = strings.TrimSpace(o.Name)
	if o.Name == "" || len(o.Name) > 200 {
		return o, errors.New("organisation name must be 1–200 characters")
	}
	if o.ID == "" {
		o.ID = uuid.NewString()
	}
	if o.Identity == "" {
		o.Identity = stix.NewID("identity")
	}
	if o.Clearance == stix.TLPNone {
		return o, errors.New("organisation needs a clearance")
	}
	if o.Created.IsZero() {
		o.Created = s.now().UTC().Truncate(time.Microsecond)
	}
	_, err := s.policyExec(ctx, `INSERT INTO orgs (id, name, identity, clearance, admin, created) VALUES (?, ?, ?, ?, ?, ?)`,
		o.ID, o.Name, o.Identity, int(o.Clearance), boolInt(o.Admin), o.Created.UnixMicro())
	if err != nil {
		if s.d.IsUniqueViolation(err) {
			return o, fmt.Errorf("organisation %q: %w", o.Name, store.ErrOrgExists)
		}
		return o, fmt.Errorf("creating organisation %q: %w", o.Name, err)
	}
	return o, nil
}

const orgCols = `id, name, identity, clearance, admin, created`

func scanOrg(sc scanner) (store.Org, error) {
	var o store.Org
	var tlp, admin int
	var created int64
	if err := sc.Scan(&o.ID, &o.Name, &o.Identity, &tlp, &admin, &created); err != nil {
		return o, err
	}
	o.Clearance, o.Admin, o.Created = stix.TLP(tlp), admin != 0, time.UnixMicro(created).UTC()
	return o, nil
}

// Org finds an organisation by id or name.
func (s *Store) Org(ctx context.Context, idOrName string) (store.Org, error) {
	o, err := scanOrg(s.queryRow(ctx, `SELECT `+orgCols+` FROM orgs WHERE id = ? OR name = ? ORDER BY created LIMIT 1`, idOrName, idOrName))
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("organisation %q: %w", idOrName, store.ErrNotFound)
	}
	return o, err
}

// ListOrgs lists organisations by name.
func (s *Store) ListOrgs(ctx context.Context) ([]store.Org, error) {
	rows, err := s.query(ctx, `SELECT `+orgCols+` FROM orgs ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("listing organisations: %w", err)
	}
	defer rows.Close()
	var out []store.Org
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// CreateToken stores a token (its hash only).
func (s *Store) CreateToken(ctx context.Context, t store.Token) error {
	if len(t.Hash) == 0 || t.Org == "" {
		return errors.New("token needs an organisation and a hash")
	}
	if t.ID == "" {
		t.ID = uuid.NewString()
	}
	if t.Created.IsZero() {
		t.Created = s.now().UTC()
	}
	var exp int64
	if !t.Expires.IsZero() {
		exp = t.Expires.UnixMicro()
	}
	_, err := s.policyExec(ctx, `INSERT INTO tokens (id, org, hash, created, expires, revoked) VALUES (?, ?, ?, ?, ?, ?)`,
		t.ID, t.Org, t.Hash, t.Created.UnixMicro(), exp, boolInt(t.Revoked))
	if err != nil {
		return fmt.Errorf("creating token: %w", err)
	}
	return nil
}

const tokenCols = `id, org, hash, created, expires, revoked`

func scanToken(sc scanner) (store.Token, error) {
	var t store.Token
	var created, exp int64
	var revoked int
	if err := sc.Scan(&t.ID, &t.Org, &t.Hash, &created, &exp, &revoked); err != nil {
		return t, err
	}
	t.Created, t.Revoked = time.UnixMicro(created).UTC(), revoked != 0
	if exp != 0 {
		t.Expires = time.UnixMicro(exp).UTC()
	}
	return t, nil
}

// TokenByHash finds a token by the hash of its secret.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	t, err := scanToken(s.queryRow(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return t, store.ErrNotFound
	}
	return t, err
}

// RevokeToken revokes a token by id.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	res, err := s.policyExec(ctx, `UPDATE tokens SET revoked = 1 WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("revoking token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("token %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// ListTokens lists an organisation's tokens (hashes included; never secrets).
func (s *Store) ListTokens(ctx context.Context, org string) ([]store.Token, error) {
	rows, err := s.query(ctx, `SELECT `+tokenCols+` FROM tokens WHERE org = ? ORDER BY created`, org)
	if err != nil {
		return nil, fmt.Errorf("listing tokens: %w", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SetGrant sets (replaces) an organisation's access to a collection.
func (s *Store) SetGrant(ctx context.Context, g store.Grant) error {
	_, err := s.policyExec(ctx, `INSERT INTO grants (coll, org, can_read, can_write) VALUES (?, ?, ?, ?)
		ON CONFLICT (coll, org) DO UPDATE SET can_read = excluded.can_read, can_write = excluded.can_write`,
		g.Collection, g.Org, boolInt(g.Read), boolInt(g.Write))
	if err != nil {
		return fmt.Errorf("granting %s on %s: %w", g.Org, g.Collection, err)
	}
	return nil
}

// Grants lists an organisation's grants.
func (s *Store) Grants(ctx context.Context, org string) ([]store.Grant, error) {
	rows, err := s.query(ctx, `SELECT coll, org, can_read, can_write FROM grants WHERE org = ? ORDER BY coll`, org)
	if err != nil {
		return nil, fmt.Errorf("listing grants: %w", err)
	}
	defer rows.Close()
	var out []store.Grant
	for rows.Next() {
		var g store.Grant
		var r, w int
		if err := rows.Scan(&g.Collection, &g.Org, &r, &w); err != nil {
			return nil, err
		}
		g.Read, g.Write = r != 0, w != 0
		out = append(out, g)
	}
	return out, rows.Err()
}

// Audit appends entries to the audit log in one multi-row insert.
func (s *Store) Audit(ctx context.Context, entries ...store.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	rows := make([]any, 0, len(entries)*6)
	for _, e := range entries {
		if e.Time.IsZero() {
			e.Time = s.now()
		}
		rows = append(rows, e.Time.UnixMicro(), e.Org, e.Action, e.Collection, e.Count, truncate(e.Detail, 1024))
	}
	per := max(1, min(500, s.d.MaxParams()/6))
	for start := 0; start < len(rows); start += per * 6 {
		end := min(start+per*6, len(rows))
		n := (end - start) / 6
		q := `INSERT INTO audit (ts, org, action, coll, n, detail) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", n), ", ")
		if _, err := s.db.ExecContext(ctx, s.q(q), rows[start:end]...); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	return nil
}

// AuditLog returns entries at or after since, oldest first.
func (s *Store) AuditLog(ctx context.Context, since time.Time, limit int) ([]store.AuditEntry, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	rows, err := s.query(ctx, `SELECT ts, org, action, coll, n, detail FROM audit WHERE ts >= ? ORDER BY seq LIMIT ?`, since.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var ts int64
		if err := rows.Scan(&ts, &e.Org, &e.Action, &e.Collection, &e.Count, &e.Detail); err != nil {
			return nil, err
		}
		e.Time = time.UnixMicro(ts).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// Remove takes the selected versions of an object out of a collection.
func (s *Store) Remove(ctx context.Context, collection, id string, v store.Versions) (int, error) {
	_, collSeq, err := s.collectionSeq(ctx, collection)
	if err != nil {
		return 0, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("removing %s from %s: %w", id, collection, err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	cond, args := versionCond(v, "m.coll")
	q := `DELETE FROM memberships WHERE coll = ? AND obj IN (SELECT o.seq FROM objects o JOIN memberships m ON m.obj = o.seq AND m.coll = ? WHERE o.id = ?` + cond + `)`
	res, err := tx.ExecContext(ctx, s.q(q), append([]any{collSeq, collSeq, id}, args...)...)
	if err != nil {
		return 0, fmt.Errorf("removing %s from %s: %w", id, collection, err)
	}
	n, _ := res.RowsAffected()
	if n == 0 {
		return 0, nil
	}
	if err := s.collectionChanged(ctx, tx, collSeq); err != nil {
		return 0, fmt.Errorf("removing %s from %s: %w", id, collection, err)
	}
	_, err = tx.ExecContext(ctx, s.q(`INSERT INTO collection_removals (coll, generation) VALUES (?, 1)
		ON CONFLICT (coll) DO UPDATE SET generation = collection_removals.generation + 1`), collSeq)
	if err != nil {
		return 0, fmt.Errorf("removing %s from %s: counting the removal: %w", id, collection, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("removing %s from %s: %w", id, collection, err)
	}
	return int(n), nil
}
