package backend

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// Archiving or restoring a folder is a job that walks it depth first, a
// page of entries at a time, and archives or restores each file as a
// single request would (each checked against its own path). Where it got
// to (the folders being walked, each with the last name handled) is saved
// in the job's record after every page, so a job whose server stops is
// resumed, by this server after a restart or by another once the lease
// lapses, from there: a file handled twice is a no-op the second time.

// Job kinds of folder archive operations.
const (
	jobArchive = "archive"
	jobRestore = "restore"
)

// treePage is how many entries a folder job reads, and handles, between
// saves of its place. A variable only for tests.
var treePage = 100

// treeJob is the part of a folder job's record that says what it does and
// where it got to.
type treeJob struct {
	// Principal is who asked: every file is checked for them, also when
	// the job is resumed after a restart.
	Principal iam.Principal  `json:"pr"`
	Archive   ArchiveOptions `json:"a"`
	Restore   RestoreOptions `json:"r"`
	Stack     []treeFrame    `json:"st"`
	// Skipped counts the files that were not done (denied, being
	// restored, ...), Why says why the last one was not.
	Skipped int64  `json:"sk,omitempty"`
	Why     string `json:"why,omitempty"`
}

// treeFrame is a folder being walked and the last name handled in it.
type treeFrame struct {
	ID    string `json:"id"`
	Path  string `json:"p"`
	After string `json:"a,omitempty"`
}

func (t *treeJob) clone() *treeJob {
	c := *t
	c.Stack = append([]treeFrame(nil), t.Stack...)
	return &c
}

// ArchiveTree archives every file under the folder at p as a job, and
// waits for it up to wait. p must be a folder (errs.ErrNotDir).
func (b *Backend) ArchiveTree(ctx context.Context, pr iam.Principal, p storepath.Path, o ArchiveOptions, wait time.Duration) (Job, error) {
	if err := b.allowPath(ctx, pr, iam.ArchiveFile, p); err != nil {
		return Job{}, err
	}
	if !o.Class.Valid() {
		return Job{}, fmt.Errorf("%w: unknown archive class %q: want glacier, deep-archive or glacier-ir", errs.ErrInvalid, o.Class)
	}
	return b.startTree(ctx, pr, p, &treeJob{Archive: o}, jobArchive, wait)
}

// RestoreTree restores every archived file under the folder at p as a
// job, and waits for it up to wait. It ends when every restore is asked
// for; the restores themselves take their tier's time.
func (b *Backend) RestoreTree(ctx context.Context, pr iam.Principal, p storepath.Path, o RestoreOptions, wait time.Duration) (Job, error) {
	if err := b.allowPath(ctx, pr, iam.RestoreFile, p); err != nil {
		return Job{}, err
	}
	if err := o.Check(); err != nil {
		return Job{}, err
	}
	return b.startTree(ctx, pr, p, &treeJob{Restore: o}, jobRestore, wait)
}

func (b *Backend) startTree(ctx context.Context, pr iam.Principal, p storepath.Path, tj *treeJob, kind string, wait time.Duration) (Job, error) {
	if _, err := b.archiver(); err != nil {
		return Job{}, err
	}
	l, err := b.lookupExisting(ctx, p)
	if err != nil {
		return Job{}, err
	}
	if l.rec.Kind != KindDir {
		return Job{}, fmt.Errorf("%s: %w", p, errs.ErrNotDir)
	}
	tj.Principal = pr
	tj.Stack = []treeFrame{{ID: l.rec.ID, Path: p.String()}}
	j, err := b.startJob(ctx, pr, jobRec{Kind: kind, Path: p.String(), Tree: tj})
	if err != nil {
		return Job{}, err
	}
	b.runTreeInBackground(j)
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return b.WaitJob(wctx, pr, "", j.id)
}

// runTreeInBackground runs the claimed folder job j on the context that
// Drain ends (it resumes at the next start).
func (b *Backend) runTreeInBackground(j *runningJob) {
	b.bg.Add(1)
	go func() {
		defer b.bg.Done()
		defer j.end()
		err := b.runTree(b.rotating, j)
		switch {
		case err == nil, errors.Is(err, errJobLost):
			return
		}
		sctx, cancel := context.WithTimeout(context.WithoutCancel(b.rotating), 10*time.Second)
		defer cancel()
		j.suspend(sctx, err)
		if b.rotating.Err() == nil {
			b.log.Warn("folder archive job: stopped; it resumes later", "job", j.id, "err", err)
		}
	}()
}

