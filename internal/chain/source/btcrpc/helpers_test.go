package btcrpc

import (
	"net/http"
	"time"
)

func testHTTPClient() *http.Client { return &http.Client{Timeout: 30 * time.Second} }
