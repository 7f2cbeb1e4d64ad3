package stix

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/uuid"
)

// scoNamespace is the UUIDv5 namespace STIX 2.1 fixes for deterministic
// cyber-observable identifiers (§2.9).
var scoNamespace = uuid.MustParse("00abedb4-aa42-466c-9c01-fed23315a9b7")

// NewID returns a fresh random identifier of the given type.
func NewID(typ string) string { return typ + "--" + uuid.NewString() }

// DeterministicID returns typ--UUIDv5(namespace, name): identifiers that an
// importer derives from the data, so importing the same file twice yields the
// same objects. It is for Bulwark's own objects, not for SCOs (see SCOID).
func DeterministicID(typ string, parts ...string) string {
	return typ + "--" + DeterministicUUID(typ, parts...).String()
}

// DeterministicUUID is the UUID part of DeterministicID, for callers that
// keep identifiers as 16 bytes.
func DeterministicUUID(typ string, parts ...string) uuid.UUID {
	return uuid.NewSHA1(bulwarkNamespace, []byte(typ+"\x1f"+strings.Join(parts, "\x1f")))
}

// bulwarkNamespace scopes DeterministicID so its ids never collide with
// identifiers made in the STIX SCO namespace.
var bulwarkNamespace = uuid.MustParse("8d1f4b3e-2f6a-4c59-9a57-b5d0f1a3c7e2")

// ParseID splits "type--uuid" and checks both halves.
func ParseID(id string) (typ string, u uuid.UUID, err error) {
	typ, rest, ok := strings.Cut(id, "--")
	if !ok {
		return "", uuid.UUID{}, fmt.Errorf("identifier %q is not type--UUID", trunc(id, 80))
	}
	if !validTypeName(typ) {
		return "", uuid.UUID{}, fmt.Errorf("identifier %q has an invalid type part", trunc(id, 80))
	}
	if len(rest) != 36 {
		return "", uuid.UUID{}, fmt.Errorf("identifier %q has no RFC 4122 UUID", trunc(id, 80))
	}
	u, perr := uuid.Parse(rest)
	// The STIX identifier schema takes RFC 4122 UUIDs of versions 1 to 5.
	if perr != nil || u.Variant() != uuid.RFC4122 || u.Version() < 1 || u.Version() > 5 {
		return "", uuid.UUID{}, fmt.Errorf("identifier %q has no RFC 4122 UUID", trunc(id, 80))
	}
	return typ, u, nil
}

