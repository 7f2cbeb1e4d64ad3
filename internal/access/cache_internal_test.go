package access

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
)

// TestCachedTokenExpires: a token read into the cache still expires on
// time, with no policy change to empty the cache.
func TestCachedTokenExpires(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.CreateOrg(ctx, store.Org{Name: "bank", Clearance: stix.TLPGreen}); err != nil {
		t.Fatal(err)
	}
	a := New(st)
	defer a.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a.now = func() time.Time { return now }
	secret, _, err := a.NewToken(ctx, "bank", now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, secret); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	if _, err := a.Authenticate(ctx, secret); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("expired cached token accepted: %v", err)
	}
}
