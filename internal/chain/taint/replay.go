package taint

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/bulwark-intel/bulwark/internal/chain/graph"
)

// What an address held before taint first reached it comes from replaying
// its ledger up to that transfer (balanceBefore): for a busy address that
// is thousands of amounts read at random, and on a large graph these
// replays were a third to a half of a haircut or FIFO trace. A replay
// depends on the graph alone, not on the taint, so the trace hands it to a
// second goroutine and carries on; the balance is only needed when the
// address next pays, and by then it is usually ready. If it is not, the
// trace takes the replay back (or waits for the one under way) rather than
// block on a queue.

// replayJob is one address's balance before transfer i.
type replayJob struct {
	v     graph.NodeID
	i     uint32
	state atomic.Int32 // replayQueued, replayRunning, replayDone
	bal   float64      // set before state becomes replayDone
}

const (
	replayQueued int32 = iota
	replayRunning
	replayDone
)

type replayer struct {
	t    *tracer
	jobs []*replayJob // indexed by the 1-based handles the models keep
	ch   chan *replayJob
	wg   sync.WaitGroup
}

// newReplayer starts the replaying goroutine when a second processor can
// run it; with one, every replay runs when it is first needed.
func newReplayer(t *tracer) *replayer {
	r := &replayer{t: t}
	if runtime.GOMAXPROCS(0) > 1 {
		r.ch = make(chan *replayJob, 1<<14)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			for j := range r.ch {
				r.run(j)
			}
		}()
	}
	return r
}

// request queues the replay of v up to transfer i and returns its handle.
func (r *replayer) request(v graph.NodeID, i uint32) int32 {
	j := &replayJob{v: v, i: i}
	r.jobs = append(r.jobs, j)
	if r.ch != nil {
		select {
		case r.ch <- j:
		default: // the queue is full: the trace will replay it itself
		}
	}
	return int32(len(r.jobs))
}

// run replays j unless someone else has taken it.
func (r *replayer) run(j *replayJob) {
	if j.state.CompareAndSwap(replayQueued, replayRunning) {
		j.bal = r.t.balanceBefore(j.v, j.i)
		j.state.Store(replayDone)
	}
}

// balance returns the replayed balance of handle h, replaying it here if
// the goroutine has not started on it.
func (r *replayer) balance(h int32) float64 {
	j := r.jobs[h-1]
	r.run(j)
	for j.state.Load() != replayDone {
		runtime.Gosched()
	}
	return j.bal
}

// stop ends the goroutine; jobs nobody asked for are dropped, not run.
func (r *replayer) stop() {
	if r.ch == nil {
		return
	}
	for _, j := range r.jobs {
		j.state.CompareAndSwap(replayQueued, replayDone)
	}
	close(r.ch)
	r.wg.Wait()
}
