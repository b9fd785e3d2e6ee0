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

// A folder is copied as a job. The copy is built apart from the tree, under
// a folder (the staging folder) that no entry names yet, a few hundred
// entries per transaction; when it is whole, one transaction names it at
// the destination. Until then nothing of it is visible, and a copy that
// fails or whose server dies is purged from its staging folder. A file's
// copy shares the content of the source's current version (its blob gains
// a reference): nothing is read or re-encrypted, so a copy costs a few
// metadata writes per entry.

// copyJob is the part of a copy job's record that says what it copies.
type copyJob struct {
	Src     string `json:"src"` // the source folder's ID
	SrcPath string `json:"sp"`
	Staging string `json:"stg"` // the copy's own folder ID, linked in last
	MTime   int64  `json:"m"`
	// Home, HomeName and Quota: the home folder the copy counts against
	// as it is built (quota.go), and its limits when the copy began.
	Home     string `json:"hm,omitempty"`
	HomeName string `json:"hmn,omitempty"`
	Quota    Quota  `json:"q,omitempty"`
}

func (c *copyJob) account() account {
	return account{home: c.Home, name: c.HomeName, quota: c.Quota}
}

// undo is the purge item that removes what the copy built.
func (c *copyJob) undo() meta.Op {
	return meta.Put(record.Item(pkPurge, "copy-"+c.Staging, purgeRec{Kind: KindDir, ID: c.Staging, Home: c.Home}), meta.NoCond)
}

// copyBatchOps bounds a copy's transactions below meta.MaxTxOps.
const copyBatchOps = 96

// copyFolder starts the copy of the folder at src to the new path to, and
// waits for it up to wait: the copy's entry once done, else the job still
// running (it goes on without the caller).
func (b *Backend) copyFolder(ctx context.Context, pr iam.Principal, ft target, src loc, tt target, wait time.Duration) (Entry, Job, error) {
	from, to := ft.path, tt.path
	if to.Within(from) {
		return Entry{}, Job{}, fmt.Errorf("%w: cannot copy %s into itself", errs.ErrInvalid, from)
	}
	// Fail early on what would fail at the end.
	dst, err := b.freeDest(ctx, to)
	if err != nil {
		return Entry{}, Job{}, err
	}
	cj := &copyJob{Src: src.rec.ID, SrcPath: from.String(), Staging: record.NewID(), MTime: src.rec.MTime}
	acct := accountAt(dst, entryRec{ID: cj.Staging, Kind: KindDir})
	cj.Home, cj.HomeName, cj.Quota = acct.home, acct.name, acct.quota
	j, err := b.startJob(ctx, pr, jobRec{Kind: jobCopy, Path: to.String(), Copy: cj})
	if err != nil {
		return Entry{}, Job{}, err
	}
	b.background(ctx, func(ctx context.Context) { b.runCopy(ctx, j, pr, cj, ft, tt) })
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	job, err := b.WaitJob(wctx, pr, "", j.id)
	if err != nil {
		return Entry{}, Job{}, err
	}
	switch job.State {
	case JobDone:
		return *job.Result, job, nil
	case JobFailed:
		return Entry{}, job, job.Err()
	}
	return Entry{}, job, nil
}

// freeDest resolves to, which must not exist, in a folder that does.
func (b *Backend) freeDest(ctx context.Context, to storepath.Path) (loc, error) {
	if to.IsRoot() {
		return loc{}, fmt.Errorf("/: %w", errs.ErrExists)
	}
	dp, err := b.lookupExisting(ctx, to.Parent())
	if err != nil {
		return loc{}, err
	}
	if dp.rec.Kind != KindDir {
		return loc{}, fmt.Errorf("%s: %w", to.Parent(), errs.ErrNotDir)
	}
	dst := dp.below(to.Name(), to)
	_, it, err := record.Get[entryRec](ctx, b.meta, dirPK(dst.parentID), entrySK(to.Name()))
	if err == nil {
		_ = it
		return loc{}, fmt.Errorf("%s: %w", to, errs.ErrExists)
	}
	if !record.IsNotFound(err) {
		return loc{}, err
	}
	return dst, nil
}

