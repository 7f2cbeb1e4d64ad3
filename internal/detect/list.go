package detect

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/google/uuid"

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
	// Size, when known, is the list's length in bytes: the index is sized
	// for it at once instead of growing as it fills.
	Size int64
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
	// finalSource is the source once the first value fixed it, for the
	// workers to derive identifiers under.
	finalSource atomic.Pointer[string]
}

// AddList indexes a plain indicator list: one value a line (IP, CIDR,
// domain, URL, hash, e-mail or wallet address, host:port), '#' comments,
// Loki's "value;comment" and "value comment" lines. Lines that are not
// values are counted and skipped.
//
// Reading a line into a value (recognising its kind, normalising it,
// deriving its identifier) is most of the cost, and each line's is its
// own: batches of lines are prepared on every core while this goroutine
// applies them to the index in file order, with the same result as one
// line after another.
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

	stop := make(chan struct{})
	defer close(stop)
	workers := runtime.GOMAXPROCS(0)
	order := make(chan *listBatch, 2*workers)
	work := make(chan *listBatch, 2*workers)
	go readListBatches(r, lr.file, order, work, stop)
	for range workers {
		go func() {
			for bt := range work {
				bt.prepare(lr.finalSource.Load())
				close(bt.done)
			}
		}()
	}
	sized := src.Size <= 0
	for bt := range order {
		if err := ctx.Err(); err != nil {
			return lr.stats, err
		}
		if !sized && bt.bytes > 0 {
			sized = true
			b.x.tab.reserve(b.x.tab.n + int(src.Size*int64(len(bt.lines))/bt.bytes))
		}
		<-bt.done
		for i := range bt.lines {
			lr.stats.Lines++
			if err := lr.apply(&bt.lines[i]); err != nil {
				return lr.stats, err
			}
		}
		if bt.err != nil {
			return lr.stats, bt.err
		}
	}
	return lr.stats, ctx.Err()
}

// listBatch is a run of lines, read in order and prepared by a worker.
type listBatch struct {
	lines []listLine
	bytes int64 // read for these lines
	err   error // a read error after the lines
	done  chan struct{}
}

// listLine is one line as read, then as prepared.
type listLine struct {
	n    int
	text []byte
	long bool // longer than listMaxLine: rejected

	// Set by prepare.
	kind      lineKind
	s         string // the trimmed line (data lines)
	msg       string // why the line is not a value
	v         csvlist.Value
	key       string
	a         anchor
	anchored  bool
	uuidFor   *string // the source u was derived under, nil if not derived
	u         [16]byte
	parsedErr bool
}

type lineKind uint8

const (
	lineBlank lineKind = iota
	lineComment
	lineBad  // rejected before parsing: msg says why
	lineData // a value, or parsedErr with msg
)

const listBatchLines = 2048

// readListBatches splits r into batches of lines, sending each both to the
// workers and, in order, to the applier.
func readListBatches(r io.Reader, file string, order, work chan<- *listBatch, stop <-chan struct{}) {
	defer close(order)
	defer close(work)
	br := bufio.NewReaderSize(r, listMaxLine)
	send := func(bt *listBatch) bool {
		select {
		case order <- bt:
		case <-stop:
			return false
		}
		select {
		case work <- bt:
			return true
		case <-stop:
			return false
		}
	}
	newBatch := func() *listBatch {
		return &listBatch{lines: make([]listLine, 0, listBatchLines), done: make(chan struct{})}
	}
	bt := newBatch()
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			bt.lines = append(bt.lines, listLine{n: n, long: true})
			line = nil
		}
		if err != nil && err != io.EOF {
			bt.err = fmt.Errorf("%s: line %d: %w", file, n, err)
			break
		}
		if len(line) == 0 && err == io.EOF {
			break
		}
		if line != nil {
			line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
			if n == 1 {
				line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
			}
			bt.lines = append(bt.lines, listLine{n: n, text: bytes.Clone(line)})
			bt.bytes += int64(len(line)) + 1
		}
		if err == io.EOF {
			break
		}
		if len(bt.lines) == listBatchLines {
			if !send(bt) {
				return
			}
			bt = newBatch()
		}
	}
	send(bt)
}

