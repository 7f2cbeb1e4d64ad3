// Package tagpack imports GraphSense TagPacks: YAML files of attribution
// tags that tie cryptocurrency addresses to actors (Lazarus Group), services
// (mixers, exchanges, bridges) and abuses (sanctions, hacks).
//
// A pack has header fields (title, creator, description, label, source,
// currency, category, abuse, actor, confidence, lastmod, is_public, …) and a
// `tags:` list; each tag names an address and may override any header
// field. Each tag becomes a cryptocurrency-wallet SCO, an indicator whose
// pattern matches the address (labels from category and abuse, confidence
// from the named level, an external reference to the source) and a based-on
// relationship from the indicator to the SCO, all created by the identity of
// the pack's creator. A tag with an `actor` also yields that actor as an
// intrusion-set (id from the actor id) which the indicator "indicates".
// Packs are TLP:CLEAR unless is_public is false (AMBER); Source.TLP, when
// set, wins. Identifiers and timestamps derive from the pack (lastmod, else
// Source.Time), so importing it again yields the same versions.
package tagpack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// Format is the GraphSense TagPack format.
var Format = feed.Format{
	Name:  "tagpack",
	Doc:   "GraphSense TagPack (YAML): attribution tags of cryptocurrency addresses",
	Sniff: sniff,
	Read:  Read,
}

// Limits against hostile input. The YAML decoder refuses excessive aliasing
// and nesting itself; aliases are not expanded here beyond one level, and a
// pack is read whole, so its size is bounded first.
const (
	MaxBytes = 16 << 20
	MaxTags  = 1 << 20
	maxField = 64 << 10 // one scalar value
)

const feedName = "GraphSense TagPack"

// epoch is the creation date of the objects a pack does not date by itself
// (creator identities, actors): fixed, so that every pack yields the same
// version of them.
var epoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func sniff(name string, head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
	if len(h) == 0 || h[0] == '{' || h[0] == '[' || h[0] == '<' {
		return false
	}
	s := "\n" + string(h)
	hasTags := strings.Contains(s, "\ntags:")
	hasAddr := strings.Contains(s, "address:")
	ext := strings.ToLower(filepath.Ext(name))
	return hasTags && hasAddr && (ext == ".yaml" || ext == ".yml" || strings.Contains(s, "\ncreator:") || strings.Contains(s, "\ntitle:"))
}

// fields a tag inherits from the header and may override.
type fields struct {
	label, source, currency, category, abuse, actor, confidence, lastmod, context, isPublic string
	lines                                                                                   map[string]int
}

func (f *fields) set(key, val string, line int) bool {
	switch key {
	case "label":
		f.label = val
	case "source":
		f.source = val
	case "currency", "network":
		if key == "network" && f.currency != "" && f.lines["currency"] > 0 {
			return true // currency wins over network in the same mapping
		}
		f.currency = strings.ToUpper(val)
		key = "currency"
	case "category":
		f.category = val
	case "abuse":
		f.abuse = val
	case "actor":
		f.actor = val
	case "confidence":
		f.confidence = val
	case "lastmod":
		f.lastmod = val
	case "context":
		f.context = val
	case "is_public":
		f.isPublic = val
	default:
		return false
	}
	if f.lines == nil {
		f.lines = map[string]int{}
	}
	f.lines[key] = line
	return true
}

func (f fields) clone() fields {
	c := f
	c.lines = make(map[string]int, len(f.lines))
	for k, v := range f.lines {
		c.lines[k] = v
	}
	return c
}

// reader carries one pack's state.
type reader struct {
	src      feed.Source
	prov     feed.Provenance
	yield    feed.Yield
	fallback time.Time
	sent     map[string]bool
	actors   map[string]string // actor id → intrusion-set id
}

