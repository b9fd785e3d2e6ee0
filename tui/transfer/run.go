package transfer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/strata-storage/strata/internal/digest"
	"github.com/strata-storage/strata/tui/remote"
)

// worker runs jobs until Close.
func (m *Manager) worker() {
	defer m.wg.Done()
	for {
		j, ctx, cancel, serial := m.next()
		if j == nil {
			return
		}
		m.run(ctx, j, serial)
		cancel()
	}
}

// next waits for a job to run and marks it Running, with the context of
// the run and its serial; nil after Close.
func (m *Manager) next() (*job, context.Context, context.CancelFunc, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		if m.closing {
			return nil, nil, nil, 0
		}
		if !m.offline {
			for _, q := range []*fifo{&m.urgent, &m.ready} {
				for j := q.pop(); j != nil; j = q.pop() {
					j.enq = false
					if j.State == Queued && j.timer == nil {
						ctx, cancel := context.WithCancel(m.ctx)
						j.cancel = cancel
						j.canceled = false
						j.serial++
						m.setState(j, Running)
						return j, ctx, cancel, j.serial
					}
				}
			}
		}
		m.cond.Wait()
	}
}

// run checks a job's destination, then transfers it. ctx is canceled by
// Cancel (through j.cancel) and by Close.
func (m *Manager) run(ctx context.Context, j *job, serial int) {
	proceed, err := m.prepare(ctx, j)
	if errors.Is(err, errAlreadyThere) {
		// The destination holds the same bytes: a move may delete the
		// source now, before the job counts as done.
		m.removeMoved(j)
		m.mu.Lock()
		if j.serial == serial && j.State == Running {
			m.settleSame(j)
		}
		m.mu.Unlock()
		return
	}
	if err != nil || !proceed {
		m.finish(j, serial, remote.Entry{}, err)
		return
	}
	m.mu.Lock()
	j.Attempts++
	j.cur, j.carry = 0, j.Done
	kind, src, dst := j.Kind, j.Src, j.Dst
	now := m.o.Now()
	j.rate.reset(now, j.Done)
	m.batchRate.resume(now, m.moved)
	m.changedLocked()
	m.mu.Unlock()

	progress := func(n int64) { m.progress(j, serial, n) }
	var e remote.Entry
	if kind == Upload {
		e, err = m.r.Upload(ctx, src, dst, progress)
	} else {
		e, err = m.r.Download(ctx, src, dst, progress)
	}
	if err == nil {
		m.removeMoved(j) // uploaded and verified: a move deletes the source
	}
	m.finish(j, serial, e, err)
}

