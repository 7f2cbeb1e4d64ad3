package chaintest

import (
	"bytes"
	"context"
	"io"
	"net/http"
)

// CancelAfter is an HTTP transport that cancels a context once a response
// has come back in full: a loader's retry loop then sees a failed answer
// and a cancelled context together, the race a test of cancellation wants
// to force.
type CancelAfter struct {
	Base   http.RoundTripper
	Cancel context.CancelFunc
}

func (c CancelAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.Base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	c.Cancel()
	return resp, nil
}
