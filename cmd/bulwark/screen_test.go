package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
	"github.com/bulwark-intel/bulwark/internal/chain/screen"
	"github.com/bulwark-intel/bulwark/internal/chain/source"
)

// screen --graph adds indirect exposure through a transfer file or a
// snapshot: an address paid by the Ronin exploiter, and one paid by that
// one, screen high with the path.
func TestScreenCommandGraph(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	mustRun(t, "import", "--db", db, "--quiet", "../../internal/lookup/testdata/actors.json")
	const (
		ronin = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
		one   = "0x3333333333333333333333333333333333333333"
		two   = "0x4444444444444444444444444444444444444444"
		clean = "0x5555555555555555555555555555555555555555"
	)
	csv := "Timestamp,Block,Tx_hash,From,From_label,To,To_label,Value_in_USD\n" +
		"2022-03-29 10:00:00,100,0x" + strings.Repeat("a", 64) + "," + ronin + ",Ronin exploiter," + one + ",,1000\n" +
		"2022-03-29 11:00:00,101,0x" + strings.Repeat("b", 64) + "," + clean + ",," + one + ",,1000\n" +
		"2022-03-29 12:00:00,102,0x" + strings.Repeat("c", 64) + "," + one + ",," + two + ",,500\n"
	gt := filepath.Join(dir, "flows.csv")
	if err := os.WriteFile(gt, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "screen", "--db", db, "--graph", gt, one, two, clean)
	for _, want := range []string{
		"HIGH     " + one, "50% of its inflow traces back to " + ronin,
		"HIGH     " + two, ronin + " → " + one, one + " → " + two, "tx 0x" + strings.Repeat("c", 64),
		"NONE     " + clean,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The same through a snapshot, as JSON.
	b := graph.NewBuilder()
	if _, err := loadForTest(t, gt, b); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, "g.snap")
	f, err := os.Create(snap)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Build().WriteSnapshot(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	js := mustRun(t, "screen", "--db", db, "--graph", snap, "--hops", "1", "--json", one, two)
	var res []screen.Result
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		t.Fatal(err)
	}
	if res[0].Risk != screen.High || res[0].Reasons[0].Indirect == nil || res[0].Reasons[0].Indirect.Share != 0.5 {
		t.Errorf("one hop: %+v", res[0])
	}
	if res[1].Risk != screen.None {
		t.Errorf("two hops away with --hops 1: %+v", res[1])
	}
	for _, bad := range [][]string{{"--graph", gt, "--hops", "0"}, {"--graph", gt, "--high", "0.01", "--medium", "0.5"}, {"--graph", gt, "--budget", "0"}, {"--graph", filepath.Join(dir, "missing")}} {
		args := append([]string{"screen", "--db", db}, bad...)
		args = append(args, one)
		if _, _, err := bulwark(t, args...); err == nil {
			t.Errorf("%v accepted", bad)
		} else if len(bad) > 2 && !errors.Is(err, errUsage) {
			t.Errorf("%v: %v, want a usage error", bad, err)
		}
	}
}

func loadForTest(t *testing.T, path string, b *graph.Builder) (source.Stats, error) {
	t.Helper()
	return source.Load(t.Context(), path, b)
}

// serve --graph answers indirect exposure over POST /api/v1/screen, for an
// organisation that may read the listing, and the index is loaded at start.
func TestServeScreenGraph(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	const (
		ronin = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
		one   = "0x3333333333333333333333333333333333333333"
		two   = "0x4444444444444444444444444444444444444444"
	)
	csv := "Timestamp,Block,Tx_hash,From,From_label,To,To_label,Value_in_USD\n" +
		"2022-03-29 10:00:00,100,0x" + strings.Repeat("a", 64) + "," + ronin + ",Ronin exploiter," + one + ",,1000\n" +
		"2022-03-29 12:00:00,102,0x" + strings.Repeat("c", 64) + "," + one + ",," + two + ",,500\n"
	gt := filepath.Join(dir, "flows.csv")
	if err := os.WriteFile(gt, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "org", "add", "exchange", "--clearance", "amber", "--db", db)
	mustRun(t, "collection", "add", "wallets", "--read", "exchange", "--default-tlp", "clear", "--db", db)
	mustRun(t, "import", "--db", db, "--quiet", "--collection", "wallets", "../../internal/lookup/testdata/actors.json")
	token := tokenOf(t, mustRun(t, "token", "create", "exchange", "--db", db))
	url := startHub(t, db, false, "--graph", gt, "--hops", "2")

	post := func(tok string) []screen.Result {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, url+"/api/v1/screen", strings.NewReader(`{"addresses":["`+one+`","`+two+`","`+ronin+`"]}`))
		if err != nil {
			t.Fatal(err)
		}
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Results []screen.Result `json:"results"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || len(out.Results) != 3 {
			t.Fatalf("status %d, %d results, %v", resp.StatusCode, len(out.Results), err)
		}
		return out.Results
	}
	res := post(token)
	if res[2].Risk != screen.Severe {
		t.Errorf("the listed address: %+v", res[2])
	}
	for i, want := range []float64{1, 1} {
		r := res[i]
		if r.Risk != screen.High || len(r.Reasons) == 0 || r.Reasons[0].Indirect == nil || r.Reasons[0].Indirect.Share != want {
			t.Errorf("%d hop(s) downstream: %+v", i+1, r)
		}
	}
	// Anonymous: the listing is in a collection only the exchange reads,
	// so neither it nor exposure through it shows.
	for _, r := range post("") {
		if r.Risk != screen.None || len(r.Reasons) != 0 {
			t.Errorf("anonymous sees %+v", r)
		}
	}
}

// An address file with a byte-order mark, CRLF ends, a comment and a line
// longer than any address: every line is screened, the long one as
// invalid, and the run goes on.
func TestScreenAddressFile(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	mustRun(t, "import", "--db", db, "--quiet", "../../internal/lookup/testdata/actors.json")
	const ronin = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"
	body := "\ufeff" + ronin + "\r\n# a comment\r\n" + strings.Repeat("x", 100<<10) + "\n0x5555555555555555555555555555555555555555"
	path := filepath.Join(dir, "addrs.txt")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var res []screen.Result
	out, errOut, _ := bulwark(t, "screen", "--db", db, "--json", "--file", path)
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out, errOut)
	}
	if len(res) != 3 {
		t.Fatalf("%d results, want 3: %+v", len(res), res)
	}
	if res[0].Canonical != ronin || res[0].Risk != screen.Severe {
		t.Errorf("first line (after the byte-order mark): %+v", res[0])
	}
	if res[1].Error == "" || !strings.Contains(res[1].Input, "line 3: over 65536 bytes") {
		t.Errorf("the long line: %+v", res[1])
	}
	if res[2].Error != "" || res[2].Risk != screen.None {
		t.Errorf("the line after it: %+v", res[2])
	}
}
