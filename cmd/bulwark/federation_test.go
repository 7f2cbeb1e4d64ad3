package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startHub runs `bulwark serve` in-process until the test ends; extra
// flags go after the others.
func startHub(t *testing.T, db string, tls bool, extra ...string) string {
	t.Helper()
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args := []string{"serve", "--db", db, "--listen", addr}
	scheme := "https"
	if !tls {
		args = append(args, "--insecure-http")
		scheme = "http"
	}
	args = append(args, extra...)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, &env{stdout: &out, stderr: &bytes.Buffer{}, stdin: strings.NewReader("")}, args)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub %s: %v", addr, err)
		}
	})
	url := scheme + "://" + addr
	cl := httpClient(true)
	for i := 0; i < 100; i++ {
		if resp, err := cl.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("hub on %s did not start", addr)
	return ""
}

func tokenOf(t *testing.T, out string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	w := strings.Fields(lines[len(lines)-1])
	return w[len(w)-1]
}

// bundleAt writes a bundle with one indicator at each TLP (and an unmarked
// one), ids derived from prefix, created by the given identity.
func bundleAt(t *testing.T, dir, prefix, creator string) (string, map[string]string) {
	t.Helper()
	ids := map[string]string{}
	var objs []string
	for i, level := range []string{"clear", "green", "amber", "amber+strict", "red", "none"} {
		id := fmt.Sprintf("indicator--%s-0000-4000-8000-%012d", prefix, i+1)
		ids[level] = id
		marking := ""
		if level != "none" {
			tl, _ := stix.ParseTLP(level)
			marking = fmt.Sprintf(`,"object_marking_refs":[%q]`, tl.MarkingID())
		}
		objs = append(objs, fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2025-02-21T14:13:00.000Z","modified":"2025-02-21T14:13:00.000Z","name":"Bybit laundering wallet %s","pattern":"[cryptocurrency-wallet:value = '0x%040d']","pattern_type":"stix","valid_from":"2025-02-21T14:13:00Z","created_by_ref":%q%s}`,
			id, level, i+1, creator, marking))
	}
	p := filepath.Join(dir, prefix+".json")
	b := `{"type":"bundle","id":"bundle--` + prefix + `-0000-4000-8000-000000000000","objects":[` + strings.Join(objs, ",") + `]}`
	if err := os.WriteFile(p, []byte(b), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, ids
}

