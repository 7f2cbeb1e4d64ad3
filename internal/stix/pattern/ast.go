// Package pattern parses STIX 2.1 patterns (the grammar STIXPattern.g4 of
// oasis-open/cti-stix2-json-schemas) into an AST, prints them back in a
// canonical form, and evaluates them over observations: one observation at a
// time with a Matcher, or a time-ordered stream of them with a Stream, which
// handles the observation operators (AND, OR, FOLLOWEDBY) and qualifiers
// (WITHIN, REPEATS, START/STOP).
//
// Chains of one operator are kept flat (n-ary): AND, OR and FOLLOWEDBY are
// associative, so `[a] AND ([b] AND [c])` and `[a] AND [b] AND [c]` are the
// same AST. Qualifiers stacked on one expression are kept as a list in the
// order written.
package pattern

import (
	"time"
)

// ObsExpr is an observation expression: *Bracket, *ObsBinary or *Qualified.
type ObsExpr interface{ obsExpr() }

// CompExpr is a comparison expression inside brackets: *CompBinary or
// *Comparison.
type CompExpr interface{ compExpr() }

// Pattern is a parsed STIX pattern.
type Pattern struct {
	Root ObsExpr
}

// ObsOp is an observation operator.
type ObsOp uint8

// Observation operators, from tightest to loosest.
const (
	ObsAnd ObsOp = iota + 1
	ObsOr
	ObsFollowedBy
)

func (o ObsOp) String() string {
	switch o {
	case ObsAnd:
		return "AND"
	case ObsOr:
		return "OR"
	case ObsFollowedBy:
		return "FOLLOWEDBY"
	}
	return "?"
}

// Bracket is `[ comparison ]`, matched against a single observation.
type Bracket struct {
	Expr CompExpr
}

// ObsBinary joins two or more observation expressions with one operator.
type ObsBinary struct {
	Op       ObsOp
	Operands []ObsExpr
}

// QualKind is the kind of a qualifier.
type QualKind uint8

// Qualifier kinds.
const (
	QualWithin QualKind = iota + 1
	QualRepeats
	QualStartStop
)

// Qualifier is WITHIN n SECONDS, REPEATS n TIMES or START t STOP t.
type Qualifier struct {
	Kind        QualKind
	Seconds     float64   // WITHIN
	Times       int64     // REPEATS
	Start, Stop time.Time // START/STOP, UTC
}

// Qualified applies qualifiers, innermost first, to an expression.
type Qualified struct {
	Expr       ObsExpr
	Qualifiers []Qualifier
}

func (*Bracket) obsExpr()   {}
func (*ObsBinary) obsExpr() {}
func (*Qualified) obsExpr() {}

// BoolOp joins comparisons.
type BoolOp uint8

// Comparison-level boolean operators.
const (
	And BoolOp = iota + 1
	Or
)

// CompBinary joins two or more comparison expressions with AND or OR.
type CompBinary struct {
	Op       BoolOp
	Operands []CompExpr
}

// Op is a comparison operator.
type Op uint8

// Comparison operators.
const (
	OpEq Op = iota + 1
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpIn
	OpLike
	OpMatches
	OpIsSubset
	OpIsSuperset
	OpExists
)

var opNames = [...]string{
	OpEq: "=", OpNe: "!=", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">=",
	OpIn: "IN", OpLike: "LIKE", OpMatches: "MATCHES", OpIsSubset: "ISSUBSET",
	OpIsSuperset: "ISSUPERSET", OpExists: "EXISTS",
}

func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "?"
}

// Comparison is `path [NOT] op value`, `path [NOT] IN (set)` or
// `EXISTS path`.
type Comparison struct {
	Path  Path
	Op    Op
	Not   bool
	Value Literal   // all operators but IN and EXISTS
	Set   []Literal // IN
}

func (*CompBinary) compExpr() {}
func (*Comparison) compExpr() {}

// StepKind is the kind of an object path step.
type StepKind uint8

// Path step kinds.
const (
	StepKey   StepKind = iota + 1 // .name or .'name'
	StepIndex                     // [n]
	StepAny                       // [*]
)

// Step is one object path component after the object type.
type Step struct {
	Kind  StepKind
	Key   string
	Index int64
}

// Path is an object path: Type, then the first property (Steps[0], always
// a key) and further steps.
type Path struct {
	Type  string
	Steps []Step
}

// LitKind is the type of a literal.
type LitKind uint8

// Literal kinds.
const (
	LitString LitKind = iota + 1
	LitInt
	LitFloat
	LitBool
	LitBinary // b'base64'
	LitHex    // h'hex'
	LitTime   // t'RFC 3339'
)

// Literal is a constant in a comparison.
type Literal struct {
	Kind  LitKind
	Str   string
	Int   int64
	Float float64
	Bool  bool
	Bytes []byte
	Time  time.Time
}
