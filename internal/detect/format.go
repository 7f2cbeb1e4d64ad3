package detect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/sigma"
)

// Formats Scan understands.
const (
	FormatAuto     = "auto"
	FormatJSONL    = "jsonl"
	FormatZeek     = "zeek"     // Zeek TSV
	FormatZeekJSON = "zeekjson" // Zeek JSON lines
	FormatEVE      = "eve"
	FormatWinJSON  = "winjson"
	FormatCSV      = "csv"
	FormatText     = "text"
)

// parser turns lines into events. control runs on every line in order,
// before the line is handed to a worker: it consumes header lines and
// returns the schema in force for the lines after it. parse runs on
// workers, concurrently, with the schema of its line.
type parser interface {
	control(line []byte, sch any) (isControl bool, next any, err error)
	parse(line []byte, sch any, ev *Event, js *jscan) error
	// sigmaEvent builds the flat event Sigma rules see.
	sigmaEvent(line []byte, sch any) sigma.Event
}

func newParser(format string, m Mapping) (parser, error) {
	switch format {
	case FormatJSONL:
		if m == nil {
			m = DefaultMapping()
		}
		return &jsonParser{m: newJSONMap(m)}, nil
	case FormatZeekJSON:
		return &jsonParser{m: newJSONMap(pick(m, ZeekMapping())), zeek: true}, nil
	case FormatEVE:
		return &jsonParser{m: newJSONMap(pick(m, EVEMapping())), eve: true}, nil
	case FormatWinJSON:
		return &jsonParser{m: newJSONMap(pick(m, WindowsMapping())), win: true}, nil
	case FormatZeek:
		return &zeekParser{m: pick(m, ZeekMapping())}, nil
	case FormatCSV:
		return &csvParser{m: lowerKeys(pick(m, DefaultMapping()))}, nil
	case FormatText:
		return textParser{}, nil
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

func pick(m, def Mapping) Mapping {
	if m != nil {
		return m
	}
	return def
}

// DetectFormat guesses a format from a file name and its first bytes
// (decompressed).
func DetectFormat(name string, head []byte) string {
	base := strings.ToLower(filepath.Base(name))
	line := head
	for len(line) > 0 {
		var l []byte
		l, line, _ = bytes.Cut(line, []byte("\n"))
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		switch {
		case bytes.HasPrefix(l, []byte("#separator")), bytes.HasPrefix(l, []byte("#fields")):
			return FormatZeek
		case l[0] == '{':
			switch {
			case bytes.Contains(l, []byte(`"_path"`)), bytes.Contains(l, []byte(`"id.orig_h"`)), bytes.Contains(l, []byte(`"uid":"C`)):
				return FormatZeekJSON
			case bytes.Contains(l, []byte(`"event_type"`)) && (bytes.Contains(l, []byte(`"src_ip"`)) || bytes.Contains(l, []byte(`"flow_id"`))):
				return FormatEVE
			case bytes.Contains(l, []byte(`"EventID"`)), bytes.Contains(l, []byte(`"Event":{`)), bytes.Contains(l, []byte(`"Event": {`)),
				bytes.Contains(l, []byte(`"Channel"`)) && bytes.Contains(l, []byte(`"EventID`)):
				return FormatWinJSON
			}
			return FormatJSONL
		}
		if strings.HasSuffix(strings.TrimSuffix(base, ".gz"), ".csv") {
			return FormatCSV
		}
		return FormatText
	}
	return FormatText
}

// jsonParser serves JSON lines: generic, Zeek, EVE and Windows.
type jsonParser struct {
	m              *jsonMap
	zeek, eve, win bool
}

func (p *jsonParser) control(line []byte, sch any) (bool, any, error) {
	return len(bytes.TrimSpace(line)) == 0, sch, nil
}

func (p *jsonParser) parse(line []byte, sch any, ev *Event, js *jscan) error {
	if js.m != p.m {
		js.pred = js.pred[:0] // predicted keys carry the old mapping
	}
	js.m, js.ev = p.m, ev
	if err := js.scanLine(line); err != nil {
		return err
	}
	switch {
	case p.zeek:
		ev.Product = "zeek"
		ev.Service = intern(ev.logPath)
		ev.Category = zeekCategory(ev.Service)
	case p.eve:
		ev.Product = "suricata"
		ev.Category = zeekCategory(intern(ev.logPath))
	case p.win:
		ev.Product = "windows"
	}
	ev.finish()
	return nil
}

func (p *jsonParser) sigmaEvent(line []byte, sch any) sigma.Event {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		return nil
	}
	return sigma.MapEvent(m)
}

// intern returns a constant string for the usual log names, without
// allocating.
func intern(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "dns":
		return "dns"
	case "http":
		return "http"
	case "conn":
		return "conn"
	case "ssl":
		return "ssl"
	case "x509":
		return "x509"
	case "files":
		return "files"
	case "smtp":
		return "smtp"
	case "tls":
		return "tls"
	case "fileinfo":
		return "fileinfo"
	case "alert":
		return "alert"
	}
	return string(b)
}

