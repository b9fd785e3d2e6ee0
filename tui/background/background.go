// Package background runs a long piece of work off the UI and streams its
// progress to the program as messages: a count of a big folder tree, a
// download the user waits for. The work reports as often as it likes; the
// reports are coalesced, so the program sees the latest one each time it
// asks for the next, and a slow screen never slows the work down.
//
// Start returns the command that runs the work and delivers its first
// Update; each Update that is not Done has Next, the command that waits for
// the one after. A parent that stops caring (the cursor moved on) cancels
// the work's context and drops what still comes: the work never blocks on
// a report nobody reads, so nothing is left behind.
package background

import (
	"context"
	"sync"

	tea "github.com/charmbracelet/bubbletea"
)

// Update is one report of a work: the latest progress, or its result once
// Done (with Err when it failed; Value then holds what it got to).
type Update[T any] struct {
	Value T
	Done  bool
	Err   error

	run *run[T]
}

// Next is the command that waits for the report after u; nil once Done.
func (u Update[T]) Next() tea.Cmd {
	if u.Done || u.run == nil {
		return nil
	}
	return u.run.wait
}

// run is one work's shared state: what it reported last, and a signal
// that there is something new.
type run[T any] struct {
	wrap func(Update[T]) tea.Msg
	wake chan struct{} // capacity 1: reports between two reads coalesce

	mu     sync.Mutex
	latest T
	done   bool
	err    error
}

// Start runs work in its own goroutine with ctx and a report function, and
// returns the command that delivers its first Update, made a message by
// wrap (so that the parent routes it by its own type).
func Start[T any](ctx context.Context, work func(ctx context.Context, report func(T)) (T, error), wrap func(Update[T]) tea.Msg) tea.Cmd {
	return func() tea.Msg {
		r := &run[T]{wrap: wrap, wake: make(chan struct{}, 1)}
		go func() {
			v, err := work(ctx, r.report)
			r.mu.Lock()
			r.latest, r.done, r.err = v, true, err
			r.mu.Unlock()
			r.signal()
		}()
		return r.wait()
	}
}

func (r *run[T]) report(v T) {
	r.mu.Lock()
	if !r.done {
		r.latest = v
	}
	r.mu.Unlock()
	r.signal()
}

func (r *run[T]) signal() {
	select {
	case r.wake <- struct{}{}:
	default: // a wake is pending: the reader takes the latest anyway
	}
}

// wait blocks until there is a report newer than the last one read.
func (r *run[T]) wait() tea.Msg {
	<-r.wake
	r.mu.Lock()
	u := Update[T]{Value: r.latest, Done: r.done, Err: r.err, run: r}
	r.mu.Unlock()
	return r.wrap(u)
}
