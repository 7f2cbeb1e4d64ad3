package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

// BenchIndicator returns the i-th of a family of distinct indicators, each
// on one IPv4 address, and the value ByValue finds it by.
func BenchIndicator(i int) (*stix.Object, string) {
	ip := fmt.Sprintf("10.%d.%d.%d", i>>16&0xff, i>>8&0xff, i&0xff)
	if i >= 1<<24 {
		ip = fmt.Sprintf("11.%d.%d.%d", i>>16&0xff, i>>8&0xff, i&0xff)
	}
	raw := fmt.Sprintf(`{"type":"indicator","spec_version":"2.1","id":%q,"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z","pattern":"[ipv4-addr:value = '%s']","pattern_type":"stix","valid_from":"2024-01-01T00:00:00.000Z","object_marking_refs":[%q]}`,
		stix.DeterministicID("indicator", "bench", fmt.Sprint(i)), ip, stix.TLP2Green)
	o, err := stix.Parse([]byte(raw))
	if err != nil {
		panic(err)
	}
	return o, ip
}

// Fill stores indicators [from, to) in the collection, in batches, and
// creates the collection when missing.
func Fill(ctx context.Context, s store.Store, coll string, from, to, batch int) error {
	if _, err := s.Collection(ctx, coll); err != nil {
		if _, err := s.CreateCollection(ctx, store.Collection{Title: coll}); err != nil {
			return err
		}
	}
	for start := from; start < to; start += batch {
		end := min(start+batch, to)
		items := make([]store.PutItem, 0, end-start)
		for i := start; i < end; i++ {
			o, _ := BenchIndicator(i)
			items = append(items, store.PutItem{Object: o, Source: "bench"})
		}
		if _, err := s.Put(ctx, coll, items); err != nil {
			return fmt.Errorf("filling %d–%d: %w", start, end, err)
		}
	}
	return nil
}

// BenchByValue looks up random values among the n indicators Fill stored
// and reports the median and 99th-percentile latency of one lookup.
func BenchByValue(b *testing.B, s store.Store, n int) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	durs := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for b.Loop() {
		i := rng.IntN(n)
		_, v := BenchIndicator(i)
		start := time.Now()
		recs, err := s.ByValue(ctx, v, 10)
		durs = append(durs, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if len(recs) != 1 {
			b.Fatalf("ByValue(%s): %d records, want 1", v, len(recs))
		}
	}
	b.StopTimer()
	slices.Sort(durs)
	pct := func(p float64) float64 {
		return float64(durs[min(len(durs)-1, int(p*float64(len(durs))))]) / float64(time.Microsecond)
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// BenchPut measures Put throughput with batches of new indicators.
func BenchPut(b *testing.B, s store.Store, batch int) {
	ctx := context.Background()
	if _, err := s.CreateCollection(ctx, store.Collection{Title: "bench-put"}); err != nil {
		b.Fatal(err)
	}
	next := 0
	total := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		items := make([]store.PutItem, batch)
		for k := range items {
			o, _ := BenchIndicator(next)
			next++
			items[k] = store.PutItem{Object: o, Source: "bench"}
		}
		b.StartTimer()
		if _, err := s.Put(ctx, "bench-put", items); err != nil {
			b.Fatal(err)
		}
		total += batch
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "objects/s")
}
