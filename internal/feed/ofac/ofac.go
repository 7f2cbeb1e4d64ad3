// Package ofac imports the digital-currency addresses of the US Treasury's
// OFAC SDN list (Specially Designated Nationals) as attribution indicators.
//
// Three shapes of the same data are read:
//
//   - XML: the official sdn_advanced.xml, streamed token by token. It is the
//     only one that names the sanctioned party, its aliases, whether it is a
//     person, and its programs (DPRK3, CYBER2, …).
//   - List: the per-asset lists derived from it (sanctioned_addresses_ETH.txt,
//     one address a line, or the .json array), the asset taken from the file
//     name. Addresses keep their case.
//   - Entities: an address → SDN entity map (JSON, as published by
//     crypto-sanctions-list). Its publisher lower-cases every address, so
//     base58 addresses (Bitcoin, TRON, …) lose their case there and will not
//     match the SCOs made from the XML or the lists; hex (0x…) addresses are
//     case-insensitive and only lose their checksum.
//
// For each address the readers yield a cryptocurrency-wallet SCO, an
// indicator labelled "sanctioned" with x_bulwark_asset, and a based-on
// relationship from the indicator to the SCO. When the party is known, an
// organisation becomes an intrusion-set (the indicator "indicates" it) and a
// person an individual identity (the indicator is "related-to" it, since
// STIX defines indicates only towards threats). Everything is created by the
// identity "OFAC" and marked TLP:CLEAR unless Source.TLP says otherwise.
// Identifiers and timestamps derive from the data (publication date, else
// Source.Time), so importing the same file again yields the same versions.
// All three share indicator ids (one per asset and address; the newer date
// wins), and the undated lists are dated before every dated source, so a
// bare listing never replaces one that names the party.
package ofac

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

const (
	feedName     = "OFAC SDN"
	identityName = "OFAC"
	sanctioned   = "sanctioned"
	// detailsURL is OFAC's public page for one SDN entry.
	detailsURL = "https://sanctionssearch.ofac.treas.gov/Details.aspx?id="
)

// identityCreated is a fixed creation date for the OFAC identity (the day
// OFAC first listed digital currency addresses), so that every import yields
// the very same identity object whatever the file's date.
var identityCreated = time.Date(2018, 11, 28, 0, 0, 0, 0, time.UTC)

// party is a sanctioned person or organisation.
type party struct {
	UID      string // SDN entry uid (the advanced XML's FixedRef)
	Name     string
	Aliases  []string
	Person   bool
	Programs []string
}

// wallet is one address of one asset, with the parties it is listed for.
type wallet struct {
	Asset   string // OFAC's ticker: XBT, ETH, USDT, …
	Address string
	Parties []*party
	Prov    feed.Provenance
}

// emitter turns wallets into STIX objects, yielding shared objects (the
// OFAC identity, SCOs, entities) once per file.
type emitter struct {
	yield    feed.Yield
	created  time.Time
	markings []string
	identity *stix.Object
	sent     map[string]bool
}

func newEmitter(src feed.Source, created time.Time, yield feed.Yield) (*emitter, error) {
	tlp := src.TLP
	if tlp == stix.TLPNone {
		tlp = stix.TLPClear
	}
	name := identityName
	if src.Name != "" {
		name = src.Name
	}
	markings := feed.TLPMarkings(tlp)
	ident, err := feed.Identity(name, "organization", identityCreated, map[string]any{
		"description":         "Office of Foreign Assets Control, U.S. Department of the Treasury: publisher of the Specially Designated Nationals (SDN) list.",
		"object_marking_refs": markings,
	})
	if err != nil {
		return nil, err
	}
	return &emitter{yield: yield, created: created, markings: markings, identity: ident, sent: map[string]bool{}}, nil
}

// send yields obj unless an object with its id was yielded already.
func (e *emitter) send(obj *stix.Object, prov feed.Provenance) error {
	if e.sent[obj.ID] {
		return nil
	}
	e.sent[obj.ID] = true
	return e.yield(feed.Item{Object: obj, Prov: prov})
}

