package access_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
)

var ctx = context.Background()

type fixture struct {
	s                   store.Store
	a                   *access.Service
	green, amber, red   store.Org
	ncsc                store.Org // RED clearance, named recipient of one RED object
	shared, public, own store.Collection
}

func obj(t *testing.T, id, tlp string, extra map[string]any) *stix.Object {
	t.Helper()
	m := map[string]any{"type": "indicator", "spec_version": "2.1", "id": id,
		"created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
		"pattern": "[ipv4-addr:value = '10.0.0.1']", "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"}
	if tlp != "" {
		m["object_marking_refs"] = []string{tlp}
	}
	for k, v := range extra {
		m[k] = v
	}
	o, err := stix.FromMap(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := stix.Validate(o); err != nil {
		t.Fatal(err)
	}
	return o
}

const (
	idClear   = "indicator--00000000-0000-4000-8000-000000000001"
	idGreen   = "indicator--00000000-0000-4000-8000-000000000002"
	idAmber   = "indicator--00000000-0000-4000-8000-000000000003"
	idStrict  = "indicator--00000000-0000-4000-8000-000000000004"
	idRed     = "indicator--00000000-0000-4000-8000-000000000005"
	idRedTo   = "indicator--00000000-0000-4000-8000-000000000006"
	idNone    = "indicator--00000000-0000-4000-8000-000000000007"
	idWhite10 = "indicator--00000000-0000-4000-8000-000000000008"
)

func newFixture(t *testing.T) *fixture {
	t.Helper()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f := &fixture{s: s, a: access.New(s)}
	t.Cleanup(func() { f.a.Close() })
	mk := func(name string, c stix.TLP) store.Org {
		o, err := s.CreateOrg(ctx, store.Org{Name: name, Clearance: c})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	f.green, f.amber, f.red = mk("bank", stix.TLPGreen), mk("exchange", stix.TLPAmberStrict), mk("cert", stix.TLPRed)
	f.ncsc = mk("ncsc", stix.TLPRed)
	coll := func(title string, public bool) store.Collection {
		c, err := s.CreateCollection(ctx, store.Collection{Title: title, Public: public})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	f.shared, f.public, f.own = coll("shared", false), coll("public", true), coll("cert-only", false)
	for _, o := range []store.Org{f.green, f.amber, f.red, f.ncsc} {
		if err := s.SetGrant(ctx, store.Grant{Collection: f.shared.ID, Org: o.ID, Read: true, Write: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetGrant(ctx, store.Grant{Collection: f.own.ID, Org: f.red.ID, Read: true, Write: true}); err != nil {
		t.Fatal(err)
	}
	objs := []*stix.Object{
		obj(t, idClear, stix.TLP2Clear, nil),
		obj(t, idGreen, stix.TLP2Green, nil),
		obj(t, idAmber, stix.TLP2Amber, nil),
		obj(t, idStrict, stix.TLP2AmberStrict, nil),
		obj(t, idRed, stix.TLP2Red, map[string]any{"created_by_ref": f.red.Identity}),
		obj(t, idRedTo, stix.TLP2Red, map[string]any{"created_by_ref": f.red.Identity, "x_bulwark_recipients": []string{f.ncsc.Identity, f.amber.Identity}}),
		obj(t, idNone, "", nil),
		obj(t, idWhite10, stix.TLP1White, nil),
	}
	for _, c := range []store.Collection{f.shared, f.public, f.own} {
		var items []store.PutItem
		for _, o := range objs {
			items = append(items, store.PutItem{Object: o})
		}
		if _, err := s.Put(ctx, c.ID, items); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func visible(t *testing.T, f *fixture, v access.Viewer, coll string) map[string]bool {
	t.Helper()
	page, err := f.a.Query(ctx, v, store.Query{Collection: coll}, "test")
	if err != nil {
		if errors.Is(err, access.ErrNotFound) {
			return nil
		}
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, r := range page.Records {
		m[r.Object.ID] = true
	}
	return m
}

func TestPolicy(t *testing.T) {
	f := newFixture(t)
	anon := access.Anonymous
	bank, exch, cert := access.Viewer{Org: f.green}, access.Viewer{Org: f.amber}, access.Viewer{Org: f.red}
	tests := []struct {
		name string
		v    access.Viewer
		coll string
		want []string // nil: the collection is not visible at all
	}{
		{"anonymous/shared", anon, f.shared.ID, nil},
		{"anonymous/public", anon, f.public.ID, []string{idClear, idWhite10}},
		{"bank/shared", bank, f.shared.ID, []string{idClear, idWhite10, idGreen}},
		// The exchange holds AMBER+STRICT clearance: being named a RED
		// recipient does not lift it. The unmarked object takes the
		// collection default, AMBER.
		{"exchange/shared", exch, f.shared.ID, []string{idClear, idWhite10, idGreen, idAmber, idStrict, idNone}},
		// RED clearance alone is not enough: only the RED object naming it.
		{"ncsc/shared", access.Viewer{Org: f.ncsc}, f.shared.ID, []string{idClear, idWhite10, idGreen, idAmber, idStrict, idNone, idRedTo}},
		{"cert/shared", cert, f.shared.ID, []string{idClear, idWhite10, idGreen, idAmber, idStrict, idNone, idRed, idRedTo}},
		// Public collections give organisations without a grant CLEAR only.
		{"bank/public", bank, f.public.ID, []string{idClear, idWhite10}},
		{"bank/cert-only", bank, f.own.ID, nil},
		{"nobody", access.Viewer{}, f.shared.ID, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := visible(t, f, tt.v, tt.coll)
			if tt.want == nil {
				if got != nil {
					t.Fatalf("collection visible: %v", got)
				}
				return
			}
			if len(got) != len(tt.want) {
				t.Errorf("sees %d objects %v, want %v", len(got), got, tt.want)
			}
			for _, id := range tt.want {
				if !got[id] {
					t.Errorf("does not see %s", id)
				}
			}
		})
	}
	// Asking for more than the clearance never widens it.
	page, err := f.a.Query(ctx, bank, store.Query{Collection: f.shared.ID, MaxTLP: stix.TLPRed}, "")
	if err != nil || len(page.Records) != 3 {
		t.Errorf("bank asking for RED: %d records, %v", len(page.Records), err)
	}
}

func TestTokens(t *testing.T) {
	f := newFixture(t)
	secret, id, err := f.a.NewToken(ctx, "bank", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.a.Authenticate(ctx, secret)
	if err != nil || v.Org.Name != "bank" {
		t.Fatalf("authenticate: %+v %v", v, err)
	}
	toks, _ := f.s.ListTokens(ctx, f.green.ID)
	for _, tk := range toks {
		if string(tk.Hash) == secret {
			t.Fatal("token stored in the clear")
		}
	}
	for _, bad := range []string{"", secret + "x", secret[:len(secret)-1], "bwk_" + string(make([]byte, 300))} {
		if _, err := f.a.Authenticate(ctx, bad); !errors.Is(err, access.ErrUnauthenticated) {
			t.Errorf("token %.20q: %v", bad, err)
		}
	}
	if err := f.s.RevokeToken(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(ctx, secret); !errors.Is(err, access.ErrUnauthenticated) {
		t.Errorf("revoked token accepted: %v", err)
	}
	expired, _, err := f.a.NewToken(ctx, "bank", time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.Authenticate(ctx, expired); !errors.Is(err, access.ErrUnauthenticated) {
		t.Errorf("expired token accepted: %v", err)
	}
}

func TestWrites(t *testing.T) {
	f := newFixture(t)
	bank := access.Viewer{Org: f.green}
	mine := obj(t, "indicator--00000000-0000-4000-8000-0000000000a1", stix.TLP2Green, nil)
	theirs := obj(t, "indicator--00000000-0000-4000-8000-0000000000a2", stix.TLP2Green, map[string]any{"created_by_ref": f.red.Identity})
	res, err := f.a.Put(ctx, bank, f.shared.ID, []*stix.Object{mine, theirs}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors[0] != nil || res.Errors[1] == nil || res.Created != 1 {
		t.Fatalf("put: %+v", res)
	}
	recs, err := f.s.Get(ctx, mine.ID, store.Versions{})
	if err != nil || recs[0].CreatedBy != f.green.Identity {
		t.Errorf("created_by_ref not filled: %+v %v", recs, err)
	}
	if _, err := f.a.Put(ctx, bank, f.own.ID, []*stix.Object{mine}, "test"); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("write to an unreadable collection: %v", err)
	}
	if _, err := f.a.Put(ctx, bank, f.public.ID, []*stix.Object{mine}, "test"); !errors.Is(err, access.ErrForbidden) {
		t.Errorf("write to a read-only collection: %v", err)
	}
	if _, err := f.a.Put(ctx, access.Anonymous, f.public.ID, []*stix.Object{mine}, "test"); err == nil {
		t.Error("anonymous write accepted")
	}
	// Delete needs read and write, and cannot touch what the viewer cannot see.
	if _, err := f.a.Remove(ctx, bank, f.shared.ID, idRed, store.Versions{Mode: store.All}, nil); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("bank deleted a RED object it cannot see: %v", err)
	}
	if n, err := f.a.Remove(ctx, bank, f.shared.ID, idGreen, store.Versions{Mode: store.All}, nil); err != nil || n != 1 {
		t.Errorf("delete: %d %v", n, err)
	}
	if err := f.a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	log, err := f.s.AuditLog(ctx, time.Time{}, 100)
	if err != nil || len(log) < 2 {
		t.Errorf("audit log: %+v %v", log, err)
	}
}

// A writer removing "all" versions removes only the versions it can see.
func TestRemoveOnlyVisibleVersions(t *testing.T) {
	f := newFixture(t)
	id := "indicator--00000000-0000-4000-8000-0000000000b1"
	v1 := obj(t, id, stix.TLP2Green, nil)
	v2, err := v1.WithProps(map[string]any{"modified": "2024-02-01T00:00:00.000Z", "object_marking_refs": []string{stix.TLP2Red}, "created_by_ref": f.red.Identity})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Put(ctx, f.shared.ID, []store.PutItem{{Object: v1}, {Object: v2}}); err != nil {
		t.Fatal(err)
	}
	bank := access.Viewer{Org: f.green}
	// The newest version is hidden, so "last" shows the bank nothing; "all"
	// shows it v1 only, and only v1 may go.
	if n, err := f.a.Remove(ctx, bank, f.shared.ID, id, store.Versions{Mode: store.All}, nil); err != nil || n != 1 {
		t.Fatalf("remove: %d %v", n, err)
	}
	recs := visible(t, f, access.Viewer{Org: f.red}, f.shared.ID)
	if !recs[id] {
		t.Error("the RED version the bank could not see was removed")
	}
}
