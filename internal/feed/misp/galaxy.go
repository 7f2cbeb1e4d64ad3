package misp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// cluster is a galaxy cluster as galaxy files and events carry it.
type cluster struct {
	UUID        string                     `json:"uuid"`
	Value       string                     `json:"value"`
	Description string                     `json:"description"`
	Type        string                     `json:"type"`    // events only
	Source      string                     `json:"source"`  // events only
	Version     flexString                 `json:"version"` // events only
	Meta        map[string]json.RawMessage `json:"meta"`
	// Relations: "related" in galaxy files, GalaxyClusterRelation in events.
	Related []struct {
		DestUUID string `json:"dest-uuid"`
		Type     string `json:"type"`
	} `json:"related"`
	Relations []struct {
		DestUUID string `json:"referenced_galaxy_cluster_uuid"`
		Type     string `json:"referenced_galaxy_cluster_type"`
	} `json:"GalaxyClusterRelation"`
}

// metaStrings reads a meta entry that may be a string or a list of strings
// (galaxy files write "country": "KP", MISP's API ["KP"]). Anything else
// reads as absent: meta is descriptive, not worth rejecting a cluster for.
func (c *cluster) metaStrings(key string) []string {
	raw, ok := c.Meta[key]
	if !ok {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if one == "" {
			return nil
		}
		return []string{one}
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	return nil
}

// stixKind maps a galaxy type to the STIX type its clusters become, ""
// for galaxies Bulwark does not import (sectors, countries, …).
func stixKind(galaxyType string) string {
	switch galaxyType {
	case "threat-actor", "mitre-intrusion-set", "microsoft-activity-group", "mitre-enterprise-attack-intrusion-set":
		return "intrusion-set"
	case "malpedia", "malware", "tool", "ransomware", "mitre-malware", "backdoor", "banker", "botnet",
		"rat", "stealer", "android", "exploit-kit", "mitre-enterprise-attack-malware", "mitre-mobile-attack-malware":
		return "malware"
	case "mitre-tool", "mitre-enterprise-attack-tool", "mitre-mobile-attack-tool":
		return "tool"
	case "mitre-attack-pattern", "mitre-enterprise-attack-attack-pattern", "mitre-mobile-attack-attack-pattern", "mitre-pre-attack-attack-pattern":
		return "attack-pattern"
	}
	return ""
}

// clusterOpts carries what the caller knows about a cluster's context.
type clusterOpts struct {
	galaxyType string
	version    int64    // galaxy or cluster version
	createdBy  string   // identity id, "" for none
	markings   []string // object_marking_refs
}

var (
	reGroupID     = regexp.MustCompile(`^G\d{4}$`)
	reGroupURL    = regexp.MustCompile(`attack\.mitre\.org/groups/(G\d{4})\b`)
	reTechnique   = regexp.MustCompile(`^(.*\S)\s+-\s+(T\d{4}(?:\.\d{3})?)$`)
	reTechniqueID = regexp.MustCompile(`^T\d{4}(?:\.\d{3})?$`)
	reSoftwareID  = regexp.MustCompile(`^S\d{4}$`)
)

// Bounds on what one cluster contributes, against hostile galaxies.
const (
	maxAliases = 500
	maxRefs    = 500
	maxRefLen  = 2048
	maxRelated = 1000
	// maxDescription bounds a cluster description (the longest real ones
	// are a few KiB); longer text is cut at a character boundary.
	maxDescription = 256 << 10
)

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func galaxyTime(version int64) (created, modified time.Time) {
	if version < 0 || version > 1e8 {
		version = 0
	}
	return galaxyEpoch, galaxyEpoch.Add(time.Duration(version) * time.Second)
}

// convertCluster turns one cluster into its STIX object, plus the location
// and relationships it implies. It returns the object's id.
func convertCluster(c *cluster, o clusterOpts) (string, []*stix.Object, error) {
	kind := stixKind(o.galaxyType)
	if kind == "" {
		return "", nil, nil
	}
	uid := strings.ToLower(strings.TrimSpace(c.UUID))
	id, ok := idFromUUID(kind, uid)
	if !ok {
		return "", nil, &fieldError{"uuid", fmt.Errorf("%q is not a UUID", trunc(c.UUID))}
	}
	name := strings.TrimSpace(c.Value)
	if name == "" {
		return "", nil, &fieldError{"value", errors.New("the cluster name is empty")}
	}
	if len(name) > 1024 {
		return "", nil, &fieldError{"value", errors.New("the cluster name is longer than 1024 bytes")}
	}
	created, modified := galaxyTime(o.version)
	com := feed.Common{CreatedBy: o.createdBy, Created: created, Modified: modified, Markings: o.markings}
	props := map[string]any{"name": name}
	if d := strings.TrimSpace(c.Description); d != "" {
		props["description"] = truncate(d, maxDescription)
	}

	var refs []stix.ExternalReference
	seenRef := map[string]bool{}
	addRef := func(r stix.ExternalReference) {
		k := r.SourceName + "\x1f" + r.ExternalID + "\x1f" + r.URL
		if seenRef[k] || len(refs) >= maxRefs {
			return
		}
		seenRef[k] = true
		refs = append(refs, r)
	}
	synonyms := c.metaStrings("synonyms")
	switch kind {
	case "attack-pattern":
		ext := ""
		if m := reTechnique.FindStringSubmatch(name); m != nil {
			name, ext = m[1], m[2]
			props["name"] = name
		}
		for _, e := range c.metaStrings("external_id") {
			if reTechniqueID.MatchString(e) {
				ext = e
			}
		}
		if ext != "" {
			addRef(stix.ExternalReference{SourceName: "mitre-attack", ExternalID: ext,
				URL: "https://attack.mitre.org/techniques/" + strings.ReplaceAll(ext, ".", "/")})
		}
	case "intrusion-set":
		for _, s := range synonyms {
			if reGroupID.MatchString(strings.TrimSpace(s)) {
				addMitreGroup(addRef, strings.TrimSpace(s))
			}
		}
		for _, e := range c.metaStrings("external_id") {
			if reGroupID.MatchString(e) {
				addMitreGroup(addRef, e)
			}
		}
		for _, r := range c.metaStrings("refs") {
			if m := reGroupURL.FindStringSubmatch(r); m != nil {
				addMitreGroup(addRef, m[1])
			}
		}
	case "malware", "tool":
		if kind == "malware" {
			props["is_family"] = true
		}
		for _, e := range c.metaStrings("external_id") {
			if reSoftwareID.MatchString(e) {
				addRef(stix.ExternalReference{SourceName: "mitre-attack", ExternalID: e, URL: "https://attack.mitre.org/software/" + e})
			}
		}
	}
	for _, r := range c.metaStrings("refs") {
		r = strings.TrimSpace(r)
		if r == "" || len(r) > maxRefLen {
			continue
		}
		addRef(stix.ExternalReference{SourceName: "url", URL: r})
	}
	if len(refs) > 0 {
		com.ExtRefs = refs
	}
	if kind != "attack-pattern" {
		var aliases []string
		seen := map[string]bool{name: true}
		for _, s := range synonyms {
			s = strings.TrimSpace(s)
			if s == "" || len(s) > 256 || seen[s] || len(aliases) >= maxAliases {
				continue
			}
			seen[s] = true
			aliases = append(aliases, s)
		}
		if len(aliases) > 0 {
			props["aliases"] = aliases
		}
	}

	var out []*stix.Object
	var country string
	if kind == "intrusion-set" {
		if cs := c.metaStrings("country"); len(cs) > 0 {
			cc := strings.ToUpper(strings.TrimSpace(cs[0]))
			if len(cc) == 2 && cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z' {
				country = cc
				com.Extra = map[string]any{"x_bulwark_country": cc}
			}
		}
	}
	obj, err := feed.SDO(kind, id, com, props)
	if err != nil {
		return "", nil, err
	}
	out = append(out, obj)

	rcom := feed.Common{CreatedBy: o.createdBy, Created: created, Modified: modified, Markings: o.markings}
	if country != "" {
		loc, err := feed.SDO("location", stix.DeterministicID("location", "country", country),
			feed.Common{Created: galaxyEpoch}, map[string]any{"country": country, "name": country})
		if err != nil {
			return "", nil, err
		}
		rel, err := feed.Relationship(id, "originates-from", loc.ID, rcom)
		if err != nil {
			return "", nil, err
		}
		out = append(out, loc, rel)
	}
	related := c.Related
	for _, r := range c.Relations {
		related = append(related, struct {
			DestUUID string `json:"dest-uuid"`
			Type     string `json:"type"`
		}{r.DestUUID, r.Type})
	}
	seenRel := map[string]bool{}
	for i, r := range related {
		if i >= maxRelated {
			break
		}
		switch r.Type {
		case "similar", "synonym-of", "same-as":
		default:
			continue // uses/targets/… point at clusters of unknown type
		}
		dest, ok := idFromUUID(kind, r.DestUUID)
		if !ok || dest == id || seenRel[dest] {
			continue
		}
		seenRel[dest] = true
		rc := rcom
		rc.Extra = map[string]any{"description": "MISP galaxy relation: " + r.Type}
		rel, err := feed.Relationship(id, "related-to", dest, rc)
		if err != nil {
			return "", nil, err
		}
		out = append(out, rel)
	}
	return id, out, nil
}

