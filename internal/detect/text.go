package detect

import (
	"bytes"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/csvlist"
	"github.com/bulwark-intel/bulwark/internal/sigma"
)

// Plain text: every token that has the shape of an observable becomes a
// field. csvlist.Detect decides the shape, so version numbers (1.2.3,
// v1.2.3.4), file names (setup.exe), single labels and leading-zero
// addresses are not taken for indicators; tokens are whole words, so
// 11.2.3.45 is never read as 1.2.3.4.

var (
	textIP     = &Target{Name: "text", Kind: KindIP}
	textDomain = &Target{Name: "text", Kind: KindDomain}
	textURL    = &Target{Name: "text", Kind: KindURL}
	textEmail  = &Target{Name: "text", Kind: KindEmail}
	textHash   = &Target{Name: "text", Kind: KindHash}
	textWallet = &Target{Name: "text", Kind: KindWallet}
)

type textParser struct{}

func (textParser) control(line []byte, sch any) (bool, any, error) {
	return len(bytes.TrimSpace(line)) == 0, sch, nil
}

func isDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '"', '\'', '`', '<', '>', '(', ')', '{', '}', ',', ';', '|', '\\', '^':
		return true
	}
	return false
}

func trimPunct(b []byte) []byte {
	for len(b) > 0 && bytes.IndexByte([]byte(".,:;!?[]=*"), b[len(b)-1]) >= 0 {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && bytes.IndexByte([]byte(".,:;!?[]=*"), b[0]) >= 0 {
		b = b[1:]
	}
	return b
}

func (textParser) parse(line []byte, _ any, ev *Event, _ *jscan) error {
	i := 0
	for i < len(line) {
		for i < len(line) && isDelim(line[i]) {
			i++
		}
		j := i
		for j < len(line) && !isDelim(line[j]) {
			j++
		}
		tok := trimPunct(line[i:j])
		i = j
		if len(tok) < 4 || len(tok) > 2048 {
			continue
		}
		// key=value: look at the value.
		if k := bytes.IndexByte(tok, '='); k >= 0 && !bytes.Contains(tok[:k], []byte("/")) {
			tok = trimPunct(tok[k+1:])
		}
		if len(tok) < 4 {
			continue
		}
		if a, ok := parseIP(tok); ok {
			_ = a
			ev.Add(textIP, tok)
			continue
		}
		if hashKind(tok) != KindNone {
			ev.Add(textHash, tok)
			continue
		}
		if !interesting(tok) {
			continue
		}
		kind, v, ok := csvlist.Detect(string(tok))
		if !ok {
			// ip:port
			if c := bytes.LastIndexByte(tok, ':'); c > 0 {
				if _, ok := parseIP(tok[:c]); ok {
					ev.Add(textIP, tok[:c])
				}
			}
			continue
		}
		var t *Target
		switch kind {
		case feed.KindIPv4, feed.KindIPv6:
			if bytes.IndexByte([]byte(v), '/') >= 0 {
				continue // a block written in a log is not an address seen
			}
			t = textIP
		case feed.KindDomain:
			t = textDomain
		case feed.KindURL:
			t = textURL
		case feed.KindEmail:
			t = textEmail
		case feed.KindMD5, feed.KindSHA1, feed.KindSHA256, feed.KindSHA512:
			t = textHash
		case feed.KindWallet:
			t = textWallet
			if kv := ev.keep(tok); kv != nil {
				ev.Add(t, kv)
			}
			continue
		default:
			continue
		}
		if kv := ev.keep([]byte(v)); kv != nil {
			ev.Add(t, kv)
		}
	}
	return nil
}

// interesting is a cheap pre-check before csvlist.Detect: a dot, an @, or
// the length of a wallet address.
func interesting(tok []byte) bool {
	if bytes.IndexByte(tok, '.') >= 0 || bytes.IndexByte(tok, '@') >= 0 {
		return true
	}
	return len(tok) >= 26 && len(tok) <= 90
}

func (textParser) sigmaEvent(line []byte, _ any) sigma.Event {
	return sigma.MapEvent{"message": string(line)}
}
