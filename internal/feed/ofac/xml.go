package ofac

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/feed"
)

// XML is the official SDN advanced XML (sdn_advanced.xml).
var XML = feed.Format{
	Name:  "ofac-xml",
	Doc:   "OFAC SDN advanced XML (sdn_advanced.xml): sanctioned digital currency addresses with their parties",
	Sniff: sniffXML,
	Read:  ReadXML,
}

// Limits against hostile input. The real file is about 120 MB with runs of
// text of a few hundred bytes and a nesting depth of about ten.
const (
	MaxXMLBytes = 1 << 30 // whole file
	maxXMLRun   = 1 << 20 // bytes between two '<': one text node or tag
	maxXMLText  = 1 << 20 // text of one element
	maxXMLDepth = 64
)

// Namespaces the advanced XML has been published under.
const (
	NamespaceAdvanced = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML"
	NamespaceDelta    = "http://www.treasury.gov/ofac/DeltaFile/1.0"
)

func sniffXML(name string, head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
	if len(h) == 0 || h[0] != '<' {
		return false
	}
	i := bytes.Index(h, []byte("<Sanctions"))
	if i < 0 {
		return false
	}
	tag := h[i:]
	if j := bytes.IndexByte(tag, '>'); j >= 0 {
		tag = tag[:j]
	}
	if len(tag) > len("<Sanctions") && !isSpace(tag[len("<Sanctions")]) {
		return false // <SanctionsEntries> or another element
	}
	low := strings.ToLower(string(tag))
	return strings.Contains(low, "ofac") || strings.Contains(low, "sdn") ||
		strings.Contains(low, "sanctionslistservice") || strings.EqualFold(filepath.Ext(name), ".xml")
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// xparty is a DistinctParty while it is being read.
type xparty struct {
	fixedRef, profileID, subType string
	line                         int
	aliases                      []xalias
	groupType                    map[string]string // NamePartGroup ID → NamePartType ID
	addrs                        []xaddr
}

type xalias struct {
	typeID  string
	primary bool
	parts   []xpart
}

type xpart struct{ group, value string }

type xaddr struct {
	asset, value string
	line         int
}

// xmlReader holds the state of one streaming pass.
type xmlReader struct {
	src   feed.Source
	prov  feed.Provenance
	yield feed.Yield

	// reference value sets, by ID
	featureAsset  map[string]string // digital currency feature types → ticker
	subTypeParty  map[string]string // PartySubType → PartyType
	partyType     map[string]string
	namePartType  map[string]string
	sanctionsType map[string]string
	refID, refAux string // attributes of the reference value being read

	year, month, day int
	dateErr          error

	p       *xparty
	alias   *xalias
	partGrp string
	feature *xaddr // the currency feature being read, nil for other features

	parties     []*xparty           // those with addresses, in order
	programs    map[string][]string // ProfileID → programs
	entryProf   string              // ProfileID of the SanctionsEntry being read
	measureType string              // SanctionsTypeID of the SanctionsMeasure being read
	featureHits int                 // addresses found in the current feature
	rejects     []feed.Item         // bad records, yielded with the rest at the end
	seenParty   map[string]int      // FixedRef → line, to spot duplicates
}

// ReadXML streams an SDN advanced XML file. Parties come before the
// sanctions entries that carry their programs, so the parties that hold
// addresses (a few hundred) are kept until the end of the file and then
// yielded; a truncated or malformed file is refused as a whole rather than
// imported without its programs.
func ReadXML(ctx context.Context, src feed.Source, yield feed.Yield) error {
	r := &xmlReader{
		src:           src,
		prov:          feed.Provenance{Source: provName(src), File: src.Path, Index: -1},
		yield:         yield,
		featureAsset:  map[string]string{},
		subTypeParty:  map[string]string{},
		partyType:     map[string]string{},
		namePartType:  map[string]string{},
		sanctionsType: map[string]string{},
		programs:      map[string][]string{},
		seenParty:     map[string]int{},
	}
	g := &guardReader{r: src.R, max: MaxXMLBytes, maxRun: maxXMLRun}
	d := xml.NewDecoder(g)
	d.Strict = true
	var stack []string
	var text bytes.Buffer
	sawRoot, closedRoot := false, false
	fail := func(err error) error {
		line, _ := d.InputPos()
		return &feed.LineError{File: src.Path, Line: line, Field: strings.Join(stack, "/"), Err: err}
	}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if closedRoot {
				return fail(errors.New("content after the root element"))
			}
			if !sawRoot {
				if t.Name.Local != "Sanctions" {
					return fail(fmt.Errorf("root element <%s> is not <Sanctions>: not an OFAC advanced XML file", t.Name.Local))
				}
				if ns := t.Name.Space; ns != "" && ns != NamespaceAdvanced && ns != NamespaceDelta && !strings.Contains(strings.ToLower(ns), "ofac") {
					return fail(fmt.Errorf("namespace %q is not OFAC's", ns))
				}
				sawRoot = true
			}
			if len(stack) >= maxXMLDepth {
				return fail(fmt.Errorf("elements nested deeper than %d", maxXMLDepth))
			}
			stack = append(stack, t.Name.Local)
			text.Reset()
			line, _ := d.InputPos()
			r.start(t, stack, line)
		case xml.CharData:
			if text.Len()+len(t) > maxXMLText {
				return fail(fmt.Errorf("element text longer than %d bytes", maxXMLText))
			}
			text.Write(t)
		case xml.EndElement:
			line, _ := d.InputPos()
			r.end(t.Name.Local, stack, strings.TrimSpace(text.String()), line)
			text.Reset()
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				closedRoot = true
			}
		}
	}
	if !sawRoot {
		return &feed.LineError{File: src.Path, Err: errors.New("no <Sanctions> element: empty or not an OFAC advanced XML file")}
	}
	return r.finish(ctx)
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func parent(stack []string) string {
	if len(stack) < 2 {
		return ""
	}
	return stack[len(stack)-2]
}

