package stix

import (
	"errors"
	"fmt"
	"strings"
)

// This file holds a small lexer for STIX patterns: enough to check that a
// pattern is well formed at the token level and to pull out the literal
// values it compares for equality, which is what the store indexes for
// "which indicators mention this value". The full grammar and its evaluation
// live in package stix/pattern.

// PatternValue is one equality comparison found in a pattern.
type PatternValue struct {
	Path  string // object path, e.g. "file:hashes.'SHA-256'"
	Value string // the literal, unescaped
}

type tokKind uint8

const (
	tkEOF tokKind = iota
	tkLBrack
	tkRBrack
	tkLParen
	tkRParen
	tkComma
	tkString // '…'
	tkTyped  // t'…', h'…', b'…'
	tkNumber
	tkPath
	tkOp
	tkWord // keywords and booleans
)

type token struct {
	kind tokKind
	text string // unescaped for strings
	pos  int
}

// maxPatternLen bounds the work one pattern can cause.
const maxPatternLen = 1 << 20

func lexPattern(p string) ([]token, error) {
	if len(p) > maxPatternLen {
		return nil, fmt.Errorf("pattern longer than %d bytes", maxPatternLen)
	}
	var toks []token
	i := 0
	for i < len(p) {
		c := p[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '[':
			toks = append(toks, token{tkLBrack, "[", i})
			i++
		case c == ']':
			toks = append(toks, token{tkRBrack, "]", i})
			i++
		case c == '(':
			toks = append(toks, token{tkLParen, "(", i})
			i++
		case c == ')':
			toks = append(toks, token{tkRParen, ")", i})
			i++
		case c == ',':
			toks = append(toks, token{tkComma, ",", i})
			i++
		case c == '\'':
			s, n, err := lexString(p, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tkString, s, i})
			i = n
		case (c == 't' || c == 'h' || c == 'b') && i+1 < len(p) && p[i+1] == '\'':
			s, n, err := lexString(p, i+1)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{tkTyped, s, i})
			i = n
		case c == '=' || c == '!' || c == '<' || c == '>':
			j := i + 1
			if j < len(p) && p[j] == '=' {
				j++
			}
			op := p[i:j]
			if op == "!" {
				return nil, fmt.Errorf("position %d: '!' must be followed by '='", i)
			}
			toks = append(toks, token{tkOp, op, i})
			i = j
		case c == '-' || c == '+' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(p) && (p[j] >= '0' && p[j] <= '9' || p[j] == '.' || p[j] == 'e' || p[j] == 'E') {
				j++
			}
			toks = append(toks, token{tkNumber, p[i:j], i})
			i = j
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == 'x':
			j := i
			for j < len(p) && isWordByte(p[j]) {
				j++
			}
			if j < len(p) && p[j] == ':' {
				n, err := lexPath(p, j+1)
				if err != nil {
					return nil, err
				}
				toks = append(toks, token{tkPath, p[i:n], i})
				i = n
				continue
			}
			toks = append(toks, token{tkWord, p[i:j], i})
			i = j
		default:
			return nil, fmt.Errorf("position %d: unexpected character %q", i, c)
		}
	}
	return toks, nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// lexString reads a quoted literal starting at the quote at i; it returns the
// unescaped text and the index after the closing quote.
func lexString(p string, i int) (string, int, error) {
	var b strings.Builder
	for j := i + 1; j < len(p); j++ {
		switch p[j] {
		case '\\':
			if j+1 >= len(p) {
				return "", 0, fmt.Errorf("position %d: unterminated escape", j)
			}
			j++
			if p[j] != '\'' && p[j] != '\\' {
				return "", 0, fmt.Errorf("position %d: invalid escape \\%c (only \\' and \\\\)", j-1, p[j])
			}
			b.WriteByte(p[j])
		case '\'':
			return b.String(), j + 1, nil
		default:
			b.WriteByte(p[j])
		}
	}
	return "", 0, fmt.Errorf("position %d: unterminated string", i)
}

// lexPath reads the property part of an object path after "type:".
func lexPath(p string, i int) (int, error) {
	start := i
	for i < len(p) {
		c := p[i]
		switch {
		case isWordByte(c) || c == '.':
			i++
		case c == '\'':
			_, n, err := lexString(p, i)
			if err != nil {
				return 0, err
			}
			i = n
		case c == '[':
			j := i + 1
			for j < len(p) && (p[j] >= '0' && p[j] <= '9' || p[j] == '*') {
				j++
			}
			if j == i+1 || j >= len(p) || p[j] != ']' {
				return 0, fmt.Errorf("position %d: bad list index in object path", i)
			}
			i = j + 1
		default:
			if i == start {
				return 0, fmt.Errorf("position %d: empty object path", i)
			}
			return i, nil
		}
	}
	if i == start {
		return 0, fmt.Errorf("position %d: empty object path", i)
	}
	return i, nil
}

// CheckPatternSyntax checks a STIX pattern at the token level: it lexes,
// brackets and parentheses balance, and every observation holds at least one
// comparison. Errors give the byte position.
func CheckPatternSyntax(p string) error {
	toks, err := lexPattern(p)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		return errors.New("empty pattern")
	}
	if toks[0].kind != tkLBrack && toks[0].kind != tkLParen {
		return fmt.Errorf("position %d: pattern must start with '[' or '('", toks[0].pos)
	}
	var stack []token
	paths := 0
	for _, t := range toks {
		switch t.kind {
		case tkLBrack, tkLParen:
			stack = append(stack, t)
			if t.kind == tkLBrack {
				paths = 0
			}
		case tkRBrack, tkRParen:
			want := tkLBrack
			if t.kind == tkRParen {
				want = tkLParen
			}
			if len(stack) == 0 || stack[len(stack)-1].kind != want {
				return fmt.Errorf("position %d: unbalanced %q", t.pos, t.text)
			}
			stack = stack[:len(stack)-1]
			if t.kind == tkRBrack && paths == 0 {
				return fmt.Errorf("position %d: observation without a comparison", t.pos)
			}
		case tkPath:
			paths++
		}
	}
	if len(stack) > 0 {
		return fmt.Errorf("position %d: unclosed %q", stack[len(stack)-1].pos, stack[len(stack)-1].text)
	}
	return nil
}

// PatternValues returns the literals a STIX pattern compares with "=" or
// "IN", outside NOT. It returns nil for patterns it cannot lex.
func PatternValues(p string) []PatternValue {
	toks, err := lexPattern(p)
	if err != nil {
		return nil
	}
	var out []PatternValue
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != tkPath || i+2 >= len(toks) {
			continue
		}
		path := toks[i].text
		op := toks[i+1]
		if op.kind == tkWord && op.text == "NOT" {
			continue
		}
		switch {
		case op.kind == tkOp && op.text == "=" && toks[i+2].kind == tkString:
			out = append(out, PatternValue{Path: path, Value: toks[i+2].text})
		case op.kind == tkWord && op.text == "IN" && toks[i+2].kind == tkLParen:
			for j := i + 3; j < len(toks) && toks[j].kind != tkRParen; j++ {
				if toks[j].kind == tkString {
					out = append(out, PatternValue{Path: path, Value: toks[j].text})
				}
			}
		}
	}
	return out
}
