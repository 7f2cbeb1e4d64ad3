package ethrpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// State is what the loader remembers between runs: the chain it read and
// the next block to read. Hash is the hash of block Next-1, checked on the
// next run to notice a reorganisation deeper than the confirmation depth.
type State struct {
	Version int    `json:"version"`
	ChainID uint64 `json:"chain_id"`
	Next    uint64 `json:"next_block"`
	Hash    string `json:"last_hash"`
}

const stateVersion = 1

// maxStateBytes bounds the state file read; a real one is under 200 bytes.
const maxStateBytes = 64 << 10

// LoadState reads a state file. A missing file is not an error: ok is false.
func LoadState(path string) (st State, ok bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, fmt.Errorf("reading state: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxStateBytes+1))
	if err != nil {
		return State{}, false, fmt.Errorf("reading state %s: %w", path, err)
	}
	if len(data) > maxStateBytes {
		return State{}, false, fmt.Errorf("state %s: larger than %d bytes", path, maxStateBytes)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return State{}, false, fmt.Errorf("state %s: %w", path, err)
	}
	if st.Version != stateVersion {
		return State{}, false, fmt.Errorf("state %s: version %d, want %d", path, st.Version, stateVersion)
	}
	if st.Next > 0 {
		if _, err := parseHash(st.Hash); err != nil {
			return State{}, false, fmt.Errorf("state %s: last_hash: %w", path, err)
		}
	}
	return st, true, nil
}

// SaveState writes st to path atomically: a temporary file in the same
// directory is written, synced and renamed over the old one, and the
// directory is synced, so a crash leaves either the old or the new state.
func SaveState(path string, st State) error {
	st.Version = stateVersion
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	data = append(data, '\n')
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing state %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing state %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing state %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replacing state: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		// Best effort: not every file system supports syncing a directory.
		_ = d.Sync()
		d.Close()
	}
	return nil
}