// runTree walks the job's folders from where its record says.
func (b *Backend) runTree(ctx context.Context, j *runningJob) error {
	j.mu.Lock()
	tj, kind, done := j.rec.Tree.clone(), j.rec.Kind, j.rec.Done
	j.mu.Unlock()
	for len(tj.Stack) > 0 {
		var err error
		tj.Stack, err = b.walkPage(ctx, tj.Stack, func(path storepath.Path, _ entryRec) error {
			if err := b.treeFile(ctx, tj, kind, path); err != nil {
				if ctx.Err() != nil || errs.IsUnavailable(err) {
					return err // stopping, or the engines are down: resume later
				}
				tj.Skipped++
				tj.Why = err.Error()
			}
			done++
			return nil
		})
		if err != nil {
			return err
		}
		saved := tj.clone()
		if err := j.update(ctx, func(r *jobRec) { r.Tree, r.Done = saved, done }); err != nil {
			return err
		}
		if kind == jobRestore {
			b.kickRestores()
		}
	}
	return j.finish(ctx, func(r *jobRec) { r.Tree, r.Done = tj, done })
}

// walkPage takes one step of a depth-first walk of folders: it reads a
// page (treePage entries) of the folder on top of stack after its last
// name handled, calls file for each file, and returns the stack as it then
// is (a subfolder pushed, where the rest of the page waits; a folder done,
// popped). An empty stack is a walk done. If file fails, the stack
// returned still has that file to do.
func (b *Backend) walkPage(ctx context.Context, stack []treeFrame, file func(storepath.Path, entryRec) error) ([]treeFrame, error) {
	stack = append([]treeFrame(nil), stack...)
	top := len(stack) - 1
	f := stack[top]
	q := meta.QueryOpts{Prefix: entryPrefix, Limit: treePage}
	if f.After != "" {
		q.After = entrySK(f.After)
	}
	pg, err := b.meta.Query(ctx, dirPK(f.ID), q)
	if err != nil {
		return stack, err
	}
	if len(pg.Items) == 0 {
		return stack[:top], nil
	}
	dir, err := storepath.Parse(f.Path)
	if err != nil {
		return stack, err
	}
	for _, it := range pg.Items {
		rec, err := record.Decode[entryRec](it)
		if err != nil {
			return stack, err
		}
		name := strings.TrimPrefix(it.SK, entryPrefix)
		path, err := dir.Join(name)
		if err != nil {
			return stack, err
		}
		if rec.Kind == KindDir {
			// Depth first: the rest of this page is read again after
			// the subfolder.
			stack[top].After = name
			return append(stack, treeFrame{ID: rec.ID, Path: path.String()}), nil
		}
		if err := file(path, rec); err != nil {
			return stack, err
		}
		stack[top].After = name
	}
	return stack, nil
}

// treeFile archives or restores the file at p for the job.
func (b *Backend) treeFile(ctx context.Context, tj *treeJob, kind string, p storepath.Path) error {
	l, err := b.lookupExisting(ctx, p)
	if errors.Is(err, errs.ErrNotFound) {
		return nil // gone meanwhile
	}
	if err != nil {
		return err
	}
	if l.rec.Kind != KindFile {
		return nil
	}
	switch kind {
	case jobArchive:
		if err := b.allowPath(ctx, tj.Principal, iam.ArchiveFile, p); err != nil {
			return err
		}
		if err := b.noUploadTo(ctx, tj.Principal, p); err != nil {
			return err
		}
		_, err = b.archiveFile(ctx, p, l, tj.Archive.Class)
	default:
		if err := b.allowPath(ctx, tj.Principal, iam.RestoreFile, p); err != nil {
			return err
		}
		_, err = b.restoreFile(ctx, tj.Principal, p, l, tj.Restore)
	}
	return err
}

// ResumeTreeJobs takes over the folder archive jobs whose server stopped
// (this process before a restart, or another server that died) and runs
// them in the background.
func (b *Backend) ResumeTreeJobs(ctx context.Context) error {
	return b.eachItem(ctx, pkJobs, "", func(it meta.Item) error {
		r, err := record.Decode[jobRec](it)
		if err != nil {
			return err
		}
		if r.Tree == nil || !b.jobStale(r) {
			return nil
		}
		j, err := b.resumeJob(ctx, it, r)
		if record.IsConflict(err) {
			return nil // another server took it
		}
		if err != nil {
			return err
		}
		b.log.Info("folder archive job: resuming", "job", j.id, "kind", r.Kind, "done", r.Done)
		b.runTreeInBackground(j)
		return nil
	})
}
