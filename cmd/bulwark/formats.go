package main

import (
	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/csvlist"
	"github.com/bulwark-intel/bulwark/internal/feed/misp"
	"github.com/bulwark-intel/bulwark/internal/feed/ofac"
	"github.com/bulwark-intel/bulwark/internal/feed/stixfile"
	"github.com/bulwark-intel/bulwark/internal/feed/tagpack"
)

// formats lists the importable formats in the order auto-detection tries
// them: the most specific sniffers first, the plain-list fallback last.
func formats() []feed.Format {
	return []feed.Format{
		misp.Event,
		misp.Galaxy,
		ofac.Entities,
		stixfile.Format,
		ofac.XML,
		tagpack.Format,
		ofac.List,
		csvlist.Format,
		csvlist.Text, // never sniffed: --format txt
	}
}
