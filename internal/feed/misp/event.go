package misp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// attribute is a MISP attribute. Value must be a JSON string: any other
// type rejects the attribute, naming Attribute[i].value.
type attribute struct {
	UUID      string            `json:"uuid"`
	Type      string            `json:"type"`
	Value     string            `json:"value"`
	ToIDs     flexBool          `json:"to_ids"`
	Timestamp flexString        `json:"timestamp"`
	Comment   string            `json:"comment"`
	Deleted   flexBool          `json:"deleted"`
	Tag       []tag             `json:"Tag"`
	Galaxy    []json.RawMessage `json:"Galaxy"`
}

// mispObject is a MISP object: attributes that describe one thing.
type mispObject struct {
	UUID      string            `json:"uuid"`
	Name      string            `json:"name"`
	Timestamp flexString        `json:"timestamp"`
	Deleted   flexBool          `json:"deleted"`
	Attribute []json.RawMessage `json:"Attribute"`
}

type galaxy struct {
	Type          string            `json:"type"`
	GalaxyCluster []json.RawMessage `json:"GalaxyCluster"`
}

type org struct {
	Name string `json:"name"`
	UUID string `json:"uuid"`
}

// maxAttrBytes bounds the JSON of one attribute (value, comment, tags).
const maxAttrBytes = 1 << 20

// maxComment bounds the comment copied into an indicator's description.
const maxComment = 4096

// ReadEvent reads MISP event JSON: {"Event":{…}}, a bare event, or
// {"response":[{"Event":…},…]}. A feed manifest.json is recognised too and
// its events are read from the <uuid>.json files in the same directory as
// src.Path (see ReadFeedDir).
func ReadEvent(ctx context.Context, src feed.Source, yield feed.Yield) error {
	data, err := readAll(src.R)
	if err != nil {
		return fmt.Errorf("%s: %w", path(src), err)
	}
	return readEventDoc(ctx, data, src, yield)
}

func readEventDoc(ctx context.Context, data []byte, src feed.Source, yield feed.Yield) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return fmt.Errorf("%s: not a MISP event (want a JSON object): %w", path(src), err)
	}
	if raw, ok := top["response"]; ok {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			list = []json.RawMessage{raw} // older MISP: "response": {"Event": …}
		}
		for i, el := range list {
			prefix := fmt.Sprintf("response[%d]", i)
			var m map[string]json.RawMessage
			if err := json.Unmarshal(el, &m); err != nil {
				if err := yield(feed.Reject(provOf(src), prefix, errors.New("must be an object"))); err != nil {
					return err
				}
				continue
			}
			if ev, ok := m["Event"]; ok {
				if err := readEvent(ctx, ev, prefix+".Event", src, yield); err != nil {
					return err
				}
				continue
			}
			if err := readEvent(ctx, el, prefix, src, yield); err != nil {
				return err
			}
		}
		return nil
	}
	if ev, ok := top["Event"]; ok {
		return readEvent(ctx, ev, "Event", src, yield)
	}
	_, hasInfo := top["info"]
	_, hasAttr := top["Attribute"]
	_, hasObj := top["Object"]
	if hasInfo || hasAttr || hasObj {
		return readEvent(ctx, data, "", src, yield)
	}
	if isManifest(top) {
		if src.Path == "" || src.Path == "-" {
			return errors.New("a MISP feed manifest needs its directory: give the path of manifest.json, not standard input")
		}
		return readManifest(ctx, dirOf(src.Path), src.Path, top, src, yield)
	}
	return fmt.Errorf("%s: not a MISP event: no Event, response, info or Attribute key", path(src))
}

func provOf(src feed.Source) feed.Provenance {
	return feed.Provenance{Source: sourceName(src), File: path(src), Index: -1}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// eventReader holds the state of one event's conversion.
type eventReader struct {
	ctx     context.Context
	src     feed.Source
	prov    feed.Provenance
	yield   feed.Yield
	uuid    string
	emitted map[string]bool
	refs    []string
	extRefs []stix.ExternalReference

	created, modified time.Time
	tlp               stix.TLP
	createdBy         string
	actors, targets   []string // intrusion-sets; intrusion-sets and malware (indicates)
	usable            []string // malware, tools, attack-patterns the actors use
}

func (r *eventReader) reject(field string, err error) error {
	return r.yield(feed.Reject(r.prov, field, err))
}

// emit yields an object once per event and lists it in the report.
func (r *eventReader) emit(o *stix.Object, inReport bool) error {
	if r.emitted[o.ID] {
		return nil
	}
	r.emitted[o.ID] = true
	if inReport {
		r.refs = append(r.refs, o.ID)
	}
	return r.yield(feed.Item{Object: o, Prov: r.prov})
}

// field decodes one property of the event, rejecting it (and leaving dst
// empty) when it has the wrong JSON type.
func (r *eventReader) field(m map[string]json.RawMessage, prefix, name string, dst any) error {
	raw, ok := m[name]
	if !ok || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		f, ferr := fieldErr(join(prefix, name), err)
		return r.reject(f, ferr)
	}
	return nil
}

