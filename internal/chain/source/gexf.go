package source

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// GEXF 1.2 (gexf.net) as NetworkX's write_gexf produces it:
//
//	<gexf version="1.2"><graph defaultedgetype="directed" mode="static">
//	  <attributes class="edge"><attribute id="0" title="timestamp" type="long"/></attributes>
//	  <nodes><node id="0xabc…" label="0xabc…"><attvalues>…</attvalues></node>…</nodes>
//	  <edges><edge source="0xabc…" target="0xdef…" id="0" weight="10000000000000000000000">
//	    <attvalues><attvalue for="0" value="1740150887"/></attvalues></edge>…</edges>
//	</graph></gexf>
//
// Each edge is a transfer from source to target. weight is the amount and
// must be an exact integer (NetworkX writes Python ints in full; "5.0" is
// accepted as 5, other fractions are bad rows); an edge without weight has a
// zero (unknown) amount. Edge attributes are recognised by title: timestamp /
// time / block_timestamp (Time), hash / tx_hash / transaction_hash (Tx),
// block / block_number (Block), value / amount (Amount, preferred over
// weight), usd / value_usd / value_in_usd (USD), token / asset /
// token_address (Asset). In a dynamic graph whose timeformat is date,
// dateTime or integer (taken as Unix seconds), an edge's start is its time;
// the default timeformat, double, has no calendar meaning and is ignored.
// Without any of these the transfer has Time 0 and no Tx, as in the Bybit
// network.
//
// Node ids that are addresses are canonicalised; other ids are kept as they
// are, unless the node's label is an address, which then names it (Gephi
// writes numeric ids with the address as label). Node labels that are not the
// node's name, and node attributes titled label / name / tag / type /
// category / entity, are handed to a Labeler.
//
// The reader streams tokens with encoding/xml and bounds every token to
// Loader.MaxLineBytes and nesting to 32 levels. XML cannot be resynchronised
// after a syntax error, so one ends the file: it is counted as a bad row
// with its line, and what came before it stays loaded.

type gexfRole uint8

const (
	roleNone gexfRole = iota
	roleTime
	roleTx
	roleBlock
	roleAmount
	roleUSD
	roleAsset
	roleLabel
)

var gexfRoles = map[string]gexfRole{
	"timestamp": roleTime, "time": roleTime, "block_timestamp": roleTime, "blocktime": roleTime,
	"hash": roleTx, "tx": roleTx, "txhash": roleTx, "tx_hash": roleTx, "transaction_hash": roleTx,
	"block": roleBlock, "block_number": roleBlock, "blocknumber": roleBlock,
	"value": roleAmount, "amount": roleAmount,
	"usd": roleUSD, "value_usd": roleUSD, "value_in_usd": roleUSD, "usd_value": roleUSD,
	"token": roleAsset, "asset": roleAsset, "token_address": roleAsset,
	"label": roleLabel, "name": roleLabel, "tag": roleLabel, "type": roleLabel, "category": roleLabel, "entity": roleLabel,
}

const maxXMLDepth = 32

var errTokenTooLarge = errors.New("XML token too large")

type gexfEdge struct {
	line                 int64
	source, target       string
	weight, start        string
	hasWeight            bool
	amount, tx, asset    string
	time, block, usd     string
	hasAmount            bool
	hasTime, hasBlock    bool
	hasUSD, hasTx, hasAs bool
}

func (r *run) readGEXF(rd io.Reader) error {
	tl := &markLimiter{r: rd, max: int64(r.l.maxLine()), tooLong: errTokenTooLarge}
	d := xml.NewDecoder(tl)
	var (
		depth      int
		attrClass  string
		roles      = map[string]map[string]gexfRole{"node": {}, "edge": {}}
		timeFormat string
		directed   bool
		node       string // canonical name of the node being read, "" outside
		inNode     bool
		inEdge     bool
		e          gexfEdge
		ids        = map[string]string{} // node id -> name, where they differ
		sawGraph   bool
		noted      bool
	)
	for {
		tok, err := d.Token()
		tl.mark = d.InputOffset()
		if err == io.EOF {
			if !sawGraph {
				return fileError("no <graph> element")
			}
			return nil
		}
		line, _ := d.InputPos()
		if err != nil {
			if errors.Is(err, errTokenTooLarge) {
				r.bad(int64(line), "XML token longer than %d bytes (rest of file skipped)", tl.max)
			} else {
				r.bad(int64(line), "XML: %s (rest of file skipped)", shortErr(err))
			}
			return nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxXMLDepth {
				r.bad(int64(line), "XML nested deeper than %d levels (rest of file skipped)", maxXMLDepth)
				return nil
			}
			switch t.Name.Local {
			case "graph":
				sawGraph = true
				directed = attr(t, "defaultedgetype") == "directed"
				timeFormat = strings.ToLower(attr(t, "timeformat"))
				if !directed && !noted {
					noted = true
					r.problem(int64(line), "graph is not declared directed: edges are read as source → target")
				}
			case "attributes":
				attrClass = attr(t, "class")
			case "attribute":
				if m, ok := roles[attrClass]; ok {
					title := strings.ToLower(strings.TrimSpace(attr(t, "title")))
					if title == "" {
						title = strings.ToLower(attr(t, "id"))
					}
					if len(m) < 1024 {
						m[attr(t, "id")] = gexfRoles[title]
					}
				}
			case "node":
				if err := r.tick(); err != nil {
					return err
				}
				r.fs.Nodes++
				inNode = true
				id, label := attr(t, "id"), attr(t, "label")
				node = r.gexfNode(int64(line), id, label, ids)
				if node != "" && label != "" && label != id && label != node {
					if err := r.label(int64(line), node, []byte(label)); err != nil {
						return err
					}
				}
			case "edge":
				if err := r.row(); err != nil {
					return err
				}
				inEdge = true
				e = gexfEdge{line: int64(line), source: attr(t, "source"), target: attr(t, "target")}
				if w, ok := attrOK(t, "weight"); ok {
					e.weight, e.hasWeight = w, true
				}
				e.start = attr(t, "start")
				if e.start == "" {
					e.start = attr(t, "end")
				}
			case "attvalue":
				key := attr(t, "for")
				if key == "" {
					key = attr(t, "id")
				}
				val := attr(t, "value")
				switch {
				case inEdge:
					switch roles["edge"][key] {
					case roleTime:
						e.time, e.hasTime = val, true
					case roleTx:
						e.tx, e.hasTx = val, true
					case roleBlock:
						e.block, e.hasBlock = val, true
					case roleAmount:
						e.amount, e.hasAmount = val, true
					case roleUSD:
						e.usd, e.hasUSD = val, true
					case roleAsset:
						e.asset, e.hasAs = val, true
					}
				case inNode && node != "":
					if roles["node"][key] == roleLabel {
						if err := r.label(int64(line), node, []byte(val)); err != nil {
							return err
						}
					}
				}
			}
		case xml.EndElement:
			depth--
			switch t.Name.Local {
			case "attributes":
				attrClass = ""
			case "node":
				inNode, node = false, ""
			case "edge":
				inEdge = false
				if err := r.gexfEmit(&e, ids, timeFormat); err != nil {
					return err
				}
			}
		}
	}
}

