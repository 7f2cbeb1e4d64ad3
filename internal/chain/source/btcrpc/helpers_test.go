package btcrpc

import (
	"log/slog"
	"net/http"
	"time"
)

func testHTTPClient() *http.Client { return &http.Client{Timeout: 30 * time.Second} }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