func (r *xmlReader) start(t xml.StartElement, stack []string, line int) {
	switch t.Name.Local {
	case "FeatureType", "PartySubType", "PartyType", "NamePartType", "SanctionsType":
		r.refID, r.refAux = attr(t, "ID"), attr(t, "PartyTypeID")
	case "DistinctParty":
		r.p = &xparty{fixedRef: attr(t, "FixedRef"), line: line, groupType: map[string]string{}}
	case "Profile":
		if r.p != nil && r.p.profileID == "" {
			r.p.profileID, r.p.subType = attr(t, "ID"), attr(t, "PartySubTypeID")
		}
	case "Alias":
		if r.p != nil {
			r.alias = &xalias{typeID: attr(t, "AliasTypeID"), primary: attr(t, "Primary") == "true"}
		}
	case "NamePartValue":
		r.partGrp = attr(t, "NamePartGroupID")
	case "NamePartGroup":
		if r.p != nil {
			r.p.groupType[attr(t, "ID")] = attr(t, "NamePartTypeID")
		}
	case "Feature":
		r.feature, r.featureHits = nil, 0
		if r.p != nil {
			if asset := r.featureAsset[attr(t, "FeatureTypeID")]; asset != "" {
				r.feature = &xaddr{asset: asset, line: line}
			}
		}
	case "SanctionsEntry":
		r.entryProf = attr(t, "ProfileID")
	case "SanctionsMeasure":
		r.measureType = attr(t, "SanctionsTypeID")
	}
}

