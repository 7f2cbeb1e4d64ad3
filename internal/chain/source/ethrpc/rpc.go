package ethrpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrResponseTooLarge: the answer exceeded the configured size limit.
	ErrResponseTooLarge = errors.New("response too large")
	// ErrBadResponse: the answer is not a well-formed JSON-RPC 2.0 response
	// or a field in it is malformed.
	ErrBadResponse = errors.New("malformed response")
)

// RPCError is an error object returned by the node.
type RPCError struct {
	Method  string          `json:"-"`
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("%s: node error %d: %s", e.Method, e.Code, clip(printable([]byte(e.Message)), 300))
}

// HTTPError is a non-200 HTTP status from the endpoint.
type HTTPError struct {
	Method     string
	StatusCode int
	Body       string        // start of the body, for the message
	RetryAfter time.Duration // from a Retry-After header in seconds, 0 if none
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d", e.Method, e.StatusCode)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// client is a minimal JSON-RPC 2.0 client over HTTP POST. go-ethereum's rpc
// package would do, but it brings a large dependency tree into the binary for
// the five read-only methods a loader calls, and hides the response size
// limits and retry classification we need to control.
type client struct {
	url         string
	http        *http.Client
	maxResponse int64
	attempts    int
	backoff     time.Duration
	maxBackoff  time.Duration
	timeout     time.Duration
	log         *slog.Logger
	id          atomic.Uint64
}

type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

type response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *RPCError       `json:"error"`
}

// call invokes method and decodes its result into out. It reports whether
// the result was JSON null (a missing block or receipt), in which case out is
// untouched. Transport errors, HTTP 429 and 5xx, and node errors that say
// "rate limit" are retried with exponential backoff and jitter.
func (c *client) call(ctx context.Context, method string, out any, params ...any) (null bool, err error) {
	if params == nil {
		params = []any{}
	}
	for attempt := 1; ; attempt++ {
		null, err = c.do(ctx, method, out, params)
		if err != nil && ctx.Err() != nil && !errors.Is(err, context.Cause(ctx)) {
			// Cancelled while the failed attempt was answered: the
			// cancellation is what the caller needs to see.
			return false, fmt.Errorf("%s: %w (after %v)", method, context.Cause(ctx), err)
		}
		if err == nil || !retryable(ctx, err) || attempt >= c.attempts {
			return null, err
		}
		wait := c.delay(attempt)
		var he *HTTPError
		if errors.As(err, &he) && he.RetryAfter > wait {
			wait = min(he.RetryAfter, 2*c.maxBackoff)
		}
		c.log.Warn("retrying JSON-RPC call", "method", method, "attempt", attempt, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return false, fmt.Errorf("%s: %w (after %v)", method, context.Cause(ctx), err)
		case <-t.C:
		}
	}
}

// delay is base·2^(attempt-1), capped, with the upper half jittered so that
// several loaders behind one rate limit do not retry in lock step.
func (c *client) delay(attempt int) time.Duration {
	d := c.backoff << min(attempt-1, 20)
	if d <= 0 || d > c.maxBackoff {
		d = c.maxBackoff
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return half + rand.N(half)
}

func (c *client) do(ctx context.Context, method string, out any, params []any) (bool, error) {
	id := c.id.Add(1)
	body, err := json.Marshal(request{JSONRPC: "2.0", ID: id, Method: method, Params: params})
	if err != nil {
		return false, fmt.Errorf("%s: encoding request: %w", method, err)
	}
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("%s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return false, &transportError{method: method, err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		he := &HTTPError{Method: method, StatusCode: resp.StatusCode, Body: clip(printable(snippet), 200)}
		if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 {
			he.RetryAfter = time.Duration(min(s, 3600)) * time.Second
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
		return false, he
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxResponse+1))
	if err != nil {
		return false, &transportError{method: method, err: fmt.Errorf("reading response: %w", err)}
	}
	if int64(len(data)) > c.maxResponse {
		return false, fmt.Errorf("%s: %w: more than %d bytes", method, ErrResponseTooLarge, c.maxResponse)
	}
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		return false, fmt.Errorf("%s: %w: not a JSON-RPC object (%v): %s", method, ErrBadResponse, err, clip(printable(data), 120))
	}
	if r.JSONRPC != "2.0" {
		return false, fmt.Errorf("%s: %w: jsonrpc is %q, want \"2.0\"", method, ErrBadResponse, clip(r.JSONRPC, 20))
	}
	if string(r.ID) != strconv.FormatUint(id, 10) {
		return false, fmt.Errorf("%s: %w: response id %s does not match request id %d", method, ErrBadResponse, clip(string(r.ID), 40), id)
	}
	if r.Error != nil {
		r.Error.Method = method
		return false, r.Error
	}
	if len(r.Result) == 0 {
		return false, fmt.Errorf("%s: %w: neither result nor error", method, ErrBadResponse)
	}
	if string(r.Result) == "null" {
		return true, nil
	}
	if err := json.Unmarshal(r.Result, out); err != nil {
		return false, fmt.Errorf("%s: %w: result: %v", method, ErrBadResponse, err)
	}
	return false, nil
}

