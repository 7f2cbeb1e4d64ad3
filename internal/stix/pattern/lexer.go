package pattern

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

// Limits against hostile input.
const (
	// MaxLen is the longest pattern Parse accepts, in bytes.
	MaxLen = 1 << 20
	// MaxDepth bounds nesting of brackets and parentheses, so that neither
	// parsing nor evaluation can recurse without bound.
	MaxDepth = 256
)

// Error is a parse error at a byte offset (0-based) of the pattern.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("pattern: position %d: %s", e.Pos, e.Msg) }

type tokKind uint8

const (
	tEOF tokKind = iota
	tLBrack
	tRBrack
	tLParen
	tRParen
	tComma
	tColon
	tDot
	tStar
	tOp     // comparison operator; op set
	tWord   // identifier or keyword
	tString // '…', text unescaped
	tInt
	tFloat
	tHex
	tBin
	tTime
)

type token struct {
	kind tokKind
	pos  int
	end  int
	text string // word, unescaped string, or number text
	op   Op
	lit  Literal // numbers and typed literals
}

// describe renders a token for error messages.
func (t token) describe(src string) string {
	if t.kind == tEOF {
		return "end of pattern"
	}
	s := src[t.pos:t.end]
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return "'" + s + "'"
}

type lexer struct {
	src string
	pos int
}

func (l *lexer) errf(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// skipSpace skips white space (the grammar's WS set, which unicode.IsSpace
// covers) and /* */ and // comments.
func (l *lexer) skipSpace() error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			l.pos++
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '*':
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				return l.errf(l.pos, "unterminated /* comment")
			}
			l.pos += 2 + end + 2
		case c == '/' && l.pos+1 < len(l.src) && l.src[l.pos+1] == '/':
			end := strings.IndexAny(l.src[l.pos:], "\r\n")
			if end < 0 {
				l.pos = len(l.src)
			} else {
				l.pos += end
			}
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(l.src[l.pos:])
			if r == utf8.RuneError || !unicode.IsSpace(r) {
				return nil
			}
			l.pos += n
		default:
			return nil
		}
	}
	return nil
}

func isWordStart(c byte) bool {
	return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

func isWordByte(c byte) bool {
	return isWordStart(c) || c == '-' || (c >= '0' && c <= '9')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tEOF, pos: start, end: start}, nil
	}
	tok := func(k tokKind, n int) (token, error) {
		l.pos += n
		return token{kind: k, pos: start, end: l.pos}, nil
	}
	op := func(o Op, n int) (token, error) {
		l.pos += n
		return token{kind: tOp, op: o, pos: start, end: l.pos}, nil
	}
	c := l.src[start]
	var c1 byte
	if start+1 < len(l.src) {
		c1 = l.src[start+1]
	}
	switch {
	case c == '[':
		return tok(tLBrack, 1)
	case c == ']':
		return tok(tRBrack, 1)
	case c == '(':
		return tok(tLParen, 1)
	case c == ')':
		return tok(tRParen, 1)
	case c == ',':
		return tok(tComma, 1)
	case c == ':':
		return tok(tColon, 1)
	case c == '*':
		return tok(tStar, 1)
	case c == '.' && !isDigit(c1):
		return tok(tDot, 1)
	case c == '=':
		if c1 == '=' {
			return op(OpEq, 2)
		}
		return op(OpEq, 1)
	case c == '!':
		if c1 == '=' {
			return op(OpNe, 2)
		}
		return token{}, l.errf(start, "unexpected '!' (did you mean '!='?)")
	case c == '<':
		switch c1 {
		case '=':
			return op(OpLe, 2)
		case '>':
			return op(OpNe, 2)
		}
		return op(OpLt, 1)
	case c == '>':
		if c1 == '=' {
			return op(OpGe, 2)
		}
		return op(OpGt, 1)
	case c == '\'':
		s, err := l.lexString()
		if err != nil {
			return token{}, err
		}
		return token{kind: tString, text: s, pos: start, end: l.pos}, nil
	case (c == 'h' || c == 'b' || c == 't') && c1 == '\'':
		return l.lexTyped(c)
	case c == '+' || c == '-' || c == '.' || isDigit(c):
		return l.lexNumber()
	case isWordStart(c):
		i := start + 1
		for i < len(l.src) && isWordByte(l.src[i]) {
			i++
		}
		l.pos = i
		return token{kind: tWord, text: l.src[start:i], pos: start, end: i}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[start:])
	if r == utf8.RuneError {
		return token{}, l.errf(start, "invalid UTF-8 byte 0x%02x", c)
	}
	return token{}, l.errf(start, "unexpected character %q", r)
}

