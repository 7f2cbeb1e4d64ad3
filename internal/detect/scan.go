package detect

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/bulwark-intel/bulwark/internal/sigma"
	"github.com/bulwark-intel/bulwark/internal/stix/pattern"
)

// Input is one log to scan.
type Input struct {
	Name   string // reported in hits
	Format string // "" or "auto": detected from the first lines
	Open   func() (io.ReadCloser, error)
	// Path is the file Open reads, if it is one: ScanOptions.Follow
	// follows it.
	Path string
}

// FileInput reads a file, or standard input for "-".
func FileInput(path string) Input {
	p := path
	if path == "-" {
		p = ""
	}
	return Input{Name: path, Path: p, Open: func() (io.ReadCloser, error) {
		if path == "-" {
			return io.NopCloser(os.Stdin), nil
		}
		return os.Open(path)
	}}
}

// ScanOptions control Scan.
type ScanOptions struct {
	Workers    int     // 0: GOMAXPROCS
	Format     string  // default for inputs that name none; "" = auto
	Mapping    Mapping // replaces the format's built-in field mapping
	MaxLine    int     // longest line read; longer ones are malformed (default 1 MiB)
	ChunkBytes int     // lines handed to a worker at once (default 256 KiB)
	// Rules are Sigma rules evaluated on every event whose logsource they
	// apply to; load them with the field mapping of the logs scanned
	// (sigma.WindowsMapping, sigma.ZeekMapping).
	Rules []*sigma.Rule
	// Samples bounds the malformed lines listed in the summary (default 10).
	Samples int
	// Follow keeps reading inputs that name a file (Input.Path) as they
	// grow, like tail -F, until ctx is done; all inputs are then read at
	// once rather than one after the other. Hits are reported as soon as
	// the lines written so far are scanned.
	Follow bool
	// Poll is how often a followed file is checked (default DefaultPoll).
	Poll time.Duration
}

// Hit is one match, of an indicator or a Sigma rule, in one event.
type Hit struct {
	Time          string `json:"time,omitempty"`
	File          string `json:"file"`
	Line          int64  `json:"line"`
	Field         string `json:"field,omitempty"`
	Value         string `json:"value,omitempty"`
	IndicatorID   string `json:"indicator_id,omitempty"`
	IndicatorName string `json:"indicator_name,omitempty"`
	Actor         string `json:"actor,omitempty"`
	TLP           string `json:"tlp,omitempty"`
	Severity      string `json:"severity,omitempty"`
	RuleID        string `json:"rule_id,omitempty"`
	RuleTitle     string `json:"rule_title,omitempty"`

	// For Sightings: the rule of a rule hit and the observables of its
	// event.
	rule *sigma.Rule
	obs  []observed
}

// LineError is a malformed line.
type LineError struct {
	File string
	Line int64
	Err  string
}

func (e LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Err) }

// Summary reports a scan.
type Summary struct {
	Files          int
	Formats        map[string]string // input name → format used
	Lines          int64
	Events         int64
	Bytes          int64 // decompressed bytes read
	Malformed      int64
	MalformedLines []LineError // the first Samples of them
	Hits           int64
	ByIndicator    map[string]int64
	ByActor        map[string]int64
	ByRule         map[string]int64
	Errors         []error // inputs that could not be read
	Elapsed        time.Duration
}

// MBps is the throughput in megabytes (10^6) per second.
func (s Summary) MBps() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Bytes) / 1e6 / s.Elapsed.Seconds()
}

type lineRef struct {
	off, n int
	no     int64
}

type chunk struct {
	seq    int64
	file   string
	p      parser
	sch    any
	data   []byte
	lines  []lineRef
	hits   []Hit
	cands  []candHit // events for temporal indicators, in line order
	errs   []LineError
	events int64
	// errs found by the reader itself (too long, header errors).
	pre []LineError
}

