package ratelimit

import (
	"context"
	"time"
)

// Clock is the time the limiter decides by and waits on: the system's in
// a server, a fake one in tests (which then never sleep).
type Clock interface {
	Now() time.Time
	// Sleep waits d, or until ctx ends (its error then).
	Sleep(ctx context.Context, d time.Duration) error
}

// NowClock is a clock that reads the time from now (a server's clock,
// which tests set) and waits in real time.
type NowClock func() time.Time

var _ Clock = NowClock(nil)

// Now is c's time.
func (c NowClock) Now() time.Time { return c() }

// Sleep waits d, or until ctx ends, in real time.
func (NowClock) Sleep(ctx context.Context, d time.Duration) error {
	return SystemClock{}.Sleep(ctx, d)
}

// SystemClock is the real time.
type SystemClock struct{}

var _ Clock = SystemClock{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// Sleep waits d or until ctx ends.
func (SystemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
