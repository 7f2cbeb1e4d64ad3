package misp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/corpus"
	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// result is what one read yielded.
type result struct {
	objs    []*stix.Object
	byID    map[string]*stix.Object
	rejects []*feed.LineError
	err     error
}

func (r *result) ofType(typ string) []*stix.Object {
	var out []*stix.Object
	for _, o := range r.objs {
		if o.Type == typ {
			out = append(out, o)
		}
	}
	return out
}

// rejected returns the reject whose field is f, or nil.
func (r *result) rejected(f string) *feed.LineError {
	for _, e := range r.rejects {
		if e.Field == f {
			return e
		}
	}
	return nil
}

// hasRel reports whether a relationship src -typ-> dst was yielded.
func (r *result) hasRel(src, typ, dst string) bool {
	for _, o := range r.ofType("relationship") {
		if o.String("source_ref") == src && o.String("relationship_type") == typ && o.String("target_ref") == dst {
			return true
		}
	}
	return false
}

func collect(t testing.TB, read func(feed.Yield) error) *result {
	t.Helper()
	r := &result{byID: map[string]*stix.Object{}}
	r.err = read(func(it feed.Item) error {
		if it.Err != nil {
			var le *feed.LineError
			if !errors.As(it.Err, &le) {
				t.Errorf("reject is not a LineError: %v", it.Err)
				return nil
			}
			r.rejects = append(r.rejects, le)
			return nil
		}
		if it.Object == nil {
			t.Errorf("item with neither object nor error")
			return nil
		}
		if err := stix.Validate(it.Object); err != nil {
			t.Errorf("yielded invalid %s: %v", it.Object.ID, err)
		}
		// An object may recur across the events of a feed, but identically.
		if prev, dup := r.byID[it.Object.ID]; dup && !bytes.Equal(prev.Raw, it.Object.Raw) {
			t.Errorf("object %s yielded twice with different content", it.Object.ID)
		}
		r.objs = append(r.objs, it.Object)
		r.byID[it.Object.ID] = it.Object
		return nil
	})
	return r
}

func readPath(t testing.TB, f feed.Format, p string, src feed.Source) *result {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	src.Path, src.R = p, bytes.NewReader(data)
	return collect(t, func(y feed.Yield) error { return f.Read(context.Background(), src, y) })
}

func readBytes(t testing.TB, f feed.Format, data []byte) *result {
	t.Helper()
	return collect(t, func(y feed.Yield) error {
		return f.Read(context.Background(), feed.Source{Path: "test.json", R: bytes.NewReader(data)}, y)
	})
}

const (
	esetEvent   = "report--72f7a401-5a65-4977-8f43-4c34dda37b2f"
	lazarusMISP = "intrusion-set--68391641-859f-4a9a-9a1e-3e5cf71ec376"
	lazarusATTK = "intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a"
	kimsukyMISP = "intrusion-set--bcaaad6f-0597-4b89-b69b-84a6be2b7bc3"
)

