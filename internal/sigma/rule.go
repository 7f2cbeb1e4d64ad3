// Package sigma parses Sigma detection rules (SigmaHQ specification v2.1.0)
// and compiles them into matchers evaluated directly over log events, without
// translating them to a query language first.
//
// Matching semantics, where the specification leaves the choice to backends:
//   - String comparison is case-insensitive unless the cased modifier is
//     given; values produced by base64, base64offset and the utf16 encodings
//     are compared case-sensitively, because case carries meaning there.
//   - A field holding a JSON array matches when any element matches.
//   - Numbers in a rule compare numerically with numbers or numeric strings in
//     the event; strings compare with the decimal text of numbers.
//   - Field names go through a Mapping (see mapping.go) chosen at compile
//     time; MapEvent looks keys up exactly first and then case-insensitively.
//   - neq matches when the field exists and equals none of the values.
package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxRuleSize bounds one rule file; SigmaHQ's largest is under 100 KB.
const MaxRuleSize = 2 << 20

// Logsource says which events a rule is written for.
type Logsource struct {
	Product  string
	Category string
	Service  string
}

// Rule is one parsed and compiled Sigma detection rule.
type Rule struct {
	Title       string
	ID          string
	Status      string
	Description string
	Level       string
	Author      string
	// Date and Modified are the rule's dates as written (SigmaHQ writes
	// YYYY-MM-DD, older rules YYYY/MM/DD).
	Date, Modified string
	Tags           []string
	References     []string
	FalsePositives []string
	Fields         []string
	Logsource      Logsource
	// Condition is the condition text as written (several joined by " or ").
	Condition string
	// File is the path the rule was loaded from, if any.
	File string
	// Text is the rule's YAML source as written (its document, for a file
	// holding several), for reports that quote the rule: a STIX indicator
	// with pattern_type "sigma" carries it as its pattern.
	Text string

	cond       node
	selections map[string]*selection
}

// Options control compilation.
type Options struct {
	// Mapping translates Sigma field names into event paths; nil means the
	// field names are used as they are.
	Mapping *Mapping
	// Placeholders supply values for %name% in expand modifier values. A
	// placeholder missing here makes the rule unsupported.
	Placeholders map[string][]string
}

