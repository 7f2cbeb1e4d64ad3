// Package feedtest holds what the importers' tests share: reading a source
// with a format into its objects and rejections, and looking them up.
package feedtest

import (
	"context"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// Result is what a reader yielded.
type Result struct {
	Objects []*stix.Object
	Rejects []feed.Item
	Err     error // what Read returned
}

// Read runs the format's reader over src. Every object yielded must pass
// stix.Validate and every item must carry an object or an error: anything
// else fails the test.
func Read(t testing.TB, f feed.Format, src feed.Source) Result {
	t.Helper()
	var r Result
	r.Err = f.Read(context.Background(), src, func(it feed.Item) error {
		if it.Err != nil {
			r.Rejects = append(r.Rejects, it)
			return nil
		}
		if it.Object == nil {
			t.Fatalf("item with neither object nor error")
		}
		if err := stix.Validate(it.Object); err != nil {
			t.Fatalf("yielded invalid object %s: %v", it.Object.Raw, err)
		}
		r.Objects = append(r.Objects, it.Object)
		return nil
	})
	return r
}

// ByType returns the objects of one type, in yield order.
func (r Result) ByType(typ string) []*stix.Object {
	var out []*stix.Object
	for _, o := range r.Objects {
		if o.Type == typ {
			out = append(out, o)
		}
	}
	return out
}

// ByID returns the first object with the id, or nil.
func (r Result) ByID(id string) *stix.Object {
	for _, o := range r.Objects {
		if o.ID == id {
			return o
		}
	}
	return nil
}

// Rels returns the source and target of every relationship of a type.
func (r Result) Rels(typ string) [][2]string {
	var out [][2]string
	for _, o := range r.ByType("relationship") {
		if o.String("relationship_type") == typ {
			out = append(out, [2]string{o.String("source_ref"), o.String("target_ref")})
		}
	}
	return out
}

// Rel reports whether a relationship typ from src to dst was yielded.
func (r Result) Rel(typ, src, dst string) bool {
	for _, e := range r.Rels(typ) {
		if e == [2]string{src, dst} {
			return true
		}
	}
	return false
}
