package stix

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxObjectBytes bounds one object in a bundle. ATT&CK's largest
// object is under 100 KB; a 16 MiB object is an attack or an accident.
const DefaultMaxObjectBytes = 16 << 20

// ErrObjectTooLarge is returned when one object exceeds the reader's limit
// (which counts the whitespace before it; objects within 4 KiB of the limit
// may be refused).
var ErrObjectTooLarge = errors.New("object exceeds size limit")

// RawObject is one undecoded object out of a bundle.
type RawObject struct {
	Index int // position in the bundle's objects list, from 0
	Line  int // line of the file on which the object starts, from 1
	Raw   []byte
}

// BundleReader streams the objects of a STIX bundle without holding the
// bundle in memory: only the object being read is buffered. It also accepts
// a bare JSON array of objects and a single object that is not a bundle.
type BundleReader struct {
	dec      *json.Decoder
	cr       *countingReader
	maxBytes int64

	state  int // 0 start, 1 in objects array, 2 in plain array, 3 after, 4 single object pending
	index  int
	single json.RawMessage
	err    error // sticky: the stream cannot be resynchronised after an error

	// BundleID and SpecVersion are filled in as the bundle's own properties
	// are read; properties after "objects" are seen only at the end.
	BundleID    string
	SpecVersion string
}

// NewBundleReader reads a bundle from r. maxObjectBytes <= 0 means
// DefaultMaxObjectBytes.
func NewBundleReader(r io.Reader, maxObjectBytes int64) *BundleReader {
	if maxObjectBytes <= 0 {
		maxObjectBytes = DefaultMaxObjectBytes
	}
	cr := &countingReader{r: bufio.NewReaderSize(r, 64<<10)}
	dec := json.NewDecoder(cr)
	return &BundleReader{dec: dec, cr: cr, maxBytes: maxObjectBytes}
}

// Next returns the next object, or io.EOF after the last. Any other error is
// fatal for the rest of the stream (the JSON cannot be resynchronised);
// objects returned before it remain good.
func (b *BundleReader) Next() (RawObject, error) {
	if b.err != nil {
		return RawObject{}, b.err
	}
	ro, err := b.next()
	if err != nil && err != io.EOF {
		b.err = err
	}
	return ro, err
}

func (b *BundleReader) next() (RawObject, error) {
	for {
		switch b.state {
		case 0:
			if err := b.start(); err != nil {
				return RawObject{}, err
			}
		case 1, 2:
			if !b.dec.More() {
				if _, err := b.dec.Token(); err != nil { // closing ]
					return RawObject{}, b.wrap(err)
				}
				if b.state == 2 {
					b.state = 3
					if err := b.finish(); err != nil {
						return RawObject{}, err
					}
					return RawObject{}, io.EOF
				}
				b.state = 0 // back to the bundle's remaining properties
				if err := b.restOfBundle(); err != nil {
					return RawObject{}, err
				}
				b.state = 3
				return RawObject{}, io.EOF
			}
			return b.decodeOne()
		case 4:
			b.state = 3
			return RawObject{Index: 0, Line: 1, Raw: b.single}, nil
		default:
			return RawObject{}, io.EOF
		}
	}
}

func (b *BundleReader) decodeOne() (RawObject, error) {
	start := b.dec.InputOffset()
	// The decoder buffers the value from start on, in a buffer that grows
	// by doubling from 512 bytes (512·(2^k−1)). Stopping the reads a little
	// short of maxBytes past start keeps it from doubling once more past a
	// 16 MiB limit: an oversized object costs about 2×maxBytes of
	// allocation, not 4×. The price is that objects within 4 KiB of the
	// limit are refused too.
	b.cr.limit = start + max(b.maxBytes-4<<10, 1)
	var raw json.RawMessage
	if err := b.dec.Decode(&raw); err != nil {
		line := b.cr.lineAt(b.valueStart(start))
		if errors.Is(err, ErrObjectTooLarge) {
			return RawObject{}, fmt.Errorf("object %d (line %d): %w (%d bytes)", b.index, line, ErrObjectTooLarge, b.maxBytes)
		}
		// Decode reports syntax errors relative to the value's start.
		// Decode's syntax error offsets are not positions in the stream, so
		// the error is found again in the bytes still held.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			vs := b.valueStart(start)
			if jerr := json.Unmarshal(b.cr.bytesFrom(vs), new(json.RawMessage)); errors.As(jerr, &se) {
				return RawObject{}, fmt.Errorf("object %d (line %d): line %d: invalid JSON: %v", b.index, line, b.cr.lineAt(vs+se.Offset-1), se)
			}
			return RawObject{}, fmt.Errorf("object %d (line %d): invalid JSON: %v", b.index, line, err)
		}
		return RawObject{}, fmt.Errorf("object %d (line %d): %w", b.index, line, b.wrap(err))
	}
	b.cr.limit = 0
	if int64(len(raw)) > b.maxBytes {
		return RawObject{}, fmt.Errorf("object %d: %w (%d bytes)", b.index, ErrObjectTooLarge, b.maxBytes)
	}
	ro := RawObject{Index: b.index, Line: b.cr.lineAt(b.valueStart(start)), Raw: raw}
	b.index++
	return ro, nil
}

