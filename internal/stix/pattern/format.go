package pattern

import (
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// String returns the canonical form of the pattern: single spaces, '=' and
// '!=', upper-case keywords, parentheses only where the structure needs
// them, literals in one spelling. It re-parses to an equal AST.
func (p *Pattern) String() string {
	var b strings.Builder
	writeObs(&b, p.Root)
	return b.String()
}

func writeObs(b *strings.Builder, e ObsExpr) {
	switch e := e.(type) {
	case *Bracket:
		b.WriteByte('[')
		writeComp(b, e.Expr, 0)
		b.WriteByte(']')
	case *ObsBinary:
		for i, o := range e.Operands {
			if i > 0 {
				b.WriteByte(' ')
				b.WriteString(e.Op.String())
				b.WriteByte(' ')
			}
			// Operands bind tighter than their operator unless they are a
			// chain of a looser or the same operator.
			if ob, ok := o.(*ObsBinary); ok && ob.Op >= e.Op {
				b.WriteByte('(')
				writeObs(b, o)
				b.WriteByte(')')
			} else {
				writeObs(b, o)
			}
		}
	case *Qualified:
		if _, ok := e.Expr.(*ObsBinary); ok {
			b.WriteByte('(')
			writeObs(b, e.Expr)
			b.WriteByte(')')
		} else {
			writeObs(b, e.Expr)
		}
		for _, q := range e.Qualifiers {
			b.WriteByte(' ')
			b.WriteString(q.String())
		}
	}
}

// String renders a qualifier in canonical form.
func (q Qualifier) String() string {
	switch q.Kind {
	case QualWithin:
		s := strconv.FormatFloat(q.Seconds, 'f', -1, 64)
		if len(s) > 15 && !strings.Contains(s, ".") {
			s += ".0" // too big to re-read as an int64
		}
		return "WITHIN " + s + " SECONDS"
	case QualRepeats:
		return "REPEATS " + strconv.FormatInt(q.Times, 10) + " TIMES"
	case QualStartStop:
		return "START " + timeLit(q.Start) + " STOP " + timeLit(q.Stop)
	}
	return "?"
}

func writeComp(b *strings.Builder, e CompExpr, parent BoolOp) {
	switch e := e.(type) {
	case *CompBinary:
		// AND binds tighter than OR: an OR inside an AND, or a chain inside
		// a chain of the same operator, needs parentheses.
		paren := parent != 0 && (e.Op == Or || parent == e.Op)
		if paren {
			b.WriteByte('(')
		}
		for i, o := range e.Operands {
			if i > 0 {
				if e.Op == And {
					b.WriteString(" AND ")
				} else {
					b.WriteString(" OR ")
				}
			}
			writeComp(b, o, e.Op)
		}
		if paren {
			b.WriteByte(')')
		}
	case *Comparison:
		b.WriteString(e.String())
	}
}

// String renders one comparison in canonical form.
func (c *Comparison) String() string {
	var b strings.Builder
	if c.Op == OpExists {
		b.WriteString("EXISTS ")
		b.WriteString(c.Path.String())
		return b.String()
	}
	b.WriteString(c.Path.String())
	if c.Not {
		b.WriteString(" NOT")
	}
	b.WriteByte(' ')
	b.WriteString(c.Op.String())
	b.WriteByte(' ')
	if c.Op == OpIn {
		b.WriteByte('(')
		for i, l := range c.Set {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(l.String())
		}
		b.WriteByte(')')
	} else {
		b.WriteString(c.Value.String())
	}
	return b.String()
}

// plainIdent reports whether s can be written unquoted as a property name
// in the 2.1 grammar (no hyphen, not a keyword).
func plainIdent(s string) bool {
	if s == "" || !isWordStart(s[0]) || keywords[s] || s == "true" || s == "false" {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isWordByte(s[i]) || s[i] == '-' {
			return false
		}
	}
	return true
}

// String renders the object path, quoting property names that need it.
func (p Path) String() string {
	var b strings.Builder
	b.WriteString(p.Type)
	b.WriteByte(':')
	for i, s := range p.Steps {
		switch s.Kind {
		case StepKey:
			if i > 0 {
				b.WriteByte('.')
			}
			if plainIdent(s.Key) {
				b.WriteString(s.Key)
			} else {
				b.WriteString(quote(s.Key))
			}
		case StepIndex:
			b.WriteByte('[')
			b.WriteString(strconv.FormatInt(s.Index, 10))
			b.WriteByte(']')
		case StepAny:
			b.WriteString("[*]")
		}
	}
	return b.String()
}

func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}

func timeLit(t time.Time) string { return "t'" + t.UTC().Format(time.RFC3339Nano) + "'" }

// String renders the literal in canonical form.
func (l Literal) String() string {
	switch l.Kind {
	case LitString:
		return quote(l.Str)
	case LitInt:
		return strconv.FormatInt(l.Int, 10)
	case LitFloat:
		s := strconv.FormatFloat(l.Float, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	case LitBool:
		return strconv.FormatBool(l.Bool)
	case LitBinary:
		return "b'" + base64.StdEncoding.EncodeToString(l.Bytes) + "'"
	case LitHex:
		return "h'" + hex.EncodeToString(l.Bytes) + "'"
	case LitTime:
		return timeLit(l.Time)
	}
	return "?"
}
