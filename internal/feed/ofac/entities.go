package ofac

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/bulwark-intel/bulwark/internal/feed"
)

// Entities is an address → SDN entity map (crypto-sanctions-list's
// sanctioned-addresses.json). Addresses there are lower-cased by its
// publisher: see the package documentation.
var Entities = feed.Format{
	Name:  "ofac-entities",
	Doc:   "OFAC SDN address → entity map (JSON: metadata + addresses{addr: {type, entries[{entity, program, uid, akas}]}})",
	Sniff: sniffEntities,
	Read:  ReadEntities,
}

// MaxEntitiesBytes bounds the map, which is read whole (the real one is
// under 1 MiB).
const MaxEntitiesBytes = 64 << 20

func sniffEntities(name string, head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
	if len(h) == 0 || h[0] != '{' {
		return false
	}
	s := string(h)
	return strings.Contains(s, `"addresses"`) &&
		(strings.Contains(s, `"Digital Currency Address`) || strings.Contains(s, `"sdnListDate"`))
}

// Entry is one SDN listing of an address in the entity map.
type Entry struct {
	Entity   string   // name as OFAC writes it: "LAZARUS GROUP", "Dmitrii KARASAVIDI"
	UID      string   // SDN entry uid
	Asset    string   // ticker from the entry's type, e.g. "ETH"
	Programs []string // e.g. ["DPRK3"]
	AKAs     []string
}

// Person guesses whether the entry names an individual: OFAC writes
// organisations wholly in upper case and people as "Given FAMILY".
func (e Entry) Person() bool {
	for _, r := range e.Entity {
		if unicode.IsLower(r) {
			return true
		}
	}
	return false
}

// EntityMap is the map loaded in memory, for lookups.
type EntityMap struct {
	Date   time.Time          // the SDN list's date, zero when absent
	byAddr map[string][]Entry // key lower-cased
}

// Lookup returns the entries of an address, whatever its case.
func (m *EntityMap) Lookup(addr string) []Entry {
	return m.byAddr[strings.ToLower(strings.TrimSpace(addr))]
}

// Len is the number of addresses in the map.
func (m *EntityMap) Len() int { return len(m.byAddr) }

// LoadEntityMap reads a whole entity map for lookups; malformed entries are
// skipped.
func LoadEntityMap(r io.Reader) (*EntityMap, error) {
	m := &EntityMap{byAddr: map[string][]Entry{}}
	date, err := parseEntityMap(context.Background(), r, "", func(addr string, _ int, entries []Entry) error {
		k := strings.ToLower(addr)
		m.byAddr[k] = append(m.byAddr[k], entries...)
		return nil
	}, func(feed.Item) error { return nil })
	m.Date = date
	return m, err
}

type entityMeta struct {
	SDNListDate string `json:"sdnListDate"`
	LastUpdated string `json:"lastUpdated"`
}

type entityJSON struct {
	Type    string `json:"type"`
	Entries []struct {
		Entity  string   `json:"entity"`
		Program string   `json:"program"`
		Type    string   `json:"type"`
		UID     string   `json:"uid"`
		AKAs    []string `json:"akas"`
	} `json:"entries"`
}

// ReadEntities reads an entity map: each (asset, address) becomes a wallet
// attributed to its SDN entities, dated by the map's SDN list date.
func ReadEntities(ctx context.Context, src feed.Source, yield feed.Yield) error {
	prov := feed.Provenance{Source: provName(src), File: src.Path, Index: -1}
	var em *emitter // made by ready, before the first address
	_, err := parseEntityMap(ctx, src.R, src.Path, func(addr string, line int, entries []Entry) error {
		p := prov
		p.Line = line
		// Group the entries by asset: one address may be listed as ETH and ETC.
		var ws []wallet
		for _, e := range entries {
			i := 0
			for i < len(ws) && ws[i].Asset != e.Asset {
				i++
			}
			if i == len(ws) {
				ws = append(ws, wallet{Asset: e.Asset, Address: addr, Prov: p})
			}
			ws[i].Parties = append(ws[i].Parties, &party{UID: e.UID, Name: e.Entity, Aliases: e.AKAs, Person: e.Person(), Programs: e.Programs})
		}
		for _, w := range ws {
			if err := em.emit(w); err != nil {
				return err
			}
		}
		return nil
	}, func(it feed.Item) error {
		return yield(it)
	}, func(date time.Time) error {
		// The date is known (metadata read, or found absent): start emitting.
		if date.IsZero() {
			date = fallbackTime(src)
		}
		var err error
		em, err = newEmitter(src, date, yield)
		return err
	})
	return err
}

