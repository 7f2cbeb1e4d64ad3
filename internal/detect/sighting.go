package detect

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/csvlist"
	"github.com/bulwark-intel/bulwark/internal/sigma"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// Sightings gathers hits into STIX 2.1 sightings, one per indicator or
// Sigma rule hit: how often it was seen, first and last, and what was seen
// (as observed-data over the observables involved), so the scanning
// organisation can tell its partners that an indicator or a detection is
// live. A Sigma rule is not a STIX object; its sighting refers to an
// indicator built for the rule (pattern_type "sigma", the rule's YAML as
// pattern).
type Sightings struct {
	by map[string]*sightAgg
	// Fallback stands in for hits whose log time cannot be read.
	Fallback time.Time
}

type sightAgg struct {
	count       int
	first, last time.Time
	values      map[observed]bool
	rule        *sigma.Rule // for a rule's sighting
}

// observed is one observable value of a hit.
type observed struct {
	kind  feed.Kind
	value string
}

// maxObserved bounds the observables listed per sighting.
const maxObserved = 100

// maxRuleObserved bounds the observables taken from one event for a rule
// hit.
const maxRuleObserved = 16

// observables picks the values of an event worth naming in a rule's
// sighting: addresses, names, URLs, hashes and image file names.
func observables(ev *Event) []observed {
	var out []observed
	add := func(k feed.Kind, v []byte) {
		if len(out) >= maxRuleObserved || len(v) == 0 || len(v) > csvlist.MaxValueLen {
			return
		}
		o := observed{kind: k, value: string(v)}
		if k != feed.KindFileName {
			// Normalised and checked as an importer would.
			kind, norm, ok := csvlist.Detect(o.value)
			if !ok || (k != "" && kind != k && !(k == feed.KindIPv4 && kind == feed.KindIPv6)) {
				return
			}
			o = observed{kind: kind, value: norm}
		}
		for _, p := range out {
			if p == o {
				return
			}
		}
		out = append(out, o)
	}
	for i := range ev.Fields {
		f := &ev.Fields[i]
		v := bytes.TrimSpace(f.Value)
		switch f.T.Kind {
		case KindIP:
			add(feed.KindIPv4, v)
		case KindDomain:
			add(feed.KindDomain, v)
		case KindHost:
			add("", v)
		case KindURL:
			add(feed.KindURL, v)
		case KindEmail:
			add(feed.KindEmail, normEmail(nil, v))
		case KindMD5:
			add(feed.KindMD5, v)
		case KindSHA1:
			add(feed.KindSHA1, v)
		case KindSHA256:
			add(feed.KindSHA256, v)
		case KindSHA512:
			add(feed.KindSHA512, v)
		case KindHash:
			add("", v)
		case KindHashes:
			// Sysmon's "SHA1=…,MD5=…,IMPHASH=…": an import hash is not a
			// hash of the file, so only the named file hashes count.
			for _, part := range bytes.Split(v, []byte(",")) {
				eq := bytes.IndexByte(part, '=')
				if eq < 0 {
					continue
				}
				if k := algoKind(string(bytes.TrimSpace(part[:eq]))); k != KindNone {
					add(hashFeedKind[k], bytes.TrimSpace(part[eq+1:]))
				}
			}
		case KindImage:
			add(feed.KindFileName, v)
		}
	}
	return out
}

var hashFeedKind = map[Kind]feed.Kind{KindMD5: feed.KindMD5, KindSHA1: feed.KindSHA1, KindSHA256: feed.KindSHA256, KindSHA512: feed.KindSHA512}

// hitTimeLayouts are the time forms logs write that Sightings reads.
var hitTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}

