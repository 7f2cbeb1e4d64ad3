package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/chain/screen"
)

// screenRefresh is how stale the server's own screening index may get: a
// request finding it older starts an update in the background.
const screenRefresh = 5 * time.Second

// screenBodyLimit bounds a screening request: 10,000 addresses of up to
// 128 characters, quoted, with room to spare.
const screenBodyLimit = 4 << 20

// screening is the server's own index, made on first use when Options
// gives none.
type screening struct {
	once sync.Once
	ix   *screen.Index
	err  error
}

func (s *Server) screenIndex() (*screen.Index, error) {
	if s.opts.Screen != nil {
		return s.opts.Screen, nil
	}
	s.scr.once.Do(func() {
		src, ok := s.r.(screen.Store)
		if !ok {
			s.scr.err = errors.New("screening needs a store that lists its collections")
			return
		}
		s.scr.ix = screen.NewIndex(src, screen.IndexOptions{Logger: s.log})
	})
	return s.scr.ix, s.scr.err
}

// screenPolicy is what the request's viewer may see: the access service's
// decision for it when there is one, capped by --max-tlp; without the
// service, everything up to --max-tlp (local use).
func (s *Server) screenPolicy(r *http.Request) (screen.Policy, error) {
	if s.opts.Access == nil {
		return screen.Operator(s.opts.MaxTLP), nil
	}
	v := access.Anonymous
	if tok := bearer(r); tok != "" {
		var err error
		v, err = s.opts.Access.Authenticate(r.Context(), tok)
		if errors.Is(err, access.ErrUnauthenticated) {
			return screen.Policy{}, &httpError{http.StatusUnauthorized, "invalid token"}
		}
		if err != nil {
			return screen.Policy{}, err
		}
	}
	pol, err := screen.PolicyFor(r.Context(), s.opts.Access, v)
	if err != nil {
		return screen.Policy{}, err
	}
	return pol.Cap(s.opts.MaxTLP), nil
}

// screen answers a batch of up to screen.MaxBatch addresses with the
// evidence the viewer may see: {"addresses": [...]} → {"results": [...]}.
func (s *Server) screen(w http.ResponseWriter, r *http.Request) error {
	buf := screenBufs.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 4<<20 {
			buf.Reset()
			screenBufs.Put(buf)
		}
	}()
	buf.Reset()
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, screenBodyLimit)); err != nil {
		return badRequest("reading the body: " + err.Error())
	}
	addrs, ok := parseAddresses(buf.Bytes())
	if !ok {
		var in struct {
			Addresses []string `json:"addresses"`
		}
		if err := json.Unmarshal(buf.Bytes(), &in); err != nil {
			return badRequest("invalid JSON body: " + err.Error())
		}
		addrs = in.Addresses
	}
	if len(addrs) == 0 || len(addrs) > screen.MaxBatch {
		return badRequest(fmt.Sprintf("addresses: give 1 to %d", screen.MaxBatch))
	}
	pol, err := s.screenPolicy(r)
	if err != nil {
		return err
	}
	ix, err := s.screenIndex()
	if err != nil {
		return err
	}
	if err := ix.Refresh(r.Context(), screenRefresh); err != nil {
		return fmt.Errorf("screening index: %w", err)
	}
	// The results are dead once encoded: their memory serves the next
	// request (screen.Batch).
	batch := screenBatches.Get().(*screen.Batch)
	defer screenBatches.Put(batch)
	if err := ix.ScreenBatch(r.Context(), pol, addrs, batch); err != nil {
		return err
	}
	// The same bytes as writeJSON, several times faster for large batches.
	out := append(buf.Bytes()[:0], `{"results":`...)
	out = screen.AppendJSON(out, batch.Results)
	out = append(out, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(out)
	*buf = *bytes.NewBuffer(out[:0]) // keep the grown array for the next request
	return err
}

var (
	screenBufs    = sync.Pool{New: func() any { return new(bytes.Buffer) }}
	screenBatches = sync.Pool{New: func() any { return new(screen.Batch) }}
)

// parseAddresses reads the common shape of a request, {"addresses":
// ["…", …]} with plain strings (no escapes, valid UTF-8), without
// reflection. Anything else — other fields, escapes, null, an error —
// reports false, and encoding/json decides, so both paths agree.
func parseAddresses(b []byte) ([]string, bool) {
	i := 0
	ws := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	lit := func(s string) bool {
		ws()
		if !bytes.HasPrefix(b[i:], []byte(s)) {
			return false
		}
		i += len(s)
		return true
	}
	if !lit("{") || !lit(`"addresses"`) || !lit(":") || !lit("[") {
		return nil, false
	}
	var out []string
	ws()
	if i < len(b) && b[i] == ']' {
		i++
	} else {
		for {
			ws()
			if i >= len(b) || b[i] != '"' {
				return nil, false
			}
			k := bytes.IndexByte(b[i+1:], '"')
			if k < 0 {
				return nil, false
			}
			j := i + 1 + k
			ascii := true
			for _, c := range b[i+1 : j] {
				if c == '\\' || c < 0x20 {
					return nil, false
				}
				ascii = ascii && c < utf8.RuneSelf
			}
			if !ascii && !utf8.Valid(b[i+1:j]) {
				return nil, false
			}
			if len(out) >= screen.MaxBatch {
				return make([]string, screen.MaxBatch+1), true // too many: refused by the caller
			}
			out = append(out, string(b[i+1:j]))
			i = j + 1
			ws()
			if i < len(b) && b[i] == ',' {
				i++
				continue
			}
			if i < len(b) && b[i] == ']' {
				i++
				break
			}
			return nil, false
		}
	}
	if !lit("}") {
		return nil, false
	}
	ws()
	return out, i == len(b)
}
