package sigma

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
)

// maxCondDepth bounds parenthesis and not nesting in a condition, so hostile
// input cannot exhaust the stack.
const maxCondDepth = 64

// node is a compiled boolean expression over one event.
type node interface {
	eval(e *Evaluator) bool
}

type andNode []node

func (n andNode) eval(e *Evaluator) bool {
	for _, c := range n {
		if !c.eval(e) {
			return false
		}
	}
	return true
}

type orNode []node

func (n orNode) eval(e *Evaluator) bool {
	for _, c := range n {
		if c.eval(e) {
			return true
		}
	}
	return false
}

type notNode struct{ n node }

func (n notNode) eval(e *Evaluator) bool { return !n.n.eval(e) }

// countNode is "N of x*" for N > 1.
type countNode struct {
	min   int
	nodes []node
}

func (n countNode) eval(e *Evaluator) bool {
	c := 0
	for i, x := range n.nodes {
		if x.eval(e) {
			c++
			if c >= n.min {
				return true
			}
		}
		if c+len(n.nodes)-i-1 < n.min {
			return false
		}
	}
	return false
}

type constNode bool

func (n constNode) eval(*Evaluator) bool { return bool(n) }

// condError is a condition problem; unsupported marks valid Sigma we do not
// evaluate (aggregations).
type condError struct {
	msg         string
	unsupported bool
}

func (e *condError) Error() string { return e.msg }

type condToken struct {
	text string
	pos  int // byte offset in the condition
}

func tokenizeCondition(s string) ([]condToken, error) {
	var toks []condToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, condToken{s[i : i+1], i})
			i++
		case c == '|':
			return nil, &condError{fmt.Sprintf("aggregation expression at offset %d (%q): deprecated Sigma v1 syntax, use a correlation rule", i, strings.TrimSpace(s[i:])), true}
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()|", rune(s[j])) {
				j++
			}
			toks = append(toks, condToken{s[i:j], i})
			i = j
		}
	}
	return toks, nil
}

type condParser struct {
	toks  []condToken
	i     int
	sels  map[string]*selection
	names []string // sorted selection names
	src   string
	depth int
}

// parseCondition compiles a condition expression against the selections.
func parseCondition(src string, sels map[string]*selection) (node, error) {
	toks, err := tokenizeCondition(src)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, &condError{msg: "empty condition"}
	}
	names := make([]string, 0, len(sels))
	for n := range sels {
		names = append(names, n)
	}
	sort.Strings(names)
	p := &condParser{toks: toks, sels: sels, names: names, src: src}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, p.errf("unexpected %q", p.toks[p.i].text)
	}
	return n, nil
}

func (p *condParser) errf(format string, args ...any) error {
	pos := len(p.src)
	if p.i < len(p.toks) {
		pos = p.toks[p.i].pos
	}
	return &condError{msg: fmt.Sprintf("condition %q at offset %d: %s", p.src, pos, fmt.Sprintf(format, args...))}
}

func (p *condParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i].text
	}
	return ""
}

func (p *condParser) keyword(k string) bool { return strings.EqualFold(p.peek(), k) }

func (p *condParser) parseOr() (node, error) {
	first, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	nodes := []node{first}
	for p.keyword("or") {
		p.i++
		n, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 1 {
		return first, nil
	}
	return orNode(nodes), nil
}

func (p *condParser) parseAnd() (node, error) {
	first, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	nodes := []node{first}
	for p.keyword("and") {
		p.i++
		n, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		nodes = append(nodes, n)
	}
	if len(nodes) == 1 {
		return first, nil
	}
	return andNode(nodes), nil
}

func (p *condParser) parseNot() (node, error) {
	if p.keyword("not") {
		p.i++
		p.depth++
		if p.depth > maxCondDepth {
			return nil, p.errf("nested deeper than %d", maxCondDepth)
		}
		n, err := p.parseNot()
		p.depth--
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	return p.parsePrimary()
}

func (p *condParser) parsePrimary() (node, error) {
	t := p.peek()
	switch {
	case t == "":
		return nil, p.errf("unexpected end of condition")
	case t == "(":
		p.i++
		p.depth++
		if p.depth > maxCondDepth {
			return nil, p.errf("nested deeper than %d", maxCondDepth)
		}
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		p.depth--
		if p.peek() != ")" {
			return nil, p.errf("missing )")
		}
		p.i++
		return n, nil
	case t == ")":
		return nil, p.errf("unexpected )")
	}
	low := strings.ToLower(t)
	if low == "and" || low == "or" || low == "of" {
		return nil, p.errf("unexpected %q", t)
	}
	if low == "near" {
		return nil, &condError{msg: "near operator is not supported (deprecated Sigma v1 syntax)", unsupported: true}
	}
	// quantifier: all | any | N, followed by "of"
	if p.i+1 < len(p.toks) && strings.EqualFold(p.toks[p.i+1].text, "of") {
		min := 0 // 0 means all
		switch low {
		case "all":
		case "any":
			min = 1
		default:
			n, err := strconv.Atoi(t)
			if err != nil || n < 1 {
				return nil, p.errf("expected 'all', 'any' or a positive number before 'of', got %q", t)
			}
			min = n
		}
		p.i += 2
		pat := p.peek()
		if pat == "" || pat == "(" || pat == ")" {
			return nil, p.errf("expected a selection pattern or 'them' after 'of'")
		}
		p.i++
		var nodes []node
		for _, name := range p.names {
			if strings.EqualFold(pat, "them") {
				if strings.HasPrefix(name, "_") {
					continue
				}
			} else if ok, err := path.Match(pat, name); err != nil {
				p.i--
				return nil, p.errf("bad pattern %q: %v", pat, err)
			} else if !ok {
				continue
			}
			nodes = append(nodes, p.sels[name])
		}
		if len(nodes) == 0 {
			p.i--
			return nil, p.errf("%q matches no selection", pat)
		}
		switch {
		case min == 0:
			if len(nodes) == 1 {
				return nodes[0], nil
			}
			return andNode(nodes), nil
		case min == 1:
			if len(nodes) == 1 {
				return nodes[0], nil
			}
			return orNode(nodes), nil
		case min > len(nodes):
			return constNode(false), nil
		default:
			return countNode{min, nodes}, nil
		}
	}
	s, ok := p.sels[t]
	if !ok {
		return nil, p.errf("unknown selection %q", t)
	}
	p.i++
	return s, nil
}
