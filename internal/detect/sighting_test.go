package detect

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/sigma"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

func TestSightings(t *testing.T) {
	s := Sightings{Fallback: time.Date(2023, 11, 15, 0, 0, 0, 0, time.UTC)}
	ind := "indicator--66078a0c-78cc-558c-aa95-e8bb7217760d"
	for _, h := range []Hit{
		{Time: "2023-11-14T22:13:20.1Z", IndicatorID: ind, Value: "update.celasllc.com"},
		{Time: "2023-11-14T21:00:00Z", IndicatorID: ind, Value: "celasllc.com"},
		{Time: "not a time", IndicatorID: ind, Value: "update.celasllc.com"},
		{RuleID: "sigma-rule", RuleTitle: "x"}, // rule hits are not indicator sightings
	} {
		s.Add(h)
	}
	objs, err := s.Objects("Upbit SOC", stix.TLPAmber)
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string][]*stix.Object{}
	for _, o := range objs {
		if err := stix.Validate(o); err != nil {
			t.Errorf("%s invalid: %v", o.ID, err)
		}
		byType[o.Type] = append(byType[o.Type], o)
	}
	if len(byType["sighting"]) != 1 || len(byType["observed-data"]) != 1 || len(byType["domain-name"]) != 2 || len(byType["identity"]) != 1 {
		t.Fatalf("objects: %v", byType)
	}
	sg := byType["sighting"][0]
	if sg.String("sighting_of_ref") != ind || sg.String("first_seen") != "2023-11-14T21:00:00.000Z" || sg.String("last_seen") != "2023-11-15T00:00:00.000Z" {
		t.Errorf("sighting: %s", sg.Raw)
	}
	var count int
	if _, err := sg.Decode("count", &count); err != nil || count != 3 {
		t.Errorf("count %d", count)
	}
	if sg.EffectiveTLP() != stix.TLPAmber || sg.Strings("where_sighted_refs")[0] != byType["identity"][0].ID {
		t.Errorf("sighting marking or where_sighted: %s", sg.Raw)
	}
	again, _ := s.Objects("Upbit SOC", stix.TLPAmber)
	if string(again[len(again)-1].Raw) != string(sg.Raw) {
		t.Error("the same scan does not give the same sighting")
	}
}

func TestSightingsSigma(t *testing.T) {
	text := `title: Rundll32 comsvcs MiniDump
id: 00000000-0000-4000-8000-000000000001
description: LSASS dumped through comsvcs.dll
date: 2023/01/02
modified: 2024-02-03
tags: [attack.credential-access, attack.t1003.001]
level: high
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\rundll32.exe'
    CommandLine|contains: comsvcs
  condition: sel
`
	rules, errs := sigma.ParseRules([]byte(text), "t.yml", sigma.Options{Mapping: sigma.WindowsMapping})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	data := `{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","UtcTime":"2023-11-14 21:00:00.500","Image":"C:\\Windows\\System32\\rundll32.exe","CommandLine":"rundll32 C:\\windows\\system32\\comsvcs.dll, MiniDump 624 x full","Hashes":"MD5=0C1C2C3C4C5C6C7C8C9CACBCCCDCECFC,IMPHASH=00000000000000000000000000000000"}
{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","UtcTime":"2023-11-14 22:13:20.100","Image":"C:\\x\\rundll32.exe","CommandLine":"comsvcs.dll MiniDump"}
`
	scan := func() []*stix.Object {
		s := Sightings{Fallback: time.Date(2023, 11, 15, 0, 0, 0, 0, time.UTC)}
		_, err := Scan(context.Background(), nil, []Input{stringInput("w.json", data)}, ScanOptions{Rules: rules}, s.Add)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := s.Objects("Upbit SOC", stix.TLPAmber)
		if err != nil {
			t.Fatal(err)
		}
		return objs
	}
	objs := scan()
	byType := map[string][]*stix.Object{}
	for _, o := range objs {
		if err := stix.Validate(o); err != nil {
			t.Errorf("%s invalid: %v", o.ID, err)
		}
		byType[o.Type] = append(byType[o.Type], o)
	}
	if len(byType["indicator"]) != 1 || len(byType["sighting"]) != 1 || len(byType["observed-data"]) != 1 || len(byType["file"]) != 2 {
		t.Fatalf("objects: %v", byType)
	}
	ind, sg, ident := byType["indicator"][0], byType["sighting"][0], byType["identity"][0]
	var refs []stix.ExternalReference
	if _, err := ind.Decode("external_references", &refs); err != nil || len(refs) != 1 || refs[0].SourceName != "sigma" || refs[0].ExternalID != rules[0].ID {
		t.Errorf("external references %+v: %v", refs, err)
	}
	if ind.String("pattern_type") != "sigma" || ind.String("pattern") != text || ind.Name() != "Rundll32 comsvcs MiniDump" ||
		ind.String("created") != "2023-01-02T00:00:00.000Z" || ind.String("modified") != "2024-02-03T00:00:00.000Z" ||
		ind.EffectiveTLP() != stix.TLPAmber || ind.String("created_by_ref") != ident.ID {
		t.Errorf("rule indicator: %s", ind.Raw)
	}
	if want, _ := RuleIndicator(rules[0], ident.ID, stix.TLPAmber); want.ID != ind.ID {
		t.Errorf("indicator id %s, RuleIndicator gives %s", ind.ID, want.ID)
	}
	var count int
	if _, err := sg.Decode("count", &count); err != nil || count != 2 {
		t.Errorf("count %d", count)
	}
	if sg.String("sighting_of_ref") != ind.ID || sg.Strings("where_sighted_refs")[0] != ident.ID ||
		sg.String("first_seen") != "2023-11-14T21:00:00.500Z" || sg.String("last_seen") != "2023-11-14T22:13:20.100Z" ||
		sg.Strings("observed_data_refs")[0] != byType["observed-data"][0].ID || sg.EffectiveTLP() != stix.TLPAmber {
		t.Errorf("sighting: %s", sg.Raw)
	}
	// What was seen: the image (once) and its MD5; never the import hash.
	od := byType["observed-data"][0]
	if got := len(od.Strings("object_refs")); got != 2 {
		t.Errorf("observed-data refers to %d objects: %s", got, od.Raw)
	}
	for _, f := range byType["file"] {
		if strings.Contains(string(f.Raw), "00000000000000000000000000000000") {
			t.Errorf("import hash reported as a file hash: %s", f.Raw)
		}
	}
	// A second scan reports the very same objects.
	again := scan()
	if len(again) != len(objs) {
		t.Fatalf("%d objects, then %d", len(objs), len(again))
	}
	for i := range objs {
		if string(objs[i].Raw) != string(again[i].Raw) {
			t.Errorf("object %d differs:\n%s\n%s", i, objs[i].Raw, again[i].Raw)
		}
	}
}
