package detect

import (
	"testing"
	"time"

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
