package pprofserve_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strata-storage/strata/internal/pprofserve"
)

func TestAddress(t *testing.T) {
	for _, c := range []struct {
		in, want string
		public   bool
		err      error
	}{
		{in: ":6060", want: "127.0.0.1:6060"},
		{in: "6060", want: "127.0.0.1:6060"},
		{in: "127.0.0.1:0", want: "127.0.0.1:0"},
		{in: "127.3.4.5:7", want: "127.3.4.5:7"},
		{in: "localhost:6060", want: "localhost:6060"},
		{in: "[::1]:6060", want: "[::1]:6060"},
		{in: "0.0.0.0:6060", err: pprofserve.ErrNotLoopback},
		{in: "[::]:6060", err: pprofserve.ErrNotLoopback},
		{in: "10.0.0.1:6060", err: pprofserve.ErrNotLoopback},
		{in: "example.com:6060", err: pprofserve.ErrNotLoopback},
		{in: "0.0.0.0:6060", public: true, want: "0.0.0.0:6060"},
		{in: "10.0.0.1:6060", public: true, want: "10.0.0.1:6060"},
	} {
		got, err := pprofserve.Address(c.in, c.public)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("Address(%q, %v) = %q, %v; want %v", c.in, c.public, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Address(%q, %v) = %q, %v; want %q", c.in, c.public, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "x", ":x", "1.2.3.4:99999", "[::1]"} {
		if got, err := pprofserve.Address(bad, true); err == nil {
			t.Errorf("Address(%q) = %q, want an error", bad, got)
		}
	}
}

func TestHandlerServesProfilesButNotTheCommandLine(t *testing.T) {
	h := pprofserve.Handler()
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	if w := get("/debug/pprof/"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "goroutine") {
		t.Errorf("index: %d %q", w.Code, w.Body.String())
	}
	if w := get("/debug/pprof/goroutine?debug=1"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "goroutine profile") {
		t.Errorf("goroutine profile: %d %.100q", w.Code, w.Body.String())
	}
	if w := get("/debug/pprof/heap"); w.Code != http.StatusOK || w.Body.Len() == 0 {
		t.Errorf("heap profile: %d, %d bytes", w.Code, w.Body.Len())
	}
	if w := get("/debug/pprof/cmdline"); w.Code != http.StatusNotFound {
		t.Errorf("cmdline: %d %q, want 404", w.Code, w.Body.String())
	}
	if w := get("/v1/files"); w.Code != http.StatusNotFound {
		t.Errorf("/v1/files: %d, want 404", w.Code)
	}
}
