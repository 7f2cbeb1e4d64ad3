package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/chain/screen"
	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/stixfile"
	"github.com/bulwark-intel/bulwark/internal/server"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
)

const (
	roninAddr  = "0x098b716b8aaf21512996dc57eb0615e2383e2f96" // CLEAR, attributed to Lazarus
	secretAddr = "0x1111111111111111111111111111111111111111" // RED, no creator: operators and admins only
)

type screenReply struct {
	Results []screen.Result
	Error   string
}

func postScreen(t *testing.T, url, tok, body string) (int, screenReply) {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/api/v1/screen", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out screenReply
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%d %s: %v", resp.StatusCode, b, err)
	}
	return resp.StatusCode, out
}

// The screening API answers each organisation with the evidence its
// access allows, refuses bad tokens and malformed batches, and picks up
// new listings without a restart.
func TestScreenAPIAccess(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	priv, _ := s.CreateCollection(ctx, store.Collection{Title: "private"})
	for _, o := range []store.Org{
		{Name: "bank", Clearance: stix.TLPAmber},
		{Name: "cert", Clearance: stix.TLPRed},
		{Name: "admin", Clearance: stix.TLPRed, Admin: true},
		{Name: "stranger", Clearance: stix.TLPRed},
	} {
		org, err := s.CreateOrg(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if o.Name == "bank" || o.Name == "cert" {
			if err := s.SetGrant(ctx, store.Grant{Collection: priv.ID, Org: org.ID, Read: true}); err != nil {
				t.Fatal(err)
			}
		}
	}
	f, err := os.Open("../lookup/testdata/actors.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := feed.Import(ctx, s, priv.ID, stixfile.Format, feed.Source{Path: f.Name(), R: f}, 0); err != nil {
		t.Fatal(err)
	}
	acc := access.New(s)
	t.Cleanup(func() { acc.Close() })
	tokens := map[string]string{}
	for _, name := range []string{"bank", "cert", "admin", "stranger"} {
		if tokens[name], _, err = acc.NewToken(ctx, name, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(server.New(s, server.Options{MaxTLP: stix.TLPRed, Access: acc}))
	t.Cleanup(ts.Close)

	body := fmt.Sprintf(`{"addresses":[%q,%q,"nonsense"]}`, roninAddr, secretAddr)
	for who, want := range map[string][2]string{
		"":         {screen.None, screen.None}, // anonymous: the collection is not public
		"stranger": {screen.None, screen.None}, // cleared RED, but no grant
		"bank":     {screen.Severe, screen.None},
		"cert":     {screen.Severe, screen.None}, // RED, but neither creator nor recipient
		"admin":    {screen.Severe, screen.Severe},
	} {
		code, out := postScreen(t, ts.URL, tokens[who], body)
		if code != 200 || len(out.Results) != 3 {
			t.Fatalf("%q: %d %+v", who, code, out)
		}
		for i, r := range out.Results[:2] {
			if r.Risk != want[i] {
				t.Errorf("%q: %s risk %s, want %s (%+v)", who, r.Canonical, r.Risk, want[i], r.Reasons)
			}
		}
		if out.Results[2].Error == "" {
			t.Errorf("%q: invalid address without error", who)
		}
	}
	if code, _ := postScreen(t, ts.URL, "bwk_wrong", body); code != 401 {
		t.Errorf("bad token: %d", code)
	}
	for _, bad := range []string{`{"addresses":[]}`, `{"addresses":`, `[1,2]`,
		`{"addresses":[` + strings.TrimSuffix(strings.Repeat(`"x",`, screen.MaxBatch+1), ",") + `]}`} {
		if code, _ := postScreen(t, ts.URL, tokens["bank"], bad); code != 400 {
			t.Errorf("%.40s…: %d", bad, code)
		}
	}
	// A full batch is answered.
	full := `{"addresses":[` + strings.TrimSuffix(strings.Repeat(`"`+roninAddr+`",`, screen.MaxBatch), ",") + `]}`
	if code, out := postScreen(t, ts.URL, tokens["bank"], full); code != 200 || len(out.Results) != screen.MaxBatch || out.Results[screen.MaxBatch-1].Risk != screen.Severe {
		t.Errorf("full batch: %d, %d results", code, len(out.Results))
	}
	// A new listing reaches the API: the index refreshes in the
	// background.
	fresh := "0x2222222222222222222222222222222222222222"
	o, err := stix.FromMap(map[string]any{"type": "indicator", "spec_version": "2.1", "id": "indicator--0a1b2c3d-0000-4000-8000-0000000000f1",
		"created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z", "name": "fresh",
		"pattern": "[cryptocurrency-wallet:address = '" + fresh + "']", "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z",
		"labels": []string{"mixer"}, "object_marking_refs": []string{stix.TLP2Green}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, priv.ID, []store.PutItem{{Object: o}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, out := postScreen(t, ts.URL, tokens["bank"], fmt.Sprintf(`{"addresses":[%q]}`, fresh))
		if out.Results[0].Risk == screen.Medium {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the API never saw the new listing")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// BenchmarkScreenAPI runs the screening handler in process (no network):
// one organisation's token, the access decision, a one-address or a
// 1,000-address batch over the fixture store.
func BenchmarkScreenAPI(b *testing.B) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "s.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	c, _ := s.CreateCollection(ctx, store.Collection{Title: "c"})
	org, _ := s.CreateOrg(ctx, store.Org{Name: "bank", Clearance: stix.TLPAmber})
	if err := s.SetGrant(ctx, store.Grant{Collection: c.ID, Org: org.ID, Read: true}); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open("../lookup/testdata/actors.json")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := feed.Import(ctx, s, c.ID, stixfile.Format, feed.Source{Path: f.Name(), R: f}, 0); err != nil {
		b.Fatal(err)
	}
	f.Close()
	acc := access.New(s)
	defer acc.Close()
	tok, _, err := acc.NewToken(ctx, "bank", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	h := server.New(s, server.Options{MaxTLP: stix.TLPRed, Access: acc})
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("batch-%d", n), func(b *testing.B) {
			addrs := make([]string, n)
			for i := range addrs {
				addrs[i] = fmt.Sprintf("0x%040x", i*7919+1)
			}
			addrs[0] = roninAddr
			body, _ := json.Marshal(map[string]any{"addresses": addrs})
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", "/api/v1/screen", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 200 {
					b.Fatalf("%d %s", w.Code, w.Body.String())
				}
			}
		})
	}
}
