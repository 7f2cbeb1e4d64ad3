package taxii

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
	"github.com/bulwark-intel/bulwark/internal/store/sqlstore"
)

var ctx = context.Background()

const root = "/taxii2/api/"

// hub is a test server over a fresh SQLite store.
type hub struct {
	t      *testing.T
	path   string // the database file
	st     *sqlstore.Store
	svc    *access.Service
	h      http.Handler
	clock  *clock
	orgs   map[string]store.Org
	tokens map[string]string // org name → secret
	colls  map[string]store.Collection
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newHub(t *testing.T, opts Options) *hub {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hub.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Now()}
	if opts.Now == nil {
		opts.Now = c.now
	}
	svc := access.New(st)
	return &hub{
		t: t, path: path, st: st, svc: svc, h: New(svc, opts), clock: c,
		orgs: map[string]store.Org{}, tokens: map[string]string{}, colls: map[string]store.Collection{},
	}
}

func (hb *hub) org(name string, clearance stix.TLP, admin bool) store.Org {
	hb.t.Helper()
	o, err := hb.st.CreateOrg(ctx, store.Org{Name: name, Clearance: clearance, Admin: admin})
	if err != nil {
		hb.t.Fatal(err)
	}
	secret, _, err := hb.svc.NewToken(ctx, name, time.Time{})
	if err != nil {
		hb.t.Fatal(err)
	}
	hb.orgs[name], hb.tokens[name] = o, secret
	return o
}

func (hb *hub) coll(title string, def stix.TLP, public bool) store.Collection {
	hb.t.Helper()
	c, err := hb.st.CreateCollection(ctx, store.Collection{Title: title, DefaultTLP: def, Public: public})
	if err != nil {
		hb.t.Fatal(err)
	}
	hb.colls[title] = c
	return c
}

func (hb *hub) grant(org, coll string, read, write bool) {
	hb.t.Helper()
	if err := hb.st.SetGrant(ctx, store.Grant{Org: hb.orgs[org].ID, Collection: hb.colls[coll].ID, Read: read, Write: write}); err != nil {
		hb.t.Fatal(err)
	}
}

// put stores objects directly (test setup, not through the server).
func (hb *hub) put(coll string, objs ...string) {
	hb.t.Helper()
	var items []store.PutItem
	for _, raw := range objs {
		o, err := stix.Decode([]byte(raw))
		if err != nil {
			hb.t.Fatalf("fixture %s: %v", raw, err)
		}
		items = append(items, store.PutItem{Object: o, Source: "test"})
	}
	if _, err := hb.st.Put(ctx, hb.colls[coll].ID, items); err != nil {
		hb.t.Fatal(err)
	}
}

// resp is a recorded response.
type resp struct {
	code int
	h    http.Header
	body []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
}

// req is a request under construction.
type req struct {
	method, path string
	body         string
	auth         string // org name, or a raw Authorization header value after "raw:"
	headers      map[string]string
	remote       string
}

func (hb *hub) do(r req) resp {
	hb.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	hr := httptest.NewRequest(method, r.path, body)
	hr.Header.Set("Accept", MediaType)
	if method == http.MethodPost {
		hr.Header.Set("Content-Type", MediaType)
	}
	if r.remote != "" {
		hr.RemoteAddr = r.remote
	}
	switch {
	case strings.HasPrefix(r.auth, "raw:"):
		hr.Header.Set("Authorization", strings.TrimPrefix(r.auth, "raw:"))
	case r.auth != "":
		hr.Header.Set("Authorization", "Bearer "+hb.tokens[r.auth])
	}
	for k, v := range r.headers {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	w := httptest.NewRecorder()
	hb.h.ServeHTTP(w, hr)
	return resp{code: w.Code, h: w.Header(), body: w.Body.Bytes()}
}

func (hb *hub) get(path, auth string) resp {
	hb.t.Helper()
	return hb.do(req{path: path, auth: auth})
}

func basic(user, pass string) string {
	return "raw:Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// Fixture objects.

var uuidN = 0

func newID(typ string) string {
	uuidN++
	return fmt.Sprintf("%s--%08x-0000-4000-8000-%012x", typ, uuidN, uuidN)
}

func ts(sec int) string {
	return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(sec) * time.Second).Format("2006-01-02T15:04:05.000Z")
}

// indicator builds an indicator version; markings and extra props optional.
func indicator(id string, modified int, createdBy string, markings []string, extra map[string]any) string {
	m := map[string]any{
		"type": "indicator", "spec_version": "2.1", "id": id,
		"created": ts(0), "modified": ts(modified), "name": "ind " + id,
		"pattern": "[ipv4-addr:value = '10.0.0.1']", "pattern_type": "stix", "valid_from": ts(0),
	}
	if createdBy != "" {
		m["created_by_ref"] = createdBy
	}
	if len(markings) > 0 {
		m["object_marking_refs"] = markings
	}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func malware(id string, modified int, markings []string) string {
	m := map[string]any{
		"type": "malware", "spec_version": "2.1", "id": id, "created": ts(0), "modified": ts(modified),
		"name": "mal " + id, "is_family": true,
	}
	if len(markings) > 0 {
		m["object_marking_refs"] = markings
	}
	b, _ := json.Marshal(m)
	return string(b)
}

type envelope struct {
	More    *bool             `json:"more"`
	Next    string            `json:"next"`
	Objects []json.RawMessage `json:"objects"`
}

func objIDs(t *testing.T, objs []json.RawMessage) []string {
	t.Helper()
	var out []string
	for _, o := range objs {
		var h struct {
			ID       string `json:"id"`
			Modified string `json:"modified"`
		}
		if err := json.Unmarshal(o, &h); err != nil {
			t.Fatal(err)
		}
		out = append(out, h.ID+"@"+h.Modified)
	}
	return out
}

// httptestRequestNoLength posts a body of unknown length (chunked).
func httptestRequestNoLength(path, body, token string) *http.Request {
	hr := httptest.NewRequest(http.MethodPost, path, io.MultiReader(strings.NewReader(body)))
	hr.ContentLength = -1
	hr.Header.Set("Content-Type", MediaType)
	hr.Header.Set("Authorization", "Bearer "+token)
	return hr
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }
