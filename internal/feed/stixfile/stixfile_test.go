package stixfile_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/stixfile"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
)

const bundle = `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[
{"type":"identity","id":"identity--311b2d2d-f010-4473-83ec-1edf84858f4c","created":"2017-06-01T00:00:00.000Z","modified":"2017-06-01T00:00:00.000Z","name":"Unit 42","identity_class":"organization"},
{"type":"indicator","id":"indicator--a932fcc6-e032-476c-826f-cb970a5a1ade","created":"2017-06-01T00:00:00.000Z","modified":"2017-06-01T00:00:00.000Z","labels":["malicious-activity"],"valid_from":"2017-06-01T00:00:00Z"},
{"type":"malware","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2017-06-01T00:00:00.000Z","modified":"2017-06-01T00:00:00.000Z","name":"ROKRAT","labels":["remote-access-trojan"],"x_custom":{"kept":true}},
{"type":"x-bulwark-note","id":"x-bulwark-note--5a3b7c9e-1111-4d2a-9c3e-000000000001","spec_version":"2.1","created":"2017-06-01T00:00:00.000Z","modified":"2017-06-01T00:00:00.000Z","body":"custom types round-trip"}
]}`

// A STIX 2.0 bundle with one invalid object: the others are upgraded and
// stored, the bad one is reported with its index, line, id and property.
func TestImportReportsAndContinues(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateCollection(ctx, store.Collection{Title: "c"}); err != nil {
		t.Fatal(err)
	}
	sum, err := feed.Import(ctx, s, "c", stixfile.Format, feed.Source{Path: "unit42.json", R: strings.NewReader(bundle)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Read != 4 || sum.Created != 3 || sum.Rejected != 1 || sum.Reasons["indicator.pattern"] != 1 {
		t.Fatalf("summary: %s %v", sum, sum.Examples)
	}
	if ex := sum.Examples[0]; !strings.Contains(ex, "object 1") || !strings.Contains(ex, "line 3") || !strings.Contains(ex, "indicator--a932fcc6") || !strings.Contains(ex, "pattern") {
		t.Errorf("rejection message %q lacks index, line, id or property", ex)
	}
	recs, err := s.Get(ctx, "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b", store.Versions{})
	if err != nil {
		t.Fatal(err)
	}
	m := recs[0].Object
	if m.SpecVersion != "2.1" || m.String("is_family") != "" && !strings.Contains(string(m.Raw), `"is_family":true`) || !strings.Contains(string(m.Raw), `"x_custom":{"kept":true}`) {
		t.Errorf("upgraded malware: %s", m.Raw)
	}
	if _, err := s.Get(ctx, "x-bulwark-note--5a3b7c9e-1111-4d2a-9c3e-000000000001", store.Versions{}); err != nil {
		t.Errorf("custom type not stored: %v", err)
	}
	// Importing again changes nothing.
	sum, err = feed.Import(ctx, s, "c", stixfile.Format, feed.Source{Path: "unit42.json", R: strings.NewReader(bundle)}, 0)
	if err != nil || sum.Unchanged != 3 || sum.Imported() != 0 {
		t.Errorf("re-import: %s %v", sum, err)
	}
}

// A truncated bundle keeps what was read before the cut and says where.
func TestTruncated(t *testing.T) {
	var got []*stix.Object
	cut := bundle[:strings.Index(bundle, `{"type":"malware"`)+40]
	err := stixfile.Read(context.Background(), feed.Source{Path: "cut.json", R: strings.NewReader(cut)}, func(it feed.Item) error {
		if it.Object != nil {
			got = append(got, it.Object)
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("error %v, want one naming line 4", err)
	}
	if len(got) != 1 || got[0].Type != "identity" {
		t.Errorf("kept %d objects before the cut", len(got))
	}
}

func TestSniff(t *testing.T) {
	for _, tt := range []struct {
		head string
		want bool
	}{
		{bundle[:200], true},
		{`{"Event":{"info":"x","Attribute":[]}}`, false},
		{"1.2.3.4\nevil.com\n", false},
		{`[{"type":"indicator","spec_version":"2.1","id":"indicator--a932fcc6-e032-476c-826f-cb970a5a1ade"}]`, true},
	} {
		if got := stixfile.Format.Sniff("x.json", []byte(tt.head)); got != tt.want {
			t.Errorf("sniff %.40q = %v", tt.head, got)
		}
	}
}

// import --tlp marks the objects that carry no TLP marking, beside their
// other markings, and leaves marked ones as they are.
func TestSourceTLP(t *testing.T) {
	const b = `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56e","objects":[
{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168","created":"2017-06-01T00:00:00.000Z","definition_type":"statement","definition":{"statement":"Copyright MITRE"}},
{"type":"attack-pattern","spec_version":"2.1","id":"attack-pattern--0042a9f5-f053-4769-b3ef-9ad018dfa298","created":"2017-06-01T00:00:00.000Z","modified":"2017-06-01T00:00:00.000Z","name":"Phishing","object_marking_refs":["marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"]},
{"type":"malware","spec_version":"2.1","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891c","created":"2017-06-01T00:00:00.000Z","modified":"2017-06-01T00:00:00.000Z","name":"ROKRAT","is_family":true,"object_marking_refs":["` + stix.TLP2Amber + `"]}
]}`
	var got []*stix.Object
	err := stixfile.Read(context.Background(), feed.Source{Path: "b.json", R: strings.NewReader(b), TLP: stix.TLPClear}, func(it feed.Item) error {
		if it.Err != nil {
			t.Errorf("%v", it.Err)
		}
		if it.Object != nil {
			got = append(got, it.Object)
		}
		return nil
	})
	if err != nil || len(got) != 3 {
		t.Fatalf("%d objects, %v", len(got), err)
	}
	if refs := got[0].ObjectMarkingRefs; len(refs) != 0 {
		t.Errorf("the marking definition was marked: %v", refs)
	}
	if refs := got[1].ObjectMarkingRefs; got[1].EffectiveTLP() != stix.TLPClear || len(refs) != 2 || refs[0] != "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168" {
		t.Errorf("unmarked attack pattern: %v", refs)
	}
	if got[2].EffectiveTLP() != stix.TLPAmber || len(got[2].ObjectMarkingRefs) != 1 {
		t.Errorf("an AMBER object was re-marked: %v", got[2].ObjectMarkingRefs)
	}
}
