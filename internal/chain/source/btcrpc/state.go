package btcrpc

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/bulwark-intel/bulwark/internal/atomicfile"
)

// state is the saved position: the last height delivered and its hash.
type state struct {
	Network string `json:"network"`
	Height  uint64 `json:"height"`
	Hash    string `json:"hash"`
}

// maxStateBytes bounds the state file; a real one is under 200 bytes.
const maxStateBytes = 4096

// readState reads the state file; ok is false when it does not exist.
func readState(path string) (s state, ok bool, err error) {
	b, ok, err := atomicfile.ReadSmall(path, maxStateBytes)
	if err != nil || !ok {
		if err != nil {
			err = fmt.Errorf("state file: %w", err)
		}
		return s, false, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, false, fmt.Errorf("state file %s: %w", path, err)
	}
	if _, err := parseTxid(s.Hash); err != nil {
		return s, false, fmt.Errorf("state file %s: hash: %w", path, err)
	}
	if _, err := networkByName(s.Network); err != nil {
		return s, false, fmt.Errorf("state file %s: %w", path, err)
	}
	return s, true, nil
}

// writeState replaces the state file atomically (atomicfile.Write): a
// crash leaves either the old file or the new one, never a torn one.
func writeState(path string, s state) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := atomicfile.Write(path, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}
