package pattern

import (
	"fmt"
	"math"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

// keywords are reserved and upper-case (STIX 2.1); booleans are lower-case.
var keywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "FOLLOWEDBY": true, "LIKE": true,
	"MATCHES": true, "ISSUPERSET": true, "ISSUBSET": true, "EXISTS": true,
	"LAST": true, "IN": true, "START": true, "STOP": true, "SECONDS": true,
	"WITHIN": true, "REPEATS": true, "TIMES": true,
}

type parser struct {
	lx    lexer
	tok   token
	depth int
}

// Parse parses a STIX 2.1 pattern. Errors are *Error values naming the byte
// position.
func Parse(s string) (*Pattern, error) {
	if len(s) > MaxLen {
		return nil, &Error{Pos: MaxLen, Msg: fmt.Sprintf("pattern longer than %d bytes", MaxLen)}
	}
	p := &parser{lx: lexer{src: s}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, &Error{Pos: 0, Msg: "empty pattern"}
	}
	root, err := p.obsExprs()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.unexpected("after observation expression")
	}
	return &Pattern{Root: root}, nil
}

// MustParse is Parse that panics on error, for tests and constants.
func MustParse(s string) *Pattern {
	p, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return p
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errf(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// unexpected reports the current token, hinting when a keyword was written
// in lower case.
func (p *parser) unexpected(context string) *Error {
	msg := fmt.Sprintf("unexpected %s %s", p.tok.describe(p.lx.src), context)
	if p.tok.kind == tWord {
		if up := strings.ToUpper(p.tok.text); up != p.tok.text && keywords[up] {
			msg += " (keywords are upper-case: " + up + ")"
		}
	}
	return &Error{Pos: p.tok.pos, Msg: msg}
}

func (p *parser) expected(what, context string) *Error {
	msg := fmt.Sprintf("expected %s %s, got %s", what, context, p.tok.describe(p.lx.src))
	if p.tok.kind == tWord {
		if up := strings.ToUpper(p.tok.text); up != p.tok.text && keywords[up] {
			msg += " (keywords are upper-case: " + up + ")"
		}
	}
	return &Error{Pos: p.tok.pos, Msg: msg}
}

func (p *parser) isWord(w string) bool { return p.tok.kind == tWord && p.tok.text == w }

func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errf(p.tok.pos, "nesting deeper than %d levels", MaxDepth)
	}
	return nil
}

// obsExprs: obsOr (FOLLOWEDBY obsOr)*
func (p *parser) obsExprs() (ObsExpr, error) {
	return p.obsChain(ObsFollowedBy)
}

// obsChain parses a left-associative chain of op, whose operands are the
// next tighter level, and flattens nested chains of the same operator.
func (p *parser) obsChain(op ObsOp) (ObsExpr, error) {
	operand := func() (ObsExpr, error) {
		if op == ObsAnd {
			return p.obsUnary()
		}
		return p.obsChain(op - 1)
	}
	first, err := operand()
	if err != nil {
		return nil, err
	}
	if !p.isWord(op.String()) {
		return first, nil
	}
	b := &ObsBinary{Op: op}
	b.Operands = appendObs(b.Operands, op, first)
	for p.isWord(op.String()) {
		if err := p.advance(); err != nil {
			return nil, err
		}
		next, err := operand()
		if err != nil {
			return nil, err
		}
		b.Operands = appendObs(b.Operands, op, next)
	}
	return b, nil
}

func appendObs(list []ObsExpr, op ObsOp, e ObsExpr) []ObsExpr {
	if b, ok := e.(*ObsBinary); ok && b.Op == op {
		return append(list, b.Operands...)
	}
	return append(list, e)
}

// obsUnary: '[' comparison ']' | '(' obsExprs ')', then qualifiers.
func (p *parser) obsUnary() (ObsExpr, error) {
	var e ObsExpr
	switch p.tok.kind {
	case tLBrack:
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		c, err := p.compOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRBrack {
			return nil, p.expected("']'", "after comparison")
		}
		p.depth--
		e = &Bracket{Expr: c}
	case tLParen:
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		inner, err := p.obsExprs()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, p.expected("')'", "after observation expression")
		}
		p.depth--
		e = inner
	default:
		return nil, p.expected("'[' or '('", "to start an observation expression")
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	var quals []Qualifier
	for {
		var q Qualifier
		var err error
		switch {
		case p.isWord("WITHIN"):
			q, err = p.within()
		case p.isWord("REPEATS"):
			q, err = p.repeats()
		case p.isWord("START"):
			q, err = p.startStop()
		default:
			if len(quals) == 0 {
				return e, nil
			}
			// (x QUAL) QUAL is the same as x QUAL QUAL.
			if inner, ok := e.(*Qualified); ok {
				return &Qualified{Expr: inner.Expr, Qualifiers: append(inner.Qualifiers, quals...)}, nil
			}
			return &Qualified{Expr: e, Qualifiers: quals}, nil
		}
		if err != nil {
			return nil, err
		}
		quals = append(quals, q)
	}
}

