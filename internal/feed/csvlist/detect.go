package csvlist

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bulwark-intel/bulwark/internal/feed"
)

// MaxValueLen bounds one indicator value; longer strings are not indicators
// anyone can match on (the store's value index stops at 2048 too).
const MaxValueLen = 2048

// Value is one parsed indicator value.
type Value struct {
	Kind  feed.Kind
	Value string // normalised: lower case except URL paths and base58 addresses
	Port  int    // > 0 for host:port (maltrail "IP:port" trails)
	CIDR  bool   // Value is an address block (ipv4-addr/ipv6-addr allow CIDR)
	Chain string // "bitcoin", "ethereum" or "tron" for wallet addresses
}

// Key is what identifies the value within a source: kind plus normalised
// value (plus port), the input of the indicator's deterministic id.
func (v Value) Key() string {
	if v.Port > 0 {
		if v.Kind == feed.KindIPv6 {
			return "[" + v.Value + "]:" + strconv.Itoa(v.Port)
		}
		return v.Value + ":" + strconv.Itoa(v.Port)
	}
	return v.Value
}

// Detect reports the kind and normalised form of a single observable value:
// IPv4/IPv6 address or CIDR block, domain name, URL (with or without scheme,
// defanging undone), MD5/SHA-1/SHA-256/SHA-512, email address, or a
// Bitcoin/Ethereum/TRON address (kind cryptocurrency-wallet). It is
// conservative: file names (setup.exe), version numbers (1.2.3), single-label
// names (localhost) and IPv4 with leading zeros are not indicators. A
// host:port pair is not one observable, so Detect reports false for it; Parse
// returns it with its port.
func Detect(value string) (feed.Kind, string, bool) {
	v, err := Parse(value)
	if err != nil || v.Port > 0 {
		return "", "", false
	}
	return v.Kind, v.Value, true
}

// Errors Parse returns; callers group rejections by them.
var (
	ErrEmpty      = errors.New("empty value")
	ErrTooLong    = fmt.Errorf("value longer than %d bytes", MaxValueLen)
	ErrUnknown    = errors.New("not a recognised indicator (IP, CIDR, domain, URL, hash, email or wallet address)")
	ErrPathOnly   = errors.New("URL path without a host is not an indicator")
	ErrBadIPv4    = errors.New("invalid IPv4 address")
	ErrNonASCII   = errors.New("non-ASCII host name (give its punycode xn-- form)")
	ErrBadAddress = errors.New("invalid cryptocurrency address")
)

// Parse classifies a value by its shape. Its error says why a value is not
// an indicator.
func Parse(s string) (Value, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Value{}, ErrEmpty
	}
	if len(s) > MaxValueLen {
		return Value{}, ErrTooLong
	}
	if !utf8.ValidString(s) {
		return Value{}, errors.New("value is not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return Value{}, fmt.Errorf("control character %U in value", r)
		}
	}
	s = Refang(s)

	if v, ok, err := parseIP(s); ok || err != nil {
		return v, err
	}
	if v, ok := parseHex(s); ok {
		return v, nil
	}
	if v, ok, err := parseWallet(s); ok || err != nil {
		return v, err
	}
	if strings.ContainsAny(s, " \t") {
		return Value{}, ErrUnknown
	}
	if strings.Contains(s, "@") && !strings.ContainsAny(s, "/:") {
		if v, ok := parseEmail(s); ok {
			return v, nil
		}
		return Value{}, ErrUnknown
	}
	return parseHostOrURL(s)
}

// Refang undoes the usual defanging of shared indicators: hxxp(s)://,
// [.] (.) {.} [dot], [:], [://], [@] [at].
func Refang(s string) string {
	if !strings.ContainsAny(s, "[({") && !hasPrefixFold(s, "hxxp") && !hasPrefixFold(s, "hxxps") {
		return s
	}
	if hasPrefixFold(s, "hxxp") {
		s = "http" + s[4:]
	}
	return refanger.Replace(s)
}

