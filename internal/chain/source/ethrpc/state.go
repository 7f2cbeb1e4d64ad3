package ethrpc

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/bulwark-intel/bulwark/internal/atomicfile"
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
	data, ok, err := atomicfile.ReadSmall(path, maxStateBytes)
	if err != nil || !ok {
		if err != nil {
			err = fmt.Errorf("reading state: %w", err)
		}
		return State{}, false, err
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

// SaveState writes st to path atomically (atomicfile.Write): a crash
// leaves either the old or the new state.
func SaveState(path string, st State) error {
	st.Version = stateVersion
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding state: %w", err)
	}
	data = append(data, '\n')
	if err := atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		return fmt.Errorf("writing state: %w", err)
	}
	return nil
}
