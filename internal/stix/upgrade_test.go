package stix

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/corpus"
)

// upgradeAdds are the properties Upgrade20 may add to a 2.0 object.
var upgradeAdds = map[string]bool{
	"spec_version": true, "pattern_type": true, "is_family": true,
	"indicator_types": true, "malware_types": true, "tool_types": true,
	"threat_actor_types": true, "report_types": true,
}

// decodeFile streams a bundle, decodes every object and checks that the
// decoded object means what the source said, plus only the properties the
// upgrade adds. It returns the decoded objects' counts by type and calls
// visit on each.
func decodeFile(t *testing.T, path string, upgraded bool, visit func(before map[string]any, o *Object)) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	br := NewBundleReader(f, 0)
	counts := map[string]int{}
	for {
		ro, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(path), err)
		}
		o, err := Decode(ro.Raw)
		if err != nil {
			t.Errorf("%s object %d line %d: %v", filepath.Base(path), ro.Index, ro.Line, err)
			continue
		}
		counts[o.Type]++
		var before, after map[string]any
		if err := json.Unmarshal(ro.Raw, &before); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(o.Raw, &after); err != nil {
			t.Fatalf("%s: Raw is not JSON: %v", o.ID, err)
		}
		if o.SpecVersion != "2.1" && !IsSCO(o.Type) {
			t.Errorf("%s: spec_version %q", o.ID, o.SpecVersion)
		}
		for k := range after {
			if _, ok := before[k]; ok {
				continue
			}
			if !upgraded || !upgradeAdds[k] {
				t.Errorf("%s: unexpected property %q after decode", o.ID, k)
			}
			delete(after, k)
		}
		if !reflect.DeepEqual(before, after) {
			t.Errorf("%s: content changed by Decode", o.ID)
		}
		// Decode's output is itself stable: decoding it again changes nothing.
		if again, err := Decode(o.Raw); err != nil || string(again.Raw) != string(o.Raw) {
			t.Errorf("%s: re-decode: %v", o.ID, err)
		}
		if visit != nil {
			visit(before, o)
		}
	}
	return counts
}

func TestUpgradeEnterpriseAttack(t *testing.T) {
	if testing.Short() {
		t.Skip("33 MB corpus file")
	}
	path := corpus.Path(t, "attack/enterprise-attack-stix20.json")
	customProps := 0
	var lazarus *Object
	counts := decodeFile(t, path, true, func(before map[string]any, o *Object) {
		if _, had := before["spec_version"]; had {
			t.Errorf("%s: the 2.0 corpus object already had spec_version", o.ID)
		}
		for k := range before {
			if len(k) > 2 && k[:2] == "x_" {
				customProps++
			}
		}
		switch o.Type {
		case "malware":
			// 2.0 malware described families; 2.0 labels become malware_types.
			var fam bool
			if _, err := o.Decode("is_family", &fam); err != nil || !fam {
				t.Errorf("%s: is_family %v", o.ID, fam)
			}
			if labels, ok := before["labels"]; ok && !reflect.DeepEqual(o.Strings("malware_types"), toStrings(labels)) {
				t.Errorf("%s: malware_types %v, labels %v", o.ID, o.Strings("malware_types"), labels)
			}
		case "intrusion-set":
			if o.ID == "intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a" {
				lazarus = o
			}
		}
	})
	total := 0
	for _, n := range counts {
		total += n
	}
	want := map[string]int{"relationship": 20048, "attack-pattern": 835, "malware": 696, "intrusion-set": 187,
		"x-mitre-analytic": 1739, "x-mitre-detection-strategy": 691, "course-of-action": 268, "tool": 91,
		"x-mitre-data-component": 109, "campaign": 52, "x-mitre-data-source": 38, "x-mitre-tactic": 14,
		"identity": 1, "marking-definition": 1, "x-mitre-matrix": 1}
	if total != 24771 || !reflect.DeepEqual(counts, want) {
		t.Errorf("decoded %d objects: %v", total, counts)
	}
	if customProps < 10000 {
		t.Errorf("only %d x_ properties seen", customProps)
	}
	if lazarus == nil {
		t.Fatal("Lazarus Group intrusion set not found")
	}
	if lazarus.String("name") != "Lazarus Group" || len(lazarus.Strings("aliases")) < 5 || lazarus.ExternalReferences[0].ExternalID != "G0032" {
		t.Errorf("Lazarus: name %q aliases %v refs %v", lazarus.String("name"), lazarus.Strings("aliases"), lazarus.ExternalReferences[0])
	}
}

func toStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, _ := e.(string)
		out = append(out, s)
	}
	return out
}