// Error is a reason a rule document cannot be used.
type Error struct {
	File string
	Line int // 1-based line in File, 0 if unknown
	// Unsupported is true for valid Sigma this package does not evaluate
	// (correlation rules, global filters, unknown placeholders...), false for
	// malformed rules.
	Unsupported bool
	Reason      string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Unsupported {
		b.WriteString("unsupported: ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// LoadError reports one file (or one document in it) that did not load.
type LoadError = Error

func errAt(n *yaml.Node, format string, args ...any) *Error {
	e := &Error{Reason: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line = n.Line
	}
	return e
}

func unsupportedAt(n *yaml.Node, format string, args ...any) *Error {
	e := errAt(n, format, args...)
	e.Unsupported = true
	return e
}

// ParseRule parses a single-document rule with default options.
func ParseRule(data []byte) (*Rule, error) {
	rules, errs := ParseRules(data, "", Options{})
	if len(errs) > 0 {
		return nil, errs[0]
	}
	if len(rules) != 1 {
		return nil, &Error{Reason: fmt.Sprintf("expected one rule, found %d", len(rules))}
	}
	return rules[0], nil
}

// ParseRules parses every YAML document in data. Each document is a rule;
// correlation rules, meta filters and legacy `action:` collections are
// reported as unsupported. file only labels errors.
func ParseRules(data []byte, file string, opts Options) ([]*Rule, []*Error) {
	if len(data) > MaxRuleSize {
		return nil, []*Error{{File: file, Reason: fmt.Sprintf("file is %d bytes, over the %d byte limit", len(data), MaxRuleSize)}}
	}
	var rules []*Rule
	var errs []*Error
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, &Error{File: file, Reason: "YAML: " + err.Error()})
			break // the decoder cannot resynchronise after a syntax error
		}
		if n.Kind == yaml.DocumentNode && (len(n.Content) == 0 || n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			continue // empty document, e.g. after a trailing ---
		}
		docs = append(docs, &n)
	}
	texts := splitDocs(data)
	for i, n := range docs {
		r, e := parseDoc(n, opts)
		if e != nil {
			e.File = file
			errs = append(errs, e)
			continue
		}
		if r == nil {
			continue
		}
		r.File = file
		if len(texts) == len(docs) {
			r.Text = texts[i]
		} else if b, err := yaml.Marshal(n); err == nil {
			// The documents are not where splitDocs saw them; the
			// re-rendered YAML says the same.
			r.Text = string(b)
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 && len(errs) == 0 {
		errs = append(errs, &Error{File: file, Reason: "no rule in file"})
	}
	return rules, errs
}

// splitDocs cuts a YAML stream into its documents at "---" and "..."
// marker lines, dropping those with nothing but blank lines, comments and
// directives: the texts of the documents the decoder yields with content,
// in order.
func splitDocs(data []byte) []string {
	var out []string
	start := 0
	content := false
	flush := func(end int) {
		if content {
			out = append(out, strings.TrimRight(string(data[start:end]), "\n")+"\n")
		}
		content = false
	}
	for i := 0; i < len(data); {
		j := bytes.IndexByte(data[i:], '\n')
		next := len(data)
		if j >= 0 {
			next = i + j + 1
		}
		line := data[i:next]
		t := bytes.TrimRight(line, " \t\r\n")
		switch {
		case bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) || bytes.HasPrefix(t, []byte("---\t")):
			flush(i)
			start = next
			if rest := bytes.TrimSpace(t[3:]); len(rest) > 0 && rest[0] != '#' {
				// "--- value": the document starts on the marker line.
				start, content = i+4, true
			}
		case bytes.Equal(t, []byte("...")):
			flush(i)
			start = next
		default:
			if c := bytes.TrimLeft(t, " \t"); len(c) > 0 && c[0] != '#' && !(c[0] == '%' && !content) {
				content = true
			}
		}
		i = next
	}
	flush(len(data))
	return out
}

// mapGet returns the value node of key in mapping node m.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalarString(n *yaml.Node, field string) (string, *Error) {
	if n == nil {
		return "", nil
	}
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		return "", errAt(n, "%s: expected a string", field)
	}
	if n.Tag == "!!null" {
		return "", nil
	}
	return n.Value, nil
}

func stringList(n *yaml.Node, field string) ([]string, *Error) {
	if n == nil {
		return nil, nil
	}
	n = deref(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			c = deref(c)
			if c.Kind != yaml.ScalarNode {
				return nil, errAt(c, "%s: expected a list of strings", field)
			}
			out = append(out, c.Value)
		}
		return out, nil
	}
	return nil, errAt(n, "%s: expected a string or a list of strings", field)
}

