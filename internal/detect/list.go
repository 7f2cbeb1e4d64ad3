package detect

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/csvlist"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/stix/pattern"
)

// Indexing a one-value-a-line list through the csvlist importer builds a
// complete STIX indicator (properties, JSON, validation) per line and keeps
// a set of every value seen, only for the index to keep a few fields of
// it: for a million-line list that is a gigabyte and half a minute.
// AddList reads such lists straight into the index instead. It gives each
// value the id, name and actor the importer gives it (same source naming,
// same maltrail conventions, same deterministic ids), so hits and
// sightings refer to the indicators `bulwark import` stores;
// TestAddListMatchesImporter holds the two to that over the corpus lists.

// ListSource describes a list for AddList.
type ListSource struct {
	// Path is the file's path ("-" or "" for standard input): its name
	// gives the source name and, in maltrail's layout
	// (static/malware/apt_lazarus.txt), the actor.
	Path string
	// Name overrides the source name derived from Path.
	Name string
	// TLP marks the list's indicators.
	TLP stix.TLP
}

// ListStats counts what AddList read.
type ListStats struct {
	Lines    int
	Values   int      // values indexed
	Rejected int      // lines that are not an indicator value
	Examples []string // the first rejections
}

// ErrNotList is returned by AddList, before it indexes anything, for a
// file whose first data line reads as CSV: the csvlist importer's CSV
// mode (header names, type and actor columns) handles those.
var ErrNotList = errors.New("not a one-value-a-line list")

// listMaxLine matches the importer's bound on one line.
const listMaxLine = csvlist.MaxLine

// LooksLikeList reports whether head (the first bytes of a file the
// csvlist importer accepts) reads as a one-value-a-line list rather than
// CSV, deciding as AddList will; false when head holds no data line.
func LooksLikeList(name string, head []byte) bool {
	if ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(name, ".gz"))); ext == ".csv" || ext == ".tsv" {
		return false
	}
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	for len(head) > 0 {
		line, rest, found := bytes.Cut(head, []byte("\n"))
		if !found && len(head) >= feed.SniffBytes {
			return false // cut mid-line
		}
		head = rest
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		return !csvLike(string(t))
	}
	return false
}

// csvLike is the importer's test for CSV on the first data line, made
// cautious: whatever might be CSV goes to the importer.
func csvLike(line string) bool {
	comma := strings.IndexByte(line, ',')
	if comma < 0 {
		return false
	}
	if _, err := csvlist.Parse(line); err == nil {
		return false
	}
	if semi := strings.IndexByte(line, ';'); semi >= 0 && semi < comma {
		return false // Loki value;comment, the comment holding commas
	}
	return true
}

type listReader struct {
	b          *Builder
	src        ListSource
	file       string
	source     string
	sourceSet  bool // fixed by the first value, as the importer's identity is
	fileActor  string
	lokiFile   bool
	stats      ListStats
	sawData    bool
	actorKnown bool
	actor      string
}

// AddList indexes a plain indicator list: one value a line (IP, CIDR,
// domain, URL, hash, e-mail or wallet address, host:port), '#' comments,
// Loki's "value;comment" and "value comment" lines. Lines that are not
// values are counted and skipped.
func (b *Builder) AddList(ctx context.Context, r io.Reader, src ListSource) (ListStats, error) {
	lr := &listReader{b: b, src: src, file: src.Path}
	if lr.file == "" {
		lr.file = "-"
	}
	if ext := strings.ToLower(filepath.Ext(lr.file)); ext == ".csv" || ext == ".tsv" {
		return lr.stats, ErrNotList
	}
	maltrail := maltrailLayout(lr.file)
	lr.fileActor = fileActor(lr.file)
	lr.source = src.Name
	if lr.source == "" {
		lr.source = listBaseName(lr.file)
		if maltrail {
			lr.source = "maltrail"
		}
	}
	lr.lokiFile = strings.Contains(strings.ToLower(filepath.Base(lr.file)), "filename-iocs")
	br := bufio.NewReaderSize(r, listMaxLine)
	for n := 1; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return lr.stats, err
			}
		}
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			lr.stats.Lines++
			lr.reject(n, fmt.Sprintf("line longer than %d bytes", listMaxLine))
			if err == io.EOF {
				break
			}
			if err != nil {
				return lr.stats, fmt.Errorf("%s: line %d: %w", lr.file, n, err)
			}
			continue
		}
		if err != nil && err != io.EOF {
			return lr.stats, fmt.Errorf("%s: line %d: %w", lr.file, n, err)
		}
		if len(line) == 0 && err == io.EOF {
			break
		}
		lr.stats.Lines++
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		if e := lr.line(line, n); e != nil {
			return lr.stats, e
		}
		if err == io.EOF {
			break
		}
	}
	return lr.stats, ctx.Err()
}

func (lr *listReader) reject(n int, msg string) {
	lr.stats.Rejected++
	if len(lr.stats.Examples) < 10 {
		lr.stats.Examples = append(lr.stats.Examples, fmt.Sprintf("%s:%d: %s", lr.file, n, msg))
	}
}