// runCopy builds the copy and links it in, or rolls it back.
func (b *Backend) runCopy(ctx context.Context, j *runningJob, pr iam.Principal, cj *copyJob, ft, tt target) {
	defer j.end()
	to := tt.path
	n, err := b.buildCopy(ctx, j, pr, cj, ft, tt)
	if err == nil {
		err = b.linkCopy(ctx, j, pr, cj, to, n)
	}
	if err != nil {
		j.fail(ctx, err, []meta.Op{cj.undo()})
	}
}

// copyFrame is one folder being copied: its entries are read in pages,
// after the last name handled, so that descending into a subfolder and
// coming back costs one more page read, and memory grows with depth only.
type copyFrame struct {
	src, dst string
	from, to storepath.Path
	after    string
}

// copyUnit is the writes that copy one entry, with where it came from, so
// that a unit whose source changed meanwhile can be done again.
type copyUnit struct {
	ops     []meta.Op
	srcDir  string
	srcName string
	dst     string
	bytes   int64 // what the unit counts against the copy's home folder
	files   int64
	to      storepath.Path
}

// buildCopy copies the folder srcID's content into the unlinked folder
// staging, and returns how many entries it copied.
func (b *Backend) buildCopy(ctx context.Context, j *runningJob, pr iam.Principal, cj *copyJob, ft, tt target) (int64, error) {
	srcID, staging, acct := cj.Src, cj.Staging, cj.account()
	from, to := ft.path, tt.path
	var (
		done  int64
		batch []copyUnit
		nOps  int
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := b.commitUnits(ctx, j, pr, acct, batch); err != nil {
			return err
		}
		done += int64(len(batch))
		batch, nOps = batch[:0], 0
		j.progress(ctx, done)
		j.mu.Lock()
		lost := j.lost
		j.mu.Unlock()
		if lost {
			return fmt.Errorf("copy: %w: taken over by another server", errs.ErrConflict)
		}
		return nil
	}
	stack := []copyFrame{{src: srcID, dst: staging, from: from, to: to}}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		pg, err := b.meta.Query(ctx, dirPK(f.src), meta.QueryOpts{Prefix: entryPrefix, After: f.after, Limit: 256})
		if err != nil {
			return done, err
		}
		var next *copyFrame
		for _, it := range pg.Items {
			rec, err := record.Decode[entryRec](it)
			if err != nil {
				return done, err
			}
			name := strings.TrimPrefix(it.SK, entryPrefix)
			f.after = it.SK
			src, err := f.from.Join(name)
			if err != nil {
				return done, err
			}
			dst, err := f.to.Join(name)
			if err != nil {
				return done, err
			}
			// The copy's root was decided for; each entry is decided for
			// too, so that what may not be read is not copied.
			if err := b.allowAt(ctx, pr, ft, iam.GetFile, src); err != nil {
				return done, err
			}
			if err := b.allowAt(ctx, pr, tt, iam.CopyFile, dst); err != nil {
				return done, err
			}
			u := copyUnit{srcDir: f.src, srcName: name, dst: f.dst, to: dst}
			if rec.Kind == KindDir {
				id := record.NewID()
				u.ops = []meta.Op{meta.Put(record.Item(dirPK(f.dst), entrySK(name), b.copiedDir(id, rec)), meta.MustNew)}
				next = &copyFrame{src: rec.ID, dst: id, from: src, to: dst}
			} else {
				u.ops = b.copyFileOps(pr, f.dst, name, rec)
				u.bytes, u.files = rec.Size, 1
			}
			if nOps+len(u.ops) > copyBatchOps {
				if err := flush(); err != nil {
					return done, err
				}
			}
			batch = append(batch, u)
			nOps += len(u.ops)
			if next != nil {
				break
			}
		}
		switch {
		case next != nil:
			stack = append(stack, *next)
		case pg.Next == "":
			stack = stack[:len(stack)-1]
		}
	}
	return done, flush()
}

func (b *Backend) copiedDir(id string, src entryRec) entryRec {
	return entryRec{ID: id, Kind: KindDir, Created: record.Nanos(b.now()), MTime: src.MTime}
}

