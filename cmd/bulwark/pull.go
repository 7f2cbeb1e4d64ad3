package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulwark-intel/bulwark/internal/atomicfile"
	"github.com/bulwark-intel/bulwark/internal/stix"
	"github.com/bulwark-intel/bulwark/internal/store"
	"github.com/bulwark-intel/bulwark/internal/taxii/client"
)

func init() {
	register(command{name: "pull", usage: "import a remote TAXII 2.1 collection: pull URL --collection ID [--token T] [--every 5m]", run: runPull})
	register(command{name: "push", usage: "send local objects to a remote TAXII 2.1 collection: push URL --collection ID --max-tlp green", run: runPush})
}

func runPull(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "pull", "URL --collection ID [--token T] [--into C] [--every 5m] [--state FILE]")
	db := dbFlag(fs)
	coll := fs.String("collection", "", "remote collection id or title (required)")
	token := fs.String("token", os.Getenv("BULWARK_TOKEN"), "remote API token (default $BULWARK_TOKEN)")
	into := fs.String("into", defaultCollection, "local collection (id or title); created if missing")
	every := fs.Duration("every", 0, "pull again at this interval until interrupted")
	state := fs.String("state", "", "file keeping the resume cursor (default beside the database)")
	limit := fs.Int("limit", 1000, "page size asked of the server")
	insecure := fs.Bool("insecure-skip-verify", false, "accept any TLS certificate (self-signed test hubs)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *coll == "" {
		return fmt.Errorf("%w: pull needs URL and --collection", errUsage)
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	local, err := ensureCollection(ctx, s, *into, stix.TLPNone)
	if err != nil {
		return err
	}
	c := &client.Client{Token: *token, HTTP: httpClient(*insecure)}
	root, err := c.ResolveAPIRoot(ctx, pos[0])
	if err != nil {
		return err
	}
	remote, err := c.FindCollection(ctx, root, *coll)
	if err != nil {
		return err
	}
	if *state == "" {
		h := sha256.Sum256([]byte(root + "|" + remote.ID + "|" + local.ID))
		dir := filepath.Dir(*db)
		if isURL(*db) {
			dir = "bulwark-data"
		}
		*state = filepath.Join(dir, "pull-"+hex.EncodeToString(h[:8])+".json")
	}
	for {
		n, rejected, err := pullOnce(ctx, c, s, root, remote.ID, local.ID, *limit, *state)
		fmt.Fprintf(e.stderr, "pulled %d objects from %s (%s) into %q, %d rejected\n", n, root, remote.Title, local.Title, rejected)
		if err != nil {
			if *every == 0 || ctx.Err() != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "pull failed, retrying in %s: %v\n", *every, err)
		}
		if *every == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*every):
		}
	}
}

// maxCursorBytes bounds a saved pull cursor; a real one is under 1 KB.
const maxCursorBytes = 64 << 10

// pullOnce pulls until the remote has nothing new, storing each page and
// then its cursor, so an interrupted pull resumes after the last stored page.
func pullOnce(ctx context.Context, c *client.Client, s store.Store, root, remote, local string, limit int, statePath string) (stored, rejected int, err error) {
	var cur client.Cursor
	if b, ok, err := atomicfile.ReadSmall(statePath, maxCursorBytes); err != nil {
		return 0, 0, err
	} else if ok {
		if err := json.Unmarshal(b, &cur); err != nil {
			return 0, 0, fmt.Errorf("reading %s: %w", statePath, err)
		}
	}
	src := "TAXII " + root + " " + remote
	_, err = c.Pull(ctx, root, remote, limit, cur, func(p client.Page) error {
		var items []store.PutItem
		for _, raw := range p.Objects {
			o, err := stix.Decode(raw)
			if err != nil {
				rejected++
				continue
			}
			items = append(items, store.PutItem{Object: o, Source: src})
		}
		res, err := s.Put(ctx, local, items)
		if err != nil {
			return err
		}
		stored += res.Created + res.NewVersions + res.Stale
		b, err := json.Marshal(p.Cursor)
		if err != nil {
			return err
		}
		// Synced and renamed into place: a crash leaves this cursor or
		// the last one, never a torn file.
		return atomicfile.Write(statePath, func(w io.Writer) error { _, err := w.Write(b); return err })
	})
	return stored, rejected, err
}

func runPush(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "push", "URL --collection ID --max-tlp green [--from C] [--token T]")
	db := dbFlag(fs)
	coll := fs.String("collection", "", "remote collection id or title (required)")
	token := fs.String("token", os.Getenv("BULWARK_TOKEN"), "remote API token (default $BULWARK_TOKEN)")
	from := fs.String("from", "", "local collection (default: every collection)")
	maxTLP := fs.String("max-tlp", "green", "most restrictive TLP sent: clear, green or amber (never amber+strict or red)")
	insecure := fs.Bool("insecure-skip-verify", false, "accept any TLS certificate (self-signed test hubs)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *coll == "" {
		return fmt.Errorf("%w: push needs URL and --collection", errUsage)
	}
	tlp, err := stix.ParseTLP(*maxTLP)
	if err != nil {
		return fmt.Errorf("%w: --max-tlp: %v", errUsage, err)
	}
	// Onward sharing never forwards AMBER+STRICT or RED (ARCHITECTURE.md).
	if tlp >= stix.TLPAmberStrict {
		return fmt.Errorf("%w: --max-tlp %s: pushing AMBER+STRICT or RED to another hub is not allowed", errUsage, strings.ToUpper(tlp.String()))
	}
	s, err := openStore(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	q := store.Query{MaxTLP: tlp, Limit: store.MaxLimit}
	if *from != "" {
		c, err := s.Collection(ctx, *from)
		if err != nil {
			return err
		}
		q.Collection = c.ID
	}
	var objs []json.RawMessage
	seen := map[string]bool{}
	for {
		page, err := s.Query(ctx, q)
		if err != nil {
			return err
		}
		for _, rec := range page.Records {
			if rec.EffectiveTLP > tlp || rec.EffectiveTLP >= stix.TLPAmberStrict {
				return fmt.Errorf("push: %s at TLP:%s over the limit", rec.Object.ID, rec.EffectiveTLP)
			}
			if k := rec.Object.ID + rec.Version.String(); !seen[k] {
				seen[k] = true
				objs = append(objs, rec.Object.Raw)
			}
		}
		if !page.More {
			break
		}
		q.Cursor = page.Next
	}
	c := &client.Client{Token: *token, HTTP: httpClient(*insecure)}
	root, err := c.ResolveAPIRoot(ctx, pos[0])
	if err != nil {
		return err
	}
	remote, err := c.FindCollection(ctx, root, *coll)
	if err != nil {
		return err
	}
	st, err := c.Push(ctx, root, remote.ID, objs, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "pushed %d objects at TLP:%s or below to %s (%s): %d succeeded, %d failed\n",
		len(objs), strings.ToUpper(tlp.String()), root, remote.Title, st.SuccessCount, st.FailureCount)
	for i, f := range st.Failures {
		if i == 20 {
			fmt.Fprintf(e.stderr, "  … %d more failures\n", len(st.Failures)-20)
			break
		}
		fmt.Fprintf(e.stderr, "  failed %s: %s\n", f.ID, f.Message)
	}
	return nil
}
