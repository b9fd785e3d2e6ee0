package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strata-storage/strata/backend/shares"
	"github.com/strata-storage/strata/internal/storepath"
	"github.com/strata-storage/strata/server"
)

// BenchmarkLinkFolderPage is the server time of the first page of a shared
// folder of 10,000 files (the handler called directly: no network).
func BenchmarkLinkFolderPage(b *testing.B) {
	c, admin, _ := benchCore(b, 10_000)
	_, linkTok, err := c.Shares.Create(context.Background(), admin, storepath.MustParse("/home/admin/big"), shares.Options{Mode: shares.ModeRead})
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
