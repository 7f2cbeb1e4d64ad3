// Package taxii is the TAXII 2.1 server of the hub (OASIS TAXII 2.1, June
// 2021, §4–§5): discovery, one API root, status, collections, manifest,
// objects (GET, POST), object by id (GET, DELETE) and versions.
//
// It is built only on internal/access: every read goes through
// access.Service.Query (or QueryRaw, which hands over stored JSON for the
// envelopes of the objects endpoints), which pushes the collection grant,
// the viewer's TLP clearance and the TLP:RED recipients into the store
// query, so limits, "more", "next" and the X-TAXII-Date-Added headers are
// computed over the objects the viewer may see and nothing else. Writes go
// through access.Service.Put and deletes through access.Service.Remove.
// Each request runs under access.Service.WithRequest, so the caches below
// access are checked against the store once per request.
//
// Paths end in '/'; the same paths without the trailing slash are served by
// the same handlers (no redirect, so a POST is never turned into a GET by a
// client following one).
package taxii

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// Media types of TAXII 2.1 and of the STIX content it carries.
const (
	MediaType     = "application/taxii+json;version=2.1"
	STIXMediaType = "application/stix+json;version=2.1"
)

// Options configure the server. Zero values take the defaults.
type Options struct {
	// Discovery is the discovery path, "/taxii2/" by default (the spec
	// fixes it; changing it only makes sense behind a rewriting proxy).
	Discovery string
	// APIRoot is the path of the one API root, "/taxii2/api/" by default.
	APIRoot string
	// Title and Description describe the server and its API root.
	Title       string
	Description string
	Contact     string
	// MaxContentLength is the largest POST body accepted, 32 MiB by default.
	MaxContentLength int64
	// MaxPageSize caps limit and is the page size when none is asked
	// (default 1000, at most store.MaxLimit).
	MaxPageSize int
	// StatusTTL is how long POST statuses stay readable (at least 24 h).
	// They are kept in the store when it can, so they survive a restart.
	StatusTTL time.Duration
	// MaxStatusEntries bounds the per-object entries of the statuses kept
	// in memory, when the store cannot keep them (default 1,000,000); the
	// oldest statuses are dropped first.
	MaxStatusEntries int
	// NextTTL is how long a "next" token stays valid (default 1 h).
	NextTTL time.Duration
	// AuthFailures failed authentications from one address within
	// AuthWindow answer 429 until the window ends (defaults 10 and 1 min).
	AuthFailures int
	AuthWindow   time.Duration
	Logger       *slog.Logger
	Now          func() time.Time
}

