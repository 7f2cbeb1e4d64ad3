package ofac

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/feed"
)

// List is a per-asset list of sanctioned addresses (sanctioned_addresses_ETH.txt
// or .json), as derived from the SDN list by 0xB10C's tool.
var List = feed.Format{
	Name:  "ofac-list",
	Doc:   "OFAC sanctioned addresses of one asset: sanctioned_addresses_<ASSET>.txt (one a line) or .json (array)",
	Sniff: sniffList,
	Read:  ReadList,
}

// Limits against hostile input.
const (
	MaxListBytes   = 64 << 20 // a JSON list is read whole; the real ones are < 32 KiB
	maxListLine    = 4096
	maxSniffSample = 200 // lines looked at by the sniffer
)

var listName = regexp.MustCompile(`(?i)sanctioned_addresses_([a-z0-9]{2,10})\.(txt|json)$`)

// AssetOfListName returns the asset a list file's name gives, e.g. "ETH" for
// sanctioned_addresses_ETH.txt, or "".
func AssetOfListName(name string) string {
	m := listName.FindStringSubmatch(filepath.Base(name))
	if m == nil {
		return ""
	}
	return strings.ToUpper(m[1])
}

func sniffList(name string, head []byte) bool {
	if AssetOfListName(name) != "" {
		return true
	}
	h := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
	if len(h) == 0 {
		return false
	}
	if h[0] == '[' {
		// A JSON array whose first element is an address string.
		dec := json.NewDecoder(bytes.NewReader(h))
		if _, err := dec.Token(); err != nil {
			return false
		}
		tok, err := dec.Token()
		s, ok := tok.(string)
		return err == nil && ok && looksLikeAddress(s)
	}
	// Every complete line an address (the last line may be cut by the sniff
	// window, so it is left out unless the head is the whole file).
	lines := strings.Split(string(h), "\n")
	if len(head) >= feed.SniffBytes && len(lines) > 1 {
		lines = lines[:len(lines)-1]
	}
	n := 0
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if !looksLikeAddress(l) {
			return false
		}
		if n++; n >= maxSniffSample {
			break
		}
	}
	return n > 0
}

// ReadList reads a per-asset list. Its asset comes from the file name
// (Source.Path); a list named otherwise is imported without an asset.
// Blank lines and lines starting with '#' are skipped; an address twice is
// imported once.
func ReadList(ctx context.Context, src feed.Source, yield feed.Yield) error {
	asset := AssetOfListName(src.Path)
	// The lists carry no date. Their objects are dated the day OFAC first
	// listed digital currency addresses, before any dated source, so that
	// the SDN XML and the entity map, which name the parties, replace them
	// whatever the order of imports (one indicator per address, the named
	// version kept); when an address was listed is not known from them.
	em, err := newEmitter(src, identityCreated, yield)
	if err != nil {
		return err
	}
	prov := feed.Provenance{Source: provName(src), File: src.Path, Index: -1}
	br := bufio.NewReaderSize(src.R, 64<<10)
	first, _ := br.Peek(64)
	if t := bytes.TrimLeft(first, " \t\r\n\xef\xbb\xbf"); len(t) > 0 && t[0] == '[' {
		return readJSONList(ctx, br, prov, asset, em)
	}
	seen := map[string]bool{}
	var total int64
	for line := 1; ; line++ {
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		raw, n, long, err := readLine(br, maxListLine)
		total += n
		if total > MaxListBytes {
			return &feed.LineError{File: src.Path, Line: line, Err: fmt.Errorf("%w: list larger than %d bytes", errTooLarge, MaxListBytes)}
		}
		if errors.Is(err, errTooLarge) {
			return &feed.LineError{File: src.Path, Line: line, Err: err}
		}
		if len(raw) == 0 && errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return &feed.LineError{File: src.Path, Line: line, Err: err}
		}
		p := prov
		p.Line = line
		s := strings.TrimSpace(strings.TrimPrefix(string(raw), "\xef\xbb\xbf"))
		switch {
		case long:
			if yerr := yield(feed.Reject(p, "address", fmt.Errorf("line longer than %d bytes", maxListLine))); yerr != nil {
				return yerr
			}
		case s == "" || s[0] == '#':
		case seen[s]:
		default:
			seen[s] = true
			if yerr := em.emit(wallet{Asset: asset, Address: s, Prov: p}); yerr != nil {
				return yerr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
	}
}

// readLine returns one line without its end and the bytes it consumed; a
// line longer than max is consumed whole and reported as long, with only its
// first max bytes.
func readLine(br *bufio.Reader, max int) (line []byte, n int64, long bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		n += int64(len(frag))
		if n > MaxListBytes {
			return nil, n, true, fmt.Errorf("%w: line longer than %d bytes", errTooLarge, MaxListBytes)
		}
		if len(line)+len(frag) > max {
			long = true
			if room := max - len(line); room > 0 {
				line = append(line, frag[:room]...)
			}
		} else {
			line = append(line, frag...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(line, "\r\n"), n, long, err
	}
}

// readJSONList reads the .json variant: an array of address strings.
func readJSONList(ctx context.Context, r io.Reader, prov feed.Provenance, asset string, em *emitter) error {
	data, err := io.ReadAll(io.LimitReader(r, MaxListBytes+1))
	if err != nil {
		return &feed.LineError{File: prov.File, Err: err}
	}
	if len(data) > MaxListBytes {
		return &feed.LineError{File: prov.File, Err: fmt.Errorf("%w: list larger than %d bytes", errTooLarge, MaxListBytes)}
	}
	lines := newLineCounter(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return &feed.LineError{File: prov.File, Line: 1, Err: errors.New("not a JSON array of addresses")}
	}
	seen := map[string]bool{}
	for i := 0; dec.More(); i++ {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		off := dec.InputOffset()
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return &feed.LineError{File: prov.File, Line: lines.at(dec.InputOffset()), Field: fmt.Sprintf("[%d]", i), Err: err}
		}
		p := prov
		p.Line = lines.at(off + int64(leadingSpace(data[off:])))
		p.Index = i
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			if err := em.yield(feed.Reject(p, fmt.Sprintf("[%d]", i), fmt.Errorf("want an address string, got %s", trunc(string(raw), 40)))); err != nil {
				return err
			}
			continue
		}
		s = strings.TrimSpace(s)
		if seen[s] {
			continue
		}
		seen[s] = true
		if err := em.emit(wallet{Asset: asset, Address: s, Prov: p}); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return &feed.LineError{File: prov.File, Line: lines.at(dec.InputOffset()), Err: noEOF(err)}
	}
	return nil
}

// noEOF turns the decoder's io.EOF inside a document into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func leadingSpace(b []byte) int {
	n := 0
	for n < len(b) && (b[n] == ' ' || b[n] == '\t' || b[n] == '\r' || b[n] == '\n' || b[n] == ',') {
		n++
	}
	return n
}

// lineCounter maps offsets to 1-based lines; offsets must not go backwards
// by much, as each call counts on from the previous one.
type lineCounter struct {
	data []byte
	off  int64
	line int
}

func newLineCounter(data []byte) *lineCounter { return &lineCounter{data: data, line: 1} }

func (c *lineCounter) at(off int64) int {
	if off > int64(len(c.data)) {
		off = int64(len(c.data))
	}
	if off < c.off {
		c.off, c.line = 0, 1
	}
	c.line += bytes.Count(c.data[c.off:off], []byte{'\n'})
	c.off = off
	return c.line
}
