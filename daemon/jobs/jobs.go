// Package jobs runs a store's background work on a schedule: garbage
// collection (with purges, upload expiry and abandoned folder jobs), key
// rotation, and later restore pollers and lifecycle sweeps. Each job is a
// function the core makes safe to run on any number of servers at once
// (leased, paged and resumable); the runner only calls it, one run at a
// time per job, and stops them all gracefully.
package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Func is one run of a job; what it did goes to the log by the job itself.
type Func func(ctx context.Context) error

// Runner runs jobs until Stop.
type Runner struct {
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	kick   map[string]chan struct{}
}

// New returns a runner whose jobs run on a context of their own, ended by
// Stop.
func New(log *slog.Logger) *Runner {
	ctx, cancel := context.WithCancel(context.Background())
	return &Runner{log: log, ctx: ctx, cancel: cancel, kick: map[string]chan struct{}{}}
}

// Every runs fn every interval (and whenever Kick names it), the first
// time after one interval. interval 0 runs it only when kicked.
func (r *Runner) Every(name string, interval time.Duration, fn Func) {
	kick := make(chan struct{}, 1)
	r.mu.Lock()
	r.kick[name] = kick
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		var tick <-chan time.Time
		if interval > 0 {
			t := time.NewTicker(interval)
			defer t.Stop()
			tick = t.C
		}
		for {
			select {
			case <-r.ctx.Done():
				return
			case <-tick:
			case <-kick:
			}
			if err := fn(r.ctx); err != nil && r.ctx.Err() == nil {
				r.log.Warn("job failed", "job", name, "err", err)
			}
		}
	}()
}

// Kick runs the job name soon, if it is not running already.
func (r *Runner) Kick(name string) {
	r.mu.Lock()
	k := r.kick[name]
	r.mu.Unlock()
	if k == nil {
		return
	}
	select {
	case k <- struct{}{}:
	default: // a run is due already
	}
}

// Stop cancels the jobs' context and waits for the runs in progress to
// return; a job interrupted halfway resumes (or is rolled back) at the
// next start, on this server or another.
func (r *Runner) Stop() {
	r.cancel()
	r.wg.Wait()
}
