package source

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// lineReader returns lines without their terminator, bounded in length.
// Lines that fit the bufio buffer are returned without copying; longer ones
// are assembled in a scratch buffer that never exceeds max.
type lineReader struct {
	br   *bufio.Reader
	max  int
	long []byte
	line int64 // number of the last line returned, 1-based
}

// next returns the next line. A line longer than max is consumed and reported
// with tooLong (and no content). At the end it returns io.EOF. The line is
// valid until the next call.
func (lr *lineReader) next() (line []byte, tooLong bool, err error) {
	lr.long = lr.long[:0]
	for {
		frag, err := lr.br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			if len(lr.long)+len(frag) > lr.max {
				lr.line++
				return nil, true, lr.discard()
			}
			lr.long = append(lr.long, frag...)
			continue
		}
		if err != nil && err != io.EOF {
			return nil, false, err
		}
		if err == io.EOF && len(frag) == 0 && len(lr.long) == 0 {
			return nil, false, io.EOF
		}
		lr.line++
		line = frag
		if len(lr.long) > 0 {
			lr.long = append(lr.long, frag...)
			line = lr.long
		}
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1]
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) > lr.max {
			return nil, true, nil
		}
		return line, false, nil
	}
}

// discard consumes the rest of an over-long line.
func (lr *lineReader) discard() error {
	for {
		_, err := lr.br.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			return nil // the next call reports EOF
		default:
			return err
		}
	}
}

// csvReader splits RFC 4180 records into fields without allocating: fields
// point into the line (no quotes) or into a scratch buffer (quoted fields,
// which may span lines). Blank lines are skipped. It is lenient where
// encoding/csv is strict about stray quotes (they are kept as data), because
// a bad row is judged by the field values anyway.
type csvReader struct {
	lr     lineReader
	fields [][]byte
	buf    []byte
	ends   []int
	start  int64 // line on which the current record starts
}

var errUnterminated = errors.New("unterminated quoted field")

// maxFields bounds the fields of one record; every format here has fewer.
const maxFields = 4096

// read returns the next record's fields, valid until the next call. A
// record over the size limit comes back with tooLong; one with an
// unterminated quote at the end of input with errUnterminated (and the
// reader at EOF).
func (c *csvReader) read() (fields [][]byte, tooLong bool, err error) {
	for {
		line, long, err := c.lr.next()
		if err != nil {
			return nil, false, err
		}
		c.start = c.lr.line
		if long {
			return nil, true, nil
		}
		if len(line) == 0 {
			continue
		}
		if bytes.IndexByte(line, '"') < 0 {
			return c.split(line), false, nil
		}
		return c.quoted(line)
	}
}

func (c *csvReader) split(line []byte) [][]byte {
	f := c.fields[:0]
	for len(f) < maxFields {
		i := bytes.IndexByte(line, ',')
		if i < 0 {
			break
		}
		f = append(f, line[:i])
		line = line[i+1:]
	}
	f = append(f, line)
	c.fields = f
	return f
}

// quoted parses a record containing quotes into c.buf.
func (c *csvReader) quoted(line []byte) ([][]byte, bool, error) {
	c.buf = c.buf[:0]
	c.ends = c.ends[:0]
	inQuote, atStart := false, true
	for {
		for i := 0; i < len(line); i++ {
			ch := line[i]
			switch {
			case inQuote && ch == '"':
				if i+1 < len(line) && line[i+1] == '"' {
					c.buf = append(c.buf, '"')
					i++
				} else {
					inQuote = false
				}
			case inQuote:
				c.buf = append(c.buf, ch)
			case ch == '"' && atStart:
				inQuote = true
				atStart = false
			case ch == ',':
				if len(c.ends) >= maxFields {
					return nil, true, nil
				}
				c.ends = append(c.ends, len(c.buf))
				atStart = true
			default:
				c.buf = append(c.buf, ch)
				atStart = false
			}
		}
		if !inQuote {
			break
		}
		// The quoted field continues on the next line.
		c.buf = append(c.buf, '\n')
		next, long, err := c.lr.next()
		if err == io.EOF {
			return nil, false, errUnterminated
		}
		if err != nil {
			return nil, false, err
		}
		if long || len(c.buf)+len(next) > c.lr.max {
			return nil, true, c.skipRecord()
		}
		line = next
	}
	c.ends = append(c.ends, len(c.buf))
	f := c.fields[:0]
	from := 0
	for _, e := range c.ends {
		f = append(f, c.buf[from:e])
		from = e
	}
	c.fields = f
	return f, false, nil
}

// skipRecord drops lines until the open quote closes, so that one over-long
// quoted field does not turn the rest of the file into garbage. Quotes
// are counted: an odd number on a line toggles the state.
func (c *csvReader) skipRecord() error {
	for {
		line, _, err := c.lr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if bytes.Count(line, []byte{'"'})%2 == 1 {
			return nil
		}
	}
}

// header normalises header names: trimmed, lower-case, BOM removed.
func header(fields [][]byte) []string {
	h := make([]string, len(fields))
	for i, f := range fields {
		if i == 0 {
			f = bytes.TrimPrefix(f, []byte("\xef\xbb\xbf"))
		}
		h[i] = string(bytes.ToLower(bytes.TrimSpace(f)))
	}
	return h
}

// column returns the index of the first of names found in h, or -1.
func column(h []string, names ...string) int {
	for _, n := range names {
		for i, x := range h {
			if x == n {
				return i
			}
		}
	}
	return -1
}

// markLimiter fails a read with tooLong once more than max bytes were read
// since mark, which its user moves to where the decoder stands before each
// token (XML) or value (JSON): it bounds the memory one of them can take.
type markLimiter struct {
	r       io.Reader
	n       int64
	mark    int64
	max     int64
	tooLong error
}

func (t *markLimiter) Read(p []byte) (int, error) {
	if t.n-t.mark > t.max {
		return 0, t.tooLong
	}
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	k, err := t.r.Read(p)
	t.n += int64(k)
	return k, err
}
