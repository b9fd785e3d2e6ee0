// Package ratelimittest has what tests of rate limits share: a clock that
// moves only when told to, so that no test sleeps.
package ratelimittest

import (
	"context"
	"sync"
	"time"

	"github.com/strata-storage/strata/internal/ratelimit"
)

// Clock is a fake ratelimit.Clock: Sleep passes at once, moving the time
// on by what it was asked to wait, and adds it up in Slept.
type Clock struct {
	mu    sync.Mutex
	t     time.Time
	slept time.Duration
}

var _ ratelimit.Clock = (*Clock)(nil)

// NewClock returns a clock at a fixed time.
func NewClock() *Clock {
	return &Clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Sleep moves the time on by d, unless ctx has ended.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.t = c.t.Add(max(d, 0))
	c.slept += max(d, 0)
	c.mu.Unlock()
	return nil
}

// Advance moves the time on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Slept is the time all sleeps asked for, since the last ResetSlept.
func (c *Clock) Slept() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.slept
}

// ResetSlept starts the count of Slept again.
func (c *Clock) ResetSlept() {
	c.mu.Lock()
	c.slept = 0
	c.mu.Unlock()
}