func readEvent(ctx context.Context, raw json.RawMessage, prefix string, src feed.Source, yield feed.Yield) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &eventReader{ctx: ctx, src: src, prov: provOf(src), yield: yield, emitted: map[string]bool{}}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return r.reject(prefix, errors.New("event must be a JSON object"))
	}
	var (
		uuid, info, date    string
		ts, pubTS           flexString
		orgc                org
		tags                []tag
		attrs, objs, galaxs []json.RawMessage
	)
	for _, f := range []struct {
		name string
		dst  any
	}{
		{"uuid", &uuid}, {"info", &info}, {"date", &date}, {"timestamp", &ts},
		{"publish_timestamp", &pubTS}, {"Orgc", &orgc}, {"Tag", &tags},
		{"Attribute", &attrs}, {"Object", &objs}, {"Galaxy", &galaxs},
	} {
		if err := r.field(m, prefix, f.name, f.dst); err != nil {
			return err
		}
	}
	uuid = strings.ToLower(strings.TrimSpace(uuid))
	reportID, ok := idFromUUID("report", uuid)
	if !ok {
		return r.reject(join(prefix, "uuid"), fmt.Errorf("event uuid %q is not a UUID", trunc(uuid)))
	}
	r.uuid = uuid

	// Dates: timestamp is the last change, date the analyst's event date.
	var day time.Time
	if d, err := time.Parse("2006-01-02", strings.TrimSpace(date)); err == nil && d.Year() > 1970 && d.Year() < 10000 {
		day = d.UTC()
	}
	r.modified, _ = unixTime(ts)
	switch {
	case r.modified.IsZero() && !day.IsZero():
		r.modified = day
	case r.modified.IsZero() && !src.Time.IsZero():
		r.modified = src.Time.UTC()
	case r.modified.IsZero():
		r.modified = galaxyEpoch
	}
	r.created = r.modified
	if !day.IsZero() && day.Before(r.modified) {
		r.created = day
	}
	published, ok := unixTime(pubTS)
	if !ok {
		published = r.created
	}

	r.tlp = tlpOfTags(tags)
	if r.tlp == stix.TLPNone {
		r.tlp = src.TLP
	}
	if name := strings.TrimSpace(orgc.Name); name != "" && len(name) <= 200 {
		var extra map[string]any
		if validUUID(strings.TrimSpace(orgc.UUID)) {
			extra = map[string]any{"x_misp_org_uuid": strings.ToLower(strings.TrimSpace(orgc.UUID))}
		}
		// Marked with the import's TLP, not the event's: one organisation
		// creates events of several TLPs.
		ident, err := feed.MarkedIdentity(name, "organization", galaxyEpoch, src.TLP, extra)
		if err != nil {
			return r.reject(join(prefix, "Orgc"), err)
		}
		r.createdBy = ident.ID
		if err := r.emit(ident, false); err != nil {
			return err
		}
	}

	// Event galaxies first: indicators point at what they yield.
	for i, g := range galaxs {
		ids, err := r.galaxy(g, fmt.Sprintf("%s[%d]", join(prefix, "Galaxy"), i), feed.TLPMarkings(r.tlp))
		if err != nil {
			return err
		}
		for _, id := range ids {
			switch strings.SplitN(id, "--", 2)[0] {
			case "intrusion-set":
				r.actors = append(r.actors, id)
				r.targets = append(r.targets, id)
			case "malware":
				r.targets = append(r.targets, id)
				r.usable = append(r.usable, id)
			default:
				r.usable = append(r.usable, id)
			}
		}
	}
	for _, a := range r.actors {
		for _, u := range r.usable {
			if err := r.relate(a, "uses", u, r.created, r.modified, feed.TLPMarkings(r.tlp)); err != nil {
				return err
			}
		}
	}

	for i, a := range attrs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.attribute(a, fmt.Sprintf("%s[%d]", join(prefix, "Attribute"), i)); err != nil {
			return err
		}
	}
	for i, o := range objs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.object(o, fmt.Sprintf("%s[%d]", join(prefix, "Object"), i)); err != nil {
			return err
		}
	}

	// The report: it must reference something, so an event with nothing
	// importable falls back to its creator, or is rejected.
	refs := r.refs
	if len(refs) == 0 && r.createdBy != "" {
		refs = []string{r.createdBy}
	}
	if len(refs) == 0 {
		return r.reject(prefix, errors.New("event has nothing importable"))
	}
	name := strings.TrimSpace(info)
	if name == "" {
		name = "MISP event " + uuid
	}
	com := feed.Common{
		CreatedBy: r.createdBy, Created: r.created, Modified: r.modified,
		Markings: feed.TLPMarkings(r.tlp), Labels: labelsOfTags(tags),
		ExtRefs: append([]stix.ExternalReference{{SourceName: "misp", ExternalID: uuid}}, r.extRefs...),
	}
	rep, err := feed.SDO("report", reportID, com, map[string]any{
		"name":         name,
		"published":    stix.FormatTimestamp(published),
		"report_types": []string{"threat-report"},
		"object_refs":  refs,
	})
	if err != nil {
		return r.reject(prefix, err)
	}
	return r.emit(rep, false)
}