// deref follows YAML aliases (bounded: yaml.v3 rejects alias cycles).
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func parseDoc(doc *yaml.Node, opts Options) (*Rule, *Error) {
	root := doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return nil, nil // empty document, e.g. a trailing ---
		}
		root = root.Content[0]
	}
	root = deref(root)
	if root.Kind != yaml.MappingNode {
		return nil, errAt(root, "rule document is not a mapping")
	}
	if a := mapGet(root, "action"); a != nil {
		return nil, unsupportedAt(a, "legacy rule collection document (action: %s)", a.Value)
	}
	if c := mapGet(root, "correlation"); c != nil {
		return nil, unsupportedAt(c, "correlation rule (correlation: block); correlations are not evaluated")
	}
	if f := mapGet(root, "filter"); f != nil && mapGet(root, "detection") == nil {
		return nil, unsupportedAt(f, "meta filter document (filter: block); global filters are not evaluated")
	}
	r := &Rule{}
	var e *Error
	str := func(key string, dst *string) {
		if e == nil {
			*dst, e = scalarString(mapGet(root, key), key)
		}
	}
	list := func(key string, dst *[]string) {
		if e == nil {
			*dst, e = stringList(mapGet(root, key), key)
		}
	}
	str("title", &r.Title)
	str("id", &r.ID)
	str("status", &r.Status)
	str("description", &r.Description)
	str("level", &r.Level)
	str("author", &r.Author)
	// Dates are informational: a malformed one does not reject the rule.
	r.Date, _ = scalarString(mapGet(root, "date"), "date")
	r.Modified, _ = scalarString(mapGet(root, "modified"), "modified")
	list("tags", &r.Tags)
	list("references", &r.References)
	list("falsepositives", &r.FalsePositives)
	list("fields", &r.Fields)
	if e != nil {
		return nil, e
	}
	if r.Title == "" {
		return nil, errAt(root, "missing title")
	}
	if ls := deref(mapGet(root, "logsource")); ls != nil {
		if ls.Kind != yaml.MappingNode {
			return nil, errAt(ls, "logsource: expected a mapping")
		}
		for key, dst := range map[string]*string{"product": &r.Logsource.Product, "category": &r.Logsource.Category, "service": &r.Logsource.Service} {
			if *dst, e = scalarString(mapGet(ls, key), "logsource."+key); e != nil {
				return nil, e
			}
		}
	} else {
		return nil, errAt(root, "missing logsource")
	}
	det := deref(mapGet(root, "detection"))
	if det == nil {
		return nil, errAt(root, "missing detection")
	}
	if err := r.compileDetection(det, opts); err != nil {
		return nil, err
	}
	return r, nil
}

// LoadDir loads every .yml/.yaml file under dir (recursively) with default
// options.
func LoadDir(dir string) ([]*Rule, []LoadError) {
	return LoadDirWith(dir, Options{})
}

// LoadDirWith loads every .yml/.yaml file under dir with opts. Files are
// visited in lexical order, so results are deterministic.
func LoadDirWith(dir string, opts Options) ([]*Rule, []LoadError) {
	var rules []*Rule
	var errs []LoadError
	walkErr := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, LoadError{File: path, Reason: err.Error()})
			return nil
		}
		if d.IsDir() {
			return nil
		}
		ext := strings.ToLower(filepath.Ext(path))
		if ext != ".yml" && ext != ".yaml" {
			return nil
		}
		rs, es := LoadFile(path, opts)
		rules = append(rules, rs...)
		for _, e := range es {
			errs = append(errs, *e)
		}
		return nil
	})
	if walkErr != nil {
		errs = append(errs, LoadError{File: dir, Reason: walkErr.Error()})
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].File < errs[j].File })
	return rules, errs
}

// LoadFile reads and parses one rule file.
func LoadFile(path string, opts Options) ([]*Rule, []*Error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, []*Error{{File: path, Reason: err.Error()}}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxRuleSize+1))
	if err != nil {
		return nil, []*Error{{File: path, Reason: err.Error()}}
	}
	return ParseRules(data, path, opts)
}

// Applies reports whether the rule is written for events of the given
// logsource. Every part the rule names must equal the given one (ignoring
// case); parts the rule leaves empty match anything. An empty argument means
// "not this kind", so a rule needing category process_creation does not see
// events whose category is unknown.
func (r *Rule) Applies(product, category, service string) bool {
	ok := func(want, got string) bool { return want == "" || strings.EqualFold(want, got) }
	cat := ok(r.Logsource.Category, category)
	if !cat && strings.EqualFold(r.Logsource.Category, "registry_event") {
		// registry_event covers the add, delete, set and rename events.
		cat = strings.HasPrefix(strings.ToLower(category), "registry_")
	}
	return ok(r.Logsource.Product, product) && cat && ok(r.Logsource.Service, service)
}