func TestESETEvent(t *testing.T) {
	p := corpus.Path(t, "detect/iocs/eset/nukesped_lazarus_lazarus_3cx.json")
	// The event carries no tlp: tag, so the source's TLP applies.
	r := readPath(t, Event, p, feed.Source{TLP: stix.TLPGreen})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.rejects) != 0 {
		t.Errorf("rejects: %v", r.rejects)
	}
	// 4 file objects (combined) + 3 url objects with to_ids; the 5
	// domain-ip objects are to_ids false and become SCOs.
	inds := r.ofType("indicator")
	if len(inds) != 7 {
		t.Errorf("indicators = %d, want 7", len(inds))
	}
	for _, want := range []struct{ id, pattern string }{
		{"indicator--2e4f2318-f3e1-4b04-9b3c-2bc40639ef50", "[file:name = 'guiconfigd' AND file:hashes.MD5 = 'cedb9cdbad254f60cfb215b9bff84fb9' AND file:hashes.'SHA-1' = '0ca1723afe261cd85b05c9ef424fc50290dce7df' AND file:hashes.'SHA-256' = 'eebb01932de0b5605dd460cc82844d8693c00ea8ab5ffdf8dbede6528c1c18fd']"},
		{"indicator--cd3132e3-c104-48f6-afa7-d7ae37be872f", "[url:value = 'https://journalide.org/djour.php']"},
		{"indicator--11613aac-99c6-4b67-ac35-f9aaa017c6c4", "[url:value = 'tcp://23.254.211.230']"},
	} {
		o := r.byID[want.id]
		if o == nil {
			t.Errorf("missing %s", want.id)
			continue
		}
		if got := o.String("pattern"); got != want.pattern {
			t.Errorf("%s pattern = %s, want %s", want.id, got, want.pattern)
		}
		if o.EffectiveTLP() != stix.TLPGreen {
			t.Errorf("%s TLP = %v, want green", want.id, o.EffectiveTLP())
		}
		if !r.hasRel(want.id, "indicates", lazarusMISP) {
			t.Errorf("no %s indicates Lazarus", want.id)
		}
	}
	if v := r.byID["indicator--2e4f2318-f3e1-4b04-9b3c-2bc40639ef50"].String("valid_from"); v != "2023-04-14T14:32:50.000Z" {
		t.Errorf("valid_from = %s", v)
	}
	// to_ids false: an SCO, not an indicator.
	var domains []string
	for _, o := range r.ofType("domain-name") {
		domains = append(domains, o.String("value"))
	}
	slices.Sort(domains)
	if !slices.Equal(domains, []string{"journalide.org", "od.lk"}) {
		t.Errorf("domain SCOs = %v", domains)
	}
	if n := len(r.ofType("ipv4-addr")); n != 3 { // 23.254.211.230 appears twice
		t.Errorf("ipv4 SCOs = %d, want 3", n)
	}

	rep := r.byID[esetEvent]
	if rep == nil {
		t.Fatal("no report")
	}
	if rep.String("name") != "Linux malware strengthen links between Lazarus and the 3CX supply-chain attack" {
		t.Errorf("report name %q", rep.String("name"))
	}
	eset := stix.DeterministicID("identity", "eset")
	if rep.CreatedByRef != eset || r.byID[eset] == nil || r.byID[eset].String("name") != "ESET" {
		t.Errorf("report created_by_ref %q, identity %v", rep.CreatedByRef, r.byID[eset])
	}
	if rep.String("published") != "2023-04-20T00:00:00.000Z" || rep.String("modified") != "2023-04-20T09:30:00.000Z" {
		t.Errorf("report published %s modified %s", rep.String("published"), rep.String("modified"))
	}
	if rep.EffectiveTLP() != stix.TLPGreen {
		t.Errorf("report TLP %v", rep.EffectiveTLP())
	}
	refs := rep.Strings("object_refs")
	for _, o := range r.objs {
		if o.Type != "report" && o.Type != "identity" && !slices.Contains(refs, o.ID) {
			t.Errorf("report does not reference %s", o.ID)
		}
	}

	laz := r.byID[lazarusMISP]
	if laz == nil || laz.String("name") != "Lazarus Group" || !slices.Contains(laz.Strings("aliases"), "Hidden Cobra") {
		t.Fatalf("Lazarus intrusion-set: %v", laz)
	}
	if !r.hasRel(lazarusMISP, "related-to", lazarusATTK) {
		t.Error("no related-to from the MISP Lazarus cluster to ATT&CK's")
	}
	aps := r.ofType("attack-pattern")
	if len(aps) != 20 {
		t.Errorf("attack-patterns = %d, want 20", len(aps))
	}
	t1140 := r.byID["attack-pattern--3ccef7ae-cb5e-48f6-8302-897105fbf55c"]
	if t1140 == nil || t1140.String("name") != "Deobfuscate/Decode Files or Information" ||
		len(t1140.ExternalReferences) == 0 || t1140.ExternalReferences[0].ExternalID != "T1140" {
		t.Errorf("T1140: %v", t1140)
	} else if !r.hasRel(lazarusMISP, "uses", t1140.ID) {
		t.Error("no Lazarus uses T1140")
	}

	// Idempotent: a second read yields byte-identical objects.
	r2 := readPath(t, Event, p, feed.Source{TLP: stix.TLPGreen})
	if len(r2.objs) != len(r.objs) {
		t.Fatalf("second read: %d objects, first %d", len(r2.objs), len(r.objs))
	}
	for i := range r.objs {
		if !bytes.Equal(r.objs[i].Raw, r2.objs[i].Raw) {
			t.Errorf("object %s differs between reads", r.objs[i].ID)
		}
	}
}

