// Package corpus locates the shared test corpus (../shared/corpus beside the
// repository) for integration tests and benchmarks. Tests that need it skip
// when it is absent, except in CI (CI=true), where its absence is a failure.
package corpus

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var (
	once sync.Once
	root string
)

// Root returns the corpus directory, or "" when it cannot be found. It
// walks up from the working directory to the module root (the directory
// holding go.mod) and looks for ../shared/corpus beside it. BULWARK_CORPUS
// overrides the search.
func Root() string {
	once.Do(func() {
		if env := os.Getenv("BULWARK_CORPUS"); env != "" {
			root = env
			return
		}
		dir, err := os.Getwd()
		if err != nil {
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				c := filepath.Join(dir, "..", "shared", "corpus")
				if st, err := os.Stat(c); err == nil && st.IsDir() {
					root = c
				}
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				return
			}
			dir = parent
		}
	})
	return root
}

// Path returns the path of rel inside the corpus. When the corpus or the
// file is missing it skips the test, or fails it under CI=true.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	r := Root()
	if r == "" {
		missing(tb, "corpus directory ../shared/corpus not found")
		return ""
	}
	p := filepath.Join(r, rel)
	if _, err := os.Stat(p); err != nil {
		missing(tb, "corpus file "+rel+": "+err.Error())
		return ""
	}
	return p
}

func missing(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s (CI=true: corpus tests must not skip)", msg)
	}
	tb.Skip(msg)
}
