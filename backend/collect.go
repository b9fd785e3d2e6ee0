package backend

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
)

// DefaultGrace is how old an unreferenced blob must be before the collector
// removes it. A blob is stored before the transaction that references it
// commits; the grace period must be far longer than that gap (a Complete
// reads a whole file back before committing, which can take minutes).
const DefaultGrace = 6 * time.Hour

// CollectStats reports what one collection did.
type CollectStats struct {
	ExpiredUploads int   `json:"expiredUploads"`
	StaleSessions  int   `json:"staleSessions"`
	Purges         int   `json:"purges"`
	OrphanBlobs    int   `json:"orphanBlobs"`
	OrphanBytes    int64 `json:"orphanBytes"`
	ScannedBlobs   int   `json:"scannedBlobs"`
	StrayUploads   int   `json:"strayUploads"`
	AbandonedJobs  int   `json:"abandonedJobs"`
	// ExpiredItems counts the expired records (tokens, login nonces...)
	// deleted from a store without an expiry of its own (bbolt).
	ExpiredItems int `json:"expiredItems"`
}

// Collect removes garbage: expired upload sessions (and their stored parts),
// purges interrupted by a crash, and blobs that no version references and
// that are older than grace (0 means the configured Grace). It is safe to
// run at any time, from any number of servers at once.
func (b *Backend) Collect(ctx context.Context, grace time.Duration) (CollectStats, error) {
	if grace <= 0 {
		grace = b.grace
	}
	var st CollectStats
	// Blobs of open sessions are spared: an object joined by a Complete
	// that has not committed yet may carry the session's start time (S3
	// dates a multipart object by its initiation), older than any grace.
	open := make(map[string]bool)
	errList := []error{
		b.collectUploads(ctx, &st, open),
		b.collectJobs(ctx, &st),
		b.collectTrash(ctx),
		b.collectPurges(ctx, &st),
	}
	if errList[0] == nil {
		errList = append(errList, b.collectBlobs(ctx, grace, open, &st))
	}
	errList = append(errList, b.collectInline(ctx, grace, &st))
	if ul, ok := b.blobs.(blob.UploadLister); ok && errList[0] == nil {
		errList = append(errList, b.collectPendingUploads(ctx, ul, grace, open, &st))
	}
	if sw, ok := b.blobs.(blob.Sweeper); ok {
		errList = append(errList, sw.Sweep(ctx, grace))
	}
	// Last, so that the steps above have seen what they look for in
	// expired upload sessions.
	if ex, ok := b.meta.(meta.Expirer); ok {
		n, err := ex.DeleteExpired(ctx, b.now())
		st.ExpiredItems = n
		errList = append(errList, err)
	}
	return st, errors.Join(errList...)
}

// MinAPIGrace is the shortest grace a caller of the API may ask for (unless
// the server is configured with a shorter one): a blob is stored a moment
// before the transaction that references it commits, and a grace shorter
// than that moment would let the collector take it.
const MinAPIGrace = time.Minute

// CollectAs is Collect for an API caller: admins only.
func (b *Backend) CollectAs(ctx context.Context, pr iam.Principal, grace time.Duration) (CollectStats, error) {
	if err := b.allow(ctx, pr, iam.CollectGarbage, iam.System("collector")); err != nil {
		return CollectStats{}, err
	}
	if grace != 0 && grace < min(b.grace, MinAPIGrace) {
		return CollectStats{}, fmt.Errorf("%w: a grace under %v could remove blobs of writes in progress", errs.ErrInvalid, min(b.grace, MinAPIGrace))
	}
	return b.Collect(ctx, grace)
}

func (b *Backend) collectUploads(ctx context.Context, st *CollectStats, open map[string]bool) error {
	after := ""
	now := b.now().UnixNano()
	for {
		pg, err := b.meta.Query(ctx, pkUploads, meta.QueryOpts{After: after})
		if err != nil {
			return fmt.Errorf("collect uploads: %w", err)
		}
		for _, it := range pg.Items {
			id := it.SK
			s, sit, err := record.Get[sessionRec](ctx, b.meta, uploadPK(id), skSession)
			switch {
			case record.IsNotFound(err):
				// Completed or aborted, but its cleanup was cut short.
				ix, derr := record.Decode[sessionIndexRec](it)
				if derr != nil {
					return derr
				}
				b.endSession(ctx, id, sessionRec{UserID: ix.UserID, HomeOwner: ix.HomeOwner})
				st.StaleSessions++
			case err != nil:
				return fmt.Errorf("collect upload %s: %w", id, err)
			case now > s.Expires && !b.busy(s):
				err := b.dropSession(ctx, id, s, sit)
				if errors.Is(err, errs.ErrConflict) {
					continue // taken by a Complete or an Abort meanwhile
				}
				if err != nil {
					return fmt.Errorf("collect upload %s: %w", id, err)
				}
				st.ExpiredUploads++
			default:
				open[s.Blob] = true
			}
		}
		if pg.Next == "" {
			return nil
		}
		after = pg.Next
	}
}