var refanger = strings.NewReplacer(
	"[.]", ".", "(.)", ".", "{.}", ".", "[dot]", ".", "(dot)", ".", "[DOT]", ".",
	"[://]", "://", "[:]", ":", "[@]", "@", "[at]", "@", "(at)", "@", "[AT]", "@",
)

func hasPrefixFold(s, p string) bool {
	return len(s) >= len(p) && strings.EqualFold(s[:len(p)], p)
}

// parseIP handles addresses, CIDR blocks and addr:port. ok=false with a nil
// error means "not IP-shaped, try something else".
func parseIP(s string) (Value, bool, error) {
	if notIPShaped(s) {
		// Most list values are names: skip the address parsers' errors.
		return Value{}, false, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return Value{}, true, errors.New("IPv6 address with a zone is not an indicator")
		}
		return addrValue(a.Unmap()), true, nil
	}
	if strings.Contains(s, "/") {
		if p, err := netip.ParsePrefix(s); err == nil {
			a := p.Addr()
			if a.Zone() != "" {
				return Value{}, true, errors.New("IPv6 prefix with a zone is not an indicator")
			}
			p = p.Masked()
			if p.IsSingleIP() {
				return addrValue(p.Addr()), true, nil
			}
			v := addrValue(p.Addr())
			v.Value, v.CIDR = p.String(), true
			return v, true, nil
		}
		// 10.0.0.0/33 or 010.0.0.0/8: IP-shaped but invalid.
		if addr, bits, ok := strings.Cut(s, "/"); ok && dottedQuadShape(addr) && allDigits(bits) {
			return Value{}, true, fmt.Errorf("invalid CIDR block %q", s)
		}
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		if ap.Port() == 0 {
			return Value{}, true, errors.New("port 0 is not a destination")
		}
		v := addrValue(ap.Addr().Unmap())
		v.Port = int(ap.Port())
		return v, true, nil
	}
	host, port, hasPort := strings.Cut(s, ":")
	if dottedQuadShape(host) && (!hasPort || allDigits(port)) {
		return Value{}, true, fmt.Errorf("%w %q (leading zeros or octet above 255)", ErrBadIPv4, host)
	}
	return Value{}, false, nil
}

func addrValue(a netip.Addr) Value {
	if a.Is4() {
		return Value{Kind: feed.KindIPv4, Value: a.String()}
	}
	return Value{Kind: feed.KindIPv6, Value: a.String()}
}

// dottedQuadShape: four dot-separated groups of 1–3 digits.
func dottedQuadShape(s string) bool {
	parts, run := 1, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if run == 0 {
				return false
			}
			parts, run = parts+1, 0
		case c >= '0' && c <= '9':
			if run++; run > 3 {
				return false
			}
		default:
			return false
		}
	}
	return parts == 4 && run > 0
}

// notIPShaped reports that s can be neither an address nor a prefix nor
// an address with a port, nor look like a broken one: without a colon,
// only digits, dots and a slash can.
func notIPShaped(s string) bool {
	if strings.IndexByte(s, ':') >= 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c == '.' || c == '/') {
			return true
		}
	}
	return false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

var hashByLen = map[int]feed.Kind{32: feed.KindMD5, 40: feed.KindSHA1, 64: feed.KindSHA256, 128: feed.KindSHA512}

// parseHex: file hashes by length, Ethereum addresses by 0x + 40 hex digits.
func parseHex(s string) (Value, bool) {
	if len(s) == 42 && (s[:2] == "0x" || s[:2] == "0X") && isHex(s[2:]) {
		// EIP-55 mixed case is a checksum, not part of the address.
		return Value{Kind: feed.KindWallet, Value: "0x" + strings.ToLower(s[2:]), Chain: "ethereum"}, true
	}
	if k, ok := hashByLen[len(s)]; ok && isHex(s) {
		return Value{Kind: k, Value: strings.ToLower(s)}, true
	}
	return Value{}, false
}