// copyFileOps are the writes of a new file named name in folder dirID that
// shares the current version of the file src.
func (b *Backend) copyFileOps(pr iam.Principal, dirID, name string, src entryRec) []meta.Op {
	now := record.Nanos(b.now())
	rec := entryRec{ID: record.NewID(), Kind: KindFile, Created: now, MTime: src.MTime,
		Size: src.Size, SHA256: src.SHA256, digestWord: src.digestWord, Blob: src.Blob, Seq: 1, First: 1, Arch: src.Arch.clone()}
	return []meta.Op{
		meta.Add(blobPK(src.Blob), skBlob, 1, meta.MustLive),
		meta.Put(record.Item(dirPK(dirID), entrySK(name), rec), meta.MustNew),
		meta.Put(record.Item(filePK(rec.ID), versionSK(1), versionRec{
			Blob: src.Blob, Size: src.Size, SHA256: src.SHA256, digestWord: src.digestWord, Author: pr.Name, AuthorID: pr.UserID, Time: now, MTime: src.MTime,
		}), meta.MustNew),
	}
}

// commitUnits writes a batch in one transaction, on the condition that the
// job is still this server's (else a rollback could have purged the
// staging folder already, and what came later would be left over). A blob
// reference that fails means a source file changed meanwhile (its old
// content was released): the batch is then written one unit at a time,
// each changed file copied as it now is (or left out if it is gone).
func (b *Backend) commitUnits(ctx context.Context, j *runningJob, pr iam.Principal, acct account, units []copyUnit) error {
	var tx txn
	var use charges
	for _, u := range units {
		if err := tx.add(u.ops...); err != nil {
			return err
		}
		use.add(acct, u.bytes, u.files)
	}
	err := use.refused(ctx, b.meta, j.transact(ctx, append(tx.ops, use.ops()...)))
	if !record.IsConflict(err) || errors.Is(err, errJobLost) {
		return errs.FromStore("copy", err)
	}
	for _, u := range units {
		if err := b.commitUnit(ctx, j, pr, acct, u); err != nil {
			return err
		}
	}
	return nil
}

func (b *Backend) commitUnit(ctx context.Context, j *runningJob, pr iam.Principal, acct account, u copyUnit) error {
	for attempt := 0; ; attempt++ {
		var use charges
		use.add(acct, u.bytes, u.files)
		err := use.refused(ctx, b.meta, j.transact(ctx, append(u.ops[:len(u.ops):len(u.ops)], use.ops()...)))
		if !record.IsConflict(err) || errors.Is(err, errJobLost) {
			return errs.FromStore("copy", err)
		}
		if attempt == record.MaxRetries {
			return fmt.Errorf("copy %s: %w", u.to, errs.ErrConflict)
		}
		rec, _, err := record.Get[entryRec](ctx, b.meta, dirPK(u.srcDir), entrySK(u.srcName))
		if record.IsNotFound(err) {
			return nil // deleted meanwhile: not copied
		}
		if err != nil {
			return err
		}
		if rec.Kind != KindFile {
			return nil // replaced by a folder meanwhile: not copied
		}
		u.ops = b.copyFileOps(pr, u.dst, u.srcName, rec)
		u.bytes, u.files = rec.Size, 1
	}
}

// linkCopy names the finished copy at its destination, in the one
// transaction that also marks the job done.
func (b *Backend) linkCopy(ctx context.Context, j *runningJob, pr iam.Principal, cj *copyJob, to storepath.Path, n int64) error {
	_, err := record.Optimistic(ctx, to.String(), func() (struct{}, error) {
		dst, err := b.freeDest(ctx, to)
		if err != nil {
			return struct{}{}, err
		}
		root := entryRec{ID: cj.Staging, Kind: KindDir, Created: record.Nanos(b.now()), MTime: cj.MTime}
		if accountAt(dst, root).home != cj.Home {
			return struct{}{}, fmt.Errorf("%s: %w: its home folder was replaced meanwhile", to, errs.ErrConflict)
		}
		j.mu.Lock()
		defer j.mu.Unlock()
		ops := []meta.Op{
			meta.Put(record.Item(dirPK(dst.parentID), entrySK(to.Name()), root), meta.MustNew),
			j.commitOp(b.entry(to, root), n),
		}
		ops = append(ops, guard(dst)...)
		err = b.meta.Transact(ctx, ops)
		var txe *meta.TxError
		switch {
		case errors.As(err, &txe) && txe.Index == 0:
			return struct{}{}, fmt.Errorf("%s: %w: made meanwhile", to, errs.ErrExists)
		case errors.As(err, &txe) && txe.Index == 1:
			j.lost = true
			return struct{}{}, fmt.Errorf("copy: %w: taken over by another server", errs.ErrConflict)
		case err != nil:
			return struct{}{}, err
		}
		return struct{}{}, nil
	})
	return err
}
