package backend

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
)

// A restore is a record at (restores, <blob ID>), written with the
// request. The restore poller (PollRestores), which every server runs now
// and then, looks at the records that are due: it claims one with a
// conditional write (of several servers one wins; a claim lapses after
// restoreLease), sends the engine's restore request once, reads the
// object's state, and either records the copy (in the blob's item and the
// entries that asked) or sets when to look again. The record stays until
// the copy expires, when the poller sets the file back to archived and
// drops it. Each run sends at most RestoreRequestsPerRun requests to the
// blob store, so a restore of 10,000 files reaches S3 as a steady trickle.

const (
	pkRestores = "restores"
	// restoreLease is how long a poller's claim on a record holds.
	restoreLease = 2 * time.Minute
	// maxRestoreEntries bounds the entries a record mirrors its state to
	// (the others catch up when they are read: Stat).
	maxRestoreEntries = 40
)

// RestoreRequestsPerRun bounds the blob store requests of one run of
// PollRestores.
const RestoreRequestsPerRun = 200

// entryRef names the entry of a file that asked for a restore.
type entryRef struct {
	Dir  string `json:"d"`
	Name string `json:"n"`
	File string `json:"f"` // the file's ID: the name may hold another file by then
}

// restoreJobRec is the item at (restores, <blob ID>).
type restoreJobRec struct {
	Class     blob.ArchiveClass `json:"c"`
	Tier      blob.RestoreTier  `json:"t"`
	Days      int               `json:"d"`
	OwnerID   string            `json:"o"`
	Requested int64             `json:"rq"`
	// Submitted: the engine took the request.
	Submitted bool  `json:"sub,omitempty"`
	Polls     int   `json:"p,omitempty"`
	NextPoll  int64 `json:"np"`
	// Until is when the restored copy expires (0 until it exists).
	Until   int64      `json:"u,omitempty"`
	Err     string     `json:"e,omitempty"`
	Entries []entryRef `json:"en,omitempty"`
	Claim   int64      `json:"cl,omitempty"`
	ClaimBy string     `json:"clb,omitempty"`
}

// RestoreStats is what one run of PollRestores did.
type RestoreStats struct {
	Submitted int
	Polled    int
	Restored  int
	Expired   int
	Requests  int
}

// PollRestores works on the restore records that are due, up to
// RestoreRequestsPerRun requests to the blob store. The daemon runs it now
// and then and whenever a restore is asked for.
// Folder archive jobs whose server stopped are resumed here too.
func (b *Backend) PollRestores(ctx context.Context) error {
	if err := b.ResumeTreeJobs(ctx); err != nil {
		return err
	}
	_, err := b.pollRestores(ctx)
	return err
}

func (b *Backend) pollRestores(ctx context.Context) (RestoreStats, error) {
	var st RestoreStats
	a, ok := b.blobs.(blob.Archiver)
	if !ok {
		return st, nil
	}
	err := b.eachItem(ctx, pkRestores, "", func(it meta.Item) error {
		if st.Requests >= RestoreRequestsPerRun {
			return errStopItems
		}
		r, err := record.Decode[restoreJobRec](it)
		if err != nil {
			return err
		}
		now := b.now()
		due := r.NextPoll <= now.UnixNano() || (r.Until != 0 && r.Until <= now.UnixNano())
		if !due || b.restoreClaimed(r, now) {
			return nil
		}
		r.Claim, r.ClaimBy = record.Nanos(now), b.instance
		ver, err := b.meta.Put(ctx, record.Item(it.PK, it.SK, r), meta.AtVersion(it.Version))
		if record.IsConflict(err) {
			return nil // another server took it
		}
		if err != nil {
			return err
		}
		if err := b.pollRestore(ctx, a, it.SK, r, ver, &st); err != nil {
			if ctx.Err() != nil {
				return err
			}
			b.log.Warn("restore: poll", "blob", it.SK, "err", err)
		}
		return nil
	})
	return st, err
}

// errStopItems ends an eachItem walk early, without an error.
var errStopItems = errors.New("stop")

