package access_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/access"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
	"github.com/bulwark-intel/bulwark/internal/store/sqlstore"
)

// countingStore counts the policy reads access makes of the store.
type countingStore struct {
	*sqlstore.Store
	tokens, grants, colls atomic.Int64
}

func (c *countingStore) TokenByHash(ctx context.Context, h []byte) (store.Token, error) {
	c.tokens.Add(1)
	return c.Store.TokenByHash(ctx, h)
}

func (c *countingStore) Grants(ctx context.Context, org string) ([]store.Grant, error) {
	c.grants.Add(1)
	return c.Store.Grants(ctx, org)
}

func (c *countingStore) Collection(ctx context.Context, id string) (store.Collection, error) {
	c.colls.Add(1)
	return c.Store.Collection(ctx, id)
}

// TestPolicyCache: repeated decisions are answered from memory, and every
// change to tokens, grants or collections — made through another handle on
// the same database, as the command line does while the server runs —
// takes effect on the very next decision.
func TestPolicyCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cs := &countingStore{Store: st}
	a := access.New(cs)
	defer a.Close()
	cli, err := sqlite.Open(ctx, path) // the other process
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()

	bank, err := cli.CreateOrg(ctx, store.Org{Name: "bank", Clearance: stix.TLPAmber})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cli.CreateCollection(ctx, store.Collection{Title: "shared"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.SetGrant(ctx, store.Grant{Collection: c.ID, Org: bank.ID, Read: true}); err != nil {
		t.Fatal(err)
	}
	secret, tokID, err := access.New(cli).NewToken(ctx, "bank", time.Time{})
	if err != nil {
		t.Fatal(err)
	}

	decide := func() (access.CollectionAccess, error) {
		t.Helper()
		rctx := a.WithRequest(ctx)
		v, err := a.Authenticate(rctx, secret)
		if err != nil {
			return access.CollectionAccess{}, err
		}
		return a.Collection(rctx, v, c.ID)
	}
	for range 3 {
		if ca, err := decide(); err != nil || !ca.CanRead || ca.CanWrite {
			t.Fatalf("decision: %+v, %v", ca, err)
		}
	}
	if n, g, k := cs.tokens.Load(), cs.grants.Load(), cs.colls.Load(); n != 1 || g != 1 || k != 1 {
		t.Errorf("three requests read the token %d times, the grants %d, the collection %d; want once each", n, g, k)
	}

	// A grant widened elsewhere shows at once.
	if err := cli.SetGrant(ctx, store.Grant{Collection: c.ID, Org: bank.ID, Read: true, Write: true}); err != nil {
		t.Fatal(err)
	}
	if ca, err := decide(); err != nil || !ca.CanWrite {
		t.Errorf("after granting write: %+v, %v", ca, err)
	}
	// A removed grant hides the collection at once.
	if err := cli.SetGrant(ctx, store.Grant{Collection: c.ID, Org: bank.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := decide(); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("after removing the grant: %v, want not found", err)
	}
	if _, err := a.Query(a.WithRequest(ctx), access.Viewer{Org: bank}, store.Query{Collection: c.ID}, ""); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("query after removing the grant: %v, want not found", err)
	}
	// A new collection is found at once.
	c2, err := cli.CreateCollection(ctx, store.Collection{Title: "later", Public: true})
	if err != nil {
		t.Fatal(err)
	}
	if ca, err := a.Collection(a.WithRequest(ctx), access.Anonymous, c2.ID); err != nil || !ca.CanRead {
		t.Errorf("new public collection: %+v, %v", ca, err)
	}
	// A revoked token fails the next request.
	if err := cli.RevokeToken(ctx, tokID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(a.WithRequest(ctx), secret); !errors.Is(err, access.ErrUnauthenticated) {
		t.Errorf("revoked token accepted: %v", err)
	}
	// Contexts without WithRequest read the generation on every decision,
	// so they see changes too.
	secret2, tok2, err := access.New(cli).NewToken(ctx, "bank", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, secret2); err != nil {
		t.Fatal(err)
	}
	if err := cli.RevokeToken(ctx, tok2); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, secret2); !errors.Is(err, access.ErrUnauthenticated) {
		t.Errorf("revoked token accepted without a request scope: %v", err)
	}
}
