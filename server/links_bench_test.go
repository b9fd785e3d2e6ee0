package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/shares"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/internal/storepath"
	"github.com/strata-storage/strata/server"
)

// BenchmarkLinkFolderPage is the server time of the first page of a shared
// folder of 10,000 files (the handler called directly: no network).
func BenchmarkLinkFolderPage(b *testing.B) {
	eng, err := embedded.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	c, err := daemon.NewCore(backend.Config{Blobs: eng.Blobs, Meta: eng.Meta, Keys: eng.Keys})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	tok, _, err := c.Identity.Bootstrap(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	admin, err := c.Identity.Authenticate(ctx, tok)
	if err != nil {
		b.Fatal(err)
	}
	const files = 10_000
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < files; i += 16 {
				p := storepath.MustParse(fmt.Sprintf("/home/admin/big/file-%05d.txt", i))
				if _, err := c.Files.Put(ctx, admin, p, strings.NewReader("x"), backend.PutOptions{Size: 1}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	_, linkTok, err := c.Shares.Create(ctx, admin, storepath.MustParse("/home/admin/big"), shares.Options{Mode: shares.ModeRead})
	if err != nil {
		b.Fatal(err)
	}
	h := server.NewServer(server.Deps{Files: c.Files, Identity: c.Identity, Shares: c.Shares}, server.Config{})
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/s/"+linkTok, nil))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "file-00199.txt") {
			b.Fatalf("status %d", w.Code)
		}
	}
}
