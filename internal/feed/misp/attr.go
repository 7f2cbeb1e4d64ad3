package misp

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// term is one comparison of an observation: obj:path = 'value'.
type term struct {
	obj   string // SCO type: file, ipv4-addr, …
	path  string // property path after the colon
	value string
}

// observation is what one attribute (or a file object) says: comparisons on
// one SCO, ANDed, or a ready-made pattern when it spans objects (ip|port).
type observation struct {
	terms   []term
	pattern string // overrides terms when set
	name    string // indicator name
}

func (o observation) stixPattern() string {
	if o.pattern != "" {
		return o.pattern
	}
	parts := make([]string, len(o.terms))
	for i, t := range o.terms {
		parts[i] = t.obj + ":" + t.path + " = " + feed.QuoteLiteral(t.value)
	}
	return "[" + strings.Join(parts, " AND ") + "]"
}

// sco builds the cyber-observable the observation describes, for to_ids
// false attributes. ok is false when there is none (a pattern-only
// observation, or terms on properties an SCO cannot hold simply).
func (o observation) sco() (*stix.Object, bool) {
	if len(o.terms) == 0 {
		return nil, false
	}
	typ := o.terms[0].obj
	props := map[string]any{"type": typ, "spec_version": "2.1"}
	hashes := map[string]any{}
	for _, t := range o.terms {
		if t.obj != typ {
			return nil, false
		}
		switch {
		case strings.HasPrefix(t.path, "hashes."):
			hashes[strings.Trim(strings.TrimPrefix(t.path, "hashes."), "'")] = t.value
		case t.path == "value" || t.path == "name" || t.path == "key":
			props[t.path] = t.value
		case t.path == "number":
			n, err := strconv.ParseInt(t.value, 10, 64)
			if err != nil {
				return nil, false
			}
			props["number"] = n
		default:
			return nil, false
		}
	}
	if len(hashes) > 0 {
		props["hashes"] = hashes
	}
	id, ok := stix.SCOID(typ, props)
	if !ok {
		return nil, false
	}
	props["id"] = id
	obj, err := stix.FromMap(props)
	if err != nil || stix.Validate(obj) != nil {
		return nil, false
	}
	return obj, true
}

// errSkip marks contextual attribute types that carry no observable.
var errSkip = errors.New("contextual attribute")

// contextTypes are MISP attribute types that describe rather than observe;
// they are skipped without a rejection. link is handled by the event reader.
var contextTypes = map[string]bool{
	"text": true, "comment": true, "other": true, "link": true, "datetime": true,
	"counter": true, "float": true, "port": true, "size-in-bytes": true, "boolean": true,
	"hex": true, "attachment": true, "anonymised": true, "pattern-in-file": true,
	"pattern-in-memory": true, "pattern-in-traffic": true, "target-user": true,
	"target-email": true, "target-machine": true, "target-org": true,
	"target-location": true, "target-external": true, "campaign-name": true,
	"campaign-id": true, "threat-actor": true, "whois-registrant-name": true,
	"whois-registrar": true, "whois-creation-date": true, "mime-type": true,
	"first-name": true, "last-name": true, "full-name": true, "phone-number": true,
	"yara": true, "sigma": true, "snort": true, "bro": true, "zeek": true, "cpe": true,
	"vulnerability": true, "weakness": true, "cortex": true, "git-commit-id": true,
}

// hashTypes maps MISP hash attribute types to STIX hash names and, when
// fixed, their hex length (0: free-form such as SSDEEP).
var hashTypes = map[string]struct {
	alg string
	n   int
}{
	"md5": {"MD5", 32}, "sha1": {"SHA-1", 40}, "sha256": {"SHA-256", 64},
	"sha512": {"SHA-512", 128}, "sha3-256": {"SHA3-256", 64}, "sha3-512": {"SHA3-512", 128},
	"ssdeep": {"SSDEEP", 0}, "tlsh": {"TLSH", 0},
}

// hashPath is the pattern path of a STIX hash name.
func hashPath(alg string) string {
	if alg == "MD5" || alg == "SSDEEP" || alg == "TLSH" {
		return "hashes." + alg
	}
	return "hashes.'" + alg + "'"
}

// walletTypes are MISP's cryptocurrency address types (Financial fraud).
var walletTypes = map[string]bool{"btc": true, "xmr": true, "dash": true}