func zeekCategory(service string) string {
	switch service {
	case "dns":
		return "dns"
	case "http":
		return "proxy"
	case "conn":
		return "firewall"
	}
	return ""
}

// zeekSchema is the state of a Zeek TSV file after its headers.
type zeekSchema struct {
	sep, setSep byte
	path        string
	names       []string
	cols        []*Target
	sets        []bool // column holds a set or vector
}

type zeekParser struct{ m Mapping }

func (p *zeekParser) control(line []byte, sch any) (bool, any, error) {
	if len(line) == 0 || line[0] != '#' {
		if sch == nil {
			sch = &zeekSchema{sep: '\t', setSep: ','}
		}
		return false, sch, nil
	}
	cur, _ := sch.(*zeekSchema)
	next := &zeekSchema{sep: '\t', setSep: ','}
	if cur != nil {
		c := *cur
		next = &c
	}
	text := string(line)
	key, val, _ := strings.Cut(text, string(next.sep))
	if strings.HasPrefix(text, "#separator ") {
		key, val = "#separator", strings.TrimPrefix(text, "#separator ")
	}
	switch key {
	case "#separator":
		if v := strings.TrimSpace(val); strings.HasPrefix(v, `\x`) && len(v) == 4 {
			var b byte
			if _, err := fmt.Sscanf(v[2:], "%02x", &b); err == nil {
				next.sep = b
			}
		}
	case "#set_separator":
		if len(val) > 0 {
			next.setSep = val[0]
		}
	case "#path":
		next.path = val
	case "#fields":
		next.names = strings.Split(val, string(next.sep))
		next.cols = make([]*Target, len(next.names))
		next.sets = make([]bool, len(next.names))
		for i, n := range next.names {
			next.cols[i] = p.m[n]
		}
	case "#types":
		for i, t := range strings.Split(val, string(next.sep)) {
			if i < len(next.sets) {
				next.sets[i] = strings.HasPrefix(t, "set[") || strings.HasPrefix(t, "vector[")
			}
		}
	}
	return true, next, nil
}

var errColumns = errors.New("wrong number of columns for the #fields header")

func (p *zeekParser) parse(line []byte, sch any, ev *Event, _ *jscan) error {
	s := sch.(*zeekSchema)
	if s.cols == nil {
		return errors.New("data line before the #fields header")
	}
	col := 0
	for rest := line; ; col++ {
		var v []byte
		i := bytes.IndexByte(rest, s.sep)
		if i >= 0 {
			v, rest = rest[:i], rest[i+1:]
		} else {
			v = rest
		}
		if col >= len(s.cols) {
			return errColumns
		}
		if t := s.cols[col]; t != nil && !(len(v) == 7 && string(v) == "(empty)") {
			if s.sets[col] {
				for len(v) > 0 {
					e := v
					if j := bytes.IndexByte(v, s.setSep); j >= 0 {
						e, v = v[:j], v[j+1:]
					} else {
						v = nil
					}
					ev.Add(t, e)
				}
			} else {
				ev.Add(t, v)
			}
		}
		if i < 0 {
			break
		}
	}
	if col+1 != len(s.cols) {
		return errColumns
	}
	ev.Product, ev.Service = "zeek", s.path
	ev.Category = zeekCategory(s.path)
	ev.finish()
	return nil
}