func TestGalaxyThreatActor(t *testing.T) {
	p := corpus.Path(t, "misp/misp-galaxy-threat-actor.json")
	r := readPath(t, Galaxy, p, feed.Source{})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.rejects) != 0 {
		t.Errorf("rejects: %v", r.rejects)
	}
	sets := r.ofType("intrusion-set")
	if len(sets) != 1041 {
		t.Errorf("intrusion-sets = %d, want 1041", len(sets))
	}
	kp := 0
	for _, o := range sets {
		if o.String("x_bulwark_country") == "KP" {
			kp++
		}
	}
	if kp != 26 {
		t.Errorf("KP actors = %d, want 26", kp)
	}
	laz := r.byID[lazarusMISP]
	if laz == nil || laz.String("name") != "Lazarus Group" {
		t.Fatalf("Lazarus: %v", laz)
	}
	for _, a := range []string{"Hidden Cobra", "Diamond Sleet", "ZINC", "APT38", "Bluenoroff"} {
		if !slices.Contains(laz.Strings("aliases"), a) {
			t.Errorf("Lazarus aliases lack %q", a)
		}
	}
	var gids []string
	for _, e := range laz.ExternalReferences {
		if e.SourceName == "mitre-attack" {
			gids = append(gids, e.ExternalID)
		}
	}
	if !slices.Contains(gids, "G0032") {
		t.Errorf("Lazarus mitre-attack refs = %v, want G0032", gids)
	}
	if !r.hasRel(lazarusMISP, "related-to", lazarusATTK) {
		t.Error("no related-to Lazarus -> ATT&CK Lazarus")
	}
	kpLoc := stix.DeterministicID("location", "country", "KP")
	if r.byID[kpLoc] == nil || !r.hasRel(lazarusMISP, "originates-from", kpLoc) {
		t.Error("no KP location / originates-from")
	}
	kim := r.byID[kimsukyMISP]
	if kim == nil || kim.String("name") != "Kimsuky" || slices.Contains(laz.Strings("aliases"), "Kimsuky") {
		t.Errorf("Kimsuky should be its own intrusion-set: %v", kim)
	}
	// A UUIDv7 cluster (STIX takes versions 1-5 only) gets a derived id.
	stac := stix.DeterministicID("intrusion-set", "misp-uuid", "019514dc-c894-751f-8cfd-ff2b932ff451")
	if o := r.byID[stac]; o == nil || o.String("name") != "STAC5143" {
		t.Errorf("STAC5143 (UUIDv7) missing: %v", o)
	}
	// Dates come from the galaxy version, so a re-import is unchanged.
	if laz.String("modified") != "2016-01-01T00:05:49.000Z" {
		t.Errorf("Lazarus modified = %s (want epoch + 349 s)", laz.String("modified"))
	}
}

