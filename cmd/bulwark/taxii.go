package main

import (
	"log/slog"
	"net/http"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/taxii"
)

// taxiiHandler serves TAXII 2.1: discovery at /taxii2/, the API root at
// /taxii2/api/.
func taxiiHandler(acc *access.Service, log *slog.Logger) http.Handler {
	return taxii.New(acc, taxii.Options{Title: "Bulwark", Description: "DPRK threat intelligence sharing hub", Logger: log})
}
