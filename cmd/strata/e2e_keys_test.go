package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// keyVersions lists the master key versions in the data directory's key
// file.
func keyVersions(t *testing.T, data string) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "keyring.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Keys []struct {
			Version int `json:"version"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, k := range f.Keys {
		out = append(out, k.Version)
	}
	return out
}

func (u *user) keyStatus() api.KeyStatus {
	u.t.Helper()
	var st api.KeyStatus
	out := u.run(0, "admin", "keys", "status", "--json").stdout
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		u.t.Fatalf("keys status --json: %v\n%s", err, out)
	}
	return st
}

// Key rotation through the CLI against strata serve: rotate and wait, then
// rotate and kill the server at once; the restarted server resumes the
// rotation. Every file reads back after each, and the old versions leave
// the key file.
func TestKeyRotationEndToEnd(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	c := s.client(t, adminToken)
	files := map[string][]byte{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errc := make(chan error, 300)
	for w := range 6 {
		wg.Go(func() {
			for i := w; i < 300; i += 6 {
				path := fmt.Sprintf("/home/admin/keys/f%03d", i)
				b := randomBytes(100+i*13, uint64(i))
				if _, err := c.Put(bg(), path, bytes.NewReader(b), int64(len(b)), client.PutOptions{}); err != nil {
					errc <- err
					return
				}
				mu.Lock()
				files[path] = b
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	readAll := func(c *client.Client) {
		t.Helper()
		for path, want := range files {
			d, err := c.Get(bg(), path, client.GetOptions{})
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			got, err := io.ReadAll(d.Body)
			d.Body.Close()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s reads back different: %v", path, err)
			}
		}
	}

	u := newUser(t, s, adminToken)
	if out := u.run(0, "admin", "keys", "status").stdout; !strings.Contains(out, "keyring:v1") || !strings.Contains(out, "No rotation has counted") {
		t.Errorf("status before any rotation:\n%s", out)
	}
	out := u.run(0, "admin", "keys", "rotate", "--wait").stdout
	if !strings.Contains(out, "keyring:v2  *        301") || !strings.Contains(out, "Retired: keyring:v1.") || !strings.Contains(out, "done after 1 pass") {
		t.Errorf("rotate --wait:\n%s", out)
	}
	st := u.keyStatus()
	if st.Current != "keyring:v2" || len(st.Keys) != 1 || st.Keys[0].DataKeys != 301 || st.Rotation == nil ||
		st.Rotation.Job.State != api.JobDone || st.Rotation.Rewrapped != 301 {
		t.Errorf("status --json: %+v", st)
	}
	if got := keyVersions(t, data); !slices.Equal(got, []int{2}) {
		t.Errorf("key file versions: %v, want [2]", got)
	}
	readAll(c)

	// A user may neither rotate nor look.
	alice := u.run(0, "admin", "user", "add", "alice", "--json").stdout
	var created api.CreateUserResult
	if err := json.Unmarshal([]byte(alice), &created); err != nil || created.Token == nil {
		t.Fatalf("user add: %v\n%s", err, alice)
	}
	ua := newUser(t, s, created.Token.Secret)
	if r := ua.run(4, "admin", "keys", "rotate"); !strings.Contains(r.stderr, "forbidden") {
		t.Errorf("rotate by a user: %s", r.stderr)
	}
	ua.run(4, "admin", "keys", "status")

	// Rotate again while an upload is in flight: it holds a data key under
	// v2, so the rotation waits for it before it retires v2. Kill the
	// server then: the restarted one carries the rotation on.
	body, feed := io.Pipe()
	defer body.Close()
	go func() {
		_, _ = c.Put(bg(), "/home/admin/keys/in-flight", body, 64<<20, client.PutOptions{})
	}()
	// More than any socket buffer: the server is reading the body, so it
	// made its data key.
	if _, err := feed.Write(make([]byte, 16<<20)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RotateKeys(bg()); err != nil {
		t.Fatal(err)
	}
	ctx, waiting := context.WithCancel(bg())
	_, err := c.WaitKeyRotation(ctx, func(st api.KeyStatus) {
		if st.Rotation.Phase == "waiting" {
			waiting()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("the rotation did not wait for the upload in flight: %v", err)
	}
	if out := u.run(0, "admin", "keys", "status").stdout; !strings.Contains(out, "1 write in flight") || !strings.Contains(out, "Waiting for writes in flight under keyring:v2") {
		t.Errorf("status while waiting:\n%s", out)
	}
	s.kill()
	feed.CloseWithError(errors.New("the server died"))
	s2 := startServer(t, data)
	u2 := newUser(t, s2, adminToken)
	u2.run(0, "admin", "keys", "status", "--wait")
	st = u2.keyStatus()
	if st.Current != "keyring:v3" || len(st.Keys) != 1 || st.Keys[0].DataKeys != 301 || st.Rotation.Job.State != api.JobDone ||
		!slices.Equal(st.Rotation.Retired, []string{"keyring:v2"}) {
		t.Errorf("status after the restart: %+v, rotation %+v", st, st.Rotation)
	}
	if st.Rotation.Pass != 2 {
		t.Errorf("passes: %d, want 2 (the second one by the restarted server)", st.Rotation.Pass)
	}
	if got := keyVersions(t, data); !slices.Equal(got, []int{3}) {
		t.Errorf("key file versions: %v, want [3]", got)
	}
	readAll(s2.client(t, adminToken))
}