// prepare decides where the job goes: it claims the destination, and when
// something is already there applies the job's or the standing decision, or
// parks the job in Conflict. proceed is false when the job is settled
// (conflict, skipped, already there).
func (m *Manager) prepare(ctx context.Context, j *job) (proceed bool, err error) {
	m.mu.Lock()
	// Only the job's own decision skips the check: a standing one
	// answers a conflict, once one is found.
	kind, dst, action, started := j.Kind, j.Dst, j.action, j.Attempts > 0
	m.mu.Unlock()

	exists, same := false, false
	switch action {
	case Overwrite:
	case Rename:
		if dst, err = m.freeName(ctx, kind, dst); err != nil {
			return false, err
		}
	default:
		if exists, err = m.exists(ctx, kind, dst); err != nil {
			return false, err
		}
		if exists && started {
			// A job that ran before (a crash may have come between its
			// end and the saved state) finds its own file there.
			if same, err = m.sameContent(ctx, j); err != nil {
				return false, err
			}
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return false, err // canceled meanwhile: finish says how
	}
	if other, ok := m.claimed[claimKey(kind, dst)]; ok && other != j.ID && action == Ask {
		exists = true // another running job writes there
	}
	switch {
	case same && j.mv != nil:
		return false, errAlreadyThere
	case same:
		m.settleSame(j)
		return false, nil
	case exists:
		// The standing decision is read now: it may have been given while
		// this job was checking.
		switch a := m.standing[kind]; a {
		case Skip:
			m.setState(j, Skipped)
		case Overwrite, Rename:
			j.action = a
			m.setState(j, Queued)
			m.enqueue(j, true)
		default:
			m.setState(j, Conflict)
		}
		return false, nil
	}
	if action == Rename {
		// The new name was free: from now on (a retry, a restart) it is
		// checked like any destination, so it is not renamed twice.
		j.action = Ask
	}
	j.Dst = dst
	j.claim = claimKey(kind, dst)
	m.claimed[j.claim] = j.ID
	m.requestSave()
	return true, nil
}

// errAlreadyThere tells run that the destination already holds the
// source's bytes.
var errAlreadyThere = errors.New("already there")

// settleSame marks done a job whose destination already holds its bytes;
// m.mu is held.
func (m *Manager) settleSame(j *job) {
	m.acct(j, -1)
	j.Done = j.Size
	m.acct(j, 1)
	j.Err = nil
	m.setState(j, Done)
}

func claimKey(k Kind, dst string) string {
	if k == Download {
		dst = filepath.Clean(dst)
	}
	return k.String() + "\x00" + dst
}

// exists reports whether the destination p exists.
func (m *Manager) exists(ctx context.Context, k Kind, p string) (bool, error) {
	if k == Upload {
		_, err := m.r.Stat(ctx, p)
		if errors.Is(err, remote.ErrNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("check %s: %w", p, err)
		}
		return true, nil
	}
	_, err := os.Lstat(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check %s: %w", p, err)
	}
	return true, nil
}

// freeName returns the first of "name (1).ext", "name (2).ext"... that
// neither exists nor is being written by another job.
func (m *Manager) freeName(ctx context.Context, k Kind, dst string) (string, error) {
	dir, base, join := path.Dir(dst), path.Base(dst), path.Join
	if k == Download {
		dir, base, join = filepath.Dir(dst), filepath.Base(dst), filepath.Join
	}
	ext := path.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	if stem == "" { // ".profile" is all name
		stem, ext = base, ""
	}
	for i := 1; i <= 10000; i++ {
		cand := join(dir, fmt.Sprintf("%s (%d)%s", stem, i, ext))
		m.mu.Lock()
		_, taken := m.claimed[claimKey(k, cand)]
		m.mu.Unlock()
		if taken {
			continue
		}
		exists, err := m.exists(ctx, k, cand)
		if err != nil {
			return "", err
		}
		if !exists {
			return cand, nil
		}
	}
	return "", fmt.Errorf("%s: no free name to rename to", dst)
}

// sameContent reports whether the destination already holds the source's
// bytes (by size and SHA-256).
func (m *Manager) sameContent(ctx context.Context, j *job) (bool, error) {
	m.mu.Lock()
	kind, src, dst := j.Kind, j.Src, j.Dst
	m.mu.Unlock()
	local, rpath := src, dst
	if kind == Download {
		local, rpath = dst, src
	}
	e, err := m.r.Stat(ctx, rpath)
	if errors.Is(err, remote.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check %s: %w", rpath, err)
	}
	fi, err := os.Stat(local)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != e.Size || e.IsDir() || e.SHA256 == "" {
		return false, nil
	}
	if kind == Upload && e.ClientDigest {
		// A digest that is another uploader's word (api.Entry.ClientDigest)
		// proves nothing about what is stored: the job asks, as for any
		// file in its way. Our own client's word is as good as the upload
		// it completed. (A download is checked against that same word, so
		// a local file that has it is what the download would write.)
		me, err := m.userID(ctx)
		if remote.IsDisconnected(err) {
			return false, fmt.Errorf("check %s: %w", rpath, err)
		}
		// Not allowed to ask who it is (a token's session policy): whose
		// word it is cannot be told, and the job asks.
		if err != nil || e.ClientDigestBy == "" || e.ClientDigestBy != me {
			return false, nil
		}
	}
	sum, err := digest.File(ctx, local)
	if err != nil {
		return false, nil
	}
	if sum == e.SHA256 {
		m.mu.Lock()
		if e.Size != j.Size {
			m.acct(j, -1)
			j.Size = e.Size
			m.acct(j, 1)
		}
		m.mu.Unlock()
	}
	return sum == e.SHA256, nil
}

// userID is the ID of the user the manager transfers for, asked of the
// server once.
func (m *Manager) userID(ctx context.Context) (string, error) {
	m.mu.Lock()
	me := m.me
	m.mu.Unlock()
	if me != "" {
		return me, nil
	}
	u, err := m.r.Whoami(ctx)
	if err != nil {
		return "", err
	}
	m.mu.Lock()
	m.me = u.ID
	m.mu.Unlock()
	return u.ID, nil
}

// progress applies a Remote's byte count to a job.
func (m *Manager) progress(j *job, serial int, n int64) {
	now := m.o.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if j.serial != serial || j.State != Running {
		return
	}
	j.cur += n
	d := min(max(j.carry, j.cur, 0), j.Size)
	if d == j.Done {
		return
	}
	delta := d - j.Done
	m.acct(j, -1)
	j.Done = d
	m.acct(j, 1)
	m.moved += delta
	m.batchRate.add(now, m.moved)
	j.rate.add(now, d)
	m.changedLocked()
}

// finish records the end of run serial of a job (a run that prepare
// settled has nothing left to record).
func (m *Manager) finish(j *job, serial int, e remote.Entry, err error) {
	now := m.o.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if j.serial != serial {
		return // the job was settled and has run again since
	}
	if j.claim != "" {
		if m.claimed[j.claim] == j.ID {
			delete(m.claimed, j.claim)
		}
		j.claim = ""
	}
	j.cancel = nil
	if j.State != Running {
		return // settled by prepare
	}
	if err == nil || !remote.IsDisconnected(err) {
		m.setOnline()
	}
	switch {
	case err == nil:
		m.acct(j, -1)
		if e.Path != "" { // the server's size is the truth
			j.Size = e.Size
		}
		delta := j.Size - j.Done
		j.Done = j.Size
		m.acct(j, 1)
		m.moved += delta
		m.batchRate.add(now, m.moved)
		j.Err = nil
		m.setState(j, Done)
	case j.canceled:
		j.Err = nil
		m.setState(j, Canceled)
	case m.closing:
		m.setState(j, Queued) // saved, resumed by the next Manager
	default:
		m.fail(j, err)
	}
}

// fail retries a transient failure after a backoff, or gives up; m.mu is
// held.
func (m *Manager) fail(j *job, err error) {
	j.Err = err
	j.tries++
	disconnected := remote.IsDisconnected(err)
	if disconnected {
		m.setOffline()
	}
	if (!disconnected && !isTimeout(err)) || j.tries > m.o.Retries {
		m.setState(j, Failed)
		return
	}
	d := m.backoff(j.tries)
	j.RetryAt = m.o.Now().Add(d)
	m.retrying++
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if j.timer != t {
			return
		}
		j.timer = nil
		j.RetryAt = time.Time{}
		m.retrying--
		if j.State == Queued {
			m.enqueue(j, true)
		}
		m.changedLocked()
	})
	j.timer = t
	m.setState(j, Queued)
}