func (o *Options) defaults() {
	if o.Discovery == "" {
		o.Discovery = "/taxii2/"
	}
	if o.APIRoot == "" {
		o.APIRoot = "/taxii2/api/"
	}
	o.Discovery = slashed(o.Discovery)
	o.APIRoot = slashed(o.APIRoot)
	if o.Title == "" {
		o.Title = "Bulwark TAXII 2.1 server"
	}
	if o.MaxContentLength <= 0 {
		o.MaxContentLength = 32 << 20
	}
	if o.MaxPageSize <= 0 {
		o.MaxPageSize = store.DefaultLimit
	}
	o.MaxPageSize = min(o.MaxPageSize, store.MaxLimit)
	if o.StatusTTL < 24*time.Hour {
		o.StatusTTL = 24 * time.Hour
	}
	if o.MaxStatusEntries <= 0 {
		o.MaxStatusEntries = 1_000_000
	}
	if o.NextTTL <= 0 {
		o.NextTTL = time.Hour
	}
	if o.AuthFailures <= 0 {
		o.AuthFailures = 10
	}
	if o.AuthWindow <= 0 {
		o.AuthWindow = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func slashed(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

type server struct {
	svc         *access.Service
	opt         Options
	log         *slog.Logger
	tokens      *tokenSigner
	statuses    *statusStore
	statusSweep atomic.Int64 // unix second of the last expiry of stored statuses
	throttle    *throttle
}

// New returns the TAXII 2.1 server over the access service.
func New(svc *access.Service, opts Options) http.Handler {
	opts.defaults()
	s := &server{
		svc:      svc,
		opt:      opts,
		log:      opts.Logger,
		tokens:   newTokenSigner(opts.Now, opts.NextTTL),
		statuses: newStatusStore(opts.Now, opts.StatusTTL, opts.MaxStatusEntries),
		throttle: newThrottle(opts.Now, opts.AuthFailures, opts.AuthWindow),
	}
	mux := http.NewServeMux()
	root := opts.APIRoot
	route := func(path string, h func(http.ResponseWriter, *http.Request, access.Viewer), methods ...string) {
		handler := s.endpoint(h, methods...)
		mux.Handle(path+"{$}", handler)
		if p := strings.TrimSuffix(path, "/"); p != "" {
			mux.Handle(p, handler) // a path not ending in '/' matches exactly
		}
	}
	route(opts.Discovery, s.discovery, http.MethodGet)
	route(root, s.apiRoot, http.MethodGet)
	route(root+"status/{status}/", s.status, http.MethodGet)
	route(root+"collections/", s.collections, http.MethodGet)
	route(root+"collections/{coll}/", s.collection, http.MethodGet)
	route(root+"collections/{coll}/manifest/", s.manifest, http.MethodGet)
	route(root+"collections/{coll}/objects/", s.objects, http.MethodGet, http.MethodPost)
	route(root+"collections/{coll}/objects/{obj}/", s.object, http.MethodGet, http.MethodDelete)
	route(root+"collections/{coll}/objects/{obj}/versions/", s.versions, http.MethodGet)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not found", "no TAXII endpoint at "+r.URL.Path)
	})
	return mux
}

// endpoint wraps a handler with method dispatch, content negotiation and
// authentication, in that order: a request that cannot be answered in a
// TAXII media type, or with the wrong method, costs no token lookup.
func (s *server) endpoint(h func(http.ResponseWriter, *http.Request, access.Viewer), methods ...string) http.Handler {
	allow := strings.Join(append(methods, http.MethodHead), ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		ok := false
		for _, m := range methods {
			ok = ok || m == method
		}
		if !ok {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, "Method not allowed", r.Method+" is not supported here; allowed: "+allow)
			return
		}
		if !acceptable(r.Header.Values("Accept")) {
			writeError(w, http.StatusNotAcceptable, "Not acceptable", "the Accept header names no TAXII 2.1 media type; send "+MediaType)
			return
		}
		// One reading of the store's generations for the whole request
		// (see access.Service.WithRequest).
		r = r.WithContext(s.svc.WithRequest(r.Context()))
		v, ok := s.authenticate(w, r)
		if !ok {
			return
		}
		h(w, r, v)
	})
}

// acceptable reports whether an Accept header admits TAXII 2.1 JSON. A
// missing header admits anything.
func acceptable(values []string) bool {
	if len(values) == 0 {
		return true
	}
	seen := false
	for _, v := range values {
		for _, rng := range strings.Split(v, ",") {
			if strings.TrimSpace(rng) == "" {
				continue
			}
			seen = true
			mt, params, err := mime.ParseMediaType(rng)
			if err != nil {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err != nil || f <= 0 {
					continue
				}
			}
			switch mt {
			case "*/*", "application/*":
				return true
			case "application/taxii+json":
				if ver, ok := params["version"]; !ok || ver == "2.1" {
					return true
				}
			}
		}
	}
	return !seen
}

// postContentType reports whether a POST body is declared as TAXII 2.1 JSON.
func postContentType(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/taxii+json" {
		return false
	}
	ver, ok := params["version"]
	return !ok || ver == "2.1"
}

// errorBody is the TAXII error message (§3.6.1); http_status is a string.
type errorBody struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	HTTPStatus  string `json:"http_status"`
}

