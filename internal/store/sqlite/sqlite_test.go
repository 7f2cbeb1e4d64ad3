package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/corpus"
	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/stixfile"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "bulwark.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestPragmas(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "sub", "dir", "bulwark.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Every pooled connection must carry the pragmas, so hold several.
	var conns []func() error
	for range 3 {
		c, err := s.DB().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c.Close)
		var mode string
		var sync, fk int
		if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || sync != 2 || fk != 1 {
			t.Errorf("journal_mode=%s synchronous=%d foreign_keys=%d, want wal, 2 (FULL), 1", mode, sync, fk)
		}
	}
	for _, c := range conns {
		c()
	}
	if _, err := Open(ctx, ""); err == nil {
		t.Error("Open with an empty path succeeded")
	}
}

// TestReopen checks that a store reopened from its file has what was put.
func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "bulwark.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := storetest.Fill(ctx, s, "c", 0, 100, 30); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Stats(ctx)
	if err != nil || st.Objects != 100 || st.Collections != 1 {
		t.Fatalf("after reopen: %+v, %v", st, err)
	}
	// The clock survives too: new date_added values follow the old ones.
	before, err := s.Query(ctx, store.Query{Collection: "c", Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	if err := storetest.Fill(ctx, s, "c", 100, 101, 1); err != nil {
		t.Fatal(err)
	}
	after, err := s.Query(ctx, store.Query{Collection: "c", AddedAfter: before.Records[99].DateAdded})
	if err != nil || len(after.Records) != 1 {
		t.Fatalf("after reopen and put: %d records, %v", len(after.Records), err)
	}
}

const (
	crashEnv   = "BULWARK_SQLITE_CRASH_CHILD"
	crashBatch = 1500
)

// TestCrashChild is the subprocess of TestCrashDurability: it puts batches
// until killed, reporting each batch once Put has returned.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("subprocess of TestCrashDurability")
	}
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	for n := 0; n < 1000; n++ {
		if err := storetest.Fill(ctx, s, "crash", n*crashBatch, (n+1)*crashBatch, crashBatch); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Printf("committed %d\n", n)
	}
	os.Exit(3) // never killed: the parent notices
}

// TestCrashDurability kills a writer with SIGKILL in the middle of an import
// and checks that every batch Put had reported done is there in full after
// reopening, and that no batch is there in part.
func TestCrashDurability(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess test")
	}
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crash.db")
	// Round 1 reruns the import over the survivors of round 0, as a retried
	// import would (its first batches are then Unchanged), and is killed a
	// few batches further on.
	killAt := 2
	for round := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		committed := -1
		var once sync.Once
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "error") {
				t.Fatalf("child: %s", line)
			}
			nstr, ok := strings.CutPrefix(line, "committed ")
			if !ok {
				continue // go test chatter
			}
			n, err := strconv.Atoi(nstr)
			if err != nil {
				t.Fatalf("child said %q", line)
			}
			committed = n
			if n >= killAt {
				// Vary the moment within the next batch's write.
				once.Do(func() {
					time.Sleep(time.Duration(n%5) * 7 * time.Millisecond)
					if err := cmd.Process.Kill(); err != nil {
						t.Errorf("kill: %v", err)
					}
				})
			}
		}
		err = cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
			t.Fatalf("child ended with %v, want killed", err)
		}
		if committed < 0 {
			t.Fatal("child committed nothing")
		}
		killAt = committed + 3
		t.Logf("round %d: killed after batch %d was reported", round, committed)

		s, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("reopening after kill: %v", err)
		}
		var check string
		if err := s.DB().QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Fatalf("integrity_check: %q, %v", check, err)
		}
		// Batches up to the reported one must be whole; the one in flight may
		// be whole or absent; none after it may exist.
		for n := 0; n <= committed+2; n++ {
			ids := make([]string, crashBatch)
			for k := range ids {
				o, _ := storetest.BenchIndicator(n*crashBatch + k)
				ids[k] = o.ID
			}
			recs, err := s.Latest(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			page, err := s.Query(ctx, store.Query{Collection: "crash", IDs: ids, Limit: store.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			got, members := len(recs), len(page.Records)
			switch {
			case n <= committed && (got != crashBatch || members != crashBatch):
				t.Fatalf("batch %d was reported committed but has %d objects, %d members", n, got, members)
			case got != members || (got != 0 && got != crashBatch):
				t.Fatalf("batch %d is partial: %d objects, %d members", n, got, members)
			case n > committed+1 && got != 0:
				t.Fatalf("batch %d exists but was never started", n)
			}
			if n == committed+1 {
				t.Logf("round %d: the batch in flight (%d) has %d of %d objects", round, n, got, crashBatch)
			}
			if n <= committed {
				if v, err := s.ByValue(ctx, ipOf(n*crashBatch), 0); err != nil || len(v) != 1 {
					t.Fatalf("batch %d: value index: %d, %v", n, len(v), err)
				}
			}
		}
		s.Close()
	}
}

func ipOf(i int) string {
	_, v := storetest.BenchIndicator(i)
	return v
}

// benchN is how many indicators BenchmarkByValue stores; BULWARK_BENCH_N
// overrides it for quicker runs.
func benchN() int {
	if v, err := strconv.Atoi(os.Getenv("BULWARK_BENCH_N")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

// big is the store BenchmarkByValue builds once per test binary run.
var big struct {
	once sync.Once
	dir  string
	s    store.Store
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if big.s != nil {
		big.s.Close()
	}
	if big.dir != "" {
		os.RemoveAll(big.dir)
	}
	os.Exit(code)
}

func BenchmarkByValue(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a store of a million indicators")
	}
	n := benchN()
	big.once.Do(func() {
		ctx := context.Background()
		if big.dir, big.err = os.MkdirTemp("", "bulwark-bench-"); big.err != nil {
			return
		}
		if big.s, big.err = Open(ctx, filepath.Join(big.dir, "big.db")); big.err != nil {
			return
		}
		start := time.Now()
		big.err = storetest.Fill(ctx, big.s, "bench", 0, n, 5000)
		b.Logf("stored %d indicators in %v", n, time.Since(start).Round(time.Millisecond))
	})
	if big.err != nil {
		b.Fatal(big.err)
	}
	storetest.BenchByValue(b, big.s, n)
}

func BenchmarkPut(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "put.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.BenchPut(b, s, 1000)
}

// BenchmarkImportAttack imports the ATT&CK Enterprise bundle (24,771
// objects) into a fresh store per iteration, as `bulwark import` does.
func BenchmarkImportAttack(b *testing.B) {
	path := corpus.Path(b, "attack/enterprise-attack-stix20.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.CreateCollection(ctx, store.Collection{Title: "attack"}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		sum, err := feed.Import(ctx, s, "attack", stixfile.Format, feed.Source{Path: path, R: bytes.NewReader(raw)}, 0)
		if err != nil || sum.Created != 24771 {
			b.Fatalf("import: %v %s", err, sum)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(24771*b.N)/b.Elapsed().Seconds(), "objects/s")
}

func TestWithoutMmap(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "m.db")
	for _, c := range []struct {
		opts []Option
		want int64
	}{{nil, 1 << 30}, {[]Option{WithoutMmap()}, 0}} {
		s, err := Open(ctx, path, c.opts...)
		if err != nil {
			t.Fatal(err)
		}
		var got int64
		if err := s.DB().QueryRowContext(ctx, "PRAGMA mmap_size").Scan(&got); err != nil {
			t.Fatal(err)
		}
		s.Close()
		if got != c.want {
			t.Errorf("mmap_size %d, want %d", got, c.want)
		}
	}
}
