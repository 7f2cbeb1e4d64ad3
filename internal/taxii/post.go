package taxii

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/stix"
)

// statusResource is the TAXII status resource (§4.3.1). Writes are done
// when the POST returns, so status is always complete and nothing pends.
// Statuses are kept in the store (access.Service.SaveStatus), or in memory
// (statusStore) when the store cannot keep them.
type statusResource struct {
	ID               string          `json:"id"`
	Status           string          `json:"status"`
	RequestTimestamp string          `json:"request_timestamp"`
	TotalCount       int             `json:"total_count"`
	SuccessCount     int             `json:"success_count"`
	Successes        []statusDetail  `json:"successes,omitempty"`
	FailureCount     int             `json:"failure_count"`
	Failures         []statusDetail  `json:"failures,omitempty"`
	PendingCount     int             `json:"pending_count"`
	Pendings         []statusDetail  `json:"pendings,omitempty"`
	owner            string          // viewerKey of the poster
	at               time.Time       // when it was made, for expiry
	raw              json.RawMessage // cached encoding
}

type statusDetail struct {
	ID      string `json:"id"`
	Version string `json:"version,omitempty"`
	Message string `json:"message,omitempty"`
}

// post answers POST {root}/collections/{id}/objects/ (§5.5). Each object is
// decoded on its own (2.0 content is upgraded, invalid content is a failure
// naming the property at fault); the valid ones are written in one batch
// through access.Put, which fills or checks created_by_ref.
func (s *server) post(w http.ResponseWriter, r *http.Request, v access.Viewer) {
	if _, err := parseRawQuery(r.URL.RawQuery); err != nil {
		s.fail(w, r, err)
		return
	}
	if !postContentType(r.Header.Get("Content-Type")) {
		writeError(w, http.StatusUnsupportedMediaType, "Unsupported media type", "POST bodies must be "+MediaType)
		return
	}
	ca, err := s.lookup(r, v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ca.CanWrite {
		writeError(w, http.StatusForbidden, "Forbidden", "no write permission on this collection")
		return
	}
	if r.ContentLength > s.opt.MaxContentLength {
		writeError(w, http.StatusRequestEntityTooLarge, "Request too large", fmt.Sprintf("the body exceeds max_content_length (%d bytes)", s.opt.MaxContentLength))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opt.MaxContentLength))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "Request too large", fmt.Sprintf("the body exceeds max_content_length (%d bytes)", s.opt.MaxContentLength))
			return
		}
		writeError(w, http.StatusBadRequest, "Bad request", "reading the body: "+err.Error())
		return
	}
	var env struct {
		Objects []json.RawMessage `json:"objects"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		writeError(w, http.StatusBadRequest, "Bad request", "the body is not a TAXII envelope: "+err.Error())
		return
	}
	reqAt := s.opt.Now()
	st := &statusResource{
		ID: uuid.NewString(), Status: "complete", RequestTimestamp: stix.FormatTAXII(reqAt),
		TotalCount: len(env.Objects), owner: viewerKey(v), at: reqAt,
	}
	var objs []*stix.Object
	var slots []int
	for i, raw := range env.Objects {
		o, err := stix.Decode(raw)
		if err != nil {
			d := statusDetail{Message: fmt.Sprintf("object %d: %v", i, err)}
			var oe *stix.ObjectError
			if errors.As(err, &oe) {
				d.ID = oe.ID
				d.Message = fmt.Sprintf("object %d: %v", i, oe.Err)
				if oe.Prop != "" {
					d.Message = fmt.Sprintf("object %d: property %s: %v", i, oe.Prop, oe.Err)
				}
			}
			d.Version = versionOf(raw)
			st.Failures = append(st.Failures, d)
			continue
		}
		objs = append(objs, o)
		slots = append(slots, i)
	}
	if len(objs) > 0 {
		res, err := s.svc.Put(r.Context(), v, ca.ID, objs, "taxii:"+v.Name())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for k, o := range objs {
			d := statusDetail{ID: o.ID, Version: o.VersionString()}
			if res.Errors[k] != nil {
				d.Message = fmt.Sprintf("object %d: %v", slots[k], res.Errors[k])
				st.Failures = append(st.Failures, d)
				continue
			}
			st.Successes = append(st.Successes, d)
		}
	}
	st.SuccessCount, st.FailureCount = len(st.Successes), len(st.Failures)
	raw, err := json.Marshal(st)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st.raw = raw
	s.keepStatus(r, v, st)
	writeRaw(w, http.StatusAccepted, raw)
}

// keepStatus keeps a status in the store, where it survives a restart, or
// in memory when the store cannot keep statuses (or failed to: the objects
// are stored, so the client still gets its status). Statuses past their
// TTL are deleted from the store at most once a minute.
func (s *server) keepStatus(r *http.Request, v access.Viewer, st *statusResource) {
	err := s.svc.SaveStatus(r.Context(), v, st.ID, st.at, st.raw)
	if err == nil {
		now := s.opt.Now()
		if last := s.statusSweep.Load(); now.Unix()-last >= 60 && s.statusSweep.CompareAndSwap(last, now.Unix()) {
			if _, err := s.svc.ExpireStatuses(r.Context(), now.Add(-s.opt.StatusTTL)); err != nil {
				s.log.Warn("expiring TAXII statuses", "err", err)
			}
		}
		return
	}
	if !errors.Is(err, access.ErrNoStatusStore) {
		s.log.Warn("keeping a TAXII status in the store failed; keeping it in memory", "status", st.ID, "err", err)
	}
	s.statuses.add(st)
}

// versionOf salvages the version of an object that failed to decode.
func versionOf(raw json.RawMessage) string {
	var head struct {
		Modified any `json:"modified"`
		Created  any `json:"created"`
	}
	if json.Unmarshal(raw, &head) != nil {
		return ""
	}
	for _, v := range []any{head.Modified, head.Created} {
		if s, ok := v.(string); ok && len(s) <= 40 {
			return s
		}
	}
	return ""
}

// status answers GET {root}/status/{id}/ (§4.3). Only the organisation that
// posted sees a status; to anyone else it does not exist.
func (s *server) status(w http.ResponseWriter, r *http.Request, v access.Viewer) {
	if !noParams(w, r) {
		return
	}
	id := r.PathValue("status")
	if st := s.statuses.get(id); st != nil && !v.Anonymous && st.owner == viewerKey(v) {
		writeRaw(w, http.StatusOK, st.raw)
		return
	}
	body, err := s.svc.Status(r.Context(), v, id, s.opt.Now().Add(-s.opt.StatusTTL))
	switch {
	case err == nil:
		writeRaw(w, http.StatusOK, body)
	case errors.Is(err, access.ErrNotFound), errors.Is(err, access.ErrNoStatusStore):
		writeError(w, http.StatusNotFound, "Not found", "no such status, or it has expired")
	default:
		s.fail(w, r, err)
	}
}

// statusStore keeps statuses in memory for their TTL, bounded by the
// number of per-object entries they hold (oldest dropped first).
type statusStore struct {
	now        func() time.Time
	ttl        time.Duration
	maxEntries int

	mu      sync.Mutex
	byID    map[string]*statusResource
	order   []*statusResource // oldest first
	entries int
}

func newStatusStore(now func() time.Time, ttl time.Duration, maxEntries int) *statusStore {
	return &statusStore{now: now, ttl: ttl, maxEntries: maxEntries, byID: map[string]*statusResource{}}
}

func size(st *statusResource) int { return 1 + len(st.Successes) + len(st.Failures) }

func (ss *statusStore) add(st *statusResource) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.byID[st.ID] = st
	ss.order = append(ss.order, st)
	ss.entries += size(st)
	ss.expire()
}

// expire drops expired statuses and, while over the bound, the oldest.
// Caller holds mu.
func (ss *statusStore) expire() {
	now := ss.now()
	n := 0
	for n < len(ss.order)-1 && (now.Sub(ss.order[n].at) >= ss.ttl || ss.entries > ss.maxEntries) {
		old := ss.order[n]
		delete(ss.byID, old.ID)
		ss.entries -= size(old)
		ss.order[n] = nil
		n++
	}
	ss.order = ss.order[n:]
}

func (ss *statusStore) get(id string) *statusResource {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.expire()
	st := ss.byID[id]
	if st == nil || ss.now().Sub(st.at) >= ss.ttl {
		return nil
	}
	return st
}
