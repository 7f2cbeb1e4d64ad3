// Package misp imports MISP data: events (single exports, API responses and
// feed directories) and galaxy cluster files.
//
// Event mapping, in short (see event.go for the details):
//   - the event becomes a report (id report--<event uuid>) whose object_refs
//     list everything made from it; its Orgc becomes the identity named in
//     created_by_ref;
//   - an attribute with to_ids true becomes an indicator
//     (indicator--<attribute uuid>); with to_ids false it becomes the
//     cyber-observable it names (an SCO with its deterministic id), because
//     MISP's to_ids flag is exactly "use this for detection": turning
//     contextual values (a file-sharing host, a victim's address) into
//     indicators would make the scanner raise false alarms;
//   - a file object's filename and hashes become one indicator
//     (indicator--<object uuid>) whose pattern ANDs them; other objects fall
//     back to one indicator per attribute;
//   - tlp:* tags become TLP 2.0 markings, an attribute's tag overriding the
//     event's; Source.TLP marks what carries no TLP tag;
//   - galaxy clusters become intrusion-sets, malware, tools or
//     attack-patterns (ids from the cluster uuids) linked by indicates and
//     uses relationships.
//
// Contextual attribute types (text, comment, port, datetime, …) carry no
// observable and are skipped silently; link attributes become external
// references of the report; any other type Bulwark cannot map is rejected
// with its field (Event.Attribute[i].type) and reading goes on.
//
// MISP files are read whole (events are small) but never more than MaxSize
// bytes.
package misp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// MaxSize bounds how much of one MISP file is read.
var MaxSize int64 = 256 << 20

// MaxValue bounds one attribute value: real indicators are short, and a
// pattern built from a huge value would be stored and indexed as is.
const MaxValue = 64 << 10

// Event is the MISP event format. Read accepts {"Event":{…}}, a bare event
// object, an API response {"response":[{"Event":…},…]}, and a feed
// manifest.json, in which case the events it lists are read from the
// <uuid>.json files beside it (see ReadFeedDir).
var Event = feed.Format{
	Name:  "misp",
	Doc:   "MISP event JSON (export, API response or feed manifest.json)",
	Sniff: sniffEvent,
	Read:  ReadEvent,
}

// Galaxy is the MISP galaxy cluster file format (misp-galaxy clusters/*.json).
var Galaxy = feed.Format{
	Name:  "misp-galaxy",
	Doc:   "MISP galaxy cluster file (threat actors, malware, tools)",
	Sniff: sniffGalaxy,
	Read:  ReadGalaxy,
}

// Formats lists this package's formats, event first.
var Formats = []feed.Format{Event, Galaxy}

var (
	reValueKey = regexp.MustCompile(`"value"\s*:`)
	reKey      = func(k string) *regexp.Regexp { return regexp.MustCompile(`"` + k + `"\s*:`) }
	reEvent    = reKey("Event")
	reInfo     = reKey("info")
	reAttr     = reKey("Attribute")
	reValues   = reKey("values")
	reUUID     = reKey("uuid")
	reType     = reKey("type")
	reName     = reKey("name")
	reSpec     = reKey("spec_version")
	reObjects  = reKey("objects")
)

func trimHead(head []byte) []byte {
	return bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
}

func sniffEvent(name string, head []byte) bool {
	h := trimHead(head)
	if len(h) == 0 || h[0] != '{' || reSpec.Match(h) || reObjects.Match(h) {
		return false
	}
	if strings.EqualFold(filepath.Base(name), "manifest.json") && reInfo.Match(h) {
		return true
	}
	return reEvent.Match(h) && (reInfo.Match(h) || reAttr.Match(h) || reUUID.Match(h)) ||
		reAttr.Match(h) && reInfo.Match(h)
}

func sniffGalaxy(name string, head []byte) bool {
	h := trimHead(head)
	if len(h) == 0 || h[0] != '{' || reSpec.Match(h) || reEvent.Match(h) {
		return false
	}
	return reValues.Match(h) && reUUID.Match(h) && reType.Match(h) && reName.Match(h) && reValueKey.Match(h)
}

