// Package client is a TAXII 2.1 client for pulling from and pushing to
// other hubs (Bulwark, OpenCTI, MISP's TAXII server, medallion).
//
// Pulling is written against the pitfalls peers have shown. It pages with
// "next" when the server gives one, and otherwise asks again with
// added_after set to the X-TAXII-Date-Added-Last header of the page it got.
// Servers that treat added_after as inclusive, or that give several objects
// one date_added, then answer with objects the client already has: those
// (id, version) pairs are dropped, and a page that brings nothing new ends
// the loop instead of spinning. Retries back off on 429 and 5xx and honour
// Retry-After.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MediaType is the TAXII 2.1 media type.
const MediaType = "application/taxii+json;version=2.1"

// Client talks to one TAXII server.
type Client struct {
	HTTP  *http.Client
	Token string // sent as "Authorization: Bearer"
	// MaxRetries for 429 and 5xx answers and transport errors (default 5).
	MaxRetries int
	// MaxBody bounds a response body (default 64 MiB).
	MaxBody int64
	// Sleep waits between retries; tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Error is a TAXII error answer.
type Error struct {
	Status      int
	Title       string `json:"title"`
	Description string `json:"description"`
}

func (e *Error) Error() string {
	s := fmt.Sprintf("TAXII %d", e.Status)
	if e.Title != "" {
		s += ": " + e.Title
	}
	if e.Description != "" {
		s += " (" + e.Description + ")"
	}
	return s
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 2 * time.Minute}
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// do sends a request, retrying with exponential backoff and jitter on
// transport errors, 429 and 5xx (honouring Retry-After).
func (c *Client) do(ctx context.Context, method, u string, body []byte) (*http.Response, []byte, error) {
	retries := c.MaxRetries
	if retries <= 0 {
		retries = 5
	}
	limit := c.MaxBody
	if limit <= 0 {
		limit = 64 << 20
	}
	backoff := 500 * time.Millisecond
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Accept", MediaType)
		if body != nil {
			req.Header.Set("Content-Type", MediaType)
		}
		if c.Token != "" {
			req.Header.Set("Authorization", "Bearer "+c.Token)
		}
		resp, err := c.httpClient().Do(req)
		var data []byte
		if err == nil {
			data, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
			resp.Body.Close()
			if err == nil && int64(len(data)) > limit {
				return nil, nil, fmt.Errorf("%s %s: response larger than %d bytes", method, u, limit)
			}
		}
		retry := err != nil || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
		if !retry {
			if resp.StatusCode >= 400 {
				e := &Error{Status: resp.StatusCode}
				_ = json.Unmarshal(data, e)
				return resp, data, fmt.Errorf("%s %s: %w", method, u, e)
			}
			return resp, data, nil
		}
		if attempt >= retries {
			if err != nil {
				return nil, nil, fmt.Errorf("%s %s: %w (after %d attempts)", method, u, err, attempt+1)
			}
			return nil, nil, fmt.Errorf("%s %s: HTTP %d (after %d attempts)", method, u, resp.StatusCode, attempt+1)
		}
		wait := backoff + time.Duration(rand.Int64N(int64(backoff/2)+1))
		if resp != nil {
			if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s >= 0 && s <= 3600 {
				wait = time.Duration(s) * time.Second
			}
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, nil, err
		}
		backoff = min(backoff*2, time.Minute)
	}
}

func (c *Client) getJSON(ctx context.Context, u string, dst any) (*http.Response, error) {
	resp, data, err := c.do(ctx, http.MethodGet, u, nil)
	if err != nil {
		return resp, err
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return resp, fmt.Errorf("GET %s: decoding answer: %w", u, err)
	}
	return resp, nil
}

// Discovery is the server's discovery resource.
type Discovery struct {
	Title    string   `json:"title"`
	Default  string   `json:"default"`
	APIRoots []string `json:"api_roots"`
}

// Discover reads /taxii2/ of the server at base.
func (c *Client) Discover(ctx context.Context, base string) (Discovery, error) {
	var d Discovery
	u := strings.TrimSuffix(base, "/") + "/taxii2/"
	_, err := c.getJSON(ctx, u, &d)
	return d, err
}

// Collection is a TAXII collection resource.
type Collection struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	CanRead  bool   `json:"can_read"`
	CanWrite bool   `json:"can_write"`
}

// Collections lists an API root's collections.
func (c *Client) Collections(ctx context.Context, apiRoot string) ([]Collection, error) {
	var r struct {
		Collections []Collection `json:"collections"`
	}
	_, err := c.getJSON(ctx, dirURL(apiRoot)+"collections/", &r)
	return r.Collections, err
}

// FindCollection resolves a collection by id or title.
func (c *Client) FindCollection(ctx context.Context, apiRoot, idOrTitle string) (Collection, error) {
	cs, err := c.Collections(ctx, apiRoot)
	if err != nil {
		return Collection{}, err
	}
	for _, col := range cs {
		if col.ID == idOrTitle || col.Title == idOrTitle {
			return col, nil
		}
	}
	return Collection{}, fmt.Errorf("collection %q not found at %s", idOrTitle, apiRoot)
}

// ResolveAPIRoot turns what a user typed (a server base, a discovery URL
// or an API root) into an API root URL.
func (c *Client) ResolveAPIRoot(ctx context.Context, u string) (string, error) {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme == "" || pu.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL", u)
	}
	if p := strings.TrimSuffix(pu.Path, "/"); p != "" && p != "/taxii2" {
		return dirURL(u), nil // already an API root
	}
	d, err := c.Discover(ctx, pu.Scheme+"://"+pu.Host)
	if err != nil {
		return "", err
	}
	root := d.Default
	if root == "" && len(d.APIRoots) > 0 {
		root = d.APIRoots[0]
	}
	if root == "" {
		return "", fmt.Errorf("%s lists no API root", u)
	}
	ru, err := pu.Parse(root)
	if err != nil {
		return "", err
	}
	return dirURL(ru.String()), nil
}

