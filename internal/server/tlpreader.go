package server

import (
	"context"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// tlpReader caps what a reader returns at a TLP, for servers without the
// access service (local use and tests): nothing above max leaves, whatever
// the endpoint. Unmarked objects count as AMBER, the policy's default.
type tlpReader struct {
	store.Reader
	max stix.TLP
}

func (t tlpReader) keep(recs []store.Record, err error) ([]store.Record, error) {
	if err != nil {
		return nil, err
	}
	out := recs[:0]
	for _, r := range recs {
		l := r.EffectiveTLP
		if l == stix.TLPNone {
			l = stix.TLPAmber
		}
		if l <= t.max {
			out = append(out, r)
		}
	}
	return out, nil
}

func (t tlpReader) Get(ctx context.Context, id string, v store.Versions) ([]store.Record, error) {
	recs, err := t.keep(t.Reader.Get(ctx, id, v))
	if err == nil && len(recs) == 0 {
		return nil, store.ErrNotFound
	}
	return recs, err
}

func (t tlpReader) Query(ctx context.Context, q store.Query) (store.Page, error) {
	if q.MaxTLP == stix.TLPNone || q.MaxTLP > t.max {
		q.MaxTLP = t.max
	}
	return t.Reader.Query(ctx, q)
}

func (t tlpReader) ByValue(ctx context.Context, v string, limit int) ([]store.Record, error) {
	return t.keep(t.Reader.ByValue(ctx, v, limit))
}

func (t tlpReader) ByName(ctx context.Context, name string) ([]store.Record, error) {
	return t.keep(t.Reader.ByName(ctx, name))
}

func (t tlpReader) Latest(ctx context.Context, ids []string) ([]store.Record, error) {
	return t.keep(t.Reader.Latest(ctx, ids))
}
