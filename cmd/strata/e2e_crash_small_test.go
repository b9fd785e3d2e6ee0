package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// TestKillDuringSmallUploads kills the server with SIGKILL while 16
// clients upload 4 KiB files at once, the load whose writes share their
// syncs (group commits of the blob store and of the metadata), and one more
// uploads 8 MiB files beside them, in the same groups; it restarts the
// server, and checks that every acknowledged file reads back byte for byte
// and that every file visible is one that was sent whole. It does that
// twice over the same data: first on a fresh store, where most uploads go
// into a shard directory of the blob store that a group has just created,
// then on the store as the restart found it.
func TestKillDuringSmallUploads(t *testing.T) {
	data := t.TempDir()
	acked := map[string]string{}    // path -> sha256 of acknowledged content
	intended := map[string]string{} // path -> sha256 of what was being sent
	for round := range 2 {
		s := startServer(t, data)
		uploadUntilKilled(t, s, round, acked, intended)
	}

	s := startServer(t, data)
	c := s.client(t, adminToken)
	for path, want := range acked {
		if got, err := contentSum(c, path); err != nil || got != want {
			t.Fatalf("acknowledged %s: sha256 %s, %v; want %s", path, got, err, want)
		}
	}
	visible := 0
	err := c.Walk(bg(), "/home/admin/small", func(e api.Entry) error {
		visible++
		if want, ok := intended[e.Path]; !ok || e.SHA256 != want {
			return fmt.Errorf("%s is visible with content nobody sent whole", e.Path)
		}
		if got, err := contentSum(c, e.Path); err != nil || got != e.SHA256 {
			return fmt.Errorf("%s does not read back: %s, %v", e.Path, got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if visible < len(acked) {
		t.Fatalf("%d files visible, %d acknowledged", visible, len(acked))
	}
	t.Logf("%d acknowledged, %d visible after two crashes", len(acked), visible)
}

// uploadUntilKilled uploads into /home/admin/small from 16 small writers
// and a big one until 300 small files are acknowledged, then kills s. It
// adds to acked what the server acknowledged and to intended what was sent.
func uploadUntilKilled(t *testing.T, s *serverProc, round int, acked, intended map[string]string) {
	t.Helper()
	c := s.client(t, adminToken)
	const workers, killAfter, bigSize = 16, 300, 8 << 20
	var mu sync.Mutex
	smallAcked := 0
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range workers + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			big := w == workers
			for i := 0; ; i++ {
				path := fmt.Sprintf("/home/admin/small/r%d-w%02d-f%04d", round, w, i)
				size := 4096
				if big {
					size = bigSize
				}
				content := randomBytes(size, uint64(round*10_000_000+w*100_000+i))
				sum := sha256.Sum256(content)
				mu.Lock()
				intended[path] = hex.EncodeToString(sum[:])
				mu.Unlock()
				if _, err := c.Put(bg(), path, bytes.NewReader(content), int64(len(content)), client.PutOptions{SHA256: sum[:]}); err != nil {
					return // the server died under us
				}
				mu.Lock()
				acked[path] = hex.EncodeToString(sum[:])
				if !big {
					smallAcked++
				}
				n := smallAcked
				mu.Unlock()
				if n >= killAfter {
					once.Do(func() { close(enough) })
				}
			}
		}()
	}
	<-enough
	s.kill()
	wg.Wait()
}

// contentSum is the SHA-256 (hex) of the content of path as read.
func contentSum(c *client.Client, path string) (string, error) {
	d, err := c.Get(bg(), path, client.GetOptions{})
	if err != nil {
		return "", err
	}
	defer d.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, d.Body); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