// Scan reads every input and reports hits through emit, in input order
// per file (files are read one after the other). idx may be nil when only
// rules are evaluated. A malformed line is counted and the scan goes on; an
// input that cannot be opened is listed in Summary.Errors.
func Scan(ctx context.Context, idx *Index, inputs []Input, opts ScanOptions, emit func(Hit)) (Summary, error) {
	start := time.Now()
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.MaxLine <= 0 {
		opts.MaxLine = 1 << 20
	}
	if opts.ChunkBytes <= 0 {
		opts.ChunkBytes = 256 << 10
	}
	if opts.Samples <= 0 {
		opts.Samples = 10
	}
	sum := Summary{Formats: map[string]string{}, ByIndicator: map[string]int64{}, ByActor: map[string]int64{}, ByRule: map[string]int64{}}

	nfree := 2*opts.Workers + 2
	free := make(chan *chunk, nfree)
	for i := 0; i < nfree; i++ {
		free <- &chunk{data: make([]byte, 0, opts.ChunkBytes+opts.MaxLine)}
	}
	work := make(chan *chunk, nfree)
	done := make(chan *chunk, nfree)
	var wg sync.WaitGroup
	var rs *sigma.RuleSet
	if len(opts.Rules) > 0 {
		// One rule set, shared: its per-logsource groups are built once and
		// each worker keeps its own scanning state.
		rs = sigma.NewRuleSet(opts.Rules)
	}
	for w := 0; w < opts.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := newWorker(idx, rs)
			for c := range work {
				wk.run(c)
				done <- c
			}
		}()
	}
	var (
		mu  sync.Mutex // guards sum's Bytes, Formats, Errors and Files while reading
		seq int64
	)
	read := func(in Input) {
		n, format, err := readInput(ctx, in, opts, free, work, &mu, &seq)
		mu.Lock()
		sum.Bytes += n
		if format != "" {
			sum.Formats[in.Name] = format
		}
		if err != nil {
			sum.Errors = append(sum.Errors, fmt.Errorf("%s: %w", in.Name, err))
		}
		sum.Files++
		mu.Unlock()
	}
	go func() {
		defer close(work)
		if opts.Follow {
			// Followed files never end: read them side by side.
			var rg sync.WaitGroup
			for _, in := range inputs {
				rg.Add(1)
				go func() { defer rg.Done(); read(in) }()
			}
			rg.Wait()
			return
		}
		for _, in := range inputs {
			if ctx.Err() != nil {
				return
			}
			read(in)
		}
	}()
	go func() { wg.Wait(); close(done) }()

	pending := map[int64]*chunk{}
	var next int64
	streams := temporalStreams{}
	addErr := func(e LineError) {
		sum.Malformed++
		if len(sum.MalformedLines) < opts.Samples {
			sum.MalformedLines = append(sum.MalformedLines, e)
		}
	}
	for c := range done {
		pending[c.seq] = c
		for {
			c, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			for _, e := range c.pre {
				addErr(e)
			}
			for _, e := range c.errs {
				addErr(e)
			}
			sum.Lines += int64(len(c.lines))
			sum.Events += c.events
			hits := c.hits
			if len(c.cands) > 0 {
				hits = streams.feed(c, idx)
			}
			for _, h := range hits {
				sum.Hits++
				if h.RuleID != "" {
					sum.ByRule[h.RuleID+" "+h.RuleTitle]++
				} else {
					sum.ByIndicator[h.IndicatorID]++
				}
				if h.Actor != "" {
					sum.ByActor[h.Actor]++
				}
				if emit != nil {
					emit(h)
				}
			}
			c.reset()
			free <- c
		}
	}
	sum.Elapsed = time.Since(start)
	return sum, ctx.Err()
}

// candHit is an event a temporal indicator's stream must see: the hit it
// makes if it completes a match.
type candHit struct {
	ref Ref
	obs *pattern.Observation
	hit Hit
}

