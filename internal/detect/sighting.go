package detect

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/csvlist"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// Sightings gathers indicator hits into STIX 2.1 sightings, one per
// indicator: how often it was seen, first and last, and what was seen (as
// observed-data over the matched observables), so the scanning
// organisation can tell its partners that an indicator is live.
type Sightings struct {
	by map[string]*sightAgg
	// Fallback stands in for hits whose log time cannot be read.
	Fallback time.Time
}

type sightAgg struct {
	count       int
	first, last time.Time
	values      map[string]bool
}

// maxObserved bounds the observables listed per sighting.
const maxObserved = 100

// Add counts one hit. Sigma rule hits are not sightings of an indicator
// and are left out.
func (s *Sightings) Add(h Hit) {
	if h.IndicatorID == "" {
		return
	}
	if s.by == nil {
		s.by = map[string]*sightAgg{}
	}
	a := s.by[h.IndicatorID]
	if a == nil {
		a = &sightAgg{values: map[string]bool{}}
		s.by[h.IndicatorID] = a
	}
	t := s.Fallback
	if pt, err := time.Parse(time.RFC3339Nano, h.Time); err == nil {
		t = pt.UTC()
	}
	if t.IsZero() {
		t = time.Now().UTC()
	}
	if a.count == 0 || t.Before(a.first) {
		a.first = t
	}
	if a.count == 0 || t.After(a.last) {
		a.last = t
	}
	a.count++
	if len(a.values) < maxObserved {
		a.values[h.Value] = true
	}
}

// Len is the number of indicators sighted.
func (s *Sightings) Len() int { return len(s.by) }

// Objects returns the sightings and what they refer to: the sighting
// identity, the observables, observed-data and sighting objects, marked
// with tlp and created by identity. Ids and dates derive from the content,
// so reporting the same scan twice yields the same objects.
func (s *Sightings) Objects(identityName string, tlp stix.TLP) ([]*stix.Object, error) {
	ident, err := feed.Identity(identityName, "organization", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), nil)
	if err != nil {
		return nil, err
	}
	out := []*stix.Object{ident}
	ids := make([]string, 0, len(s.by))
	for id := range s.by {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	marks := feed.TLPMarkings(tlp)
	for _, indID := range ids {
		a := s.by[indID]
		var refs []string
		vals := make([]string, 0, len(a.values))
		for v := range a.values {
			vals = append(vals, v)
		}
		sort.Strings(vals)
		for _, v := range vals {
			kind, norm, ok := csvlist.Detect(v)
			if !ok {
				continue
			}
			sco, err := feed.Observable(kind, norm)
			if err != nil {
				continue
			}
			out = append(out, sco)
			refs = append(refs, sco.ID)
		}
		first, last := a.first.Truncate(time.Millisecond), a.last.Truncate(time.Millisecond)
		key := []string{ident.ID, indID, stix.FormatTimestamp(first), stix.FormatTimestamp(last), strconv.Itoa(a.count)}
		// Dated by the last sighting rather than the clock, so scanning the
		// same logs again reports the very same object version.
		c := feed.Common{CreatedBy: ident.ID, Created: last, Markings: marks}
		var odRefs []string
		if len(refs) > 0 {
			od, err := feed.SDO("observed-data", stix.DeterministicID("observed-data", key...), c, map[string]any{
				"first_observed":  stix.FormatTimestamp(first),
				"last_observed":   stix.FormatTimestamp(last),
				"number_observed": a.count,
				"object_refs":     refs,
			})
			if err != nil {
				return nil, fmt.Errorf("observed-data for %s: %w", indID, err)
			}
			out = append(out, od)
			odRefs = []string{od.ID}
		}
		props := map[string]any{
			"sighting_of_ref":    indID,
			"where_sighted_refs": []string{ident.ID},
			"count":              a.count,
			"first_seen":         stix.FormatTimestamp(first),
			"last_seen":          stix.FormatTimestamp(last),
		}
		if len(odRefs) > 0 {
			props["observed_data_refs"] = odRefs
		}
		sg, err := feed.SDO("sighting", stix.DeterministicID("sighting", key...), c, props)
		if err != nil {
			return nil, fmt.Errorf("sighting of %s: %w", indID, err)
		}
		out = append(out, sg)
	}
	return out, nil
}