// transportError is a failure to get an HTTP response at all.
type transportError struct {
	method string
	err    error
}

func (e *transportError) Error() string { return e.method + ": " + e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// retryable reports whether err is worth another attempt: the network, an
// overloaded or rate-limiting endpoint, or a per-request timeout — but not
// the caller's own cancellation.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var te *transportError
	if errors.As(err, &te) {
		return true
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return he.StatusCode == http.StatusTooManyRequests || he.StatusCode == http.StatusRequestTimeout || he.StatusCode >= 500
	}
	var re *RPCError
	if errors.As(err, &re) {
		return isRateLimit(re) || isTransient(re)
	}
	return false
}

// isTransient recognises node errors that go away by themselves, such as
// geth answering receipt queries while it is still indexing transactions.
func isTransient(e *RPCError) bool {
	m := strings.ToLower(e.Message)
	return strings.Contains(m, "indexing is in progress") || strings.Contains(m, "syncing")
}

// isRateLimit recognises the rate-limit errors public providers send inside
// a 200 response; their codes vary (-32005, -32090, 429) so the message
// decides.
func isRateLimit(e *RPCError) bool {
	if e.Code == 429 || e.Code == -32090 {
		return true
	}
	m := strings.ToLower(e.Message)
	for _, s := range []string{"rate limit", "rate-limit", "too many requests", "request rate", "exceeded its compute units", "capacity exceeded", "try again"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// isRangeError recognises the answers by which nodes and providers refuse an
// eth_getLogs range as too wide or its result as too large: geth's
// "exceed maximum block range", Infura's "query returned more than 10000
// results", Alchemy's "Log response size exceeded", and our own size limit.
func isRangeError(err error) bool {
	if errors.Is(err, ErrResponseTooLarge) {
		return true
	}
	var he *HTTPError
	if errors.As(err, &he) && he.StatusCode == http.StatusRequestEntityTooLarge {
		return true
	}
	var re *RPCError
	if !errors.As(err, &re) || isRateLimit(re) {
		return false
	}
	m := strings.ToLower(re.Message)
	for _, s := range []string{"block range", "range limit", "range is too", "range too", "exceed maximum", "more than", "too many", "response size", "too large", "limit exceeded", "query timeout", "timed out"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// isMethodMissing recognises "method not found" (-32601) and the messages
// providers use when they disable a method.
func isMethodMissing(err error) bool {
	var re *RPCError
	if !errors.As(err, &re) {
		var he *HTTPError
		return errors.As(err, &he) && (he.StatusCode == http.StatusNotFound || he.StatusCode == http.StatusMethodNotAllowed)
	}
	if re.Code == -32601 {
		return true
	}
	// Only messages about the method: "header not found" for a block must
	// not switch the loader to per-transaction receipts.
	m := strings.ToLower(re.Message)
	if !strings.Contains(m, "method") {
		return false
	}
	for _, s := range []string{"not found", "does not exist", "not available", "not supported", "unsupported", "not allowed", "disabled"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// printable replaces control bytes so that a hostile body cannot forge log
// lines.
func printable(b []byte) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, string(bytes.TrimSpace(b)))
}
