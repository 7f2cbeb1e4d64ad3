package sigma

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	"go.yaml.in/yaml/v3"
)

// selection is one named search identifier of a rule's detection block.
type selection struct {
	name string
	n    node
}

func (s *selection) eval(e *Evaluator) bool { return s.n.eval(e) }

// maxValues bounds the values one field may expand to (windash variants are
// matched by normalisation, so only expand can multiply values).
const maxValues = 10000

func (r *Rule) compileDetection(det *yaml.Node, opts Options) *Error {
	if det.Kind != yaml.MappingNode {
		return errAt(det, "detection: expected a mapping")
	}
	r.selections = map[string]*selection{}
	var conds []string
	var condNode *yaml.Node
	for i := 0; i+1 < len(det.Content); i += 2 {
		k, v := det.Content[i], deref(det.Content[i+1])
		switch k.Value {
		case "condition":
			condNode = v
			switch v.Kind {
			case yaml.ScalarNode:
				conds = append(conds, v.Value)
			case yaml.SequenceNode:
				for _, c := range v.Content {
					c = deref(c)
					if c.Kind != yaml.ScalarNode {
						return errAt(c, "detection.condition: expected a string")
					}
					conds = append(conds, c.Value)
				}
			default:
				return errAt(v, "detection.condition: expected a string or a list of strings")
			}
			continue
		case "timeframe":
			// Only meaningful with v1 aggregations, which the condition
			// parser reports as unsupported.
			continue
		}
		sel, err := compileSelection(k.Value, v, r.Logsource, opts)
		if err != nil {
			return err
		}
		r.selections[k.Value] = sel
	}
	if len(conds) == 0 {
		return errAt(det, "detection: missing condition")
	}
	nodes := make([]node, 0, len(conds))
	for _, c := range conds {
		n, err := parseCondition(c, r.selections)
		if err != nil {
			e := errAt(condNode, "detection.condition: %v", err)
			if ce, ok := err.(*condError); ok {
				e.Unsupported = ce.unsupported
			}
			return e
		}
		nodes = append(nodes, n)
	}
	for _, s := range r.selections {
		optimize(s)
	}
	for i := range nodes {
		nodes[i] = optimize(nodes[i])
	}
	r.Condition = strings.Join(conds, " or ")
	if len(nodes) == 1 {
		r.cond = nodes[0]
	} else {
		r.cond = orNode(nodes)
	}
	return nil
}

func compileSelection(name string, v *yaml.Node, ls Logsource, opts Options) (*selection, *Error) {
	where := "detection." + name
	switch v.Kind {
	case yaml.MappingNode:
		n, err := compileFieldMap(where, v, ls, opts)
		if err != nil {
			return nil, err
		}
		return &selection{name, n}, nil
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			return nil, errAt(v, "%s: empty list", where)
		}
		var alts []node
		var kws []*yaml.Node
		for _, item := range v.Content {
			item = deref(item)
			switch item.Kind {
			case yaml.MappingNode:
				n, err := compileFieldMap(where, item, ls, opts)
				if err != nil {
					return nil, err
				}
				alts = append(alts, n)
			case yaml.ScalarNode:
				kws = append(kws, item)
			default:
				return nil, errAt(item, "%s: list items must be mappings or strings", where)
			}
		}
		if len(kws) > 0 {
			n, err := compileField(where, "", kws, false, ls, opts)
			if err != nil {
				return nil, err
			}
			alts = append(alts, n)
		}
		if len(alts) == 1 {
			return &selection{name, alts[0]}, nil
		}
		return &selection{name, orNode(alts)}, nil
	case yaml.ScalarNode:
		n, err := compileField(where, "", []*yaml.Node{v}, false, ls, opts)
		if err != nil {
			return nil, err
		}
		return &selection{name, n}, nil
	}
	return nil, errAt(v, "%s: unexpected YAML node", where)
}

