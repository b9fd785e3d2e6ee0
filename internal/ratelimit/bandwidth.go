package ratelimit

import (
	"context"
	"io"

	"golang.org/x/time/rate"
)

// minBandwidthBurst is the least a bandwidth bucket holds: one read or
// write of a body is paid for in one go, and smaller pieces would mean
// more system calls for nothing.
const minBandwidthBurst = 32 << 10

// bandwidthBurst is the bucket of b bytes per second: one second's worth,
// at least minBandwidthBurst.
func bandwidthBurst(b int64) int {
	return int(max(b, minBandwidthBurst))
}

// Throttle paces the bytes of one user's transfers. A nil Throttle does
// not pace.
type Throttle struct {
	lim   *rate.Limiter
	clock Clock
}

// Throttle returns the pace of the user's bodies, nil when they have no
// bandwidth limit.
func (l *Limiter) Throttle(ctx context.Context, userID string) *Throttle {
	if userID == "" {
		return nil
	}
	_, bw := l.user(ctx, userID, l.clock.Now())
	if bw == nil {
		return nil
	}
	return &Throttle{lim: bw, clock: l.clock}
}

// wait pays for n bytes (at most the burst), waiting until the bucket has
// them.
func (t *Throttle) wait(ctx context.Context, n int) error {
	now := t.clock.Now()
	r := t.lim.ReserveN(now, n)
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	if err := t.clock.Sleep(ctx, d); err != nil {
		r.CancelAt(t.clock.Now())
		return err
	}
	return nil
}

// chunk is the most one wait pays for.
func (t *Throttle) chunk() int { return t.lim.Burst() }

// Reader paces r: each read is paid for once it has its bytes. It streams:
// nothing is held beyond the caller's buffer.
func (t *Throttle) Reader(ctx context.Context, r io.Reader) io.Reader {
	if t == nil {
		return r
	}
	return &paced{ctx: ctx, t: t, r: r}
}

// Writer paces w: each write waits for its bytes before they go out, in
// pieces of at most the burst.
func (t *Throttle) Writer(ctx context.Context, w io.Writer) io.Writer {
	if t == nil {
		return w
	}
	return &paced{ctx: ctx, t: t, w: w}
}

type paced struct {
	ctx context.Context
	t   *Throttle
	r   io.Reader
	w   io.Writer
}

func (p *paced) Read(b []byte) (int, error) {
	if c := p.t.chunk(); len(b) > c {
		b = b[:c]
	}
	n, err := p.r.Read(b)
	if n > 0 {
		if werr := p.t.wait(p.ctx, n); werr != nil {
			return n, werr
		}
	}
	return n, err
}

func (p *paced) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		n := min(len(b), p.t.chunk())
		if err := p.t.wait(p.ctx, n); err != nil {
			return written, err
		}
		m, err := p.w.Write(b[:n])
		written += m
		if err != nil {
			return written, err
		}
		b = b[n:]
	}
	return written, nil
}
