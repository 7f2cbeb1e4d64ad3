package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/detect"
	"github.com/bulwark-intel/bulwark/internal/feed"
	"github.com/bulwark-intel/bulwark/internal/feed/csvlist"
	"github.com/bulwark-intel/bulwark/internal/sigma"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/store/sqlite"
	"github.com/bulwark-intel/bulwark/internal/taxii/client"
)

func init() {
	register(command{name: "scan", usage: "scan logs for the store's indicators and Sigma rules: scan [--rules DIR] [--indicators FILE] [--follow] PATH…", run: runScan})
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runScan(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "scan", "[--rules DIR]… [--indicators store|FILE]… [--format auto|jsonl|zeek|zeekjson|eve|winjson|csv|text] [--follow] PATH…")
	db := dbFlag(fs)
	var rules, indicators multiFlag
	fs.Var(&rules, "rules", "directory of Sigma rules (repeatable)")
	fs.Var(&indicators, "indicators", `"store" (default) or an indicator file in any importable format (repeatable)`)
	format := fs.String("format", "auto", "log format")
	mappingFile := fs.String("mapping", "", "JSON file mapping log field names to STIX object paths")
	workers := fs.Int("workers", 0, "parallel workers (0: every core)")
	follow := fs.Bool("follow", false, "keep reading the files as they grow, like tail -F (through truncation and rotation), until interrupted")
	sightings := fs.String("sightings", "", `write STIX sightings of the indicators and Sigma rules hit: "store" (into --sightings-collection) or a bundle FILE`)
	sightColl := fs.String("sightings-collection", "sightings", "local collection for --sightings store")
	identity := fs.String("identity", "", "name of the organisation reporting the sightings (default: the host name)")
	sightTLP := fs.String("sightings-tlp", "amber", "TLP marking the sightings")
	push := fs.String("push", "", "post the sightings to this TAXII hub (with --push-collection and --token)")
	pushColl := fs.String("push-collection", "", "hub collection for --push")
	token := fs.String("token", os.Getenv("BULWARK_TOKEN"), "hub token for --push (default $BULWARK_TOKEN)")
	insecure := fs.Bool("insecure-skip-verify", false, "accept any TLS certificate from the --push hub")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fmt.Errorf("%w: scan needs at least one PATH (- for stdin)", errUsage)
	}
	if len(indicators) == 0 {
		indicators = multiFlag{"store"}
	}
	stlp, err := stix.ParseTLP(*sightTLP)
	if err != nil {
		return fmt.Errorf("%w: --sightings-tlp: %v", errUsage, err)
	}
	if *push != "" && *pushColl == "" {
		return fmt.Errorf("%w: --push needs --push-collection", errUsage)
	}
	if *identity == "" {
		*identity, _ = os.Hostname()
	}
	idx, err := scanIndicators(ctx, e, *db, indicators)
	if err != nil {
		return err
	}
	opts := detect.ScanOptions{Workers: *workers, Format: *format, Follow: *follow}
	if *format == "auto" {
		opts.Format = ""
	}
	if *mappingFile != "" {
		f, err := os.Open(*mappingFile)
		if err != nil {
			return err
		}
		m, err := detect.LoadMapping(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *mappingFile, err)
		}
		opts.Mapping = m
	}
	for _, dir := range rules {
		mapping := sigma.WindowsMapping
		if strings.HasPrefix(*format, "zeek") || *format == "eve" {
			mapping = sigma.ZeekMapping
		}
		rs, errs := sigma.LoadDirWith(dir, sigma.Options{Mapping: mapping})
		opts.Rules = append(opts.Rules, rs...)
		fmt.Fprintf(e.stderr, "rules %s: %d loaded, %d not loaded\n", dir, len(rs), len(errs))
		for i, le := range errs {
			if i == 5 {
				fmt.Fprintf(e.stderr, "  … %d more\n", len(errs)-5)
				break
			}
			fmt.Fprintf(e.stderr, "  %v\n", le.Error())
		}
	}
	files, err := scanPaths(pos, *follow)
	if err != nil {
		return err
	}
	inputs := make([]detect.Input, len(files))
	for i, p := range files {
		inputs[i] = detect.FileInput(p)
	}
	w := bufio.NewWriterSize(e.stdout, 64<<10)
	enc := json.NewEncoder(w)
	var encErr error
	sight := detect.Sightings{Fallback: time.Now().UTC()}
	sum, err := detect.Scan(ctx, idx, inputs, opts, func(h detect.Hit) {
		sight.Add(h)
		if encErr == nil {
			encErr = enc.Encode(h)
			if *follow && encErr == nil {
				encErr = w.Flush() // a followed log's hits are wanted now
			}
		}
	})
	if ferr := w.Flush(); encErr == nil {
		encErr = ferr
	}
	printScanSummary(e, idx, sum)
	if *follow && errors.Is(err, context.Canceled) {
		// Interrupting is how a follow ends: report what was seen, with a
		// context of its own (bounded, as a second interrupt is caught too).
		err = nil
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
	}
	if err != nil {
		return err
	}
	if encErr != nil {
		return encErr
	}
	if (*sightings != "" || *push != "") && sight.Len() > 0 {
		if err := reportSightings(ctx, e, &sight, *identity, stlp, *sightings, *db, *sightColl, *push, *pushColl, *token, *insecure); err != nil {
			return err
		}
	}
	if len(sum.Errors) > 0 {
		return fmt.Errorf("%d input(s) could not be read", len(sum.Errors))
	}
	return nil
}

