package backend_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/iam"
)

// BenchmarkRotate10k rotates the master key of a store of 10,000 files
// (10,000 blob records) on the embedded engines: one op is a whole
// rotation, every data key rewrapped and the old version retired.
func BenchmarkRotate10k(b *testing.B) {
	const files = 10_000
	eng, err := embedded.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close() })
	core, err := backend.New(backend.Config{Blobs: eng.Blobs, Meta: eng.Meta, Keys: eng.Keys, Exclusive: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = core.Drain(context.Background()) })
	ctx := context.Background()
	admin := iam.User("admin-id", "admin", true, "")
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				content := []byte(fmt.Sprint("file ", i))
				if _, err := core.Put(ctx, admin, p(fmt.Sprintf("/data/d%02d/f%05d", i%50, i)), bytes.NewReader(content), backend.PutOptions{Size: int64(len(content))}); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	if b.Failed() {
		return
	}
	b.ResetTimer()
	for range b.N {
		job, err := core.RotateKeys(ctx, admin)
		if err != nil {
			b.Fatal(err)
		}
		if job, err = core.WaitJob(ctx, admin, "", job.ID); err != nil || job.State != backend.JobDone || job.Done != files {
			b.Fatalf("job %+v, %v", job, err)
		}
	}
	b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "keys/s")
}
