package main

import (
	"crypto/tls"
	"net/http"
	"time"
)

func httpClient(insecure bool) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // opt-in, for self-signed test hubs
	return &http.Client{Transport: tr, Timeout: 2 * time.Minute}
}
