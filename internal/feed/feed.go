// Package feed turns the intelligence formats analysts actually receive into
// STIX objects with provenance, and writes them into the store.
//
// Each format lives in its own subpackage (stixfile, misp, ofac, tagpack,
// csvlist) as a Format: a sniffer for auto-detection and a reader that yields
// Items. A reader never panics on hostile input: a bad record becomes an Item
// carrying an error that names the file, line and field, and reading goes on;
// only input that cannot be resynchronised (truncated JSON) ends a file, and
// what was yielded before stays good. Import drives readers into a store in
// batches while the next batch is being decoded, and returns a Summary.
package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

// Provenance says where an object came from.
type Provenance struct {
	Source string // the feed's name, e.g. "OFAC SDN", "MITRE ATT&CK"
	File   string // path as given, or "-" for stdin
	Line   int    // 1-based line in File, 0 when unknown
	Index  int    // position in a bundle or list, -1 when not applicable
}

// String renders "source file:line".
func (p Provenance) String() string {
	s := p.File
	if p.Line > 0 {
		s += ":" + strconv.Itoa(p.Line)
	} else if p.Index >= 0 {
		s += "#" + strconv.Itoa(p.Index)
	}
	if p.Source != "" {
		s = p.Source + " " + s
	}
	return s
}

// Item is what a reader yields: a valid object, or a rejected record.
type Item struct {
	Object *stix.Object // nil when Err is set
	Err    error        // why the record was rejected
	Prov   Provenance
}

// Yield receives the items of a reader. Returning an error stops the reader,
// which returns that error.
type Yield func(Item) error

// Source is one input to a reader.
type Source struct {
	Path string    // for messages and provenance
	R    io.Reader // the content (already decompressed)
	// Time stands in for created/modified on formats that carry no dates
	// (plain lists): the file's modification time, so that re-importing an
	// unchanged file yields the very same object versions.
	Time time.Time
	// Name overrides the feed name recorded in provenance and identities.
	Name string
	// TLP, when set, marks objects that carry no TLP of their own.
	TLP stix.TLP
}

// Format is one importable format.
type Format struct {
	Name string // short name used by --format
	Doc  string // one line for --help
	// Sniff reports whether the content looks like this format, given the
	// file name and its first bytes (up to SniffBytes).
	Sniff func(name string, head []byte) bool
	// Read reads src and yields its objects.
	Read func(ctx context.Context, src Source, yield Yield) error
}

// SniffBytes is how much of a file Detect looks at.
const SniffBytes = 64 << 10

// ErrUnknownFormat is returned when no format recognises an input.
var ErrUnknownFormat = errors.New("unrecognised format")

// Detect returns the first format whose Sniff accepts the input.
func Detect(formats []Format, name string, head []byte) (Format, error) {
	for _, f := range formats {
		if f.Sniff != nil && f.Sniff(name, head) {
			return f, nil
		}
	}
	return Format{}, fmt.Errorf("%s: %w (use --format)", name, ErrUnknownFormat)
}

// Find returns the format with the given name.
func Find(formats []Format, name string) (Format, error) {
	for _, f := range formats {
		if f.Name == name {
			return f, nil
		}
	}
	return Format{}, fmt.Errorf("unknown format %q", name)
}

// LineError is a rejected record in a line- or field-oriented file.
type LineError struct {
	File  string
	Line  int
	Field string // column, JSON path or XML element at fault, when known
	Err   error
}

func (e *LineError) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Err.Error()
}

func (e *LineError) Unwrap() error { return e.Err }

// Reject builds the Item for a rejected record.
func Reject(prov Provenance, field string, err error) Item {
	return Item{Err: &LineError{File: prov.File, Line: prov.Line, Field: field, Err: err}, Prov: prov}
}
