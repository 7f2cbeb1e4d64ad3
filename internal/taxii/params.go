package taxii

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// paramError is a malformed request parameter: 400.
type paramError struct{ msg string }

func (e *paramError) Error() string { return e.msg }

func badParam(format string, args ...any) error {
	return &paramError{fmt.Sprintf(format, args...)}
}

// The filter parameters TAXII defines (§3.4). Endpoints accept a subset;
// a defined parameter an endpoint does not take is refused, parameters
// TAXII does not define are ignored.
const (
	pAddedAfter  = "added_after"
	pLimit       = "limit"
	pNext        = "next"
	pID          = "match[id]"
	pType        = "match[type]"
	pVersion     = "match[version]"
	pSpecVersion = "match[spec_version]"
)

var definedParams = []string{pAddedAfter, pLimit, pNext, pID, pType, pVersion, pSpecVersion}

// Parameters each endpoint takes.
var (
	listParams     = []string{pAddedAfter, pLimit, pNext, pID, pType, pVersion, pSpecVersion}
	objectParams   = []string{pAddedAfter, pLimit, pNext, pVersion, pSpecVersion}
	deleteParams   = []string{pVersion, pSpecVersion}
	versionsParams = []string{pAddedAfter, pLimit, pNext, pSpecVersion}
)

// maxValues bounds the comma-separated values of one match field.
const maxValues = 1000

