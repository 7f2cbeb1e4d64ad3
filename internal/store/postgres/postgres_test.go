package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlstore"
	"github.com/bulwark-intel/bulwark/internal/store/storetest"
)

const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// serverURL returns the test server's URL, skipping the test when none is
// reachable (failing under CI=true, where the server is part of the job).
func serverURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("BULWARK_PG_URL")
	if u == "" {
		u = defaultURL
	}
	db, err := sql.Open("pgx", u)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
		db.Close()
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("postgres at %s unreachable: %v", u, err)
		}
		t.Skipf("postgres at %s unreachable (set BULWARK_PG_URL): %v", u, err)
	}
	return u
}

// openSchema opens a store in a new schema of its own; drop removes it.
func openSchema(ctx context.Context, base string) (s *sqlstore.Store, drop func() error, err error) {
	s, _, drop, err = openSchemaURL(ctx, base)
	return s, drop, err
}

// openSchemaURL is openSchema, also returning the store's URL for more
// handles on the same schema.
func openSchemaURL(ctx context.Context, base string) (s *sqlstore.Store, dsn string, drop func() error, err error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, "", nil, err
	}
	schema := "bw_" + hex.EncodeToString(b[:])
	u, err := url.Parse(base)
	if err != nil {
		return nil, "", nil, err
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return nil, "", nil, err
	}
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return nil, "", nil, fmt.Errorf("creating schema: %w", err)
	}
	drop = func() error {
		defer admin.Close()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("dropping schema %s: %w", schema, err)
		}
		return nil
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	s, err = Open(ctx, u.String())
	if err != nil {
		return nil, "", nil, errors.Join(err, drop())
	}
	return s, u.String(), drop, nil
}

// openFresh opens a store in a fresh schema, dropped at cleanup (after the
// store is closed: cleanups run last registered first).
func openFresh(t testing.TB) *sqlstore.Store {
	t.Helper()
	s, drop, err := openSchema(context.Background(), serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
}

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1":              "SELECT 1",
		"a = ? AND b IN (?, ?)": "a = $1 AND b IN ($2, $3)",
		"?":                     "$1",
	} {
		if got := (dialect{}).Rebind(in); got != want {
			t.Errorf("Rebind(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSchemaIsolation checks that the search_path in the URL confines a
// store to its schema: two stores on one server do not see each other.
func TestSchemaIsolation(t *testing.T) {
	ctx := context.Background()
	a, b := openFresh(t), openFresh(t)
	defer a.Close()
	defer b.Close()
	if _, err := a.CreateCollection(ctx, store.Collection{Title: "only in a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Collection(ctx, "only in a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("b sees a's collection: %v", err)
	}
}

func benchN() int {
	if v, err := strconv.Atoi(os.Getenv("BULWARK_BENCH_N")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

var big struct {
	once sync.Once
	s    store.Store
	drop func() error
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if big.s != nil {
		big.s.Close()
	}
	if big.drop != nil {
		if err := big.drop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

func BenchmarkByValue(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a store of a million indicators")
	}
	base := serverURL(b)
	n := benchN()
	big.once.Do(func() {
		ctx := context.Background()
		var s *sqlstore.Store
		if s, big.drop, big.err = openSchema(ctx, base); big.err != nil {
			return
		}
		big.s = s
		start := time.Now()
		if big.err = storetest.Fill(ctx, s, "bench", 0, n, 5000); big.err != nil {
			return
		}
		_, big.err = s.DB().ExecContext(ctx, "ANALYZE")
		b.Logf("stored %d indicators in %v", n, time.Since(start).Round(time.Millisecond))
	})
	if big.err != nil {
		b.Fatal(big.err)
	}
	storetest.BenchByValue(b, big.s, n)
}

func BenchmarkPut(b *testing.B) {
	s := openFresh(b)
	defer s.Close()
	storetest.BenchPut(b, s, 1000)
}

// TestQueryRawMatchesQuery runs the result cache's property on PostgreSQL,
// with writes through a second handle as from another process.
func TestQueryRawMatchesQuery(t *testing.T) {
	ctx := context.Background()
	server, dsn, drop, err := openSchemaURL(ctx, serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	defer server.Close()
	cli, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	storetest.RawMatchesQuery(t, server, cli)
}