// validTypeName checks a STIX type name: 3–250 characters of a–z, 0–9 and
// hyphens, not starting or ending with a hyphen, no double hyphen.
func validTypeName(s string) bool {
	if len(s) < 3 || len(s) > 250 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// idContributing lists, per SCO type, the properties whose values make up
// the deterministic identifier (STIX 2.1 §6, "ID Contributing Properties").
var idContributing = map[string][]string{
	"artifact":              {"hashes", "payload_bin"},
	"autonomous-system":     {"number"},
	"directory":             {"path"},
	"domain-name":           {"value"},
	"email-addr":            {"value"},
	"email-message":         {"from_ref", "subject", "body"},
	"file":                  {"hashes", "name", "extensions", "parent_directory_ref"},
	"ipv4-addr":             {"value"},
	"ipv6-addr":             {"value"},
	"mac-addr":              {"value"},
	"mutex":                 {"name"},
	"network-traffic":       {"start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"},
	"software":              {"name", "cpe", "swid", "vendor", "version"},
	"url":                   {"value"},
	"user-account":          {"account_type", "user_id", "account_login"},
	"windows-registry-key":  {"key", "values"},
	"x509-certificate":      {"hashes", "serial_number"},
	"cryptocurrency-wallet": {"value"},
}

// hashPreference is the order in which one hash is picked when hashes
// contributes to an identifier.
var hashPreference = []string{"MD5", "SHA-1", "SHA-256", "SHA-512"}

// SCOID computes the deterministic identifier of a cyber-observable from its
// properties. It reports false for types without contributing properties
// (process) or when none of them is present; such objects take a UUIDv4.
func SCOID(typ string, props map[string]any) (string, bool) {
	names, ok := idContributing[typ]
	if !ok {
		return "", false
	}
	contrib := map[string]any{}
	for _, n := range names {
		v, ok := props[n]
		if !ok || v == nil {
			continue
		}
		if n == "hashes" {
			h, ok := pickHash(v)
			if !ok {
				continue
			}
			v = h
		}
		contrib[n] = v
	}
	if len(contrib) == 0 {
		return "", false
	}
	name, err := Canonical(contrib)
	if err != nil {
		return "", false
	}
	return typ + "--" + uuid.NewSHA1(scoNamespace, name).String(), true
}

func pickHash(v any) (map[string]any, bool) {
	var hashes map[string]any
	switch h := v.(type) {
	case map[string]any:
		hashes = h
	case map[string]string:
		hashes = make(map[string]any, len(h))
		for k, x := range h {
			hashes[k] = x
		}
	default:
		return nil, false
	}
	for _, pref := range hashPreference {
		if x, ok := hashes[pref]; ok {
			return map[string]any{pref: x}, true
		}
	}
	// No preferred algorithm: take the first by name so the choice is stable.
	keys := make([]string, 0, len(hashes))
	for k := range hashes {
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, false
	}
	slices.Sort(keys)
	return map[string]any{keys[0]: hashes[keys[0]]}, true
}

// Canonical serialises v per RFC 8785 (JSON Canonicalization Scheme), as
// STIX requires for deterministic identifiers. v holds what encoding/json
// produces (maps, slices, strings, float64 or json.Number, bools, nil) or
// values that marshal to it.
func Canonical(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := canon(&buf, v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func canon(buf *bytes.Buffer, v any) error {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case string:
		canonString(buf, x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return fmt.Errorf("canonical: number %q: %w", x, err)
		}
		return canonNumber(buf, f)
	case float64:
		return canonNumber(buf, x)
	case int:
		buf.WriteString(strconv.Itoa(x))
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	case []any:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := canon(buf, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case []string:
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			canonString(buf, e)
		}
		buf.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		// RFC 8785 orders keys by their UTF-16 code units.
		slices.SortFunc(keys, func(a, b string) int {
			return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
		})
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			canonString(buf, k)
			buf.WriteByte(':')
			if err := canon(buf, x[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case json.RawMessage:
		d := json.NewDecoder(bytes.NewReader(x))
		d.UseNumber()
		var y any
		if err := d.Decode(&y); err != nil {
			return fmt.Errorf("canonical: %w", err)
		}
		return canon(buf, y)
	default:
		raw, err := json.Marshal(x)
		if err != nil {
			return fmt.Errorf("canonical: %w", err)
		}
		return canon(buf, json.RawMessage(raw))
	}
	return nil
}

func canonNumber(buf *bytes.Buffer, f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("canonical: number %v not allowed", f)
	}
	if f == 0 {
		buf.WriteByte('0')
		return nil
	}
	// ECMAScript Number.prototype.toString: plain notation for 1e-6 <= |f| < 1e21.
	if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
		buf.WriteString(strconv.FormatFloat(f, 'f', -1, 64))
		return nil
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	// Go writes e+07 / e-07; ECMAScript writes e+7 / e-7.
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[0]
	exp = strings.TrimLeft(exp[1:], "0")
	buf.WriteString(mant + "e" + string(sign) + exp)
	return nil
}

func canonString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			buf.WriteString(`\"`)
		case r == '\\':
			buf.WriteString(`\\`)
		case r == '\b':
			buf.WriteString(`\b`)
		case r == '\f':
			buf.WriteString(`\f`)
		case r == '\n':
			buf.WriteString(`\n`)
		case r == '\r':
			buf.WriteString(`\r`)
		case r == '\t':
			buf.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(buf, `\u%04x`, r)
		default:
			buf.WriteString(s[i : i+size])
		}
		i += size
	}
	buf.WriteByte('"')
}
