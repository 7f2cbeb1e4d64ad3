// Package csvlist imports plain indicator lists: one value a line with '#'
// comments (maltrail trails, ESET hash lists, the FBI's wallet lists), Loki's
// "value;comment" lists, and CSV files with or without a header naming the
// value column. Each value becomes a STIX indicator whose kind (IP, CIDR,
// domain, URL, hash, email, wallet address) comes from a type column or is
// detected from its shape.
//
// Lists carry no dates, so every object takes Source.Time (the file's
// modification time) as created/modified and a deterministic id from the
// source name and value: re-importing an unchanged file changes nothing.
// A value repeated within one file yields one indicator, built from its
// first occurrence; later ones are skipped silently (the maltrail lists
// repeat values under several references).
//
// Comments give context to the values that follow them, until the next
// comment after a value: "# Reference: URL" lines become external
// references, "# Aliases: a, b" the aliases of the file's actor, and a free
// comment directly above a value (Loki's "# Campaign https://…") its
// description and reference. Maltrail's file names name the actor
// (static/malware/apt_lazarus.txt → intrusion-set "lazarus") and the
// category ("malware", "suspicious").
package csvlist

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// Format reads indicator lists and CSV files, deciding per file between the
// two from the name and the first data line.
var Format = feed.Format{
	Name:  "csv",
	Doc:   "indicator list: CSV with a value column, or one value a line (maltrail, Loki, hash and wallet lists)",
	Sniff: Sniff,
	Read:  Read,
}

// Text reads every file as one value a line (never as CSV). It has no
// sniffer: Format's covers both.
var Text = feed.Format{
	Name: "txt",
	Doc:  "indicator list, one value a line with '#' comments (maltrail, Loki value;comment, hash lists)",
	Read: ReadText,
}

// MaxLine bounds one line (one record for CSV); longer lines are rejected
// and skipped, not buffered.
const MaxLine = 64 << 10

// maxRecordLines bounds how many physical lines a quoted CSV field may span.
const maxRecordLines = 100

// Read imports a list or CSV file.
func Read(ctx context.Context, src feed.Source, yield feed.Yield) error {
	return newReader(src, yield, modeAuto).run(ctx)
}

// ReadText imports a one-value-a-line list.
func ReadText(ctx context.Context, src feed.Source, yield feed.Yield) error {
	return newReader(src, yield, modeLines).run(ctx)
}

type mode int

const (
	modeAuto mode = iota
	modeLines
	modeCSV
)

// errLokiRegex rejects the lines of Loki filename-iocs: they are regular
// expressions over paths with a score, which no STIX equality pattern
// expresses faithfully.
var errLokiRegex = errors.New("loki file-name IOC (REGEX;SCORE) is a regular expression, not an indicator value; not imported")

type reader struct {
	src    feed.Source
	yield  feed.Yield
	mode   mode
	source string // feed name: identities, ids, provenance
	file   string
	now    time.Time

	identity     string
	identityDone bool
	markings     []string // from Source.TLP
	tlp          stix.TLP // Source.TLP

	// maltrail conventions
	maltrail  bool
	category  string // "malware", "suspicious", …
	trailName string // file name without "apt_"
	fileActor string
	aliases   []string
	actors    map[string]string // NormalizeName → intrusion-set id already yielded

	seen map[string]bool

	// comment context for the values that follow
	afterValue   bool
	refs         []stix.ExternalReference
	heading      string
	lastComment  string
	lastCommLine int
	lokiFilename bool

	// CSV
	headerDone bool
	cols       *columns
	comma      rune
	pending    strings.Builder
	pendStart  int
	pendLines  int
}

type columns struct {
	names                                                []string
	value, typ, actor, tlp, desc, first, conf, ref, tags int
}

