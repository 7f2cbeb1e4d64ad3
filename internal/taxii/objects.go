package taxii

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// page is one page of visible records, sorted by date_added.
type page struct {
	recs []store.Record
	more bool
	next string
}

// run answers a filtered read as the viewer, one page. Every page — the
// first and each one reached through next — is a fresh access.Query, so
// the viewer's current permissions decide it. A match[version] that ORs
// several selectors (say first,last) is the merge of one query per
// selector: each returns its first limit records after the position, so the
// first limit of their union are among them.
func (s *server) run(r *http.Request, v access.Viewer, coll, endpoint string, f filters, action string) (page, error) {
	bind, after, err := s.position(v, coll, endpoint, f)
	if err != nil {
		return page{}, err
	}
	var out page
	for i, sel := range f.version.selectors() {
		q := store.Query{
			Collection: coll, IDs: f.ids, Types: f.types, SpecVersions: f.specVersions,
			Versions: sel, AddedAfter: after, Limit: f.limit,
		}
		act := action
		if i > 0 {
			act = "" // one audit entry per request
		}
		p, err := s.svc.Query(r.Context(), v, q, act)
		if err != nil {
			return page{}, err
		}
		out.more = out.more || p.More
		out.recs = append(out.recs, p.Records...)
	}
	if len(f.version.selectors()) > 1 {
		slices.SortFunc(out.recs, func(a, b store.Record) int { return a.DateAdded.Compare(b.DateAdded) })
		// date_added is unique within a collection: equal means the same
		// record, found by two selectors.
		out.recs = slices.CompactFunc(out.recs, func(a, b store.Record) bool { return a.DateAdded.Equal(b.DateAdded) })
	}
	if len(out.recs) > f.limit {
		out.recs = out.recs[:f.limit]
		out.more = true
	}
	if out.more && len(out.recs) > 0 {
		out.next = s.tokens.sign(bind, out.recs[len(out.recs)-1].DateAdded)
	}
	return out, nil
}

// position binds a request's next tokens to the viewer, the endpoint, the
// collection and the filters, and returns where its page starts: after
// added_after and after the position a valid next token carries.
func (s *server) position(v access.Viewer, coll, endpoint string, f filters) (bind string, after time.Time, err error) {
	bind = viewerKey(v) + "\x00" + endpoint + "\x00" + coll + "\x00" + f.key()
	after = f.addedAfter
	if f.next != "" {
		pos, err := s.tokens.verify(f.next, bind)
		if err != nil {
			return "", time.Time{}, err
		}
		if pos.After(after) {
			after = pos
		}
	}
	return bind, after, nil
}

func viewerKey(v access.Viewer) string {
	if v.Anonymous || v.Org.ID == "" {
		return "anonymous"
	}
	return "org:" + v.Org.ID
}

// dateHeaders sets X-TAXII-Date-Added-First/-Last from a non-empty page.
func dateHeaders(w http.ResponseWriter, recs []store.Record) {
	if len(recs) == 0 {
		return
	}
	w.Header().Set("X-TAXII-Date-Added-First", stix.FormatTAXII(recs[0].DateAdded))
	w.Header().Set("X-TAXII-Date-Added-Last", stix.FormatTAXII(recs[len(recs)-1].DateAdded))
}

// objects answers GET and POST {root}/collections/{id}/objects/ (§5.4, §5.5).
func (s *server) objects(w http.ResponseWriter, r *http.Request, v access.Viewer) {
	if r.Method == http.MethodPost {
		s.post(w, r, v)
		return
	}
	f, err := parseFilters(r.URL.RawQuery, listParams, s.opt.MaxPageSize)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ca, ok := s.readable(w, r, v)
	if !ok {
		return
	}
	p, err := s.runRaw(r, v, ca.ID, "objects", f, "taxii.objects")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer p.release()
	p.write(w)
}

// manifest answers GET {root}/collections/{id}/manifest/ (§5.3). The
// spec's manifest resource has no next (an erratum); it is given anyway,
// and added_after with the -Last header pages as well.
func (s *server) manifest(w http.ResponseWriter, r *http.Request, v access.Viewer) {
	f, err := parseFilters(r.URL.RawQuery, listParams, s.opt.MaxPageSize)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ca, ok := s.readable(w, r, v)
	if !ok {
		return
	}
	p, err := s.run(r, v, ca.ID, "manifest", f, "taxii.manifest")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type entry struct {
		ID        string `json:"id"`
		DateAdded string `json:"date_added"`
		Version   string `json:"version"`
		MediaType string `json:"media_type"`
	}
	var out struct {
		More    *bool   `json:"more,omitempty"`
		Next    string  `json:"next,omitempty"`
		Objects []entry `json:"objects,omitempty"`
	}
	if len(p.recs) > 0 || p.more {
		out.More = &p.more
	}
	out.Next = p.next
	for _, rec := range p.recs {
		out.Objects = append(out.Objects, entry{
			ID: rec.Object.ID, DateAdded: stix.FormatTAXII(rec.DateAdded),
			Version: rec.Object.VersionString(), MediaType: mediaTypeOf(rec.Object),
		})
	}
	dateHeaders(w, p.recs)
	writeJSON(w, http.StatusOK, out)
}

