package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// Admin is what the admin API needs of the store.
type Admin interface {
	store.Orgs
	store.Collections
}

// The admin API does over HTTP what `bulwark org|token|collection|audit`
// do on the command line, for the administrator organisation only.
func (s *Server) adminRoutes() {
	s.handle("GET /api/v1/admin/orgs", s.admin(s.listOrgs))
	s.handle("POST /api/v1/admin/orgs", s.admin(s.addOrg))
	s.handle("POST /api/v1/admin/orgs/{org}/tokens", s.admin(s.addToken))
	s.handle("DELETE /api/v1/admin/tokens/{id}", s.admin(s.revokeToken))
	s.handle("GET /api/v1/admin/collections", s.admin(s.listCollections))
	s.handle("POST /api/v1/admin/collections", s.admin(s.addCollection))
	s.handle("GET /api/v1/admin/audit", s.admin(s.audit))
}

// admin lets only the administrator organisation through: anonymous
// callers get 401, other organisations 403.
func (s *Server) admin(h func(w http.ResponseWriter, r *http.Request) error) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.opts.Access == nil || s.opts.Admin == nil {
			return errNotFound
		}
		tok := bearer(r)
		if tok == "" {
			return &httpError{http.StatusUnauthorized, "authentication required"}
		}
		v, err := s.opts.Access.Authenticate(r.Context(), tok)
		if errors.Is(err, access.ErrUnauthenticated) {
			return &httpError{http.StatusUnauthorized, "invalid token"}
		}
		if err != nil {
			return err
		}
		if !v.Org.Admin {
			return &httpError{http.StatusForbidden, "administrators only"}
		}
		return h(w, r)
	}
}

// decodeBody reads a small JSON body strictly.
func decodeBody(r *http.Request, dst any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return badRequest("invalid JSON body: " + err.Error())
	}
	return nil
}

type orgJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Identity  string `json:"identity"`
	Clearance string `json:"clearance"`
	Admin     bool   `json:"admin"`
}

func orgOut(o store.Org) orgJSON {
	return orgJSON{ID: o.ID, Name: o.Name, Identity: o.Identity, Clearance: o.Clearance.String(), Admin: o.Admin}
}

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request) error {
	orgs, err := s.opts.Admin.ListOrgs(r.Context())
	if err != nil {
		return err
	}
	out := make([]orgJSON, len(orgs))
	for i, o := range orgs {
		out[i] = orgOut(o)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"orgs": out})
}

func (s *Server) addOrg(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name      string `json:"name"`
		Clearance string `json:"clearance"`
		Admin     bool   `json:"admin"`
	}
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	c, err := stix.ParseTLP(in.Clearance)
	if err != nil {
		return badRequest("clearance: " + err.Error())
	}
	o, err := s.opts.Admin.CreateOrg(r.Context(), store.Org{Name: in.Name, Clearance: c, Admin: in.Admin})
	if errors.Is(err, store.ErrOrgExists) {
		return &httpError{http.StatusConflict, err.Error()}
	}
	if err != nil {
		return badRequest(err.Error())
	}
	return writeJSON(w, http.StatusCreated, orgOut(o))
}

func (s *Server) addToken(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Expires string `json:"expires,omitempty"` // a Go duration, e.g. "720h"
	}
	if r.ContentLength != 0 {
		if err := decodeBody(r, &in); err != nil {
			return err
		}
	}
	var exp time.Time
	if in.Expires != "" {
		d, err := time.ParseDuration(in.Expires)
		if err != nil || d <= 0 {
			return badRequest("expires must be a positive duration such as 720h")
		}
		exp = time.Now().Add(d)
	}
	secret, id, err := s.opts.Access.NewToken(r.Context(), r.PathValue("org"), exp)
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, map[string]string{"id": id, "token": secret})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	err := s.opts.Admin.RevokeToken(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type collJSON struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	DefaultTLP  string `json:"default_tlp"`
	Public      bool   `json:"public"`
}

func (s *Server) listCollections(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.opts.Admin.ListCollections(r.Context())
	if err != nil {
		return err
	}
	out := make([]collJSON, len(cs))
	for i, c := range cs {
		out[i] = collJSON{ID: c.ID, Title: c.Title, Description: c.Description, DefaultTLP: c.DefaultTLP.String(), Public: c.Public}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"collections": out})
}

func (s *Server) addCollection(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Title       string   `json:"title"`
		Description string   `json:"description"`
		Read        []string `json:"read"`
		Write       []string `json:"write"`
		DefaultTLP  string   `json:"default_tlp"`
		Public      bool     `json:"public"`
	}
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	tlp := stix.TLPAmber
	if in.DefaultTLP != "" {
		var err error
		if tlp, err = stix.ParseTLP(in.DefaultTLP); err != nil {
			return badRequest("default_tlp: " + err.Error())
		}
	}
	c, err := access.CreateCollection(r.Context(), s.opts.Admin, store.Collection{Title: in.Title, Description: in.Description, DefaultTLP: tlp, Public: in.Public}, in.Read, in.Write)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalidCollection):
		return badRequest(err.Error())
	case errors.Is(err, store.ErrCollectionExists):
		return &httpError{http.StatusConflict, err.Error()}
	case err != nil:
		return err
	}
	return writeJSON(w, http.StatusCreated, collJSON{ID: c.ID, Title: c.Title, Description: c.Description, DefaultTLP: c.DefaultTLP.String(), Public: c.Public})
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request) error {
	since := 24 * time.Hour
	if v := r.URL.Query().Get("since"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return badRequest("since must be a positive duration such as 24h")
		}
		since = d
	}
	_ = s.opts.Access.Flush(r.Context())
	log, err := s.opts.Admin.AuditLog(r.Context(), time.Now().Add(-since), 10000)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"entries": log})
}
