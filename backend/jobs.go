package backend

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/clip"
)

// A job is a long operation on a folder (a copy, a key rotation) that runs
// on the server whether or not its client waits, and that finishes or rolls
// back whole: what it builds stays invisible until one transaction links it
// in. Its record, at (jobs, <id>), says what it is and how far it got; the
// server working on it holds a lease on the record and renews it, so that if
// that server dies another one (or the same one restarted) finds the lease
// lapsed and rolls the job back.

// Job states.
const (
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// Job kinds.
const (
	jobCopy  = "copy"
	jobRekey = "rekey"
)

const (
	pkJobs = "jobs"
	// jobLease is how long a job's claim holds without renewal; the server
	// working on it renews it every jobRenew.
	jobLease = 2 * time.Minute
	jobRenew = 20 * time.Second
	// jobKeep is how long a finished job can still be looked at.
	jobKeep = 24 * time.Hour
)

// jobRec is the item at (jobs, <id>).
type jobRec struct {
	Kind      string `json:"k"`
	OwnerID   string `json:"o"`
	OwnerName string `json:"on"`
	State     string `json:"s"`
	// Done counts the entries handled so far.
	Done int64 `json:"d"`
	// Err says why a failed job failed; Code is the core error it
	// matched, for the API.
	Err  string `json:"e,omitempty"`
	Code string `json:"ec,omitempty"`
	// Path is what the job makes (a copy's destination).
	Path    string `json:"p,omitempty"`
	Result  *Entry `json:"r,omitempty"`
	Created int64  `json:"c"`
	Updated int64  `json:"u"`
	// Claim and ClaimBy are the lease of the server working on the job.
	Claim   int64  `json:"cl,omitempty"`
	ClaimBy string `json:"clb,omitempty"`

	Copy  *copyJob  `json:"copy,omitempty"`
	Rekey *rekeyJob `json:"rekey,omitempty"`
	// Tree is a folder archive or restore (archivetree.go).
	Tree *treeJob `json:"tree,omitempty"`
}

// resumable reports a job that is taken over and carried on when its
// server dies (a key rotation: each step is idempotent), rather than
// rolled back.
func (r jobRec) resumable() bool { return r.Kind == jobRekey || r.Tree != nil }

// Job is what a client sees of a job.
type Job struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	State  string `json:"state"`
	Done   int64  `json:"done"`
	Path   string `json:"path,omitempty"`
	Error  string `json:"error,omitempty"`
	Code   string `json:"code,omitempty"`
	Result *Entry `json:"result,omitempty"`
	// Skipped and Why: the files a folder archive or restore left out,
	// and why the last one was.
	Skipped int64     `json:"skipped,omitempty"`
	Why     string    `json:"why,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

func (r jobRec) public(id string) Job {
	j := Job{ID: id, Kind: r.Kind, State: r.State, Done: r.Done, Path: r.Path, Error: r.Err, Code: r.Code,
		Result: r.Result, Created: record.FromNanos(r.Created), Updated: record.FromNanos(r.Updated)}
	if r.Tree != nil {
		j.Skipped, j.Why = r.Tree.Skipped, r.Tree.Why
	}
	return j
}

// Err is the error a failed job ended with, as the core's error it
// matched (so that callers map it as they would the operation's own).
func (j Job) Err() error {
	if j.State != JobFailed {
		return nil
	}
	for _, e := range jobErrors {
		if e.code == j.Code {
			return fmt.Errorf("%s: %w", j.Error, e.err)
		}
	}
	return errors.New(j.Error)
}

// jobErrors are the core errors a job's failure is recorded as.
var jobErrors = []struct {
	code string
	err  error
}{
	{"exists", errs.ErrExists}, {"not_found", errs.ErrNotFound}, {"not_dir", errs.ErrNotDir},
	{"invalid", errs.ErrInvalid}, {"no_space", errs.ErrNoSpace}, {"conflict", errs.ErrConflict},
	{"forbidden", errs.ErrForbidden}, {"unavailable", errs.ErrUnavailable},
	{"quota_exceeded", errs.ErrQuotaExceeded},
}

func jobCode(err error) string {
	for _, e := range jobErrors {
		if errors.Is(err, e.err) {
			return e.code
		}
	}
	if errs.IsUnavailable(err) {
		return "unavailable"
	}
	return ""
}

// GetJob describes a job of owner ("" for pr's own).
func (b *Backend) GetJob(ctx context.Context, pr iam.Principal, owner, id string) (Job, error) {
	if err := b.allow(ctx, pr, iam.ManageJobs, iam.JobOf(ownerName(pr, owner), id)); err != nil {
		return Job{}, err
	}
	if err := validUploadID(id); err != nil {
		return Job{}, fmt.Errorf("job %q: %w", clip.Text(id), errs.ErrNotFound)
	}
	ownerID, _, err := b.owner(ctx, pr, owner)
	if err != nil {
		return Job{}, err
	}
	r, _, err := record.Get[jobRec](ctx, b.meta, pkJobs, id)
	if record.IsNotFound(err) || (err == nil && r.OwnerID != ownerID) {
		return Job{}, fmt.Errorf("job %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return Job{}, err
	}
	return r.public(id), nil
}

// WaitJob waits until the job id ends or ctx does, and returns it as it
// then is.
func (b *Backend) WaitJob(ctx context.Context, pr iam.Principal, owner, id string) (Job, error) {
	b.jobMu.Lock()
	done := b.jobDone[id]
	b.jobMu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
	return b.GetJob(context.WithoutCancel(ctx), pr, owner, id)
}

// runningJob is a job this server works on: its record as last written,
// and the lease it renews.
type runningJob struct {
	b   *Backend
	id  string
	mu  sync.Mutex
	rec jobRec
	ver int64
	// lost: the record changed under the job (another server took it
	// over after the lease lapsed): it must stop and not link anything.
	lost bool
	stop chan struct{}
	done chan struct{}
}

// startJob records a new job and starts renewing its lease. run does the
// work on a context of its own (the job outlives the request that started
// it); finish must follow.
func (b *Backend) startJob(ctx context.Context, pr iam.Principal, rec jobRec) (*runningJob, error) {
	id := record.NewID()
	now := b.now()
	rec.OwnerID, rec.OwnerName, rec.State = pr.UserID, pr.Name, JobRunning
	rec.Created, rec.Updated = record.Nanos(now), record.Nanos(now)
	rec.Claim, rec.ClaimBy = record.Nanos(now), b.instance
	it := record.Item(pkJobs, id, rec)
	ver, err := b.meta.Put(ctx, it, meta.MustNew)
	if err != nil {
		return nil, errs.FromStore("start job", err)
	}
	return b.runningJob(id, rec, ver), nil
}

// resumeJob takes over a resumable job whose server stopped working on it
// (jobStale), read as it: one conditional write of this server's claim, so
// that of several servers trying at once one gets it (the others
// meta.ErrConflict). finish or suspend must follow.
func (b *Backend) resumeJob(ctx context.Context, it meta.Item, rec jobRec) (*runningJob, error) {
	rec.Claim, rec.ClaimBy, rec.Updated = record.Nanos(b.now()), b.instance, record.Nanos(b.now())
	ver, err := b.meta.Put(ctx, record.Item(pkJobs, it.SK, rec), meta.AtVersion(it.Version))
	if err != nil {
		return nil, err
	}
	return b.runningJob(it.SK, rec, ver), nil
}

// runningJob starts renewing the lease of the job id, just claimed.
func (b *Backend) runningJob(id string, rec jobRec, ver int64) *runningJob {
	j := &runningJob{b: b, id: id, rec: rec, ver: ver, stop: make(chan struct{}), done: make(chan struct{})}
	b.jobMu.Lock()
	b.jobDone[id] = j.done
	b.jobMu.Unlock()
	go j.renew()
	return j
}

func (j *runningJob) renew() {
	t := time.NewTicker(jobRenew)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
		}
		j.mu.Lock()
		j.rec.Claim = record.Nanos(j.b.now())
		_ = j.write(context.Background(), j.rec)
		j.mu.Unlock()
	}
}

// write stores rec over the job's record as last written (j.mu held).
func (j *runningJob) write(ctx context.Context, rec jobRec) error {
	if j.lost {
		return fmt.Errorf("job %s: %w: taken over by another server", j.id, errs.ErrConflict)
	}
	rec.Updated = record.Nanos(j.b.now())
	v, err := j.b.meta.Put(ctx, record.Item(pkJobs, j.id, rec), meta.AtVersion(j.ver))
	if record.IsConflict(err) {
		j.lost = true
	}
	if err != nil {
		return err
	}
	j.rec, j.ver = rec, v
	return nil
}

// errJobLost: the job's record changed under it; another server took it
// over (and rolls it back).
var errJobLost = fmt.Errorf("%w: the job was taken over by another server", errs.ErrConflict)

// transact commits ops on the condition that the job is still this
// server's; a lost job fails with errJobLost.
func (j *runningJob) transact(ctx context.Context, ops []meta.Op) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.lost {
		return errJobLost
	}
	err := j.b.meta.Transact(ctx, append([]meta.Op{meta.Check(pkJobs, j.id, meta.AtVersion(j.ver))}, ops...))
	var txe *meta.TxError
	if errors.As(err, &txe) && txe.Index == 0 {
		j.lost = true
		return errJobLost
	}
	return err
}

// update records a change of the job's record (errJobLost if another
// server took it over).
func (j *runningJob) update(ctx context.Context, change func(*jobRec)) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.lost {
		return errJobLost
	}
	rec := j.rec
	change(&rec)
	err := j.write(ctx, rec)
	if j.lost {
		return errJobLost
	}
	return err
}

// finish marks the job done (a job whose work needs no final transaction
// of its own).
func (j *runningJob) finish(ctx context.Context, change func(*jobRec)) error {
	return j.update(ctx, func(r *jobRec) {
		change(r)
		r.State, r.Err, r.Code, r.Claim, r.ClaimBy = JobDone, "", "", 0, ""
	})
}

// suspend gives a resumable job up for now, still running, with why: its
// claim is released, so that this server's next look (or another server)
// resumes it.
func (j *runningJob) suspend(ctx context.Context, cause error) {
	err := j.update(ctx, func(r *jobRec) {
		r.Err, r.Code, r.Claim, r.ClaimBy = cause.Error(), jobCode(cause), 0, ""
	})
	if err != nil {
		// The lease lapses instead.
		j.b.log.Warn("job: release", "job", j.id, "err", err)
	}
}

// progress records how far the job got (now and then, not on every step).
func (j *runningJob) progress(ctx context.Context, done int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if time.Duration(record.Nanos(j.b.now())-j.rec.Updated) < time.Second {
		j.rec.Done = done
		return
	}
	rec := j.rec
	rec.Done = done
	_ = j.write(ctx, rec)
}

// commitOps returns the condition, for the transaction that links the
// job's work in, that the job is still this server's, and the write that
// marks it done with result (j.mu held by the caller through the commit).
func (j *runningJob) commitOp(result Entry, done int64) meta.Op {
	rec := j.rec
	rec.State, rec.Result, rec.Done, rec.Claim, rec.ClaimBy = JobDone, &result, done, 0, ""
	rec.Updated = record.Nanos(j.b.now())
	it := record.Item(pkJobs, j.id, rec)
	it.ExpiresAt = j.b.now().Add(jobKeep)
	return meta.Put(it, meta.AtVersion(j.ver))
}

// end stops the lease and wakes whoever waits on the job.
func (j *runningJob) end() {
	close(j.stop)
	j.b.jobMu.Lock()
	delete(j.b.jobDone, j.id)
	j.b.jobMu.Unlock()
	close(j.done)
}

// fail records the job's failure with what undoes its work, in one
// transaction, then undoes it.
func (j *runningJob) fail(ctx context.Context, cause error, undo []meta.Op) {
	j.mu.Lock()
	defer j.mu.Unlock()
	rec := j.rec
	rec.State, rec.Err, rec.Code, rec.Claim, rec.ClaimBy = JobFailed, cause.Error(), jobCode(cause), 0, ""
	rec.Updated = record.Nanos(j.b.now())
	it := record.Item(pkJobs, j.id, rec)
	it.ExpiresAt = j.b.now().Add(jobKeep)
	ops := append([]meta.Op{meta.Put(it, meta.AtVersion(j.ver))}, undo...)
	if err := j.b.meta.Transact(ctx, ops); err != nil {
		// Lost to a takeover, or the store failed: the lease lapses and
		// the collector rolls the job back.
		j.b.log.Warn("job: record failure", "job", j.id, "err", err)
		return
	}
	j.rec = rec
	j.b.runPurges(ctx, undo)
}

// jobStale reports a running job whose server stopped renewing its lease.
func (b *Backend) jobStale(r jobRec) bool {
	if r.State != JobRunning {
		return false
	}
	if b.excl && r.ClaimBy != b.instance {
		return true // left by an earlier process on a store only we use
	}
	return b.now().UnixNano()-r.Claim > int64(jobLease)
}

// collectJobs rolls back the jobs whose server died, and forgets finished
// jobs past jobKeep (the store's TTL may have already).
func (b *Backend) collectJobs(ctx context.Context, st *CollectStats) error {
	after := ""
	for {
		pg, err := b.meta.Query(ctx, pkJobs, meta.QueryOpts{After: after})
		if err != nil {
			return err
		}
		for _, it := range pg.Items {
			r, err := record.Decode[jobRec](it)
			if err != nil {
				return err
			}
			switch {
			case b.jobStale(r) && !r.resumable():
				if err := b.rollBack(ctx, it, r); err != nil {
					return err
				}
				st.AbandonedJobs++
			case r.State != JobRunning && b.now().UnixNano()-r.Updated > int64(jobKeep):
				if err := b.meta.Delete(ctx, it.PK, it.SK, meta.AtVersion(it.Version)); err != nil && !record.IsConflict(err) {
					return err
				}
			}
		}
		if pg.Next == "" {
			return nil
		}
		after = pg.Next
	}
}

// rollBack marks an abandoned job failed and undoes what it built, in one
// transaction (a server still working on it loses its next write).
func (b *Backend) rollBack(ctx context.Context, it meta.Item, r jobRec) error {
	var undo []meta.Op
	if r.Copy != nil {
		undo = append(undo, r.Copy.undo())
	}
	r.State, r.Err, r.Code, r.Claim, r.ClaimBy = JobFailed, "interrupted: the server working on it stopped", "conflict", 0, ""
	r.Updated = record.Nanos(b.now())
	rit := record.Item(it.PK, it.SK, r)
	rit.ExpiresAt = b.now().Add(jobKeep)
	err := b.meta.Transact(ctx, append([]meta.Op{meta.Put(rit, meta.AtVersion(it.Version))}, undo...))
	if record.IsConflict(err) {
		return nil // it moved on meanwhile
	}
	if err != nil {
		return err
	}
	b.runPurges(ctx, undo)
	return nil
}

// background runs fn on a context of its own (the request that started it
// may end first), counted for Drain.
func (b *Backend) background(ctx context.Context, fn func(ctx context.Context)) {
	b.bg.Add(1)
	go func() {
		defer b.bg.Done()
		fn(context.WithoutCancel(ctx))
	}()
}

// Drain waits until the work this backend runs in the background (folder
// copies, purges) is done, or ctx ends: a graceful stop calls it before
// the engines close. Work cut short is finished or rolled back by the
// next collector, on this server or another. A key rotation, which may
// take long, is stopped at once: it resumes at the next start.
func (b *Backend) Drain(ctx context.Context) error {
	b.stopRotating()
	done := make(chan struct{})
	go func() {
		b.bg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runPurges carries out the purge items among ops at once; what fails is
// left to the collector.
func (b *Backend) runPurges(ctx context.Context, ops []meta.Op) {
	for _, op := range ops {
		if op.Kind != meta.OpPut || op.PK != pkPurge {
			continue
		}
		r, err := record.Decode[purgeRec](op.Item)
		if err == nil {
			err = b.runPurge(ctx, op.SK, r)
		}
		if err != nil {
			b.log.Warn("purge", "purge", op.SK, "err", err)
		}
	}
}
