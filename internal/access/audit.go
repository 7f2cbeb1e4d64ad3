package access

import (
	"context"
	"sync"
	"time"

	"github.com/bulwark-intel/bulwark/internal/store"
)

// auditor batches audit entries: every read is audited, and one durable
// insert per read would serialise all readers on the store's write lock
// and an fsync. Entries are written at least every flushEvery, or when
// flushAt have gathered; a full buffer makes the caller wait rather than
// drop an entry. A crash can lose at most the last flushEvery of entries.
type auditor struct {
	s store.Orgs

	mu      sync.Mutex
	pending []store.AuditEntry
	kick    chan struct{}
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

const (
	flushEvery = 500 * time.Millisecond
	flushAt    = 512
	maxPending = 16384
)

func newAuditor(s store.Orgs) *auditor {
	a := &auditor{s: s, kick: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{})}
	go a.loop()
	return a
}

func (a *auditor) add(e store.AuditEntry) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	a.mu.Lock()
	a.pending = append(a.pending, e)
	n := len(a.pending)
	a.mu.Unlock()
	if n >= flushAt {
		select {
		case a.kick <- struct{}{}:
		default:
		}
	}
	if n >= maxPending {
		a.flush(context.Background())
	}
}

func (a *auditor) loop() {
	defer close(a.stopped)
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-a.done:
			a.flush(context.Background())
			return
		case <-t.C:
		case <-a.kick:
		}
		a.flush(context.Background())
	}
}

func (a *auditor) flush(ctx context.Context) error {
	a.mu.Lock()
	batch := a.pending
	a.pending = nil
	a.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := a.s.Audit(ctx, batch...); err != nil {
		// Keep them for the next attempt rather than lose the trail.
		a.mu.Lock()
		a.pending = append(batch, a.pending...)
		a.mu.Unlock()
		return err
	}
	return nil
}

func (a *auditor) close() error {
	a.once.Do(func() { close(a.done) })
	<-a.stopped
	return a.flush(context.Background())
}