func (p *parser) within() (Qualifier, error) {
	if err := p.advance(); err != nil {
		return Qualifier{}, err
	}
	var secs float64
	switch p.tok.kind {
	case tInt:
		secs = float64(p.tok.lit.Int)
	case tFloat:
		secs = p.tok.lit.Float
	default:
		return Qualifier{}, p.expected("a number of seconds", "after WITHIN")
	}
	if !(secs > 0) || math.IsInf(secs, 0) {
		return Qualifier{}, p.errf(p.tok.pos, "WITHIN needs a positive number of seconds, got %s", p.tok.describe(p.lx.src))
	}
	if err := p.advance(); err != nil {
		return Qualifier{}, err
	}
	if !p.isWord("SECONDS") {
		return Qualifier{}, p.expected("SECONDS", "after WITHIN n")
	}
	return Qualifier{Kind: QualWithin, Seconds: secs}, p.advance()
}

func (p *parser) repeats() (Qualifier, error) {
	if err := p.advance(); err != nil {
		return Qualifier{}, err
	}
	if p.tok.kind != tInt {
		return Qualifier{}, p.expected("an integer", "after REPEATS")
	}
	if p.tok.lit.Int <= 0 {
		return Qualifier{}, p.errf(p.tok.pos, "REPEATS needs a positive count, got %s", p.tok.describe(p.lx.src))
	}
	n := p.tok.lit.Int
	if err := p.advance(); err != nil {
		return Qualifier{}, err
	}
	if !p.isWord("TIMES") {
		return Qualifier{}, p.expected("TIMES", "after REPEATS n")
	}
	return Qualifier{Kind: QualRepeats, Times: n}, p.advance()
}

func (p *parser) startStop() (Qualifier, error) {
	q := Qualifier{Kind: QualStartStop}
	for i, kw := range []string{"START", "STOP"} {
		if !p.isWord(kw) {
			return q, p.expected(kw, "after START timestamp")
		}
		if err := p.advance(); err != nil {
			return q, err
		}
		pos := p.tok.pos
		var t Literal
		switch p.tok.kind {
		case tTime:
			t = p.tok.lit
		case tString:
			// STIX 2.0 wrote START '…' without the t prefix.
			tm, err := stix.ParseTimestamp(p.tok.text)
			if err != nil {
				return q, p.errf(pos, "invalid %s timestamp: %v", kw, err)
			}
			t = Literal{Kind: LitTime, Time: tm}
		default:
			return q, p.expected("a timestamp t'…'", "after "+kw)
		}
		if i == 0 {
			q.Start = t.Time
		} else {
			q.Stop = t.Time
			if !q.Stop.After(q.Start) {
				return q, p.errf(pos, "STOP must be later than START")
			}
		}
		if err := p.advance(); err != nil {
			return q, err
		}
	}
	return q, nil
}

// compOr: compAnd (OR compAnd)*
func (p *parser) compOr() (CompExpr, error) { return p.compChain(Or) }

func (p *parser) compChain(op BoolOp) (CompExpr, error) {
	word := "AND"
	operand := p.compPrimary
	if op == Or {
		word = "OR"
		operand = func() (CompExpr, error) { return p.compChain(And) }
	}
	first, err := operand()
	if err != nil {
		return nil, err
	}
	if !p.isWord(word) {
		return first, nil
	}
	b := &CompBinary{Op: op}
	b.Operands = appendComp(b.Operands, op, first)
	for p.isWord(word) {
		if err := p.advance(); err != nil {
			return nil, err
		}
		next, err := operand()
		if err != nil {
			return nil, err
		}
		b.Operands = appendComp(b.Operands, op, next)
	}
	return b, nil
}

func appendComp(list []CompExpr, op BoolOp, e CompExpr) []CompExpr {
	if b, ok := e.(*CompBinary); ok && b.Op == op {
		return append(list, b.Operands...)
	}
	return append(list, e)
}

