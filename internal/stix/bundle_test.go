package stix

import (
	"bytes"
	"errors"
	"io"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/corpus"
)

// readAll drains a reader, returning the objects and the error that ended it
// (nil at a clean end).
func readAll(t *testing.T, r io.Reader, max int64) ([]RawObject, error) {
	t.Helper()
	br := NewBundleReader(r, max)
	var out []RawObject
	for i := 0; ; i++ {
		ro, err := br.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			// The error is sticky.
			if _, again := br.Next(); again == nil || again.Error() != err.Error() {
				t.Errorf("second Next after %v gave %v", err, again)
			}
			return out, err
		}
		if i > 1e6 {
			t.Fatal("reader does not end")
		}
		out = append(out, ro)
	}
}

func urlObj(n int) string {
	return `{"type":"url","spec_version":"2.1","id":"url--` + fixedUUID[:len(fixedUUID)-1] + string(rune('0'+n)) + `","value":"http://x` + string(rune('0'+n)) + `.test/"}`
}

const bundleText = `{
  "type": "bundle",
  "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
  "objects": [
    {
      "type": "url", "spec_version": "2.1",
      "id": "url--a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c50",
      "value": "http://x0.test/"
    },
    {"type": "url", "id": "url--not-a-uuid", "value": "http://bad.test/"},

    {"type": "url", "spec_version": "2.1", "id": "url--a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c52", "value": "http://x2.test/"}, {"type": "url", "spec_version": "2.1", "id": "url--a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c53", "value": "http://x3.test/"}
  ],
  "spec_version": "2.1",
  "x_after": {"nested": [1, 2, {"objects": []}]}
}
`

func TestBundleReaderLinesAndIndex(t *testing.T) {
	br := NewBundleReader(strings.NewReader(bundleText), 0)
	want := []struct {
		line  int
		value string
		valid bool
	}{{5, "http://x0.test/", true}, {10, "http://bad.test/", false}, {12, "http://x2.test/", true}, {12, "http://x3.test/", true}}
	for i, w := range want {
		ro, err := br.Next()
		if err != nil {
			t.Fatalf("object %d: %v", i, err)
		}
		if ro.Index != i || ro.Line != w.line {
			t.Errorf("object %d: index %d line %d, want line %d", i, ro.Index, ro.Line, w.line)
		}
		o, err := Decode(ro.Raw)
		if w.valid != (err == nil) {
			t.Errorf("object %d: Decode err %v, want valid=%v", i, err, w.valid)
		}
		if err == nil && o.String("value") != w.value {
			t.Errorf("object %d: value %q", i, o.String("value"))
		}
		// An invalid object does not stop the stream; its error names the property.
		var oe *ObjectError
		if err != nil && (!errors.As(err, &oe) || oe.Prop != "id" || oe.ID != "url--not-a-uuid") {
			t.Errorf("object %d: error %v", i, err)
		}
	}
	if _, err := br.Next(); err != io.EOF {
		t.Fatalf("after last object: %v", err)
	}
	if _, err := br.Next(); err != io.EOF {
		t.Fatalf("EOF not repeated: %v", err)
	}
	// Properties after "objects" are read.
	if br.BundleID != "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d" || br.SpecVersion != "2.1" {
		t.Errorf("bundle id %q spec_version %q", br.BundleID, br.SpecVersion)
	}
}

var lineRE = regexp.MustCompile(`line (\d+)`)

func TestBundleReaderTruncated(t *testing.T) {
	// Cut inside the third object (line 12): two objects come out, then an
	// error that says where.
	cut := bundleText[:strings.Index(bundleText, `"http://x2.test/"`)+5]
	objs, err := readAll(t, strings.NewReader(cut), 0)
	if len(objs) != 2 || err == nil {
		t.Fatalf("got %d objects, err %v", len(objs), err)
	}
	if !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), "line 12") || !strings.Contains(err.Error(), "object 2") {
		t.Errorf("error %q does not say truncated, object 2, line 12", err)
	}
	// Cut between objects and at every byte: never a panic, never an object
	// that is not complete JSON, always an error with a line number.
	for i := 0; i < len(bundleText)-2; i += 7 {
		objs, err := readAll(t, strings.NewReader(bundleText[:i]), 0)
		if err == nil {
			t.Fatalf("cut at %d: no error", i)
		}
		if i > 0 && !lineRE.MatchString(err.Error()) {
			t.Errorf("cut at %d: error without line: %v", i, err)
		}
		for _, o := range objs {
			if _, perr := Parse(o.Raw); perr != nil {
				t.Errorf("cut at %d: object %d not JSON: %v", i, o.Index, perr)
			}
		}
	}
}

