package btcrpc

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

// Sentinel errors, for errors.Is.
var (
	// ErrTooLarge: an answer was larger than Config.MaxResponseBytes.
	ErrTooLarge = errors.New("response exceeds the size limit")
	// ErrUnauthorized: the node refused the credentials (HTTP 401 or 403).
	ErrUnauthorized = errors.New("node refused the credentials")
	// ErrReorg: the chain the loader had committed to is no longer the
	// node's best chain, so loaded transfers may belong to orphaned blocks.
	ErrReorg = errors.New("chain reorganised below the loaded height")
	// ErrBadResponse: an answer lacks what every block or hash has.
	ErrBadResponse = errors.New("malformed node response")
)

// RPCError is an error the node answered with, such as
// {"code": -8, "message": "Block height out of range"}.
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("node error %d: %s", e.Code, e.Message) }

// Error codes of Bitcoin Core's and btcd's RPC servers that the loader acts on.
const (
	codeInWarmup     = -28    // the node is still starting: retry
	codeInvalidParam = -8     // Core and btcd: e.g. an unsupported verbosity
	codeTypeError    = -3     // Core: a parameter of the wrong JSON type
	codeInvalidArgs  = -32602 // JSON-RPC (btcd): parameters it cannot parse
)

// HTTPError is an HTTP answer other than 200 that carried no JSON-RPC error.
type HTTPError struct {
	Status int
	Body   string // the start of the body, for the log
}

func (e *HTTPError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body)
}

// client is a JSON-RPC 1.0 client of bitcoind or btcd with retries.
type client struct {
	url        string
	user, pass string
	hc         *http.Client
	maxBody    int64
	retries    int
	backoff    time.Duration // wait before the first retry; doubles each time
	maxBackoff time.Duration
	log        *slog.Logger
	id         atomic.Uint64
	calls      atomic.Int64 // requests sent, retries included
}

type rpcRequest struct {
	JSONRPC string `json:"jsonrpc"`
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

type rpcResponse struct {
	Result json.RawMessage `json:"result"`
	Error  *RPCError       `json:"error"`
	ID     json.RawMessage `json:"id"`
}

// call sends one request, retrying transport failures, HTTP 5xx and 429 and
// a node that is still warming up, and unmarshals the result into out
// (unless out is nil). Errors name the method.
func (c *client) call(ctx context.Context, method string, params []any, out any) error {
	if params == nil {
		params = []any{}
	}
	for attempt := 0; ; attempt++ {
		id := c.id.Add(1)
		body, err := json.Marshal(rpcRequest{JSONRPC: "1.0", ID: id, Method: method, Params: params})
		if err != nil {
			return fmt.Errorf("%s: encoding request: %w", method, err)
		}
		result, retryAfter, retry, err := c.once(ctx, id, body)
		if err == nil {
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(result, out); err != nil {
				return fmt.Errorf("%s: decoding result: %w", method, err)
			}
			return nil
		}
		if ctx.Err() != nil && !errors.Is(err, context.Cause(ctx)) {
			// Cancelled while the failed attempt was answered: the
			// cancellation is what the caller needs to see.
			return fmt.Errorf("%s: %w (after %d attempts; last error: %v)", method, context.Cause(ctx), attempt+1, err)
		}
		if !retry || attempt >= c.retries || ctx.Err() != nil {
			if attempt > 0 {
				return fmt.Errorf("%s: %w (after %d attempts)", method, err, attempt+1)
			}
			return fmt.Errorf("%s: %w", method, err)
		}
		wait := c.backoff << attempt
		if wait > c.maxBackoff || wait <= 0 {
			wait = c.maxBackoff
		}
		// Jitter spreads the retries of concurrent fetches apart.
		wait = wait/2 + rand.N(wait/2+1)
		if retryAfter > wait {
			wait = min(retryAfter, c.maxBackoff)
		}
		c.log.Warn("retrying bitcoin rpc", "method", method, "attempt", attempt+1, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w (after %d attempts; last error: %v)", method, ctx.Err(), attempt+1, err)
		case <-t.C:
		}
	}
}

// once sends one request. It returns the raw result, or the error and
// whether the request is worth repeating (with the server's Retry-After).
func (c *client) once(ctx context.Context, id uint64, body []byte) (json.RawMessage, time.Duration, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, 0, false, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.user != "" || c.pass != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	c.calls.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		// Transport failures (refused, reset, timeout) are worth a retry;
		// a cancelled context is caught by the caller.
		return nil, 0, true, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, 0, true, fmt.Errorf("reading response: %w", err)
	}
	if int64(len(data)) > c.maxBody {
		return nil, 0, false, fmt.Errorf("%w of %d bytes", ErrTooLarge, c.maxBody)
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return nil, 0, false, fmt.Errorf("%w: HTTP %d", ErrUnauthorized, resp.StatusCode)
	}
	var r rpcResponse
	jsonErr := json.Unmarshal(data, &r)
	// Bitcoin Core answers JSON-RPC 1.0 errors with HTTP 500 (404 for an
	// unknown method) and a normal error body: that is the node's answer,
	// not a server failure, and repeating it would not change it.
	if jsonErr == nil && r.Error != nil {
		return nil, 0, r.Error.Code == codeInWarmup, r.Error
	}
	if resp.StatusCode != http.StatusOK {
		he := &HTTPError{Status: resp.StatusCode, Body: snippet(data)}
		retry := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
		return nil, retryAfter(resp.Header.Get("Retry-After")), retry, he
	}
	if jsonErr != nil {
		return nil, 0, false, fmt.Errorf("decoding response: %w", jsonErr)
	}
	if len(r.ID) > 0 && string(r.ID) != strconv.FormatUint(id, 10) {
		return nil, 0, false, fmt.Errorf("response id %s does not match request id %d", snippet(r.ID), id)
	}
	return r.Result, 0, false, nil
}

// retryAfter reads a Retry-After header given in seconds.
func retryAfter(h string) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n > 0 && n < 3600 {
		return time.Duration(n) * time.Second
	}
	return 0
}

// snippet returns the start of a body for an error message.
func snippet(b []byte) string {
	const limit = 200
	s := strings.TrimSpace(string(b))
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
