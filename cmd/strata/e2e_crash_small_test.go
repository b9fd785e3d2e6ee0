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
// syncs (group commits), restarts it, and checks that every acknowledged
// file reads back byte for byte and that every file visible is one that
// was sent whole.
func TestKillDuringSmallUploads(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	c := s.client(t, adminToken)

	const workers, killAfter = 16, 300
	var mu sync.Mutex
	acked := map[string]string{}    // path -> sha256 of acknowledged content
	intended := map[string]string{} // path -> sha256 of what was being sent
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				path := fmt.Sprintf("/home/admin/small/w%02d-f%04d", w, i)
				content := randomBytes(4096, uint64(w*100_000+i))
				sum := sha256.Sum256(content)
				mu.Lock()
				intended[path] = hex.EncodeToString(sum[:])
				mu.Unlock()
				if _, err := c.Put(bg(), path, bytes.NewReader(content), int64(len(content)), client.PutOptions{SHA256: sum[:]}); err != nil {
					return // the server died under us
				}
				mu.Lock()
				acked[path] = hex.EncodeToString(sum[:])
				n := len(acked)
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

	s2 := startServer(t, data)
	c2 := s2.client(t, adminToken)
	mu.Lock()
	defer mu.Unlock()
	for path, want := range acked {
		if got, err := contentSum(c2, path); err != nil || got != want {
			t.Fatalf("acknowledged %s: sha256 %s, %v; want %s", path, got, err, want)
		}
	}
	visible := 0
	err := c2.Walk(bg(), "/home/admin/small", func(e api.Entry) error {
		visible++
		if want, ok := intended[e.Path]; !ok || e.SHA256 != want {
			return fmt.Errorf("%s is visible with content nobody sent whole", e.Path)
		}
		if got, err := contentSum(c2, e.Path); err != nil || got != e.SHA256 {
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
	t.Logf("%d acknowledged, %d visible after the crash", len(acked), visible)
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
