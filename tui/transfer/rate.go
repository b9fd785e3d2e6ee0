package transfer

import "time"

const (
	rateWindow = 5 * time.Second        // speeds are averaged over this
	rateStep   = 200 * time.Millisecond // samples closer than this are merged
	rateFloor  = time.Second            // shortest span a speed is computed over
)

// rate measures a speed from samples of a growing byte count. It is an
// average over the last rateWindow ending now, not at the last sample, so
// a stalled transfer's speed falls to 0 instead of freezing at its last
// value (progress that does not lie).
type rate struct {
	s []sample
}

type sample struct {
	t time.Time
	n int64
}

func (r *rate) clear() { r.s = nil }

// reset starts the measure at n bytes.
func (r *rate) reset(t time.Time, n int64) {
	r.s = append(r.s[:0], sample{t, n})
}

// resume starts a measure at n bytes unless one is under way: a batch
// that was idle longer than the window must not average over the pause.
func (r *rate) resume(t time.Time, n int64) {
	if len(r.s) == 0 || t.Sub(r.s[len(r.s)-1].t) > rateWindow {
		r.reset(t, n)
		return
	}
	r.add(t, n)
}

// add records that the count was n at t.
func (r *rate) add(t time.Time, n int64) {
	if k := len(r.s); k >= 2 && t.Sub(r.s[k-2].t) < rateStep {
		r.s[k-1] = sample{t, n}
	} else {
		r.s = append(r.s, sample{t, n})
	}
	// Keep one sample at or before the window's start as its base.
	cut, i := t.Add(-rateWindow), 0
	for i+1 < len(r.s) && !r.s[i+1].t.After(cut) {
		i++
	}
	if i > 0 {
		r.s = append(r.s[:0], r.s[i:]...)
	}
}

// speed is the bytes/s over the last window (or since the first sample).
func (r *rate) speed(now time.Time) float64 {
	if len(r.s) < 2 {
		return 0
	}
	cut, base := now.Add(-rateWindow), r.s[0]
	for _, s := range r.s[1:] {
		if s.t.After(cut) {
			break
		}
		base = s
	}
	last := r.s[len(r.s)-1]
	dt := max(now.Sub(base.t), rateFloor)
	v := float64(last.n-base.n) / dt.Seconds()
	return max(v, 0)
}