func TestBundleReaderSyntaxErrorLine(t *testing.T) {
	in := "[\n" + urlObj(0) + ",\n" + urlObj(1) + ",\n{\"type\": \"url\",\n \"value\": x}\n]"
	objs, err := readAll(t, strings.NewReader(in), 0)
	if len(objs) != 2 || err == nil {
		t.Fatalf("%d objects, err %v", len(objs), err)
	}
	if !strings.Contains(err.Error(), "object 2 (line 4)") || !strings.Contains(err.Error(), "line 5: invalid JSON") {
		t.Errorf("error %q", err)
	}
}

func TestBundleReaderShapes(t *testing.T) {
	cases := []struct {
		name, in string
		n        int
		wantErr  string
	}{
		{"bare array", "[" + urlObj(0) + "," + urlObj(1) + "]", 2, ""},
		{"empty array", " [ ] ", 0, ""},
		{"single object", "\n" + urlObj(3) + "\n", 1, ""},
		{"bundle without objects", `{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d"}`, 0, ""},
		{"empty bundle", `{"type":"bundle","objects":[]}`, 0, ""},
		{"objects first", `{"objects":[` + urlObj(0) + `],"type":"bundle"}`, 1, ""},
		{"sorted keys (json.Marshal of a map)", `{"id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[` + urlObj(0) + `],"type":"bundle"}`, 1, ""},
		{"objects then a non-bundle type", `{"id":"x","objects":[` + urlObj(0) + `],"type":"report"}`, 1, "outside a bundle"},
		{"empty input", "", 0, "empty input"},
		{"whitespace", " \n\t", 0, "empty input"},
		{"string", `"bundle"`, 0, "expected a STIX bundle"},
		{"number", `42`, 0, "expected a STIX bundle"},
		{"objects not a list", `{"type":"bundle","objects":{}}`, 0, "must be a list"},
		{"objects in a non-bundle", `{"type":"report","objects":[]}`, 0, "outside a bundle"},
		{"trailing data", `{"type":"bundle","objects":[]} {}`, 0, "after the bundle"},
		{"trailing data after array", `[] []`, 0, "after the bundle"},
		{"array of numbers", `[1]`, 1, ""}, // the reader returns values; Decode refuses them
		{"missing comma", `[` + urlObj(0) + urlObj(1) + `]`, 1, "invalid JSON"},
		{"unclosed bundle", `{"type":"bundle","objects":[]`, 0, "truncated"},
		{"garbage", `{"type":"bundle","objects":[}`, 0, "invalid JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs, err := readAll(t, strings.NewReader(c.in), 0)
			if len(objs) != c.n {
				t.Errorf("%d objects, want %d", len(objs), c.n)
			}
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Errorf("error %v, want %q", err, c.wantErr)
			}
		})
	}
	// A single object keeps its content (not its key order).
	objs, _ := readAll(t, strings.NewReader(urlObj(3)), 0)
	o, err := Decode(objs[0].Raw)
	if err != nil || o.String("value") != "http://x3.test/" || objs[0].Line != 1 {
		t.Errorf("single object: %v %s", err, objs[0].Raw)
	}
}

// zeros is an io.Reader of n filler bytes, so that a huge input is never
// held in memory by the test itself.
type filler struct {
	n int64
	b byte
}

func (f *filler) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	for i := range min(len(p), 64<<10) {
		p[i] = f.b
	}
	for i := 64 << 10; i < len(p); i += 64 << 10 {
		copy(p[i:], p[:64<<10])
	}
	f.n -= int64(len(p))
	return len(p), nil
}

func heapAlloc() (uint64, uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc, m.HeapInuse
}

func TestBundleReaderHugeString(t *testing.T) {
	const size = 100 << 20
	in := io.MultiReader(
		strings.NewReader(`{"type":"bundle","objects":[`+urlObj(0)+`,{"type":"note","content":"`),
		&filler{n: size, b: 'a'},
		strings.NewReader(`"}]}`),
	)
	total0, _ := heapAlloc()
	objs, err := readAll(t, in, 0)
	total1, _ := heapAlloc()
	if len(objs) != 1 || !errors.Is(err, ErrObjectTooLarge) {
		t.Fatalf("%d objects, err %v; want 1 and ErrObjectTooLarge", len(objs), err)
	}
	if !strings.Contains(err.Error(), "object 1") {
		t.Errorf("error %q does not name object 1", err)
	}
	if alloc := total1 - total0; alloc > 64<<20 {
		t.Errorf("allocated %d MB reading a 100 MB string; want < 64 MB", alloc>>20)
	}
	// A smaller limit bites sooner.
	in = io.MultiReader(strings.NewReader(`[{"content":"`), &filler{n: 1 << 20, b: 'a'}, strings.NewReader(`"}]`))
	if _, err := readAll(t, in, 64<<10); !errors.Is(err, ErrObjectTooLarge) {
		t.Errorf("64 KB limit: %v", err)
	}
	// Huge whitespace between objects is not an object, but must not make
	// line bookkeeping grow without bound.
	in = io.MultiReader(strings.NewReader("["+urlObj(0)+","), &filler{n: 12 << 20, b: '\n'}, strings.NewReader(urlObj(1)+"]"))
	_, heap0 := heapAlloc()
	objs, err = readAll(t, in, 0)
	_, heap1 := heapAlloc()
	if err != nil || len(objs) != 2 {
		t.Fatalf("newlines: %d objects, %v", len(objs), err)
	}
	if heap1 > heap0+32<<20 {
		t.Errorf("heap grew %d MB over 12 MB of newlines", (heap1-heap0)>>20)
	}
}

