package backend

import (
	"context"
	"errors"
	"fmt"

	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
)

// purgePage is how many items one purge step handles. Small, so a deep tree
// holds little memory per level, and so a transaction per version pair stays
// well under meta.MaxTxOps.
const purgePage = 100

// runPurge deletes what a purge item names and then the purge item. Every
// step is idempotent, so the collector can run it again after a crash.
func (b *Backend) runPurge(ctx context.Context, pid string, r purgeRec) error {
	var err error
	switch r.Kind {
	case KindFile:
		err = b.purgeFile(ctx, r.Home, r.ID)
	case KindDir:
		err = b.purgeDir(ctx, r.Home, r.ID)
	default:
		err = fmt.Errorf("backend: purge %s: unknown kind %q", pid, r.Kind)
	}
	if err != nil {
		return err
	}
	if r.Kind == KindFile {
		return b.dropCounted(ctx, r.Home, pkPurge, pid)
	}
	return b.meta.Delete(ctx, pkPurge, pid, meta.NoCond)
}

// dropCounted deletes the item that stood for a file whose versions are
// purged (its entry, or its purge item) and counts the file out of home,
// once: a rerun finds the item gone.
func (b *Backend) dropCounted(ctx context.Context, home, pk, sk string) error {
	if home == "" {
		return b.meta.Delete(ctx, pk, sk, meta.NoCond)
	}
	var use charges
	use.add(account{home: home}, 0, -1)
	err := use.commit(ctx, b.meta, []meta.Op{meta.Delete(pk, sk, meta.MustLive)})
	var txe *meta.TxError
	if errors.As(err, &txe) && txe.Index == 0 {
		return nil // purged by someone else
	}
	return err
}

// purgeFile deletes all versions of a file. Each version is deleted in the
// same transaction that releases its blob reference, so a rerun never
// releases one twice.
func (b *Backend) purgeFile(ctx context.Context, home, fileID string) error {
	for {
		pg, err := b.meta.Query(ctx, filePK(fileID), meta.QueryOpts{Prefix: versionPrefix, Limit: purgePage})
		if err != nil {
			return err
		}
		if len(pg.Items) == 0 {
			return nil
		}
		for _, it := range pg.Items {
			v, err := record.Decode[versionRec](it)
			if err != nil {
				return err
			}
			var use charges
			use.add(account{home: home}, -v.Size, 0)
			err = use.commit(ctx, b.meta, []meta.Op{
				meta.Delete(it.PK, it.SK, meta.AtVersion(it.Version)),
				meta.Add(blobPK(v.Blob), skBlob, -1, meta.MustLive),
			})
			var txe *meta.TxError
			if errors.As(err, &txe) && txe.Index == 1 {
				// The blob record is gone (it should not be): drop the
				// version anyway, or this loop would never end.
				b.log.Warn("purge: version references a missing blob", "file", fileID, "blob", v.Blob)
				use = nil
				use.add(account{home: home}, -v.Size, 0)
				err = use.commit(ctx, b.meta, []meta.Op{meta.Delete(it.PK, it.SK, meta.AtVersion(it.Version))})
			}
			if err != nil && !record.IsConflict(err) {
				return err
			}
			b.releaseBlob(ctx, v.Blob)
		}
	}
}

// purgeDir deletes everything under a folder, depth first; an entry is
// deleted only after what it holds, so a rerun finds the rest.
func (b *Backend) purgeDir(ctx context.Context, home, dirID string) error {
	for {
		pg, err := b.meta.Query(ctx, dirPK(dirID), meta.QueryOpts{Prefix: entryPrefix, Limit: purgePage})
		if err != nil {
			return err
		}
		if len(pg.Items) == 0 {
			return nil
		}
		for _, it := range pg.Items {
			rec, err := record.Decode[entryRec](it)
			if err != nil {
				return err
			}
			if rec.Kind == KindDir {
				err = b.purgeDir(ctx, home, rec.ID)
			} else {
				err = b.purgeFile(ctx, home, rec.ID)
			}
			if err != nil {
				return err
			}
			if rec.Kind == KindFile {
				err = b.dropCounted(ctx, home, it.PK, it.SK)
			} else {
				err = b.meta.Delete(ctx, it.PK, it.SK, meta.NoCond)
			}
			if err != nil {
				return err
			}
		}
	}
}