func (p *zeekParser) sigmaEvent(line []byte, sch any) sigma.Event {
	s := sch.(*zeekSchema)
	m := map[string]any{}
	for i, v := range bytes.Split(line, []byte{s.sep}) {
		if i < len(s.names) && string(v) != "-" && string(v) != "(empty)" {
			if s.sets[i] {
				var l []any
				for _, e := range bytes.Split(v, []byte{s.setSep}) {
					l = append(l, string(e))
				}
				m[s.names[i]] = l
			} else {
				m[s.names[i]] = string(v)
			}
		}
	}
	return sigma.MapEvent(m)
}

// csvSchema holds the header of a CSV file.
type csvSchema struct {
	names []string
	cols  []*Target
}

type csvParser struct{ m Mapping }

// splitCSV splits one CSV line (RFC 4180 quoting, no embedded newlines)
// calling fn with each field, unquoted into buf when needed.
func splitCSV(line []byte, buf []byte, fn func(i int, v []byte)) ([]byte, error) {
	i, col := 0, 0
	for {
		if i < len(line) && line[i] == '"' {
			start := len(buf)
			j := i + 1
			for {
				if j >= len(line) {
					return buf, errors.New("unterminated quoted field")
				}
				if line[j] == '"' {
					if j+1 < len(line) && line[j+1] == '"' {
						buf = append(buf, '"')
						j += 2
						continue
					}
					break
				}
				buf = append(buf, line[j])
				j++
			}
			fn(col, buf[start:len(buf):len(buf)])
			j++
			if j < len(line) && line[j] != ',' {
				return buf, errors.New("text after a closing quote")
			}
			if j >= len(line) {
				return buf, nil
			}
			i = j + 1
		} else {
			j := bytes.IndexByte(line[i:], ',')
			if j < 0 {
				fn(col, line[i:])
				return buf, nil
			}
			fn(col, line[i:i+j])
			i += j + 1
		}
		col++
	}
}

func (p *csvParser) control(line []byte, sch any) (bool, any, error) {
	if sch != nil {
		return false, sch, nil
	}
	s := &csvSchema{}
	_, err := splitCSV(bytes.TrimRight(line, "\r"), nil, func(i int, v []byte) {
		n := strings.TrimSpace(string(v))
		s.names = append(s.names, n)
		s.cols = append(s.cols, p.m[strings.ToLower(n)])
	})
	if err != nil {
		return true, nil, fmt.Errorf("header: %w", err)
	}
	return true, s, nil
}

func (p *csvParser) parse(line []byte, sch any, ev *Event, _ *jscan) error {
	s := sch.(*csvSchema)
	line = bytes.TrimRight(line, "\r")
	if len(line) == 0 {
		return nil
	}
	n := 0
	var err error
	ev.arena, err = splitCSV(line, ev.arena, func(i int, v []byte) {
		n++
		if i < len(s.cols) && s.cols[i] != nil {
			ev.Add(s.cols[i], v)
		}
	})
	if err != nil {
		return err
	}
	if n != len(s.cols) {
		return fmt.Errorf("%d fields, header has %d", n, len(s.cols))
	}
	return nil
}

func (p *csvParser) sigmaEvent(line []byte, sch any) sigma.Event {
	s := sch.(*csvSchema)
	m := map[string]any{}
	_, _ = splitCSV(bytes.TrimRight(line, "\r"), nil, func(i int, v []byte) {
		if i < len(s.names) {
			m[s.names[i]] = string(v)
		}
	})
	return sigma.MapEvent(m)
}