// compPrimary: '(' compOr ')' | EXISTS path | path [NOT] op literal
func (p *parser) compPrimary() (CompExpr, error) {
	switch {
	case p.tok.kind == tLParen:
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		c, err := p.compOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, p.expected("')'", "after comparison")
		}
		p.depth--
		return c, p.advance()
	case p.isWord("EXISTS"):
		if err := p.advance(); err != nil {
			return nil, err
		}
		path, err := p.path()
		if err != nil {
			return nil, err
		}
		return &Comparison{Path: path, Op: OpExists}, nil
	case p.isWord("NOT"):
		return nil, p.errf(p.tok.pos, "NOT goes between the object path and the operator (path NOT = value); NOT EXISTS is not in the STIX 2.1 grammar")
	}
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	c := &Comparison{Path: path}
	if p.isWord("NOT") {
		c.Not = true
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	opPos := p.tok.pos
	switch {
	case p.tok.kind == tOp:
		c.Op = p.tok.op
	case p.isWord("IN"):
		c.Op = OpIn
	case p.isWord("LIKE"):
		c.Op = OpLike
	case p.isWord("MATCHES"):
		c.Op = OpMatches
	case p.isWord("ISSUBSET"):
		c.Op = OpIsSubset
	case p.isWord("ISSUPERSET"):
		c.Op = OpIsSuperset
	case p.isWord("EXISTS"):
		return nil, p.errf(opPos, "EXISTS comes before the object path (EXISTS type:prop)")
	default:
		return nil, p.expected("a comparison operator", "after object path")
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	switch c.Op {
	case OpIn:
		set, err := p.set()
		if err != nil {
			return nil, err
		}
		c.Set = set
		return c, nil
	case OpLike, OpMatches, OpIsSubset, OpIsSuperset:
		if p.tok.kind != tString {
			return nil, p.expected("a string", "after "+c.Op.String())
		}
	}
	lit, ok := p.literal()
	if !ok {
		return nil, p.expected("a literal", "after '"+c.Op.String()+"'")
	}
	if lit.Kind == LitBool && c.Op != OpEq && c.Op != OpNe {
		return nil, p.errf(p.tok.pos, "boolean cannot be ordered with '%s'", c.Op)
	}
	c.Value = lit
	return c, p.advance()
}

// literal converts the current token to a literal, without advancing.
func (p *parser) literal() (Literal, bool) {
	switch p.tok.kind {
	case tString:
		return Literal{Kind: LitString, Str: p.tok.text}, true
	case tInt, tFloat, tHex, tBin, tTime:
		return p.tok.lit, true
	case tWord:
		switch p.tok.text {
		case "true":
			return Literal{Kind: LitBool, Bool: true}, true
		case "false":
			return Literal{Kind: LitBool, Bool: false}, true
		}
	}
	return Literal{}, false
}

func (p *parser) set() ([]Literal, error) {
	if p.tok.kind != tLParen {
		return nil, p.expected("'('", "after IN")
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	set := []Literal{}
	if p.tok.kind == tRParen {
		return set, p.advance()
	}
	for {
		lit, ok := p.literal()
		if !ok {
			return nil, p.expected("a literal", "in set")
		}
		set = append(set, lit)
		if err := p.advance(); err != nil {
			return nil, err
		}
		switch p.tok.kind {
		case tComma:
			if err := p.advance(); err != nil {
				return nil, err
			}
		case tRParen:
			return set, p.advance()
		default:
			return nil, p.expected("',' or ')'", "in set")
		}
	}
}

// path: type ':' first ( '.' key | '[' int|'*' ']' )*
func (p *parser) path() (Path, error) {
	var path Path
	if p.tok.kind != tWord {
		return path, p.expected("an object path (type:property)", "")
	}
	if keywords[p.tok.text] {
		return path, p.errf(p.tok.pos, "expected an object path, got keyword %s", p.tok.text)
	}
	path.Type = p.tok.text
	if err := p.advance(); err != nil {
		return path, err
	}
	if p.tok.kind != tColon {
		return path, p.expected("':'", "after object type '"+path.Type+"'")
	}
	if err := p.advance(); err != nil {
		return path, err
	}
	key, err := p.key("after ':'")
	if err != nil {
		return path, err
	}
	path.Steps = append(path.Steps, Step{Kind: StepKey, Key: key})
	for {
		switch p.tok.kind {
		case tDot:
			if err := p.advance(); err != nil {
				return path, err
			}
			key, err := p.key("after '.'")
			if err != nil {
				return path, err
			}
			path.Steps = append(path.Steps, Step{Kind: StepKey, Key: key})
		case tLBrack:
			if err := p.advance(); err != nil {
				return path, err
			}
			switch p.tok.kind {
			case tStar:
				path.Steps = append(path.Steps, Step{Kind: StepAny})
			case tInt:
				path.Steps = append(path.Steps, Step{Kind: StepIndex, Index: p.tok.lit.Int})
			default:
				return path, p.expected("an index or '*'", "in object path")
			}
			if err := p.advance(); err != nil {
				return path, err
			}
			if p.tok.kind != tRBrack {
				return path, p.expected("']'", "after list index")
			}
			if err := p.advance(); err != nil {
				return path, err
			}
		default:
			return path, nil
		}
	}
}

// key reads a property name: an identifier or a quoted string. Keywords
// are accepted here because the position makes them unambiguous.
func (p *parser) key(context string) (string, error) {
	var k string
	switch p.tok.kind {
	case tWord:
		k = p.tok.text
	case tString:
		k = p.tok.text
		if k == "" {
			return "", p.errf(p.tok.pos, "empty property name")
		}
	default:
		return "", p.expected("a property name", context)
	}
	return k, p.advance()
}