func collectionIDs(t *testing.T, db, coll string) map[string]string {
	t.Helper()
	s, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	page, err := s.Query(context.Background(), store.Query{Collection: coll, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, r := range page.Records {
		m[r.Object.ID] = string(r.Object.Raw)
	}
	return m
}

// TestFederation runs a US and a ROK hub on loopback: the ROK hub pulls
// the US collection it is cleared for (AMBER) and pushes its own findings
// back at GREEN; markings arrive intact and nothing restricted crosses.
func TestFederation(t *testing.T) {
	dir := t.TempDir()
	usDB, rokDB := filepath.Join(dir, "us", "b.db"), filepath.Join(dir, "rok", "b.db")

	// The US hub: its own CERT, and an account for the ROK hub (KISA).
	out := mustRun(t, "org", "add", "US-CERT", "--clearance", "red", "--db", usDB)
	usIdentity := out[strings.Index(out, "identity--"):]
	usIdentity = strings.TrimSpace(usIdentity)
	mustRun(t, "org", "add", "KISA", "--clearance", "amber", "--db", usDB)
	mustRun(t, "collection", "add", "dprk-crypto", "--read", "US-CERT,KISA", "--write", "US-CERT,KISA", "--db", usDB)
	kisaToken := tokenOf(t, mustRun(t, "token", "create", "KISA", "--db", usDB))
	usBundle, usIDs := bundleAt(t, dir, "aaaaaaaa", usIdentity)
	mustRun(t, "import", "--db", usDB, "--collection", "dprk-crypto", "--quiet", usBundle)

	// The ROK hub's own findings, created by its own identity.
	rokBundle, rokIDs := bundleAt(t, dir, "bbbbbbbb", "identity--0b0b0b0b-0000-4000-8000-000000000001")
	mustRun(t, "import", "--db", rokDB, "--collection", "rok-findings", "--quiet", rokBundle)

	us := startHub(t, usDB, true)
	startHub(t, rokDB, false)

	// Pull: KISA is cleared AMBER on the US hub.
	mustRun(t, "pull", us, "--collection", "dprk-crypto", "--token", kisaToken, "--into", "from-us", "--db", rokDB, "--insecure-skip-verify")
	got := collectionIDs(t, rokDB, "from-us")
	usRaw := collectionIDs(t, usDB, "dprk-crypto")
	for level, id := range usIDs {
		want := level == "clear" || level == "green" || level == "amber" || level == "none" // unmarked: default AMBER
		if _, ok := got[id]; ok != want {
			t.Errorf("pull: %s object crossed=%v, want %v", level, ok, want)
		}
		if ok := got[id] != ""; ok && got[id] != usRaw[id] {
			t.Errorf("pull changed %s:\n%s\n%s", id, got[id], usRaw[id])
		}
	}
	// A second pull resumes from the saved cursor and brings nothing new.
	_, errOut, err := bulwark(t, "pull", us, "--collection", "dprk-crypto", "--token", kisaToken, "--into", "from-us", "--db", rokDB, "--insecure-skip-verify")
	if err != nil || !strings.Contains(errOut, "pulled 0 objects") {
		t.Errorf("second pull: %v %s", err, errOut)
	}

	// Push: at most GREEN, never AMBER+STRICT or RED.
	if _, _, err := bulwark(t, "push", us, "--collection", "dprk-crypto", "--max-tlp", "red", "--token", kisaToken, "--db", rokDB); err == nil {
		t.Error("push --max-tlp red accepted")
	}
	out = mustRun(t, "push", us, "--collection", "dprk-crypto", "--token", kisaToken, "--from", "rok-findings", "--db", rokDB, "--insecure-skip-verify")
	if !strings.Contains(out, "2 succeeded") {
		t.Errorf("push: %s", out)
	}
	after := collectionIDs(t, usDB, "dprk-crypto")
	for level, id := range rokIDs {
		want := level == "clear" || level == "green"
		if _, ok := after[id]; ok != want {
			t.Errorf("push: %s object crossed=%v, want %v", level, ok, want)
		}
	}
	// A scan at the ROK side reports its sightings to the US hub.
	logf := filepath.Join(dir, "dns.json")
	if err := os.WriteFile(logf, []byte(`{"ts":1740146000.5,"query":"x","answers":["0x0000000000000000000000000000000000000001"]}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	iocs := filepath.Join(dir, "iocs.txt")
	if err := os.WriteFile(iocs, []byte("0x0000000000000000000000000000000000000001\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, err = bulwark(t, "scan", "--indicators", iocs, "--format", "text", "--identity", "KISA SOC",
		"--push", us, "--push-collection", "dprk-crypto", "--token", kisaToken, "--insecure-skip-verify", logf)
	if err != nil || !strings.Contains(errOut, "0 failed") {
		t.Errorf("scan --push: %v\n%s", err, errOut)
	}
	var sightings int
	for _, raw := range collectionIDs(t, usDB, "dprk-crypto") {
		if strings.Contains(raw, `"type":"sighting"`) {
			sightings++
		}
	}
	if sightings != 1 {
		t.Errorf("the US hub holds %d sightings, want 1", sightings)
	}

	// A bad token is refused, not treated as anonymous.
	if _, _, err := bulwark(t, "pull", us, "--collection", "dprk-crypto", "--token", "bwk_nope", "--into", "x", "--db", rokDB, "--insecure-skip-verify"); err == nil {
		t.Error("pull with a bad token succeeded")
	}
}