// valueStart returns the offset at which the value read from start begins:
// after the whitespace and the separating comma that precede it.
func (b *BundleReader) valueStart(start int64) int64 {
	p := b.cr.peekFrom(start)
	for i, c := range p {
		switch c {
		case ' ', '\t', '\r', '\n', ',':
			continue
		}
		return start + int64(i)
	}
	return start
}

// start reads up to the first object.
func (b *BundleReader) start() error {
	tok, err := b.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty input: expected a STIX bundle")
		}
		return b.wrap(err)
	}
	switch tok {
	case json.Delim('['):
		b.state = 2
		return nil
	case json.Delim('{'):
	default:
		return fmt.Errorf("expected a STIX bundle (a JSON object), got %v", tok)
	}
	// Read the bundle's properties until "objects".
	var single map[string]json.RawMessage
	for b.dec.More() {
		kt, err := b.dec.Token()
		if err != nil {
			return b.wrap(err)
		}
		key, _ := kt.(string)
		if key == "objects" {
			t, err := b.dec.Token()
			if err != nil {
				return b.wrap(err)
			}
			if t != json.Delim('[') {
				return errors.New(`bundle property "objects" must be a list`)
			}
			// Key order is free in JSON: "type" may come after "objects"
			// (json.Marshal of a map sorts it there); restOfBundle checks
			// it then.
			if t, typed := single["type"]; typed && !isBundleType(t) {
				return errors.New(`an "objects" list outside a bundle`)
			}
			b.state = 1
			return nil
		}
		b.cr.limit = b.cr.n + b.maxBytes + 64<<10
		var v json.RawMessage
		if err := b.dec.Decode(&v); err != nil {
			return fmt.Errorf("property %q: %w", key, b.wrap(err))
		}
		b.cr.limit = 0
		if single == nil {
			single = map[string]json.RawMessage{}
		}
		single[key] = v
		b.noteBundleProp(key, v)
	}
	if _, err := b.dec.Token(); err != nil {
		return b.wrap(err)
	}
	if err := b.finish(); err != nil {
		return err
	}
	if isBundleType(single["type"]) {
		b.state = 3 // a bundle without objects
		return nil
	}
	// Not a bundle: a single object. Re-encode it; key order is not kept, but
	// the content is.
	raw, err := json.Marshal(single)
	if err != nil {
		return err
	}
	b.single = raw
	b.state = 4
	return nil
}

func isBundleType(v json.RawMessage) bool {
	var t string
	_ = json.Unmarshal(v, &t)
	return t == "bundle"
}

func (b *BundleReader) noteBundleProp(key string, v json.RawMessage) {
	switch key {
	case "id":
		_ = json.Unmarshal(v, &b.BundleID)
	case "spec_version":
		_ = json.Unmarshal(v, &b.SpecVersion)
	}
}

// restOfBundle reads the bundle's properties after "objects".
func (b *BundleReader) restOfBundle() error {
	for b.dec.More() {
		kt, err := b.dec.Token()
		if err != nil {
			return b.wrap(err)
		}
		key, _ := kt.(string)
		b.cr.limit = b.cr.n + b.maxBytes + 64<<10
		var v json.RawMessage
		if err := b.dec.Decode(&v); err != nil {
			return fmt.Errorf("property %q: %w", key, b.wrap(err))
		}
		b.cr.limit = 0
		if key == "type" && !isBundleType(v) {
			return errors.New(`an "objects" list outside a bundle`)
		}
		b.noteBundleProp(key, v)
	}
	if _, err := b.dec.Token(); err != nil {
		return b.wrap(err)
	}
	return b.finish()
}

// finish checks that nothing but whitespace follows the top-level value.
func (b *BundleReader) finish() error {
	if _, err := b.dec.Token(); err != io.EOF {
		if err == nil {
			return errors.New("unexpected data after the bundle")
		}
		return b.wrap(err)
	}
	return nil
}

func (b *BundleReader) wrap(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("line %d: invalid JSON: %v", b.cr.lineAt(se.Offset), se)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		// The cut is at the end of what was read.
		return fmt.Errorf("line %d: truncated JSON (unexpected end of input)", b.cr.lineAt(b.cr.n))
	}
	return err
}