// eachItem calls fn for every item of the partition pk whose sort key
// starts with prefix, a page at a time, until fn returns an error
// (errStopItems: stop without one).
func (b *Backend) eachItem(ctx context.Context, pk, prefix string, fn func(meta.Item) error) error {
	after := ""
	for {
		pg, err := b.meta.Query(ctx, pk, meta.QueryOpts{Prefix: prefix, After: after})
		if err != nil {
			return err
		}
		for _, it := range pg.Items {
			if err := fn(it); err != nil {
				if errors.Is(err, errStopItems) {
					return nil
				}
				return err
			}
		}
		if pg.Next == "" {
			return nil
		}
		after = pg.Next
	}
}

// restoreClaimed reports a record another poller is working on.
func (b *Backend) restoreClaimed(r restoreJobRec, now time.Time) bool {
	if r.ClaimBy == "" || (b.excl && r.ClaimBy != b.instance) {
		return false
	}
	return now.UnixNano()-r.Claim < int64(restoreLease)
}

// pollRestore carries the claimed record of blobID one step on.
func (b *Backend) pollRestore(ctx context.Context, a blob.Archiver, blobID string, r restoreJobRec, ver int64, st *RestoreStats) error {
	now := b.now()
	if r.Until != 0 && r.Until <= now.UnixNano() {
		if r.Submitted {
			st.Expired++
			return b.endRestore(ctx, blobID, r, ver)
		}
		// A request to extend a copy that expired before it was sent:
		// a restore anew.
		r.Until = 0
	}
	release := func(next time.Time, why error) error {
		r.Claim, r.ClaimBy, r.NextPoll = 0, "", record.Nanos(next)
		r.Err = ""
		if why != nil {
			r.Err = why.Error()
		}
		_, err := b.meta.Put(ctx, record.Item(pkRestores, blobID, r), meta.AtVersion(ver))
		if record.IsConflict(err) {
			return nil // a new request replaced it; it is due again
		}
		return err
	}
	t := b.restoreTiming(r.Class, r.Tier)
	if !r.Submitted {
		st.Requests++
		err := a.Restore(ctx, blobID, r.Days, r.Tier)
		switch {
		case errors.Is(err, blob.ErrNotFound):
			// The content was deleted (the file and its versions are
			// gone): nothing to restore.
			return b.dropRestore(ctx, blobID, ver)
		case err != nil:
			return release(now.Add(t.every), err)
		}
		r.Submitted = true
		st.Submitted++
		// A restored copy's days are extended at once; a new copy takes
		// the tier's time.
		if t.first > 0 && r.Until == 0 {
			return release(now.Add(t.first), nil)
		}
	}
	st.Requests++
	st.Polled++
	r.Polls++
	as, err := a.ArchiveState(ctx, blobID)
	switch {
	case errors.Is(err, blob.ErrNotFound):
		return b.dropRestore(ctx, blobID, ver)
	case err != nil:
		return release(now.Add(t.every), err)
	case as.Class == "" || !as.Class.NeedsRestore():
		// Not archived any more (or in a class read at once): nothing
		// to wait for.
		return b.endRestore(ctx, blobID, r, ver)
	case !as.RestoredUntil.IsZero():
		st.Restored++
		return b.finishRestore(ctx, blobID, r, ver, as.RestoredUntil)
	case !as.Restoring:
		// The engine has no restore for it (it expired, or the request
		// was lost): ask again.
		r.Submitted = false
		return release(now, nil)
	}
	// Not yet: look again later, less and less often.
	wait := t.every << min(r.Polls-1, 2)
	return release(now.Add(max(wait, time.Second)), nil)
}

// finishRestore records the restored copy, until until, in the blob's item
// and the entries that asked; the record stays until the copy expires.
func (b *Backend) finishRestore(ctx context.Context, blobID string, r restoreJobRec, ver int64, until time.Time) error {
	r.Until, r.Claim, r.ClaimBy, r.NextPoll, r.Err = record.Nanos(until), 0, "", record.Nanos(until), ""
	return b.setRestoreState(ctx, blobID, r, ver, func(a *archRec) *archRec {
		a.Until = record.Nanos(until)
		return a
	}, meta.Put(record.Item(pkRestores, blobID, r), meta.AtVersion(ver)))
}