func TestEventFixture(t *testing.T) {
	r := readPath(t, Event, "testdata/event_fixture.json", feed.Source{TLP: stix.TLPGreen})
	if r.err != nil {
		t.Fatal(r.err)
	}
	const pre = "indicator--5e0c8a3e-1d2b-4c6f-9a1b-0000000000"
	actor := "intrusion-set--5e0c8a3e-1d2b-4c6f-9a1b-000000000050"
	locker := "malware--5e0c8a3e-1d2b-4c6f-9a1b-000000000051"
	tests := []struct {
		id, pattern string
		tlp         stix.TLP
	}{
		{pre + "10", "[ipv4-addr:value = '198.51.100.7']", stix.TLPAmber},
		{pre + "11", "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '198.51.100.8' AND network-traffic:dst_port = 8443]", stix.TLPAmber},
		{pre + "12", "[domain-name:value = 'update-check.example.net']", stix.TLPAmber},
		{pre + "13", "[domain-name:value = 'c2.example.org']", stix.TLPRed}, // attribute tag overrides
		{pre + "14", `[url:value = 'https://cdn.example.com/it\'s/payload.bin']`, stix.TLPAmber},
		{pre + "15", "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']", stix.TLPAmber},
		{pre + "18", "[file:name = 'wallet.exe' AND file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']", stix.TLPAmber},
		{pre + "19", "[email-addr:value = 'recruiter@example.com']", stix.TLPClear},
		{pre + "1a", "[cryptocurrency-wallet:value = '1BoatSLRHtKNngkdXEeobR76b53LETtpyT']", stix.TLPAmber},
		{pre + "1b", "[cryptocurrency-wallet:value = '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A']", stix.TLPAmber},
		{pre + "22", "[ipv6-addr:value = '2001:db8::1']", stix.TLPAmber},
		{pre + "30", "[file:name = 'loader.dll' AND file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' AND file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']", stix.TLPAmber},
		{pre + "41", "[domain-name:value = 'login.example.io']", stix.TLPAmber},
	}
	for _, tc := range tests {
		o := r.byID[tc.id]
		if o == nil {
			t.Errorf("missing %s", tc.id)
			continue
		}
		if got := o.String("pattern"); got != tc.pattern {
			t.Errorf("%s pattern\n got %s\nwant %s", tc.id, got, tc.pattern)
		}
		if o.EffectiveTLP() != tc.tlp {
			t.Errorf("%s TLP %v, want %v", tc.id, o.EffectiveTLP(), tc.tlp)
		}
		for _, target := range []string{actor, locker} {
			if !r.hasRel(tc.id, "indicates", target) {
				t.Errorf("no %s indicates %s", tc.id, target)
			}
		}
	}
	if n := len(r.ofType("indicator")); n != len(tests) {
		t.Errorf("indicators = %d, want %d", n, len(tests))
	}
	// The file object's valid_from is its latest attribute's timestamp.
	if v := r.byID[pre+"30"].String("valid_from"); v != "2023-11-14T22:15:00.000Z" {
		t.Errorf("file object valid_from %s", v)
	}
	for _, f := range []struct{ field, contains string }{
		{"Event.Attribute[6].value", "SHA-256 must be 64 hex digits"},
		{"Event.Attribute[7].value", "not an IP address"},
		{"Event.Attribute[12].type", `unsupported MISP attribute type "frobnicate"`},
		{"Event.Attribute[13].value", "wrong JSON type"},
	} {
		e := r.rejected(f.field)
		if e == nil || !strings.Contains(e.Error(), f.contains) {
			t.Errorf("reject %s: got %v, want one containing %q", f.field, e, f.contains)
		}
	}
	if len(r.rejects) != 4 {
		t.Errorf("rejects = %v, want 4", r.rejects)
	}
	// to_ids false -> SCOs carrying the marking; deleted and text skipped.
	for _, v := range []string{"benign-share.example"} {
		id, _ := stix.SCOID("domain-name", map[string]any{"value": v})
		if o := r.byID[id]; o == nil || o.EffectiveTLP() != stix.TLPAmber {
			t.Errorf("SCO %s: %v", v, o)
		}
	}
	ipID, _ := stix.SCOID("ipv4-addr", map[string]any{"value": "203.0.113.9"})
	if r.byID[ipID] == nil {
		t.Error("domain-ip object's to_ids false ip is not an SCO")
	}
	for _, o := range r.objs {
		if strings.Contains(string(o.Raw), "deleted.example") {
			t.Errorf("deleted attribute imported: %s", o.ID)
		}
	}
	if r.byID[actor] == nil || !slices.Contains(r.byID[actor].Strings("aliases"), "Fake Chollima") {
		t.Errorf("actor: %v", r.byID[actor])
	}
	if r.byID[locker] == nil || string(r.byID[locker].Prop("is_family")) != "true" {
		t.Errorf("malware: %v", r.byID[locker])
	}
	if !r.hasRel(actor, "uses", locker) {
		t.Error("no actor uses malware")
	}
	rep := r.byID["report--5e0c8a3e-1d2b-4c6f-9a1b-000000000001"]
	if rep == nil {
		t.Fatal("no report")
	}
	if rep.EffectiveTLP() != stix.TLPAmber || rep.String("published") != "2024-03-01T16:20:00.000Z" ||
		!slices.Equal(rep.Labels, []string{"dprk"}) {
		t.Errorf("report: %s", rep.Raw)
	}
	if len(rep.ExternalReferences) != 2 || rep.ExternalReferences[1].URL != "https://example.org/blog/report" {
		t.Errorf("report external refs %v", rep.ExternalReferences)
	}
	if rep.CreatedByRef != stix.DeterministicID("identity", "bulwark test org") {
		t.Errorf("report creator %s", rep.CreatedByRef)
	}
}

