package detect

import (
	"strings"
)

// Kind says how a field's value is matched against the index.
type Kind uint8

// Field kinds. KindHost holds a domain name or an IP address (HTTP Host,
// TLS SNI, DNS answers); KindHash is a hash whose algorithm follows from its
// length; KindHashes is Sysmon's "SHA256=…,MD5=…" list.
const (
	KindNone Kind = iota
	KindIP
	KindDomain
	KindHost
	KindURL
	KindEmail
	KindMD5
	KindSHA1
	KindSHA256
	KindSHA512
	KindHash
	KindHashes
	KindWallet
	KindOther // exact comparison on Target.Path (process:command_line…)
	// Meta fields: not matched, used for time, ports and logsource.
	KindTime
	KindSrcPort
	KindDstPort
	KindChannel
	KindEventID
	KindLogPath // Zeek _path
	KindURI     // URL path, joined with the event's host into a URL
	KindImage   // process image path: its base name is process:binary_ref.name
	KindAuto    // plain text: classified by shape
)

// Role tells the side of a connection an address is on.
type Role uint8

// Roles.
const (
	RoleNone Role = iota
	RoleSrc
	RoleDst
)

// Target is what a source field means: its kind, its side, and for
// KindOther the STIX object path it stands for.
type Target struct {
	Name string // source field name, as reported in hits
	Kind Kind
	Role Role
	Path string
}

// targetFromPath interprets a STIX object path from a mapping file.
func targetFromPath(name, p string) (Target, bool) {
	t := Target{Name: name, Path: p}
	switch strings.TrimSpace(p) {
	case "ipv4-addr:value", "ipv6-addr:value", "ip":
		t.Kind = KindIP
	case "network-traffic:src_ref.value":
		t.Kind, t.Role = KindIP, RoleSrc
	case "network-traffic:dst_ref.value":
		t.Kind, t.Role = KindIP, RoleDst
	case "network-traffic:src_port":
		t.Kind = KindSrcPort
	case "network-traffic:dst_port":
		t.Kind = KindDstPort
	case "domain-name:value":
		t.Kind = KindDomain
	case "host":
		t.Kind = KindHost
	case "url:value":
		t.Kind = KindURL
	case "email-addr:value", "email-message:from_ref.value":
		t.Kind = KindEmail
	case "cryptocurrency-wallet:value":
		t.Kind = KindWallet
	case "file:hashes.MD5", "file:hashes.'MD5'":
		t.Kind = KindMD5
	case "file:hashes.'SHA-1'", "file:hashes.SHA1":
		t.Kind = KindSHA1
	case "file:hashes.'SHA-256'", "file:hashes.SHA256":
		t.Kind = KindSHA256
	case "file:hashes.'SHA-512'", "file:hashes.SHA512":
		t.Kind = KindSHA512
	case "file:hashes":
		t.Kind = KindHash
	case "hashes":
		t.Kind = KindHashes
	case "time":
		t.Kind = KindTime
	case "auto":
		t.Kind = KindAuto
	default:
		if !strings.Contains(p, ":") {
			return t, false
		}
		t.Kind = KindOther
	}
	return t, true
}

// Field is one typed value of an event. Value aliases the line being read
// or the event's scratch space: it is valid until the next line.
type Field struct {
	T     *Target
	Value []byte
}

// Event is one log record reduced to what matching needs. Readers reuse
// Events: nothing in it outlives the next Reset.
type Event struct {
	Line   int64
	Fields []Field
	Time   []byte // raw time text, parsed only when a hit needs it

	// Logsource for Sigma.
	Product, Category, Service string
	Channel, EventID           []byte

	srcPort, dstPort int64
	logPath          []byte
	host, uri        []byte // for joining Zeek/EVE host + uri into a URL
	arena            []byte
}

// Reset prepares ev for a line of n bytes.
func (ev *Event) Reset(n int) {
	ev.Fields = ev.Fields[:0]
	ev.Time = nil
	ev.Channel, ev.EventID = nil, nil
	ev.host, ev.uri = nil, nil
	ev.srcPort, ev.dstPort = 0, 0
	ev.logPath = nil
	ev.Product, ev.Category, ev.Service = "", "", ""
	need := 2*n + 512
	if cap(ev.arena) < need {
		ev.arena = make([]byte, 0, need)
	}
	ev.arena = ev.arena[:0]
}

// keep copies b into the arena without ever reallocating it (earlier
// fields alias it); nil when it is full.
func (ev *Event) keep(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if len(ev.arena)+n > cap(ev.arena) {
		return nil
	}
	start := len(ev.arena)
	for _, p := range parts {
		ev.arena = append(ev.arena, p...)
	}
	return ev.arena[start:len(ev.arena):len(ev.arena)]
}

// Add records a value for target t, handling meta kinds.
func (ev *Event) Add(t *Target, v []byte) {
	if len(v) == 0 || (len(v) == 1 && v[0] == '-') {
		return
	}
	switch t.Kind {
	case KindNone:
		return
	case KindTime:
		if ev.Time == nil {
			ev.Time = v
		}
		return
	case KindChannel:
		ev.Channel = v
		return
	case KindEventID:
		ev.EventID = v
		return
	case KindLogPath:
		ev.logPath = v
		return
	case KindSrcPort, KindDstPort:
		n := int64(0)
		for _, c := range v {
			if c < '0' || c > '9' || n > 65535 {
				return
			}
			n = n*10 + int64(c-'0')
		}
		if t.Kind == KindSrcPort {
			ev.srcPort = n
		} else {
			ev.dstPort = n
		}
		return
	case KindURI:
		ev.uri = v
		return
	case KindHost:
		if ev.host == nil {
			ev.host = v
		}
	case KindImage:
		i := len(v) - 1
		for i >= 0 && v[i] != '\\' && v[i] != '/' {
			i--
		}
		v = v[i+1:]
		if len(v) == 0 {
			return
		}
	}
	ev.Fields = append(ev.Fields, Field{T: t, Value: v})
}

var uriTarget = &Target{Name: "host+uri", Kind: KindURL, Path: "url:value"}

// finish joins host and uri into a URL (Zeek http, EVE http).
func (ev *Event) finish() {
	if ev.host != nil && len(ev.uri) > 0 && ev.uri[0] == '/' {
		if u := ev.keep([]byte("http://"), ev.host, ev.uri); u != nil {
			ev.Fields = append(ev.Fields, Field{T: uriTarget, Value: u})
		}
	}
}
