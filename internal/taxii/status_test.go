package taxii

import (
	"errors"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
)

// TestStatusSurvivesRestart: a POST's status is kept in the store, so a
// new server over the same database (a restart) still answers it, to the
// poster only, until it expires; expired statuses are deleted from the
// store.
func TestStatusSurvivesRestart(t *testing.T) {
	hb := basicHub(t)
	body := `{"objects":[` + indicator(newID("indicator"), 1, "", []string{stix.TLP2Green}, nil) + `]}`
	r := hb.do(req{method: "POST", path: collPath(hb, "shared", "objects/"), auth: "alpha", body: body})
	if r.code != 202 {
		t.Fatalf("POST: %d %s", r.code, r.body)
	}
	var st struct {
		ID string `json:"id"`
	}
	r.json(t, &st)

	// The restarted server: a fresh store handle, access service and
	// handler over the same file; nothing carried over in memory.
	st2, err := sqlite.Open(ctx, hb.path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	svc2 := access.New(st2)
	defer svc2.Close()
	restarted := &hub{t: t, path: hb.path, st: st2, svc: svc2, h: New(svc2, Options{Now: hb.clock.now}), clock: hb.clock,
		orgs: hb.orgs, tokens: hb.tokens, colls: hb.colls}
	sp := root + "status/" + st.ID + "/"
	if r2 := restarted.get(sp, "alpha"); r2.code != 200 || string(r2.body) != string(r.body) {
		t.Fatalf("status after restart: %d %s", r2.code, r2.body)
	}
	for _, who := range []string{"bravo", ""} {
		if r2 := restarted.get(sp, who); r2.code != 404 {
			t.Errorf("status as %q after restart: %d", who, r2.code)
		}
	}
	hb.clock.add(24*time.Hour + time.Second)
	if r2 := restarted.get(sp, "alpha"); r2.code != 404 {
		t.Errorf("expired status: %d", r2.code)
	}
	// The next POST sweeps expired statuses out of the store.
	if r := restarted.do(req{method: "POST", path: collPath(hb, "shared", "objects/"), auth: "alpha", body: body}); r.code != 202 {
		t.Fatalf("second POST: %d %s", r.code, r.body)
	}
	if _, _, _, err := st2.GetStatus(ctx, st.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired status still stored: %v", err)
	}
}