// reportSightings writes the scan's sightings to a bundle file, the local
// store and/or a hub over TAXII.
func reportSightings(ctx context.Context, e *env, s *detect.Sightings, identity string, tlp stix.TLP, dest, db, coll, hub, hubColl, token string, insecure bool) error {
	objs, err := s.Objects(identity, tlp)
	if err != nil {
		return err
	}
	switch dest {
	case "":
	case "store":
		st, err := openStore(ctx, db)
		if err != nil {
			return err
		}
		defer st.Close()
		c, err := ensureCollection(ctx, st, coll, stix.TLPNone)
		if err != nil {
			return err
		}
		items := make([]store.PutItem, len(objs))
		for i, o := range objs {
			items[i] = store.PutItem{Object: o, Source: "bulwark scan"}
		}
		if _, err := st.Put(ctx, c.ID, items); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "%d sighting(s) stored in %q\n", s.Len(), c.Title)
	default:
		f, err := os.Create(dest)
		if err != nil {
			return err
		}
		bw := stix.NewBundleWriter(f)
		for _, o := range objs {
			if err := bw.Write(o.Raw); err != nil {
				f.Close()
				return err
			}
		}
		if err := bw.Close(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "%d sighting(s) written to %s\n", s.Len(), dest)
	}
	if hub != "" {
		cl := &client.Client{Token: token, HTTP: httpClient(insecure)}
		root, err := cl.ResolveAPIRoot(ctx, hub)
		if err != nil {
			return err
		}
		rc, err := cl.FindCollection(ctx, root, hubColl)
		if err != nil {
			return err
		}
		raws := make([]json.RawMessage, len(objs))
		for i, o := range objs {
			raws[i] = o.Raw
		}
		st, err := cl.Push(ctx, root, rc.ID, raws, 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "pushed %d sighting object(s) to %s: %d succeeded, %d failed\n", len(raws), hub, st.SuccessCount, st.FailureCount)
	}
	return nil
}

// scanIndicators indexes the indicators of the store and of files, with
// the actor each one indicates, streaming: plain lists go straight into the
// index, other feeds through their importer one object at a time, the
// store a page at a time. No indicator outlives its indexing as a STIX
// object.
func scanIndicators(ctx context.Context, e *env, db string, sources []string) (*detect.Index, error) {
	// Loading makes garbage (a parsed line, an object, a page of records)
	// for every indicator kept; collecting it at half the default growth
	// keeps the peak near the index's own size, for a few per cent more
	// CPU during loading only.
	defer debug.SetGCPercent(debug.SetGCPercent(50))
	b := detect.NewBuilder(detect.Options{})
	for _, src := range sources {
		if src == "store" {
			if err := storeIndicators(ctx, db, b); err != nil {
				return nil, err
			}
			continue
		}
		files, err := expandPaths([]string{src})
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if err := fileIndicators(ctx, e, b, f); err != nil {
				return nil, fmt.Errorf("indicators %s: %w", f, err)
			}
		}
	}
	return b.Index(), nil
}

// fileIndicators indexes one indicator file (or stdin): a plain list by
// detect.AddList, anything else through the importer its format names.
func fileIndicators(ctx context.Context, e *env, b *detect.Builder, path string) error {
	var r io.Reader = e.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReaderSize(r, feed.SniffBytes)
	in := br
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		defer gz.Close()
		in = bufio.NewReaderSize(gz, feed.SniffBytes)
	}
	head, err := in.Peek(feed.SniffBytes)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return err
	}
	name := strings.TrimSuffix(path, ".gz")
	if format, ferr := feed.Detect(formats(), name, head); ferr == nil && format.Name == csvlist.Format.Name && detect.LooksLikeList(name, head) {
		src := detect.ListSource{Path: path}
		if f, ok := r.(*os.File); ok && in == br {
			if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
				src.Size = fi.Size()
			}
		}
		st, err := b.AddList(ctx, in, src)
		switch {
		case err == nil:
			fmt.Fprintf(e.stderr, "indicators %s: %d values indexed, %d lines rejected\n", path, st.Values, st.Rejected)
			for _, ex := range st.Examples[:min(3, len(st.Examples))] {
				fmt.Fprintf(e.stderr, "  rejected: %s\n", ex)
			}
			return nil
		case !errors.Is(err, detect.ErrNotList) || path == "-":
			return err
		}
		// CSV after all (past the sniffed head): nothing was indexed, the
		// importer reads the file again from the start.
	}
	// The importer reads from the start: a file is opened again; stdin
	// goes on from what was peeked (br still holds it).
	col := &collector{b: b}
	sum, err := importOne(ctx, &env{stderr: nopWriter{}, stdin: br}, col, "", path, nil, stix.TLPNone, "", 0, true)
	if err == nil {
		fmt.Fprintf(e.stderr, "indicators %s: %d objects read, %d rejected\n", path, sum.Read, sum.Rejected)
	}
	return err
}