// countingReader counts bytes and remembers where newlines fall in the data
// the decoder has read but not yet consumed, so an offset can be turned into
// a line number without keeping the file.
type countingReader struct {
	r     io.Reader
	n     int64 // bytes read so far
	limit int64 // when > 0, reading past it fails with ErrObjectTooLarge

	lines    int     // newlines before offset base
	base     int64   // offset up to which lines is exact
	pending  []int64 // offsets of newlines at or after base
	window   []byte  // bytes from winStart on, for peekFrom
	winStart int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.limit > 0 && c.n >= c.limit {
		return 0, ErrObjectTooLarge
	}
	if c.limit > 0 && int64(len(p)) > c.limit-c.n {
		p = p[:c.limit-c.n]
	}
	n, err := c.r.Read(p)
	for i := 0; i < n; i++ {
		if p[i] == '\n' {
			c.pending = append(c.pending, c.n+int64(i))
		}
	}
	// Input made of newlines (between objects, where no size limit applies)
	// must not grow pending without bound: fold the oldest half into lines.
	// Line numbers for offsets inside the folded part come out too high, a
	// price only such input pays.
	if len(c.pending) > maxPendingLines {
		half := len(c.pending) / 2
		c.lines += half
		c.pending = append(c.pending[:0], c.pending[half:]...)
	}
	// Keep a window of the last winKeep to 2*winKeep bytes read, to locate
	// object starts and syntax errors. It lives in one fixed array: a large
	// read (the decoder reads megabytes at once into a big object) keeps
	// only its tail, so no read allocates.
	if c.window == nil {
		c.window = make([]byte, 0, 4*winKeep)
	}
	data := p[:n]
	if len(data) >= 2*winKeep {
		c.window = append(c.window[:0], data[len(data)-winKeep:]...)
		c.winStart = c.n + int64(len(data)-winKeep)
	} else {
		c.window = append(c.window, data...)
		if len(c.window) > 2*winKeep {
			drop := len(c.window) - winKeep
			c.window = append(c.window[:0], c.window[drop:]...)
			c.winStart += int64(drop)
		}
	}
	c.n += int64(n)
	return n, err
}

// lineAt returns the 1-based line of offset off. Offsets must not go
// backwards between calls by more than the unconsumed window.
func (c *countingReader) lineAt(off int64) int {
	i := 0
	for i < len(c.pending) && c.pending[i] < off {
		i++
	}
	c.lines += i
	c.pending = c.pending[i:]
	if off > c.base {
		c.base = off
	}
	return c.lines + 1
}

// bytesFrom returns the bytes held from offset off on, if still held.
func (c *countingReader) bytesFrom(off int64) []byte {
	if off < c.winStart || off-c.winStart >= int64(len(c.window)) {
		return nil
	}
	return c.window[off-c.winStart:]
}

// peekFrom returns up to 64 bytes starting at offset off, if still held.
func (c *countingReader) peekFrom(off int64) []byte {
	if off < c.winStart || off-c.winStart >= int64(len(c.window)) {
		return nil
	}
	s := c.window[off-c.winStart:]
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// winKeep is the least number of recent bytes countingReader keeps.
const winKeep = 128 << 10

// maxPendingLines bounds the newline offsets countingReader keeps (8 MB).
const maxPendingLines = 1 << 20

// BundleWriter streams a STIX 2.1 bundle.
type BundleWriter struct {
	w    *bufio.Writer
	n    int
	done bool
	err  error
}

// NewBundleWriter starts a bundle with a fresh id on w.
func NewBundleWriter(w io.Writer) *BundleWriter {
	bw := &BundleWriter{w: bufio.NewWriterSize(w, 64<<10)}
	_, bw.err = fmt.Fprintf(bw.w, `{"type":"bundle","id":%q,"objects":[`, NewID("bundle"))
	return bw
}

// Write appends one object's JSON.
func (b *BundleWriter) Write(raw []byte) error {
	if b.err != nil {
		return b.err
	}
	if b.n > 0 {
		b.err = b.w.WriteByte(',')
	}
	if b.err == nil {
		b.w.WriteByte('\n')
		_, b.err = b.w.Write(raw)
	}
	b.n++
	return b.err
}

// Count is the number of objects written.
func (b *BundleWriter) Count() int { return b.n }

// Close ends the bundle and flushes; it does not close the underlying writer.
func (b *BundleWriter) Close() error {
	if b.done {
		return b.err
	}
	b.done = true
	if b.err != nil {
		return b.err
	}
	if _, err := b.w.WriteString("\n]}\n"); err != nil {
		return err
	}
	return b.w.Flush()
}
