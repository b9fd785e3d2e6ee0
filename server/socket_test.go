package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
)

// socketClient speaks HTTP to the unix socket at path.
func socketClient(path string) *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}}
}

// serveSocket serves f's API on a private socket in a fresh directory, as
// the owner of a data directory does, and returns its path.
func serveSocket(t *testing.T, f *fixture) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sock") // short: socket paths are bounded
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "strata.sock")
	ln, err := server.ListenPrivateSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.HTTPServer("", f.srv.Config.Handler, slog.New(slog.DiscardHandler))
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return path
}

func whoami(t *testing.T, c *http.Client, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestOwnerTokenOnlyOnSocket: the token a data directory's owner mints
// for its private socket works there and nowhere else; other tokens work
// on both, those made with the owner token too (that is how the owner gets
// a token for the network).
func TestOwnerTokenOnlyOnSocket(t *testing.T) {
	f := newFixture(t, server.Config{})
	sock := socketClient(serveSocket(t, f))
	const viaSocket = "http://socket"
	owner, err := f.ids.OwnerToken(context.Background(), "local", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := whoami(t, sock, viaSocket, owner.Secret); got != http.StatusOK {
		t.Fatalf("owner token on the socket: %d", got)
	}
	if got := whoami(t, http.DefaultClient, f.srv.URL, owner.Secret); got != http.StatusUnauthorized {
		t.Fatalf("owner token over TCP: %d, want 401", got)
	}
	// Works on both the socket and TCP.
	both := func(what, token string) {
		t.Helper()
		for _, c := range []struct {
			client *http.Client
			base   string
		}{{sock, viaSocket}, {http.DefaultClient, f.srv.URL}} {
			if got := whoami(t, c.client, c.base, token); got != http.StatusOK {
				t.Fatalf("%s at %s: %d", what, c.base, got)
			}
		}
	}
	both("the admin's token", f.admin)
	req, _ := http.NewRequest("POST", viaSocket+"/v1/tokens", strings.NewReader(`{"name":"for the network"}`))
	req.Header.Set("Authorization", "Bearer "+owner.Secret)
	resp, err := sock.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var child api.Token
	if err := json.NewDecoder(resp.Body).Decode(&child); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create token: %d %v", resp.StatusCode, err)
	}
	both("a token made with the owner token", child.Secret)
}

// TestListenPrivateSocket: the socket is 0600 even under an umask that
// would leave it open to all, replaces a stale one, and leaves nothing
// else behind.
func TestListenPrivateSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "sock")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "strata.sock")
	if err := os.WriteFile(path, nil, 0o644); err != nil { // a stale file
		t.Fatal(err)
	}
	old := syscall.Umask(0)
	ln, err := server.ListenPrivateSocket(path)
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket %v %v", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	ln.Close()
}
