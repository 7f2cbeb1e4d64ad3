package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/stixfile"
	"github.com/bulwark-intel/bulwark/internal/server"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
)

func newServer(t *testing.T, max stix.TLP) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateCollection(ctx, store.Collection{Title: "c"}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../lookup/testdata/actors.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := feed.Import(ctx, s, "c", stixfile.Format, feed.Source{Path: f.Name(), R: f}, 0); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(s, server.Options{MaxTLP: max}))
	t.Cleanup(ts.Close)
	return ts
}

func get(t *testing.T, ts *httptest.Server, path string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestRoutes(t *testing.T) {
	ts := newServer(t, stix.TLPClear)
	tests := []struct {
		path     string
		code     int
		contains string
	}{
		{"/healthz", 200, `"ok"`},
		{"/api/v1/search?value=0x098B716B8Aaf21512996dC57EB0615e2383E2f96", 200, `"LAZARUS GROUP"`},
		{"/api/v1/search", 400, "missing parameter value"},
		{"/api/v1/search?value=" + strings.Repeat("a", 5000), 400, "too long"},
		{"/api/v1/actors/" + url.PathEscape("Hidden Cobra"), 200, `"G0032"`},
		{"/api/v1/actors/nobody", 404, "not found"},
		{"/api/v1/objects/intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a", 200, `"Lazarus Group"`},
		{"/api/v1/objects/not-an-id", 400, "invalid id"},
		{"/api/v1/objects/intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d1839000", 404, "not found"},
		{"/api/v1/stats", 200, `"Objects"`},
	}
	for _, tt := range tests {
		code, body, _ := get(t, ts, tt.path)
		if code != tt.code || !strings.Contains(body, tt.contains) {
			t.Errorf("GET %s = %d %.200s, want %d containing %q", tt.path, code, body, tt.code, tt.contains)
		}
	}
	// Metrics count what was served.
	code, body, _ := get(t, ts, "/metrics")
	if code != 200 || !strings.Contains(body, `bulwark_http_requests_total{code="404",route="GET /api/v1/actors/{name}"} 1`) || !strings.Contains(body, "bulwark_store_objects 17") {
		t.Errorf("metrics: %d\n%s", code, body)
	}
}

// The API has no authentication yet: nothing above its TLP limit may be
// returned, nor confirmed to exist.
func TestTLPLimit(t *testing.T) {
	ts := newServer(t, stix.TLPClear)
	red := "/api/v1/objects/indicator--0a1b2c3d-0000-4000-8000-0000000000d3"
	missing := "/api/v1/objects/indicator--0a1b2c3d-0000-4000-8000-0000000000ff"
	c1, b1, _ := get(t, ts, red)
	c2, b2, _ := get(t, ts, missing)
	if c1 != 404 || c1 != c2 || b1 != b2 {
		t.Errorf("a RED object answers %d %q, a missing one %d %q: they must be indistinguishable", c1, b1, c2, b2)
	}
	_, body, _ := get(t, ts, "/api/v1/search?value=0x1111111111111111111111111111111111111111")
	var res struct{ Indicators []any }
	if err := json.Unmarshal([]byte(body), &res); err != nil || len(res.Indicators) != 0 {
		t.Errorf("search leaked a RED indicator: %s", body)
	}
	ts = newServer(t, stix.TLPRed)
	if c, _, _ := get(t, ts, red); c != 200 {
		t.Errorf("with --max-tlp red the object answers %d", c)
	}
}

// With the access service, the JSON API answers each viewer with what the
// policy lets it see: anonymous viewers CLEAR objects of public
// collections only, organisations what their grants and clearance allow.
func TestAccessControlledAPI(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	priv, _ := s.CreateCollection(ctx, store.Collection{Title: "private"})
	pub, _ := s.CreateCollection(ctx, store.Collection{Title: "public", Public: true})
	bank, _ := s.CreateOrg(ctx, store.Org{Name: "bank", Clearance: stix.TLPAmber})
	if err := s.SetGrant(ctx, store.Grant{Collection: priv.ID, Org: bank.ID, Read: true}); err != nil {
		t.Fatal(err)
	}
	imp := func(coll string) {
		f, err := os.Open("../lookup/testdata/actors.json")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := feed.Import(ctx, s, coll, stixfile.Format, feed.Source{Path: f.Name(), R: f}, 0); err != nil {
			t.Fatal(err)
		}
	}
	imp(priv.ID)
	acc := access.New(s)
	token, _, err := acc.NewToken(ctx, "bank", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(s, server.Options{MaxTLP: stix.TLPRed, Access: acc}))
	t.Cleanup(ts.Close)
	call := func(path, tok string) (int, string) {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	lazarus := "/api/v1/objects/intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a"
	// Only in a private collection: anonymous viewers must not see it,
	// though it is TLP:CLEAR.
	if c, _ := call(lazarus, ""); c != 404 {
		t.Errorf("anonymous read of a private CLEAR object: %d", c)
	}
	if c, _ := call(lazarus, token); c != 200 {
		t.Errorf("bank read of its collection's object: %d", c)
	}
	if c, _ := call(lazarus, "bwk_wrong"); c != 401 {
		t.Errorf("bad token: %d", c)
	}
	if _, body := call("/api/v1/search?value=0x098B716B8Aaf21512996dC57EB0615e2383E2f96", ""); strings.Contains(body, "LAZARUS") {
		t.Errorf("anonymous search leaks: %s", body)
	}
	if _, body := call("/api/v1/search?value=0x098B716B8Aaf21512996dC57EB0615e2383E2f96", token); !strings.Contains(body, "LAZARUS GROUP") {
		t.Errorf("bank search: %s", body)
	}
	// The bank's clearance is AMBER: the RED wallet stays hidden.
	if _, body := call("/api/v1/actors/ZINC", token); strings.Contains(body, "0x1111111111111111111111111111111111111111") || !strings.Contains(body, "G0032") {
		t.Errorf("bank actor view: %.300s", body)
	}
	if c, body := call("/api/v1/stats", token); c != 200 || strings.Contains(body, `"Objects":17`) {
		t.Errorf("stats for a non-admin: %d %s", c, body)
	}
	imp(pub.ID)
	if c, _ := call(lazarus, ""); c != 200 {
		t.Errorf("anonymous read of a public CLEAR object: %d", c)
	}
	if c, _ := call("/api/v1/objects/identity--0a1b2c3d-0000-4000-8000-000000000001", ""); c != 404 {
		t.Errorf("anonymous read of an unmarked (AMBER by default) object: %d", c)
	}
}

func TestAdminAPI(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateOrg(ctx, store.Org{Name: "admin", Clearance: stix.TLPRed, Admin: true}); err != nil {
		t.Fatal(err)
	}
	acc := access.New(s)
	t.Cleanup(func() { acc.Close() })
	admin, _, err := acc.NewToken(ctx, "admin", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(s, server.Options{Access: acc, Admin: s}))
	t.Cleanup(ts.Close)
	call := func(method, path, tok, body string) (int, string) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if c, _ := call("GET", "/api/v1/admin/orgs", "", ""); c != 401 {
		t.Errorf("anonymous: %d", c)
	}
	if c, b := call("POST", "/api/v1/admin/orgs", admin, `{"name":"KrCERT","clearance":"red"}`); c != 201 || !strings.Contains(b, `"clearance":"red"`) {
		t.Fatalf("add org: %d %s", c, b)
	}
	if c, _ := call("POST", "/api/v1/admin/orgs", admin, `{"name":"KrCERT","clearance":"red"}`); c != 409 {
		t.Errorf("duplicate org: %d", c)
	}
	if c, _ := call("POST", "/api/v1/admin/orgs", admin, `{"name":"X","clearance":"purple"}`); c != 400 {
		t.Errorf("bad clearance: %d", c)
	}
	if c, _ := call("POST", "/api/v1/admin/orgs", admin, `{"name":"X","clearance":"red","extra":1}`); c != 400 {
		t.Errorf("unknown field: %d", c)
	}
	c, b := call("POST", "/api/v1/admin/orgs/KrCERT/tokens", admin, `{"expires":"720h"}`)
	var tok struct{ ID, Token string }
	if err := json.Unmarshal([]byte(b), &tok); c != 201 || err != nil || !strings.HasPrefix(tok.Token, "bwk_") {
		t.Fatalf("token: %d %s", c, b)
	}
	// A non-admin organisation is refused.
	if c, _ := call("GET", "/api/v1/admin/orgs", tok.Token, ""); c != 403 {
		t.Errorf("non-admin: %d", c)
	}
	if c, b := call("POST", "/api/v1/admin/collections", admin, `{"title":"DPRK crypto","read":["KrCERT"],"write":["KrCERT"],"default_tlp":"green"}`); c != 201 || !strings.Contains(b, `"default_tlp":"green"`) {
		t.Errorf("add collection: %d %s", c, b)
	}
	if c, _ := call("POST", "/api/v1/admin/collections", admin, `{"title":"Other","read":["Nobody"]}`); c != 400 {
		t.Errorf("collection with an unknown org: %d", c)
	}
	if c, b := call("GET", "/api/v1/admin/collections", admin, ""); c != 200 || strings.Contains(b, "Other") {
		t.Errorf("collections: %d %s", c, b)
	}
	if c, _ := call("DELETE", "/api/v1/admin/tokens/"+tok.ID, admin, ""); c != 204 {
		t.Errorf("revoke: %d", c)
	}
	if c, _ := call("GET", "/api/v1/search?value=x", tok.Token, ""); c != 401 {
		t.Errorf("revoked token still works: %d", c)
	}
	if c, b := call("GET", "/api/v1/admin/audit", admin, ""); c != 200 || !strings.Contains(b, "entries") {
		t.Errorf("audit: %d %s", c, b)
	}
}

func TestScreenAPI(t *testing.T) {
	ts := newServer(t, stix.TLPClear)
	resp, err := http.Post(ts.URL+"/api/v1/screen", "application/json", strings.NewReader(`{"addresses":["0x098B716B8Aaf21512996dC57EB0615e2383E2f96","0x1111111111111111111111111111111111111111"]}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var out struct{ Results []struct{ Risk string } }
	if err := json.Unmarshal(b, &out); err != nil || resp.StatusCode != 200 || len(out.Results) != 2 || out.Results[0].Risk != "severe" || out.Results[1].Risk != "none" {
		t.Errorf("screen: %d %s", resp.StatusCode, b)
	}
	resp, err = http.Post(ts.URL+"/api/v1/screen", "application/json", strings.NewReader(`{"addresses":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("empty batch: %d", resp.StatusCode)
	}
}