// prepare does each line's own work: what the line is, its value, key,
// anchor, and its identifier under source once the list's source is
// final (nil before).
func (bt *listBatch) prepare(source *string) {
	for i := range bt.lines {
		l := &bt.lines[i]
		if l.long {
			l.kind, l.msg = lineBad, fmt.Sprintf("line longer than %d bytes", listMaxLine)
			continue
		}
		t := bytes.TrimSpace(l.text)
		switch {
		case len(t) == 0:
			l.kind = lineBlank
			continue
		case t[0] == '#':
			l.kind, l.s = lineComment, string(bytes.TrimSpace(bytes.TrimLeft(t, "#")))
			continue
		case bytes.IndexByte(t, 0) >= 0:
			l.kind, l.msg = lineBad, "binary data (NUL byte)"
			continue
		case !utf8.Valid(t):
			l.kind, l.msg = lineBad, "not UTF-8 text"
			continue
		}
		l.kind, l.s = lineData, string(t)
		l.text = nil
		v, msg := parseListValue(l.s)
		if msg != "" {
			l.parsedErr, l.msg = true, msg
			continue
		}
		l.v, l.key = v, v.Key()
		l.a, l.anchored = valueAnchor(v)
		if source != nil {
			l.uuidFor, l.u = source, stix.DeterministicUUID("indicator", *source, string(v.Kind), l.key)
		}
	}
}

// parseListValue reads a data line as a value, also in Loki's
// "value;comment" and "value comment" forms; msg says why it is none.
func parseListValue(s string) (csvlist.Value, string) {
	v, err := csvlist.Parse(s)
	if err == nil {
		return v, ""
	}
	value := s
	if i := strings.IndexByte(s, ';'); i >= 0 {
		value = strings.TrimSpace(s[:i])
	} else if i := strings.IndexAny(s, " \t"); i >= 0 {
		value = s[:i]
	}
	if value == s {
		return v, fmt.Sprintf("%q: %v", truncName(s), err)
	}
	v, err = csvlist.Parse(value)
	if err != nil {
		return v, fmt.Sprintf("%q: %v", truncName(value), err)
	}
	return v, ""
}

func (lr *listReader) reject(n int, msg string) {
	lr.stats.Rejected++
	if len(lr.stats.Examples) < 10 {
		lr.stats.Examples = append(lr.stats.Examples, fmt.Sprintf("%s:%d: %s", lr.file, n, msg))
	}
}

// apply takes one prepared line, in file order: the decisions that depend
// on the lines before it (comments naming the source, the CSV test on the
// first data line, Loki files) are made here.
func (lr *listReader) apply(l *listLine) error {
	switch l.kind {
	case lineBlank:
		return nil
	case lineComment:
		lr.comment(l.s)
		return nil
	case lineBad:
		lr.reject(l.n, l.msg)
		return nil
	}
	if !lr.sawData {
		lr.sawData = true
		if csvLike(l.s) {
			return ErrNotList
		}
	}
	if lr.lokiFile {
		lr.reject(l.n, "loki file-name IOC (REGEX;SCORE) is a regular expression, not an indicator value")
		return nil
	}
	if l.parsedErr {
		lr.reject(l.n, l.msg)
		return nil
	}
	lr.value(l)
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

func (lr *listReader) value(l *listLine) {
	if !lr.sourceSet {
		lr.sourceSet = true
		src := lr.source
		lr.finalSource.Store(&src)
	}
	if !lr.actorKnown {
		lr.actorKnown = true
		if stix.NormalizeName(lr.fileActor) != "" {
			lr.actor = lr.fileActor
		}
	}
	v := l.v
	u := l.u
	if l.uuidFor == nil || *l.uuidFor != lr.source {
		u = stix.DeterministicUUID("indicator", lr.source, string(v.Kind), l.key)
	}
	b := lr.b
	before := b.x.Stats
	if l.anchored {
		b.addRec(u, true, l.key, lr.actor, lr.src.TLP, []anchor{l.a}, true, true, nil)
	} else {
		var src string
		if v.Port > 0 {
			src = feed.SocketPattern(v.Kind, v.Value, v.Port)
		} else {
			p, err := feed.Pattern(v.Kind, v.Value)
			if err != nil {
				lr.reject(l.n, err.Error())
				return
			}
			src = p
		}
		b.addPattern("indicator--"+uuid.UUID(u).String(), l.key, lr.actor, lr.src.TLP, src)
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