func (e *emitter) common(labels []string, extra map[string]any, refs []stix.ExternalReference) feed.Common {
	return feed.Common{
		CreatedBy: e.identity.ID,
		Created:   e.created,
		Markings:  e.markings,
		Labels:    labels,
		ExtRefs:   refs,
		Extra:     extra,
	}
}

// emit yields the objects for one wallet. A wallet whose objects cannot be
// built is rejected; reading goes on.
func (e *emitter) emit(w wallet) error {
	prov := w.Prov
	if err := e.send(e.identity, prov); err != nil {
		return err
	}
	if err := checkAddress(w.Address); err != nil {
		return e.yield(feed.Reject(prov, "address", err))
	}
	sco, err := feed.Observable(feed.KindWallet, w.Address)
	if err != nil {
		return e.yield(feed.Reject(prov, "address", err))
	}
	pattern, err := feed.Pattern(feed.KindWallet, w.Address)
	if err != nil {
		return e.yield(feed.Reject(prov, "address", err))
	}

	var names, programs []string
	var refs []stix.ExternalReference
	for _, p := range w.Parties {
		names = append(names, p.Name)
		programs = appendUnique(programs, p.Programs...)
		if p.UID != "" {
			refs = append(refs, stix.ExternalReference{SourceName: feedName, ExternalID: p.UID, URL: detailsURL + p.UID, Description: p.Name})
		}
	}
	asset := w.Asset
	what := "a sanctioned"
	if asset != "" {
		what += " " + asset
	}
	name := "OFAC SDN: " + what + " address"
	desc := "Digital currency address (" + orUnknown(asset) + ") listed on the OFAC SDN list."
	if len(names) > 0 {
		name = "OFAC SDN: " + strings.Join(names, "; ")
		if asset != "" {
			name += " (" + asset + ")"
		}
		desc = "Digital currency address (" + orUnknown(asset) + ") of " + strings.Join(names, "; ") + " on the OFAC SDN list"
		if len(programs) > 0 {
			desc += " (programs " + strings.Join(programs, ", ") + ")"
		}
		desc += "."
	}
	extra := map[string]any{}
	if asset != "" {
		extra["x_bulwark_asset"] = asset
	}
	if len(programs) > 0 {
		extra["x_bulwark_sdn_programs"] = programs
	}
	c := e.common([]string{sanctioned}, extra, refs)
	id := stix.DeterministicID("indicator", "ofac", asset, w.Address)
	ind, err := feed.Indicator(id, pattern, name, time.Time{}, c, map[string]any{
		"indicator_types": []string{"attribution"},
		"description":     desc,
	})
	if err != nil {
		return e.yield(feed.Reject(prov, "indicator", err))
	}
	if err := e.send(sco, prov); err != nil {
		return err
	}
	if err := e.send(ind, prov); err != nil {
		return err
	}
	relC := e.common(nil, nil, nil)
	rel, err := feed.Relationship(ind.ID, "based-on", sco.ID, relC)
	if err != nil {
		return e.yield(feed.Reject(prov, "relationship", err))
	}
	if err := e.send(rel, prov); err != nil {
		return err
	}
	for _, p := range w.Parties {
		ent, relType, err := e.entity(p)
		if err != nil {
			if err := e.yield(feed.Reject(prov, "party", err)); err != nil {
				return err
			}
			continue
		}
		if err := e.send(ent, prov); err != nil {
			return err
		}
		rel, err := feed.Relationship(ind.ID, relType, ent.ID, relC)
		if err != nil {
			return e.yield(feed.Reject(prov, "relationship", err))
		}
		if err := e.send(rel, prov); err != nil {
			return err
		}
	}
	return nil
}

