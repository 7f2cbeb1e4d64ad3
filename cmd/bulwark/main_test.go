package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/corpus"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// bulwark runs one command line in-process and returns its output.
func bulwark(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, stdin: strings.NewReader("")}
	err = run(context.Background(), e, args)
	return out.String(), errb.String(), err
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := bulwark(t, args...)
	if err != nil {
		t.Fatalf("bulwark %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

func TestUsage(t *testing.T) {
	if _, _, err := bulwark(t); !errors.Is(err, errUsage) {
		t.Errorf("no command: %v", err)
	}
	if _, _, err := bulwark(t, "frobnicate"); !errors.Is(err, errUsage) {
		t.Errorf("unknown command: %v", err)
	}
	if _, _, err := bulwark(t, "import"); !errors.Is(err, errUsage) {
		t.Errorf("import without paths: %v", err)
	}
	if _, _, err := bulwark(t, "export", "--max-tlp", "purple"); !errors.Is(err, errUsage) {
		t.Errorf("bad TLP: %v", err)
	}
}

// TestExportNeverLeaks imports objects at every TLP and checks that export
// gives GREEN and below by default, AMBER+STRICT and RED only when asked.
func TestExportTLP(t *testing.T) {
	db := filepath.Join(t.TempDir(), "e.db")
	mustRun(t, "import", "--db", db, "--quiet", "../../internal/lookup/testdata/actors.json")
	ids := func(args ...string) map[string]bool {
		out := mustRun(t, append([]string{"export", "--db", db}, args...)...)
		var b struct {
			Type    string
			Objects []struct{ ID string }
		}
		if err := json.Unmarshal([]byte(out), &b); err != nil {
			t.Fatalf("export is not JSON: %v", err)
		}
		m := map[string]bool{}
		for _, o := range b.Objects {
			m[o.ID] = true
		}
		return m
	}
	const red = "indicator--0a1b2c3d-0000-4000-8000-0000000000d3"
	const identity = "identity--0a1b2c3d-0000-4000-8000-000000000001" // unmarked: collection default AMBER
	def := ids()
	if def[red] || def[identity] {
		t.Errorf("default export holds RED or AMBER objects")
	}
	if !def["intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a"] || !def["marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"] {
		t.Errorf("default export lacks a CLEAR object or its marking definition")
	}
	if a := ids("--max-tlp", "amber"); a[red] || !a[identity] {
		t.Errorf("AMBER export: red=%v identity=%v", a[red], a[identity])
	}
	if r := ids("--max-tlp", "red"); !r[red] {
		t.Errorf("RED export lacks the RED object")
	}
}

// TestActorAcrossFeeds is the end-to-end check: after importing
// ATT&CK, the MISP galaxy, OFAC's lists and the GraphSense TagPacks,
// "Hidden Cobra" resolves to Lazarus Group with its ATT&CK techniques and
// its OFAC-listed wallets, the Ronin exploiter among them.
func TestActorAcrossFeeds(t *testing.T) {
	if testing.Short() {
		t.Skip("imports the corpus")
	}
	inputs := []string{
		"attack/enterprise-attack-stix20.json",
		"misp/misp-galaxy-threat-actor.json",
		"chain/ofac_0xB10C_lists",
		"chain/graphsense_tagpacks",
	}
	db := filepath.Join(t.TempDir(), "a.db")
	args := []string{"import", "--db", db, "--quiet"}
	for _, in := range inputs {
		args = append(args, corpus.Path(t, in))
	}
	mustRun(t, args...)
	out := mustRun(t, "actor", "--db", db, "--all", "Hidden Cobra")
	for _, want := range []string{
		"Lazarus Group (G0032)",
		"Diamond Sleet", "ZINC",
		"T1566.001", // Spearphishing Attachment, used by Lazarus in ATT&CK
		"0x098B716B8Aaf21512996dC57EB0615e2383E2f96",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("actor output lacks %q:\n%s", want, out)
		}
	}
	var ronin string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "0x098B716B8Aaf21512996dC57EB0615e2383E2f96") {
			ronin = line
		}
	}
	if !strings.Contains(ronin, "OFAC") {
		t.Errorf("the Ronin exploiter is not shown as OFAC-listed: %q", ronin)
	}
	js := mustRun(t, "actor", "--db", db, "--json", "hidden cobra")
	if !json.Valid([]byte(js)) {
		t.Errorf("--json output is not JSON")
	}
	sr := mustRun(t, "search", "--db", db, "0x098b716b8aaf21512996dc57eb0615e2383e2f96")
	if !strings.Contains(sr, "Lazarus") {
		t.Errorf("search of the Ronin address does not name Lazarus:\n%s", sr)
	}
	_ = os.Remove(db)
}

