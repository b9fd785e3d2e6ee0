package server_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// PATCH /v1/files/{path} sets a file's time and nothing else (the client's
// SetMTime sends it); a missing, malformed or unkeepable time, a folder
// and another user's file are refused with the problem that says so.
func TestSetMTimeHTTP(t *testing.T) {
	f := newFixture(t, server.Config{})
	ctx := context.Background()
	c, err := client.New(f.srv.URL, f.admin)
	if err != nil {
		t.Fatal(err)
	}
	put, err := c.Put(ctx, "/home/admin/f.txt", bytes.NewReader([]byte("content")), 7, client.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2003, 4, 5, 6, 7, 8, 9, time.FixedZone("east", 3600))
	e, err := c.SetMTime(ctx, "/home/admin/f.txt", want)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.Stat(ctx, "/home/admin/f.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range []api.Entry{e, st} {
		if !got.ModTime.Equal(want) || got.Version != put.Version || got.SHA256 != put.SHA256 {
			t.Fatalf("after SetMTime: %+v, want %+v at %s", got, put, want)
		}
	}
	// Last-Modified is the file time too.
	get := f.do("HEAD", "/v1/files/home/admin/f.txt", f.admin, nil)
	if lm := get.Header.Get("Last-Modified"); lm != want.UTC().Format(http.TimeFormat) {
		t.Fatalf("Last-Modified %q, want %s", lm, want.UTC().Format(http.TimeFormat))
	}

	patch := func(path, body string) *http.Response {
		return f.do("PATCH", path, f.admin, strings.NewReader(body), "Content-Type", "application/json")
	}
	for _, c := range []struct{ body, code, says string }{
		{`{}`, api.CodeInvalidRequest, "mtime is required"},
		{`{"mtime":"yesterday"}`, api.CodeInvalidJSON, "RFC 3339"},
		{`{"mtime":"1600-01-01T00:00:00Z"}`, api.CodeInvalidRequest, "outside the times Strata keeps"},
		{`{"mtime":"0001-01-01T00:00:00Z"}`, api.CodeInvalidRequest, "outside the times Strata keeps"},
		{`{"mtime":"2001-01-01T00:00:00Z","size":3}`, api.CodeInvalidJSON, "size"},
	} {
		p := problem(t, patch("/v1/files/home/admin/f.txt", c.body), http.StatusBadRequest, c.code)
		if !strings.Contains(p.Detail, c.says) {
			t.Errorf("%s: %q does not say %q", c.body, p.Detail, c.says)
		}
	}
	problem(t, patch("/v1/files/home/admin/missing.txt", `{"mtime":"2001-01-01T00:00:00Z"}`), http.StatusNotFound, api.CodeNotFound)
	problem(t, patch("/v1/files/home/admin", `{"mtime":"2001-01-01T00:00:00Z"}`), http.StatusConflict, api.CodeIsDir)
	if st2, err := c.Stat(ctx, "/home/admin/f.txt"); err != nil || !st2.ModTime.Equal(want) {
		t.Fatalf("after refusals: %+v %v", st2, err)
	}

	// Another user's file: PutFile is denied, as for a write.
	ct, err := c.CreateUser(ctx, "bob", false, true)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := client.New(f.srv.URL, ct.Token.Secret)
	if err != nil {
		t.Fatal(err)
	}
	_, err = bob.SetMTime(ctx, "/home/admin/f.txt", time.Now())
	if !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("bob sets admin's file time: %v", err)
	}
	if _, err := bob.Put(ctx, "/home/bob/b.txt", strings.NewReader("b"), 1, client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if e, err := bob.SetMTime(ctx, "/home/bob/b.txt", want); err != nil || !e.ModTime.Equal(want) {
		t.Fatalf("bob in his home: %+v %v", e, err)
	}
}