// gexfNode returns the name of a node, recording it in ids when it differs
// from the id.
func (r *run) gexfNode(line int64, id, label string, ids map[string]string) string {
	if id == "" || len(id) > maxNameBytes {
		r.bad(line, "node id %q is empty or too long", clip([]byte(id)))
		return ""
	}
	if a, err := r.l.anyAddress([]byte(id)); err == nil {
		if a != id {
			ids[id] = a
		}
		return a
	}
	if label != "" {
		if a, err := r.l.anyAddress([]byte(label)); err == nil {
			ids[id] = a
			return a
		}
	}
	return r.l.names.intern([]byte(id))
}

// gexfName resolves an edge end to a node name.
func (r *run) gexfName(id string, ids map[string]string) (string, bool) {
	if id == "" || len(id) > maxNameBytes {
		return "", false
	}
	if n, ok := ids[id]; ok {
		return n, true
	}
	if a, err := r.l.anyAddress([]byte(id)); err == nil {
		return a, true
	}
	return r.l.names.intern([]byte(id)), true
}

func (r *run) gexfEmit(e *gexfEdge, ids map[string]string, timeFormat string) error {
	var t graph.Transfer
	var ok bool
	if t.From, ok = r.gexfName(e.source, ids); !ok {
		r.bad(e.line, "edge source %q is empty or too long", clip([]byte(e.source)))
		return nil
	}
	if t.To, ok = r.gexfName(e.target, ids); !ok {
		r.bad(e.line, "edge target %q is empty or too long", clip([]byte(e.target)))
		return nil
	}
	switch {
	case e.hasAmount:
		a, err := r.l.amount(integral([]byte(e.amount)))
		if err != nil {
			r.bad(e.line, "edge value: %v", err)
			return nil
		}
		t.Amount = a
	case e.hasWeight:
		a, err := r.l.amount(integral([]byte(e.weight)))
		if err != nil {
			r.bad(e.line, "edge weight: %v", err)
			return nil
		}
		t.Amount = a
	}
	switch {
	case e.hasTime:
		if t.Time, ok = parseTime([]byte(e.time)); !ok {
			r.bad(e.line, "edge time %q is not a time", clip([]byte(e.time)))
			return nil
		}
	case e.start != "" && (timeFormat == "date" || timeFormat == "datetime" || timeFormat == "integer"):
		if t.Time, ok = parseTime([]byte(e.start)); !ok {
			r.bad(e.line, "edge start %q is not a time", clip([]byte(e.start)))
			return nil
		}
	}
	if e.hasBlock {
		if t.Block, ok = parseUint([]byte(e.block)); !ok {
			r.bad(e.line, "edge block %q is not a block number", clip([]byte(e.block)))
			return nil
		}
	}
	if e.hasTx {
		var last string
		if t.Tx, ok = txHash([]byte(e.tx), &last); !ok {
			r.bad(e.line, "edge hash %q is not a transaction hash", clip([]byte(e.tx)))
			return nil
		}
	}
	if e.hasUSD && e.usd != "" {
		var why string
		if t.USD, why = parseUSD([]byte(e.usd)); why != "" {
			r.bad(e.line, "edge USD %q %s", clip([]byte(e.usd)), why)
			return nil
		}
		t.HasUSD = true
	}
	if e.hasAs && e.asset != "" {
		if t.Asset, ok = r.gexfName(e.asset, nil); !ok {
			r.bad(e.line, "edge asset %q is too long", clip([]byte(e.asset)))
			return nil
		}
	}
	return r.emit(e.line, t)
}

// integral strips a zero fraction ("5.0", "5.000") so that integer values
// written as floats are read exactly; anything else is left for the amount
// parser to reject.
func integral(b []byte) []byte {
	i := bytes.IndexByte(b, '.')
	if i <= 0 {
		return b
	}
	for _, c := range b[i+1:] {
		if c != '0' {
			return b
		}
	}
	return b[:i]
}

func attr(t xml.StartElement, name string) string {
	v, _ := attrOK(t, name)
	return v
}

func attrOK(t xml.StartElement, name string) (string, bool) {
	for _, a := range t.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}