// parseWallet recognises Bitcoin (base58check P2PKH/P2SH, bech32/bech32m
// segwit) and TRON (base58check, version 0x41) addresses, verifying their
// checksums: a random word of the right shape is not an address.
func parseWallet(s string) (Value, bool, error) {
	switch {
	case (s[0] == '1' || s[0] == '3') && len(s) >= 25 && len(s) <= 35 && isBase58(s):
		ver, ok := base58Check(s)
		if !ok || (ver != 0x00 && ver != 0x05) {
			return Value{}, true, fmt.Errorf("%w: %q fails the Bitcoin base58check checksum", ErrBadAddress, s)
		}
		return Value{Kind: feed.KindWallet, Value: s, Chain: "bitcoin"}, true, nil
	case s[0] == 'T' && len(s) == 34 && isBase58(s):
		ver, ok := base58Check(s)
		if !ok || ver != 0x41 {
			return Value{}, true, fmt.Errorf("%w: %q fails the TRON base58check checksum", ErrBadAddress, s)
		}
		return Value{Kind: feed.KindWallet, Value: s, Chain: "tron"}, true, nil
	case len(s) >= 14 && len(s) <= 90 && hasPrefixFold(s, "bc1") && isBech32Chars(s):
		if strings.ToLower(s) != s && strings.ToUpper(s) != s {
			return Value{}, true, fmt.Errorf("%w: %q mixes upper and lower case (bech32)", ErrBadAddress, s)
		}
		l := strings.ToLower(s)
		if !segwitValid(l) {
			return Value{}, true, fmt.Errorf("%w: %q fails the bech32 checksum", ErrBadAddress, s)
		}
		return Value{Kind: feed.KindWallet, Value: l, Chain: "bitcoin"}, true, nil
	}
	return Value{}, false, nil
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func isBase58(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(base58Alphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// base58Check decodes a 25-byte base58check payload and returns its version
// byte when the double-SHA-256 checksum matches.
func base58Check(s string) (byte, bool) {
	n := new(big.Int)
	radix := big.NewInt(58)
	for i := 0; i < len(s); i++ {
		n.Mul(n, radix)
		n.Add(n, big.NewInt(int64(strings.IndexByte(base58Alphabet, s[i]))))
	}
	b := n.Bytes()
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	full := append(make([]byte, zeros), b...)
	if len(full) != 25 {
		return 0, false
	}
	h1 := sha256.Sum256(full[:21])
	h2 := sha256.Sum256(h1[:])
	if string(h2[:4]) != string(full[21:]) {
		return 0, false
	}
	return full[0], true
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

func isBech32Chars(s string) bool {
	l := strings.ToLower(s)
	for i := 3; i < len(l); i++ {
		if strings.IndexByte(bech32Charset, l[i]) < 0 {
			return false
		}
	}
	return true
}

func bech32Polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if (top>>uint(i))&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}

// segwitValid checks a lower-case bc1 address (BIP 173 / BIP 350): the
// checksum (bech32 for witness version 0, bech32m above) and the program
// length.
func segwitValid(s string) bool {
	hrp, data := "bc", s[3:]
	if len(data) < 7 {
		return false
	}
	vals := make([]byte, 0, len(hrp)*2+1+len(data))
	for i := 0; i < len(hrp); i++ {
		vals = append(vals, hrp[i]>>5)
	}
	vals = append(vals, 0)
	for i := 0; i < len(hrp); i++ {
		vals = append(vals, hrp[i]&31)
	}
	d := make([]byte, len(data))
	for i := 0; i < len(data); i++ {
		d[i] = byte(strings.IndexByte(bech32Charset, data[i]))
	}
	vals = append(vals, d...)
	pm := bech32Polymod(vals)
	ver := d[0]
	if ver > 16 {
		return false
	}
	if ver == 0 && pm != 1 || ver > 0 && pm != 0x2bc830a3 {
		return false
	}
	// Regroup the 5-bit program (without version and checksum) into bytes.
	prog := d[1 : len(d)-6]
	acc, bits, n := 0, 0, 0
	for _, v := range prog {
		acc = acc<<5 | int(v)
		bits += 5
		for bits >= 8 {
			bits -= 8
			n++
		}
		acc &= (1 << bits) - 1
	}
	if bits >= 5 || acc != 0 {
		return false
	}
	if n < 2 || n > 40 || ver == 0 && n != 20 && n != 32 {
		return false
	}
	return true
}

// parseEmail accepts local@domain with an ordinary (dot-atom) local part.
func parseEmail(s string) (Value, bool) {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || strings.Contains(domain, "@") {
		return Value{}, false
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return Value{}, false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0) {
			return Value{}, false
		}
	}
	d, err := checkDomain(domain, false)
	if err != nil {
		return Value{}, false
	}
	return Value{Kind: feed.KindEmail, Value: strings.ToLower(local) + "@" + d}, true
}

// fileExtensions are name endings that are not top-level domains but make
// "setup.exe" look like a domain. zip and mov are real gTLDs, but in
// indicator lists they are far more often file names; a type column still
// imports such domains.
var fileExtensions = map[string]bool{
	"exe": true, "dll": true, "sys": true, "drv": true, "ocx": true, "cpl": true, "scr": true,
	"pdf": true, "doc": true, "docx": true, "docm": true, "dot": true, "dotm": true, "xls": true, "xlsx": true,
	"xlsm": true, "xlsb": true, "ppt": true, "pptx": true, "pptm": true, "rtf": true, "odt": true, "hwp": true,
	"txt": true, "log": true, "ini": true, "cfg": true, "conf": true, "dat": true, "bin": true, "tmp": true,
	"bak": true, "db": true, "sqlite": true, "bat": true, "cmd": true, "ps1": true, "psm1": true, "vbs": true,
	"vbe": true, "js": true, "jse": true, "wsf": true, "hta": true, "lnk": true, "chm": true, "msi": true,
	"msp": true, "jar": true, "class": true, "apk": true, "dex": true, "ipa": true, "dmg": true, "pkg": true,
	"deb": true, "rpm": true, "iso": true, "img": true, "vhd": true, "vhdx": true, "rar": true,
	"7z": true, "gz": true, "tgz": true, "tar": true, "bz2": true, "xz": true, "zip": true, "mov": true,
	"jpg": true, "jpeg": true, "png": true, "gif": true, "bmp": true, "ico": true, "svg": true, "tif": true,
	"tiff": true, "mp3": true, "mp4": true, "wav": true, "avi": true, "php": true, "asp": true, "aspx": true,
	"jsp": true, "cgi": true, "html": true, "htm": true, "shtml": true, "xml": true, "json": true, "yaml": true,
	"yml": true, "csv": true, "tsv": true, "pyc": true, "elf": true, "dylib": true,
	"plist": true, "eml": true, "msg": true, "pst": true, "ost": true, "key": true, "pem": true,
	"crt": true, "cer": true, "der": true, "pfx": true, "p12": true, "go": true, "c": true, "h": true,
	"cpp": true, "cs": true, "java": true, "rb": true, "lua": true, "md5": true, "sha1": true, "sha256": true,
	"yar": true, "yara": true, "thm": true, "tpl": true, "gz2": true, "mui": true,
}

// checkDomain validates and lower-cases a host name. strict applies the
// "looks like a file name" test used when the kind is guessed.
func checkDomain(s string, strict bool) (string, error) {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return "", ErrUnknown
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return "", ErrNonASCII
		}
	}
	s = strings.ToLower(s)
	if strings.IndexByte(s, '.') < 0 {
		return "", ErrUnknown
	}
	var tld string
	for rest := s; ; {
		l, more, found := strings.Cut(rest, ".")
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", ErrUnknown
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			// Underscores are not valid in host names, but real DNS names
			// carry them and maltrail lists them (stat_tiara.example.info).
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", ErrUnknown
			}
		}
		if !found {
			tld = l
			break
		}
		rest = more
	}
	if strings.HasPrefix(tld, "xn--") {
		if len(tld) < 5 || strings.Contains(tld, "_") {
			return "", ErrUnknown
		}
	} else {
		if len(tld) < 2 {
			return "", ErrUnknown
		}
		for i := 0; i < len(tld); i++ {
			if tld[i] < 'a' || tld[i] > 'z' {
				return "", ErrUnknown
			}
		}
		if strict && fileExtensions[tld] {
			return "", ErrUnknown
		}
	}
	return s, nil
}