// galaxy converts the clusters of one galaxy and returns their ids.
func (r *eventReader) galaxy(raw json.RawMessage, field string, markings []string) ([]string, error) {
	var g galaxy
	if err := json.Unmarshal(raw, &g); err != nil {
		f, ferr := fieldErr(field, err)
		return nil, r.reject(f, ferr)
	}
	var ids []string
	for j, cr := range g.GalaxyCluster {
		cf := fmt.Sprintf("%s.GalaxyCluster[%d]", field, j)
		var c cluster
		if err := json.Unmarshal(cr, &c); err != nil {
			f, ferr := fieldErr(cf, err)
			if err := r.reject(f, ferr); err != nil {
				return nil, err
			}
			continue
		}
		typ := g.Type
		if typ == "" {
			typ = c.Type
		}
		if stixKind(typ) == "" {
			continue // sectors, countries, … are not imported
		}
		opts := clusterOpts{galaxyType: typ, markings: markings}
		opts.version, _ = parseInt(string(c.Version))
		if !strings.HasPrefix(typ, "mitre-") {
			ident, err := clusterIdentity(c.Source)
			if err != nil {
				return nil, err
			}
			if ident != nil {
				opts.createdBy = ident.ID
				if err := r.emit(ident, false); err != nil {
					return nil, err
				}
			}
		}
		id, objs, err := convertCluster(&c, opts)
		if err != nil {
			f, ferr := splitFieldError(cf, err)
			if err := r.reject(f, ferr); err != nil {
				return nil, err
			}
			continue
		}
		for _, o := range objs {
			if err := r.emit(o, true); err != nil {
				return nil, err
			}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (r *eventReader) relate(src, typ, dst string, created, modified time.Time, markings []string) error {
	rel, err := feed.Relationship(src, typ, dst, feed.Common{CreatedBy: r.createdBy, Created: created, Modified: modified, Markings: markings})
	if err != nil {
		return r.reject("", err)
	}
	return r.emit(rel, true)
}

// decodeAttribute decodes one attribute, rejecting it when malformed.
func (r *eventReader) decodeAttribute(raw json.RawMessage, field string) (*attribute, error) {
	if len(raw) > maxAttrBytes {
		// Refused before decoding: no valid attribute is this large.
		return nil, r.reject(field, fmt.Errorf("attribute larger than %d bytes", maxAttrBytes))
	}
	var a attribute
	if err := json.Unmarshal(raw, &a); err != nil {
		f, ferr := fieldErr(field, err)
		return nil, r.reject(f, ferr)
	}
	return &a, nil
}

// attribute imports one stand-alone attribute.
func (r *eventReader) attribute(raw json.RawMessage, field string) error {
	a, err := r.decodeAttribute(raw, field)
	if a == nil || err != nil {
		return err
	}
	if a.Deleted {
		return nil
	}
	if a.Type == "link" {
		if v := strings.TrimSpace(a.Value); v != "" && len(v) <= maxRefLen && checkURL(v) == nil {
			r.extRefs = append(r.extRefs, stix.ExternalReference{SourceName: "url", URL: v})
		}
		return nil
	}
	obs, err := observe(a.Type, a.Value)
	if errors.Is(err, errSkip) {
		return nil
	}
	if err != nil {
		f := field + ".value"
		if strings.HasPrefix(err.Error(), "unsupported MISP attribute type") {
			f = field + ".type"
		}
		return r.reject(f, err)
	}
	return r.observation(obs, a.UUID, bool(a.ToIDs), a.Timestamp, a.Tag, a.Galaxy, a.Comment, field)
}

// observation emits an indicator (to_ids) or an SCO for what an attribute
// or a file object says.
func (r *eventReader) observation(obs observation, uid string, toIDs bool, ts flexString, tags []tag, galaxies []json.RawMessage, comment, field string) error {
	tlp := tlpOfTags(tags)
	if tlp == stix.TLPNone {
		tlp = r.tlp
	}
	markings := feed.TLPMarkings(tlp)
	when, ok := unixTime(ts)
	if !ok {
		when = r.modified
	}
	targets := r.targets
	for i, g := range galaxies {
		ids, err := r.galaxy(g, fmt.Sprintf("%s.Galaxy[%d]", field, i), markings)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if strings.HasPrefix(id, "intrusion-set--") || strings.HasPrefix(id, "malware--") {
				targets = append(targets, id)
			}
		}
	}
	if !toIDs {
		sco, ok := obs.sco()
		if !ok {
			return nil // a pattern-only observation has no plain SCO form
		}
		if len(markings) > 0 {
			var err error
			if sco, err = sco.WithProps(map[string]any{"object_marking_refs": markings}); err != nil {
				return r.reject(field, err)
			}
		}
		return r.emit(sco, true)
	}
	pattern := obs.stixPattern()
	id, ok := idFromUUID("indicator", uid)
	if !ok {
		id = stix.DeterministicID("indicator", r.uuid, pattern)
	}
	if r.emitted[id] {
		return nil
	}
	name := obs.name
	if len(name) > 256 {
		name = name[:256]
	}
	props := map[string]any{"indicator_types": []string{"malicious-activity"}}
	if c := strings.TrimSpace(comment); c != "" && len(c) <= maxComment {
		props["description"] = c
	}
	com := feed.Common{CreatedBy: r.createdBy, Created: when, Modified: when, Markings: markings, Labels: labelsOfTags(tags)}
	ind, err := feed.Indicator(id, pattern, name, when, com, props)
	if err != nil {
		return r.reject(field+".value", err)
	}
	if err := r.emit(ind, true); err != nil {
		return err
	}
	for _, t := range targets {
		if err := r.relate(id, "indicates", t, when, when, markings); err != nil {
			return err
		}
	}
	return nil
}

// fileHashOrder fixes the order of hashes in a combined file pattern.
var fileHashOrder = []string{"md5", "sha1", "sha256", "sha512", "sha3-256", "sha3-512", "ssdeep", "tlsh"}

// object imports a MISP object. File objects (file, and pe/elf/macho
// sections' parent kind) combine their filename and hashes into one
// observation; everything else is imported attribute by attribute.
func (r *eventReader) object(raw json.RawMessage, field string) error {
	var o mispObject
	if err := json.Unmarshal(raw, &o); err != nil {
		f, ferr := fieldErr(field, err)
		return r.reject(f, ferr)
	}
	if o.Deleted {
		return nil
	}
	if o.Name != "file" {
		for j, a := range o.Attribute {
			if err := r.attribute(a, fmt.Sprintf("%s.Attribute[%d]", field, j)); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		name     *term
		hashes   = map[string]term{}
		toIDs    bool
		latest   flexString
		latestT  time.Time
		tags     []tag
		galaxies []json.RawMessage
		comment  string
		n        int
	)
	for j, rawA := range o.Attribute {
		af := fmt.Sprintf("%s.Attribute[%d]", field, j)
		a, err := r.decodeAttribute(rawA, af)
		if err != nil {
			return err
		}
		if a == nil || a.Deleted {
			continue
		}
		_, isHash := hashTypes[a.Type]
		if (a.Type != "filename" || name != nil) && (!isHash || hashes[a.Type].value != "") {
			if err := r.attribute(rawA, af); err != nil {
				return err
			}
			continue
		}
		obs, err := observe(a.Type, a.Value)
		if err != nil {
			if err := r.reject(af+".value", err); err != nil {
				return err
			}
			continue
		}
		t := obs.terms[0]
		if a.Type == "filename" {
			name = &t
		} else {
			hashes[a.Type] = t
		}
		n++
		toIDs = toIDs || bool(a.ToIDs)
		if at, ok := unixTime(a.Timestamp); ok && at.After(latestT) {
			latestT, latest = at, a.Timestamp
		}
		tags = append(tags, a.Tag...)
		galaxies = append(galaxies, a.Galaxy...)
		if comment == "" {
			comment = a.Comment
		}
	}
	if n == 0 {
		return nil
	}
	obs := observation{}
	if name != nil {
		obs.terms = append(obs.terms, *name)
		obs.name = name.value
	}
	for _, h := range fileHashOrder {
		if t, ok := hashes[h]; ok {
			obs.terms = append(obs.terms, t)
			if obs.name == "" {
				obs.name = t.value
			}
		}
	}
	if latest == "" {
		latest = o.Timestamp
	}
	return r.observation(obs, o.UUID, toIDs, latest, tags, galaxies, comment, field)
}

func parseInt(s string) (int64, bool) {
	var n int64
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}