func dirURL(u string) string {
	if strings.HasSuffix(u, "/") {
		return u
	}
	return u + "/"
}

// Cursor is where a pull stands; it is saved between runs.
type Cursor struct {
	AddedAfter string          `json:"added_after,omitempty"` // last X-TAXII-Date-Added-Last seen
	Next       string          `json:"next,omitempty"`        // server's next token, if the page said more
	Seen       map[string]bool `json:"seen,omitempty"`        // id|version pairs at AddedAfter, to skip when re-asked
}

// Page is one page of a pull, handed to the caller before the cursor moves.
type Page struct {
	Objects []json.RawMessage
	Cursor  Cursor // where to resume after this page is stored
}

// Pull reads a collection's objects from cur on, page by page, calling
// handle for each page; it returns the final cursor. handle must store the
// page before returning: the cursor it gets is only valid once the page is
// safe, which is what makes an interrupted pull resumable.
func (c *Client) Pull(ctx context.Context, apiRoot, collection string, limit int, cur Cursor, handle func(Page) error) (Cursor, error) {
	base := dirURL(apiRoot) + "collections/" + url.PathEscape(collection) + "/objects/"
	for {
		q := url.Values{}
		if limit > 0 {
			q.Set("limit", strconv.Itoa(limit))
		}
		switch {
		case cur.Next != "":
			q.Set("next", cur.Next)
		case cur.AddedAfter != "":
			q.Set("added_after", cur.AddedAfter)
		}
		var env struct {
			More    bool              `json:"more"`
			Next    string            `json:"next"`
			Objects []json.RawMessage `json:"objects"`
		}
		resp, err := c.getJSON(ctx, base+"?"+q.Encode(), &env)
		if err != nil {
			var te *Error
			if cur.Next != "" && errors.As(err, &te) && te.Status == http.StatusBadRequest {
				// An expired or refused next token: fall back to added_after.
				cur.Next = ""
				continue
			}
			return cur, err
		}
		last := resp.Header.Get("X-TAXII-Date-Added-Last")
		next := Cursor{AddedAfter: cur.AddedAfter, Seen: map[string]bool{}}
		if last != "" {
			next.AddedAfter = last
		}
		// Drop what the previous page already brought (servers whose
		// added_after is effectively inclusive, or several objects at one
		// date_added split across pages).
		fresh := env.Objects[:0]
		for _, raw := range env.Objects {
			k := objectKey(raw)
			if cur.Seen[k] && cur.Next == "" {
				continue
			}
			fresh = append(fresh, raw)
			next.Seen[k] = true
		}
		if env.More && env.Next != "" {
			next.Next = env.Next
		}
		if len(fresh) > 0 {
			if err := handle(Page{Objects: fresh, Cursor: next}); err != nil {
				return cur, err
			}
		}
		progressed := next.Next != "" || next.AddedAfter != cur.AddedAfter || len(fresh) > 0
		cur = next
		if !env.More || !progressed {
			return cur, nil
		}
	}
}

func objectKey(raw json.RawMessage) string {
	var h struct {
		ID       string `json:"id"`
		Modified string `json:"modified"`
		Created  string `json:"created"`
	}
	_ = json.Unmarshal(raw, &h)
	v := h.Modified
	if v == "" {
		v = h.Created
	}
	return h.ID + "|" + v
}

// Status is a TAXII status resource.
type Status struct {
	ID           string `json:"id"`
	Status       string `json:"status"`
	TotalCount   int    `json:"total_count"`
	SuccessCount int    `json:"success_count"`
	FailureCount int    `json:"failure_count"`
	PendingCount int    `json:"pending_count"`
	Failures     []struct {
		ID      string `json:"id"`
		Version string `json:"version"`
		Message string `json:"message"`
	} `json:"failures"`
}

// Push posts objects in envelopes of at most maxBytes each and waits until
// every status is complete. It returns the summed counts.
func (c *Client) Push(ctx context.Context, apiRoot, collection string, objects []json.RawMessage, maxBytes int) (Status, error) {
	if maxBytes <= 0 {
		maxBytes = 8 << 20
	}
	u := dirURL(apiRoot) + "collections/" + url.PathEscape(collection) + "/objects/"
	var total Status
	for start := 0; start < len(objects); {
		size := len(`{"objects":[]}`)
		end := start
		for end < len(objects) && (end == start || size+len(objects[end])+1 <= maxBytes) {
			size += len(objects[end]) + 1
			end++
		}
		body, err := json.Marshal(map[string]any{"objects": objects[start:end]})
		if err != nil {
			return total, err
		}
		_, data, err := c.do(ctx, http.MethodPost, u, body)
		if err != nil {
			return total, err
		}
		var st Status
		if err := json.Unmarshal(data, &st); err != nil {
			return total, fmt.Errorf("POST %s: decoding status: %w", u, err)
		}
		for st.Status != "complete" {
			if err := c.sleep(ctx, 500*time.Millisecond); err != nil {
				return total, err
			}
			if _, err := c.getJSON(ctx, dirURL(apiRoot)+"status/"+url.PathEscape(st.ID)+"/", &st); err != nil {
				return total, err
			}
		}
		total.TotalCount += st.TotalCount
		total.SuccessCount += st.SuccessCount
		total.FailureCount += st.FailureCount
		total.Failures = append(total.Failures, st.Failures...)
		start = end
	}
	total.Status = "complete"
	return total, nil
}
