package detect

import (
	"strconv"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix/pattern"
)

// Building a STIX observation from an event is the slow path: it runs only
// for candidates whose indexed value matched, and for the few patterns with
// no indexable value at all.

func kindType(f *Field) string {
	switch f.T.Kind {
	case KindIP:
		if _, ok := parseIP(f.Value); ok {
			for _, c := range f.Value {
				if c == ':' {
					return "ipv6-addr"
				}
			}
			return "ipv4-addr"
		}
	case KindDomain:
		return "domain-name"
	case KindHost:
		if a, ok := parseIP(f.Value); ok {
			if a.Is4() {
				return "ipv4-addr"
			}
			return "ipv6-addr"
		}
		return "domain-name"
	case KindURL:
		return "url"
	case KindEmail:
		return "email-addr"
	case KindWallet:
		return "cryptocurrency-wallet"
	case KindMD5, KindSHA1, KindSHA256, KindSHA512, KindHash, KindHashes, KindImage:
		return "file"
	case KindOther:
		for i := 0; i < len(f.T.Path); i++ {
			if f.T.Path[i] == ':' {
				return f.T.Path[:i]
			}
		}
	}
	return ""
}

func (s *Scratch) hasTypes(ev *Event, types []string) bool {
	for _, t := range types {
		if t == "network-traffic" {
			return true
		}
		for i := range ev.Fields {
			if kindType(&ev.Fields[i]) == t {
				return true
			}
		}
	}
	return false
}

// confirm evaluates a candidate's full pattern on the event.
func (s *Scratch) confirm(ev *Event, m *pattern.Matcher) bool {
	if s.obs == nil {
		s.obs = observation(ev)
	}
	return m.MatchObservation(s.obs)
}

func observation(ev *Event) *pattern.Observation {
	objs := map[string]map[string]any{}
	nt := map[string]any{"type": "network-traffic"}
	var file, proc map[string]any
	n := 0
	for i := range ev.Fields {
		f := &ev.Fields[i]
		t := kindType(f)
		v := string(f.Value)
		switch t {
		case "ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr", "cryptocurrency-wallet":
			key := strconv.Itoa(n)
			n++
			objs[key] = map[string]any{"type": t, "value": v}
			switch f.T.Role {
			case RoleSrc:
				nt["src_ref"] = key
			case RoleDst:
				nt["dst_ref"] = key
			}
		case "file":
			if file == nil {
				file = map[string]any{"type": "file", "hashes": map[string]any{}}
			}
			h := file["hashes"].(map[string]any)
			switch f.T.Kind {
			case KindMD5:
				h["MD5"] = v
			case KindSHA1:
				h["SHA-1"] = v
			case KindSHA256:
				h["SHA-256"] = v
			case KindSHA512:
				h["SHA-512"] = v
			case KindImage:
				file["name"] = v
			}
		default:
			if f.T.Kind == KindOther {
				if t == "process" && proc == nil {
					proc = map[string]any{"type": "process"}
				}
				prop := f.T.Path[len(t)+1:]
				if t == "process" {
					proc[prop] = v
				} else {
					objs[strconv.Itoa(n)] = map[string]any{"type": t, prop: v}
					n++
				}
			}
		}
	}
	if file != nil {
		objs[strconv.Itoa(n)] = file
		n++
	}
	if proc != nil {
		objs[strconv.Itoa(n)] = proc
		n++
	}
	if ev.srcPort > 0 {
		nt["src_port"] = ev.srcPort
	}
	if ev.dstPort > 0 {
		nt["dst_port"] = ev.dstPort
	}
	if len(nt) > 1 {
		objs[strconv.Itoa(n)] = nt
	}
	return &pattern.Observation{Objects: objs, Time: eventTime(ev)}
}

// eventTime reads an event's time for WITHIN and START/STOP; zero when it
// cannot be read (then only the order of events counts).
func eventTime(ev *Event) time.Time {
	t, _ := parseHitTime(formatTime(ev.Time))
	return t
}