// storeIndicators indexes the store's indicators a page at a time, with
// the actors their "indicates" relationships name.
func storeIndicators(ctx context.Context, db string, b *detect.Builder) error {
	// One pass over the store: no memory map, so resident memory stays
	// the index's own.
	s, err := openStore(ctx, db, sqlite.WithoutMmap())
	if err != nil {
		return err
	}
	defer s.Close()
	// Pages of 2,000: large enough that round trips do not matter, small
	// enough that a page of decoded records is a few megabytes.
	q := store.Query{Types: []string{"indicator"}, Limit: 2000}
	looked := map[string]bool{} // relationship targets already looked up
	for {
		page, err := s.Query(ctx, q)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(page.Records))
		for _, r := range page.Records {
			b.Add(r.Object)
			ids = append(ids, r.Object.ID)
		}
		edges, err := s.Edges(ctx, ids)
		if err != nil {
			return err
		}
		var targets []string
		for _, ed := range edges {
			if ed.Kind != "indicates" {
				continue
			}
			b.Indicates(ed.Source, ed.Target)
			if !looked[ed.Target] {
				looked[ed.Target] = true
				targets = append(targets, ed.Target)
			}
		}
		if len(targets) > 0 {
			recs, err := s.Latest(ctx, targets)
			if err != nil {
				return err
			}
			for _, r := range recs {
				b.Add(r.Object) // names the actor objects; others are ignored
			}
		}
		if !page.More {
			break
		}
		q.Cursor = page.Next
	}
	return nil
}

// scanPaths expands directories into the log files under them. A file to
// follow may not exist yet.
func scanPaths(paths []string, follow bool) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		if _, err := os.Stat(p); follow && errors.Is(err, os.ErrNotExist) {
			out = append(out, p)
			continue
		}
		files, err := expandPaths([]string{p})
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			// A MISP manifest is how expandPaths names a feed directory;
			// a log directory has none, so this only guards odd trees.
			if !strings.HasSuffix(f, "manifest.json") || f == p {
				out = append(out, f)
			}
		}
	}
	return out, nil
}

// collector indexes what an importer yields instead of storing it:
// indicators, and the relationships and actors that name their actors.
type collector struct {
	b *detect.Builder
}

func (c *collector) Put(_ context.Context, _ string, items []store.PutItem) (store.PutResult, error) {
	var r store.PutResult
	for _, it := range items {
		c.b.Add(it.Object)
		r.Count(store.Created)
	}
	return r, nil
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

func printScanSummary(e *env, idx *detect.Index, s detect.Summary) {
	w := e.stderr
	fmt.Fprintf(w, "scanned %d file(s), %d events, %.1f MB in %s (%.1f MB/s); %d malformed lines; %d hits; %d indicators indexed (%.0f MB)\n",
		s.Files, s.Events, float64(s.Bytes)/1e6, s.Elapsed.Round(time.Millisecond), s.MBps(), s.Malformed, s.Hits, idx.Len(), float64(idx.Bytes())/1e6)
	for _, le := range s.MalformedLines {
		fmt.Fprintf(w, "  malformed %s\n", le.Error())
	}
	for _, err := range s.Errors {
		fmt.Fprintf(w, "  error: %v\n", err)
	}
	top := func(title string, m map[string]int64) {
		if len(m) == 0 {
			return
		}
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return m[keys[i]] > m[keys[j]] || m[keys[i]] == m[keys[j]] && keys[i] < keys[j] })
		fmt.Fprintf(w, "hits by %s:\n", title)
		for i, k := range keys {
			if i == 20 {
				fmt.Fprintf(w, "  … %d more\n", len(keys)-20)
				break
			}
			fmt.Fprintf(w, "  %6d  %s\n", m[k], k)
		}
	}
	top("actor", s.ByActor)
	top("rule", s.ByRule)
	top("indicator", s.ByIndicator)
}

var _ feed.Writer = (*collector)(nil)
