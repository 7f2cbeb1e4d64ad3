package stix

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxObjectBytes bounds one object in a bundle. ATT&CK's largest
// object is under 100 KB; a 16 MiB object is an attack or an accident.
const DefaultMaxObjectBytes = 16 << 20

// ErrObjectTooLarge is returned when one object exceeds the reader's limit.
var ErrObjectTooLarge = errors.New("object exceeds size limit")

// RawObject is one undecoded object out of a bundle.
type RawObject struct {
	Index int   // position in the bundle's objects list, from 0
	Line  int   // line of the file on which the object starts, from 1
	Raw   []byte
}

// BundleReader streams the objects of a STIX bundle without holding the
// bundle in memory: only the object being read is buffered. It also accepts
// a bare JSON array of objects and a single object that is not a bundle.
type BundleReader struct {
	dec      *json.Decoder
	cr       *countingReader
	maxBytes int64

	state int // 0 start, 1 in objects array, 2 in plain array, 3 after, 4 single object pending
	index int
	single json.RawMessage

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
					return RawObject{}, b.finish()
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
	b.cr.limit = b.cr.n + b.maxBytes + 64<<10
	start := b.dec.InputOffset()
	var raw json.RawMessage
	if err := b.dec.Decode(&raw); err != nil {
		if errors.Is(err, ErrObjectTooLarge) {
			return RawObject{}, fmt.Errorf("object %d: %w (%d bytes)", b.index, ErrObjectTooLarge, b.maxBytes)
		}
		return RawObject{}, fmt.Errorf("object %d: %w", b.index, b.wrap(err))
	}
	b.cr.limit = 0
	if int64(len(raw)) > b.maxBytes {
		return RawObject{}, fmt.Errorf("object %d: %w (%d bytes)", b.index, ErrObjectTooLarge, b.maxBytes)
	}
	// The object starts after the separator and whitespace that precede it.
	objStart := start + int64(bytes.IndexByte(b.cr.peekFrom(start), '{'))
	if objStart < start {
		objStart = start
	}
	ro := RawObject{Index: b.index, Line: b.cr.lineAt(objStart), Raw: raw}
	b.index++
	return ro, nil
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
			if single != nil && !isBundleType(single) {
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
	if isBundleType(single) {
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

func isBundleType(m map[string]json.RawMessage) bool {
	var t string
	_ = json.Unmarshal(m["type"], &t)
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
		return fmt.Errorf("line %d: truncated JSON (unexpected end of input)", b.cr.lineAt(b.dec.InputOffset()))
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
	// Keep a short window of recent bytes to locate object starts.
	c.window = append(c.window, p[:n]...)
	if len(c.window) > 256<<10 {
		drop := len(c.window) - 128<<10
		c.window = append(c.window[:0], c.window[drop:]...)
		c.winStart += int64(drop)
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

// BundleWriter streams a STIX 2.1 bundle.
type BundleWriter struct {
	w     *bufio.Writer
	n     int
	done  bool
	err   error
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