func (b *Backend) collectPurges(ctx context.Context, st *CollectStats) error {
	for {
		pg, err := b.meta.Query(ctx, pkPurge, meta.QueryOpts{Limit: 100})
		if err != nil {
			return fmt.Errorf("collect purges: %w", err)
		}
		if len(pg.Items) == 0 {
			return nil
		}
		for _, it := range pg.Items {
			r, err := record.Decode[purgeRec](it)
			if err != nil {
				return err
			}
			if err := b.runPurge(ctx, it.SK, r); err != nil {
				return fmt.Errorf("collect purge %s: %w", it.SK, err)
			}
			st.Purges++
		}
	}
}

// collectBlobs removes objects without a live blob record. A record with no
// references left is removed with its object (releaseBlob's order: record
// first). The object's age, not the record's, is what grace applies to.
func (b *Backend) collectBlobs(ctx context.Context, grace time.Duration, open map[string]bool, st *CollectStats) error {
	cutoff := b.now().Add(-grace)
	err := b.blobs.List(ctx, "", func(info blob.Info) error {
		st.ScannedBlobs++
		if info.ModTime.After(cutoff) || open[info.Key] {
			return nil
		}
		it, err := b.meta.Get(ctx, blobPK(info.Key), skBlob)
		switch {
		case record.IsNotFound(err):
		case err != nil:
			return err
		case it.N > 0:
			return nil
		default:
			if err := b.meta.Delete(ctx, blobPK(info.Key), skBlob, meta.AtVersion(it.Version)); err != nil {
				if record.IsConflict(err) {
					return nil // another collector got there first
				}
				return err
			}
		}
		if err := b.blobs.Delete(ctx, info.Key); err != nil {
			return err
		}
		st.OrphanBlobs++
		st.OrphanBytes += info.Size
		return nil
	})
	if err != nil {
		return fmt.Errorf("collect blobs: %w", err)
	}
	return nil
}

// collectInline removes the blobs kept inline that have no references
// left (a crash between a purge and its release): they have no object for
// collectBlobs to find them by. Their records' age is what grace applies to.
func (b *Backend) collectInline(ctx context.Context, grace time.Duration, st *CollectStats) error {
	if b.inlineMax <= 0 {
		// None are made (the AWS engines): spare the engine the queries.
		// (An embedded store run with inline off keeps what it had.)
		return nil
	}
	cutoff := record.Nanos(b.now().Add(-grace))
	for i := range rekeyPrefixes {
		pk := inlinePK(rekeyPrefix(i))
		err := b.eachItem(ctx, pk, "", func(li meta.Item) error {
			it, err := b.meta.Get(ctx, blobPK(li.SK), skBlob)
			if record.IsNotFound(err) {
				// A listing without its record.
				return unlessChanged(b.meta.Delete(ctx, pk, li.SK, meta.AtVersion(li.Version)))
			}
			if err != nil || it.N > 0 {
				return err
			}
			br, err := record.Decode[blobRec](it)
			if err != nil || br.Created > cutoff {
				return err
			}
			if err := b.dropInline(ctx, li.SK, it); err != nil {
				return unlessChanged(err)
			}
			st.OrphanBlobs++
			st.OrphanBytes += int64(len(br.Inline))
			return nil
		})
		if err != nil {
			return fmt.Errorf("collect inline blobs: %w", err)
		}
	}
	return nil
}

// unlessChanged is err, but for a conflict: the item changed meanwhile,
// and the next run looks again.
func unlessChanged(err error) error {
	if record.IsConflict(err) {
		return nil
	}
	return err
}

// collectPendingUploads aborts blob-store uploads that no session knows
// about: a crash between Begin and the transaction that records the session
// leaves one behind, and nothing else would ever end it.
func (b *Backend) collectPendingUploads(ctx context.Context, ul blob.UploadLister, grace time.Duration, open map[string]bool, st *CollectStats) error {
	cutoff := b.now().Add(-grace)
	err := ul.ListUploads(ctx, func(u blob.PendingUpload) error {
		if open[u.Key] || u.Started.After(cutoff) {
			return nil
		}
		if err := b.blobs.Abort(ctx, u.Key, u.UploadID); err != nil {
			return err
		}
		st.StrayUploads++
		return nil
	})
	if err != nil {
		return fmt.Errorf("collect pending uploads: %w", err)
	}
	return nil
}