func TestUpgradeUnit42(t *testing.T) {
	for _, c := range []struct {
		file   string
		counts map[string]int
	}{
		{"moldypisces.json", map[string]int{"attack-pattern": 29, "campaign": 5, "course-of-action": 54, "identity": 5,
			"indicator": 41, "intrusion-set": 1, "malware": 4, "relationship": 454, "report": 6}},
		{"crooked-pisces.json", map[string]int{"attack-pattern": 21, "campaign": 4, "course-of-action": 47, "identity": 4,
			"indicator": 58, "intrusion-set": 1, "malware": 4, "relationship": 383, "report": 5}},
	} {
		t.Run(c.file, func(t *testing.T) {
			path := corpus.Path(t, "stix/unit42-stix20/"+c.file)
			counts := decodeFile(t, path, true, func(before map[string]any, o *Object) {
				if o.Type != "indicator" {
					return
				}
				if o.String("pattern_type") != "stix" || o.SpecVersion != "2.1" {
					t.Errorf("%s: pattern_type %q spec_version %q", o.ID, o.String("pattern_type"), o.SpecVersion)
				}
				if _, ok := before["pattern_type"]; ok {
					t.Errorf("%s: 2.0 indicator already had pattern_type", o.ID)
				}
				if err := CheckPatternSyntax(o.String("pattern")); err != nil {
					t.Errorf("%s: %v", o.ID, err)
				}
				if len(PatternValues(o.String("pattern"))) == 0 {
					t.Errorf("%s: no values in %q", o.ID, o.String("pattern"))
				}
			})
			if !reflect.DeepEqual(counts, c.counts) {
				t.Errorf("counts %v, want %v", counts, c.counts)
			}
		})
	}
}

func TestICSAttack21Unchanged(t *testing.T) {
	path := corpus.Path(t, "attack/ics-attack-18.1.json")
	total := 0
	counts := decodeFile(t, path, false, func(before map[string]any, o *Object) {
		if o.NeedsUpgrade() {
			t.Errorf("%s: 2.1 object needs upgrade", o.ID)
		}
	})
	for _, n := range counts {
		total += n
	}
	if total != 1826 {
		t.Errorf("decoded %d objects, want 1826: %v", total, counts)
	}
}

func TestUpgrade20(t *testing.T) {
	raw := `{"type":"indicator","id":"` + idOf("indicator") + `","created":"2018-08-06T23:25:37.107Z","modified":"2018-08-06T23:25:37.107Z",` +
		`"labels":["malicious-activity"],"pattern":"[domain-name:value = 'x.test']","valid_from":"2018-08-06T23:25:37.107Z","x_acme":{"a":[1,2]}}`
	o, err := Decode([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"indicator_types":["malicious-activity"],"pattern_type":"stix","spec_version":"2.1",` + raw[1:]
	if string(o.Raw) != want {
		t.Errorf("upgraded Raw\n got %s\nwant %s", o.Raw, want)
	}
	if o.SpecVersion != "2.1" || o.NeedsUpgrade() {
		t.Errorf("SpecVersion %q", o.SpecVersion)
	}
	// An existing pattern_type and *_types are kept; SCOs are not touched.
	raw = `{"type":"indicator","id":"` + idOf("indicator") + `","created":"2018-08-06T23:25:37.107Z","modified":"2018-08-06T23:25:37.107Z",` +
		`"labels":["x"],"indicator_types":["benign"],"pattern":"x","pattern_type":"sigma","valid_from":"2018-08-06T23:25:37.107Z"}`
	o, err = Decode([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if o.String("pattern_type") != "sigma" || !reflect.DeepEqual(o.Strings("indicator_types"), []string{"benign"}) {
		t.Errorf("upgrade overwrote properties: %s", o.Raw)
	}
	sco := `{"type":"url","id":"` + idOf("url") + `","value":"http://x.test/"}`
	if o, err := Decode([]byte(sco)); err != nil || string(o.Raw) != sco {
		t.Errorf("SCO changed: %s %v", o.Raw, err)
	}
}

func TestUpgradeExplicit20(t *testing.T) {
	raw := `{"type":"indicator","spec_version":"2.0","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","labels":["malicious-activity"],"pattern":"[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']","valid_from":"2016-01-01T00:00:00Z","x_custom":{"a":[1,2]}}`
	o, err := Decode([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if o.SpecVersion != "2.1" || o.String("spec_version") != "2.1" || o.String("pattern_type") != "stix" || len(o.Strings("indicator_types")) != 1 {
		t.Errorf("upgraded: %s", o.Raw)
	}
	if strings.Count(string(o.Raw), `"spec_version"`) != 1 || !strings.Contains(string(o.Raw), `"x_custom":{"a":[1,2]}`) {
		t.Errorf("raw after upgrade: %s", o.Raw)
	}
}
