package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// pending is an object version Put is about to insert.
type pending struct {
	item   int
	obj    *stix.Object
	ver    int64
	source string
}

// version is a stored version of an object, as Put sees it.
type version struct {
	seq int64
	ver int64
}

// Put stores a batch in one transaction. See store.Writer.
//
// It works set-wise, because per-row round trips dominate on PostgreSQL and
// cost the embedded backend too: it reads the known versions of every id in
// the batch at once, decides each object's outcome in memory, and then writes
// objects, memberships and index rows with multi-row INSERTs.
func (s *Store) Put(ctx context.Context, collection string, items []store.PutItem) (store.PutResult, error) {
	var res store.PutResult
	if len(items) == 0 {
		return res, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("put: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op

	// Lock the store's clock row first: it serialises all writers (SQLite
	// does anyway), so date_added values commit in the order they are
	// handed out and a reader paging by date_added or by row never misses a
	// later commit. Serialising across collections, not just within one, is
	// what keeps two writers that put versions of the same object into
	// different collections from both inserting it (a unique violation) or
	// both marking their version latest; and one clock for all collections
	// keeps "first added anywhere" in commit order.
	var lastAdded int64
	if err := tx.QueryRowContext(ctx, `SELECT last_added FROM clock WHERE id = 1`+s.d.ForUpdate()).Scan(&lastAdded); err != nil {
		return res, fmt.Errorf("put: locking the store clock: %w", err)
	}
	var collSeq int64
	err = tx.QueryRowContext(ctx, s.q(`SELECT seq FROM collections WHERE id = ? OR title = ? ORDER BY seq LIMIT 1`), collection, collection).Scan(&collSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return res, fmt.Errorf("put: collection %q: %w", collection, store.ErrNotFound)
	}
	if err != nil {
		return res, fmt.Errorf("put: collection %q: %w", collection, err)
	}

	// Known versions of every id in the batch.
	ids := make([]string, 0, len(items))
	seenID := map[string]bool{}
	for _, it := range items {
		if it.Object == nil {
			return res, errors.New("put: nil object")
		}
		if !seenID[it.Object.ID] {
			seenID[it.Object.ID] = true
			ids = append(ids, it.Object.ID)
		}
	}
	known, err := s.knownVersions(ctx, tx, ids)
	if err != nil {
		return res, err
	}
	storedBefore := make(map[string][]version, len(known))
	for id, vs := range known {
		storedBefore[id] = append([]version(nil), vs...)
	}

	// Decide outcomes in batch order; later items see earlier ones.
	var inserts []pending
	outcomes := make([]store.Outcome, len(items))
	member := make([]int64, len(items)) // object seq to add to the collection; 0 = none
	insertAt := make([]int, len(items)) // index into inserts for new rows, -1 otherwise
	var superseded []int64
	for i, it := range items {
		insertAt[i] = -1
		o := it.Object
		// Microseconds, the precision TAXII speaks: int64 nanoseconds would
		// overflow for the years after 2262 that STIX timestamps allow.
		v := o.Version().UnixMicro()
		vs := known[o.ID]
		var newest *version
		var exact *version
		for j := range vs {
			if vs[j].ver == v {
				exact = &vs[j]
			}
			if newest == nil || vs[j].ver > newest.ver {
				newest = &vs[j]
			}
		}
		switch {
		case exact != nil:
			outcomes[i] = store.Unchanged
			member[i] = exact.seq // may be -1-k for a row inserted in this batch
		case newest != nil && newest.ver > v:
			// An older version we never saw: kept as history (TAXII serves
			// every version), but it does not become the current one.
			outcomes[i] = store.Stale
			insertAt[i] = len(inserts)
			ph := int64(-1 - len(inserts))
			inserts = append(inserts, pending{item: i, obj: o, ver: v, source: it.Source})
			known[o.ID] = append(known[o.ID], version{seq: ph, ver: v})
			member[i] = ph
		default:
			if newest == nil {
				outcomes[i] = store.Created
			} else {
				outcomes[i] = store.NewVersion
				if newest.seq > 0 {
					superseded = append(superseded, newest.seq)
				}
			}
			insertAt[i] = len(inserts)
			// Placeholder seq until the row exists: negative, unique.
			ph := int64(-1 - len(inserts))
			inserts = append(inserts, pending{item: i, obj: o, ver: v, source: it.Source})
			known[o.ID] = append(known[o.ID], version{seq: ph, ver: v})
			member[i] = ph
		}
	}

	// Rows superseded within the batch are written with latest = 0 directly.
	latest := make([]bool, len(inserts))
	headOf := map[string]int{}
	for k, p := range inserts {
		if h, ok := headOf[p.obj.ID]; !ok || inserts[h].ver < p.ver {
			headOf[p.obj.ID] = k
		}
	}
	for id, k := range headOf {
		newer := false
		for _, v := range storedBefore[id] {
			if v.ver > inserts[k].ver {
				newer = true
			}
		}
		latest[k] = !newer
	}

	seqs, err := s.insertObjects(ctx, tx, inserts, latest)
	if err != nil {
		return res, err
	}
	resolve := func(seq int64) int64 {
		if seq < 0 {
			return seqs[-seq-1]
		}
		return seq
	}
	if len(superseded) > 0 {
		for _, chunk := range chunks(superseded, 500) {
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE objects SET latest = 0 WHERE seq IN (`+placeholders(len(chunk))+`)`), anys(chunk)...); err != nil {
				return res, fmt.Errorf("put: superseding versions: %w", err)
			}
		}
	}

	// Memberships: every stored or unchanged version joins the collection
	// unless it is already there.
	var want []int64
	wantSet := map[int64]bool{}
	for i := range items {
		if member[i] == 0 {
			continue
		}
		seq := resolve(member[i])
		if !wantSet[seq] {
			wantSet[seq] = true
			want = append(want, seq)
		}
	}
	// Versions already in the collection keep their date_added: the insert
	// skips them. Asking first (SELECT … obj IN (…)) cost a round trip and,
	// on PostgreSQL, a cached plan that degraded to scanning the whole
	// collection as it grew; the values skipped leave harmless gaps.
	next := max(s.now().UnixMicro(), lastAdded+1)
	var rows []any
	for _, seq := range want {
		rows = append(rows, collSeq, next, seq)
		next++
	}
	if err := s.insertRows(ctx, tx, "memberships (coll, date_added, obj)", 3, rows, " ON CONFLICT (obj, coll) DO NOTHING"); err != nil {
		return res, fmt.Errorf("put: memberships: %w", err)
	}
	if len(rows) > 0 {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE clock SET last_added = ? WHERE id = 1`), next-1); err != nil {
			return res, fmt.Errorf("put: collection clock: %w", err)
		}
		if err := s.collectionChanged(ctx, tx, collSeq); err != nil {
			return res, fmt.Errorf("put: %w", err)
		}
	}

	if err := s.insertIndexes(ctx, tx, inserts, seqs); err != nil {
		return res, err
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("put: commit: %w", err)
	}
	for _, o := range outcomes {
		res.Count(o)
	}
	return res, nil
}

// knownVersions returns the stored versions of the given ids.
func (s *Store) knownVersions(ctx context.Context, tx *sql.Tx, ids []string) (map[string][]version, error) {
	known := make(map[string][]version, len(ids))
	for _, chunk := range chunks(ids, 500) {
		rows, err := tx.QueryContext(ctx, s.q(`SELECT id, seq, version FROM objects WHERE id IN (`+placeholders(len(chunk))+`)`), anys(chunk)...)
		if err != nil {
			return nil, fmt.Errorf("put: reading versions: %w", err)
		}
		for rows.Next() {
			var id string
			var v version
			if err := rows.Scan(&id, &v.seq, &v.ver); err != nil {
				rows.Close()
				return nil, fmt.Errorf("put: reading versions: %w", err)
			}
			known[id] = append(known[id], v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("put: reading versions: %w", err)
		}
	}
	return known, nil
}

const objectCols = 10

// insertObjects writes new object rows and returns their seqs in order.
func (s *Store) insertObjects(ctx context.Context, tx *sql.Tx, inserts []pending, latest []bool) ([]int64, error) {
	if s.d.PreparedRows() {
		return s.insertObjectsPrepared(ctx, tx, inserts, latest)
	}
	seqs := make([]int64, 0, len(inserts))
	per := max(1, min(200, s.d.MaxParams()/objectCols))
	for start := 0; start < len(inserts); start += per {
		end := min(start+per, len(inserts))
		args := make([]any, 0, (end-start)*objectCols)
		var sb strings.Builder
		sb.WriteString(`INSERT INTO objects (id, version, type, spec_version, created_by, tlp, revoked, latest, source, raw) VALUES `)
		for k := start; k < end; k++ {
			if k > start {
				sb.WriteString(", ")
			}
			sb.WriteString("(" + placeholders(objectCols) + ")")
			p := inserts[k]
			spec := p.obj.SpecVersion
			if spec == "" {
				spec = "2.1"
			}
			args = append(args, p.obj.ID, p.ver, p.obj.Type, spec, p.obj.CreatedByRef,
				int(p.obj.EffectiveTLP()), boolInt(p.obj.Revoked), boolInt(latest[k]), truncate(p.source, 1024), []byte(p.obj.Raw))
		}
		sb.WriteString(" RETURNING seq, id, version")
		rows, err := tx.QueryContext(ctx, s.q(sb.String()), args...)
		if err != nil {
			return nil, fmt.Errorf("put: inserting objects: %w", err)
		}
		// Neither backend promises RETURNING order, so match rows by key.
		byKey := map[string]int64{}
		for rows.Next() {
			var seq, ver int64
			var id string
			if err := rows.Scan(&seq, &id, &ver); err != nil {
				rows.Close()
				return nil, fmt.Errorf("put: inserting objects: %w", err)
			}
			byKey[id+"\x00"+strconv.FormatInt(ver, 10)] = seq
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("put: inserting objects: %w", err)
		}
		for k := start; k < end; k++ {
			seq, ok := byKey[inserts[k].obj.ID+"\x00"+strconv.FormatInt(inserts[k].ver, 10)]
			if !ok {
				return nil, fmt.Errorf("put: inserted %s but got no id back", inserts[k].obj.ID)
			}
			seqs = append(seqs, seq)
		}
	}
	return seqs, nil
}

// maxIndexed bounds what one object contributes to the side indexes, so a
// hostile object with a million aliases cannot bloat them.
const maxIndexed = 1000

func (s *Store) insertIndexes(ctx context.Context, tx *sql.Tx, inserts []pending, seqs []int64) error {
	var values, names, edges, recips []any
	for k, p := range inserts {
		seq := seqs[k]
		seen := map[string]bool{}
		for _, r := range store.Recipients(p.obj) {
			recips = append(recips, seq, r)
		}
		for i, v := range stix.IndexValues(p.obj) {
			if i >= maxIndexed {
				break
			}
			values = append(values, v, seq)
		}
		for i, n := range stix.Names(p.obj) {
			if i >= maxIndexed {
				break
			}
			key := stix.NormalizeName(n)
			if key == "" || len(key) > 512 || seen[key] {
				continue
			}
			seen[key] = true
			names = append(names, key, seq)
		}
		for i, e := range stix.Refs(p.obj) {
			if i >= maxIndexed {
				break
			}
			edges = append(edges, e.Source, e.Target, truncate(e.Kind, 256), e.Via, seq)
		}
	}
	if err := s.insertRows(ctx, tx, "obj_values (value, obj)", 2, values, ""); err != nil {
		return fmt.Errorf("put: value index: %w", err)
	}
	if err := s.insertRows(ctx, tx, "names (name, obj)", 2, names, ""); err != nil {
		return fmt.Errorf("put: name index: %w", err)
	}
	if err := s.insertRows(ctx, tx, "edges (src, dst, kind, via, obj)", 5, edges, ""); err != nil {
		return fmt.Errorf("put: edge index: %w", err)
	}
	if err := s.insertRows(ctx, tx, "recipients (obj, identity)", 2, recips, ""); err != nil {
		return fmt.Errorf("put: recipients: %w", err)
	}
	return nil
}

// insertRows writes flat args as rows of width cols with multi-row INSERTs.
func (s *Store) insertRows(ctx context.Context, tx *sql.Tx, table string, cols int, args []any, suffix string) error {
	if len(args) == 0 {
		return nil
	}
	if s.d.PreparedRows() {
		stmt, err := tx.PrepareContext(ctx, s.q("INSERT INTO "+table+" VALUES ("+placeholders(cols)+")"+suffix))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for start := 0; start < len(args); start += cols {
			if _, err := stmt.ExecContext(ctx, args[start:start+cols]...); err != nil {
				return err
			}
		}
		return nil
	}
	per := max(1, min(500, s.d.MaxParams()/cols))
	row := "(" + placeholders(cols) + ")"
	for start := 0; start < len(args); start += per * cols {
		end := min(start+per*cols, len(args))
		n := (end - start) / cols
		q := "INSERT INTO " + table + " VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ") + suffix
		if _, err := tx.ExecContext(ctx, s.q(q), args[start:end]...); err != nil {
			return err
		}
	}
	return nil
}

func chunks[T any](xs []T, n int) [][]T {
	var out [][]T
	for len(xs) > n {
		out = append(out, xs[:n])
		xs = xs[n:]
	}
	if len(xs) > 0 {
		out = append(out, xs)
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// insertObjectsPrepared inserts one row at a time through one prepared
// statement. For an in-process database that is cheaper than multi-row
// INSERTs, which SQLite must compile afresh for every distinct row count
// and whose large programs churn its allocator.
func (s *Store) insertObjectsPrepared(ctx context.Context, tx *sql.Tx, inserts []pending, latest []bool) ([]int64, error) {
	// Put holds the store clock, so no other writer inserts objects until
	// this transaction ends: seqs can be handed out here, which spares a
	// RETURNING result set per row.
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM objects`).Scan(&last); err != nil {
		return nil, fmt.Errorf("put: inserting objects: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, s.q(`INSERT INTO objects (seq, id, version, type, spec_version, created_by, tlp, revoked, latest, source, raw) VALUES (?, `+placeholders(objectCols)+`)`))
	if err != nil {
		return nil, fmt.Errorf("put: inserting objects: %w", err)
	}
	defer stmt.Close()
	seqs := make([]int64, 0, len(inserts))
	for k, p := range inserts {
		spec := p.obj.SpecVersion
		if spec == "" {
			spec = "2.1"
		}
		seq := last + 1 + int64(k)
		if _, err := stmt.ExecContext(ctx, seq, p.obj.ID, p.ver, p.obj.Type, spec, p.obj.CreatedByRef,
			int(p.obj.EffectiveTLP()), boolInt(p.obj.Revoked), boolInt(latest[k]), truncate(p.source, 1024), []byte(p.obj.Raw)); err != nil {
			return nil, fmt.Errorf("put: inserting %s: %w", p.obj.ID, err)
		}
		seqs = append(seqs, seq)
	}
	return seqs, nil
}