// lexString reads '…' at l.pos; the only escapes are \' and \\.
func (l *lexer) lexString() (string, error) {
	start := l.pos
	i := start + 1
	var b strings.Builder
	from := i
	for i < len(l.src) {
		switch l.src[i] {
		case '\'':
			if b.Len() == 0 {
				l.pos = i + 1
				return l.src[from:i], nil
			}
			b.WriteString(l.src[from:i])
			l.pos = i + 1
			return b.String(), nil
		case '\\':
			if i+1 >= len(l.src) {
				return "", l.errf(start, "unterminated string")
			}
			e := l.src[i+1]
			if e != '\'' && e != '\\' {
				return "", l.errf(i, "invalid escape '\\%c' in string (only \\' and \\\\ are allowed)", e)
			}
			b.WriteString(l.src[from:i])
			b.WriteByte(e)
			i += 2
			from = i
		default:
			i++
		}
	}
	return "", l.errf(start, "unterminated string")
}

func (l *lexer) lexTyped(prefix byte) (token, error) {
	start := l.pos
	l.pos++ // the prefix letter
	qpos := l.pos
	s, err := l.lexString()
	if err != nil {
		return token{}, err
	}
	if strings.IndexByte(l.src[qpos:l.pos], '\\') >= 0 {
		return token{}, l.errf(qpos, "backslash not allowed in %c'…' literal", prefix)
	}
	t := token{pos: start, end: l.pos}
	switch prefix {
	case 'h':
		if len(s)%2 != 0 {
			return token{}, l.errf(start, "hex literal needs an even number of digits")
		}
		b, err := hex.DecodeString(s)
		if err != nil {
			return token{}, l.errf(start, "invalid hex literal: %v", err)
		}
		t.kind, t.lit = tHex, Literal{Kind: LitHex, Bytes: b}
	case 'b':
		if s == "" {
			return token{}, l.errf(start, "empty binary literal")
		}
		for i := 0; i < len(s); i++ {
			c := s[i]
			if !(isWordStart(c) && c != '_' || isDigit(c) || c == '+' || c == '/' || c == '=') {
				return token{}, l.errf(qpos+1+i, "invalid base64 character %q in binary literal", c)
			}
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return token{}, l.errf(start, "invalid base64 in binary literal: %v", err)
		}
		t.kind, t.lit = tBin, Literal{Kind: LitBinary, Bytes: b}
	case 't':
		tm, err := stix.ParseTimestamp(s)
		if err != nil {
			return token{}, l.errf(start, "invalid timestamp literal: %v", err)
		}
		t.kind, t.lit = tTime, Literal{Kind: LitTime, Time: tm}
	}
	return t, nil
}

// lexNumber reads [+-]? digits [. digits]. Integers have no leading zeros,
// as in the grammar; floats need digits after the point.
func (l *lexer) lexNumber() (token, error) {
	start := l.pos
	i := start
	if l.src[i] == '+' || l.src[i] == '-' {
		i++
	}
	ds := i
	for i < len(l.src) && isDigit(l.src[i]) {
		i++
	}
	intDigits := i - ds
	isFloat := false
	if i < len(l.src) && l.src[i] == '.' {
		isFloat = true
		i++
		fs := i
		for i < len(l.src) && isDigit(l.src[i]) {
			i++
		}
		if i == fs {
			return token{}, l.errf(start, "invalid number %q: digits must follow the decimal point", l.src[start:i])
		}
	} else if intDigits == 0 {
		return token{}, l.errf(start, "unexpected character %q", l.src[start])
	}
	if i < len(l.src) && isWordByte(l.src[i]) && l.src[i] != '-' {
		return token{}, l.errf(start, "invalid number %q", l.src[start:i+1])
	}
	text := l.src[start:i]
	l.pos = i
	t := token{pos: start, end: i, text: text}
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) {
			return token{}, l.errf(start, "float %q out of range", text)
		}
		t.kind, t.lit = tFloat, Literal{Kind: LitFloat, Float: f}
		return t, nil
	}
	if intDigits > 1 && l.src[ds] == '0' {
		return token{}, l.errf(start, "invalid integer %q: leading zeros are not allowed", text)
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return token{}, l.errf(start, "integer %q out of range", text)
	}
	t.kind, t.lit = tInt, Literal{Kind: LitInt, Int: n}
	return t, nil
}