func (r *xmlReader) end(local string, stack []string, text string, line int) {
	par := parent(stack)
	switch local {
	case "FeatureType":
		if par == "FeatureTypeValues" {
			if a := assetOfFeatureType(text); a != "" {
				r.featureAsset[r.refID] = a
			}
		}
	case "PartySubType":
		if par == "PartySubTypeValues" {
			r.subTypeParty[r.refID] = r.refAux
		}
	case "PartyType":
		if par == "PartyTypeValues" {
			r.partyType[r.refID] = text
		}
	case "NamePartType":
		if par == "NamePartTypeValues" {
			r.namePartType[r.refID] = text
		}
	case "SanctionsType":
		if par == "SanctionsTypeValues" {
			r.sanctionsType[r.refID] = text
		}
	case "Year", "Month", "Day":
		if par == "DateOfIssue" {
			n, err := strconv.Atoi(text)
			if err != nil {
				r.dateErr = fmt.Errorf("DateOfIssue/%s %q is not a number", local, trunc(text, 20))
			}
			switch local {
			case "Year":
				r.year = n
			case "Month":
				r.month = n
			default:
				r.day = n
			}
		}
	case "NamePartValue":
		if r.alias != nil && text != "" {
			r.alias.parts = append(r.alias.parts, xpart{group: r.partGrp, value: text})
		}
	case "Alias":
		if r.p != nil && r.alias != nil {
			r.p.aliases = append(r.p.aliases, *r.alias)
		}
		r.alias = nil
	case "VersionDetail":
		if r.feature != nil && text != "" {
			a := *r.feature
			a.value = text
			r.p.addrs = append(r.p.addrs, a)
			r.featureHits++
		}
	case "Feature":
		if r.feature != nil && r.p != nil && r.featureHits == 0 {
			prov := r.prov
			prov.Line = r.feature.line
			r.rejects = append(r.rejects, feed.Reject(prov, "Feature/VersionDetail",
				fmt.Errorf("digital currency address feature (%s) of party %s has no address", r.feature.asset, r.p.fixedRef)))
		}
		r.feature = nil
	case "DistinctParty":
		if r.p != nil && len(r.p.addrs) > 0 {
			if first, dup := r.seenParty[r.p.fixedRef]; dup && r.p.fixedRef != "" {
				prov := r.prov
				prov.Line = r.p.line
				r.rejects = append(r.rejects, feed.Reject(prov, "DistinctParty",
					fmt.Errorf("party FixedRef %s repeats the one at line %d", r.p.fixedRef, first)))
			} else {
				r.seenParty[r.p.fixedRef] = r.p.line
				r.parties = append(r.parties, r.p)
			}
		}
		r.p = nil
	case "Comment":
		if par == "SanctionsMeasure" && r.entryProf != "" && text != "" && r.isProgram(r.measureType) {
			r.programs[r.entryProf] = appendUnique(r.programs[r.entryProf], splitPrograms(text)...)
		}
	case "SanctionsEntry":
		r.entryProf = ""
	}
}

// isProgram reports whether a SanctionsMeasure type is "Program", whose
// comment names the sanctions program.
func (r *xmlReader) isProgram(typeID string) bool {
	if name, ok := r.sanctionsType[typeID]; ok {
		return strings.EqualFold(name, "Program")
	}
	return typeID == "1" // OFAC's id for Program, when the reference set is missing
}

// isPerson tells an individual from an entity, vessel or aircraft.
func (r *xmlReader) isPerson(p *xparty) bool {
	if pt, ok := r.subTypeParty[p.subType]; ok {
		if name, ok := r.partyType[pt]; ok {
			return strings.EqualFold(name, "Individual")
		}
		return pt == "1"
	}
	return p.subType == "4" // OFAC's "Unknown" subtype of Individual
}

// nameRank orders name parts the way OFAC writes a person: given names,
// then the upper-case family name.
var nameRank = map[string]int{"first name": 0, "middle name": 1, "patronymic": 2, "matronymic": 3, "last name": 4, "maiden name": 5}

func (r *xmlReader) aliasName(p *xparty, a xalias) string {
	parts := slices.Clone(a.parts)
	rank := func(x xpart) int {
		if n, ok := nameRank[strings.ToLower(r.namePartType[p.groupType[x.group]])]; ok {
			return n
		}
		return 6
	}
	slices.SortStableFunc(parts, func(x, y xpart) int { return rank(x) - rank(y) })
	vals := make([]string, len(parts))
	for i, x := range parts {
		vals[i] = x.value
	}
	return strings.Join(strings.Fields(strings.Join(vals, " ")), " ")
}

