package btcrpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("state file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateBytes+1))
	if err != nil {
		return s, false, fmt.Errorf("state file %s: %w", path, err)
	}
	if len(b) > maxStateBytes {
		return s, false, fmt.Errorf("state file %s: larger than %d bytes", path, maxStateBytes)
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

// writeState replaces the state file atomically: a crash leaves either the
// old file or the new one, never a torn one. The temporary file is synced
// before the rename and the directory after it.
func writeState(path string, s state) (err error) {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(b); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("state file: syncing directory: %w", err)
	}
	defer d.Close()
	if err = d.Sync(); err != nil {
		return fmt.Errorf("state file: syncing directory: %w", err)
	}
	return nil
}
