package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteReplacesOrKeeps(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	if err := Write(p, func(w io.Writer) error { _, err := io.WriteString(w, "one\n"); return err }); err != nil {
		t.Fatal(err)
	}
	// A failing writer leaves the old content and no temporary file.
	boom := errors.New("boom")
	if err := Write(p, func(w io.Writer) error { io.WriteString(w, "half"); return boom }); !errors.Is(err, boom) {
		t.Fatalf("failed write: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "one\n" {
		t.Errorf("after a failed write: %q", b)
	}
	if err := Write(p, func(w io.Writer) error { _, err := io.WriteString(w, "two\n"); return err }); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the directory, want 1", len(entries))
	}
	b, ok, err := ReadSmall(p, 4)
	if err != nil || !ok || string(b) != "two\n" {
		t.Errorf("ReadSmall: %q %v %v", b, ok, err)
	}
	if _, _, err := ReadSmall(p, 3); err == nil || !strings.Contains(err.Error(), "larger than 3 bytes") {
		t.Errorf("over the bound: %v", err)
	}
	if _, ok, err := ReadSmall(filepath.Join(dir, "missing"), 10); ok || err != nil {
		t.Errorf("missing file: %v %v", ok, err)
	}
}
