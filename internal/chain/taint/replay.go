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
	recv  float64      // likewise: all it had received (balanceBefore)
}

const (
	replayQueued int32 = iota
	replayRunning
	replayDone
)

type replayer struct {
	t *tracer
	// jobs, in blocks that never move (the goroutine holds pointers into
	// them), indexed by the 1-based handles the models keep.
	jobs [][]replayJob
	n    int
	// Jobs go to the goroutine in batches: a channel send that wakes it
	// costs more than a small replay.
	batch []*replayJob
	ch    chan []*replayJob
	wg    sync.WaitGroup
	// scratch is the trace's own, for the replays it runs itself.
	scratch []float64
}

const (
	replayBlock = 4096
	replayBatch = 64
)

// newReplayer starts the replaying goroutine when a second processor can
// run it; with one, every replay runs when it is first needed.
func newReplayer(t *tracer) *replayer {
	r := &replayer{t: t}
	if runtime.GOMAXPROCS(0) > 1 {
		r.ch = make(chan []*replayJob, 256)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			var sc []float64
			for b := range r.ch {
				for _, j := range b {
					r.run(j, &sc)
				}
			}
		}()
	}
	return r
}

// request queues the replay of v up to transfer i and returns its handle.
func (r *replayer) request(v graph.NodeID, i uint32) int32 {
	if r.n%replayBlock == 0 {
		r.jobs = append(r.jobs, make([]replayJob, replayBlock))
	}
	j := &r.jobs[r.n/replayBlock][r.n%replayBlock]
	j.v, j.i = v, i
	r.n++
	if r.ch != nil {
		r.batch = append(r.batch, j)
		if len(r.batch) == replayBatch {
			select {
			case r.ch <- r.batch:
				r.batch = make([]*replayJob, 0, replayBatch)
			default: // the goroutine is behind: these wait for the next batch
			}
		}
	}
	return int32(r.n)
}

func (r *replayer) job(h int32) *replayJob {
	return &r.jobs[(h-1)/replayBlock][(h-1)%replayBlock]
}

// run replays j unless someone else has taken it; sc is the caller's
// scratch space.
func (r *replayer) run(j *replayJob, sc *[]float64) {
	if j.state.CompareAndSwap(replayQueued, replayRunning) {
		j.bal, j.recv = r.t.balanceBefore(j.v, j.i, sc)
		j.state.Store(replayDone)
	}
}

// balance returns the replayed balance of handle h and all it had
// received, replaying it here if the goroutine has not started on it.
func (r *replayer) balance(h int32) (bal, recv float64) {
	j := r.job(h)
	r.run(j, &r.scratch)
	for j.state.Load() != replayDone {
		runtime.Gosched()
	}
	return j.bal, j.recv
}

// stop ends the goroutine; jobs nobody asked for are dropped, not run.
func (r *replayer) stop() {
	if r.ch == nil {
		return
	}
	for h := int32(1); h <= int32(r.n); h++ {
		r.job(h).state.CompareAndSwap(replayQueued, replayDone)
	}
	close(r.ch)
	r.wg.Wait()
}
