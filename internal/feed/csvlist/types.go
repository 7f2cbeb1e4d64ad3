package csvlist

import (
	"fmt"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/feed"
)

// typeClass is what an explicit type column asks for.
type typeClass string

const (
	classIP       typeClass = "ip"
	classSocket   typeClass = "ip:port"
	classDomain   typeClass = "domain"
	classURL      typeClass = "url"
	classEmail    typeClass = "email"
	classHash     typeClass = "hash" // any hash; several in one cell allowed
	classMD5      typeClass = "md5"
	classSHA1     typeClass = "sha1"
	classSHA256   typeClass = "sha256"
	classSHA512   typeClass = "sha512"
	classFileName typeClass = "filename"
	classBTC      typeClass = "btc"
	classETH      typeClass = "eth"
	classTRON     typeClass = "tron"
	classWallet   typeClass = "wallet"
)

// typeAliases maps the type names found in the wild (MISP attribute types,
// OpenCTI/vendor CSV exports, Volexity's entity_type) to classes.
var typeAliases = map[string]typeClass{
	"ip": classIP, "ipv4": classIP, "ipv6": classIP, "ip-dst": classIP, "ip-src": classIP, "ipv4-addr": classIP,
	"ipv6-addr": classIP, "ip-address": classIP, "ipaddress": classIP, "ip-addr": classIP, "addr": classIP,
	"cidr": classIP, "ip-range": classIP, "netblock": classIP, "subnet": classIP, "network": classIP,
	"ip-dst|port": classSocket, "ip-src|port": classSocket, "ip:port": classSocket, "ip-port": classSocket, "socket": classSocket,
	"domain": classDomain, "hostname": classDomain, "host": classDomain, "fqdn": classDomain, "domain-name": classDomain,
	"domainname": classDomain, "dns": classDomain,
	"url": classURL, "uri": classURL, "link": classURL,
	"email": classEmail, "e-mail": classEmail, "email-addr": classEmail, "email-src": classEmail, "email-dst": classEmail,
	"emailwhois": classEmail, "whois-registrant-email": classEmail, "mail": classEmail,
	"hash": classHash, "file": classHash, "filehash": classHash, "file-hash": classHash, "hashes": classHash,
	"md5": classMD5, "sha1": classSHA1, "sha-1": classSHA1, "sha256": classSHA256, "sha-256": classSHA256,
	"sha512": classSHA512, "sha-512": classSHA512,
	"filename": classFileName, "file-name": classFileName,
	"btc": classBTC, "bitcoin": classBTC, "xbt": classBTC, "btc-address": classBTC,
	"eth": classETH, "ethereum": classETH, "erc20": classETH, "eth-address": classETH,
	"trx": classTRON, "tron": classTRON, "trc20": classTRON,
	"wallet": classWallet, "crypto": classWallet, "cryptocurrency": classWallet, "cryptocurrency-wallet": classWallet,
	"crypto-address": classWallet, "wallet-address": classWallet,
}

// typeError is an unknown type name: the type column is at fault.
type typeError struct{ name string }

func (e *typeError) Error() string {
	return fmt.Sprintf("unknown indicator type %q", truncate(e.name, 60))
}

// parseTyped parses a value under an explicit type (empty: detect). The
// type wins over the value's shape: a domain column keeps "evil.zip", which
// detection would take for a file name.
func parseTyped(value, typ string) ([]Value, error) {
	value = strings.TrimSpace(value)
	typ = strings.TrimSpace(typ)
	if typ == "" {
		v, err := Parse(value)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", truncate(value, 120), err)
		}
		return []Value{v}, nil
	}
	name := strings.NewReplacer("_", "-", " ", "-").Replace(strings.ToLower(typ))
	class, ok := typeAliases[name]
	if !ok {
		return nil, &typeError{typ}
	}
	bad := func(err error) error {
		if err != nil {
			return fmt.Errorf("%q is not a valid %s: %w", truncate(value, 120), class, err)
		}
		return fmt.Errorf("%q is not a valid %s", truncate(value, 120), class)
	}
	switch class {
	case classFileName:
		if value == "" || len(value) > MaxValueLen || strings.ContainsFunc(value, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return nil, bad(nil)
		}
		return []Value{{Kind: feed.KindFileName, Value: value}}, nil
	case classHash:
		parts := strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ';' || r == '|' || r == ' ' || r == '\t' })
		if len(parts) == 0 || len(parts) > 8 {
			return nil, bad(nil)
		}
		var out []Value
		for _, p := range parts {
			v, ok := parseHex(p)
			if !ok || v.Kind == feed.KindWallet {
				return nil, fmt.Errorf("%q is not an MD5, SHA-1, SHA-256 or SHA-512 hash", truncate(p, 120))
			}
			out = append(out, v)
		}
		return out, nil
	}
	v, err := Parse(value)
	if class == classDomain && err != nil {
		// Lenient: a declared domain may end like a file name (evil.zip).
		if d, derr := checkDomain(Refang(value), false); derr == nil {
			return []Value{{Kind: feed.KindDomain, Value: d}}, nil
		}
	}
	if err != nil {
		return nil, bad(err)
	}
	isIP := v.Kind == feed.KindIPv4 || v.Kind == feed.KindIPv6
	ok = false
	switch class {
	case classIP:
		ok = isIP && v.Port == 0
	case classSocket:
		ok = v.Port > 0
	case classDomain:
		ok = (v.Kind == feed.KindDomain || isIP && !v.CIDR) && v.Port == 0 // hostname columns hold addresses too
	case classURL:
		if v.Port == 0 && (v.Kind == feed.KindDomain || isIP && !v.CIDR) {
			v.Kind, ok = feed.KindURL, true
		} else {
			ok = v.Kind == feed.KindURL
		}
	case classEmail:
		ok = v.Kind == feed.KindEmail
	case classMD5:
		ok = v.Kind == feed.KindMD5
	case classSHA1:
		ok = v.Kind == feed.KindSHA1
	case classSHA256:
		ok = v.Kind == feed.KindSHA256
	case classSHA512:
		ok = v.Kind == feed.KindSHA512
	case classBTC:
		ok = v.Chain == "bitcoin"
	case classETH:
		ok = v.Chain == "ethereum"
	case classTRON:
		ok = v.Chain == "tron"
	case classWallet:
		ok = v.Kind == feed.KindWallet
	}
	if !ok {
		return nil, fmt.Errorf("%q is a %s, not a %s", truncate(value, 120), describe(v), class)
	}
	return []Value{v}, nil
}

func describe(v Value) string {
	switch {
	case v.Chain != "":
		return v.Chain + " address"
	case v.Port > 0:
		return string(v.Kind) + " with port"
	case v.CIDR:
		return string(v.Kind) + " block"
	}
	return string(v.Kind)
}
