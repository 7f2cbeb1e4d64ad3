package sqlite

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

const watchChildEnv = "BULWARK_SQLITE_WATCH_CHILD"

// TestWatchChild is the subprocess of TestGenerationsSeeOtherProcesses: it
// adds one organisation to the store and exits.
func TestWatchChild(t *testing.T) {
	path := os.Getenv(watchChildEnv)
	if path == "" {
		t.Skip("subprocess of TestGenerationsSeeOtherProcesses")
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateOrg(context.Background(), store.Org{Name: "from-child", Clearance: stix.TLPGreen}); err != nil {
		t.Fatal(err)
	}
}

// TestGenerationsSeeOtherProcesses: with the WAL-index watch in place, a
// policy change committed by another store handle, and by another
// process, is seen by the very next request, and nothing else moves the
// token.
func TestGenerationsSeeOtherProcesses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulwark.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w, err := openWALWatch(ctx, s.DB(), path)
	if err != nil {
		t.Fatalf("the WAL index cannot be watched here: %v", err)
	}
	defer w.Close()

	gen := func() int64 {
		t.Helper()
		g, err := s.PolicyGeneration(s.WithRequest(ctx))
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	tok0, ok := w.Token()
	if !ok {
		t.Fatal("WAL-index header not readable")
	}
	g0 := gen()
	if tok, _ := w.Token(); tok != tok0 || gen() != g0 {
		t.Fatal("the token or the generation moved without a commit")
	}

	// Another handle in this process.
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.CreateOrg(ctx, store.Org{Name: "other", Clearance: stix.TLPAmber}); err != nil {
		t.Fatal(err)
	}
	other.Close()
	tok1, _ := w.Token()
	if tok1 == tok0 {
		t.Fatal("a commit left the WAL-index token unchanged")
	}
	g1 := gen()
	if g1 <= g0 {
		t.Fatalf("policy generation %d after another handle's change, was %d", g1, g0)
	}

	// Another process.
	cmd := exec.Command(os.Args[0], "-test.run", "^TestWatchChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), watchChildEnv+"="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if g2 := gen(); g2 <= g1 {
		t.Fatalf("policy generation %d after another process's change, was %d", g2, g1)
	}
	orgs, err := s.ListOrgs(ctx)
	if err != nil || len(orgs) != 2 {
		t.Fatalf("%d organisations, %v", len(orgs), err)
	}
}