func newReader(src feed.Source, yield feed.Yield, m mode) *reader {
	r := &reader{src: src, yield: yield, mode: m, file: src.Path, actors: map[string]string{}, seen: map[string]bool{}, comma: ','}
	if r.file == "" {
		r.file = "-"
	}
	r.now = src.Time
	if r.now.IsZero() {
		// No file time (stdin): ids stay deterministic, versions do not.
		r.now = time.Now().UTC().Truncate(time.Second)
	}
	r.markings, r.tlp = feed.TLPMarkings(src.TLP), src.TLP
	r.parseMaltrailName()
	r.source = src.Name
	if r.source == "" {
		if r.maltrail {
			r.source = "maltrail"
		} else {
			r.source = baseName(r.file)
		}
	}
	if m == modeAuto {
		switch strings.ToLower(filepath.Ext(r.file)) {
		case ".csv", ".tsv":
			r.mode = modeCSV
			if strings.EqualFold(filepath.Ext(r.file), ".tsv") {
				r.comma = '\t'
			}
		}
	}
	if strings.Contains(strings.ToLower(filepath.Base(r.file)), "filename-iocs") {
		r.lokiFilename = true
	}
	return r
}

func baseName(p string) string {
	b := filepath.Base(p)
	if b == "-" || b == "." || b == string(filepath.Separator) || b == "" {
		return "list"
	}
	// A name that is all extension (".csv") keeps it: an identity needs
	// a name.
	if n := strings.TrimSpace(strings.TrimSuffix(b, filepath.Ext(b))); n != "" {
		return n
	}
	return b
}

// parseMaltrailName reads maltrail's layout, trails/static/<category>/<name>.txt,
// also as flattened "static__malware__apt_lazarus.txt".
func (r *reader) parseMaltrailName() {
	p := strings.ReplaceAll(filepath.ToSlash(r.file), "__", "/")
	segs := strings.Split(p, "/")
	for i, s := range segs[:len(segs)-1] {
		if (s == "static" || s == "custom") && i+1 < len(segs) {
			r.maltrail = true
			rest := segs[i+1:]
			if s == "static" && len(rest) >= 2 {
				r.category = rest[len(rest)-2]
			}
			break
		}
	}
	r.setTrailName()
}

func (r *reader) setTrailName() {
	name := baseName(r.file)
	if i := strings.LastIndex(name, "__"); i >= 0 {
		name = name[i+2:]
	}
	r.trailName = name
	if strings.HasPrefix(name, "apt_") && len(name) > 4 {
		r.trailName = name[4:]
		r.fileActor = name[4:]
	}
}

var errLineTooLong = fmt.Errorf("line longer than %d bytes", MaxLine)

