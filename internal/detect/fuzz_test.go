package detect

import (
	"strings"
	"testing"
)

// fuzzParser runs one line parser on arbitrary input: it may reject the
// line, never panic.
func fuzzParser(f *testing.F, format string, header []string, seeds ...string) {
	for _, s := range seeds {
		f.Add(s)
	}
	p, err := newParser(format, nil)
	if err != nil {
		f.Fatal(err)
	}
	var sch any
	for _, h := range header {
		_, sch, _ = p.control([]byte(h), sch)
	}
	idx, _ := Compile(nil, Options{})
	f.Fuzz(func(t *testing.T, line string) {
		var ev Event
		var js jscan
		var s Scratch
		b := []byte(line)
		ctl, nsch, _ := p.control(b, sch)
		if ctl || nsch == nil {
			return
		}
		ev.Reset(len(b))
		if p.parse(b, nsch, &ev, &js) == nil {
			idx.Match(&ev, &s, func(*Field, []byte, Ref) {})
		}
	})
}

func FuzzJSONL(f *testing.F) {
	fuzzParser(f, FormatJSONL, nil, `{"src_ip":"1.2.3.4","url":"http://a.b/c","x":[1,{"y":null}]}`, `{"a":"\u00e9\"","b":-1.5e3}`, `{`, `{"a":[[[[`)
}

func FuzzZeekJSON(f *testing.F) {
	fuzzParser(f, FormatZeekJSON, nil, `{"_path":"http","host":"a.example:80","uri":"/x","id.orig_h":"::1"}`)
}

func FuzzEVE(f *testing.F) {
	fuzzParser(f, FormatEVE, nil, `{"event_type":"dns","src_ip":"1.2.3.4","dns":{"queries":[{"rrname":"a.b"}]}}`)
}

func FuzzWinJSON(f *testing.F) {
	fuzzParser(f, FormatWinJSON, nil, `{"Event":{"System":{"EventID":{"#text":"1"}},"EventData":{"Hashes":"MD5=00,SHA256=11"}}}`)
}

func FuzzZeekTSV(f *testing.F) {
	fuzzParser(f, FormatZeek, []string{"#separator \\x09", "#fields\tts\tid.orig_h\tquery\tanswers", "#types\ttime\taddr\tstring\tvector[string]"},
		"1.0\t1.2.3.4\ta.example\tb.example,1.1.1.1", "-\t-\t(empty)\t")
}

func FuzzCSV(f *testing.F) {
	fuzzParser(f, FormatCSV, []string{"src_ip,domain,url"}, `1.2.3.4,"a,b.example",http://x/`, `"unterminated`)
}

func FuzzText(f *testing.F) {
	fuzzParser(f, FormatText, nil, "GET http://a.example/x from 1.2.3.4:80 user a@b.example v1.2.3.4 setup.exe "+strings.Repeat("a", 64))
}
