package detect

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/corpus"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// zipInput reads one member of a zip archive.
func zipInput(t *testing.T, zpath, member string) Input {
	return Input{Name: zpath + "!" + member, Open: func() (io.ReadCloser, error) {
		zr, err := zip.OpenReader(zpath)
		if err != nil {
			return nil, err
		}
		for _, f := range zr.File {
			if f.Name == member {
				rc, err := f.Open()
				if err != nil {
					zr.Close()
					return nil, err
				}
				return struct {
					io.Reader
					io.Closer
				}{rc, zr}, nil
			}
		}
		zr.Close()
		return nil, os.ErrNotExist
	}}
}

func TestCorpusLogs(t *testing.T) {
	sd := "detect/logs/otrf-security-datasets/"
	tests := []struct {
		name      string
		in        func(t *testing.T) Input
		format    string
		events    int64
		malformed int64
	}{
		{"zeek tsv dns gz", func(t *testing.T) Input {
			return FileInput(corpus.Path(t, "detect/logs/zeek-wrccdc2018/zeek-default/dns.log.gz"))
		}, FormatZeek, 53615, 0},
		{"zeek json dns gz", func(t *testing.T) Input {
			return FileInput(corpus.Path(t, "detect/logs/zeek-wrccdc2018/zeek-json/dns.json.gz"))
		}, FormatZeekJSON, 53615, 0},
		{"zeek tsv ssl gz", func(t *testing.T) Input {
			return FileInput(corpus.Path(t, "detect/logs/zeek-wrccdc2018/zeek-default/ssl.log.gz"))
		}, FormatZeek, 49474, 0},
		{"stratosphere http (992 of 1000 lines are events)", func(t *testing.T) Input {
			return FileInput(corpus.Path(t, "detect/logs/stratosphere-zeek/005-zeek-scenario-malicious/http.log"))
		}, FormatZeek, 992, 0},
		{"security-datasets lsass comsvcs", func(t *testing.T) Input {
			return zipInput(t, corpus.Path(t, sd+"psh_lsass_memory_dump_comsvcs.zip"), "psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json")
		}, FormatWinJSON, 184, 0},
		{"security-datasets zeek dns", func(t *testing.T) Input {
			return zipInput(t, corpus.Path(t, sd+"metasploit_logonpasswords_lsass_memory_dump_zeek_logs.zip"), "dns.log")
		}, FormatZeek, 96, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in(t)
			sum, err := Scan(context.Background(), nil, []Input{in}, ScanOptions{}, nil)
			if err != nil || len(sum.Errors) > 0 {
				t.Fatal(err, sum.Errors)
			}
			if got := sum.Formats[in.Name]; got != tc.format {
				t.Errorf("format %q, want %q", got, tc.format)
			}
			if tc.events >= 0 && sum.Events != tc.events {
				t.Errorf("events %d, want %d", sum.Events, tc.events)
			}
			if sum.Malformed != tc.malformed {
				t.Errorf("malformed %d, want %d: %v", sum.Malformed, tc.malformed, sum.MalformedLines)
			}
			t.Logf("%s: %d events, %d bytes", filepath.Base(in.Name), sum.Events, sum.Bytes)
		})
	}
}

func TestLongLineAndGzip(t *testing.T) {
	long := `{"src_ip":"` + strings.Repeat("a", 2<<20) + `"}`
	data := `{"dest_ip":"1.2.3.4"}` + "\n" + long + "\n" + `{"dest_ip":"1.2.3.4"}` + "\n"
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(data))
	w.Close()
	idx, _ := Compile([]*stix.Object{indicator(t, "ip", "[ipv4-addr:value = '1.2.3.4']", nil)}, Options{})
	for _, in := range []Input{stringInput("plain.jsonl", data), stringInput("packed.jsonl.gz", gz.String())} {
		var lines []int64
		sum, err := Scan(context.Background(), idx, []Input{in}, ScanOptions{}, func(h Hit) { lines = append(lines, h.Line) })
		if err != nil {
			t.Fatal(err)
		}
		if sum.Malformed != 1 || sum.MalformedLines[0].Line != 2 || sum.Events != 2 || fmt.Sprint(lines) != "[1 3]" {
			t.Fatalf("%s: %+v hits at %v", in.Name, sum, lines)
		}
	}
}
