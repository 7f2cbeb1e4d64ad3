package detect

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bulwark-intel/bulwark/internal/stix"
)

// appendTo appends lines to a file, as a logger would.
func appendTo(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFollow scans a file while another goroutine writes to it, truncates
// it and rotates it, and checks every planted hit arrives, with its line
// number in the file it was read from.
func TestFollow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "eve.json")
	other := filepath.Join(dir, "other.json")
	appendTo(t, other, "") // a second, quiet followed file
	idx, err := Compile([]*stix.Object{indicator(t, "c2", "[ipv4-addr:value = '203.0.113.9']", nil)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	line := func(ip string) string {
		return fmt.Sprintf(`{"timestamp":"2024-01-01T00:00:00Z","flow_id":1,"event_type":"flow","src_ip":"10.0.0.1","dest_ip":"%s"}`+"\n", ip)
	}
	hits := make(chan Hit, 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		sum Summary
		err error
	}
	done := make(chan result, 1)
	// path does not exist yet: the scan waits for it, then for its first
	// line to sniff the format.
	go func() {
		sum, err := Scan(ctx, idx, []Input{FileInput(path), FileInput(other)}, ScanOptions{Follow: true, Poll: 5 * time.Millisecond}, func(h Hit) { hits <- h })
		done <- result{sum, err}
	}()
	want := func(step string, line int64) {
		t.Helper()
		select {
		case h := <-hits:
			if h.Value != "203.0.113.9" || h.Line != line || h.File != path {
				t.Fatalf("%s: hit %+v, want line %d", step, h, line)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: no hit", step)
		}
	}
	appendTo(t, path, line("10.9.9.9")+line("203.0.113.9"))
	want("first lines", 2)
	appendTo(t, path, line("10.9.9.8")+line("10.9.9.7")+line("203.0.113.9"))
	want("appended", 5)
	// A line written in two parts is scanned once whole.
	whole := line("203.0.113.9")
	appendTo(t, path, whole[:20])
	appendTo(t, path, whole[20:])
	want("line in two writes", 6)
	// Truncated in place: read again from the start.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, line("203.0.113.9"))
	want("after truncation", 1)
	// Rotated: renamed away, a new file in its place.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, path, line("10.1.1.1")+line("10.1.1.2")+line("203.0.113.9"))
	want("after rotation", 3)
	cancel()
	select {
	case r := <-done:
		if !errors.Is(r.err, context.Canceled) {
			t.Errorf("scan ended with %v", r.err)
		}
		if r.sum.Hits != 5 || r.sum.Files != 2 || r.sum.Malformed != 0 || r.sum.Formats[path] != FormatEVE {
			t.Errorf("summary %+v", r.sum)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("scan did not stop on cancel")
	}
	select {
	case h := <-hits:
		t.Errorf("unexpected hit %+v", h)
	default:
	}
}

func TestFollowCompressed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.gz")
	if err := os.WriteFile(path, []byte("\x1f\x8b\x08\x00\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sum, err := Scan(ctx, nil, []Input{FileInput(path)}, ScanOptions{Follow: true, Poll: time.Millisecond}, nil)
	if err != nil || len(sum.Errors) != 1 {
		t.Fatalf("%v %v", err, sum.Errors)
	}
}
