package detect

import (
	"bytes"
	"net/netip"
)

// The normalisers below append to dst and are shared by Compile (on
// indicator values) and matching (on event values), so that both sides agree
// byte for byte.

func lowerASCII(dst, b []byte) []byte {
	for _, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// normDomain lower-cases a domain name and drops a trailing root dot.
func normDomain(dst, b []byte) []byte {
	b = bytes.TrimSpace(b)
	for len(b) > 0 && b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	return lowerASCII(dst, b)
}

// normWallet lower-cases the case-insensitive address forms (EVM hex,
// bech32) and keeps base58 as written, where case carries the checksum.
func normWallet(dst, b []byte) []byte {
	b = bytes.TrimSpace(b)
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		return lowerASCII(dst, b)
	}
	if len(b) > 3 && (bytes.HasPrefix(b, []byte("bc1")) || bytes.HasPrefix(b, []byte("BC1")) ||
		bytes.HasPrefix(b, []byte("tb1")) || bytes.HasPrefix(b, []byte("ltc1"))) {
		return lowerASCII(dst, b)
	}
	return append(dst, b...)
}

// normEmail lower-cases an address, taking it from "Name <a@b>" forms.
func normEmail(dst, b []byte) []byte {
	if i := bytes.LastIndexByte(b, '<'); i >= 0 {
		b = b[i+1:]
		if j := bytes.IndexByte(b, '>'); j >= 0 {
			b = b[:j]
		}
	}
	return lowerASCII(dst, bytes.TrimSpace(b))
}

// normURL normalises a URL: scheme and host lower case, userinfo and
// fragment dropped, default ports dropped, an empty path made "/". It
// returns the normalised form in dst and the offset where the scheme-less
// part (host...) starts; hasScheme is false for "evil.com/path" forms,
// which are indexed without a scheme and so match any.
func normURL(dst, b []byte) (out []byte, hostStart int, hasScheme bool, ok bool) {
	b = bytes.TrimSpace(b)
	start := len(dst)
	rest := b
	var scheme []byte
	if i := bytes.Index(b, []byte("://")); i > 0 {
		scheme = b[:i]
		for _, c := range scheme {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
				return dst, 0, false, false
			}
		}
		rest = b[i+3:]
		dst = lowerASCII(dst, scheme)
		dst = append(dst, "://"...)
		hasScheme = true
	}
	if h := bytes.IndexByte(rest, '#'); h >= 0 {
		rest = rest[:h]
	}
	end := bytes.IndexAny(rest, "/?")
	auth, tail := rest, []byte(nil)
	if end >= 0 {
		auth, tail = rest[:end], rest[end:]
	}
	if at := bytes.LastIndexByte(auth, '@'); at >= 0 {
		auth = auth[at+1:]
	}
	if len(auth) == 0 {
		return dst[:start], 0, false, false
	}
	host, port := auth, []byte(nil)
	if c := bytes.LastIndexByte(auth, ':'); c >= 0 && bytes.IndexByte(auth[c:], ']') < 0 {
		host, port = auth[:c], auth[c+1:]
	}
	for len(host) > 0 && host[len(host)-1] == '.' {
		host = host[:len(host)-1]
	}
	hostStart = len(dst) - start
	dst = lowerASCII(dst, host)
	if len(port) > 0 {
		ls := string(scheme) // no allocation: compared only
		def := (ls == "http" || ls == "HTTP") && string(port) == "80" ||
			(ls == "https" || ls == "HTTPS") && string(port) == "443"
		if !def {
			dst = append(dst, ':')
			dst = append(dst, port...)
		}
	}
	if len(tail) == 0 || tail[0] == '?' {
		dst = append(dst, '/')
	}
	dst = append(dst, tail...)
	return dst, hostStart, hasScheme, true
}

// urlHost returns the host part of a URL (no port, no brackets).
func urlHost(b []byte) []byte {
	if i := bytes.Index(b, []byte("://")); i >= 0 {
		b = b[i+3:]
	}
	if end := bytes.IndexAny(b, "/?#"); end >= 0 {
		b = b[:end]
	}
	if at := bytes.LastIndexByte(b, '@'); at >= 0 {
		b = b[at+1:]
	}
	if len(b) > 0 && b[0] == '[' {
		if j := bytes.IndexByte(b, ']'); j > 0 {
			return b[1:j]
		}
	}
	if c := bytes.LastIndexByte(b, ':'); c >= 0 {
		b = b[:c]
	}
	return b
}

// parseIP reads an IPv4 address strictly (four decimal octets, no leading
// zeros) without allocating, falling back to netip for IPv6.
func parseIP(b []byte) (netip.Addr, bool) {
	if len(b) == 0 || len(b) > 64 {
		return netip.Addr{}, false
	}
	if bytes.IndexByte(b, ':') >= 0 {
		if b[0] == '[' && b[len(b)-1] == ']' {
			b = b[1 : len(b)-1]
		}
		a, err := netip.ParseAddr(string(b))
		if err != nil {
			return netip.Addr{}, false
		}
		return a.Unmap().WithZone(""), true
	}
	var ip [4]byte
	n, v, digits := 0, 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || n > 3 {
				return netip.Addr{}, false
			}
			ip[n] = byte(v)
			n++
			v, digits = 0, 0
			continue
		}
		c := b[i]
		if c < '0' || c > '9' {
			return netip.Addr{}, false
		}
		if digits > 0 && v == 0 {
			return netip.Addr{}, false // leading zero: ambiguous (octal)
		}
		v = v*10 + int(c-'0')
		digits++
		if v > 255 {
			return netip.Addr{}, false
		}
	}
	if n != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

// hashKind returns the algorithm of a hex string by its length, or KindNone.
func hashKind(b []byte) Kind {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return KindNone
		}
	}
	switch len(b) {
	case 32:
		return KindMD5
	case 40:
		return KindSHA1
	case 64:
		return KindSHA256
	case 128:
		return KindSHA512
	}
	return KindNone
}

// algoKind maps a hash algorithm name (STIX or Sysmon spelling) to its kind.
func algoKind(name string) Kind {
	switch name {
	case "MD5", "md5":
		return KindMD5
	case "SHA-1", "SHA1", "sha1", "sha-1":
		return KindSHA1
	case "SHA-256", "SHA256", "sha256", "sha-256":
		return KindSHA256
	case "SHA-512", "SHA512", "sha512", "sha-512":
		return KindSHA512
	}
	return KindNone
}
