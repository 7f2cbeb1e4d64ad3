package source

import (
	"strings"
	"testing"
)

var gexfWant = []string{
	// Edge attributes: time and hash (lower-cased); EIP-55 node id canonicalised.
	hA + "|0|1740150887|" + bybit + "|" + addrA + "||10000000000000000000000|-",
	// 2^128+1; the target is node n7, named by its address label.
	"|0|0|" + addrA + "|" + addrB + "||340282366920938463463374607431768211457|-",
	// weight 5.0 is 5; a node id that is no address is kept.
	"|0|0|" + addrB + "|mixer-1||5|-",
	// No weight: amount unknown (0). Zero-weight edges are kept.
	"|0|0|mixer-1|" + addrA + "||0|-",
	"|0|0|mixer-1|" + addrB + "||0|-",
}

func TestGEXF(t *testing.T) {
	var l Loader
	s, st := load(t, &l, "testdata/gexf/small.gexf")
	diff(t, "transfers", s.lines(), gexfWant)
	diff(t, "labels", s.labels, []string{bybit + "=Bybit exploiter", bybit + "=hacker"})
	diff(t, "problems", problems(st), []string{
		`testdata/gexf/small.gexf:31: edge weight: amount "1.5": not a decimal integer`,
		`testdata/gexf/small.gexf:33: edge source "" is empty or too long`,
	})
	if st.Rows != 7 || st.Bad != 2 || st.Files[0].Nodes != 4 {
		t.Errorf("Rows = %d, Bad = %d, Nodes = %d; want 7, 2, 4", st.Rows, st.Bad, st.Files[0].Nodes)
	}
}

func TestGEXFHostile(t *testing.T) {
	t.Run("truncated", func(t *testing.T) {
		var l Loader
		s, st := load(t, &l, "testdata/hostile/truncated.gexf")
		diff(t, "transfers", s.lines(), gexfWant[:3])
		if st.Bad != 1 || len(st.Problems) != 1 || !strings.Contains(st.Problems[0].String(), "truncated.gexf:31: XML: XML syntax error on line 31: unexpected EOF (rest of file skipped)") {
			t.Errorf("problems %v", problems(st))
		}
	})
	t.Run("deep", func(t *testing.T) {
		var l Loader
		_, st := load(t, &l, "testdata/hostile/deep.gexf")
		diff(t, "problems", problems(st), []string{"testdata/hostile/deep.gexf:2: XML nested deeper than 32 levels (rest of file skipped)"})
	})
	t.Run("big token", func(t *testing.T) {
		l := Loader{MaxLineBytes: 1024}
		_, st := load(t, &l, "testdata/hostile/bigtoken.gexf")
		diff(t, "problems", problems(st), []string{"testdata/hostile/bigtoken.gexf:2: XML token longer than 1024 bytes (rest of file skipped)"})
	})
	inline := []struct {
		name, doc, problem string
	}{
		{"no graph", `<gexf version="1.2"></gexf>`, "ERR no <graph> element"},
		{"undirected", `<gexf><graph><edges><edge source="a" target="b" weight="1"/></edges></graph></gexf>`, "graph is not declared directed"},
		{"entity", `<gexf><graph defaultedgetype="directed">&boom;</graph></gexf>`, "invalid character entity &boom;"},
		{"doctype entities", `<!DOCTYPE gexf [<!ENTITY a "aaaaaaaa">]><gexf><graph defaultedgetype="directed"><nodes><node id="&a;"/></nodes></graph></gexf>`, "invalid character entity &a;"},
		{"long id", `<gexf><graph defaultedgetype="directed"><edges><edge source="` + strings.Repeat("x", 600) + `" target="b"/></edges></graph></gexf>`, "edge source"},
		{"bad time", `<gexf><graph defaultedgetype="directed"><attributes class="edge"><attribute id="t" title="Timestamp"/></attributes><edges><edge source="a" target="b"><attvalues><attvalue for="t" value="soon"/></attvalues></edge></edges></graph></gexf>`, `edge time "soon" is not a time`},
		{"bad block", `<gexf><graph defaultedgetype="directed"><attributes class="edge"><attribute id="0" title="block_number"/></attributes><edges><edge source="a" target="b"><attvalues><attvalue for="0" value="-3"/></attvalues></edge></edges></graph></gexf>`, `edge block "-3"`},
		{"bad hash", `<gexf><graph defaultedgetype="directed"><attributes class="edge"><attribute id="0" title="tx_hash"/></attributes><edges><edge source="a" target="b"><attvalues><attvalue for="0" value="0x12"/></attvalues></edge></edges></graph></gexf>`, `edge hash "0x12"`},
		{"huge weight", `<gexf><graph defaultedgetype="directed"><edges><edge source="a" target="b" weight="` + strings.Repeat("9", 101) + `"/></edges></graph></gexf>`, "more than 100 digits"},
		{"negative weight", `<gexf><graph defaultedgetype="directed"><edges><edge source="a" target="b" weight="-1"/></edges></graph></gexf>`, "not a decimal integer"},
		{"float weight", `<gexf><graph defaultedgetype="directed"><edges><edge source="a" target="b" weight="1e+22"/></edges></graph></gexf>`, "not a decimal integer"},
	}
	for _, tt := range inline {
		t.Run(tt.name, func(t *testing.T) {
			var l Loader
			_, st, err := read(t, &l, "x.gexf", tt.doc)
			if want, ok := strings.CutPrefix(tt.problem, "ERR "); ok {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("err %v, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Problems) != 1 || !strings.Contains(st.Problems[0].Reason, tt.problem) {
				t.Errorf("problems %v, want one containing %q", problems(st), tt.problem)
			}
		})
	}
}

// Edge attributes by title give time, block, hash, USD, asset and an exact
// value that wins over weight; a dynamic graph's start is the time.
func TestGEXFAttributes(t *testing.T) {
	doc := `<?xml version="1.0"?>
<gexf version="1.2"><graph defaultedgetype="directed" mode="dynamic" timeformat="datetime">
<attributes class="edge"><attribute id="a" title="Value"/><attribute id="b" title="block"/><attribute id="c" title="usd"/><attribute id="d" title="token"/><attribute id="e" title="tx_hash"/></attributes>
<attributes class="node"><attribute id="0" title="entity"/></attributes>
<nodes><node id="1" label="` + addrA + `"><attvalues><attvalue for="0" value="Exchange X"/></attvalues></node></nodes>
<edges>
<edge source="1" target="` + addrB + `" weight="3" start="2025-02-21T14:13:35Z"><attvalues><attvalue for="a" value="12345678901234567890123"/><attvalue for="b" value="21895238"/><attvalue for="c" value="99.5"/><attvalue for="d" value="0xdAC17F958D2ee523a2206206994597C13D831ec7"/><attvalue for="e" value="` + strings.Repeat("B", 64) + `"/></attvalues></edge>
</edges></graph></gexf>`
	var l Loader
	s, st, err := read(t, &l, "dyn.gexf", doc)
	if err != nil {
		t.Fatal(err)
	}
	diff(t, "transfers", s.lines(), []string{strings.Repeat("b", 64) + "|21895238|1740147215|" + addrA + "|" + addrB + "|" + usdt + "|12345678901234567890123|99.5"})
	diff(t, "labels", s.labels, []string{addrA + "=Exchange X"})
	if st.Bad != 0 {
		t.Errorf("problems %v", problems(st))
	}
}