func (r *reader) run(ctx context.Context) error {
	br := bufio.NewReaderSize(r.src.R, MaxLine)
	n := 0
	for {
		n++
		if n%512 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		line, err := readLine(br)
		if err == io.EOF {
			break
		}
		if err == errLineTooLong {
			r.dropPending()
			if e := r.reject(n, "line", err); e != nil {
				return e
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		if err := r.line(line, n); err != nil {
			return err
		}
	}
	if r.pendLines > 0 {
		start := r.pendStart
		r.dropPending()
		return r.reject(start, "record", errors.New("quoted field not closed before end of file"))
	}
	return ctx.Err()
}

// readLine returns the next line without its end of line. A line longer than
// MaxLine is consumed and reported as errLineTooLong, never buffered whole.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	switch err {
	case nil:
	case bufio.ErrBufferFull:
		for err == bufio.ErrBufferFull {
			_, err = br.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		return nil, errLineTooLong
	case io.EOF:
		if len(line) == 0 {
			return nil, io.EOF
		}
	default:
		return nil, err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	return line, nil
}

func (r *reader) prov(n int) feed.Provenance {
	return feed.Provenance{Source: r.source, File: r.file, Line: n, Index: -1}
}

func (r *reader) reject(n int, field string, err error) error {
	return r.yield(feed.Reject(r.prov(n), field, err))
}

func (r *reader) line(b []byte, n int) error {
	if r.pendLines > 0 {
		return r.csvLine(b, n)
	}
	trim := bytes.TrimSpace(b)
	if len(trim) == 0 {
		r.lastComment = ""
		return nil
	}
	if trim[0] == '#' {
		r.comment(string(bytes.ToValidUTF8(trim, []byte("\uFFFD"))), n)
		return nil
	}
	if bytes.IndexByte(trim, 0) >= 0 {
		return r.reject(n, "line", errors.New("binary data (NUL byte)"))
	}
	if !utf8.Valid(trim) {
		return r.reject(n, "line", errors.New("not UTF-8 text"))
	}
	if r.mode == modeAuto {
		r.mode = chooseMode(string(trim))
	}
	if r.mode == modeCSV {
		return r.csvLine(b, n)
	}
	return r.textLine(string(trim), n)
}

var referenceRe = regexp.MustCompile(`(?i)^refer\w*\s*:\s*(.*)$`)
var aliasesRe = regexp.MustCompile(`(?i)^aliases\s*:\s*(.*)$`)
var urlRe = regexp.MustCompile(`https?://[^\s<>"']+`)

func (r *reader) comment(line string, n int) {
	c := strings.TrimSpace(strings.TrimLeft(line, "#"))
	if r.afterValue {
		// A comment after values starts the context of the next group.
		r.refs, r.heading, r.afterValue = nil, "", false
	}
	if strings.Contains(c, "REGEX;SCORE") {
		r.lokiFilename = true
	}
	if strings.HasPrefix(c, "LOKI ") && r.src.Name == "" && !r.identityDone {
		r.source = "loki" // signature-base's Loki IOC files
	}
	if strings.Contains(c, "Maltrail developers") {
		r.maltrail = true
		if r.src.Name == "" && !r.identityDone {
			r.source = "maltrail"
		}
	}
	switch {
	case c == "" || strings.HasPrefix(c, "Copyright") || strings.Contains(c, "'LICENSE'"):
		r.lastComment = ""
	case referenceRe.MatchString(c):
		ref := strings.TrimSpace(referenceRe.FindStringSubmatch(c)[1])
		if ref != "" {
			r.addRef(ref)
		}
		r.lastComment = ""
	case aliasesRe.MatchString(c):
		for _, a := range strings.Split(aliasesRe.FindStringSubmatch(c)[1], ",") {
			if a = strings.TrimSpace(a); a != "" && len(r.aliases) < 500 {
				r.aliases = append(r.aliases, a)
			}
		}
		r.lastComment = ""
	default:
		r.lastComment, r.lastCommLine = truncate(c, 1024), n
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// addRef records a reference URL (or, when it is not a URL, its text).
func (r *reader) addRef(ref string) {
	if len(r.refs) >= 50 {
		return
	}
	r.refs = appendRef(r.refs, ref)
}

func appendRef(refs []stix.ExternalReference, ref string) []stix.ExternalReference {
	ref = truncate(ref, 2048)
	er := stix.ExternalReference{SourceName: "reference", Description: ref}
	if m := urlRe.FindString(ref); m != "" {
		m = strings.TrimRight(m, ").,;")
		if u, err := url.Parse(m); err == nil && u.Host != "" {
			er = stix.ExternalReference{SourceName: strings.ToLower(u.Hostname()), URL: m}
		}
	}
	for _, e := range refs {
		if e.SourceName == er.SourceName && e.URL == er.URL && e.Description == er.Description {
			return refs
		}
	}
	return append(refs, er)
}

// chooseMode decides from the first data line whether a file without a
// telling extension is CSV: a header naming a value column, or several
// comma-separated fields whose first is an indicator while the whole line
// is not (URLs may contain commas).
func chooseMode(line string) mode {
	if !strings.Contains(line, ",") {
		return modeLines
	}
	if _, err := Parse(line); err == nil {
		return modeLines
	}
	if semi := strings.IndexByte(line, ';'); semi >= 0 && semi < strings.IndexByte(line, ',') {
		return modeLines // Loki value;comment, the comment holding commas
	}
	fields, err := splitCSV(line, ',')
	if err != nil || len(fields) < 2 {
		return modeLines
	}
	if findColumns(fields) != nil {
		return modeCSV
	}
	if _, err := Parse(fields[0]); err == nil {
		return modeCSV
	}
	return modeLines
}

func splitCSV(s string, comma rune) ([]string, error) {
	cr := csv.NewReader(strings.NewReader(s))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = false
	cr.TrimLeadingSpace = true
	return cr.Read()
}

// textLine handles "value", "value;comment" (Loki) and "value comment".
func (r *reader) textLine(line string, n int) error {
	if r.lokiFilename {
		return r.reject(n, "value", errLokiRegex)
	}
	info := r.groupInfo(n)
	v, err := Parse(line)
	if err != nil {
		value, comment := line, ""
		if i := strings.IndexByte(line, ';'); i >= 0 {
			value, comment = strings.TrimSpace(line[:i]), strings.TrimSpace(line[i+1:])
		} else if i := strings.IndexAny(line, " \t"); i >= 0 {
			value, comment = line[:i], strings.TrimSpace(line[i+1:])
		}
		if value != line {
			v2, err2 := Parse(value)
			if err2 != nil {
				if lokiScoreRe.MatchString(comment) {
					return r.reject(n, "value", errLokiRegex)
				}
				return r.reject(n, "value", fmt.Errorf("%q: %w", truncate(value, 120), err2))
			}
			v, err = v2, nil
			if comment != "" {
				info.desc = truncate(comment, 4096)
				info.refs = appendRef(append([]stix.ExternalReference(nil), info.refs...), comment)
				if info.refs[len(info.refs)-1].URL == "" {
					info.refs = info.refs[:len(info.refs)-1] // plain comment: a description only
				}
			}
		}
		if err != nil {
			return r.reject(n, "value", fmt.Errorf("%q: %w", truncate(line, 120), err))
		}
	}
	return r.emit([]Value{v}, info, n, "value")
}

var lokiScoreRe = regexp.MustCompile(`^\d{1,3}(;.*)?$`)

// rowInfo is what a line or record says about its values.
type rowInfo struct {
	desc      string
	refs      []stix.ExternalReference
	actor     string
	markings  []string
	validFrom time.Time
	conf      *int
	labels    []string
}

// groupInfo is the context the comments above give a value on line n.
func (r *reader) groupInfo(n int) rowInfo {
	if !r.afterValue && r.lastComment != "" && r.lastCommLine == n-1 {
		r.heading = r.lastComment
		for _, m := range urlRe.FindAllString(r.heading, 5) {
			r.addRef(m)
		}
	}
	r.afterValue = true
	info := rowInfo{desc: r.heading, refs: r.refs, actor: r.fileActor, markings: r.markings}
	if info.desc == "" && r.maltrail && r.trailName != "" {
		// maltrail's own way of naming what a trail is about
		info.desc = r.trailName
		if r.category != "" {
			info.desc += " (" + r.category + ")"
		}
	}
	return info
}

// csvLine accumulates physical lines into one record (quoted fields may
// span lines) and handles it.
func (r *reader) csvLine(b []byte, n int) error {
	if r.pendLines == 0 {
		r.pendStart = n
	} else {
		r.pending.WriteByte('\n')
	}
	r.pending.Write(b)
	r.pendLines++
	text := r.pending.String()
	if openQuote(text, r.comma) {
		if r.pending.Len() > MaxLine || r.pendLines >= maxRecordLines {
			start := r.pendStart
			r.dropPending()
			return r.reject(start, "record", fmt.Errorf("quoted field spans more than %d bytes or %d lines", MaxLine, maxRecordLines))
		}
		return nil // quoted field goes on
	}
	start := r.pendStart
	r.dropPending()
	if bytes.IndexByte([]byte(text), 0) >= 0 {
		return r.reject(start, "line", errors.New("binary data (NUL byte)"))
	}
	if !utf8.ValidString(text) {
		return r.reject(start, "line", errors.New("not UTF-8 text"))
	}
	if strings.TrimSpace(text) == "" {
		return nil
	}
	fields, err := splitCSV(text, r.comma)
	if err != nil {
		field := "record"
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			field = "column " + strconv.Itoa(pe.Column)
			err = pe.Err
		}
		return r.reject(start, field, err)
	}
	return r.record(fields, start)
}

func (r *reader) dropPending() {
	r.pending.Reset()
	r.pendLines = 0
}

var (
	valueNames = []string{"value", "indicator", "ioc", "observable", "indicator_value", "ioc_value", "observable_value", "artifact", "address", "wallet", "domain", "hostname", "ip", "url", "hash"}
	typeNames  = []string{"type", "entity_type", "indicator_type", "ioc_type", "observable_type", "kind", "value_type"}
	actorNames = []string{"actor", "threat_actor", "threatactor", "intrusion_set", "group", "apt", "attribution", "adversary"}
	descNames  = []string{"description", "comment", "comments", "note", "notes", "context", "info"}
	firstNames = []string{"first_seen", "firstseen", "first seen", "valid_from", "date", "date_added", "created"}
	confNames  = []string{"confidence", "score"}
	refNames   = []string{"reference", "references", "ref", "source_url", "report"}
	tagNames   = []string{"tags", "labels", "tag", "label"}
)

// findColumns maps a header row; nil when no field names a value column.
func findColumns(fields []string) *columns {
	norm := make([]string, len(fields))
	for i, f := range fields {
		norm[i] = strings.ToLower(strings.TrimSpace(f))
	}
	find := func(names []string) int {
		for _, name := range names {
			for i, f := range norm {
				if f == name || strings.ReplaceAll(f, " ", "_") == name || strings.ReplaceAll(f, "-", "_") == name {
					return i
				}
			}
		}
		return -1
	}
	c := &columns{names: norm, value: find(valueNames)}
	if c.value < 0 {
		return nil
	}
	c.typ, c.actor, c.tlp = find(typeNames), find(actorNames), find([]string{"tlp", "tlp_level", "marking"})
	c.desc, c.first, c.conf = find(descNames), find(firstNames), find(confNames)
	c.ref, c.tags = find(refNames), find(tagNames)
	// A second name that matches the value list ("ip" beside "value") stays
	// an ordinary column; the type column must not be the value column.
	if c.typ == c.value {
		c.typ = -1
	}
	return c
}

func (r *reader) record(fields []string, n int) error {
	if !r.headerDone {
		r.headerDone = true
		if c := findColumns(fields); c != nil {
			r.cols = c
			return nil
		}
	}
	info := rowInfo{markings: r.markings, actor: r.fileActor, refs: r.refs}
	r.afterValue = true
	c := r.cols
	if c == nil {
		// No header: the first column is the value, the rest describe it.
		var rest []string
		for _, f := range fields[1:] {
			if f = strings.TrimSpace(f); f != "" {
				rest = append(rest, f)
			}
		}
		info.desc = truncate(strings.Join(rest, "; "), 4096)
		if info.desc == "" {
			info.desc = r.heading
		}
		vals, err := parseTyped(fields[0], "")
		if err != nil {
			return r.reject(n, "column 1", err)
		}
		return r.emit(vals, info, n, "column 1")
	}
	if len(fields) != len(c.names) {
		return r.reject(n, "record", fmt.Errorf("%d fields, header has %d", len(fields), len(c.names)))
	}
	get := func(i int) string {
		if i < 0 {
			return ""
		}
		return strings.TrimSpace(fields[i])
	}
	col := func(i int) string { return "column " + c.names[i] }
	if d := get(c.desc); d != "" {
		info.desc = truncate(d, 4096)
	}
	if a := get(c.actor); a != "" {
		info.actor = truncate(a, 256)
	}
	if t := get(c.tlp); t != "" {
		level, err := stix.ParseTLP(t)
		if err != nil {
			return r.reject(n, col(c.tlp), err)
		}
		info.markings = feed.TLPMarkings(level)
	}
	if f := get(c.first); f != "" {
		t, err := parseDate(f)
		if err != nil {
			return r.reject(n, col(c.first), err)
		}
		info.validFrom = t
	}
	if s := get(c.conf); s != "" {
		v, err := parseConfidence(s)
		if err != nil {
			return r.reject(n, col(c.conf), err)
		}
		info.conf = &v
	}
	if s := get(c.ref); s != "" {
		info.refs = appendRef(append([]stix.ExternalReference(nil), info.refs...), s)
	}
	if s := get(c.tags); s != "" {
		for _, t := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '|' }) {
			if t = strings.TrimSpace(t); t != "" && len(info.labels) < 20 {
				info.labels = append(info.labels, truncate(t, 128))
			}
		}
	}
	vals, err := parseTyped(get(c.value), get(c.typ))
	if err != nil {
		var te *typeError
		if errors.As(err, &te) {
			return r.reject(n, col(c.typ), err)
		}
		return r.reject(n, col(c.value), err)
	}
	return r.emit(vals, info, n, col(c.value))
}

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02", "2006/01/02", "2006/01/02 15:04:05"}

func parseDate(s string) (time.Time, error) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if t.Year() < 1970 || t.Year() > 9999 {
				return time.Time{}, fmt.Errorf("date %q out of range", truncate(s, 40))
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q is not YYYY-MM-DD or RFC 3339", truncate(s, 40))
}

// parseConfidence reads 0–100, or the STIX None/Low/Med/High scale words.
func parseConfidence(s string) (int, error) {
	switch strings.ToLower(s) {
	case "none":
		return 0, nil
	case "low":
		return 15, nil
	case "medium", "med":
		return 50, nil
	case "high":
		return 85, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > 100 {
		return 0, fmt.Errorf("confidence %q is not 0–100 or low/medium/high", truncate(s, 40))
	}
	return v, nil
}

// identityEpoch dates the identities of list sources.
var identityEpoch = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func (r *reader) ensureIdentity() error {
	if r.identityDone {
		return nil
	}
	r.identityDone = true
	// A fixed date: the identity must not become a new version each time
	// the list file's mtime changes.
	o, err := feed.MarkedIdentity(r.source, "organization", identityEpoch, r.tlp, nil)
	if err != nil {
		return r.yield(feed.Item{Err: err, Prov: r.prov(0)})
	}
	r.identity = o.ID
	return r.yield(feed.Item{Object: o, Prov: r.prov(0)})
}

// ensureActor yields the intrusion-set named name once and returns its id
// ("" when the name has no letters or digits).
func (r *reader) ensureActor(name string, n int) (string, error) {
	key := stix.NormalizeName(name)
	if key == "" {
		return "", nil
	}
	if id, ok := r.actors[key]; ok {
		return id, nil
	}
	// Scoped to the source: each feed states its own view of an actor (the
	// actor lookup merges them by name), and one feed's bare name-only
	// object must never become a newer version of another feed's richer one.
	id := stix.DeterministicID("intrusion-set", "actor", r.source, key)
	props := map[string]any{"name": name}
	if name == r.fileActor {
		var aliases []string
		seen := map[string]bool{key: true}
		for _, a := range r.aliases {
			if k := stix.NormalizeName(a); k != "" && !seen[k] {
				seen[k] = true
				aliases = append(aliases, a)
			}
		}
		if len(aliases) > 0 {
			props["aliases"] = aliases
		}
	}
	o, err := feed.SDO("intrusion-set", id, feed.Common{CreatedBy: r.identity, Created: r.now, Markings: r.markings}, props)
	if err != nil {
		return "", r.reject(n, "actor", err)
	}
	if len(r.actors) < 10000 {
		r.actors[key] = id
	}
	return id, r.yield(feed.Item{Object: o, Prov: r.prov(n)})
}

func (r *reader) emit(vals []Value, info rowInfo, n int, field string) error {
	if err := r.ensureIdentity(); err != nil {
		return err
	}
	var actorID string
	if info.actor != "" {
		id, err := r.ensureActor(info.actor, n)
		if err != nil {
			return err
		}
		actorID = id
	}
	indType := "malicious-activity"
	if r.category == "suspicious" {
		indType = "anomalous-activity"
	}
	labels := []string{indType}
	if r.category != "" && r.category != indType {
		labels = append(labels, r.category)
	}
	labels = append(labels, info.labels...)
	for _, v := range vals {
		key := string(v.Kind) + "\x1f" + v.Key()
		if r.seen[key] {
			continue // duplicate in this file: the first occurrence stands
		}
		r.seen[key] = true
		var pattern string
		if v.Port > 0 {
			pattern = feed.SocketPattern(v.Kind, v.Value, v.Port)
		} else {
			p, err := feed.Pattern(v.Kind, v.Value)
			if err != nil {
				if e := r.reject(n, field, err); e != nil {
					return e
				}
				continue
			}
			pattern = p
		}
		id := stix.DeterministicID("indicator", r.source, string(v.Kind), v.Key())
		props := map[string]any{"indicator_types": []string{indType}}
		if info.desc != "" {
			props["description"] = info.desc
		}
		if info.conf != nil {
			props["confidence"] = *info.conf
		}
		c := feed.Common{CreatedBy: r.identity, Created: r.now, Markings: info.markings, Labels: labels, ExtRefs: info.refs}
		o, err := feed.Indicator(id, pattern, v.Key(), info.validFrom, c, props)
		if err != nil {
			if e := r.reject(n, field, err); e != nil {
				return e
			}
			continue
		}
		if err := r.yield(feed.Item{Object: o, Prov: r.prov(n)}); err != nil {
			return err
		}
		if actorID != "" {
			rel, err := feed.Relationship(o.ID, "indicates", actorID, feed.Common{CreatedBy: r.identity, Created: r.now, Markings: info.markings})
			if err != nil {
				if e := r.reject(n, "actor", err); e != nil {
					return e
				}
				continue
			}
			if err := r.yield(feed.Item{Object: rel, Prov: r.prov(n)}); err != nil {
				return err
			}
		}
	}
	return nil
}

// Sniff accepts .csv/.tsv/.txt files and files whose first data lines are
// mostly indicators, and refuses JSON, XML and YAML whatever their name.
func Sniff(name string, head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
	if len(h) == 0 || h[0] == '{' || h[0] == '[' || h[0] == '<' || bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	lines := bytes.Split(h, []byte("\n"))
	if len(head) >= feed.SniffBytes && len(lines) > 1 {
		lines = lines[:len(lines)-1] // cut mid-line
	}
	if s := string(bytes.TrimSpace(lines[0])); s == "---" || strings.HasPrefix(s, "%YAML") {
		return false
	}
	for _, l := range lines {
		if bytes.HasPrefix(l, []byte("tags:")) {
			return false // YAML (GraphSense TagPacks)
		}
	}
	ext := strings.ToLower(filepath.Ext(name))
	if ext == ".csv" || ext == ".tsv" {
		return true
	}
	good, total := 0, 0
	for _, l := range lines {
		s := strings.TrimSpace(string(l))
		if s == "" || s[0] == '#' {
			continue
		}
		if !utf8.ValidString(s) {
			return false
		}
		total++
		if total == 1 && strings.Contains(s, ",") {
			if f, err := splitCSV(s, ','); err == nil && findColumns(f) != nil {
				return true
			}
		}
		if lineLooksLikeIndicator(s) {
			good++
		}
		if total == 20 {
			break
		}
	}
	if ext == ".txt" {
		// A .txt name is a hint: half the lines suffice (a LICENSE.txt has none).
		return total == 0 || good*2 >= total
	}
	return total > 0 && good*10 >= total*8
}

func lineLooksLikeIndicator(s string) bool {
	if _, err := Parse(s); err == nil {
		return true
	}
	for _, sep := range []string{";", ",", " ", "\t"} {
		if i := strings.Index(s, sep); i > 0 {
			if _, err := Parse(s[:i]); err == nil {
				return true
			}
		}
	}
	return false
}

// openQuote reports whether text ends inside a quoted field, so the record
// goes on on the next line. A quote inside an unquoted field is a bare quote
// (an error for encoding/csv), not an opening one.
func openQuote(text string, comma rune) bool {
	inQuotes, fieldStart := false, true
	for i := 0; i < len(text); i++ {
		c := rune(text[i])
		switch {
		case inQuotes:
			if c == '"' {
				if i+1 < len(text) && text[i+1] == '"' {
					i++ // escaped quote
					continue
				}
				inQuotes = false
			}
		case c == '"' && fieldStart:
			inQuotes, fieldStart = true, false
		case c == comma || c == '\n':
			fieldStart = true
		case c == ' ' || c == '\t':
			// leading space before a quote is trimmed (TrimLeadingSpace)
		default:
			fieldStart = false
		}
	}
	return inQuotes
}
