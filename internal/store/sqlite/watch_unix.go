//go:build unix

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// walWatch reads the WAL-index header that SQLite keeps at the start of
// the database's "-shm" file, shared by every process that has the
// database open (file format, "WAL-Index Format"): two copies of a 48-byte
// header whose change counter, frame count and salts move with every
// commit. Reading it from a shared mapping tells whether anything was
// committed without a read transaction and its file-lock system calls,
// which were a third of a small request's cost.
//
// SQLite deletes the -shm file when the last connection closes; the watch
// keeps one connection open so that the file it mapped is the one in use
// for as long as the store is.
type walWatch struct {
	mem  []byte
	conn *sql.Conn
}

func openWALWatch(ctx context.Context, db *sql.DB, path string) (*walWatch, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	// A read on the pinned connection makes sure the WAL index exists.
	var mode string
	if err := conn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		conn.Close()
		return nil, err
	}
	if mode != "wal" {
		conn.Close()
		return nil, fmt.Errorf("journal mode %q, not wal", mode)
	}
	f, err := os.Open(path + "-shm")
	if err != nil {
		conn.Close()
		return nil, err
	}
	defer f.Close()
	mem, err := unix.Mmap(int(f.Fd()), 0, os.Getpagesize(), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &walWatch{mem: mem, conn: conn}, nil
}

// Token returns the first header copy; ok only when both copies agree and
// the header is initialised, as SQLite itself requires before trusting it.
func (w *walWatch) Token() (tok [6]uint64, ok bool) {
	var copy2 [6]uint64
	for i := range tok {
		tok[i] = atomic.LoadUint64((*uint64)(unsafe.Pointer(&w.mem[8*i])))
	}
	for i := range copy2 {
		copy2[i] = atomic.LoadUint64((*uint64)(unsafe.Pointer(&w.mem[48+8*i])))
	}
	isInit := w.mem[12] != 0
	return tok, isInit && tok == copy2
}

func (w *walWatch) Close() error {
	err := unix.Munmap(w.mem)
	if cerr := w.conn.Close(); err == nil {
		err = cerr
	}
	return err
}