// observe maps one MISP attribute type and value to an observation. It
// returns errSkip for contextual types and an error naming the problem for
// values that do not fit their type or types Bulwark cannot map.
func observe(typ, value string) (observation, error) {
	if contextTypes[typ] {
		return observation{}, errSkip
	}
	value = strings.TrimSpace(value)
	if value == "" {
		return observation{}, errors.New("empty value")
	}
	if len(value) > MaxValue {
		return observation{}, fmt.Errorf("value longer than %d bytes", MaxValue)
	}
	if !utf8.ValidString(value) {
		return observation{}, errors.New("value is not valid UTF-8")
	}
	one := func(obj, path, v string) observation {
		return observation{terms: []term{{obj, path, v}}, name: v}
	}
	if h, ok := hashTypes[typ]; ok {
		v, err := checkHash(h.alg, h.n, value)
		if err != nil {
			return observation{}, err
		}
		return one("file", hashPath(h.alg), v), nil
	}
	if walletTypes[typ] {
		if err := checkWallet(value); err != nil {
			return observation{}, err
		}
		return one("cryptocurrency-wallet", "value", value), nil
	}
	switch typ {
	case "ip-src", "ip-dst":
		kind, v, err := checkIP(value)
		if err != nil {
			return observation{}, err
		}
		return one(string(kind), "value", v), nil
	case "ip-src|port", "ip-dst|port":
		addr, portS, ok := cutLast(value, "|")
		if !ok {
			addr, portS, ok = cutLast(value, ":") // some exports write ip:port
		}
		if !ok {
			return observation{}, fmt.Errorf("%q is not ip|port", trunc(value))
		}
		kind, a, err := checkIP(addr)
		if err != nil {
			return observation{}, err
		}
		port, err := strconv.Atoi(portS)
		if err != nil || port < 0 || port > 65535 {
			return observation{}, fmt.Errorf("port %q is not 0–65535", trunc(portS))
		}
		p := feed.SocketPattern(kind, a, port)
		if typ == "ip-src|port" {
			p = fmt.Sprintf("[network-traffic:src_ref.type = '%s' AND network-traffic:src_ref.value = %s AND network-traffic:src_port = %d]",
				kind, feed.QuoteLiteral(a), port)
		}
		return observation{pattern: p, name: a + ":" + portS}, nil
	case "domain", "hostname":
		v, err := checkDomain(value)
		if err != nil {
			return observation{}, err
		}
		return one("domain-name", "value", v), nil
	case "domain|ip", "hostname|port":
		d, rest, ok := strings.Cut(value, "|")
		if !ok {
			return observation{}, fmt.Errorf("%q is not %s", trunc(value), typ)
		}
		dv, err := checkDomain(d)
		if err != nil {
			return observation{}, err
		}
		if typ == "hostname|port" {
			port, err := strconv.Atoi(rest)
			if err != nil || port < 0 || port > 65535 {
				return observation{}, fmt.Errorf("port %q is not 0–65535", trunc(rest))
			}
			return observation{name: value, pattern: fmt.Sprintf(
				"[network-traffic:dst_ref.type = 'domain-name' AND network-traffic:dst_ref.value = %s AND network-traffic:dst_port = %d]",
				feed.QuoteLiteral(dv), port)}, nil
		}
		_, ip, err := checkIP(rest)
		if err != nil {
			return observation{}, err
		}
		return observation{name: value, pattern: fmt.Sprintf("[domain-name:value = %s AND domain-name:resolves_to_refs[*].value = %s]",
			feed.QuoteLiteral(dv), feed.QuoteLiteral(ip))}, nil
	case "url", "link-url":
		if err := checkURL(value); err != nil {
			return observation{}, err
		}
		return one("url", "value", value), nil
	case "email", "email-src", "email-dst", "email-reply-to", "whois-registrant-email", "dns-soa-email":
		if err := checkEmail(value); err != nil {
			return observation{}, err
		}
		return one("email-addr", "value", value), nil
	case "email-subject":
		return one("email-message", "subject", value), nil
	case "filename":
		if strings.ContainsAny(value, "\x00") {
			return observation{}, errors.New("file name contains NUL")
		}
		return one("file", "name", value), nil
	case "mutex":
		return one("mutex", "name", value), nil
	case "regkey":
		return one("windows-registry-key", "key", value), nil
	case "AS":
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(value), "AS"), 10, 32)
		if err != nil {
			return observation{}, fmt.Errorf("%q is not an AS number", trunc(value))
		}
		o := one("autonomous-system", "number", strconv.FormatUint(n, 10))
		o.pattern = fmt.Sprintf("[autonomous-system:number = %d]", n) // an integer, not a string
		return o, nil
	case "x509-fingerprint-md5", "x509-fingerprint-sha1", "x509-fingerprint-sha256":
		alg := map[string]string{"x509-fingerprint-md5": "MD5", "x509-fingerprint-sha1": "SHA-1", "x509-fingerprint-sha256": "SHA-256"}[typ]
		v, err := checkHash(alg, hashTypes[strings.ToLower(strings.ReplaceAll(alg, "-", ""))].n, value)
		if err != nil {
			return observation{}, err
		}
		return one("x509-certificate", hashPath(alg), v), nil
	case "uri":
		return observation{}, errors.New(`MISP type "uri" (a path without a host) has no STIX observable`)
	}
	// filename|md5, filename|sha256, malware-sample (filename|md5), …
	if base, ok := strings.CutPrefix(typ, "filename|"); ok || typ == "malware-sample" {
		if typ == "malware-sample" {
			base = "md5"
		}
		h, known := hashTypes[base]
		if !known {
			return observation{}, fmt.Errorf("unsupported MISP attribute type %q", typ)
		}
		name, hv, ok := cutLast(value, "|")
		if !ok || strings.TrimSpace(name) == "" {
			return observation{}, fmt.Errorf("%q is not filename|hash", trunc(value))
		}
		v, err := checkHash(h.alg, h.n, hv)
		if err != nil {
			return observation{}, err
		}
		return observation{terms: []term{{"file", "name", name}, {"file", hashPath(h.alg), v}}, name: name}, nil
	}
	return observation{}, fmt.Errorf("unsupported MISP attribute type %q", typ)
}

