package remote

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-storage/strata/server/client"
)

// A server that cannot be reached is said so in words, not as a Go
// network error, and the error still matches ErrUnavailable.
func TestUnavailableInWords(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"title":"Service Unavailable","status":503,"detail":"the metadata store is unavailable","code":"unavailable"}`))
	}))
	defer busy.Close()
	for _, tc := range []struct {
		server, want string
	}{
		{closed.URL, "the server cannot be reached: it is not running, or not at this address"},
		{"unix://" + filepath.Join(t.TempDir(), "strata.sock"), "the server cannot be reached: it is not running, or not at this address"},
		{busy.URL, "the metadata store is unavailable"},
	} {
		c, err := client.New(tc.server, "strata_x", client.WithRetries(0))
		if err != nil {
			t.Fatal(err)
		}
		_, err = NewClient(c).List(ctx, "/", "", 0)
		if !errors.Is(err, ErrUnavailable) || !IsDisconnected(err) {
			t.Errorf("%s: %v does not match ErrUnavailable", tc.server, err)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "dial") {
			t.Errorf("%s: %q, want %q", tc.server, err, tc.want)
		}
	}
}