func (r *xmlReader) toParty(p *xparty) *party {
	out := &party{UID: p.fixedRef, Person: r.isPerson(p), Programs: r.programs[p.profileID]}
	for _, a := range p.aliases {
		if a.primary && out.Name == "" {
			out.Name = r.aliasName(p, a)
		}
	}
	for _, a := range p.aliases {
		n := r.aliasName(p, a)
		if out.Name == "" {
			out.Name = n
		}
		if n != out.Name {
			out.Aliases = appendUnique(out.Aliases, n)
		}
	}
	return out
}

func (r *xmlReader) finish(ctx context.Context) error {
	created := fallbackTime(r.src)
	if r.year != 0 || r.dateErr != nil {
		d := time.Date(r.year, time.Month(r.month), r.day, 0, 0, 0, 0, time.UTC)
		switch {
		case r.dateErr != nil:
			r.rejects = append(r.rejects, feed.Reject(r.prov, "DateOfIssue", r.dateErr))
		case r.year < 1950 || r.year > 9999 || d.Month() != time.Month(r.month) || d.Day() != r.day:
			r.rejects = append(r.rejects, feed.Reject(r.prov, "DateOfIssue", fmt.Errorf("%04d-%02d-%02d is not a date", r.year, r.month, r.day)))
		default:
			created = d
		}
	}
	em, err := newEmitter(r.src, created, r.yield)
	if err != nil {
		return err
	}
	for _, it := range r.rejects {
		if err := r.yield(it); err != nil {
			return err
		}
	}
	// Group by (asset, address): an address listed for two parties is one
	// indicator naming both.
	type key struct{ asset, addr string }
	byKey := map[key]*wallet{}
	var order []*wallet
	for _, xp := range r.parties {
		p := r.toParty(xp)
		if p.Name == "" {
			prov := r.prov
			prov.Line = xp.line
			if err := r.yield(feed.Reject(prov, "DistinctParty/Profile/Identity/Alias", fmt.Errorf("party %s has no name; its addresses are imported without it", xp.fixedRef))); err != nil {
				return err
			}
		}
		for _, a := range xp.addrs {
			k := key{a.asset, a.value}
			w := byKey[k]
			if w == nil {
				prov := r.prov
				prov.Line = a.line
				w = &wallet{Asset: a.asset, Address: a.value, Prov: prov}
				byKey[k] = w
				order = append(order, w)
			}
			if p.Name != "" && !slices.Contains(w.Parties, p) {
				w.Parties = append(w.Parties, p)
			}
		}
	}
	for i, w := range order {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := em.emit(*w); err != nil {
			return err
		}
	}
	return nil
}

// guardReader bounds the size of the input and the length of any run of
// bytes without a '<' (a text node, or a tag with its attributes), so that a
// hostile file cannot make the decoder buffer a gigantic token.
type guardReader struct {
	r      io.Reader
	n, max int64
	run    int
	maxRun int
}

var errTooLarge = errors.New("input too large")

func (g *guardReader) Read(p []byte) (int, error) {
	if len(p) > 64<<10 {
		p = p[:64<<10] // keeps a run inside one chunk shorter than maxRun
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	if g.n > g.max {
		return 0, fmt.Errorf("%w: more than %d bytes", errTooLarge, g.max)
	}
	chunk := p[:n]
	if first := bytes.IndexByte(chunk, '<'); first < 0 {
		g.run += n
	} else {
		if g.run+first > g.maxRun {
			return 0, fmt.Errorf("%w: a text node or tag longer than %d bytes", errTooLarge, g.maxRun)
		}
		g.run = n - 1 - bytes.LastIndexByte(chunk, '<')
	}
	if g.run > g.maxRun {
		return 0, fmt.Errorf("%w: a text node or tag longer than %d bytes", errTooLarge, g.maxRun)
	}
	return n, err
}
