package misp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/feed"
)

// ReadFeedDir reads a MISP feed directory: manifest.json maps event uuids
// to summaries, and each event is in <uuid>.json beside it. Events are read
// in uuid order; a missing, oversized or malformed event file is rejected
// (field manifest["<uuid>"]) and the others are still read. src supplies
// Name, TLP and Time; its Path and R are not used. Event.Read does the same
// when handed a manifest.json by path.
func ReadFeedDir(ctx context.Context, dir string, src feed.Source, yield feed.Yield) error {
	mpath := filepath.Join(dir, "manifest.json")
	f, err := os.Open(mpath)
	if err != nil {
		return fmt.Errorf("MISP feed: %w", err)
	}
	defer f.Close()
	data, err := readAll(f)
	if err != nil {
		return fmt.Errorf("%s: %w", mpath, err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return fmt.Errorf("%s: not a MISP feed manifest: %w", mpath, err)
	}
	if !isManifest(top) {
		return fmt.Errorf("%s: not a MISP feed manifest: keys must be event uuids", mpath)
	}
	return readManifest(ctx, dir, mpath, top, src, yield)
}

// isManifest reports whether a JSON object looks like a feed manifest:
// every key an event uuid, every value an object.
func isManifest(top map[string]json.RawMessage) bool {
	if len(top) == 0 {
		return false
	}
	for k, v := range top {
		if !validUUID(k) || len(v) == 0 || v[0] != '{' {
			return false
		}
	}
	return true
}

func dirOf(p string) string { return filepath.Dir(p) }

func readManifest(ctx context.Context, dir, mpath string, top map[string]json.RawMessage, src feed.Source, yield feed.Yield) error {
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mprov := feed.Provenance{Source: sourceName(src), File: mpath, Index: -1}
	// Errors from yield must stop the read; errors about one event file
	// only reject that file.
	var yieldErr error
	wrapped := func(it feed.Item) error {
		if err := yield(it); err != nil {
			yieldErr = err
			return err
		}
		return nil
	}
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		field := fmt.Sprintf("manifest[%q]", k)
		// validUUID (checked by isManifest) keeps the name inside dir.
		epath := filepath.Join(dir, strings.ToLower(k)+".json")
		data, err := readFile(epath)
		if err != nil {
			if err := yield(feed.Reject(mprov, field, err)); err != nil {
				return err
			}
			continue
		}
		esrc := src
		esrc.Path, esrc.R = epath, nil
		if err := readEventDoc(ctx, data, esrc, wrapped); err != nil {
			if yieldErr != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return err
			}
			if err := yield(feed.Reject(mprov, field, err)); err != nil {
				return err
			}
		}
	}
	return nil
}

func readFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	data, err := readAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return data, nil
}