// Read reads a TagPack. Bad tags are rejected with their line; a pack whose
// YAML cannot be parsed, or that is too large, is refused as a whole.
func Read(ctx context.Context, src feed.Source, yield feed.Yield) error {
	data, err := io.ReadAll(io.LimitReader(src.R, MaxBytes+1))
	if err != nil {
		return &feed.LineError{File: src.Path, Err: err}
	}
	if len(data) > MaxBytes {
		return &feed.LineError{File: src.Path, Err: fmt.Errorf("TagPack larger than %d bytes", MaxBytes)}
	}
	name := src.Name
	if name == "" {
		name = feedName
	}
	fallback := src.Time.UTC()
	if src.Time.IsZero() {
		fallback = time.Now().UTC()
	}
	r := &reader{src: src, prov: feed.Provenance{Source: name, File: src.Path, Index: -1}, yield: yield,
		fallback: fallback, sent: map[string]bool{}, actors: map[string]string{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 0; ; doc++ {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			if doc == 0 {
				return &feed.LineError{File: src.Path, Err: errors.New("empty TagPack")}
			}
			return nil
		}
		if err != nil {
			return &feed.LineError{File: src.Path, Err: fmt.Errorf("YAML: %w", err)}
		}
		if err := r.pack(ctx, &root); err != nil {
			return err
		}
	}
}

// resolve follows one alias; nested aliases are not expanded, which keeps a
// "billion laughs" document from multiplying work.
func resolve(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

func (r *reader) reject(line int, field string, err error) error {
	p := r.prov
	p.Line = line
	return r.yield(feed.Reject(p, field, err))
}

func (r *reader) pack(ctx context.Context, root *yaml.Node) error {
	doc := root
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil
		}
		doc = doc.Content[0]
	}
	doc = resolve(doc)
	if doc == nil || doc.Kind != yaml.MappingNode {
		return &feed.LineError{File: r.src.Path, Line: root.Line, Err: errors.New("a TagPack is a mapping of header fields and tags")}
	}
	var hdr fields
	var title, creator, description string
	var tags *yaml.Node
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := resolve(doc.Content[i]), resolve(doc.Content[i+1])
		if k == nil || v == nil {
			continue
		}
		if k.Value == "tags" {
			if v.Kind != yaml.SequenceNode {
				return &feed.LineError{File: r.src.Path, Line: v.Line, Field: "tags", Err: errors.New("want a list of tags")}
			}
			tags = v
			continue
		}
		if v.Kind != yaml.ScalarNode {
			continue // unknown structured fields (context objects, …)
		}
		if len(v.Value) > maxField {
			if err := r.reject(v.Line, k.Value, fmt.Errorf("value longer than %d bytes", maxField)); err != nil {
				return err
			}
			continue
		}
		switch k.Value {
		case "title":
			title = strings.TrimSpace(v.Value)
		case "creator":
			creator = strings.TrimSpace(v.Value)
		case "description":
			description = strings.TrimSpace(v.Value)
		default:
			hdr.set(k.Value, strings.TrimSpace(v.Value), v.Line)
		}
	}
	if tags == nil {
		return &feed.LineError{File: r.src.Path, Line: doc.Line, Field: "tags", Err: errors.New("missing")}
	}
	if len(tags.Content) > MaxTags {
		return &feed.LineError{File: r.src.Path, Line: tags.Line, Field: "tags", Err: fmt.Errorf("more than %d tags", MaxTags)}
	}
	if creator == "" {
		creator = "Unknown TagPack creator"
		if err := r.reject(doc.Line, "creator", errors.New("missing; tags are attributed to "+creator)); err != nil {
			return err
		}
	}
	identityName := creator
	if r.src.Name != "" {
		identityName = r.src.Name
	}
	// The creator is marked as the pack is (Source.TLP, else CLEAR unless
	// the header says is_public: false): its name is part of every tag's
	// evidence, which must not come out more restricted than it says.
	identTLP := r.src.TLP
	if identTLP == stix.TLPNone {
		identTLP = stix.TLPClear
		if pub, err := parseBool(hdr.isPublic); err == nil && !pub {
			identTLP = stix.TLPAmber
		}
	}
	ident, err := feed.MarkedIdentity(identityName, "organization", epoch, identTLP, map[string]any{
		"description": "Creator of GraphSense TagPacks (attribution tags of cryptocurrency addresses).",
	})
	if err != nil {
		return err
	}
	p := packInfo{title: title, creator: creator, description: description, identity: ident}
	if hdr.lastmod != "" {
		if _, err := parseLastmod(hdr.lastmod); err != nil {
			if err := r.reject(hdr.lines["lastmod"], "lastmod", err); err != nil {
				return err
			}
			hdr.lastmod = ""
		}
	}
	seen := map[string]int{}
	for i, tn := range tags.Content {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := r.tag(p, hdr, resolve(tn), tn.Line, i, seen); err != nil {
			return err
		}
	}
	return nil
}

type packInfo struct {
	title, creator, description string
	identity                    *stix.Object
}

func (r *reader) send(o *stix.Object, prov feed.Provenance) error {
	if r.sent[o.ID] {
		return nil
	}
	r.sent[o.ID] = true
	return r.yield(feed.Item{Object: o, Prov: prov})
}

