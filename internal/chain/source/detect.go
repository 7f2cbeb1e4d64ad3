package source

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
)

// sniffBytes is how much of a file (after decompression) Detect looks at.
const sniffBytes = 64 << 10

// Detect names the format of a file from its name and its first bytes
// (decompressed; up to 64 KiB is plenty). Content decides; the name only
// breaks ties. It returns FormatUnknown when nothing fits.
func Detect(name string, head []byte) Format {
	f, _ := detect(name, head)
	return f
}

// timeNeeds says how a file relates to block timestamps, which orders the
// files of one load.
type timeNeeds int

const (
	timesNone  timeNeeds = iota
	timesGives           // blocks files, transactions.csv with block_timestamp
	timesNeeds           // token_transfers.csv, old transactions.csv
)

func detect(name string, head []byte) (Format, timeNeeds) {
	full := len(head) >= sniffBytes
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	h := bytes.TrimLeft(head, " \t\r\n")
	ext := strings.ToLower(filepath.Ext(strings.TrimSuffix(strings.ToLower(name), ".gz")))
	if len(h) == 0 {
		return FormatUnknown, timesNone
	}
	switch h[0] {
	case '<':
		if bytes.Contains(h[:min(len(h), 4096)], []byte("<gexf")) {
			return FormatGEXF, timesNone
		}
		return FormatUnknown, timesNone
	case '{':
		if isTronGrid(h) {
			return FormatTronGrid, timesNone
		}
		return detectJSON(h, full)
	}
	if ext == ".gexf" || ext == ".json" || ext == ".jsonl" {
		return FormatUnknown, timesNone
	}
	line := h
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	cr := csvReader{lr: lineReader{br: bufio.NewReader(bytes.NewReader(line)), max: sniffBytes}}
	fields, _, err := cr.read()
	if err != nil {
		return FormatUnknown, timesNone
	}
	hd := header(fields)
	has := func(names ...string) bool {
		for _, n := range names {
			if column(hd, n) < 0 {
				return false
			}
		}
		return true
	}
	switch {
	case has("trace_type", "from_address", "to_address", "value"):
		if has("block_timestamp") {
			return FormatEthTraces, timesNone
		}
		return FormatEthTraces, timesNeeds
	case has("token_address", "from_address", "to_address"):
		if has("block_timestamp") {
			return FormatEthTokenTransfers, timesNone
		}
		return FormatEthTokenTransfers, timesNeeds
	case has("from_address", "to_address", "value"):
		if has("block_timestamp") {
			return FormatEthTransactions, timesGives
		}
		return FormatEthTransactions, timesNeeds
	case has("number", "timestamp") && (has("hash") || has("parent_hash")):
		return FormatEthBlocks, timesGives
	case has("tx_hash", "from", "to", "timestamp"):
		return FormatGroundTruth, timesNone
	}
	if isAddressList(h, full) {
		return FormatAddressList, timesNone
	}
	return FormatUnknown, timesNone
}

// detectJSON recognises bitcoin-etl JSON lines by the keys of the first
// object (by substring when the line is longer than the sniffed head).
func detectJSON(h []byte, full bool) (Format, timeNeeds) {
	line := h
	complete := !full
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line, complete = line[:i], true
	}
	if complete {
		var keys map[string]json.RawMessage
		if json.Unmarshal(line, &keys) != nil {
			return FormatUnknown, timesNone
		}
		_, in := keys["inputs"]
		_, out := keys["outputs"]
		_, txs := keys["transactions"]
		var typ string
		_ = json.Unmarshal(keys["type"], &typ)
		_, num := keys["number"]
		_, ts := keys["timestamp"]
		switch {
		case in || out || txs:
			return FormatBitcoinETL, timesNone
		case typ == "block" && num && ts:
			return FormatBitcoinETL, timesGives
		}
		return FormatUnknown, timesNone
	}
	for _, k := range []string{`"inputs"`, `"outputs"`, `"transactions"`} {
		if bytes.Contains(line, []byte(k)) {
			return FormatBitcoinETL, timesNone
		}
	}
	return FormatUnknown, timesNone
}

// isAddressList reports whether the head is one address a line: a single
// column, a header word allowed first, and at least half of the other lines
// addresses (the reader reports the rest as problems).
func isAddressList(h []byte, full bool) bool {
	if i := bytes.LastIndexByte(h, '\n'); full && i >= 0 {
		h = h[:i] // drop the cut-off last line
	}
	var l Loader
	good, bad := 0, 0
	for i, line := range bytes.Split(h, []byte("\n")) {
		if i >= 100 {
			break
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		if bytes.IndexByte(line, ',') >= 0 {
			return false
		}
		if _, err := l.anyAddress(line); err != nil {
			if good+bad == 0 && isHeaderWord(line) {
				continue
			}
			bad++
			continue
		}
		good++
	}
	return good > 0 && bad <= good
}

// notData reports names that are evidently documentation or binaries, which
// a directory load skips without complaint.
func notData(name string) bool {
	base := strings.ToLower(filepath.Base(name))
	for _, p := range []string{"readme", "license", "licence", "notice", "copying", "changelog", "upstream_readme", "sources"} {
		if strings.HasPrefix(base, p) {
			return true
		}
	}
	switch strings.ToLower(filepath.Ext(strings.TrimSuffix(base, ".gz"))) {
	case ".md", ".rst", ".txt", ".html", ".htm", ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".svg",
		".pkl", ".pickle", ".gephi", ".py", ".ipynb", ".sh", ".go", ".xlsx", ".zip", ".parquet":
		return true
	}
	return false
}
