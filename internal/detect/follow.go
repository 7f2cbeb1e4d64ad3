package detect

import (
	"context"
	"errors"
	"io"
	"os"
	"time"
)

// DefaultPoll is how often a followed file is checked for new data.
const DefaultPoll = 250 * time.Millisecond

// errCaughtUp is what a follower in non-blocking mode returns when it has
// read everything written so far; bufio.Reader passes it on once and
// keeps what it had buffered.
var errCaughtUp = errors.New("no more data yet")

// follower reads a growing file like tail -F: at the end of the file it
// waits for more instead of ending, starts over when the file is
// truncated, and moves to the new file when the path is renamed or
// replaced (log rotation), after draining the old one. It ends, with
// io.EOF, when its context is done. Polling rather than inotify keeps it
// portable and simple; a poll every DefaultPoll costs nothing.
type follower struct {
	ctx  context.Context
	path string
	f    *os.File
	off  int64 // bytes read from f
	poll time.Duration
	// nonBlocking makes Read return errCaughtUp instead of waiting, while
	// the reader sniffs the format from what is already there.
	nonBlocking bool
	// caughtUp is called each time the follower has read everything so
	// far and is about to wait: the scanner hands its partial chunk to the
	// workers, so hits arrive without waiting for a full chunk.
	caughtUp func()
	// restarted is called when reading starts over at the beginning of a
	// file (truncated, or a new file at the path).
	restarted func()
}

// openFollower opens path, waiting for it to appear if it does not exist
// yet (as tail -F does); it fails with ctx's error if ctx ends first.
func openFollower(ctx context.Context, path string, poll time.Duration) (*follower, error) {
	if poll <= 0 {
		poll = DefaultPoll
	}
	for {
		f, err := os.Open(path)
		if err == nil {
			return &follower{ctx: ctx, path: path, f: f, poll: poll}, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

func (fr *follower) Close() error { return fr.f.Close() }

func (fr *follower) Read(p []byte) (int, error) {
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	for {
		n, err := fr.f.Read(p)
		fr.off += int64(n)
		if n > 0 {
			return n, nil
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
		if fr.ctx.Err() != nil {
			return 0, io.EOF
		}
		if fr.nonBlocking {
			return 0, errCaughtUp
		}
		if fr.caughtUp != nil {
			fr.caughtUp()
		}
		if fr.moved() {
			continue
		}
		if t == nil {
			t = time.NewTimer(fr.poll)
		} else {
			t.Reset(fr.poll)
		}
		select {
		case <-fr.ctx.Done():
			return 0, io.EOF
		case <-t.C:
		}
	}
}

// moved checks, at the end of the data, whether the file was truncated or
// the path now names another file, and if so reopens; it reports whether
// there may be more to read now.
func (fr *follower) moved() bool {
	st, err := fr.f.Stat()
	if err != nil {
		return false
	}
	if st.Size() < fr.off {
		// Truncated in place (copytruncate rotation, or "> file").
		if _, err := fr.f.Seek(0, io.SeekStart); err != nil {
			return false
		}
		fr.off = 0
		if fr.restarted != nil {
			fr.restarted()
		}
		return true
	}
	if st.Size() > fr.off {
		return true // written since the read that found nothing
	}
	pst, err := os.Stat(fr.path)
	if err != nil || os.SameFile(st, pst) {
		// Renamed away and not yet recreated, or unchanged: keep waiting
		// on the file we have.
		return false
	}
	// The old file was read to its end just now (a writer that still
	// appends to it after the switch loses those lines, as with tail -F).
	nf, err := os.Open(fr.path)
	if err != nil {
		return false
	}
	fr.f.Close()
	fr.f, fr.off = nf, 0
	if fr.restarted != nil {
		fr.restarted()
	}
	return true
}
