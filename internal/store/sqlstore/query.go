package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// recordCols are the object columns every read selects, in scanRecord order.
const recordCols = `o.seq, o.version, o.tlp, o.created_by, o.source, o.raw`

// firstAdded is the instant a version first joined any collection.
const firstAdded = `(SELECT MIN(m0.date_added) FROM memberships m0 WHERE m0.obj = o.seq)`

func scanRecord(sc scanner, extra ...any) (store.Record, int64, error) {
	var (
		rec     store.Record
		seq     int64
		ver     int64
		tlp     int
		raw     []byte
		added   sql.NullInt64
		created string
		source  string
	)
	dst := append([]any{&seq, &ver, &tlp, &created, &source, &raw, &added}, extra...)
	if err := sc.Scan(dst...); err != nil {
		return rec, 0, err
	}
	// The raw column holds only what stix.Parse accepted on the way in.
	obj, err := stix.ParseStored(raw)
	if err != nil {
		return rec, 0, fmt.Errorf("stored object %d is unreadable: %w", seq, err)
	}
	rec.Object = obj
	rec.Version = time.UnixMicro(ver).UTC()
	rec.TLP = stix.TLP(tlp)
	rec.EffectiveTLP = rec.TLP
	rec.CreatedBy = created
	rec.Source = source
	if added.Valid {
		rec.DateAdded = time.UnixMicro(added.Int64).UTC()
	}
	return rec, seq, nil
}

