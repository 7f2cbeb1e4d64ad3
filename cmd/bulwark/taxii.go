package main

import (
	"log/slog"
	"net/http"

	"github.com/bulwark-intel/bulwark/internal/access"
)

// taxiiHandler is replaced once internal/taxii lands.
func taxiiHandler(_ *access.Service, _ *slog.Logger) http.Handler { return nil }
