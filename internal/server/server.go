// Package server is the composition root of the HTTP side: it wires the
// store, the lookups and the metrics into one http.Handler. The TAXII hub
// mounts here too once it exists.
//
// Until organisations and tokens exist, every answer is limited to a
// maximum TLP fixed when the server starts (TLP:CLEAR by default), because
// an unauthenticated reader must never see more than the operator chose to
// publish.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/chain/screen"
	"github.com/bulwark-intel/bulwark/internal/lookup"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// Options configures a Server.
type Options struct {
	// MaxTLP is the most restrictive TLP the API shows. TLPNone means CLEAR.
	MaxTLP stix.TLP
	Logger *slog.Logger
	// TAXII, when set, serves every path the routes above do not: the
	// TAXII 2.1 discovery and API roots.
	TAXII http.Handler
	// Access, when set, authenticates API requests (Bearer or Basic with
	// the token as password) and answers each viewer only with what the
	// access policy lets it see, capped by MaxTLP. Unset, the API answers
	// from the whole store up to MaxTLP (local use and tests).
	Access *access.Service
	// Admin, with Access, enables the admin API under /api/v1/admin/.
	Admin Admin
	// Screen is the index POST /api/v1/screen answers from (see screen.go);
	// unset, the server makes one over its store.
	Screen *screen.Index
}

// Server serves the read-only API, health and metrics.
type Server struct {
	r    store.Reader
	opts Options
	log  *slog.Logger
	mux  *http.ServeMux

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	statsMu   sync.Mutex
	stats     store.Stats
	statsTime time.Time

	scr screening
}

// maxQueryLen bounds a search value or actor name.
const maxQueryLen = 4096

// New builds the handler tree.
func New(r store.Reader, opts Options) *Server {
	if opts.MaxTLP == stix.TLPNone {
		opts.MaxTLP = stix.TLPClear
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{r: r, opts: opts, log: opts.Logger, mux: http.NewServeMux()}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bulwark_http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "bulwark_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route"})
	objects := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "bulwark_store_objects", Help: "Distinct objects in the store (refreshed at most every 30 s).",
	}, func() float64 { return float64(s.cachedStats().Objects) })
	versions := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "bulwark_store_versions", Help: "Stored object versions (refreshed at most every 30 s).",
	}, func() float64 { return float64(s.cachedStats().Versions) })
	reg.MustRegister(s.requests, s.latency, objects, versions)

	s.handle("GET /healthz", s.health)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	s.handle("GET /api/v1/search", s.search)
	s.handle("GET /api/v1/actors/{name}", s.actor)
	s.handle("GET /api/v1/objects/{id}", s.object)
	s.handle("GET /api/v1/stats", s.statsHandler)
	s.handle("POST /api/v1/screen", s.screen)
	s.adminRoutes()
	if opts.TAXII != nil {
		s.mux.Handle("/", s.instrument("taxii", opts.TAXII))
	}
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// handle registers a route with metrics and panic-free error handling.
func (s *Server) handle(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if s.opts.Access != nil {
			// One reading of the store's generations per request.
			r = r.WithContext(s.opts.Access.WithRequest(r.Context()))
		}
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		if err := h(sw, r); err != nil {
			code := http.StatusInternalServerError
			var he *httpError
			if errors.As(err, &he) {
				code = he.code
			} else if !errors.Is(err, context.Canceled) {
				s.log.Error("request failed", "route", pattern, "err", err)
			}
			msg := http.StatusText(code)
			if he != nil {
				msg = he.msg
			}
			writeJSON(sw, code, map[string]any{"error": msg, "http_status": code})
		}
		s.requests.WithLabelValues(pattern, strconv.Itoa(sw.code)).Inc()
		s.latency.WithLabelValues(pattern).Observe(time.Since(start).Seconds())
	})
}

// instrument counts and times a handler's requests.
func (s *Server) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, r)
		s.requests.WithLabelValues(route, strconv.Itoa(sw.code)).Inc()
		s.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(msg string) error { return &httpError{http.StatusBadRequest, msg} }

var errNotFound = &httpError{http.StatusNotFound, "not found"}

func writeJSON(w http.ResponseWriter, code int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	return json.NewEncoder(w).Encode(v)
}

func (s *Server) filter() lookup.Filter { return lookup.Filter{MaxTLP: s.opts.MaxTLP} }

// reader is the store as the request's viewer may see it.
func (s *Server) reader(r *http.Request) (store.Reader, error) {
	if s.opts.Access == nil {
		return tlpReader{Reader: s.r, max: s.opts.MaxTLP}, nil
	}
	tok := bearer(r)
	if tok == "" {
		return s.opts.Access.ReaderFor(access.Anonymous), nil
	}
	v, err := s.opts.Access.Authenticate(r.Context(), tok)
	if errors.Is(err, access.ErrUnauthenticated) {
		return nil, &httpError{http.StatusUnauthorized, "invalid token"}
	}
	if err != nil {
		return nil, err
	}
	return s.opts.Access.ReaderFor(v), nil
}

// bearer takes the token from "Authorization: Bearer T" or from the
// password of HTTP Basic.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	if _, pw, ok := r.BasicAuth(); ok {
		return pw
	}
	return ""
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.r.Latest(ctx, []string{"identity--00000000-0000-4000-8000-000000000000"}); err != nil {
		return &httpError{http.StatusServiceUnavailable, "store unavailable"}
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query().Get("value")
	if v == "" {
		return badRequest("missing parameter value")
	}
	if len(v) > maxQueryLen {
		return badRequest("value too long")
	}
	rd, err := s.reader(r)
	if err != nil {
		return err
	}
	res, err := lookup.Value(r.Context(), rd, v, s.filter())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

func (s *Server) actor(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if len(name) > maxQueryLen {
		return badRequest("name too long")
	}
	rd, err := s.reader(r)
	if err != nil {
		return err
	}
	p, err := lookup.Actor(r.Context(), rd, name, s.filter())
	if errors.Is(err, lookup.ErrNoActor) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) object(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, _, err := stix.ParseID(id); err != nil {
		return badRequest("invalid id")
	}
	rd, err := s.reader(r)
	if err != nil {
		return err
	}
	recs, err := rd.Get(r.Context(), id, store.Versions{Mode: store.Last})
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	rec := recs[len(recs)-1]
	t := rec.EffectiveTLP
	if t == stix.TLPNone {
		t = stix.TLPAmber
	}
	if t > s.opts.MaxTLP {
		return errNotFound // never confirm that a hidden object exists
	}
	w.Header().Set("Content-Type", "application/stix+json;version=2.1")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(rec.Object.Raw)
	return err
}

func (s *Server) statsHandler(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Access != nil {
		// Store-wide counts are for administrators only.
		rd, err := s.reader(r)
		if err != nil {
			return err
		}
		st, err := rd.Stats(r.Context())
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, st)
	}
	return writeJSON(w, http.StatusOK, s.cachedStats())
}

// cachedStats keeps counting (a full scan on large stores) off the hot path.
func (s *Server) cachedStats() store.Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	if time.Since(s.statsTime) < 30*time.Second {
		return s.stats
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.r.Stats(ctx)
	if err != nil {
		s.log.Warn("counting store objects", "err", err)
		return s.stats
	}
	s.stats, s.statsTime = st, time.Now()
	return st
}
