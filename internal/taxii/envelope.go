package taxii

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// rawPage is one page of visible records as the store keeps them: their
// JSON copied back to back into buf, comma-separated, after headroom bytes
// left free for the envelope's opening, so the whole envelope is written
// from one buffer without decoding or re-encoding any object. Pages are
// pooled: serving pages is the hub's hot path, and a 100-object page of
// ATT&CK is ~150 KB.
type rawPage struct {
	buf   []byte
	items []rawItem
	more  bool
	next  string
}

type rawItem struct {
	added    time.Time
	off, end int // the object is buf[off:end]
}

// headroom fits the opening {"more":true,"next":"…","objects":[ with a next
// token (44 characters); a longer opening is still written, by copying.
const headroom = 128

// maxPooled keeps unusually large pages (limit=10000) out of the pool.
const maxPooled = 4 << 20

var rawPages = sync.Pool{New: func() any { return &rawPage{buf: make([]byte, headroom, 64<<10)} }}

func newRawPage() *rawPage {
	p := rawPages.Get().(*rawPage)
	p.buf, p.items, p.more, p.next = p.buf[:headroom], p.items[:0], false, ""
	return p
}

func (p *rawPage) release() {
	if cap(p.buf) <= maxPooled {
		rawPages.Put(p)
	}
}

// add appends one object.
func (p *rawPage) add(added time.Time, raw []byte) error {
	if len(p.items) > 0 {
		p.buf = append(p.buf, ',')
	}
	off := len(p.buf)
	p.buf = append(p.buf, raw...)
	p.items = append(p.items, rawItem{added: added, off: off, end: len(p.buf)})
	return nil
}

// runRaw answers an objects read as the viewer, one page, like run, but
// keeps the stored JSON of each record instead of decoding it. The caller
// releases the page after writing it.
func (s *server) runRaw(r *http.Request, v access.Viewer, coll, endpoint string, f filters, action string) (*rawPage, error) {
	bind, after, err := s.position(v, coll, endpoint, f)
	if err != nil {
		return nil, err
	}
	p := newRawPage()
	sels := f.version.selectors()
	for i, sel := range sels {
		q := store.Query{
			Collection: coll, IDs: f.ids, Types: f.types, SpecVersions: f.specVersions,
			Versions: sel, AddedAfter: after, Limit: f.limit,
		}
		act := action
		if i > 0 {
			act = "" // one audit entry per request
		}
		pg, err := s.svc.QueryRaw(r.Context(), v, q, act, p.add)
		if err != nil {
			p.release()
			return nil, err
		}
		p.more = p.more || pg.More
	}
	if len(sels) > 1 {
		p.merge(f.limit)
	}
	if p.more && len(p.items) > 0 {
		p.next = s.tokens.sign(bind, p.items[len(p.items)-1].added)
	}
	return p, nil
}

// merge turns the concatenated pages of several version selectors into
// one: sorted by date_added, each record once (date_added is unique within
// a collection, so equal means the same record found twice), at most limit
// records (each selector returned its first limit, so the first limit of
// the union are among them).
func (p *rawPage) merge(limit int) {
	items := slices.Clone(p.items)
	slices.SortStableFunc(items, func(a, b rawItem) int { return a.added.Compare(b.added) })
	items = slices.CompactFunc(items, func(a, b rawItem) bool { return a.added.Equal(b.added) })
	if len(items) > limit {
		items = items[:limit]
		p.more = true
	}
	old := p.buf
	p.buf = make([]byte, headroom, len(old))
	p.items = p.items[:0]
	for _, it := range items {
		p.add(it.added, old[it.off:it.end])
	}
}

// write sends the page as a TAXII envelope (§3.7), with the
// X-TAXII-Date-Added-First/-Last headers; an empty result is {}.
func (p *rawPage) write(w http.ResponseWriter) {
	open := make([]byte, 0, headroom)
	open = append(open, '{')
	if len(p.items) > 0 || p.more {
		open = append(open, `"more":`...)
		open = strconv.AppendBool(open, p.more)
		if p.next != "" {
			next, _ := json.Marshal(p.next)
			open = append(open, `,"next":`...)
			open = append(open, next...)
		}
	}
	if len(p.items) == 0 {
		writeRaw(w, http.StatusOK, append(open, '}'))
		return
	}
	open = append(open, `,"objects":[`...)
	body := p.buf
	if len(open) <= headroom {
		start := headroom - len(open)
		copy(body[start:], open)
		body = body[start:]
	} else {
		body = append(open, body[headroom:]...)
	}
	body = append(body, ']', '}')
	h := w.Header()
	h.Set("X-TAXII-Date-Added-First", stix.FormatTAXII(p.items[0].added))
	h.Set("X-TAXII-Date-Added-Last", stix.FormatTAXII(p.items[len(p.items)-1].added))
	writeRaw(w, http.StatusOK, body)
}