func mediaTypeOf(o *stix.Object) string {
	if o.SpecVersion == "" || o.SpecVersion == "2.1" {
		return STIXMediaType
	}
	return "application/stix+json;version=" + o.SpecVersion
}

// objectID reads the object id of the path; a malformed one names no
// object, so it is not found.
func objectID(r *http.Request) (string, bool) {
	id := r.PathValue("obj")
	_, _, err := stix.ParseID(id)
	return id, err == nil
}

// object answers GET and DELETE {root}/collections/{id}/objects/{object-id}/
// (§5.6, §5.7). An object with no visible version is not found, exactly as
// one that does not exist.
func (s *server) object(w http.ResponseWriter, r *http.Request, v access.Viewer) {
	if r.Method == http.MethodDelete {
		s.delete(w, r, v)
		return
	}
	f, err := parseFilters(r.URL.RawQuery, objectParams, s.opt.MaxPageSize)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ca, ok := s.readable(w, r, v)
	if !ok {
		return
	}
	id, ok := objectID(r)
	if !ok {
		writeError(w, http.StatusNotFound, "Not found", "no such object")
		return
	}
	f.ids = []string{id}
	p, err := s.runRaw(r, v, ca.ID, "object", f, "taxii.object")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer p.release()
	if len(p.items) == 0 && f.next == "" && f.addedAfter.IsZero() {
		writeError(w, http.StatusNotFound, "Not found", "no such object, or no such version of it")
		return
	}
	p.write(w)
}

// versions answers GET {root}/collections/{id}/objects/{object-id}/versions/
// (§5.8): the visible versions, by date_added.
func (s *server) versions(w http.ResponseWriter, r *http.Request, v access.Viewer) {
	f, err := parseFilters(r.URL.RawQuery, versionsParams, s.opt.MaxPageSize)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ca, ok := s.readable(w, r, v)
	if !ok {
		return
	}
	id, ok := objectID(r)
	if !ok {
		writeError(w, http.StatusNotFound, "Not found", "no such object")
		return
	}
	f.ids = []string{id}
	f.version = versionSel{all: true}
	p, err := s.run(r, v, ca.ID, "versions", f, "taxii.versions")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(p.recs) == 0 && f.next == "" && f.addedAfter.IsZero() {
		writeError(w, http.StatusNotFound, "Not found", "no such object")
		return
	}
	var out struct {
		More     *bool    `json:"more,omitempty"`
		Next     string   `json:"next,omitempty"`
		Versions []string `json:"versions,omitempty"`
	}
	if len(p.recs) > 0 || p.more {
		out.More = &p.more
	}
	out.Next = p.next
	for _, rec := range p.recs {
		out.Versions = append(out.Versions, rec.Object.VersionString())
	}
	dateHeaders(w, p.recs)
	writeJSON(w, http.StatusOK, out)
}

// delete answers DELETE {root}/collections/{id}/objects/{object-id}/ (§5.7).
// It needs read and write permission (404 without either, 403 with one).
// access.Remove deletes only the versions the viewer can see, one
// match[version] selector at a time.
func (s *server) delete(w http.ResponseWriter, r *http.Request, v access.Viewer) {
	f, err := parseFilters(r.URL.RawQuery, deleteParams, store.MaxLimit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ca, err := s.lookup(r, v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ca.CanRead || !ca.CanWrite {
		writeError(w, http.StatusForbidden, "Forbidden", "deleting needs read and write permission on the collection")
		return
	}
	id, ok := objectID(r)
	if !ok {
		writeError(w, http.StatusNotFound, "Not found", "no such object")
		return
	}
	removed := 0
	for _, sel := range f.version.selectors() {
		n, err := s.svc.Remove(r.Context(), v, ca.ID, id, sel, f.specVersions)
		if errors.Is(err, access.ErrNotFound) {
			continue // nothing visible for this selector; others may match
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		removed += n
	}
	if removed == 0 {
		writeError(w, http.StatusNotFound, "Not found", "no such object, or no such version of it")
		return
	}
	writeRaw(w, http.StatusOK, nil)
}