func (c *chunk) reset() {
	clear(c.cands) // drop the observations
	c.data, c.lines, c.hits, c.errs, c.pre, c.cands = c.data[:0], c.lines[:0], c.hits[:0], c.errs[:0], c.pre[:0], c.cands[:0]
	c.events = 0
	c.sch = nil
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// readInput splits one input into chunks. It returns the bytes read.
func readInput(ctx context.Context, in Input, opts ScanOptions, free, work chan *chunk, mu *sync.Mutex, seq *int64) (int64, string, error) {
	var (
		rc io.ReadCloser
		fr *follower
		c  *chunk // the chunk being filled, nil when there is none
	)
	if opts.Follow && in.Path != "" {
		var err error
		if fr, err = openFollower(ctx, in.Path, opts.Poll); err != nil {
			if ctx.Err() != nil {
				return 0, "", nil // stopped before the file appeared
			}
			return 0, "", err
		}
		rc = fr
		fr.nonBlocking = true
	} else {
		var err error
		if rc, err = in.Open(); err != nil {
			return 0, "", err
		}
	}
	defer rc.Close()
	raw := bufio.NewReaderSize(rc, 64<<10)
	if fr != nil {
		// Sniff from what is there, waiting for the first whole line.
		if err := waitLine(ctx, raw, fr.poll); err != nil {
			return 0, "", nil
		}
	}
	var src io.Reader = raw
	if m, _ := raw.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		if fr != nil {
			return 0, "", errors.New("cannot follow a compressed file")
		}
		gz, err := gzip.NewReader(raw)
		if err != nil {
			return 0, "", err
		}
		defer gz.Close()
		src = gz
	}
	cr := &countReader{r: src}
	br := bufio.NewReaderSize(cr, opts.MaxLine)
	format := in.Format
	if format == "" {
		format = opts.Format
	}
	if format == "" || format == FormatAuto {
		head, _ := br.Peek(64 << 10)
		format = DetectFormat(in.Name, head)
	}
	p, err := newParser(format, opts.Mapping)
	if err != nil {
		return 0, "", err
	}
	var sch any
	var lineNo int64
	// Chunks are taken only when there is something to put in them: a
	// followed file that is quiet holds none.
	get := func() *chunk {
		if c == nil {
			c = <-free
			c.file, c.p, c.sch = in.Name, p, sch
		}
		return c
	}
	send := func() {
		if c == nil {
			return
		}
		mu.Lock()
		c.seq = *seq
		*seq++
		work <- c // under mu: chunks enter the queue in sequence order
		mu.Unlock()
		c = nil
	}
	if fr != nil {
		fr.nonBlocking = false
		fr.caughtUp = send
		fr.restarted = func() { lineNo = 0 }
	}
	var readErr error
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 || err == nil {
			lineNo++
		}
		if err == bufio.ErrBufferFull {
			// Too long: skip to the end of the line, keep nothing.
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			cc := get()
			cc.pre = append(cc.pre, LineError{in.Name, lineNo, fmt.Sprintf("line longer than %d bytes", opts.MaxLine)})
			if err != nil && err != io.EOF {
				readErr = err
				break
			}
			if err == io.EOF {
				break
			}
			continue
		}
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1]
		}
		if len(line) > 0 {
			isCtl, nsch, cerr := p.control(line, sch)
			if cerr != nil {
				cc := get()
				cc.pre = append(cc.pre, LineError{in.Name, lineNo, cerr.Error()})
			}
			if nsch != sch {
				if c != nil && len(c.lines) > 0 {
					send()
				}
				sch = nsch
				if c != nil {
					c.sch = sch
				}
			}
			if !isCtl {
				cc := get()
				off := len(cc.data)
				cc.data = append(cc.data, line...)
				cc.lines = append(cc.lines, lineRef{off, len(line), lineNo})
				if len(cc.data) >= opts.ChunkBytes || len(cc.lines) >= 8192 {
					if ctx.Err() != nil && fr == nil {
						break
					}
					send()
				}
			}
		}
		if err != nil {
			if err != io.EOF {
				readErr = err
			}
			break
		}
	}
	send()
	if readErr != nil && !errors.Is(readErr, io.EOF) {
		return cr.n, format, readErr
	}
	return cr.n, format, nil
}

