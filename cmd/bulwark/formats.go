package main

import (
	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/stixfile"
)

// formats lists the importable formats in the order auto-detection tries
// them: the most specific sniffers first, the plain-list fallback last.
func formats() []feed.Format {
	return []feed.Format{
		stixfile.Format,
	}
}
