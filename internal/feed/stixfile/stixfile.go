// Package stixfile reads STIX 2.0 and 2.1 bundles (MITRE ATT&CK, vendor
// reports, TAXII exports) as a feed. Objects are streamed, upgraded from 2.0
// when needed and validated one by one: an invalid object is reported with
// its index, line, id and property, and the others are still imported.
// Custom objects and properties (x-mitre-*, x_…) are kept as they are.
// With Source.TLP set, objects without a TLP marking get it.
package stixfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// Format is the STIX bundle format.
var Format = feed.Format{
	Name:  "stix",
	Doc:   "STIX 2.0/2.1 bundle (JSON), e.g. MITRE ATT&CK",
	Sniff: sniff,
	Read:  Read,
}

func sniff(name string, head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf")
	if len(h) == 0 || (h[0] != '{' && h[0] != '[') {
		return false
	}
	// A bundle, or a lone STIX object: "type" with a STIX id somewhere near.
	s := string(h)
	if strings.Contains(s, `"bundle"`) && strings.Contains(s, `"objects"`) {
		return true
	}
	// A lone object or a bare array of objects: STIX ids ("type--uuid")
	// and STIX timestamps or a spec_version, and not a MISP event.
	looksSTIX := strings.Contains(s, `"type"`) && strings.Contains(s, `"id"`) && strings.Contains(s, `--`) &&
		(strings.Contains(s, `"spec_version"`) || strings.Contains(s, `"created"`))
	return looksSTIX && !strings.Contains(s, `"Event"`) || strings.EqualFold(filepath.Ext(name), ".stix")
}

// Read streams a bundle's objects.
func Read(ctx context.Context, src feed.Source, yield feed.Yield) error {
	name := src.Name
	if name == "" {
		name = "STIX"
	}
	br := stix.NewBundleReader(src.R, 0)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ro, err := br.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		prov := feed.Provenance{Source: name, File: src.Path, Line: ro.Line, Index: ro.Index}
		obj, derr := stix.Decode(ro.Raw)
		if derr != nil {
			var oe *stix.ObjectError
			if errors.As(derr, &oe) {
				oe.Index, oe.Line = ro.Index, ro.Line
			}
			if err := yield(feed.Item{Err: derr, Prov: prov}); err != nil {
				return err
			}
			continue
		}
		if obj, derr = markTLP(obj, src.TLP); derr != nil {
			if err := yield(feed.Item{Err: derr, Prov: prov}); err != nil {
				return err
			}
			continue
		}
		if err := yield(feed.Item{Object: obj, Prov: prov}); err != nil {
			return err
		}
	}
}

// markTLP adds the TLP marking t (Source.TLP, import --tlp) to an object
// that carries no TLP marking, beside any other markings it has (ATT&CK's
// copyright statement): the importer's statement of how the bundle may be
// shared. Marking definitions themselves are left alone.
func markTLP(o *stix.Object, t stix.TLP) (*stix.Object, error) {
	id := t.MarkingID()
	if id == "" || o.Type == "marking-definition" || o.EffectiveTLP() != stix.TLPNone {
		return o, nil
	}
	refs := append(slices.Clip(o.ObjectMarkingRefs), id)
	return o.WithProps(map[string]any{"object_marking_refs": refs})
}