// waitLine waits until br holds a whole line (or the file is at least a
// buffer long), for sniffing a followed file's format; it fails when ctx
// ends first.
func waitLine(ctx context.Context, br *bufio.Reader, poll time.Duration) error {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		head, _ := br.Peek(br.Size())
		if bytes.IndexByte(head, '\n') >= 0 || len(head) == br.Size() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

type worker struct {
	idx *Index
	ev  Event
	js  jscan
	s   Scratch
	sc  *sigma.Scanner // nil without rules
}

func newWorker(idx *Index, rs *sigma.RuleSet) *worker {
	w := &worker{idx: idx}
	if rs != nil {
		w.sc = rs.NewScanner()
	}
	return w
}

func (w *worker) run(c *chunk) {
	for _, l := range c.lines {
		line := c.data[l.off : l.off+l.n]
		ev := &w.ev
		ev.Reset(len(line))
		ev.Line = l.no
		if err := c.p.parse(line, c.sch, ev, &w.js); err != nil {
			c.errs = append(c.errs, LineError{c.file, l.no, err.Error()})
			continue
		}
		c.events++
		if w.idx != nil {
			w.idx.Match(ev, &w.s, func(f *Field, v []byte, r Ref) {
				c.hits = append(c.hits, w.idx.hit(r, c.file, l.no, formatTime(ev.Time), f, v))
			})
			for _, k := range w.s.Candidates {
				c.cands = append(c.cands, candHit{ref: k.Ref, obs: k.Obs, hit: w.idx.hit(k.Ref, c.file, l.no, formatTime(ev.Time), k.Field, k.Value)})
			}
		}
		if w.sc != nil {
			w.sigma(c, line, ev)
		}
	}
}

func (x *Index) hit(r Ref, file string, line int64, t string, f *Field, v []byte) Hit {
	ind := x.Indicator(r)
	return Hit{Time: t, File: file, Line: line, Field: f.T.Name, Value: string(v),
		IndicatorID: ind.ID, IndicatorName: ind.Name, Actor: ind.Actor, TLP: ind.TLP.String(), Severity: ind.Severity}
}

// sigma evaluates the rules whose logsource fits the event, through the
// rule set's literal prefilter.
func (w *worker) sigma(c *chunk, line []byte, ev *Event) {
	prod, cat, svc := ev.Product, ev.Category, ev.Service
	if prod == "windows" && ev.EventID != nil {
		id, _ := strconv.Atoi(string(bytes.Trim(ev.EventID, `"`)))
		prod, cat, svc = sigma.WindowsLogsource(string(ev.Channel), id)
	}
	se := c.p.sigmaEvent(line, c.sch)
	if se == nil {
		return
	}
	var obs []observed
	for i, r := range w.sc.Match(se, sigma.Logsource{Product: prod, Category: cat, Service: svc}) {
		if i == 0 {
			obs = observables(ev)
		}
		c.hits = append(c.hits, Hit{Time: formatTime(ev.Time), File: c.file, Line: ev.Line,
			RuleID: r.ID, RuleTitle: r.Title, Severity: r.Level, rule: r, obs: obs})
	}
}

// formatTime renders a raw time: Zeek's epoch seconds become RFC 3339,
// anything else is kept as written.
func formatTime(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if f, err := strconv.ParseFloat(string(b), 64); err == nil && f > 0 && f < 1e11 {
		// Seconds and fraction read apart: through a float64, Zeek's
		// microseconds come out as 0.099999904 s.
		sec := int64(f)
		var ns int64
		if dot := bytes.IndexByte(b, '.'); dot >= 0 && !bytes.ContainsAny(b, "eE") {
			frac := b[dot+1:]
			for i := 0; i < 9; i++ {
				ns *= 10
				if i < len(frac) {
					ns += int64(frac[i] - '0')
				}
			}
		} else {
			ns = int64((f - float64(sec)) * 1e9)
		}
		return time.Unix(sec, ns).UTC().Format(time.RFC3339Nano)
	}
	return string(b)
}

// temporalStreams evaluates temporal indicators, one stream per indicator
// and log, fed in log order by the collector: the workers find which
// events may take part, the order lives here.
type temporalStreams map[streamKey]*pattern.Stream

type streamKey struct {
	file string
	ref  Ref
}

// feed runs a chunk's candidate events through their streams and returns
// the chunk's hits with those of completed matches, in line order.
func (ts temporalStreams) feed(c *chunk, idx *Index) []Hit {
	var done []Hit
	for i := range c.cands {
		k := &c.cands[i]
		key := streamKey{c.file, k.ref}
		st := ts[key]
		if st == nil {
			if st = idx.Stream(k.ref); st == nil {
				continue
			}
			ts[key] = st
		}
		if len(st.Feed(k.obs)) > 0 {
			done = append(done, k.hit)
		}
	}
	if len(done) == 0 {
		return c.hits
	}
	out := make([]Hit, 0, len(c.hits)+len(done))
	i, j := 0, 0
	for i < len(c.hits) || j < len(done) {
		if j == len(done) || i < len(c.hits) && c.hits[i].Line <= done[j].Line {
			out = append(out, c.hits[i])
			i++
		} else {
			out = append(out, done[j])
			j++
		}
	}
	return out
}