func addMitreGroup(add func(stix.ExternalReference), g string) {
	add(stix.ExternalReference{SourceName: "mitre-attack", ExternalID: g, URL: "https://attack.mitre.org/groups/" + g})
}

// clusterIdentity returns the identity of a cluster source such as "MISP
// Project", or nil when the source is absent or not a name (ATT&CK-derived
// galaxies give a URL; their stubs carry no creator).
func clusterIdentity(source string) (*stix.Object, error) {
	s := strings.TrimSpace(source)
	if s == "" || len(s) > 200 || strings.Contains(s, "://") {
		return nil, nil
	}
	return feed.Identity(s, "organization", galaxyEpoch, nil)
}

// galaxyFile is the top level of a misp-galaxy clusters/*.json file.
type galaxyFile struct {
	Name        string            `json:"name"`
	Type        string            `json:"type"`
	UUID        string            `json:"uuid"`
	Source      string            `json:"source"`
	Description string            `json:"description"`
	Version     flexString        `json:"version"`
	Values      []json.RawMessage `json:"values"`
}

// ReadGalaxy reads a galaxy cluster file. Threat-actor clusters become
// intrusion-sets (intrusion-set--<cluster uuid>) with aliases from
// synonyms, refs as external references, ATT&CK group ids (G0032) as
// mitre-attack references, the country in x_bulwark_country plus an
// originates-from relationship to a country location, and related-to
// relationships for "similar" relations: MISP's mitre-intrusion-set galaxy
// reuses ATT&CK's STIX UUIDs, so these join a cluster to ATT&CK's group.
// Malware and tool galaxies become malware (is_family) and tool objects.
// Objects are created by the galaxy's source ("MISP Project") and dated from
// the galaxy version (see galaxyEpoch), so re-import is idempotent.
func ReadGalaxy(ctx context.Context, src feed.Source, yield feed.Yield) error {
	data, err := readAll(src.R)
	if err != nil {
		return err
	}
	var g galaxyFile
	if err := json.Unmarshal(data, &g); err != nil {
		field, ferr := fieldErr("galaxy", err)
		return fmt.Errorf("%s: not a MISP galaxy file: %s: %w", path(src), field, ferr)
	}
	if stixKind(g.Type) == "" {
		return fmt.Errorf("%s: unsupported galaxy type %q (threat-actor, malware, tool, mitre-* galaxies are)", path(src), trunc(g.Type))
	}
	version, _ := strconv.ParseInt(string(g.Version), 10, 64)
	prov := feed.Provenance{Source: sourceName(src), File: path(src), Index: -1}
	emitted := map[string]bool{}
	emit := func(o *stix.Object, idx int) error {
		if emitted[o.ID] {
			return nil
		}
		emitted[o.ID] = true
		p := prov
		p.Index = idx
		return yield(feed.Item{Object: o, Prov: p})
	}
	opts := clusterOpts{galaxyType: g.Type, version: version, markings: feed.TLPMarkings(src.TLP)}
	if !strings.HasPrefix(g.Type, "mitre-") {
		ident, err := clusterIdentity(g.Source)
		if err != nil {
			return err
		}
		if ident != nil {
			opts.createdBy = ident.ID
			if err := emit(ident, -1); err != nil {
				return err
			}
		}
	}
	seen := map[string]int{}
	for i, raw := range g.Values {
		if err := ctx.Err(); err != nil {
			return err
		}
		field := fmt.Sprintf("values[%d]", i)
		p := prov
		p.Index = i
		var c cluster
		if err := json.Unmarshal(raw, &c); err != nil {
			f, ferr := fieldErr(field, err)
			if err := yield(feed.Reject(p, f, ferr)); err != nil {
				return err
			}
			continue
		}
		key := strings.ToLower(strings.TrimSpace(c.UUID))
		if j, dup := seen[key]; dup && key != "" {
			if err := yield(feed.Reject(p, field+".uuid", fmt.Errorf("duplicate of values[%d]", j))); err != nil {
				return err
			}
			continue
		}
		seen[key] = i
		_, objs, err := convertCluster(&c, opts)
		if err != nil {
			f, ferr := splitFieldError(field, err)
			if err := yield(feed.Reject(p, f, ferr)); err != nil {
				return err
			}
			continue
		}
		for _, o := range objs {
			if err := emit(o, i); err != nil {
				return err
			}
		}
	}
	return nil
}

// fieldError names the property of a record that is at fault.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// splitFieldError appends a fieldError's field to prefix.
func splitFieldError(prefix string, err error) (string, error) {
	var fe *fieldError
	if errors.As(err, &fe) {
		return prefix + "." + fe.field, fe.err
	}
	return prefix, err
}