func writeError(w http.ResponseWriter, status int, title, description string) {
	writeJSON(w, status, errorBody{Title: title, Description: description, HTTPStatus: strconv.Itoa(status)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"title":"Internal error","http_status":"500"}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", MediaType)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// fail maps an error from access or the store to a TAXII error response.
// Not found and forbidden keep their meaning; anything else is logged and
// answered 500 without details.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var pe *paramError
	switch {
	case errors.As(err, &pe):
		writeError(w, http.StatusBadRequest, "Bad request", pe.Error())
	case errors.Is(err, store.ErrInvalidCursor):
		writeError(w, http.StatusBadRequest, "Bad request", "invalid next token")
	case errors.Is(err, access.ErrNotFound):
		writeError(w, http.StatusNotFound, "Not found", "no such resource, or no access to it")
	case errors.Is(err, access.ErrForbidden):
		writeError(w, http.StatusForbidden, "Forbidden", "no permission for this operation on the collection")
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
	default:
		s.log.Error("taxii request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "Internal error", "the server could not answer; see its log")
	}
}

// discovery answers GET /taxii2/ (§4.1).
func (s *server) discovery(w http.ResponseWriter, r *http.Request, _ access.Viewer) {
	if !noParams(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Title       string   `json:"title"`
		Description string   `json:"description,omitempty"`
		Contact     string   `json:"contact,omitempty"`
		Default     string   `json:"default"`
		APIRoots    []string `json:"api_roots"`
	}{s.opt.Title, s.opt.Description, s.opt.Contact, s.opt.APIRoot, []string{s.opt.APIRoot}})
}

// apiRoot answers GET {root}/ (§4.2).
func (s *server) apiRoot(w http.ResponseWriter, r *http.Request, _ access.Viewer) {
	if !noParams(w, r) {
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Title            string   `json:"title"`
		Description      string   `json:"description,omitempty"`
		Versions         []string `json:"versions"`
		MaxContentLength int64    `json:"max_content_length"`
	}{s.opt.Title, s.opt.Description, []string{MediaType}, s.opt.MaxContentLength})
}

// noParams refuses malformed query strings on endpoints without filters;
// unknown parameters are ignored (§3.4 lets servers ignore what they do not
// understand).
func noParams(w http.ResponseWriter, r *http.Request) bool {
	if _, err := parseRawQuery(r.URL.RawQuery); err != nil {
		writeError(w, http.StatusBadRequest, "Bad request", err.Error())
		return false
	}
	return true
}

type collectionResource struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	CanRead     bool     `json:"can_read"`
	CanWrite    bool     `json:"can_write"`
	MediaTypes  []string `json:"media_types"`
}

func toResource(c access.CollectionAccess) collectionResource {
	return collectionResource{
		ID: c.ID, Title: c.Title, Description: c.Description,
		CanRead: c.CanRead, CanWrite: c.CanWrite, MediaTypes: []string{STIXMediaType},
	}
}

// collections answers GET {root}/collections/ (§5.1): the collections the
// viewer may read or write, in creation order.
func (s *server) collections(w http.ResponseWriter, r *http.Request, v access.Viewer) {
	if !noParams(w, r) {
		return
	}
	cs, err := s.svc.Collections(r.Context(), v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var out struct {
		Collections []collectionResource `json:"collections,omitempty"`
	}
	for _, c := range cs {
		out.Collections = append(out.Collections, toResource(c))
	}
	writeJSON(w, http.StatusOK, out)
}

// collection answers GET {root}/collections/{id}/ (§5.2).
func (s *server) collection(w http.ResponseWriter, r *http.Request, v access.Viewer) {
	if !noParams(w, r) {
		return
	}
	ca, err := s.lookup(r, v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toResource(ca))
}

// lookup finds the collection of the path as the viewer sees it. Only ids
// name collections over TAXII: access would also resolve titles, which
// would make one collection answer under two URLs.
func (s *server) lookup(r *http.Request, v access.Viewer) (access.CollectionAccess, error) {
	id := r.PathValue("coll")
	ca, err := s.svc.Collection(r.Context(), v, id)
	if err != nil {
		return ca, err
	}
	if ca.ID != id {
		return access.CollectionAccess{}, access.ErrNotFound
	}
	return ca, nil
}

// readable finds the collection and requires read permission: a collection
// the viewer cannot see at all is 404, one it may only write is 403.
func (s *server) readable(w http.ResponseWriter, r *http.Request, v access.Viewer) (access.CollectionAccess, bool) {
	ca, err := s.lookup(r, v)
	if err != nil {
		s.fail(w, r, err)
		return ca, false
	}
	if !ca.CanRead {
		writeError(w, http.StatusForbidden, "Forbidden", "this collection is write-only for you")
		return ca, false
	}
	return ca, true
}