func TestEventWrappers(t *testing.T) {
	data, err := os.ReadFile("testdata/event_fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	inner := []byte(m["Event"])
	base := readBytes(t, Event, data)
	for name, doc := range map[string][]byte{
		"bare":     inner,
		"response": append(append([]byte(`{"response":[{"Event":`), inner...), []byte(`}]}`)...),
	} {
		t.Run(name, func(t *testing.T) {
			r := readBytes(t, Event, doc)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if len(r.objs) != len(base.objs) || len(r.rejects) != len(base.rejects) {
				t.Errorf("%d objects %d rejects, want %d and %d", len(r.objs), len(r.rejects), len(base.objs), len(base.rejects))
			}
			if name == "response" && r.rejected("response[0].Event.Attribute[7].value") == nil {
				t.Errorf("reject fields lack the response path: %v", r.rejects)
			}
		})
	}
}

func TestFeedDir(t *testing.T) {
	check := func(t *testing.T, r *result) {
		t.Helper()
		if r.err != nil {
			t.Fatal(r.err)
		}
		if n := len(r.ofType("report")); n != 2 {
			t.Errorf("reports = %d, want 2", n)
		}
		if n := len(r.ofType("indicator")); n != 3 {
			t.Errorf("indicators = %d, want 3", n)
		}
		one := r.byID["indicator--6a1f0c2d-3b4e-4f50-8a61-000000000011"]
		two := r.byID["indicator--6a1f0c2d-3b4e-4f50-8a61-000000000021"]
		if one == nil || one.EffectiveTLP() != stix.TLPGreen || two == nil || two.EffectiveTLP() != stix.TLPClear {
			t.Errorf("feed indicators: %v %v", one, two)
		}
		if len(r.rejects) != 0 {
			t.Errorf("rejects %v", r.rejects)
		}
	}
	t.Run("ReadFeedDir", func(t *testing.T) {
		check(t, collect(t, func(y feed.Yield) error {
			return ReadFeedDir(context.Background(), "testdata/feed", feed.Source{}, y)
		}))
	})
	t.Run("manifest via Read", func(t *testing.T) {
		check(t, readPath(t, Event, "testdata/feed/manifest.json", feed.Source{}))
	})
	t.Run("missing event file", func(t *testing.T) {
		dir := t.TempDir()
		m, _ := os.ReadFile("testdata/feed/manifest.json")
		m = bytes.Replace(m, []byte(`{`), []byte(`{"6a1f0c2d-3b4e-4f50-8a61-00000000dead": {"info": "gone"},`), 1)
		if err := os.WriteFile(filepath.Join(dir, "manifest.json"), m, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, u := range []string{"6a1f0c2d-3b4e-4f50-8a61-000000000001", "6a1f0c2d-3b4e-4f50-8a61-000000000002"} {
			b, _ := os.ReadFile("testdata/feed/" + u + ".json")
			if u == "6a1f0c2d-3b4e-4f50-8a61-000000000002" {
				b = b[:len(b)/2] // truncated event file
			}
			os.WriteFile(filepath.Join(dir, u+".json"), b, 0o644)
		}
		r := collect(t, func(y feed.Yield) error { return ReadFeedDir(context.Background(), dir, feed.Source{}, y) })
		if r.err != nil {
			t.Fatal(r.err)
		}
		if len(r.ofType("report")) != 1 || len(r.rejects) != 2 ||
			r.rejected(`manifest["6a1f0c2d-3b4e-4f50-8a61-00000000dead"]`) == nil ||
			r.rejected(`manifest["6a1f0c2d-3b4e-4f50-8a61-000000000002"]`) == nil {
			t.Errorf("reports %d, rejects %v", len(r.ofType("report")), r.rejects)
		}
	})
}

func TestGalaxyFixture(t *testing.T) {
	r := readPath(t, Galaxy, "testdata/galaxy_fixture.json", feed.Source{})
	if r.err != nil {
		t.Fatal(r.err)
	}
	fg := r.byID["intrusion-set--7b2e1d3c-4f5a-4b6c-8d7e-000000000001"]
	if fg == nil || !slices.Equal(fg.Strings("aliases"), []string{"FG", "G0999"}) || fg.String("x_bulwark_country") != "KP" {
		t.Fatalf("Fixture Group: %v", fg)
	}
	if len(fg.ExternalReferences) != 2 || fg.ExternalReferences[0].ExternalID != "G0999" || fg.ExternalReferences[1].URL != "https://example.org/fg" {
		t.Errorf("external refs %v", fg.ExternalReferences)
	}
	if !r.hasRel(fg.ID, "related-to", "intrusion-set--7b2e1d3c-4f5a-4b6c-8d7e-000000000002") {
		t.Error("no related-to for similar")
	}
	if len(r.ofType("relationship")) != 2 { // related-to + originates-from; "uses" skipped
		t.Errorf("relationships: %d", len(r.ofType("relationship")))
	}
	if fg.String("modified") != "2016-01-01T00:00:07.000Z" {
		t.Errorf("modified %s", fg.String("modified"))
	}
	for _, f := range []string{"values[2].value", "values[3].uuid", "values[4].value"} {
		if r.rejected(f) == nil {
			t.Errorf("no reject for %s: %v", f, r.rejects)
		}
	}
	if len(r.ofType("intrusion-set")) != 2 {
		t.Errorf("intrusion-sets %d", len(r.ofType("intrusion-set")))
	}
}

func TestSniff(t *testing.T) {
	head := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Skip(err)
		}
		return b[:min(len(b), feed.SniffBytes)]
	}
	bundle := []byte(`{"type": "bundle", "id": "bundle--5e0c8a3e-1d2b-4c6f-9a1b-000000000001", "objects": [{"type": "indicator", "spec_version": "2.1", "name": "x", "value": "y", "uuid": "z"}]}`)
	tests := []struct {
		name        string
		head        []byte
		event, galx bool
	}{
		{"event.json", head("testdata/event_fixture.json"), true, false},
		{"manifest.json", head("testdata/feed/manifest.json"), true, false},
		{"galaxy.json", head("testdata/galaxy_fixture.json"), false, true},
		{"eset.json", head(corpus.Path(t, "detect/iocs/eset/nukesped_lazarus_lazarus_3cx.json")), true, false},
		{"threat-actor.json", head(corpus.Path(t, "misp/misp-galaxy-threat-actor.json")), false, true},
		{"bundle.json", bundle, false, false},
		{"bare.json", []byte(`{"uuid":"x","info":"y","Attribute":[]}`), true, false},
		{"list.txt", []byte("1.2.3.4\nexample.com\n"), false, false},
		{"empty", nil, false, false},
	}
	for _, tc := range tests {
		if got := Event.Sniff(tc.name, tc.head); got != tc.event {
			t.Errorf("Event.Sniff(%s) = %v", tc.name, got)
		}
		if got := Galaxy.Sniff(tc.name, tc.head); got != tc.galx {
			t.Errorf("Galaxy.Sniff(%s) = %v", tc.name, got)
		}
	}
}

func TestHostile(t *testing.T) {
	fixture, err := os.ReadFile("testdata/event_fixture.json")
	if err != nil {
		t.Fatal(err)
	}
	huge := strings.Repeat("a", 100<<20)
	t.Run("truncated", func(t *testing.T) {
		for _, n := range []int{0, 1, 100, len(fixture) / 2, len(fixture) - 2} {
			if r := readBytes(t, Event, fixture[:n]); r.err == nil {
				t.Errorf("truncated at %d: no error", n)
			}
		}
	})
	t.Run("wrong types", func(t *testing.T) {
		for _, tc := range []struct{ doc, field string }{
			{`{"Event": {"uuid": "5e0c8a3e-1d2b-4c6f-9a1b-000000000001", "info": 7, "Attribute": []}}`, "Event.info"},
			{`{"Event": {"uuid": "5e0c8a3e-1d2b-4c6f-9a1b-000000000001", "Attribute": "x"}}`, "Event.Attribute"},
			{`{"Event": {"uuid": "5e0c8a3e-1d2b-4c6f-9a1b-000000000001", "Attribute": [7]}}`, "Event.Attribute[0]"},
			{`{"Event": {"uuid": "5e0c8a3e-1d2b-4c6f-9a1b-000000000001", "Attribute": [{"type": "domain", "value": "a.example", "to_ids": "maybe"}]}}`, "Event.Attribute[0]"},
			{`{"Event": {"uuid": "5e0c8a3e-1d2b-4c6f-9a1b-000000000001", "Object": [{"name": "file", "Attribute": [{"type": "md5", "value": ["x"]}]}]}}`, "Event.Object[0].Attribute[0].value"},
			{`{"Event": {"uuid": 5, "info": "x"}}`, "Event.uuid"},
			{`{"Event": []}`, "Event"},
			{`{"response": [1]}`, "response[0]"},
		} {
			r := readBytes(t, Event, []byte(tc.doc))
			if r.err != nil {
				t.Errorf("%s: fatal %v", tc.doc, r.err)
			}
			if r.rejected(tc.field) == nil {
				t.Errorf("%s: no reject for %s (got %v)", tc.doc, tc.field, r.rejects)
			}
		}
		if r := readBytes(t, Galaxy, []byte(`{"type": "threat-actor", "values": {"a": 1}}`)); r.err == nil {
			t.Error("galaxy with values as an object: no error")
		}
		if r := readBytes(t, Galaxy, []byte(`{"type": "sector", "values": []}`)); r.err == nil {
			t.Error("unsupported galaxy type: no error")
		}
	})
	t.Run("100MB value", func(t *testing.T) {
		doc := `{"Event": {"uuid": "5e0c8a3e-1d2b-4c6f-9a1b-000000000001", "info": "big", "Attribute": [` +
			`{"type": "url", "value": "http://` + huge + `"}, {"type": "domain", "value": "ok.example", "to_ids": true}]}}`
		r := readBytes(t, Event, []byte(doc))
		if r.err != nil || r.rejected("Event.Attribute[0]") == nil || len(r.ofType("indicator")) != 1 {
			t.Errorf("err %v rejects %v indicators %d", r.err, r.rejects, len(r.ofType("indicator")))
		}
		gdoc := `{"name": "x", "type": "threat-actor", "uuid": "u", "values": [{"value": "` + huge[:500] + `", "uuid": "7b2e1d3c-4f5a-4b6c-8d7e-000000000001", "description": "` + huge + `"}]}`
		r = readBytes(t, Galaxy, []byte(gdoc))
		if r.err != nil || len(r.ofType("intrusion-set")) != 1 || len(r.ofType("intrusion-set")[0].String("description")) > maxDescription+10 {
			t.Errorf("galaxy: %v", r.err)
		}
	})
	t.Run("deep nesting", func(t *testing.T) {
		deep := `{"Event": {"uuid": "5e0c8a3e-1d2b-4c6f-9a1b-000000000001", "x": ` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}}`
		readBytes(t, Event, []byte(deep)) // must not panic or hang; an error is fine
		readBytes(t, Galaxy, []byte(`{"values": `+strings.Repeat("[", 100000)+`}`))
	})
	t.Run("size limit", func(t *testing.T) {
		old := MaxSize
		MaxSize = 1 << 10
		defer func() { MaxSize = old }()
		r := readBytes(t, Event, fixture)
		if !errors.Is(r.err, ErrTooLarge) {
			t.Errorf("err = %v, want ErrTooLarge", r.err)
		}
		if r := readBytes(t, Galaxy, fixture); !errors.Is(r.err, ErrTooLarge) {
			t.Errorf("galaxy err = %v", r.err)
		}
	})
	t.Run("yield error stops", func(t *testing.T) {
		stop := errors.New("stop")
		err := Event.Read(context.Background(), feed.Source{Path: "x", R: bytes.NewReader(fixture)}, func(feed.Item) error { return stop })
		if !errors.Is(err, stop) {
			t.Errorf("err = %v", err)
		}
	})
}

func FuzzEvent(f *testing.F) {
	fixture, _ := os.ReadFile("testdata/event_fixture.json")
	f.Add(fixture)
	f.Add([]byte(`{"response":[{"Event":{"uuid":"5e0c8a3e-1d2b-4c6f-9a1b-000000000001","info":"x","Attribute":[{"type":"ip-dst|port","value":"::1|80","to_ids":1}]}}]}`))
	f.Add([]byte(`{"uuid":"5e0c8a3e-1d2b-4c6f-9a1b-000000000001","Attribute":[{"type":"domain|ip","value":"a.b|1.2.3.4","to_ids":true,"timestamp":99999999999999}]}`))
	f.Add([]byte(`{"Event":{"uuid":"019514dc-c894-751f-8cfd-ff2b932ff451","Galaxy":[{"type":"mitre-attack-pattern","GalaxyCluster":[{"uuid":"3ccef7ae-cb5e-48f6-8302-897105fbf55c","value":"X - T1140"}]}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		readBytes(t, Event, data) // collect checks every object with stix.Validate
	})
}

func FuzzGalaxy(f *testing.F) {
	fixture, _ := os.ReadFile("testdata/galaxy_fixture.json")
	f.Add(fixture)
	f.Add([]byte(`{"type":"malpedia","source":"x","version":"3","values":[{"value":"m","uuid":"7b2e1d3c-4f5a-4b6c-8d7e-000000000001","meta":{"synonyms":"s","refs":[1]}}]}`))
	f.Add([]byte(`{"type":"mitre-attack-pattern","values":[{"value":"A - T1000.001","uuid":"7b2e1d3c-4f5a-4b6c-8d7e-000000000001","related":[{"dest-uuid":"7B2E1D3C-4F5A-4B6C-8D7E-000000000002","type":"same-as"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		readBytes(t, Galaxy, data)
	})
}