// tag turns one tag into objects; a bad tag is rejected and the pack goes on.
func (r *reader) tag(p packInfo, hdr fields, n *yaml.Node, line, index int, seen map[string]int) error {
	prov := r.prov
	prov.Line, prov.Index = line, index
	bad := func(field string, err error) error {
		return r.yield(feed.Reject(prov, fmt.Sprintf("tags[%d].%s", index, field), err))
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return bad("", errors.New("a tag is a mapping with an address"))
	}
	f := hdr.clone()
	var address string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k == nil || v == nil {
			continue
		}
		if v.Kind != yaml.ScalarNode {
			if k.Value == "address" {
				return bad("address", errors.New("want a string"))
			}
			continue
		}
		if len(v.Value) > maxField {
			return bad(k.Value, fmt.Errorf("value longer than %d bytes", maxField))
		}
		if k.Value == "address" {
			address = strings.TrimSpace(v.Value)
			continue
		}
		f.set(k.Value, strings.TrimSpace(v.Value), v.Line)
	}
	if address == "" {
		return bad("address", errors.New("missing"))
	}
	if err := checkAddress(address); err != nil {
		return bad("address", err)
	}
	// A repeated address (packs have them, e.g. with a trailing space) is
	// imported once, as its first tag says.
	key := f.currency + "\x1f" + address
	if _, dup := seen[key]; dup {
		return nil
	}
	seen[key] = line

	created := r.fallback
	if f.lastmod != "" {
		t, err := parseLastmod(f.lastmod)
		if err != nil {
			return bad("lastmod", err)
		}
		created = t
	}
	tlp := r.src.TLP
	if tlp == stix.TLPNone {
		tlp = stix.TLPClear
		if f.isPublic != "" {
			pub, err := parseBool(f.isPublic)
			if err != nil {
				return bad("is_public", err)
			}
			if !pub {
				tlp = stix.TLPAmber
			}
		}
	}
	markings := feed.TLPMarkings(tlp)

	labels := labelsOf(f.category, f.abuse)
	extra := map[string]any{}
	if f.currency != "" {
		extra["x_bulwark_currency"] = f.currency
	}
	if f.category != "" {
		extra["x_bulwark_category"] = f.category
	}
	if f.abuse != "" {
		extra["x_bulwark_abuse"] = f.abuse
	}
	if f.actor != "" {
		extra["x_bulwark_actor"] = f.actor
	}
	if f.confidence != "" {
		c, ok := confidenceScore(f.confidence)
		if ok {
			extra["confidence"] = c
		}
		extra["x_bulwark_confidence_level"] = f.confidence
	}
	var refs []stix.ExternalReference
	if f.source != "" {
		ref := stix.ExternalReference{SourceName: orDefault(p.title, "GraphSense TagPack")}
		if u, err := url.Parse(f.source); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			ref.URL = f.source
		} else {
			ref.Description = f.source
		}
		refs = append(refs, ref)
	}
	c := feed.Common{CreatedBy: p.identity.ID, Created: created, Markings: markings, Labels: labels, ExtRefs: refs, Extra: extra}

	sco, err := feed.Observable(feed.KindWallet, address)
	if err != nil {
		return bad("address", err)
	}
	pattern, err := feed.Pattern(feed.KindWallet, address)
	if err != nil {
		return bad("address", err)
	}
	label := f.label
	name := orDefault(label, "GraphSense tag")
	if f.currency != "" {
		name += " (" + f.currency + ")"
	}
	props := map[string]any{"indicator_types": []string{"attribution"}}
	desc := p.description
	if f.context != "" {
		desc = strings.TrimSpace(desc + "\nContext: " + f.context)
	}
	if desc != "" {
		props["description"] = desc
	}
	id := stix.DeterministicID("indicator", "graphsense", p.creator, p.title, f.currency, address)
	ind, err := feed.Indicator(id, pattern, name, time.Time{}, c, props)
	if err != nil {
		return bad("", err)
	}
	identProv := prov
	if err := r.send(p.identity, identProv); err != nil {
		return err
	}
	if err := r.send(sco, prov); err != nil {
		return err
	}
	if err := r.send(ind, prov); err != nil {
		return err
	}
	relC := feed.Common{CreatedBy: p.identity.ID, Created: created, Markings: markings}
	rel, err := feed.Relationship(ind.ID, "based-on", sco.ID, relC)
	if err != nil {
		return bad("", err)
	}
	if err := r.send(rel, prov); err != nil {
		return err
	}
	if f.actor == "" {
		return nil
	}
	setID, ok := r.actors[f.actor]
	if !ok {
		set, err := r.actor(f.actor, label, p.identity.ID, created, markings)
		if err != nil {
			return bad("actor", err)
		}
		if err := r.send(set, prov); err != nil {
			return err
		}
		setID = set.ID
		r.actors[f.actor] = setID
	}
	rel, err = feed.Relationship(ind.ID, "indicates", setID, relC)
	if err != nil {
		return bad("actor", err)
	}
	return r.send(rel, prov)
}