func compileFieldMap(where string, m *yaml.Node, ls Logsource, opts Options) (node, *Error) {
	if len(m.Content) == 0 {
		return nil, errAt(m, "%s: empty mapping", where)
	}
	var nodes andNode
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], deref(m.Content[i+1])
		var vals []*yaml.Node
		isList := false
		switch v.Kind {
		case yaml.ScalarNode:
			vals = []*yaml.Node{v}
		case yaml.SequenceNode:
			isList = true
			for _, c := range v.Content {
				c = deref(c)
				if c.Kind != yaml.ScalarNode {
					return nil, errAt(c, "%s.%s: values must be scalars", where, k.Value)
				}
				vals = append(vals, c)
			}
			if len(vals) == 0 {
				return nil, errAt(v, "%s.%s: empty value list", where, k.Value)
			}
		default:
			return nil, errAt(v, "%s.%s: value must be a scalar or a list of scalars", where, k.Value)
		}
		n, err := compileField(where, k.Value, vals, isList, ls, opts)
		if err != nil {
			if err.Line == 0 {
				err.Line = k.Line
			}
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 1 {
		return nodes[0], nil
	}
	return nodes, nil
}

// mods is the parsed modifier chain of one field.
type mods struct {
	pos                    byte // 0, 'c' contains, 's' startswith, 'e' endswith
	all, cased, windash    bool
	re, reI, reM, reS      bool
	cidr, exists, fieldref bool
	expand, neq            bool
	cmp                    string // gt, gte, lt, lte
	timePart               string // minute ... year
	encodings              []string
}

func parseMods(list []string) (mods, *Error) {
	var m mods
	for i, s := range list {
		switch strings.ToLower(s) {
		case "contains":
			m.pos = 'c'
		case "startswith":
			m.pos = 's'
		case "endswith":
			m.pos = 'e'
		case "all":
			m.all = true
		case "cased":
			m.cased = true
		case "windash":
			m.windash = true
		case "re":
			m.re = true
		case "i", "m", "s":
			if !isReFlag(list[:i]) {
				return m, &Error{Reason: fmt.Sprintf("modifier %q must follow re", s)}
			}
			switch s {
			case "i":
				m.reI = true
			case "m":
				m.reM = true
			default:
				m.reS = true
			}
		case "cidr":
			m.cidr = true
		case "exists":
			m.exists = true
		case "fieldref":
			m.fieldref = true
		case "expand":
			m.expand = true
		case "neq":
			m.neq = true
		case "gt", "gte", "lt", "lte":
			m.cmp = strings.ToLower(s)
		case "minute", "hour", "day", "week", "month", "year":
			m.timePart = strings.ToLower(s)
		case "base64", "base64offset", "utf16le", "utf16be", "utf16", "wide":
			m.encodings = append(m.encodings, strings.ToLower(s))
		default:
			return m, &Error{Unsupported: true, Reason: fmt.Sprintf("unknown modifier %q", s)}
		}
	}
	return m, nil
}

// isReFlag reports whether the modifiers before a flag end in re and flags.
func isReFlag(prev []string) bool {
	for i := len(prev) - 1; i >= 0; i-- {
		switch prev[i] {
		case "re":
			return true
		case "i", "m", "s":
		default:
			return false
		}
	}
	return false
}

