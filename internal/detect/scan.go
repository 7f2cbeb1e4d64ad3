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
)

// Input is one log to scan.
type Input struct {
	Name   string // reported in hits
	Format string // "" or "auto": detected from the first lines
	Open   func() (io.ReadCloser, error)
}

// FileInput reads a file, or standard input for "-".
func FileInput(path string) Input {
	return Input{Name: path, Open: func() (io.ReadCloser, error) {
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var readErr error
	go func() {
		defer close(work)
		var seq int64
		for _, in := range inputs {
			if ctx.Err() != nil {
				return
			}
			n, format, err := readInput(ctx, in, opts, free, work, &seq)
			sum.Bytes += n // read by the collector only after work closes
			if format != "" {
				sum.Formats[in.Name] = format
			}
			if err != nil {
				sum.Errors = append(sum.Errors, fmt.Errorf("%s: %w", in.Name, err))
			}
			sum.Files++
		}
	}()
	go func() { wg.Wait(); close(done) }()

	pending := map[int64]*chunk{}
	var next int64
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
			for _, h := range c.hits {
				sum.Hits++
				if h.RuleID != "" {
					sum.ByRule[h.RuleID+" "+h.RuleTitle]++
				} else {
					sum.ByIndicator[h.IndicatorID]++
				}
				if h.Actor != "" {
					sum.ByActor[h.Actor]++
				}
				if emit != nil && ctx.Err() == nil {
					emit(h)
				}
			}
			c.reset()
			free <- c
		}
	}
	sum.Elapsed = time.Since(start)
	if readErr != nil {
		return sum, readErr
	}
	return sum, ctx.Err()
}

func (c *chunk) reset() {
	c.data, c.lines, c.hits, c.errs, c.pre = c.data[:0], c.lines[:0], c.hits[:0], c.errs[:0], c.pre[:0]
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
func readInput(ctx context.Context, in Input, opts ScanOptions, free, work chan *chunk, seq *int64) (int64, string, error) {
	rc, err := in.Open()
	if err != nil {
		return 0, "", err
	}
	defer rc.Close()
	raw := bufio.NewReaderSize(rc, 64<<10)
	var src io.Reader = raw
	if m, _ := raw.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
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
	c := <-free
	c.file, c.p, c.sch = in.Name, p, nil
	send := func() {
		c.seq = *seq
		*seq++
		work <- c
		c = <-free
		c.file, c.p, c.sch = in.Name, p, sch
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
			c.pre = append(c.pre, LineError{in.Name, lineNo, fmt.Sprintf("line longer than %d bytes", opts.MaxLine)})
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
				c.pre = append(c.pre, LineError{in.Name, lineNo, cerr.Error()})
			}
			if nsch != sch {
				if len(c.lines) > 0 {
					send()
				}
				sch = nsch
				c.sch = sch
			}
			if !isCtl {
				off := len(c.data)
				c.data = append(c.data, line...)
				c.lines = append(c.lines, lineRef{off, len(line), lineNo})
				if len(c.data) >= opts.ChunkBytes || len(c.lines) >= 8192 {
					if ctx.Err() != nil {
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
	c.seq = *seq
	*seq++
	work <- c
	if readErr != nil && !errors.Is(readErr, io.EOF) {
		return cr.n, format, readErr
	}
	return cr.n, format, nil
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
			w.idx.Match(ev, &w.s, func(f *Field, v []byte, ind *Indicator) {
				c.hits = append(c.hits, Hit{
					Time: formatTime(ev.Time), File: c.file, Line: l.no,
					Field: f.T.Name, Value: string(v),
					IndicatorID: ind.ID, IndicatorName: ind.Name, Actor: ind.Actor,
					TLP: ind.TLP.String(), Severity: ind.Severity,
				})
			})
		}
		if w.sc != nil {
			w.sigma(c, line, ev)
		}
	}
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
	for _, r := range w.sc.Match(se, sigma.Logsource{Product: prod, Category: cat, Service: svc}) {
		c.hits = append(c.hits, Hit{Time: formatTime(ev.Time), File: c.file, Line: ev.Line,
			RuleID: r.ID, RuleTitle: r.Title, Severity: r.Level})
	}
}

// formatTime renders a raw time: Zeek's epoch seconds become RFC 3339,
// anything else is kept as written.
func formatTime(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if f, err := strconv.ParseFloat(string(b), 64); err == nil && f > 0 && f < 1e11 {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC().Format(time.RFC3339Nano)
	}
	return string(b)
}