// actor builds the intrusion-set of an actor id, named after the first tag
// label that goes with it.
func (r *reader) actor(actor, label, creator string, modified time.Time, markings []string) (*stix.Object, error) {
	name := label
	if name == "" {
		name = actor
	}
	aliases := []string{name}
	if actor != name {
		aliases = append(aliases, actor)
	}
	return feed.SDO("intrusion-set", stix.DeterministicID("intrusion-set", "graphsense-actor", actor),
		feed.Common{CreatedBy: creator, Created: epoch, Modified: modified, Markings: markings,
			Extra: map[string]any{"x_bulwark_graphsense_actor": actor}},
		map[string]any{"name": name, "aliases": aliases})
}

// categoryLabels maps INTERPOL/GraphSense categories to indicator labels.
var categoryLabels = map[string]string{
	"mixing_service": "mixer", "mixer": "mixer", "coinjoin": "mixer",
	"exchange": "exchange", "dex": "exchange", "otc_broker": "exchange", "atm": "exchange",
	"bridge": "bridge", "defi_bridge": "bridge",
	"perpetrator": "perpetrator", "hacker": "perpetrator",
	"market": "market", "shop": "market", "gambling": "gambling",
	"miner": "miner", "mining_service": "miner", "wallet_service": "wallet-service",
	"payment_processor": "payment-processor", "faucet": "faucet", "donation": "donation",
	"ico_wallet": "ico", "smart_contract": "smart-contract", "defi": "defi",
}

// abuseLabels maps abuse concepts to labels; "sanction" is spelled as the
// OFAC importer spells it, so that one label finds sanctioned addresses from
// every feed.
var abuseLabels = map[string]string{
	"sanction": "sanctioned", "sanctioned": "sanctioned",
	"service_hack": "hack", "hack": "hack", "ransomware": "ransomware", "scam": "scam",
	"phishing": "phishing", "ponzi_scheme": "ponzi", "sextortion": "sextortion",
	"terrorism": "terrorism", "malware": "malware", "pump_and_dump": "pump-and-dump",
}

func labelsOf(category, abuse string) []string {
	var out []string
	add := func(v string) {
		for _, x := range out {
			if x == v {
				return
			}
		}
		out = append(out, v)
	}
	if l, ok := categoryLabels[strings.ToLower(category)]; ok {
		add(l)
	}
	if abuse != "" {
		add("malicious-activity")
		if l, ok := abuseLabels[strings.ToLower(abuse)]; ok {
			add(l)
		} else {
			add(strings.ToLower(strings.ReplaceAll(abuse, "_", "-")))
		}
	}
	return out
}

// confidenceLevels are GraphSense's named confidence levels and their
// scores (tagpack-tool's confidence.csv).
var confidenceLevels = map[string]int{
	"override": 100, "ownership": 100, "manual_transaction": 90, "service_api": 80,
	"authority_data": 60, "trusted_provider": 50, "service_data": 50, "forensic": 50,
	"untrusted_transaction": 40, "web_crawl": 20,
}

func confidenceScore(s string) (int, bool) {
	if n, ok := confidenceLevels[strings.ToLower(s)]; ok {
		return n, true
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 100 {
		return n, true
	}
	return 0, false
}

func parseLastmod(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() < 2009 || t.Year() > 9999 {
				return time.Time{}, fmt.Errorf("%q is out of range", s)
			}
			return t.UTC(), nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 1230768000 && n < 253402300800 {
		return time.Unix(n, 0).UTC(), nil // Unix seconds, as some packs write it
	}
	return time.Time{}, fmt.Errorf("%q is not a date", trunc(s, 40))
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "1":
		return true, nil
	case "false", "no", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", trunc(s, 20))
}

// checkAddress refuses values that cannot be an address of any chain.
func checkAddress(a string) error {
	if len(a) < 14 || len(a) > 256 {
		return fmt.Errorf("%q is not an address: length %d", trunc(a, 40), len(a))
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == ':' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("%q is not an address: character %q at %d", trunc(a, 40), c, i)
		}
	}
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