// parseEntityMap streams the map's addresses to each. ready, when given, is
// called once with the list's date before the first address is passed on.
func parseEntityMap(ctx context.Context, r io.Reader, path string, each func(addr string, line int, entries []Entry) error,
	reject func(feed.Item) error, ready ...func(time.Time) error) (time.Time, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxEntitiesBytes+1))
	if err != nil {
		return time.Time{}, &feed.LineError{File: path, Err: err}
	}
	if len(data) > MaxEntitiesBytes {
		return time.Time{}, &feed.LineError{File: path, Err: fmt.Errorf("%w: entity map larger than %d bytes", errTooLarge, MaxEntitiesBytes)}
	}
	// The date is in "metadata", which may come after "addresses": look for
	// it first. A malformed document is reported by the main pass below.
	var top struct {
		Metadata *entityMeta `json:"metadata"`
	}
	var date time.Time
	var dateErr error
	if json.Unmarshal(data, &top) == nil && top.Metadata != nil {
		date, dateErr = metaDate(*top.Metadata)
	}
	prov := feed.Provenance{Source: feedName, File: path, Index: -1}
	if dateErr != nil {
		if err := reject(feed.Reject(prov, "metadata", dateErr)); err != nil {
			return date, err
		}
	}
	for _, f := range ready {
		if err := f(date); err != nil {
			return date, err
		}
	}

	lines := newLineCounter(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	fail := func(field string, err error) error {
		return &feed.LineError{File: path, Line: lines.at(dec.InputOffset()), Field: field, Err: noEOF(err)}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return date, fail("", errors.New("not a JSON object"))
	}
	sawAddresses := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return date, fail("", err)
		}
		key, _ := tok.(string)
		if key != "addresses" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return date, fail(key, err)
			}
			continue
		}
		sawAddresses = true
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return date, fail("addresses", errors.New("want an object of address → entries"))
		}
		for i := 0; dec.More(); i++ {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return date, err
				}
			}
			tok, err := dec.Token()
			if err != nil {
				return date, fail("addresses", err)
			}
			addr, _ := tok.(string)
			line := lines.at(dec.InputOffset())
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return date, fail("addresses."+trunc(addr, 64), err)
			}
			entries, err := decodeEntries(raw)
			if err != nil {
				p := prov
				p.Line = line
				if err := reject(feed.Reject(p, "addresses."+trunc(addr, 64), err)); err != nil {
					return date, err
				}
				continue
			}
			if err := each(strings.TrimSpace(addr), line, entries); err != nil {
				return date, err
			}
		}
		if _, err := dec.Token(); err != nil {
			return date, fail("addresses", err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return date, fail("", err)
	}
	if !sawAddresses {
		return date, fail("addresses", errors.New("missing"))
	}
	return date, nil
}

func decodeEntries(raw json.RawMessage) ([]Entry, error) {
	var v entityJSON
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("malformed entry: %w", err)
	}
	if len(v.Entries) == 0 {
		return nil, errors.New("no entries")
	}
	var out []Entry
	for i, e := range v.Entries {
		typ := e.Type
		if typ == "" {
			typ = v.Type
		}
		asset := assetOfFeatureType(typ)
		if asset == "" {
			return nil, fmt.Errorf("entries[%d].type %q is not a digital currency address type", i, trunc(typ, 60))
		}
		name := strings.TrimSpace(e.Entity)
		if name == "" {
			return nil, fmt.Errorf("entries[%d].entity is empty", i)
		}
		var akas []string
		for _, a := range e.AKAs {
			if a = strings.TrimSpace(a); a != name {
				akas = appendUnique(akas, a)
			}
		}
		out = append(out, Entry{Entity: name, UID: strings.TrimSpace(e.UID), Asset: asset, Programs: splitPrograms(e.Program), AKAs: akas})
	}
	return out, nil
}

func metaDate(m entityMeta) (time.Time, error) {
	if s := strings.TrimSpace(m.SDNListDate); s != "" {
		t, err := time.Parse("01/02/2006", s)
		if err != nil {
			return time.Time{}, fmt.Errorf("sdnListDate %q is not MM/DD/YYYY", trunc(s, 30))
		}
		return t, nil
	}
	if s := strings.TrimSpace(m.LastUpdated); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("lastUpdated %q is not an RFC 3339 time", trunc(s, 40))
		}
		return t.UTC(), nil
	}
	return time.Time{}, nil
}