func cutLast(s, sep string) (string, string, bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func checkHash(alg string, n int, v string) (string, error) {
	v = strings.TrimSpace(v)
	if n == 0 {
		if v == "" || len(v) > 1024 || strings.ContainsAny(v, " \t\r\n'") {
			return "", fmt.Errorf("%q is not a %s hash", trunc(v), alg)
		}
		return v, nil
	}
	if len(v) != n {
		return "", fmt.Errorf("%s must be %d hex digits, got %d characters", alg, n, len(v))
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", fmt.Errorf("%s %q is not hexadecimal", alg, trunc(v))
		}
	}
	return strings.ToLower(v), nil
}

func checkIP(s string) (feed.Kind, string, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		if p.Addr().Is4() {
			return feed.KindIPv4, p.String(), nil
		}
		return feed.KindIPv6, p.String(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return "", "", fmt.Errorf("%q is not an IP address or CIDR block", trunc(s))
	}
	a = a.Unmap()
	if a.Is4() {
		return feed.KindIPv4, a.String(), nil
	}
	return feed.KindIPv6, a.String(), nil
}

// checkDomain accepts a host name (IDNs in Unicode included) and returns it
// lower-cased without a trailing dot.
func checkDomain(s string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	bad := func() (string, error) { return "", fmt.Errorf("%q is not a domain name", trunc(s)) }
	if d == "" || len(d) > 253 {
		return bad()
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return bad()
		}
		for _, r := range label {
			if !(r == '-' || r == '_' || r == '*' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 && unicode.IsLetter(r) || r > 127 && unicode.IsDigit(r)) {
				return bad()
			}
		}
	}
	return d, nil
}

func checkURL(s string) error {
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return fmt.Errorf("%q is not a URL: contains white space or control characters", trunc(s))
	}
	if _, err := url.Parse(s); err != nil {
		return fmt.Errorf("%q is not a URL", trunc(s))
	}
	return nil
}

func checkEmail(s string) error {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.ContainsFunc(s, unicode.IsSpace) {
		return fmt.Errorf("%q is not an email address", trunc(s))
	}
	if _, err := checkDomain(domain); err != nil {
		return fmt.Errorf("%q is not an email address", trunc(s))
	}
	return nil
}

// checkWallet is deliberately loose: per-chain validation lives in
// internal/chain/address; here we only refuse what cannot be an address.
func checkWallet(s string) error {
	if len(s) < 25 || len(s) > 128 {
		return fmt.Errorf("%q is not a cryptocurrency address (length %d)", trunc(s), len(s))
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Errorf("%q is not a cryptocurrency address", trunc(s))
		}
	}
	return nil
}