func parseHitTime(s string) (time.Time, bool) {
	for _, l := range hitTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// Add counts one hit.
func (s *Sightings) Add(h Hit) {
	key := h.IndicatorID
	if key == "" {
		if h.rule == nil {
			return
		}
		key = "sigma\x00" + ruleKey(h.rule)
	}
	if s.by == nil {
		s.by = map[string]*sightAgg{}
	}
	a := s.by[key]
	if a == nil {
		a = &sightAgg{values: map[observed]bool{}, rule: h.rule}
		s.by[key] = a
	}
	t := s.Fallback
	if pt, ok := parseHitTime(h.Time); ok {
		t = pt
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
	add := func(o observed) {
		if len(a.values) < maxObserved {
			a.values[o] = true
		}
	}
	if h.rule != nil {
		for _, o := range h.obs {
			add(o)
		}
	} else if kind, norm, ok := csvlist.Detect(h.Value); ok {
		add(observed{kind, norm})
	}
}

// ruleKey identifies a rule: its id, or for a rule without one its title
// and text.
func ruleKey(r *sigma.Rule) string {
	if r.ID != "" {
		return r.ID
	}
	return "untitled\x00" + r.Title + "\x00" + r.Text
}

// Len is the number of indicators and rules sighted.
func (s *Sightings) Len() int { return len(s.by) }

// identityEpoch dates the reporting identity and rules without a date.
var identityEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Objects returns the sightings and what they refer to: the sighting
// identity, the indicators built for Sigma rules, the observables,
// observed-data and sighting objects, marked with tlp and created by
// identity. Ids and dates derive from the content, so reporting the same
// scan twice yields the same objects.
func (s *Sightings) Objects(identityName string, tlp stix.TLP) ([]*stix.Object, error) {
	ident, err := feed.Identity(identityName, "organization", identityEpoch, nil)
	if err != nil {
		return nil, err
	}
	out := []*stix.Object{ident}
	keys := make([]string, 0, len(s.by))
	for k := range s.by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	marks := feed.TLPMarkings(tlp)
	seen := map[string]bool{} // observables already in out
	for _, k := range keys {
		a := s.by[k]
		sightingOf := k
		if a.rule != nil {
			ind, err := RuleIndicator(a.rule, ident.ID, tlp)
			if err != nil {
				return nil, err
			}
			out = append(out, ind)
			sightingOf = ind.ID
		}
		vals := make([]observed, 0, len(a.values))
		for v := range a.values {
			vals = append(vals, v)
		}
		sort.Slice(vals, func(i, j int) bool {
			if vals[i].kind != vals[j].kind {
				return vals[i].kind < vals[j].kind
			}
			return vals[i].value < vals[j].value
		})
		var refs []string
		for _, v := range vals {
			sco, err := feed.Observable(v.kind, v.value)
			if err != nil {
				continue
			}
			if !seen[sco.ID] {
				seen[sco.ID] = true
				out = append(out, sco)
			}
			refs = append(refs, sco.ID)
		}
		first, last := a.first.Truncate(time.Millisecond), a.last.Truncate(time.Millisecond)
		key := []string{ident.ID, sightingOf, stix.FormatTimestamp(first), stix.FormatTimestamp(last), strconv.Itoa(a.count)}
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
				return nil, fmt.Errorf("observed-data for %s: %w", sightingOf, err)
			}
			out = append(out, od)
			odRefs = []string{od.ID}
		}
		props := map[string]any{
			"sighting_of_ref":    sightingOf,
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
			return nil, fmt.Errorf("sighting of %s: %w", sightingOf, err)
		}
		out = append(out, sg)
	}
	return out, nil
}

// RuleIndicator builds the STIX indicator that stands for a Sigma rule in
// the reports of the organisation whose identity id is given: pattern_type
// "sigma", the rule's YAML as pattern, its title as name, and an external
// reference to the rule's id. Its id derives from the rule id and the
// organisation, so every scan of that organisation refers to the same
// indicator, and two organisations quoting the same rule under different
// markings never write conflicting versions of one object (the shared
// external_id ties them together). It is dated by the rule's own dates.
func RuleIndicator(r *sigma.Rule, identityID string, tlp stix.TLP) (*stix.Object, error) {
	if r.Text == "" {
		return nil, fmt.Errorf("sigma rule %q: no rule text kept", r.Title)
	}
	created := ruleDate(r.Date, identityEpoch)
	modified := ruleDate(r.Modified, created)
	ref := stix.ExternalReference{SourceName: "sigma", ExternalID: r.ID}
	if r.ID == "" {
		ref = stix.ExternalReference{SourceName: "sigma", Description: r.Title}
	}
	c := feed.Common{CreatedBy: identityID, Created: created, Modified: modified, Markings: feed.TLPMarkings(tlp),
		ExtRefs: []stix.ExternalReference{ref}}
	props := map[string]any{
		"name":            r.Title,
		"pattern_type":    "sigma",
		"pattern":         r.Text,
		"valid_from":      stix.FormatTimestamp(created),
		"indicator_types": []string{"malicious-activity"},
	}
	if r.Description != "" {
		props["description"] = r.Description
	}
	if len(r.Tags) > 0 {
		props["labels"] = r.Tags
	}
	id := stix.DeterministicID("indicator", "sigma", identityID, ruleKey(r))
	o, err := feed.SDO("indicator", id, c, props)
	if err != nil {
		return nil, fmt.Errorf("indicator for sigma rule %s: %w", r.ID, err)
	}
	return o, nil
}

// ruleDate reads a Sigma date (YYYY-MM-DD or YYYY/MM/DD).
func ruleDate(s string, def time.Time) time.Time {
	s = strings.ReplaceAll(strings.TrimSpace(s), "/", "-")
	if t, err := time.Parse("2006-01-02", s); err == nil && t.Year() >= 1990 {
		return t
	}
	return def
}
