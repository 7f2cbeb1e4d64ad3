package access

import (
	"context"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// ReaderFor returns a view of the store as the viewer may see it, for read
// paths that are not collection-scoped (value search, actor profiles). Every
// record it returns is the version the viewer can see in some collection it
// may read, at that collection's effective TLP; edges are kept only when the
// object stating them (the relationship, or the object holding the
// reference) is visible too, so hidden relationships do not show through.
func (a *Service) ReaderFor(v Viewer) store.Reader { return &viewReader{a: a, v: v} }

type viewReader struct {
	a *Service
	v Viewer
}

// visible returns, for the ids the viewer can see in any readable
// collection, the least restricted visible record of each.
func (r *viewReader) visible(ctx context.Context, ids []string) (map[string]store.Record, error) {
	out := map[string]store.Record{}
	if len(ids) == 0 {
		return out, nil
	}
	colls, err := r.a.Collections(ctx, r.v)
	if err != nil {
		return nil, err
	}
	uniq := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	for _, c := range colls {
		if !c.CanRead {
			continue
		}
		for start := 0; start < len(uniq); start += 500 {
			chunk := uniq[start:min(start+500, len(uniq))]
			q := store.Query{Collection: c.ID, IDs: chunk, Limit: store.MaxLimit}
			for {
				page, err := r.a.Query(ctx, r.v, q, "")
				if err != nil {
					return nil, err
				}
				for _, rec := range page.Records {
					if cur, ok := out[rec.Object.ID]; !ok || rec.EffectiveTLP < cur.EffectiveTLP {
						out[rec.Object.ID] = rec
					}
				}
				if !page.More {
					break
				}
				q.Cursor = page.Next
			}
		}
	}
	return out, nil
}

func (r *viewReader) keep(ctx context.Context, recs []store.Record, err error) ([]store.Record, error) {
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	ids := make([]string, len(recs))
	for i, rec := range recs {
		ids[i] = rec.Object.ID
	}
	vis, err := r.visible(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := recs[:0]
	done := map[string]bool{}
	for _, rec := range recs {
		if v, ok := vis[rec.Object.ID]; ok && !done[rec.Object.ID] {
			done[rec.Object.ID] = true
			out = append(out, v)
		}
	}
	return out, nil
}

func (r *viewReader) Get(ctx context.Context, id string, vers store.Versions) ([]store.Record, error) {
	colls, err := r.a.Collections(ctx, r.v)
	if err != nil {
		return nil, err
	}
	byVersion := map[int64]store.Record{}
	for _, c := range colls {
		if !c.CanRead {
			continue
		}
		page, err := r.a.Query(ctx, r.v, store.Query{Collection: c.ID, IDs: []string{id}, Versions: vers, Limit: store.MaxLimit}, "")
		if err != nil {
			return nil, err
		}
		for _, rec := range page.Records {
			k := rec.Version.UnixMicro()
			if cur, ok := byVersion[k]; !ok || rec.EffectiveTLP < cur.EffectiveTLP {
				byVersion[k] = rec
			}
		}
	}
	if len(byVersion) == 0 {
		return nil, store.ErrNotFound
	}
	out := make([]store.Record, 0, len(byVersion))
	for _, rec := range byVersion {
		out = append(out, rec)
	}
	for i := 1; i < len(out); i++ { // oldest first
		for j := i; j > 0 && out[j].Version.Before(out[j-1].Version); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

func (r *viewReader) Query(ctx context.Context, q store.Query) (store.Page, error) {
	return r.a.Query(ctx, r.v, q, "")
}

func (r *viewReader) ByValue(ctx context.Context, value string, limit int) ([]store.Record, error) {
	recs, err := r.a.s.ByValue(ctx, value, limit)
	return r.keep(ctx, recs, err)
}

func (r *viewReader) ByName(ctx context.Context, name string) ([]store.Record, error) {
	recs, err := r.a.s.ByName(ctx, name)
	return r.keep(ctx, recs, err)
}

func (r *viewReader) Latest(ctx context.Context, ids []string) ([]store.Record, error) {
	recs, err := r.a.s.Latest(ctx, ids)
	return r.keep(ctx, recs, err)
}

func (r *viewReader) Edges(ctx context.Context, ids []string) ([]stix.Edge, error) {
	edges, err := r.a.s.Edges(ctx, ids)
	if err != nil || len(edges) == 0 {
		return nil, err
	}
	stating := make([]string, 0, len(edges))
	for _, e := range edges {
		stating = append(stating, statedBy(e))
	}
	vis, err := r.visible(ctx, stating)
	if err != nil {
		return nil, err
	}
	out := edges[:0]
	for _, e := range edges {
		if _, ok := vis[statedBy(e)]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

func statedBy(e stix.Edge) string {
	if e.Via != "" {
		return e.Via
	}
	return e.Source
}

// Stats are store-wide: only administrators get them.
func (r *viewReader) Stats(ctx context.Context) (store.Stats, error) {
	if !r.v.Anonymous && r.v.Org.Admin {
		return r.a.s.Stats(ctx)
	}
	return store.Stats{ByType: map[string]int64{}}, nil
}
