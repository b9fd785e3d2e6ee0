package backend

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// BenchmarkList20k lists a folder of 20,000 files, all hot or all
// archived: the archive state lives in the entries, so both cost the same
// (and the blob store is not asked anything).
func BenchmarkList20k(b *testing.B) {
	for _, archived := range []bool{false, true} {
		name := "hot"
		if archived {
			name = "archived"
		}
		b.Run(name, func(b *testing.B) {
			eng, err := embedded.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			core, err := New(Config{Blobs: eng.Blobs, Meta: eng.Meta, Keys: eng.Keys})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			admin := iam.User("admin-id", "admin", true, "")
			dir := storepath.MustParse("/home/admin/big")
			if _, err := core.walk(ctx, dir, true); err != nil {
				b.Fatal(err)
			}
			l, err := core.lookupExisting(ctx, dir)
			if err != nil {
				b.Fatal(err)
			}
			// The entries are written directly: what is measured is the
			// listing, not 20,000 uploads.
			now := record.Nanos(time.Now())
			var ops []meta.Op
			for i := range 20_000 {
				rec := entryRec{ID: record.NewID(), Kind: KindFile, Created: now, MTime: now, Size: 1000,
					SHA256: "00", Blob: record.NewID(), Seq: 1, First: 1}
				if archived {
					rec.Arch = &archRec{Class: blob.ClassDeepArchive, Since: now}
				}
				ops = append(ops, meta.Put(record.Item(dirPK(l.rec.ID), entrySK(fmt.Sprintf("f%05d", i)), rec), meta.NoCond))
				if len(ops) == 100 {
					if err := eng.Meta.Transact(ctx, ops); err != nil {
						b.Fatal(err)
					}
					ops = nil
				}
			}
			b.ResetTimer()
			for range b.N {
				n, cursor := 0, ""
				for {
					pg, err := core.List(ctx, admin, dir, cursor, 0)
					if err != nil {
						b.Fatal(err)
					}
					n += len(pg.Entries)
					if pg.Cursor == "" {
						break
					}
					cursor = pg.Cursor
				}
				if n != 20_000 {
					b.Fatalf("listed %d entries", n)
				}
			}
			b.ReportMetric(float64(20_000*b.N)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}
