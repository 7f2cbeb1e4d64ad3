package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bulwark-intel/bulwark/internal/atomicfile"
	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// trace --rpc-state: loading a node's blocks over several runs into one
// snapshot, and the files that say which blocks it holds.

// increment is an incremental load: the snapshot of the earlier runs, and
// the state file that says up to which block it holds. The loader records
// its progress in a copy of the state, which replaces the state only once
// the extended snapshot is saved, so a run that fails halfway leaves the
// two agreeing. Beside the state, FILE.snapshot records how many transfers
// the snapshot held when the state was last moved, and FILE.pending,
// while a run commits, the count of the snapshot it is saving (see
// openIncrement on how the next run settles an interrupted commit). A
// snapshot changed otherwise (replaced by hand or by another run) no
// longer matches the state, and is refused rather than extended with
// blocks it may hold already.
type increment struct {
	state, work, meta string // the state file, the loader's copy, the transfer count
	pending           string // the journal of a commit under way: the count the new snapshot holds
	base              string // the snapshot to extend; "" on the first run
	transfers         int    // what base held when the state was moved
}

type incrementMeta struct {
	Transfers int `json:"transfers"`
}

// A run commits in steps, each of which a crash may interrupt: it writes
// the journal (the new snapshot's transfer count), replaces the snapshot
// (atomically), moves the loader's copy over the state, records the count
// and removes the journal. The next run finds the journal, opens the
// snapshot and finishes the commit if the new snapshot is in place, or
// forgets it if the old one still is.
func openIncrement(state, snapshot string) (*increment, error) {
	inc := &increment{state: state, work: state + ".partial", meta: state + ".snapshot", pending: state + ".pending"}
	if err := inc.recover(snapshot); err != nil {
		return nil, err
	}
	old, err := os.ReadFile(state)
	switch {
	case errors.Is(err, os.ErrNotExist):
		// First run: load from --from-block; the snapshot is (over)written.
		os.Remove(inc.work)
		return inc, nil
	case err != nil:
		return nil, fmt.Errorf("--rpc-state: %w", err)
	}
	if _, err := os.Stat(snapshot); err != nil {
		return nil, fmt.Errorf("--rpc-state %s records blocks already loaded, but the snapshot holding them cannot be read (%w); remove the state file to load again from --from-block", state, err)
	}
	m, err := readMeta(inc.meta)
	if err != nil {
		return nil, fmt.Errorf("--rpc-state: %s, which says what the snapshot holds, is missing or damaged; remove %s to load again from --from-block", inc.meta, state)
	}
	if err := os.WriteFile(inc.work, old, 0o600); err != nil {
		return nil, fmt.Errorf("--rpc-state: %w", err)
	}
	inc.base, inc.transfers = snapshot, m.Transfers
	return inc, nil
}

// readMeta reads a transfer count file; an error wrapping os.ErrNotExist
// when there is none.
func readMeta(path string) (incrementMeta, error) {
	var m incrementMeta
	b, ok, err := atomicfile.ReadSmall(path, 4<<10)
	switch {
	case err != nil:
		return m, err
	case !ok:
		return m, fmt.Errorf("%s: %w", path, os.ErrNotExist)
	}
	return m, json.Unmarshal(b, &m)
}

func writeMeta(path string, transfers int) error {
	b, _ := json.Marshal(incrementMeta{Transfers: transfers})
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// recover finishes or forgets a commit an earlier run left under way.
func (inc *increment) recover(snapshot string) error {
	p, err := readMeta(inc.pending)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--rpc-state: %s, the journal of an interrupted run, is damaged; remove %s and it to load again from --from-block", inc.pending, inc.state)
	}
	n := -1
	if g, err := graph.OpenSnapshot(snapshot); err == nil {
		n = g.NumEdges()
		g.Close()
	}
	if n != p.Transfers {
		// The new snapshot never replaced the old one: nothing of that
		// run is kept.
		os.Remove(inc.work)
		return os.Remove(inc.pending)
	}
	// The new snapshot is in place: its state too, and its count.
	if _, err := os.Stat(inc.work); err == nil {
		if err := os.Rename(inc.work, inc.state); err != nil {
			return fmt.Errorf("--rpc-state: finishing an interrupted run: %w", err)
		}
	}
	if err := writeMeta(inc.meta, p.Transfers); err != nil {
		return fmt.Errorf("--rpc-state: finishing an interrupted run: %w", err)
	}
	return os.Remove(inc.pending)
}

// check refuses a base snapshot that is not the one the state describes.
func (inc *increment) check(base *graph.Graph) error {
	if base.NumEdges() != inc.transfers {
		return fmt.Errorf("--rpc-state: %s holds %d transfers, but the state %s was saved with %d: they no longer describe the same blocks; remove the state file to load again from --from-block",
			inc.base, base.NumEdges(), inc.state, inc.transfers)
	}
	return nil
}

// prepare writes the journal before the snapshot of transfers transfers
// replaces the old one.
func (inc *increment) prepare(transfers int) error {
	if _, err := os.Stat(inc.work); errors.Is(err, os.ErrNotExist) {
		return nil // nothing loaded, nothing to commit
	}
	if err := writeMeta(inc.pending, transfers); err != nil {
		return fmt.Errorf("--rpc-state: %w", err)
	}
	return nil
}

// commit makes the loader's progress the state once the snapshot, of
// transfers transfers, is saved; then records that count and closes the
// journal.
func (inc *increment) commit(transfers int) error {
	if _, err := os.Stat(inc.work); errors.Is(err, os.ErrNotExist) {
		return nil // nothing loaded, nothing to record
	}
	if err := os.Rename(inc.work, inc.state); err != nil {
		return fmt.Errorf("--rpc-state: %w", err)
	}
	if err := writeMeta(inc.meta, transfers); err != nil {
		return fmt.Errorf("--rpc-state: %w", err)
	}
	if err := os.Remove(inc.pending); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("--rpc-state: %w", err)
	}
	return nil
}

// named makes an error that names the loader's copy of the state name
// the state file, the one the user gave (the copy is gone after the run).
func (inc *increment) named(err error) error {
	if inc == nil || !strings.Contains(err.Error(), inc.work) {
		return err
	}
	return &renamedError{err: err, msg: strings.ReplaceAll(err.Error(), inc.work, inc.state)}
}

type renamedError struct {
	err error
	msg string
}

func (e *renamedError) Error() string { return e.msg }
func (e *renamedError) Unwrap() error { return e.err }

// abandon drops the loader's copy after a failed run (after commit there
// is none) — unless the journal says a commit is under way: then the copy
// is the state of a snapshot that may already be in place, which the next
// run's recover needs.
func (inc *increment) abandon() {
	if _, err := os.Stat(inc.pending); err == nil {
		return
	}
	os.Remove(inc.work)
}