// compileField compiles "field|mods: values". field "" (or "|mods") means a
// keyword search over all string values of the event.
func compileField(where, key string, vals []*yaml.Node, isList bool, ls Logsource, opts Options) (node, *Error) {
	parts := strings.Split(key, "|")
	name := parts[0]
	m, err := parseMods(parts[1:])
	if err != nil {
		err.Reason = fmt.Sprintf("%s.%s: %s", where, key, err.Reason)
		return nil, err
	}
	if name == "" && m.pos == 0 {
		// Keywords are a full-text search: a substring of any value.
		m.pos = 'c'
	}
	loc := where + "." + key
	if key == "" {
		loc = where
	}
	if m.all && !isList && len(vals) == 1 && name != "" {
		// The specification forbids all on a single value; it is harmless,
		// so accept it rather than reject the rule.
		m.all = false
	}
	var ms []matcher
	for _, v := range vals {
		vm, err := compileValue(m, v, ls, opts)
		if err != nil {
			err.Reason = loc + ": " + err.Reason
			if err.Line == 0 {
				err.Line = v.Line
			}
			return nil, err
		}
		ms = append(ms, vm...)
	}
	if len(ms) > maxValues {
		return nil, errAt(vals[0], "%s: %d values, over the limit of %d", loc, len(ms), maxValues)
	}
	if name == "" {
		if m.neq || m.exists || m.fieldref {
			return nil, errAt(vals[0], "%s: keyword search cannot use neq, exists or fieldref", loc)
		}
		return &keywordMatch{ms: ms, all: m.all}, nil
	}
	fm := &fieldMatch{f: internField(opts.Mapping.paths(ls, name)), ms: ms, all: m.all, neg: m.neq}
	fm.prepare()
	return fm, nil
}

// compileValue compiles one rule value into matchers (expand may produce
// several, ORed, or ANDed under all).
func compileValue(m mods, v *yaml.Node, ls Logsource, opts Options) ([]matcher, *Error) {
	isNull := v.Tag == "!!null"
	if m.exists {
		b, err := strconv.ParseBool(v.Value)
		if err != nil {
			return nil, &Error{Reason: fmt.Sprintf("exists needs true or false, got %q", v.Value)}
		}
		return []matcher{existsMatcher(b)}, nil
	}
	if isNull {
		if m.pos != 0 || m.re || m.cidr || m.cmp != "" || len(m.encodings) > 0 || m.fieldref {
			return nil, &Error{Reason: "null value with a modifier"}
		}
		return []matcher{nullMatcher{}}, nil
	}
	texts := []string{v.Value}
	if m.expand {
		var err *Error
		texts, err = expandPlaceholders(v.Value, opts.Placeholders)
		if err != nil {
			return nil, err
		}
	}
	var out []matcher
	for _, text := range texts {
		mt, err := compileText(m, v.Tag, text, ls, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, mt)
	}
	return out, nil
}

func compileText(m mods, tag, text string, ls Logsource, opts Options) (matcher, *Error) {
	switch {
	case m.re:
		flags := ""
		if m.reI {
			flags += "i"
		}
		if m.reM {
			flags += "m"
		}
		if m.reS {
			flags += "s"
		}
		expr := text
		if flags != "" {
			expr = "(?" + flags + ")" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return nil, &Error{Unsupported: true, Reason: fmt.Sprintf("regular expression %q not supported by Go RE2: %v", text, err)}
		}
		return reMatcher{re}, nil
	case m.cidr:
		p, err := netip.ParsePrefix(strings.TrimSpace(text))
		if err != nil {
			return nil, &Error{Reason: fmt.Sprintf("cidr: %v", err)}
		}
		return cidrMatcher{p.Masked()}, nil
	case m.timePart != "":
		n, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, &Error{Reason: fmt.Sprintf("%s needs a number, got %q", m.timePart, text)}
		}
		op := m.cmp
		if op == "" {
			op = "eq"
		}
		return timeMatcher{part: m.timePart, cmp: cmpMatcher{op: op, n: n}}, nil
	case m.cmp != "":
		n, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, &Error{Reason: fmt.Sprintf("%s needs a number, got %q", m.cmp, text)}
		}
		return cmpMatcher{op: m.cmp, n: n}, nil
	case m.fieldref:
		return fieldrefMatcher{other: internField(opts.Mapping.paths(ls, text)), pos: m.pos, cased: m.cased}, nil
	case len(m.encodings) > 0:
		plain, wild := unescape(text)
		if wild {
			return nil, &Error{Reason: fmt.Sprintf("wildcard in value %q cannot be encoded", text)}
		}
		vals := []string{plain}
		for _, enc := range m.encodings {
			vals = encode(enc, vals)
		}
		var alts anyMatcher
		for _, s := range vals {
			alts = append(alts, newStrMatcher([]tok{{lit: s}}, m.pos, true, false))
		}
		if len(alts) == 1 {
			return alts[0], nil
		}
		return alts, nil
	}
	if m.pos == 0 && !m.windash && !m.cased {
		switch tag {
		case "!!int", "!!float":
			if n, err := strconv.ParseFloat(text, 64); err == nil {
				return numMatcher{n: n, text: strings.ToLower(text)}, nil
			}
		case "!!bool":
			if b, err := strconv.ParseBool(text); err == nil {
				return boolMatcher(b), nil
			}
		}
	}
	return newStrMatcher(parseSigmaString(text), m.pos, m.cased, m.windash), nil
}