// entity builds the object for a party and the type of relationship an
// indicator of its address has to it.
func (e *emitter) entity(p *party) (*stix.Object, string, error) {
	if strings.TrimSpace(p.Name) == "" {
		return nil, "", errors.New("party has no name")
	}
	key := p.UID
	if key == "" {
		key = "name:" + strings.ToUpper(p.Name)
	}
	var refs []stix.ExternalReference
	if p.UID != "" {
		refs = []stix.ExternalReference{{SourceName: feedName, ExternalID: p.UID, URL: detailsURL + p.UID}}
	}
	extra := map[string]any{}
	if len(p.Programs) > 0 {
		extra["x_bulwark_sdn_programs"] = p.Programs
	}
	props := map[string]any{"name": p.Name}
	c := e.common([]string{sanctioned}, extra, refs)
	if p.Person {
		props["identity_class"] = "individual"
		if len(p.Aliases) > 0 {
			extra["x_bulwark_aliases"] = p.Aliases
		}
		o, err := feed.SDO("identity", stix.DeterministicID("identity", "ofac-sdn", key), c, props)
		return o, "related-to", err
	}
	if len(p.Aliases) > 0 {
		props["aliases"] = p.Aliases
	}
	o, err := feed.SDO("intrusion-set", stix.DeterministicID("intrusion-set", "ofac-sdn", key), c, props)
	return o, "indicates", err
}

// checkAddress accepts the character set of every address form OFAC lists
// (base58, bech32, hex, CashAddr with its prefix) and refuses anything that
// cannot be an address: spaces, quotes, control characters, absurd lengths.
func checkAddress(a string) error {
	if len(a) < 20 || len(a) > 128 {
		return fmt.Errorf("%q is not an address: length %d, want 20–128", trunc(a, 40), len(a))
	}
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == ':' || c == '_' || c == '-') {
			return fmt.Errorf("%q is not an address: character %q at %d", trunc(a, 40), c, i)
		}
	}
	return nil
}

// isHex40 reports whether s is 0x followed by 40 hex digits (EVM chains).
func isHex40(s string) bool {
	if len(s) != 42 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

const base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// looksLikeAddress is the stricter test used for sniffing a plain list: an
// EVM hex address, a bech32 or CashAddr address, or base58 of address length
// mixing upper and lower case (which hashes and hex never do).
func looksLikeAddress(s string) bool {
	if isHex40(s) {
		return true
	}
	low := strings.ToLower(s)
	for _, p := range []string{"bc1", "ltc1", "bitcoincash:q", "bitcoincash:p"} {
		if strings.HasPrefix(low, p) && s == low && len(s) >= 26 && len(s) <= 90 {
			return checkAddress(s) == nil
		}
	}
	if len(s) == 42 && (s[0] == 'q' || s[0] == 'p') && s == low && checkAddress(s) == nil {
		return true // CashAddr without prefix
	}
	if len(s) < 25 || len(s) > 110 {
		return false
	}
	upper, lower := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !strings.ContainsRune(base58, rune(c)) {
			return false
		}
		upper = upper || c >= 'A' && c <= 'Z'
		lower = lower || c >= 'a' && c <= 'z'
	}
	return upper && lower
}

// assetOfFeatureType returns the ticker of an SDN feature type such as
// "Digital Currency Address - XBT", or "" for other feature types.
func assetOfFeatureType(s string) string {
	const prefix = "digital currency address"
	s = strings.TrimSpace(s)
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return ""
	}
	rest := strings.TrimSpace(s[len(prefix):])
	rest = strings.TrimSpace(strings.TrimLeft(rest, "-–:"))
	if rest == "" {
		return "UNKNOWN"
	}
	return strings.ToUpper(rest)
}

func appendUnique(list []string, vals ...string) []string {
	for _, v := range vals {
		if v != "" && !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

// splitPrograms splits "CYBER2, ELECTION-EO13848" into its programs.
func splitPrograms(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		out = appendUnique(out, strings.TrimSpace(p))
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "asset unknown"
	}
	return s
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// fallbackTime is the timestamp of files that carry no date: the file's
// modification time, or now for input without one (stdin).
func fallbackTime(src feed.Source) time.Time {
	if !src.Time.IsZero() {
		return src.Time.UTC()
	}
	return time.Now().UTC()
}

func provName(src feed.Source) string {
	if src.Name != "" {
		return src.Name
	}
	return feedName
}
