package stix

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ObjectError reports an object that was refused, with where it was and what
// was wrong. Prop is the property at fault when known.
type ObjectError struct {
	Index int    // position in the bundle, -1 when not from a bundle
	Line  int    // line in the source, 0 when unknown
	ID    string // the object's id, when it had a readable one
	Type  string
	Prop  string
	Err   error
}

func (e *ObjectError) Error() string {
	where := ""
	if e.Index >= 0 {
		where = fmt.Sprintf("object %d", e.Index)
	}
	if e.Line > 0 {
		if where != "" {
			where += ", "
		}
		where += fmt.Sprintf("line %d", e.Line)
	}
	if e.ID != "" {
		where += " (" + trunc(e.ID, 120) + ")"
	}
	if where == "" {
		return e.Err.Error()
	}
	return where + ": " + e.Err.Error()
}

func (e *ObjectError) Unwrap() error { return e.Err }

// Decode turns one object's JSON into a valid STIX 2.1 Object: it parses,
// upgrades 2.0 content, and validates. Errors are *ObjectError values that
// name the property at fault.
func Decode(raw []byte) (*Object, error) {
	o, err := Parse(raw)
	if err != nil {
		oe := &ObjectError{Index: -1, Err: err}
		var pe *PropertyError
		if errors.As(err, &pe) {
			oe.Prop = pe.Property
		}
		// Salvage the id for the report even when the object is broken.
		var head struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		if json.Unmarshal(raw, &head) == nil {
			oe.ID, oe.Type = head.ID, head.Type
		}
		return nil, oe
	}
	o.Upgrade20()
	if err := Validate(o); err != nil {
		oe := &ObjectError{Index: -1, ID: o.ID, Type: o.Type, Err: err}
		var pe *PropertyError
		if errors.As(err, &pe) {
			oe.Prop = pe.Property
		}
		return nil, oe
	}
	return o, nil
}