func expandPlaceholders(s string, ph map[string][]string) ([]string, *Error) {
	out := []string{""}
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			break
		}
		name := s[i+1 : i+1+j]
		vals, ok := ph[name]
		if !ok {
			return nil, &Error{Unsupported: true, Reason: fmt.Sprintf("expand: no value configured for placeholder %%%s%%", name)}
		}
		var next []string
		for _, o := range out {
			for _, v := range vals {
				next = append(next, o+s[:i]+v)
			}
		}
		if len(next) > maxValues {
			return nil, &Error{Reason: "expand: too many values"}
		}
		out = next
		s = s[i+2+j:]
	}
	for k := range out {
		out[k] += s
	}
	return out, nil
}

func encode(enc string, vals []string) []string {
	var out []string
	for _, v := range vals {
		switch enc {
		case "base64":
			out = append(out, base64.StdEncoding.EncodeToString([]byte(v)))
		case "base64offset":
			// Three alignments; the characters that depend on the
			// surrounding bytes are trimmed (as pySigma does).
			start := [3]int{0, 2, 3}
			end := [3]int{0, 3, 2}
			for i := 0; i < 3; i++ {
				e := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", i) + v))
				cut := end[(len(v)+i)%3]
				if start[i] > len(e)-cut {
					continue
				}
				out = append(out, e[start[i]:len(e)-cut])
			}
		case "utf16le", "wide":
			out = append(out, utf16Bytes(v, false, false))
		case "utf16be":
			out = append(out, utf16Bytes(v, true, false))
		case "utf16":
			out = append(out, utf16Bytes(v, false, true))
		}
	}
	return out
}

func utf16Bytes(s string, be, bom bool) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, c := range u {
		if be {
			b = append(b, byte(c>>8), byte(c))
		} else {
			b = append(b, byte(c), byte(c>>8))
		}
	}
	return string(b)
}

// tok is one element of a Sigma string: a literal run, or a wildcard.
type tok struct {
	lit  string
	star bool // *
	q    bool // ?
}

// parseSigmaString splits a Sigma value into literals and wildcards. A
// backslash escapes *, ? and itself; before any other character it is a
// literal backslash (so Windows paths need no doubling), as in pySigma.
func parseSigmaString(s string) []tok {
	var toks []tok
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			toks = append(toks, tok{lit: b.String()})
			b.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i++
			} else {
				b.WriteByte('\\')
			}
		case '*':
			flush()
			if len(toks) == 0 || !toks[len(toks)-1].star {
				toks = append(toks, tok{star: true})
			}
		case '?':
			flush()
			toks = append(toks, tok{q: true})
		default:
			b.WriteByte(c)
		}
	}
	flush()
	return toks
}

// unescape resolves escapes and reports whether unescaped wildcards remain.
func unescape(s string) (string, bool) {
	var b strings.Builder
	wild := false
	for _, t := range parseSigmaString(s) {
		switch {
		case t.star:
			b.WriteByte('*')
			wild = true
		case t.q:
			b.WriteByte('?')
			wild = true
		default:
			b.WriteString(t.lit)
		}
	}
	return b.String(), wild
}