func (lr *listReader) line(b []byte, n int) error {
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return nil
	}
	if t[0] == '#' {
		lr.comment(string(bytes.TrimSpace(bytes.TrimLeft(t, "#"))))
		return nil
	}
	if bytes.IndexByte(t, 0) >= 0 {
		lr.reject(n, "binary data (NUL byte)")
		return nil
	}
	if !utf8.Valid(t) {
		lr.reject(n, "not UTF-8 text")
		return nil
	}
	s := string(t)
	if !lr.sawData {
		lr.sawData = true
		if csvLike(s) {
			return ErrNotList
		}
	}
	if lr.lokiFile {
		lr.reject(n, "loki file-name IOC (REGEX;SCORE) is a regular expression, not an indicator value")
		return nil
	}
	v, err := csvlist.Parse(s)
	if err != nil {
		value := s
		if i := strings.IndexByte(s, ';'); i >= 0 {
			value = strings.TrimSpace(s[:i])
		} else if i := strings.IndexAny(s, " \t"); i >= 0 {
			value = s[:i]
		}
		if value == s {
			lr.reject(n, fmt.Sprintf("%q: %v", truncName(s), err))
			return nil
		}
		v2, err2 := csvlist.Parse(value)
		if err2 != nil {
			lr.reject(n, fmt.Sprintf("%q: %v", truncName(value), err2))
			return nil
		}
		v = v2
	}
	lr.value(v, n)
	return nil
}

// comment follows the importer where comments change the source: Loki
// and maltrail files name themselves in their first comments.
func (lr *listReader) comment(c string) {
	if strings.Contains(c, "REGEX;SCORE") {
		lr.lokiFile = true
	}
	if lr.src.Name != "" || lr.sourceSet {
		return
	}
	if strings.HasPrefix(c, "LOKI ") {
		lr.source = "loki"
	}
	if strings.Contains(c, "Maltrail developers") {
		lr.source = "maltrail"
	}
}

func (lr *listReader) value(v csvlist.Value, n int) {
	lr.sourceSet = true
	if !lr.actorKnown {
		lr.actorKnown = true
		if stix.NormalizeName(lr.fileActor) != "" {
			lr.actor = lr.fileActor
		}
	}
	key := v.Key()
	id := stix.DeterministicID("indicator", lr.source, string(v.Kind), key)
	b := lr.b
	before := b.x.Stats
	if a, ok := valueAnchor(v); ok {
		b.add(id, key, lr.actor, lr.src.TLP, []anchor{a}, true, true, nil)
	} else {
		var src string
		if v.Port > 0 {
			src = feed.SocketPattern(v.Kind, v.Value, v.Port)
		} else {
			p, err := feed.Pattern(v.Kind, v.Value)
			if err != nil {
				lr.reject(n, err.Error())
				return
			}
			src = p
		}
		b.addPattern(id, key, lr.actor, lr.src.TLP, src)
	}
	if b.x.Stats.Indicators > before.Indicators {
		lr.stats.Values++
	}
}

// Paths of the patterns feed.Pattern writes, to index list values without
// writing and parsing a pattern per line.
var valuePaths = map[feed.Kind]pattern.Path{
	feed.KindIPv4:   {Type: "ipv4-addr", Steps: []pattern.Step{{Kind: pattern.StepKey, Key: "value"}}},
	feed.KindIPv6:   {Type: "ipv6-addr", Steps: []pattern.Step{{Kind: pattern.StepKey, Key: "value"}}},
	feed.KindDomain: {Type: "domain-name", Steps: []pattern.Step{{Kind: pattern.StepKey, Key: "value"}}},
	feed.KindURL:    {Type: "url", Steps: []pattern.Step{{Kind: pattern.StepKey, Key: "value"}}},
	feed.KindEmail:  {Type: "email-addr", Steps: []pattern.Step{{Kind: pattern.StepKey, Key: "value"}}},
	feed.KindWallet: {Type: "cryptocurrency-wallet", Steps: []pattern.Step{{Kind: pattern.StepKey, Key: "value"}}},
	feed.KindMD5:    {Type: "file", Steps: []pattern.Step{{Kind: pattern.StepKey, Key: "hashes"}, {Kind: pattern.StepKey, Key: "MD5"}}},
	feed.KindSHA1:   {Type: "file", Steps: []pattern.Step{{Kind: pattern.StepKey, Key: "hashes"}, {Kind: pattern.StepKey, Key: "SHA-1"}}},
	feed.KindSHA256: {Type: "file", Steps: []pattern.Step{{Kind: pattern.StepKey, Key: "hashes"}, {Kind: pattern.StepKey, Key: "SHA-256"}}},
	feed.KindSHA512: {Type: "file", Steps: []pattern.Step{{Kind: pattern.StepKey, Key: "hashes"}, {Kind: pattern.StepKey, Key: "SHA-512"}}},
}

// valueAnchor is the anchor of the pattern feed.Pattern would write for v,
// when that pattern is a single equality the index answers directly.
func valueAnchor(v csvlist.Value) (anchor, bool) {
	if v.Port > 0 {
		return anchor{}, false
	}
	p, ok := valuePaths[v.Kind]
	if !ok {
		return anchor{}, false
	}
	a, direct, ok := litAnchor(p, pattern.Literal{Kind: pattern.LitString, Str: v.Value}, false)
	return a, ok && direct
}

// maltrailLayout reads maltrail's trails/static/<category>/<name>.txt, also
// flattened as "static__malware__apt_lazarus.txt", as the importer does.
func maltrailLayout(file string) bool {
	segs := strings.Split(strings.ReplaceAll(filepath.ToSlash(file), "__", "/"), "/")
	for i, s := range segs[:len(segs)-1] {
		if (s == "static" || s == "custom") && i+1 < len(segs) {
			return true
		}
	}
	return false
}

// fileActor is the actor a maltrail "apt_<name>" file name gives.
func fileActor(file string) string {
	name := listBaseName(file)
	if i := strings.LastIndex(name, "__"); i >= 0 {
		name = name[i+2:]
	}
	if strings.HasPrefix(name, "apt_") && len(name) > 4 {
		return name[4:]
	}
	return ""
}

func listBaseName(p string) string {
	b := filepath.Base(p)
	if b == "-" || b == "." || b == string(filepath.Separator) || b == "" {
		return "list"
	}
	return strings.TrimSuffix(b, filepath.Ext(b))
}
