package taxii

import (
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bulwark-intel/bulwark/internal/access"
)

// challenge is sent with every 401: both schemes the server accepts.
var challenge = []string{`Bearer realm="bulwark"`, `Basic realm="bulwark", charset="UTF-8"`}

// authenticate turns the Authorization header into a viewer. No header is
// the anonymous viewer; a header that does not authenticate is 401, and an
// address with too many recent failures is 429 before its token is even
// looked at, so tokens cannot be guessed at speed.
func (s *server) authenticate(w http.ResponseWriter, r *http.Request) (access.Viewer, bool) {
	h := r.Header.Values("Authorization")
	if len(h) == 0 {
		return access.Anonymous, true
	}
	addr := remoteHost(r.RemoteAddr)
	if wait := s.throttle.blocked(addr); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		writeError(w, http.StatusTooManyRequests, "Too many requests", "too many failed authentications from this address; retry later")
		return access.Viewer{}, false
	}
	secret, ok := credential(h)
	if !ok {
		s.unauthorized(w, addr, "the Authorization header must be Bearer <token> or Basic with the token as password")
		return access.Viewer{}, false
	}
	v, err := s.svc.Authenticate(r.Context(), secret)
	if errors.Is(err, access.ErrUnauthenticated) {
		s.unauthorized(w, addr, "the token is unknown, revoked or expired")
		return access.Viewer{}, false
	}
	if err != nil {
		s.fail(w, r, err)
		return access.Viewer{}, false
	}
	return v, true
}

func (s *server) unauthorized(w http.ResponseWriter, addr, why string) {
	s.throttle.fail(addr)
	for _, c := range challenge {
		w.Header().Add("WWW-Authenticate", c)
	}
	writeError(w, http.StatusUnauthorized, "Unauthorized", why)
}

// credential extracts the token from one Authorization header: Bearer, or
// Basic with the token as the password and any user name.
func credential(h []string) (string, bool) {
	if len(h) != 1 {
		return "", false
	}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h[0]), " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(scheme) {
	case "bearer":
		return rest, rest != ""
	case "basic":
		if len(rest) > 1024 {
			return "", false
		}
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return "", false
		}
		_, pass, ok := strings.Cut(string(raw), ":")
		return pass, ok && pass != ""
	}
	return "", false
}

func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}

// throttle counts failed authentications per address in fixed windows.
type throttle struct {
	now    func() time.Time
	limit  int
	window time.Duration

	mu   sync.Mutex
	seen map[string]*failures
}

type failures struct {
	start time.Time
	n     int
}

// maxTracked bounds the addresses remembered; beyond it expired windows are
// swept, and if none has expired the table is reset (an attacker spraying
// from that many addresses is not stopped by per-address counting anyway).
const maxTracked = 100_000

func newThrottle(now func() time.Time, limit int, window time.Duration) *throttle {
	return &throttle{now: now, limit: limit, window: window, seen: map[string]*failures{}}
}

// blocked returns how long the address must wait, or 0.
func (t *throttle) blocked(addr string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.seen[addr]
	if f == nil {
		return 0
	}
	left := f.start.Add(t.window).Sub(t.now())
	if left <= 0 {
		delete(t.seen, addr)
		return 0
	}
	if f.n >= t.limit {
		return left
	}
	return 0
}

func (t *throttle) fail(addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	f := t.seen[addr]
	if f == nil || now.Sub(f.start) >= t.window {
		if len(t.seen) >= maxTracked {
			for a, g := range t.seen {
				if now.Sub(g.start) >= t.window {
					delete(t.seen, a)
				}
			}
			if len(t.seen) >= maxTracked {
				clear(t.seen)
			}
		}
		f = &failures{start: now}
		t.seen[addr] = f
	}
	f.n++
}
