package taxii

import (
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
)

// TestChangesTakeEffectAtOnce: the server keeps tokens, grants and
// collection pages in memory, yet every change made by another process on
// the same database (the command line: revoke, grant, import, delete)
// shows on the very next request, including one that continues a paging
// with a next token issued before the change.
func TestChangesTakeEffectAtOnce(t *testing.T) {
	hb := newHub(t, Options{})
	hb.org("bank", stix.TLPAmber, false)
	hb.org("cert", stix.TLPRed, false)
	hb.coll("shared", stix.TLPAmber, false)
	hb.grant("bank", "shared", true, true)
	hb.grant("cert", "shared", true, true)
	var ids []string
	var objs []string
	for range 6 {
		id := newID("indicator")
		ids = append(ids, id)
		objs = append(objs, indicator(id, 1, "", []string{stix.TLP2Green}, nil))
	}
	hb.put("shared", objs...)
	cli, err := sqlite.Open(ctx, hb.path)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	page := func(who, query string) (int, []string, string) {
		t.Helper()
		r := hb.get(collPath(hb, "shared", "objects/?"+query), who)
		if r.code != 200 {
			return r.code, nil, ""
		}
		var env envelope
		r.json(t, &env)
		var got []string
		for _, o := range objIDs(t, env.Objects) {
			got = append(got, o[:len(o)-len("@"+ts(1))])
		}
		return r.code, got, env.Next
	}
	// Warm every cache: tokens, grants, the collection's result list.
	for range 2 {
		if code, got, _ := page("bank", "limit=10"); code != 200 || !slices.Equal(got, ids) {
			t.Fatalf("bank: %d %v", code, got)
		}
		hb.st.WaitBuilds()
	}
	_, first, next := page("bank", "limit=3")
	if len(first) != 3 || next == "" {
		t.Fatalf("first page: %v next %q", first, next)
	}

	// An object deleted elsewhere is gone from the next page.
	if n, err := cli.Remove(ctx, hb.colls["shared"].ID, ids[4], store.Versions{Mode: store.All}); err != nil || n != 1 {
		t.Fatalf("remove: %d %v", n, err)
	}
	if _, got, _ := page("bank", "limit=3&next="+url.QueryEscape(next)); !slices.Equal(got, []string{ids[3], ids[5]}) {
		t.Errorf("after a delete elsewhere, the next page is %v", got)
	}
	hb.st.WaitBuilds()
	// An object added elsewhere shows at once, to those who may see it.
	red, green := newID("indicator"), newID("indicator")
	if _, err := cli.Put(ctx, hb.colls["shared"].ID, []store.PutItem{
		{Object: decode(t, indicator(red, 1, hb.orgs["cert"].Identity, []string{stix.TLP2Red}, nil))},
		{Object: decode(t, indicator(green, 1, "", []string{stix.TLP2Green}, nil))},
	}); err != nil {
		t.Fatal(err)
	}
	if _, got, _ := page("cert", "limit=10"); !slices.Contains(got, red) {
		t.Errorf("cert does not see its RED object put elsewhere: %v", got)
	}
	hb.st.WaitBuilds()
	if _, got, _ := page("bank", "limit=10"); slices.Contains(got, red) || !slices.Contains(got, green) || len(got) != 6 {
		t.Errorf("bank sees %v", got)
	}
	// A removed grant: the collection is gone, even for a next token.
	_, _, next = page("bank", "limit=2")
	if err := cli.SetGrant(ctx, store.Grant{Collection: hb.colls["shared"].ID, Org: hb.orgs["bank"].ID}); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := page("bank", "limit=2&next="+url.QueryEscape(next)); code != http.StatusNotFound {
		t.Errorf("bank after its grant was removed: %d", code)
	}
	// A revoked token: 401 on the next request.
	toks, err := cli.ListTokens(ctx, hb.orgs["cert"].ID)
	if err != nil || len(toks) != 1 {
		t.Fatal(toks, err)
	}
	if err := cli.RevokeToken(ctx, toks[0].ID); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := page("cert", "limit=2"); code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d", code)
	}
}

func decode(t *testing.T, raw string) *stix.Object {
	t.Helper()
	o, err := stix.Decode([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return o
}