// endRestore sets the file back to archived (its copy expired, or the
// content is not archived any more) and drops the record.
func (b *Backend) endRestore(ctx context.Context, blobID string, r restoreJobRec, ver int64) error {
	return b.setRestoreState(ctx, blobID, r, ver, func(a *archRec) *archRec {
		a.Tier, a.Days, a.Requested, a.Expected, a.Until = "", 0, 0, 0, 0
		return a
	}, meta.Delete(pkRestores, blobID, meta.AtVersion(ver)))
}

func (b *Backend) dropRestore(ctx context.Context, blobID string, ver int64) error {
	err := b.meta.Delete(ctx, pkRestores, blobID, meta.AtVersion(ver))
	if record.IsConflict(err) || record.IsNotFound(err) {
		return nil
	}
	return err
}

// setRestoreState changes the archive state of blobID's item and of the
// entries r lists that still hold it, with op on the record, in one
// transaction (retried on a race with another write to one of them).
func (b *Backend) setRestoreState(ctx context.Context, blobID string, r restoreJobRec, ver int64, change func(*archRec) *archRec, op meta.Op) error {
	_, err := record.Optimistic(ctx, "restore "+blobID, func() (struct{}, error) {
		cur, bit, err := b.blobArch(ctx, blobID)
		if record.IsNotFound(err) {
			return struct{}{}, b.dropRestore(ctx, blobID, ver)
		}
		if err != nil {
			return struct{}{}, err
		}
		var ops []meta.Op
		if cur != nil {
			next := change(cur.clone())
			bop, err := blobArchOp(bit, next)
			if err != nil {
				return struct{}{}, err
			}
			ops = append(ops, bop)
			for _, e := range r.Entries {
				rec, it, err := record.Get[entryRec](ctx, b.meta, dirPK(e.Dir), entrySK(e.Name))
				if record.IsNotFound(err) {
					continue
				}
				if err != nil {
					return struct{}{}, err
				}
				if rec.ID != e.File || rec.Blob != blobID {
					continue // moved, or written anew: its own state is its own
				}
				rec.Arch = next.clone()
				ops = append(ops, meta.Put(record.Item(it.PK, it.SK, rec), meta.AtVersion(it.Version)))
			}
		}
		ops = append(ops, op)
		err = b.meta.Transact(ctx, ops)
		var txe *meta.TxError
		if errors.As(err, &txe) && txe.Index == len(ops)-1 {
			// The record itself changed: a new request came in; it is
			// due again and carries on from there.
			return struct{}{}, nil
		}
		if err != nil {
			return struct{}{}, errs.FromStore("record restore", err)
		}
		return struct{}{}, nil
	})
	if err != nil {
		return fmt.Errorf("restore %s: %w", blobID, err)
	}
	return nil
}

// restoreFollows is the write that makes the restore of the file src
// resolves to (if one is recorded) update the file at dst instead, for a
// move's transaction: its state is mirrored where the file goes.
func (b *Backend) restoreFollows(ctx context.Context, src, dst loc) (meta.Op, bool, error) {
	if src.rec.Kind != KindFile || src.rec.Arch == nil || src.rec.Arch.Requested == 0 {
		return meta.Op{}, false, nil
	}
	r, it, err := record.Get[restoreJobRec](ctx, b.meta, pkRestores, src.rec.Blob)
	if record.IsNotFound(err) {
		return meta.Op{}, false, nil
	}
	if err != nil {
		return meta.Op{}, false, err
	}
	from := entryRef{Dir: src.parentID, Name: src.path.Name(), File: src.rec.ID}
	to := entryRef{Dir: dst.parentID, Name: dst.path.Name(), File: src.rec.ID}
	found := false
	for i, e := range r.Entries {
		if e == from {
			r.Entries[i], found = to, true
		}
	}
	if !found {
		if len(r.Entries) >= maxRestoreEntries {
			return meta.Op{}, false, nil
		}
		r.Entries = append(r.Entries, to)
	}
	return meta.Put(record.Item(it.PK, it.SK, r), meta.AtVersion(it.Version)), true, nil
}