func TestOrgTokenCollection(t *testing.T) {
	db := filepath.Join(t.TempDir(), "o.db")
	mustRun(t, "org", "add", "KrCERT", "--clearance", "red", "--db", db)
	mustRun(t, "org", "add", "Upbit", "--clearance", "amber+strict", "--db", db)
	if _, _, err := bulwark(t, "org", "add", "Upbit", "--clearance", "amber", "--db", db); err == nil {
		t.Error("duplicate organisation accepted")
	}
	if _, _, err := bulwark(t, "org", "add", "X", "--clearance", "purple", "--db", db); !errors.Is(err, errUsage) {
		t.Errorf("bad clearance: %v", err)
	}
	out := mustRun(t, "token", "create", "Upbit", "--db", db)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	words := strings.Fields(lines[len(lines)-1])
	token := words[len(words)-1]
	if !strings.HasPrefix(token, "bwk_") || len(token) < 40 {
		t.Fatalf("token create printed %q", out)
	}
	list := mustRun(t, "token", "list", "Upbit", "--db", db)
	id := strings.Fields(list)[0]
	if strings.Contains(list, token) {
		t.Error("token list shows the secret")
	}
	mustRun(t, "token", "revoke", id, "--db", db)
	if !strings.Contains(mustRun(t, "token", "list", "Upbit", "--db", db), "revoked") {
		t.Error("token not revoked")
	}
	out = mustRun(t, "collection", "add", "DPRK crypto", "--read", "KrCERT,Upbit", "--write", "KrCERT", "--default-tlp", "green", "--db", db)
	if !strings.Contains(out, `"DPRK crypto"`) || !strings.Contains(out, "TLP:GREEN") {
		t.Errorf("collection add: %s", out)
	}
	if _, _, err := bulwark(t, "collection", "add", "Other", "--read", "Nobody", "--db", db); err == nil {
		t.Error("collection with an unknown organisation accepted")
	}
	if strings.Contains(mustRun(t, "collection", "list", "--db", db), "Other") {
		t.Error("a failed collection add left a collection behind")
	}
	mustRun(t, "audit", "--db", db)
}

func TestScan(t *testing.T) {
	dir := t.TempDir()
	ind := filepath.Join(dir, "iocs.csv")
	if err := os.WriteFile(ind, []byte("value,type,actor,tlp\ncelasllc.com,domain,Lazarus Group,green\n10.9.8.7,ip,Lazarus Group,green\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logf := filepath.Join(dir, "dns.json")
	lines := `{"ts":1700000000.1,"id.orig_h":"192.168.1.5","query":"update.celasllc.com","qtype_name":"A"}
{"ts":1700000001.1,"id.orig_h":"192.168.1.6","query":"notcelasllc.com","qtype_name":"A"}
not json at all
{"ts":1700000002.1,"id.orig_h":"10.9.8.70","query":"example.org","qtype_name":"A"}
`
	if err := os.WriteFile(logf, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := bulwark(t, "scan", "--indicators", ind, logf)
	if err != nil {
		t.Fatalf("scan: %v\n%s", err, errOut)
	}
	hits := strings.Split(strings.TrimSpace(out), "\n")
	if len(hits) != 1 || !strings.Contains(hits[0], "update.celasllc.com") || !strings.Contains(hits[0], "Lazarus Group") {
		t.Errorf("hits:\n%s\nsummary:\n%s", out, errOut)
	}
	if !strings.Contains(errOut, "1 malformed") {
		t.Errorf("summary does not count the malformed line:\n%s", errOut)
	}
	// Sightings go to a bundle and to the local store.
	bundle := filepath.Join(dir, "sightings.json")
	db := filepath.Join(dir, "s.db")
	mustRun(t, "scan", "--indicators", ind, "--identity", "Upbit SOC", "--sightings", bundle, logf)
	b, err := os.ReadFile(bundle)
	if err != nil || !strings.Contains(string(b), `"type":"sighting"`) || !strings.Contains(string(b), `"count":1`) || !strings.Contains(string(b), stix.TLP2Amber) {
		t.Errorf("sightings bundle: %v %s", err, b)
	}
	mustRun(t, "scan", "--indicators", ind, "--identity", "Upbit SOC", "--sightings", "store", "--db", db, logf)
	if out := mustRun(t, "export", "--db", db, "--max-tlp", "amber", "--type", "sighting"); !strings.Contains(out, "update.celasllc.com") && !strings.Contains(out, `"sighting_of_ref"`) {
		t.Errorf("stored sightings: %s", out)
	}
}

func TestScreenCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	mustRun(t, "import", "--db", db, "--quiet", "../../internal/lookup/testdata/actors.json")
	out := mustRun(t, "screen", "--db", db, "0x098b716b8aaf21512996dc57eb0615e2383e2f96", "0x2222222222222222222222222222222222222222", "bogus")
	for _, want := range []string{"SEVERE   0x098b716b8aaf21512996dc57eb0615e2383e2f96", "attributed to LAZARUS GROUP", "NONE     0x2222222222222222222222222222222222222222", "bogus  invalid"} {
		if !strings.Contains(out, want) {
			t.Errorf("screen output lacks %q:\n%s", want, out)
		}
	}
	js := mustRun(t, "screen", "--db", db, "--json", "0x098b716b8aaf21512996dc57eb0615e2383e2f96")
	if !strings.Contains(js, `"risk": "severe"`) {
		t.Errorf("--json: %s", js)
	}
}
