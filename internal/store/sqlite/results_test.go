package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/storetest"
)

// TestQueryRawMatchesQuery is the property of QueryRaw's result cache: for
// random scoped queries, paged through with cursors and added_after, it
// returns exactly the records (date_added and stored JSON) that Query
// returns, while objects are put and removed — half of the writes through a
// second handle on the same file, as the command line writes to the
// database a running server reads. A cache that missed a write, or served a
// record the scope hides, fails here.
func TestQueryRawMatchesQuery(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int
	}{
		{"default limit", -1},
		{"evicting", 24 << 10}, // a few lists at a time
		{"lists too big", 2 << 10},
		{"cache off", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "bulwark.db")
			server, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer server.Close()
			if tc.limit >= 0 {
				server.SetCacheLimit(tc.limit)
			}
			cli, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			storetest.RawMatchesQuery(t, server, cli)
		})
	}
}

// TestQueryRawErrors: a missing collection is not found and a cursor of
// another collection is refused, with the cache on.
func TestQueryRawErrors(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "bulwark.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, title := range []string{"a", "b"} {
		if _, err := s.CreateCollection(ctx, store.Collection{Title: title, DefaultTLP: stix.TLPClear}); err != nil {
			t.Fatal(err)
		}
	}
	var items []store.PutItem
	for i := range 5 {
		o, err := stix.FromMap(map[string]any{"type": "malware", "spec_version": "2.1", "id": fmt.Sprintf("malware--00000000-0000-4000-8000-%012d", i),
			"created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "name": "m", "is_family": false})
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, store.PutItem{Object: o})
	}
	for _, c := range []string{"a", "b"} {
		if _, err := s.Put(ctx, c, items); err != nil {
			t.Fatal(err)
		}
	}
	none := func(time.Time, []byte) error { return nil }
	p, err := s.QueryRaw(ctx, store.Query{Collection: "a", Limit: 2}, none)
	if err != nil || !p.More {
		t.Fatalf("first page of a: %+v, %v", p, err)
	}
	if _, err := s.QueryRaw(ctx, store.Query{Collection: "b", Limit: 2, Cursor: p.Next}, none); err != store.ErrInvalidCursor {
		t.Errorf("a's cursor on b: %v, want ErrInvalidCursor", err)
	}
	if _, err := s.QueryRaw(ctx, store.Query{Collection: "nope"}, none); err == nil {
		t.Error("missing collection: no error")
	}
	if _, err := s.QueryRaw(ctx, store.Query{Collection: "a", Cursor: "!!"}, none); err != store.ErrInvalidCursor {
		t.Errorf("malformed cursor: %v", err)
	}
}