func TestBundleReaderDeepNesting(t *testing.T) {
	deep := strings.Repeat("[", 100000)
	for _, in := range []string{
		deep,
		`{"type":"bundle","objects":[` + deep,
		`{"type":"bundle","objects":[{"type":"note","x_deep":` + deep + strings.Repeat("]", 100000) + `}]}`,
		`{"type":"bundle","x_deep":` + deep + strings.Repeat("]", 100000) + `,"objects":[]}`,
		`{"type":"note","x_deep":` + deep,
	} {
		objs, err := readAll(t, strings.NewReader(in), 0)
		if err == nil || len(objs) != 0 {
			t.Errorf("deep nesting (%.30q…): %d objects, err %v", in, len(objs), err)
		}
	}
	if _, err := Decode([]byte(`{"type":"note","x_deep":` + deep + strings.Repeat("]", 100000) + `}`)); err == nil {
		t.Error("Decode accepted 100k levels of nesting")
	}
}

func TestBundleReaderAttackMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("33 MB corpus file")
	}
	path := corpus.Path(t, "attack/enterprise-attack-stix20.json")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, base := heapAlloc()
	var peak uint64
	br := NewBundleReader(f, 0)
	n := 0
	var m runtime.MemStats
	for {
		ro, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(ro.Raw); err != nil {
			t.Fatal(err)
		}
		n++
		if n%500 == 0 {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
		}
	}
	if n != 24771 {
		t.Errorf("%d objects", n)
	}
	grow := int64(peak) - int64(base)
	t.Logf("bundle %d MB, peak heap in use %d MB over baseline", st.Size()>>20, grow>>20)
	if grow > st.Size()/4 {
		t.Errorf("peak heap grew %d MB streaming a %d MB bundle", grow>>20, st.Size()>>20)
	}
}

func TestBundleWriterRoundTrip(t *testing.T) {
	objs, err := readAll(t, strings.NewReader(bundleText), 0)
	if err != nil {
		t.Fatal(err)
	}
	// Compact each object so that each takes one line of the output.
	var src []RawObject
	for _, ro := range objs {
		o, err := Parse(ro.Raw)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, RawObject{Raw: o.Raw})
	}
	var buf bytes.Buffer
	bw := NewBundleWriter(&buf)
	for _, o := range src {
		if err := bw.Write(o.Raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Close(); err != nil || bw.Count() != len(src) {
		t.Fatalf("close: %v, count %d", err, bw.Count())
	}
	if err := bw.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	br := NewBundleReader(bytes.NewReader(buf.Bytes()), 0)
	for i := 0; ; i++ {
		ro, err := br.Next()
		if errors.Is(err, io.EOF) {
			if i != len(src) {
				t.Errorf("re-read %d objects, wrote %d", i, len(src))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ro.Raw, src[i].Raw) || ro.Index != i || ro.Line != i+2 {
			t.Errorf("object %d (line %d) differs: %s", i, ro.Line, ro.Raw)
		}
	}
	if _, _, err := ParseID(br.BundleID); err != nil || !strings.HasPrefix(br.BundleID, "bundle--") {
		t.Errorf("bundle id %q: %v", br.BundleID, err)
	}
	// An empty bundle is still a bundle.
	buf.Reset()
	bw = NewBundleWriter(&buf)
	bw.Close()
	if objs, err := readAll(t, &buf, 0); err != nil || len(objs) != 0 {
		t.Errorf("empty bundle: %v %d", err, len(objs))
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestBundleWriterError(t *testing.T) {
	bw := NewBundleWriter(failWriter{})
	big := bytes.Repeat([]byte(" "), 128<<10)
	var err error
	for i := 0; i < 3 && err == nil; i++ {
		err = bw.Write(big)
	}
	if err == nil {
		err = bw.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("error %v", err)
	}
}
