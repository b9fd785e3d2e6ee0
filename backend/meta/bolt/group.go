package bolt

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"go.etcd.io/bbolt"
)

// group commits concurrent write transactions together: one bbolt commit
// (two fdatasyncs and the pages it rewrites) for every function queued while
// the previous commit ran. It replaces bbolt's Batch, which holds each batch
// open for MaxBatchDelay on a timer: a lone write waited that long for
// company it never got, and a batch whose timer fired while another commit
// held the file stopped taking writers and then waited for the lock, so
// writers that arrived meanwhile made a commit of their own. Here nothing
// waits on a clock: the first writer to find no commit under way commits
// what is queued at once, and whatever arrives during that commit goes
// into the next.
//
// The committer is one of the writers (the leader): it commits rounds of
// the queue and, if more came in meanwhile, hands the lead to the oldest of
// them before going back to its own caller, so no request's goroutine is
// kept committing for others for long.
type group struct {
	db  *bbolt.DB
	max int // functions per transaction at most (db.MaxBatchSize)

	mu      sync.Mutex
	queue   []*groupCall
	leading bool

	// queued, if set (by tests), is told the queue's length after each
	// arrival.
	queued func(n int)
}

type groupCall struct {
	fn   func(*bbolt.Tx) error
	done chan error // buffered; errLead (at most once, while queued), then the result
	// answered: its result was sent (only the leader of its round reads
	// or writes this).
	answered bool
}

// answer sends c its result.
func (c *groupCall) answer(err error) {
	c.answered = true
	c.done <- err
}

var (
	// errLead tells a queued writer that it commits the next round.
	errLead = errors.New("bolt: lead the next commit")
	// errSolo tells a writer whose function failed that the others were
	// committed without it, and that it runs alone (as bbolt's Batch does).
	errSolo = errors.New("bolt: run alone")
)

// update runs fn in a write transaction shared with the writers queued
// beside it. As with bbolt's Batch, fn may run more than once (a shared
// transaction that another function fails is rolled back and run again
// without it), so fn must be idempotent in what it leaves outside tx.
func (g *group) update(fn func(*bbolt.Tx) error) error {
	c := &groupCall{fn: fn, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	lead := !g.leading
	g.leading = true
	n := len(g.queue)
	g.mu.Unlock()
	if g.queued != nil {
		g.queued(n)
	}
	var err error
	if !lead {
		err = <-c.done
	}
	if lead || errors.Is(err, errLead) {
		g.lead()
		err = <-c.done
	}
	if errors.Is(err, errSolo) {
		err = g.db.Update(fn)
	}
	return err
}

// lead commits one round of the queue, then hands the lead on (or drops it,
// if nothing is queued).
func (g *group) lead() {
	// Writers that are runnable now (their data is stored, their commit
	// is next) get to queue before the round is taken: where a commit is
	// cheap (tmpfs, a disk cache that ignores flushes) this is most of the
	// sharing there is.
	runtime.Gosched()
	g.mu.Lock()
	n := min(len(g.queue), max(g.max, 1))
	calls := g.queue[:n:n]
	g.queue = append([]*groupCall(nil), g.queue[n:]...)
	g.mu.Unlock()

	defer func() {
		// A panic of bbolt's own (not of a function: call catches those)
		// goes on up the leader's goroutine, but first every writer of
		// the round gets an error and the lead passes on: left as it
		// was, every later write would queue behind a leader that is gone.
		p := recover()
		if p != nil {
			for _, c := range calls {
				if !c.answered {
					c.answer(fmt.Errorf("bolt: the shared commit failed: panic: %v", p))
				}
			}
		}
		g.handOn()
		if p != nil {
			panic(p)
		}
	}()
	g.commit(calls)
}

// handOn gives the lead to the oldest queued writer, or drops it.
func (g *group) handOn() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.queue) == 0 {
		g.leading = false
	} else {
		g.queue[0].done <- errLead
	}
}

// commit runs calls in one transaction and tells each its result. A
// function that fails is taken out and told to run alone, and the rest run
// again without it.
func (g *group) commit(calls []*groupCall) {
	for len(calls) > 0 {
		failed := -1
		err := g.db.Update(func(tx *bbolt.Tx) error {
			for i, c := range calls {
				if err := call(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			calls[failed].answer(errSolo)
			calls = append(calls[:failed:failed], calls[failed+1:]...)
			continue
		}
		for _, c := range calls {
			c.answer(err)
		}
		return
	}
}

// call runs fn, turning a panic into an error so that one writer's bug
// fails its own write and not the whole group's.
func call(fn func(*bbolt.Tx) error, tx *bbolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return fn(tx)
}