// Get returns the selected versions of one object, oldest first.
func (s *Store) Get(ctx context.Context, id string, v store.Versions) ([]store.Record, error) {
	cond, args := versionCond(v, "")
	q := `SELECT ` + recordCols + `, ` + firstAdded + ` FROM objects o WHERE o.id = ?` + cond + ` ORDER BY o.version`
	recs, err := s.records(ctx, q, append([]any{id}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", id, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("get %s: %w", id, store.ErrNotFound)
	}
	return recs, nil
}

// versionCond filters object versions. With coll set ("m.coll"), first and
// last are judged among the versions in that collection; otherwise among all
// stored versions.
func versionCond(v store.Versions, coll string) (string, []any) {
	if len(v.At) > 0 {
		args := make([]any, len(v.At))
		for i, t := range v.At {
			args[i] = t.UnixMicro()
		}
		return ` AND o.version IN (` + placeholders(len(args)) + `)`, args
	}
	switch v.Mode {
	case store.All:
		return "", nil
	case store.First:
		if coll != "" {
			return ` AND NOT EXISTS (SELECT 1 FROM objects o2 JOIN memberships m2 ON m2.obj = o2.seq AND m2.coll = ` + coll + ` WHERE o2.id = o.id AND o2.version < o.version)`, nil
		}
		return ` AND NOT EXISTS (SELECT 1 FROM objects o2 WHERE o2.id = o.id AND o2.version < o.version)`, nil
	default:
		if coll != "" {
			// The global latest flag settles most rows without the subquery.
			return ` AND (o.latest = 1 OR NOT EXISTS (SELECT 1 FROM objects o2 JOIN memberships m2 ON m2.obj = o2.seq AND m2.coll = ` + coll + ` WHERE o2.id = o.id AND o2.version > o.version))`, nil
		}
		return ` AND o.latest = 1`, nil
	}
}

func (s *Store) records(ctx context.Context, q string, args ...any) ([]store.Record, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Record
	for rows.Next() {
		rec, _, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}

// Query answers a selection; see store.Query.
func (s *Store) Query(ctx context.Context, q store.Query) (store.Page, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	limit = min(limit, store.MaxLimit)
	if q.Collection != "" {
		return s.queryCollection(ctx, q, limit)
	}
	return s.queryAll(ctx, q, limit)
}

func filterConds(q store.Query) (string, []any) {
	var sb strings.Builder
	var args []any
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		sb.WriteString(` AND ` + col + ` IN (` + placeholders(len(vals)) + `)`)
		args = append(args, anys(vals)...)
	}
	in("o.id", q.IDs)
	in("o.type", q.Types)
	in("o.spec_version", q.SpecVersions)
	return sb.String(), args
}

// collectionPage builds the page query of a collection-scoped Query. The
// collection is resolved inside the statement (the CTE c), so a page costs
// one round trip; cols are the selected object columns, and the collection's
// seq (for checking cursors) follows them. The caller appends the limit.
func collectionPage(q store.Query, cols string, after int64) (string, []any) {
	conds, args := filterConds(q)
	vc, vargs := versionCond(q.Versions, "m.coll")
	const eff = `CASE WHEN o.tlp = 0 THEN (SELECT default_tlp FROM c) ELSE o.tlp END`
	cols = strings.ReplaceAll(cols, "$eff", eff)
	// The embedded engine, left to itself, walks the collection in
	// date_added order (the ORDER BY's index) even for a few ids, which
	// took ~15 ms per object on ATT&CK; with ids, CROSS JOIN makes it start
	// from the objects' id index instead (0.3 ms). PostgreSQL plans the
	// same statement from its statistics either way.
	from := `memberships m JOIN objects o ON o.seq = m.obj WHERE`
	if len(q.IDs) > 0 {
		from = `objects o CROSS JOIN memberships m WHERE m.obj = o.seq AND`
	}
	sqlq := `WITH c AS (SELECT seq, id, default_tlp FROM collections WHERE id = ? OR title = ? ORDER BY seq LIMIT 1)
		SELECT ` + cols + `, (SELECT seq FROM c) FROM ` + from + ` m.coll = (SELECT seq FROM c) AND m.date_added > ?` + conds + vc
	qargs := []any{q.Collection, q.Collection, after}
	qargs = append(qargs, args...)
	qargs = append(qargs, vargs...)
	if q.MaxTLP != stix.TLPNone {
		sqlq += ` AND ` + eff + ` <= ?`
		qargs = append(qargs, int(q.MaxTLP))
	}
	if q.RedFor != "" {
		sqlq += ` AND (` + eff + ` < ? OR o.created_by = ? OR EXISTS (SELECT 1 FROM recipients r WHERE r.obj = o.seq AND r.identity = ?))`
		qargs = append(qargs, int(stix.TLPRed), q.RedFor, q.RedFor)
	}
	return sqlq + ` ORDER BY m.date_added LIMIT ?`, qargs
}

// pageStart is where a collection page starts: strictly after AddedAfter
// and after the cursor's position. It also returns the collection seq the
// cursor was issued for (0 without a cursor).
func pageStart(q store.Query) (after, cursorColl int64, err error) {
	after = int64(-1 << 62)
	if !q.AddedAfter.IsZero() {
		// Strictly after, at microsecond resolution: sub-microsecond digits
		// are dropped, which keeps the microsecond they fall in excluded.
		after = q.AddedAfter.UnixMicro()
	}
	if q.Cursor != "" {
		kind, a, b, err := decodeCursor(q.Cursor)
		if err != nil || kind != 'c' || b <= 0 {
			return 0, 0, store.ErrInvalidCursor
		}
		after, cursorColl = max(after, a), b
	}
	return after, cursorColl, nil
}

// checkPage settles what an empty collection page does not say: whether the
// collection exists, and whether the cursor belongs to it. (A page with
// rows has checked the cursor against the seq on its first row.)
func (s *Store) checkPage(ctx context.Context, q store.Query, rows int, collSeq, cursorColl int64) error {
	if rows == 0 {
		_, seq, err := s.collectionSeq(ctx, q.Collection)
		if err != nil {
			return err
		}
		collSeq = seq
	}
	if cursorColl != 0 && cursorColl != collSeq {
		return store.ErrInvalidCursor
	}
	return nil
}

func (s *Store) queryCollection(ctx context.Context, q store.Query, limit int) (store.Page, error) {
	after, cursorColl, err := pageStart(q)
	if err != nil {
		return store.Page{}, err
	}
	sqlq, qargs := collectionPage(q, recordCols+`, m.date_added, $eff, (SELECT id FROM c)`, after)
	rows, err := s.query(ctx, sqlq, append(qargs, limit+1)...)
	if err != nil {
		return store.Page{}, fmt.Errorf("query %s: %w", q.Collection, err)
	}
	defer rows.Close()
	var page store.Page
	var collSeq int64
	for rows.Next() {
		var eff int
		var collID string
		rec, _, err := scanRecord(rows, &eff, &collID, &collSeq)
		if err != nil {
			return store.Page{}, fmt.Errorf("query %s: %w", q.Collection, err)
		}
		if cursorColl != 0 && cursorColl != collSeq {
			return store.Page{}, store.ErrInvalidCursor
		}
		rec.Collection = collID
		rec.EffectiveTLP = stix.TLP(eff)
		page.Records = append(page.Records, rec)
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("query %s: %w", q.Collection, err)
	}
	rows.Close()
	if err := s.checkPage(ctx, q, len(page.Records), collSeq, cursorColl); err != nil {
		return store.Page{}, err
	}
	if len(page.Records) > limit {
		page.Records = page.Records[:limit]
		page.More = true
		page.Next = collCursor(page.Records[limit-1].DateAdded.UnixMicro(), collSeq)
	}
	return page, nil
}

func collCursor(dateAdded, collSeq int64) string {
	return encodeCursor("c" + strconv.FormatInt(dateAdded, 10) + "." + strconv.FormatInt(collSeq, 10))
}

// QueryRaw answers a collection-scoped query like Query, but hands each
// record's date_added and stored JSON to each instead of decoding it: the
// TAXII objects endpoint copies stored objects into its envelope untouched,
// and decoding them was most of a page's cost. raw is valid only during the
// call and must not be modified. The returned page has More and Next and no
// Records. Collection-wide queries are answered from the result cache (see
// results.go), others from SQL.
func (s *Store) QueryRaw(ctx context.Context, q store.Query, each func(dateAdded time.Time, raw []byte) error) (store.Page, error) {
	if q.Collection == "" {
		return store.Page{}, fmt.Errorf("%w: a raw query must name a collection", store.ErrNotFound)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	limit = min(limit, store.MaxLimit)
	after, cursorColl, err := pageStart(q)
	if err != nil {
		return store.Page{}, err
	}
	if !s.cacheable(q) {
		return s.queryRawSQL(ctx, q, limit, after, cursorColl, each)
	}
	policy, data, err := s.generations(ctx)
	if err != nil {
		return store.Page{}, err
	}
	st, err := s.collectionState(ctx, q.Collection, policy)
	if err != nil {
		return store.Page{}, err
	}
	if cursorColl != 0 && cursorColl != st.seq {
		return store.Page{}, store.ErrInvalidCursor
	}
	l, err := s.resultList(ctx, q, resultKey(q, st), st.seq, data)
	if err != nil {
		return store.Page{}, err
	}
	if l == nil || l.tooBig {
		return s.queryRawSQL(ctx, q, limit, after, cursorColl, each)
	}
	i, _ := slices.BinarySearch(l.added, after+1)
	end := min(len(l.added), i+limit)
	for k := i; k < end; k++ {
		if err := each(time.UnixMicro(l.added[k]).UTC(), l.record(k)); err != nil {
			return store.Page{}, err
		}
	}
	var page store.Page
	if end < len(l.added) {
		page.More = true
		page.Next = collCursor(l.added[end-1], st.seq)
	}
	return page, nil
}

// queryRawSQL is QueryRaw straight from SQL.
func (s *Store) queryRawSQL(ctx context.Context, q store.Query, limit int, after, cursorColl int64, each func(dateAdded time.Time, raw []byte) error) (store.Page, error) {
	sqlq, qargs := collectionPage(q, `m.date_added, o.raw`, after)
	rows, err := s.query(ctx, sqlq, append(qargs, limit+1)...)
	if err != nil {
		return store.Page{}, fmt.Errorf("query %s: %w", q.Collection, err)
	}
	defer rows.Close()
	var (
		page    store.Page
		n       int
		added   int64
		last    int64
		raw     sql.RawBytes
		collSeq int64
	)
	for rows.Next() {
		if err := rows.Scan(&added, &raw, &collSeq); err != nil {
			return store.Page{}, fmt.Errorf("query %s: %w", q.Collection, err)
		}
		if n == 0 && cursorColl != 0 && cursorColl != collSeq {
			return store.Page{}, store.ErrInvalidCursor
		}
		if n == limit {
			page.More = true
			break
		}
		n++
		last = added
		if err := each(time.UnixMicro(added).UTC(), raw); err != nil {
			return store.Page{}, err
		}
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("query %s: %w", q.Collection, err)
	}
	rows.Close()
	if err := s.checkPage(ctx, q, n, collSeq, cursorColl); err != nil {
		return store.Page{}, err
	}
	if page.More {
		page.Next = collCursor(last, collSeq)
	}
	return page, nil
}

func (s *Store) queryAll(ctx context.Context, q store.Query, limit int) (store.Page, error) {
	var afterSeq int64
	if q.Cursor != "" {
		kind, a, _, err := decodeCursor(q.Cursor)
		if err != nil || kind != 'o' {
			return store.Page{}, store.ErrInvalidCursor
		}
		afterSeq = a
	}
	conds, args := filterConds(q)
	vc, vargs := versionCond(q.Versions, "")
	sqlq := `SELECT ` + recordCols + `, ` + firstAdded + ` FROM objects o WHERE o.seq > ?` + conds + vc
	qargs := append([]any{afterSeq}, args...)
	qargs = append(qargs, vargs...)
	if !q.AddedAfter.IsZero() {
		sqlq += ` AND ` + firstAdded + ` > ?`
		qargs = append(qargs, q.AddedAfter.UnixMicro())
	}
	if q.MaxTLP != stix.TLPNone {
		// Outside a collection an unmarked object has no default to take,
		// so it is treated as AMBER, the policy's default (fail closed).
		sqlq += ` AND (CASE WHEN o.tlp = 0 THEN ? ELSE o.tlp END) <= ?`
		qargs = append(qargs, int(stix.TLPAmber), int(q.MaxTLP))
	}
	if q.RedFor != "" {
		sqlq += ` AND (o.tlp < ? OR o.created_by = ? OR EXISTS (SELECT 1 FROM recipients r WHERE r.obj = o.seq AND r.identity = ?))`
		qargs = append(qargs, int(stix.TLPRed), q.RedFor, q.RedFor)
	}
	sqlq += ` ORDER BY o.seq LIMIT ?`
	qargs = append(qargs, limit+1)
	rows, err := s.query(ctx, sqlq, qargs...)
	if err != nil {
		return store.Page{}, fmt.Errorf("query: %w", err)
	}
	defer rows.Close()
	var page store.Page
	var seqs []int64
	for rows.Next() {
		rec, seq, err := scanRecord(rows)
		if err != nil {
			return store.Page{}, fmt.Errorf("query: %w", err)
		}
		if rec.TLP == stix.TLPNone {
			rec.EffectiveTLP = stix.TLPAmber
		}
		page.Records = append(page.Records, rec)
		seqs = append(seqs, seq)
	}
	if err := rows.Err(); err != nil {
		return store.Page{}, fmt.Errorf("query: %w", err)
	}
	if len(page.Records) > limit {
		page.Records = page.Records[:limit]
		page.More = true
		page.Next = encodeCursor("o" + strconv.FormatInt(seqs[limit-1], 10))
	}
	return page, nil
}

func (s *Store) collectionSeq(ctx context.Context, idOrTitle string) (store.Collection, int64, error) {
	var seq int64
	c, err := scanCollection(s.queryRow(ctx, `SELECT id, title, description, default_tlp, public, created, seq FROM collections WHERE id = ? OR title = ? ORDER BY seq LIMIT 1`, idOrTitle, idOrTitle), &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return c, 0, fmt.Errorf("collection %q: %w", idOrTitle, store.ErrNotFound)
	}
	if err != nil {
		return c, 0, fmt.Errorf("collection %q: %w", idOrTitle, err)
	}
	return c, seq, nil
}

// ByValue finds latest versions indexed under a normalised value.
func (s *Store) ByValue(ctx context.Context, value string, limit int) ([]store.Record, error) {
	if limit <= 0 {
		limit = store.DefaultLimit
	}
	v := stix.NormalizeValue(value)
	if v == "" {
		return nil, nil
	}
	recs, err := s.records(ctx, `SELECT `+recordCols+`, `+firstAdded+` FROM obj_values v JOIN objects o ON o.seq = v.obj WHERE v.value = ? AND o.latest = 1 ORDER BY o.seq LIMIT ?`, v, min(limit, store.MaxLimit))
	if err != nil {
		return nil, fmt.Errorf("by value: %w", err)
	}
	return recs, nil
}

// ByName finds latest versions named or aliased name.
func (s *Store) ByName(ctx context.Context, name string) ([]store.Record, error) {
	n := stix.NormalizeName(name)
	if n == "" {
		return nil, nil
	}
	recs, err := s.records(ctx, `SELECT `+recordCols+`, `+firstAdded+` FROM names n JOIN objects o ON o.seq = n.obj WHERE n.name = ? AND o.latest = 1 ORDER BY o.seq LIMIT ?`, n, store.MaxLimit)
	if err != nil {
		return nil, fmt.Errorf("by name: %w", err)
	}
	return recs, nil
}

// Edges returns the edges of current, non-revoked versions touching ids.
func (s *Store) Edges(ctx context.Context, ids []string) ([]stix.Edge, error) {
	var out []stix.Edge
	seen := map[stix.Edge]bool{}
	for _, chunk := range chunks(ids, 400) {
		ph := placeholders(len(chunk))
		q := `SELECT e.src, e.dst, e.kind, e.via FROM edges e JOIN objects o ON o.seq = e.obj WHERE o.latest = 1 AND o.revoked = 0 AND e.src IN (` + ph + `)
			UNION SELECT e.src, e.dst, e.kind, e.via FROM edges e JOIN objects o ON o.seq = e.obj WHERE o.latest = 1 AND o.revoked = 0 AND e.dst IN (` + ph + `)`
		args := append(anys(chunk), anys(chunk)...)
		rows, err := s.query(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("edges: %w", err)
		}
		for rows.Next() {
			var e stix.Edge
			if err := rows.Scan(&e.Source, &e.Target, &e.Kind, &e.Via); err != nil {
				rows.Close()
				return nil, fmt.Errorf("edges: %w", err)
			}
			if !seen[e] {
				seen[e] = true
				out = append(out, e)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("edges: %w", err)
		}
	}
	return out, nil
}

// Latest returns the current version of each id found.
func (s *Store) Latest(ctx context.Context, ids []string) ([]store.Record, error) {
	var out []store.Record
	for _, chunk := range chunks(ids, 500) {
		recs, err := s.records(ctx, `SELECT `+recordCols+`, `+firstAdded+` FROM objects o WHERE o.latest = 1 AND o.id IN (`+placeholders(len(chunk))+`)`, anys(chunk)...)
		if err != nil {
			return nil, fmt.Errorf("latest: %w", err)
		}
		out = append(out, recs...)
	}
	return out, nil
}

// Stats counts what the store holds.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	st := store.Stats{ByType: map[string]int64{}}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM objects`).Scan(&st.Versions); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM collections`).Scan(&st.Collections); err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	rows, err := s.query(ctx, `SELECT type, COUNT(*) FROM objects WHERE latest = 1 GROUP BY type`)
	if err != nil {
		return st, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		var n int64
		if err := rows.Scan(&t, &n); err != nil {
			return st, fmt.Errorf("stats: %w", err)
		}
		st.ByType[t] = n
		st.Objects += n
	}
	return st, rows.Err()
}
