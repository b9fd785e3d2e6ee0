package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/server/api"
)

// pageServer answers GET /v1/dirs/... with body, naming header (unless
// "-") as the next cursor before it; the body waits for release.
func pageServer(t *testing.T, header, body string, release <-chan struct{}) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if header != "-" {
			w.Header().Set(api.HeaderCursor, header)
		}
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "tok")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestListTextBeforeBody: a page whose header names the next cursor is
// handed on before its body is read (the next page can be asked for while
// the server still sends this one), and read when decoded.
func TestListTextBeforeBody(t *testing.T) {
	release := make(chan struct{})
	page := string(serverPage(t, []string{"a", "b"}, "Y3Vy", false))
	c := pageServer(t, "Y3Vy", page, release)
	// Only a safety net: without the header, ListText would wait for the
	// body, which is sent once it returned.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pt, err := c.ListText(ctx, "/home/a", "", "", 0)
	if err != nil {
		t.Fatalf("ListText before the body was sent: %v", err)
	}
	if pt.Cursor() != "Y3Vy" {
		t.Errorf("cursor %q, want Y3Vy", pt.Cursor())
	}
	close(release)
	pg, err := pt.Decode()
	if err != nil || len(pg.Entries) != 2 || pg.Entries[1].Name != "b" || pg.Cursor != "Y3Vy" {
		t.Fatalf("Decode = %+v, %v", pg, err)
	}
}

// TestListTextHeaderDisagrees: a page whose own cursor is not the one its
// header named is an error (the next page was asked for with the
// header's), and a header that is not a cursor is not followed: the page
// is read first.
func TestListTextHeaderDisagrees(t *testing.T) {
	open := make(chan struct{})
	close(open)
	page := string(serverPage(t, []string{"a"}, "Y3Vy", false))
	for _, c := range []struct {
		header, cursor string
		fails          bool
	}{
		{"b3RoZXI", "b3RoZXI", true},
		{"", "", true},
		{"Y3Vy", "Y3Vy", false},
		{"Y3Vy!", "Y3Vy", false},
		{"-", "Y3Vy", false},
	} {
		pt, err := pageServer(t, c.header, page, open).ListText(context.Background(), "/home/a", "", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if pt.Cursor() != c.cursor {
			t.Errorf("header %q: cursor %q, want %q", c.header, pt.Cursor(), c.cursor)
		}
		_, err = pt.Decode()
		if (err != nil) != c.fails || c.fails && !strings.Contains(err.Error(), "cursor") {
			t.Errorf("header %q: Decode: %v, want failure %v", c.header, err, c.fails)
		}
	}
}