// backoff is the delay before retry n (1-based), with ±20% jitter so that
// many files do not come back at the same instant.
func (m *Manager) backoff(n int) time.Duration {
	d := m.o.Backoff
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	return d - d/5 + time.Duration(rand.Int64N(int64(d/5)*2+1))
}

// isTimeout tells a timeout (worth a retry) from a refusal.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// setOffline holds new transfers and starts pinging the server; m.mu is
// held.
func (m *Manager) setOffline() {
	if !m.offline {
		m.offline = true
		m.changedLocked()
	}
	if !m.probing && !m.closing {
		m.probing = true
		m.wg.Add(1)
		go m.probe()
	}
}

// setOnline lets transfers start again; m.mu is held.
func (m *Manager) setOnline() {
	if m.offline {
		m.offline = false
		m.cond.Broadcast()
		m.changedLocked()
	}
}

// probe pings the server, backing off, until it answers or Close.
func (m *Manager) probe() {
	defer m.wg.Done()
	d := m.o.Backoff
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-m.ctx.Done():
			m.mu.Lock()
			m.probing = false
			m.mu.Unlock()
			return
		case <-t.C:
		}
		err := m.r.Ping(m.ctx)
		m.mu.Lock()
		if err == nil || (!remote.IsDisconnected(err) && m.ctx.Err() == nil) {
			// Any answer, even a refusal, means the server is there.
			m.probing = false
			m.setOnline()
			m.mu.Unlock()
			return
		}
		if !m.offline {
			// A transfer got through meanwhile.
			m.probing = false
			m.mu.Unlock()
			return
		}
		m.mu.Unlock()
		d = min(d*2, maxBackoff)
		t.Reset(d)
	}
}