var (
	typeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,249}$`)
	specRE = regexp.MustCompile(`^[0-9]{1,3}\.[0-9]{1,3}$`)
)

// versionSel is a parsed match[version]: keywords and instants, ORed.
type versionSel struct {
	all, first, last bool
	at               []time.Time
}

// selectors splits the selection into store queries whose union it is.
func (v versionSel) selectors() []store.Versions {
	if v.all {
		return []store.Versions{{Mode: store.All}}
	}
	var out []store.Versions
	if v.last {
		out = append(out, store.Versions{Mode: store.Last})
	}
	if v.first {
		out = append(out, store.Versions{Mode: store.First})
	}
	if len(v.at) > 0 {
		out = append(out, store.Versions{At: v.at})
	}
	return out
}

// filters are the parsed parameters of one request.
type filters struct {
	addedAfter   time.Time
	limit        int
	next         string
	ids, types   []string
	specVersions []string
	version      versionSel
}

// key is the canonical form of everything that selects objects, which a
// next token is bound to. limit is left out: a client may change its page
// size between pages.
func (f filters) key() string {
	var b strings.Builder
	if !f.addedAfter.IsZero() {
		b.WriteString("a=" + strconv.FormatInt(f.addedAfter.UnixMicro(), 10))
	}
	b.WriteString("\x00i=" + strings.Join(f.ids, ","))
	b.WriteString("\x00t=" + strings.Join(f.types, ","))
	b.WriteString("\x00s=" + strings.Join(f.specVersions, ","))
	fmt.Fprintf(&b, "\x00v=%t,%t,%t", f.version.all, f.version.first, f.version.last)
	for _, t := range f.version.at {
		b.WriteString("," + strconv.FormatInt(t.UnixMicro(), 10))
	}
	return b.String()
}

func parseRawQuery(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badParam("malformed query string: %v", err)
	}
	return q, nil
}

// parseFilters reads the query string of an endpoint that takes allowed.
func parseFilters(raw string, allowed []string, maxPage int) (filters, error) {
	f := filters{limit: maxPage, version: versionSel{last: true}}
	q, err := parseRawQuery(raw)
	if err != nil {
		return f, err
	}
	for name, vals := range q {
		if !slices.Contains(definedParams, name) {
			continue
		}
		if !slices.Contains(allowed, name) {
			return f, badParam("parameter %s is not supported by this endpoint", name)
		}
		if len(vals) != 1 {
			return f, badParam("parameter %s must occur at most once", name)
		}
	}
	get := func(name string) (string, bool) {
		vals, ok := q[name]
		if !ok || !slices.Contains(allowed, name) {
			return "", false
		}
		return vals[0], true
	}
	if s, ok := get(pAddedAfter); ok {
		t, err := stix.ParseTimestamp(s)
		if err != nil {
			return f, badParam("added_after: %v", err)
		}
		f.addedAfter = t
	}
	if s, ok := get(pLimit); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return f, badParam("limit must be a positive integer, not %q", trunc(s))
		}
		f.limit = min(n, maxPage)
	}
	if s, ok := get(pNext); ok {
		if s == "" || len(s) > 200 {
			return f, badParam("invalid next token")
		}
		f.next = s
	}
	list := func(name string, check func(string) bool) ([]string, error) {
		s, ok := get(name)
		if !ok {
			return nil, nil
		}
		parts := strings.Split(s, ",")
		if len(parts) > maxValues {
			return nil, badParam("%s has more than %d values", name, maxValues)
		}
		for _, p := range parts {
			if !check(p) {
				return nil, badParam("%s: malformed value %q", name, trunc(p))
			}
		}
		slices.Sort(parts)
		return slices.Compact(parts), nil
	}
	if f.ids, err = list(pID, func(s string) bool { _, _, err := stix.ParseID(s); return err == nil }); err != nil {
		return f, err
	}
	if f.types, err = list(pType, typeRE.MatchString); err != nil {
		return f, err
	}
	if f.specVersions, err = list(pSpecVersion, specRE.MatchString); err != nil {
		return f, err
	}
	if s, ok := get(pVersion); ok {
		if f.version, err = parseVersion(s); err != nil {
			return f, err
		}
	}
	return f, nil
}

// parseVersion reads match[version]: last, first, all or STIX timestamps,
// comma-separated, each at most once, all alone (§3.4.1).
func parseVersion(s string) (versionSel, error) {
	var v versionSel
	parts := strings.Split(s, ",")
	if len(parts) > maxValues {
		return v, badParam("match[version] has more than %d values", maxValues)
	}
	seen := map[string]bool{}
	for _, p := range parts {
		if seen[p] {
			return v, badParam("match[version]: %q occurs twice", trunc(p))
		}
		seen[p] = true
		switch p {
		case "all":
			v.all = true
		case "first":
			v.first = true
		case "last":
			v.last = true
		default:
			t, err := stix.ParseTimestamp(p)
			if err != nil {
				return v, badParam("match[version]: %v", err)
			}
			// Versions are kept to the microsecond.
			v.at = append(v.at, t.Truncate(time.Microsecond))
		}
	}
	if v.all && len(parts) > 1 {
		return v, badParam("match[version]: all cannot be combined with other values")
	}
	slices.SortFunc(v.at, func(a, b time.Time) int { return a.Compare(b) })
	v.at = slices.CompactFunc(v.at, time.Time.Equal)
	return v, nil
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// tokenSigner makes and checks next tokens. A token carries the position
// (the date_added of the last record served, unique within a collection)
// and an expiry, MACed together with the viewer, the endpoint and the exact
// filters, under a key that lives only in this process. A token is thus
// useless to another viewer, for another query, after a restart or after it
// expires; and because every page is answered by a fresh access.Query, a
// viewer whose permissions shrank sees only what it may see now.
type tokenSigner struct {
	key [32]byte
	now func() time.Time
	ttl time.Duration
}

func newTokenSigner(now func() time.Time, ttl time.Duration) *tokenSigner {
	t := &tokenSigner{now: now, ttl: ttl}
	if _, err := rand.Read(t.key[:]); err != nil {
		panic("taxii: no randomness for the next-token key: " + err.Error())
	}
	return t
}

const (
	tokenVersion = 1
	tokenPayload = 1 + 8 + 8
	tokenMAC     = 16
)

func (t *tokenSigner) mac(payload []byte, bind string) []byte {
	m := hmac.New(sha256.New, t.key[:])
	m.Write(payload)
	m.Write([]byte(bind))
	return m.Sum(nil)[:tokenMAC]
}

func (t *tokenSigner) sign(bind string, pos time.Time) string {
	payload := make([]byte, tokenPayload, tokenPayload+tokenMAC)
	payload[0] = tokenVersion
	binary.BigEndian.PutUint64(payload[1:], uint64(t.now().Add(t.ttl).Unix()))
	binary.BigEndian.PutUint64(payload[9:], uint64(pos.UnixMicro()))
	return base64.RawURLEncoding.EncodeToString(append(payload, t.mac(payload, bind)...))
}

func (t *tokenSigner) verify(tok, bind string) (time.Time, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) != tokenPayload+tokenMAC || raw[0] != tokenVersion {
		return time.Time{}, badParam("invalid next token")
	}
	if !hmac.Equal(raw[tokenPayload:], t.mac(raw[:tokenPayload], bind)) {
		return time.Time{}, badParam("invalid next token: not issued for this viewer and query")
	}
	if exp := int64(binary.BigEndian.Uint64(raw[1:])); t.now().Unix() >= exp {
		return time.Time{}, badParam("next token expired; page on with added_after")
	}
	return time.UnixMicro(int64(binary.BigEndian.Uint64(raw[9:]))).UTC(), nil
}
