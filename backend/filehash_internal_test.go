package backend

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
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
		left := b.spool.Left()
		if left != b.spool.Total() {
			t.Fatalf("round %d: %d of %d spool bytes free after Complete", round, left, b.spool.Total())
		}
	}
}

// TestClientDigestStartsNoHasher: the parts of a session whose client gives
// the digest go into no digest of the server's: no hasher is kept for it
// and no digest state saved with it.
func TestClientDigestStartsNoHasher(t *testing.T) {
	b := newSpoolBackend(t)
	ctx := context.Background()
	pr := iam.User("u1", "admin", true, "")
	home := storepath.MustParse("/home/admin/x")
	if _, err := b.Put(ctx, pr, home, bytes.NewReader([]byte("x")), PutOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}
	for _, clientDigest := range []bool{false, true} {
		content := make([]byte, 2*MinPartSize)
		rand.Read(content)
		u, err := b.CreateUpload(ctx, pr, storepath.MustParse("/home/admin/f"), UploadOptions{Size: int64(len(content)), PartSize: MinPartSize, ClientDigest: clientDigest})
		if err != nil || u.ClientDigest != clientDigest {
			t.Fatalf("session %+v: %v", u, err)
		}
		if _, err := b.PutPart(ctx, pr, "", u.ID, 1, bytes.NewReader(content[:MinPartSize]), MinPartSize, nil); err != nil {
			t.Fatal(err)
		}
		b.hashMu.Lock()
		_, kept := b.hashers[u.ID]
		b.hashMu.Unlock()
		_, err = b.meta.Get(ctx, uploadPK(u.ID), skHash)
		saved := err == nil
		if kept == clientDigest || saved == clientDigest {
			t.Fatalf("ClientDigest %v: hasher kept %v, digest state saved %v", clientDigest, kept, saved)
		}
	}
}