// parseHostOrURL handles domains, URLs with a scheme, and maltrail's
// scheme-less URLs (host[:port]/path) and host:port pairs.
func parseHostOrURL(s string) (Value, error) {
	scheme := ""
	rest := s
	if i := strings.Index(s, "://"); i >= 0 {
		scheme = strings.ToLower(s[:i])
		if !validScheme(scheme) {
			return Value{}, ErrUnknown
		}
		rest = s[i+3:]
	} else if strings.HasPrefix(s, "/") {
		return Value{}, ErrPathOnly
	}
	end := strings.IndexAny(rest, "/?#")
	hostport, tail := rest, ""
	if end >= 0 {
		hostport, tail = rest[:end], rest[end:]
	}
	if i := strings.LastIndexByte(hostport, '@'); i >= 0 && scheme != "" {
		hostport = hostport[i+1:] // drop userinfo
	}
	host, port := hostport, 0
	if strings.HasPrefix(host, "[") {
		// [IPv6]:port
		j := strings.IndexByte(host, ']')
		if j < 0 {
			return Value{}, ErrUnknown
		}
		a, err := netip.ParseAddr(host[1:j])
		if err != nil || !a.Is6() {
			return Value{}, ErrUnknown
		}
		p := host[j+1:]
		host = "[" + a.String() + "]"
		if p != "" {
			if p[0] != ':' {
				return Value{}, ErrUnknown
			}
			n, err := parsePort(p[1:])
			if err != nil {
				return Value{}, err
			}
			port = n
		}
	} else {
		if h, p, ok := strings.Cut(host, ":"); ok {
			n, err := parsePort(p)
			if err != nil {
				if scheme == "" {
					return Value{}, ErrUnknown
				}
				return Value{}, err
			}
			host, port = h, n
		}
		if a, err := netip.ParseAddr(host); err == nil && a.Is4() {
			host = a.String()
		} else if dottedQuadShape(host) {
			return Value{}, fmt.Errorf("%w %q", ErrBadIPv4, host)
		} else {
			d, err := checkDomain(host, scheme == "")
			if err != nil {
				return Value{}, err
			}
			host = d
		}
	}
	hp := host
	if port > 0 {
		hp += ":" + strconv.Itoa(port)
	}
	switch {
	case scheme != "":
		return Value{Kind: feed.KindURL, Value: scheme + "://" + hp + tail}, nil
	case tail != "":
		// A scheme-less URL (maltrail "evil.com/path") matches any scheme,
		// so it is kept as written rather than guessing http or https.
		return Value{Kind: feed.KindURL, Value: hp + tail}, nil
	case port > 0:
		k := feed.KindDomain
		if strings.HasPrefix(host, "[") {
			return Value{}, ErrUnknown // [v6]:port without path was handled by parseIP
		}
		if a, err := netip.ParseAddr(host); err == nil && a.Is4() {
			k = feed.KindIPv4
		}
		return Value{Kind: k, Value: host, Port: port}, nil
	}
	return Value{Kind: feed.KindDomain, Value: host}, nil
}

func validScheme(s string) bool {
	if s == "" || len(s) > 20 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func parsePort(p string) (int, error) {
	if !allDigits(p) || len(p) > 5 {
		return 0, fmt.Errorf("invalid port %q", p)
	}
	n, _ := strconv.Atoi(p)
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d out of range", n)
	}
	return n, nil
}
