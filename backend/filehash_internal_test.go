package backend

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"sync"
	"testing"

	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/internal/storepath"
)

// newSpoolBackend is a backend on the embedded engines whose spool holds
// three parts of MinPartSize.
func newSpoolBackend(t *testing.T) *Backend {
	t.Helper()
	eng, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	b, err := New(Config{Blobs: eng.Blobs, Meta: eng.Meta, Keys: eng.Keys, SpoolBudget: 3 * MinPartSize})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSpoolBudgetComesBack: after parts sent four at a time and a Complete,
// every byte of spool memory is free again.
func TestSpoolBudgetComesBack(t *testing.T) {
	b := newSpoolBackend(t)
	ctx := context.Background()
	pr := iam.User("u1", "admin", true, "")
	for round := range 3 {
		content := make([]byte, 12*MinPartSize+99)
		rand.Read(content)
		u, err := b.CreateUpload(ctx, pr, storepath.MustParse("/home/admin/f"), UploadOptions{Size: int64(len(content)), PartSize: MinPartSize})
		if err != nil {
			t.Fatal(err)
		}
		jobs := make(chan int)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range jobs {
					lo := (n - 1) * MinPartSize
					part := content[lo:min(lo+MinPartSize, len(content))]
					if _, err := b.PutPart(ctx, pr, "", u.ID, n, bytes.NewReader(part), int64(len(part)), nil); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		for n := 1; n <= u.Parts; n++ {
			jobs <- n
		}
		close(jobs)
		wg.Wait()
		sum := sha256.Sum256(content)
		if _, err := b.CompleteUpload(ctx, pr, "", u.ID, sum[:]); err != nil {
			t.Fatal(err)
		}
		b.spool.mu.Lock()
		left := b.spool.left
		b.spool.mu.Unlock()
		if left != b.spool.total {
			t.Fatalf("round %d: %d of %d spool bytes free after Complete", round, left, b.spool.total)
		}
	}
}

// TestNextPartWaitsInsteadOfSpooling: the part after the one streaming in
// waits for it to be stored, then is hashed as it streams: nothing is
// spooled.
func TestNextPartWaitsInsteadOfSpooling(t *testing.T) {
	b := newSpoolBackend(t)
	waiting := make(chan int, 1)
	b.successorWaits = func(n int) { waiting <- n }
	ctx := context.Background()
	pr := iam.User("u1", "admin", true, "")
	content := make([]byte, 2*MinPartSize)
	rand.Read(content)
	u, err := b.CreateUpload(ctx, pr, storepath.MustParse("/home/admin/f"), UploadOptions{Size: int64(len(content)), PartSize: MinPartSize})
	if err != nil {
		t.Fatal(err)
	}
	// Part 1 streams in: all its bytes are read, but its body has not
	// ended, so it is not stored yet.
	body1, send1 := io.Pipe()
	done1 := make(chan error, 1)
	go func() {
		_, err := b.PutPart(ctx, pr, "", u.ID, 1, body1, MinPartSize, nil)
		done1 <- err
	}()
	if _, err := send1.Write(content[:MinPartSize]); err != nil {
		t.Fatal(err)
	}
	done2 := make(chan error, 1)
	go func() {
		_, err := b.PutPart(ctx, pr, "", u.ID, 2, bytes.NewReader(content[MinPartSize:]), MinPartSize, nil)
		done2 <- err
	}()
	select {
	case n := <-waiting:
		if n != 2 {
			t.Fatalf("part %d waits", n)
		}
	case err := <-done2:
		t.Fatalf("part 2 was stored (%v) while part 1 was streaming in: it was spooled", err)
	}
	send1.Close()
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	if err := <-done2; err != nil {
		t.Fatal(err)
	}
	if b.spool.left != b.spool.total || len(b.spool.spare) != 0 {
		t.Fatalf("spool used: %d of %d free, %d buffers", b.spool.left, b.spool.total, len(b.spool.spare))
	}
	sum := sha256.Sum256(content)
	if _, err := b.CompleteUpload(ctx, pr, "", u.ID, sum[:]); err != nil {
		t.Fatal(err)
	}
}