// ErrTooLarge is returned for a file over MaxSize.
var ErrTooLarge = errors.New("MISP file too large")

// readAll reads r whole, refusing more than MaxSize bytes.
func readAll(r io.Reader) ([]byte, error) {
	if r == nil {
		return nil, errors.New("no input")
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > MaxSize {
		return nil, fmt.Errorf("%w: more than %d MiB", ErrTooLarge, MaxSize>>20)
	}
	return b, nil
}

// flexString accepts a JSON string or number (MISP writes ids and
// timestamps either way) and null.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	case b[0] == '-' || b[0] >= '0' && b[0] <= '9':
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexString(n.String())
		return nil
	}
	return errors.New("must be a string or number")
}

// flexBool accepts true/false, 0/1 and "0"/"1" (older MISP exports).
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(bytes.TrimSpace(b)), `"`) {
	case "true", "1", "True":
		*f = true
	case "false", "0", "False", "", "null":
		*f = false
	default:
		return errors.New("must be a boolean")
	}
	return nil
}

// unixTime parses a MISP epoch-seconds timestamp; zero when absent or 0.
func unixTime(s flexString) (time.Time, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(s)), 10, 64)
	// Bounds keep the time formattable as a four-digit-year STIX timestamp.
	if err != nil || n <= 0 || n > 253402300799 {
		return time.Time{}, false
	}
	return time.Unix(n, 0).UTC(), true
}

// galaxyEpoch anchors the synthetic created/modified of galaxy-derived
// objects. Galaxy clusters carry a version number but no dates, so an
// object's modified is galaxyEpoch plus its version in seconds: the same
// galaxy version always gives the same object version (re-import is
// idempotent) and a newer galaxy supersedes an older one. The epoch predates
// every MITRE ATT&CK object, so a stub made from a mitre-* cluster (which
// shares ATT&CK's id) never shadows the real ATT&CK object.
var galaxyEpoch = time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)

// tag is a MISP tag.
type tag struct {
	Name string `json:"name"`
}

// tlpOfTags returns the most restrictive TLP among tags, TLPNone when none.
func tlpOfTags(tags []tag) stix.TLP {
	t := stix.TLPNone
	for _, g := range tags {
		n := strings.ToLower(strings.TrimSpace(g.Name))
		if !strings.HasPrefix(n, "tlp:") {
			continue
		}
		if l, err := stix.ParseTLP(n); err == nil && l > t {
			t = l
		}
	}
	return t
}

// labelsOfTags keeps the tags that are neither TLP nor galaxy tags (those
// become markings and objects).
func labelsOfTags(tags []tag) []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range tags {
		n := strings.TrimSpace(g.Name)
		l := strings.ToLower(n)
		if n == "" || len(n) > 256 || strings.HasPrefix(l, "tlp:") || strings.HasPrefix(l, "misp-galaxy:") || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}

// validUUID reports whether s is written as a UUID (36 characters, hex and
// hyphens), whatever its version.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
			return false
		}
	}
	return true
}

// idFromUUID returns typ--<uuid> when the MISP uuid is one STIX accepts
// (RFC 4122, versions 1–5), so MISP and STIX views of a thing share an id
// (mitre-* galaxies reuse ATT&CK's). Other uuids (MISP now mints UUIDv7)
// map to a deterministic id derived from them. ok is false when s is not a
// UUID at all.
func idFromUUID(typ, s string) (string, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if !validUUID(s) {
		return "", false
	}
	id := typ + "--" + s
	if _, _, err := stix.ParseID(id); err == nil {
		return id, true
	}
	return stix.DeterministicID(typ, "misp-uuid", s), true
}

func sourceName(src feed.Source) string {
	if src.Name != "" {
		return src.Name
	}
	return "MISP"
}

func path(src feed.Source) string {
	if src.Path == "" {
		return "-"
	}
	return src.Path
}

// fieldErr names the field a json.Unmarshal error is about.
func fieldErr(prefix string, err error) (string, error) {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return prefix + "." + te.Field, fmt.Errorf("wrong JSON type: got %s, want %s", te.Value, te.Type)
	}
	return prefix, err
}
