package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
)

func init() {
	register(command{name: "import", usage: "import feeds (STIX, MISP, OFAC, TagPack, CSV/TXT) into the store", run: runImport})
}

func runImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "import", "[--format F] [--collection C] PATH…  (PATH may be a directory, a .gz file or - for stdin)")
	db := dbFlag(fs)
	format := fs.String("format", "auto", "input format: auto or one of "+formatNames())
	coll := fs.String("collection", defaultCollection, "collection (id or title) to import into; created if missing")
	tlpFlag := fs.String("tlp", "", "TLP for objects that carry none (clear, green, amber, amber+strict, red)")
	source := fs.String("source", "", "feed name recorded as provenance (default: the format's own)")
	batch := fs.Int("batch", feed.DefaultBatch, "objects per store transaction")
	quiet := fs.Bool("quiet", false, "no progress bar")
	dryRun := fs.Bool("dry-run", false, "decode and validate only; store nothing")
	paths, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		fs.Usage()
		return fmt.Errorf("%w: import needs at least one PATH", errUsage)
	}
	var tlp stix.TLP
	if *tlpFlag != "" {
		if tlp, err = stix.ParseTLP(*tlpFlag); err != nil {
			return fmt.Errorf("%w: --tlp: %v", errUsage, err)
		}
	}
	var forced *feed.Format
	if *format != "auto" {
		f, err := feed.Find(formats(), *format)
		if err != nil {
			return fmt.Errorf("%w: --format: %v", errUsage, err)
		}
		forced = &f
	}
	files, err := expandPaths(paths)
	if err != nil {
		return err
	}
	if *dryRun {
		return dryImport(ctx, e, files, forced, tlp, *source, *batch, *quiet)
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	c, err := ensureCollection(ctx, s, *coll, stix.TLPNone)
	if err != nil {
		return err
	}
	var total feed.Summary
	var failed []string
	for _, f := range files {
		sum, err := importOne(ctx, e, s, c.ID, f, forced, tlp, *source, *batch, *quiet)
		total.Add(sum)
		if err != nil {
			fmt.Fprintf(e.stderr, "%s: error: %v\n", f, err)
			failed = append(failed, f)
			if ctx.Err() != nil {
				break
			}
			continue
		}
		fmt.Fprintf(e.stderr, "%s: %s in %s\n", f, sum, sum.Elapsed.Round(time.Millisecond))
		for _, ex := range sum.Examples {
			fmt.Fprintf(e.stderr, "  rejected: %s\n", ex)
		}
	}
	if len(files) > 1 {
		fmt.Fprintf(e.stderr, "total (%d files): %s\n", len(files), total)
	}
	fmt.Fprintf(e.stdout, "imported %d objects into %q (%s)\n", total.Imported(), c.Title, c.ID)
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d inputs failed (objects read before a failure were kept)", len(failed), len(files))
	}
	return nil
}

// dryImport reads and validates without a store, to measure what storing
// costs on top of decoding and to check a feed before importing it.
func dryImport(ctx context.Context, e *env, files []string, forced *feed.Format, tlp stix.TLP, source string, batch int, quiet bool) error {
	var total feed.Summary
	for _, f := range files {
		sum, err := importOne(ctx, e, discard{}, "", f, forced, tlp, source, batch, quiet)
		total.Add(sum)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		fmt.Fprintf(e.stderr, "%s: %s in %s (dry run)\n", f, sum, sum.Elapsed.Round(time.Millisecond))
		for _, ex := range sum.Examples {
			fmt.Fprintf(e.stderr, "  rejected: %s\n", ex)
		}
	}
	fmt.Fprintf(e.stdout, "dry run: %d objects valid, %d rejected\n", total.Created, total.Rejected)
	return nil
}

// discard is a writer that counts every object as new and keeps nothing.
type discard struct{}

func (discard) Put(_ context.Context, _ string, items []store.PutItem) (store.PutResult, error) {
	var r store.PutResult
	for range items {
		r.Count(store.Created)
	}
	return r, nil
}

func formatNames() string {
	var names []string
	for _, f := range formats() {
		names = append(names, f.Name)
	}
	return strings.Join(names, ", ")
}

// expandPaths turns directories into the files under them, sorted, leaving
// out hidden files and licence/readme texts that sit beside feeds. A
// directory with a MISP manifest.json is imported through the manifest.
func expandPaths(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		if _, err := os.Stat(filepath.Join(p, "manifest.json")); err == nil {
			out = append(out, filepath.Join(p, "manifest.json"))
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if path != p && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || skipName(name) {
				return nil
			}
			found = append(found, path)
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

func skipName(name string) bool {
	n := strings.ToLower(name)
	for _, p := range []string{"license", "licence", "readme", "upstream_readme", "sources", "copying", "notice"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// importOne imports a file (or stdin) with the given or detected format.
func importOne(ctx context.Context, e *env, w feed.Writer, coll, path string, forced *feed.Format, tlp stix.TLP, source string, batch int, quiet bool) (feed.Summary, error) {
	var (
		r     io.Reader
		size  int64
		mtime time.Time
	)
	if path == "-" {
		r = e.stdin
		mtime = time.Now()
	} else {
		f, err := os.Open(path)
		if err != nil {
			return feed.Summary{}, err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return feed.Summary{}, err
		}
		r, size, mtime = f, st.Size(), st.ModTime()
	}
	counter := &countingReader{r: r}
	br := bufio.NewReaderSize(counter, feed.SniffBytes)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return feed.Summary{}, fmt.Errorf("gzip: %w", err)
		}
		defer gz.Close()
		in = bufio.NewReaderSize(gz, feed.SniffBytes)
	}
	bin := in.(*bufio.Reader)
	head, err := bin.Peek(feed.SniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return feed.Summary{}, err
	}
	name := strings.TrimSuffix(path, ".gz")
	var format feed.Format
	if forced != nil {
		format = *forced
	} else if format, err = feed.Detect(formats(), name, head); err != nil {
		return feed.Summary{}, err
	}
	src := feed.Source{Path: path, R: bin, Time: mtime.UTC(), Name: source, TLP: tlp}
	stopBar := func() {}
	if e.isTTY && !quiet {
		stopBar = progress(e, filepath.Base(path)+" ["+format.Name+"]", counter, size)
	}
	sum, err := feed.Import(ctx, w, coll, format, src, batch)
	stopBar()
	return sum, err
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress draws a one-line bar on a terminal until the returned func is
// called.
func progress(e *env, label string, c *countingReader, size int64) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(e.stderr, "\r\033[K")
				return
			case <-t.C:
				n := c.n.Load()
				rate := float64(n) / time.Since(start).Seconds() / (1 << 20)
				if size > 0 {
					pct := float64(n) / float64(size)
					bar := strings.Repeat("█", int(pct*30)) + strings.Repeat("░", 30-int(pct*30))
					fmt.Fprintf(e.stderr, "\r\033[K%s %s %3.0f%% %.1f/%.1f MB %.1f MB/s", label, bar, pct*100, float64(n)/(1<<20), float64(size)/(1<<20), rate)
				} else {
					fmt.Fprintf(e.stderr, "\r\033[K%s %.1f MB %.1f MB/s", label, float64(n)/(1<<20), rate)
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}
