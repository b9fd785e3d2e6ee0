package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/crypto"
	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// TestCLIEndToEnd drives the CLI against a real server the way a user would.
func TestCLIEndToEnd(t *testing.T) {
	s := startServer(t, t.TempDir())
	u := newUser(t, s, adminToken)

	// A local tree: small files, an empty folder, a file big enough for a
	// resumable session with several parts.
	src := filepath.Join(u.dir, "src")
	files := map[string][]byte{
		"a.txt":           []byte("alpha\n"),
		"empty":           nil,
		"sub/b.bin":       randomBytes(70_000, 1),
		"sub/deep/c.bin":  randomBytes(1<<20+3, 2),
		"big/large.bin":   randomBytes(23<<20+17, 3),
		"spaces and é/d ": []byte("names survive"),
	}
	for name, b := range files {
		writeFile(t, filepath.Join(src, name), b)
	}
	if err := os.MkdirAll(filepath.Join(src, "emptydir"), 0o755); err != nil {
		t.Fatal(err)
	}

	u.run(0, "put", "-r", "--part-size", "5242880", src, "backup/")
	ls := u.run(0, "ls", "backup/src").stdout
	for _, want := range []string{"a.txt\n", "big/\n", "empty\n", "emptydir/\n", "spaces and é/\n", "sub/\n"} {
		if !strings.Contains(ls, want) {
			t.Fatalf("ls lacks %q:\n%s", want, ls)
		}
	}
	// JSON listing, one object per line.
	var n int
	for _, line := range strings.Split(strings.TrimSpace(u.run(0, "ls", "--json", "backup/src/sub").stdout), "\n") {
		var e api.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("ls --json line %q: %v", line, err)
		}
		n++
	}
	if n != 2 {
		t.Fatalf("%d entries in sub", n)
	}
	// Download the tree and compare byte for byte.
	dst := filepath.Join(u.dir, "restore")
	u.run(0, "get", "-r", "backup/src", dst)
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %v (%d vs %d bytes)", name, err, len(got), len(want))
		}
	}
	if fi, err := os.Stat(filepath.Join(dst, "emptydir")); err != nil || !fi.IsDir() {
		t.Fatalf("empty folder not restored: %v", err)
	}
	// Modification times travel both ways.
	li, _ := os.Stat(filepath.Join(src, "sub/b.bin"))
	ri, _ := os.Stat(filepath.Join(dst, "sub/b.bin"))
	if !li.ModTime().Equal(ri.ModTime()) {
		t.Fatalf("mtime %v became %v", li.ModTime(), ri.ModTime())
	}

	// cat, stat, mv, cp, rm, trash, versions.
	if got := u.run(0, "cat", "backup/src/a.txt").stdout; got != "alpha\n" {
		t.Fatalf("cat %q", got)
	}
	var st api.Entry
	_ = json.Unmarshal([]byte(u.run(0, "stat", "--json", "backup/src/big/large.bin").stdout), &st)
	sum := sha256.Sum256(files["big/large.bin"])
	if st.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("stat %+v", st)
	}
	u.run(0, "mkdir", "-p", "work/in")
	u.run(0, "mv", "backup/src/a.txt", "work/in/")
	u.run(2, "cp", "backup/src/sub", "work/sub-copy")
	u.run(0, "cp", "-r", "backup/src/sub", "work/sub-copy")
	u.run(0, "cat", "work/sub-copy/deep/c.bin")
	u.run(3, "cat", "backup/src/a.txt")
	u.run(5, "rm", "work")
	rm := u.run(0, "rm", "-r", "work")
	if !strings.Contains(rm.stderr, "moved to the trash") {
		t.Fatalf("rm said %q", rm.stderr)
	}
	u.run(3, "ls", "work")
	var ti api.TrashItem
	_ = json.Unmarshal([]byte(strings.Split(u.run(0, "trash", "ls", "--json").stdout, "\n")[0]), &ti)
	u.run(0, "trash", "restore", ti.ID)
	if got := u.run(0, "cat", "work/in/a.txt").stdout; got != "alpha\n" {
		t.Fatalf("after restore: %q", got)
	}
	writeFile(t, filepath.Join(u.dir, "v2"), []byte("second version"))
	u.run(0, "put", filepath.Join(u.dir, "v2"), "work/in/a.txt")
	vers := u.run(0, "versions", "work/in/a.txt").stdout
	if !strings.Contains(vers, "(current)") || strings.Count(vers, "\n") != 3 {
		t.Fatalf("versions:\n%s", vers)
	}
	u.run(0, "versions", "work/in/a.txt", "--restore", "1")
	if got := u.run(0, "cat", "work/in/a.txt").stdout; got != "alpha\n" {
		t.Fatalf("after version restore: %q", got)
	}
	if got := u.run(0, "cat", "--version", "2", "work/in/a.txt").stdout; got != "second version" {
		t.Fatalf("version 2: %q", got)
	}
	u.run(2, "trash", "empty") // not a terminal: needs --yes
	u.run(0, "trash", "empty", "--yes")

	// Standard input and output.
	r := runCLI(t, u.env, u.dir, strings.NewReader("from stdin"), "put", "-", "piped.txt")
	if r.code != 0 {
		t.Fatalf("put -: %+v", r)
	}
	if got := u.run(0, "get", "piped.txt", "-").stdout; got != "from stdin" {
		t.Fatalf("get -: %q", got)
	}

	// Users and confinement, through the CLI.
	add := u.run(0, "admin", "user", "add", "erin").stdout
	tok := strings.TrimSpace(add[strings.Index(add, "strata_"):])
	erin := newUser(t, s, tok)
	erin.run(0, "put", filepath.Join(u.dir, "v2"), "notes.txt")
	if got := erin.run(0, "ls").stdout; got != "notes.txt\n" {
		t.Fatalf("erin's home: %q", got)
	}
	erin.run(4, "ls", "/home/admin")
	erin.run(4, "cat", "/home/admin/piped.txt")
	erin.run(4, "admin", "user", "ls")
	// An admin acts on another user's trash; a user on nobody else's.
	erin.run(0, "rm", "notes.txt")
	if got := u.run(0, "trash", "ls"); strings.Contains(got.stdout, "notes.txt") {
		t.Fatalf("erin's trash shows in the admin's own: %s", got.stdout)
	}
	var item struct{ ID, Path string }
	if err := json.Unmarshal([]byte(u.run(0, "--json", "trash", "ls", "--user", "erin").stdout), &item); err != nil || item.Path != "/home/erin/notes.txt" {
		t.Fatalf("trash ls --user erin: %+v %v", item, err)
	}
	u.run(0, "trash", "restore", "--user", "erin", item.ID)
	erin.run(0, "stat", "notes.txt")
	erin.run(4, "trash", "ls", "--user", "admin")
	erin.run(4, "uploads", "ls", "--user", "admin")
	u.run(0, "uploads", "ls", "--user", "erin")
	u.run(3, "trash", "ls", "--user", "nobody")
	u.run(0, "admin", "user", "rm", "erin")
	erin.run(4, "ls")

	// Bad input has meaningful exit codes.
	u.run(2, "ls", "/a/../b")
	u.run(2, "put")
	u.run(3, "stat", "nothing-here")
	bad := newUser(t, s, "strata_wrongwrongwrongwrongwrongwrongwrong")
	bad.run(4, "ls")
	down := &user{t: t, env: append(bad.env[:2:2], "STRATA_SERVER=http://127.0.0.1:1", "STRATA_TOKEN="+adminToken), dir: u.dir}
	down.run(7, "ls")
	u.run(0, "version")
}

// TestLoginProfile: login saves a 0600 profile the other commands use.
func TestLoginProfile(t *testing.T) {
	s := startServer(t, t.TempDir())
	home := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "STRATA_TOKEN=" + adminToken}
	if r := runCLI(t, env, home, nil, "login", "--server", s.addr); r.code != 0 {
		t.Fatalf("login: %+v", r)
	}
	fi, err := os.Stat(filepath.Join(home, ".config", "strata", "profile.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("profile: %v %v", fi.Mode(), err)
	}
	env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
	if r := runCLI(t, env, home, nil, "mkdir", "from-profile"); r.code != 0 {
		t.Fatalf("with the profile: %+v", r)
	}
	if r := runCLI(t, append(env, "STRATA_TOKEN=strata_wrongwrongwrongwrongwrongwrongwrong"), home, nil, "login", "--server", s.addr); r.code != 4 {
		t.Fatalf("login with a bad token: %+v", r)
	}
}

// TestPasswordLogin: an admin sets a user's password; the user logs in
// with it (the password exchanged for a token, saved in the profile) and
// changes it; wrong passwords are refused, and slowed down.
func TestPasswordLogin(t *testing.T) {
	// One free failure a minute from an address: once spent, the wait
	// is the budget's refill (about a minute), which no machine is slow
	// enough to outlast. (The doubling itself is tested on a fake clock
	// in internal/ratelimit.)
	s := startServer(t, t.TempDir(), "--limit-auth-failures", "1")
	admin := newUser(t, s, adminToken)
	admin.run(0, "admin", "user", "add", "--no-token", "frank")
	set := runCLI(t, admin.env, admin.dir, strings.NewReader("correct horse battery\n"), "passwd", "--user", "frank", "--password-stdin")
	if set.code != 0 {
		t.Fatalf("passwd --user: %+v", set)
	}
	short := runCLI(t, admin.env, admin.dir, strings.NewReader("short\n"), "passwd", "--user", "frank", "--password-stdin")
	if short.code != 2 || !strings.Contains(short.stderr, "at least 12") {
		t.Fatalf("a short password: %+v", short)
	}
	home := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
	login := func(pw string) cliResult {
		return runCLI(t, env, home, strings.NewReader(pw+"\n"), "login", "--server", s.addr, "--user", "frank", "--password-stdin")
	}
	if r := login("correct horse battery"); r.code != 0 || !strings.Contains(r.stderr, "as frank") {
		t.Fatalf("login: %+v", r)
	}
	if r := runCLI(t, env, home, nil, "ls"); r.code != 0 {
		t.Fatalf("ls with the profile of a password login: %+v", r)
	}
	if r := login("wrong horse battery"); r.code != 4 {
		t.Fatalf("a wrong password: %+v", r)
	}
	if r := runCLI(t, env, home, strings.NewReader("correct horse battery\n"), "login", "--server", s.addr, "--user", "nobody", "--password-stdin"); r.code != 4 {
		t.Fatalf("an unknown user: %+v", r)
	}
	// Guessing is slowed down: the address has spent its failures, so
	// the server asks to wait, even for the right password.
	r := login("correct horse battery")
	m := regexp.MustCompile(`too many failed logins: retry in (\d+) s`).FindStringSubmatch(r.stderr)
	if r.code == 0 || m == nil {
		t.Fatalf("no slowdown after failures: %+v", r)
	}
	if n, _ := strconv.Atoi(m[1]); n < 30 {
		t.Fatalf("the wait is %d s, want about a minute: %+v", n, r)
	}
}

// TestResumeUpload interrupts an upload after two parts and resumes it:
// the parts the server has are not sent again.
func TestResumeUpload(t *testing.T) {
	s := startServer(t, t.TempDir())
	c := s.client(t, adminToken)
	content := randomBytes(26<<20, 9)
	f := bytes.NewReader(content)
	ctx, cancel := context.WithCancel(bg())
	var sent atomic.Int64
	opts := client.UploadOptions{PartSize: 5 << 20, Concurrency: 1, Fingerprint: "resume-test"}
	opts.Progress = func(n int64) {
		// Past two whole parts: with one part in flight at a time, the
		// second was acknowledged before the third started.
		if sent.Add(n) >= 12<<20 {
			cancel()
		}
	}
	_, err := c.UploadFile(ctx, "/home/admin/resume.bin", f, int64(len(content)), opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted upload: %v", err)
	}
	ups, err := c.Uploads(bg())
	if err != nil || len(ups) != 1 {
		t.Fatalf("open sessions: %+v %v", ups, err)
	}
	st, _ := c.Upload(bg(), ups[0].ID)
	have := len(st.Received)
	if have < 2 {
		t.Fatalf("server holds %d parts", have)
	}

	var resent atomic.Int64
	resumed := false
	opts.Progress = func(n int64) { resent.Add(n) }
	opts.OnSession = func(_ api.Upload, r bool) { resumed = r }
	e, err := c.UploadFile(bg(), "/home/admin/resume.bin", f, int64(len(content)), opts)
	if err != nil || !resumed {
		t.Fatalf("resume: %v (resumed %v)", err, resumed)
	}
	sum := sha256.Sum256(content)
	if e.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatal("digest")
	}
	// Progress counts the held parts once when found, then the rest as sent:
	// the total is the file size, so nothing was sent twice... and the held
	// parts were indeed not re-sent (the server saw only the missing ones).
	if resent.Load() != int64(len(content)) {
		t.Fatalf("progress total %d, want %d", resent.Load(), len(content))
	}
	d, err := c.Get(bg(), "/home/admin/resume.bin", client.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(d.Body)
	d.Body.Close()
	if !bytes.Equal(got, content) {
		t.Fatal("content differs after resume")
	}

	// The same through the CLI: kill `strata put` mid-way, run it again.
	u := newUser(t, s, adminToken)
	local := filepath.Join(u.dir, "cli.bin")
	writeFile(t, local, randomBytes(40<<20, 10))
	cmd := commandFor(u, "put", "--part-size", "5242880", "-j", "1", local, "cli.bin")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// The upload is in another process: the server's session is the only
	// place that shows how far it got.
	pollUntil(t, "two parts received", 20*time.Second, func() bool {
		select {
		case err := <-exited:
			exited <- err
			return true // finished before it could be killed
		default:
		}
		ups, _ := c.Uploads(bg())
		if len(ups) != 1 {
			return false
		}
		st, _ := c.Upload(bg(), ups[0].ID)
		return len(st.Received) >= 2
	})
	_ = cmd.Process.Kill()
	<-exited
	r := u.run(0, "put", "--part-size", "5242880", local, "cli.bin")
	if !strings.Contains(r.stderr, "resuming") {
		// The first run may have finished before it was killed on a fast
		// machine; then there was nothing to resume, which is also fine.
		if _, err := c.Stat(bg(), "/home/admin/cli.bin"); err != nil {
			t.Fatalf("no resume and no file: %q", r.stderr)
		}
	}
	want, _ := os.ReadFile(local)
	if got := u.run(0, "cat", "cli.bin").stdout; got != string(want) {
		t.Fatal("CLI resumed upload differs")
	}
}

func commandFor(u *user, args ...string) *exec.Cmd {
	cmd := exec.Command(binary, args...)
	cmd.Env = u.env
	cmd.Dir = u.dir
	return cmd
}

// TestResumeDownload interrupts a download and resumes it from the partial
// file; a changed remote file restarts it instead.
func TestResumeDownload(t *testing.T) {
	s := startServer(t, t.TempDir())
	c := s.client(t, adminToken)
	content := randomBytes(12<<20, 4)
	if _, err := c.Put(bg(), "/home/admin/dl.bin", bytes.NewReader(content), int64(len(content)), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dest := filepath.Join(dir, "dl.bin")
	ctx, cancel := context.WithCancel(bg())
	var got atomic.Int64
	_, err := c.DownloadFile(ctx, "/home/admin/dl.bin", dest, client.DownloadOptions{Progress: func(n int64) {
		if got.Add(n) > 5<<20 {
			cancel()
		}
	}})
	if err == nil {
		t.Fatal("interrupted download succeeded")
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Fatal("an unverified download is at its destination")
	}
	parts, _ := filepath.Glob(filepath.Join(dir, ".dl.bin.*"+client.PartialSuffix))
	if len(parts) != 1 {
		t.Fatalf("partial files %v", parts)
	}
	fi, _ := os.Stat(parts[0])
	if fi.Size()%4096 == 0 {
		// As a download stopped in the middle of a block leaves it.
		f, err := os.OpenFile(parts[0], os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write(content[fi.Size() : fi.Size()+100]); err != nil {
			t.Fatal(err)
		}
		f.Close()
		fi, _ = os.Stat(parts[0])
	}
	var first int64 = -1
	_, err = c.DownloadFile(bg(), "/home/admin/dl.bin", dest, client.DownloadOptions{Progress: func(n int64) {
		if first < 0 {
			first = n
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Whole 4 KiB blocks of it, so that the rest can be written around the
	// page cache.
	if want := fi.Size() &^ 4095; first != want {
		t.Fatalf("resumed from %d, partial file had %d (%d in whole blocks)", first, fi.Size(), want)
	}
	b, _ := os.ReadFile(dest)
	if !bytes.Equal(b, content) {
		t.Fatal("resumed download differs")
	}
	if parts, _ := filepath.Glob(filepath.Join(dir, "*"+client.PartialSuffix)); len(parts) != 0 {
		t.Fatalf("partial files left: %v", parts)
	}

	// A partial file longer than the file is not of it: the download
	// starts over, in one run.
	os.Remove(dest)
	if err := os.WriteFile(parts[0], append(content[:len(content):len(content)], make([]byte, 5000)...), 0o600); err != nil {
		t.Fatal(err)
	}
	first = -1
	if _, err := c.DownloadFile(bg(), "/home/admin/dl.bin", dest, client.DownloadOptions{Progress: func(n int64) {
		if first < 0 {
			first = n
		}
	}}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dest); !bytes.Equal(b, content) {
		t.Fatal("download over a longer partial file differs")
	}
	if first >= int64(len(content)) {
		t.Fatalf("resumed from %d bytes of a partial file longer than the file", first)
	}
}

// TestKillDuringUploads kills the server with SIGKILL while uploads are in
// flight, restarts it, and checks that every acknowledged file reads back
// byte for byte, that nothing partial is visible, and that the collector
// removes what the crash left behind.
func TestKillDuringUploads(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	c := s.client(t, adminToken)

	var mu sync.Mutex
	acked := map[string]string{}    // path -> sha256 of acknowledged content
	intended := map[string]string{} // path -> sha256 of what was being written
	ctx, cancel := context.WithCancel(bg())
	defer cancel()
	var wg sync.WaitGroup
	var count atomic.Int64
	forty := make(chan struct{}) // closed by the 40th acknowledgement
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				path := fmt.Sprintf("/home/admin/crash/w%d/f%03d", w, i)
				size := 1000 + (i*7919+w*104729)%400_000
				switch i % 5 {
				case 4:
					size = 11<<20 + i // a multi-part session upload
				case 2:
					size = 500 + (i*131)%12000 // kept inline (DefaultInlineMax)
				}
				content := randomBytes(size, uint64(w*1000+i))
				sum := sha256.Sum256(content)
				mu.Lock()
				intended[path] = hex.EncodeToString(sum[:])
				mu.Unlock()
				var err error
				if size > 10<<20 {
					_, err = c.UploadFile(ctx, path, bytes.NewReader(content), int64(size), client.UploadOptions{PartSize: 5 << 20})
				} else {
					_, err = c.Put(ctx, path, bytes.NewReader(content), int64(size), client.PutOptions{SHA256: sum[:]})
				}
				if err != nil {
					return // the server died under us
				}
				mu.Lock()
				acked[path] = hex.EncodeToString(sum[:])
				mu.Unlock()
				if count.Add(1) == 40 {
					close(forty)
				}
			}
		}()
	}
	select {
	case <-forty:
	case <-time.After(2 * time.Minute):
		t.Fatalf("only %d uploads acknowledged", count.Load())
	}
	s.kill()
	cancel()
	wg.Wait()

	// Nothing writes to the restarted server but this test, after the
	// sessions are aborted: every blob not referenced is an orphan, however
	// young, so a grace of a nanosecond is safe and nothing waits for it.
	s2 := startServer(t, data, "--gc-grace", "1ns")
	c2 := s2.client(t, adminToken)
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 40 {
		t.Fatalf("only %d acknowledged", len(acked))
	}
	for path, want := range acked {
		d, err := c2.Get(bg(), path, client.GetOptions{})
		if err != nil {
			t.Fatalf("acknowledged %s: %v", path, err)
		}
		h := sha256.New()
		_, err = io.Copy(h, d.Body)
		d.Body.Close()
		if err != nil || hex.EncodeToString(h.Sum(nil)) != want {
			t.Fatalf("acknowledged %s reads back wrong: %v", path, err)
		}
	}
	// Everything visible is whole: its content is exactly what was sent.
	visible, stored := 0, 0 // stored: in the blob store, not kept inline
	for w := range 6 {
		err := c2.Walk(bg(), fmt.Sprintf("/home/admin/crash/w%d", w), func(e api.Entry) error {
			visible++
			if crypto.SealedSize(e.Size) > backend.DefaultInlineMax {
				stored++
			}
			if want, ok := intended[e.Path]; !ok || e.SHA256 != want {
				return fmt.Errorf("%s is visible with content nobody sent whole", e.Path)
			}
			d, err := c2.Get(bg(), e.Path, client.GetOptions{})
			if err != nil {
				return err
			}
			h := sha256.New()
			_, err = io.Copy(h, d.Body)
			d.Body.Close()
			if err != nil || hex.EncodeToString(h.Sum(nil)) != e.SHA256 {
				return fmt.Errorf("%s does not read back: %v", e.Path, err)
			}
			return nil
		})
		if err != nil && !errors.Is(err, client.ErrNotFound) {
			t.Fatal(err)
		}
	}
	// Sessions the crash left open keep their blobs until they are
	// completed, aborted or expire; abort them, as a user would.
	ups, err := c2.Uploads(bg())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range ups {
		if err := c2.AbortUpload(bg(), u.ID); err != nil {
			t.Fatal(err)
		}
	}
	// The collector removes orphaned blobs (and leaves what is referenced).
	before := countObjects(t, data)
	r, err := c2.Collect(bg(), 0) // the server's grace
	if err != nil {
		t.Fatal(err)
	}
	after := countObjects(t, data)
	t.Logf("%d acknowledged, %d visible (%d kept inline), %d sessions aborted, %d blobs before collection, %d removed, %d after",
		len(acked), visible, visible-stored, len(ups), before, r.OrphanBlobs, after)
	if after != stored || stored == visible {
		t.Fatalf("%d blobs remain for %d visible files, %d of them too big to be kept inline", after, visible, stored)
	}
	if r.OrphanBlobs != before-after {
		t.Fatalf("collector reported %d, removed %d", r.OrphanBlobs, before-after)
	}
	// What it kept still reads.
	for path := range acked {
		if _, err := c2.Stat(bg(), path); err != nil {
			t.Fatal(err)
		}
	}
}

// countObjects counts the blobs the local store holds.
func countObjects(t *testing.T, data string) int {
	t.Helper()
	shards, err := os.ReadDir(filepath.Join(data, "blobs", "objects"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sh := range shards {
		es, err := os.ReadDir(filepath.Join(data, "blobs", "objects", sh.Name()))
		if err != nil {
			t.Fatal(err)
		}
		n += len(es)
	}
	return n
}

// TestGracefulShutdown: SIGTERM lets an upload in flight finish.
func TestGracefulShutdown(t *testing.T) {
	s := startServerEnv(t, t.TempDir(), []string{"STRATA_METRICS_TOKEN=" + metricsToken}, "--log-level", "info")
	c := s.client(t, adminToken)
	content := randomBytes(3<<20, 5)
	held := &heldReader{r: bytes.NewReader(content), started: make(chan struct{}), release: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		_, err := c.Put(bg(), "/home/admin/inflight", held, int64(len(content)), client.PutOptions{})
		errc <- err
	}()
	<-held.started
	// Wait until the server is in the handler (the metrics request itself
	// is the other one in flight): a connection still in the accept queue
	// when the listener closes is reset, by any server. The server is
	// another process; its metrics are where it says so.
	pollUntil(t, "the upload in the handler", 20*time.Second, func() bool {
		return strings.Contains(metricsText(t, s), "strata_http_requests_in_flight 2")
	})
	stopped := make(chan error, 1)
	go func() { stopped <- s.stop() }()
	// The rest of the body is sent once the server is shutting down.
	s.out.waitFor(t, "the server shutting down", 20*time.Second, func(out string) bool {
		return strings.Contains(out, "shutting down")
	})
	close(held.release)
	if err := <-errc; err != nil {
		t.Fatalf("upload in flight during shutdown: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("server exit: %v", err)
	}
	s2 := startServer(t, s.data)
	d, err := s2.client(t, adminToken).Get(bg(), "/home/admin/inflight", client.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(d.Body)
	d.Body.Close()
	if !bytes.Equal(got, content) {
		t.Fatal("content")
	}
}

// heldReader gives one read of up to 100 KB, then the rest once release
// is closed.
type heldReader struct {
	r       io.Reader
	started chan struct{}
	release chan struct{}
	once    sync.Once
	read    bool
}

func (h *heldReader) Read(p []byte) (int, error) {
	if h.read {
		<-h.release
	}
	h.read = true
	h.once.Do(func() { close(h.started) })
	if len(p) > 100_000 {
		p = p[:100_000]
	}
	return h.r.Read(p)
}

// TestDataDirLock: a second server on the same data dir fails at once and
// names the process that holds it.
func TestDataDirLock(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	start := time.Now()
	r := runCLI(t, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, data, nil, "serve", "--data", data, "--listen", "127.0.0.1:0")
	if r.code == 0 || !strings.Contains(r.stderr, fmt.Sprintf("process %d", s.cmd.Process.Pid)) {
		t.Fatalf("second serve: %+v", r)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("took %v to fail", el)
	}
}

// TestTLS serves HTTPS with --tls-cert and --tls-key.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	s := startServer(t, t.TempDir(), "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(s.addr, "https://") {
		t.Fatalf("address %s", s.addr)
	}
	u := newUser(t, s, adminToken)
	u.env = append(u.env, "SSL_CERT_FILE="+certFile)
	u.run(0, "mkdir", "over-tls")
	// Plain HTTP to the TLS port gets nowhere.
	resp, err := http.Get(strings.Replace(s.addr, "https://", "http://", 1) + "/healthz")
	if err == nil && resp.StatusCode == http.StatusOK {
		t.Fatal("plain HTTP answered on the TLS port")
	}
}

// metricsToken puts /metrics on the API of a server started with it in
// STRATA_METRICS_TOKEN.
const metricsToken = "metricsE2e5Tq9Wm2Xr7Lp4Kv8Nz1Bc6Hd3Jf0Gs"

func metricsText(t *testing.T, s *serverProc) string {
	t.Helper()
	req, _ := http.NewRequest("GET", s.addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+metricsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestOneVersion: the CLI and the server it starts report the same version,
// from the build information (the server in its metrics, to its operator).
func TestOneVersion(t *testing.T) {
	s := startServerEnv(t, t.TempDir(), []string{"STRATA_METRICS_TOKEN=" + metricsToken})
	u := newUser(t, s, adminToken)
	var cli struct{ Version string }
	if err := json.Unmarshal([]byte(u.run(0, "version", "--json").stdout), &cli); err != nil || cli.Version == "" {
		t.Fatalf("strata version --json: %v %+v", err, cli)
	}
	if want := fmt.Sprintf("strata_build_info{version=%q} 1", cli.Version); !strings.Contains(metricsText(t, s), want) {
		t.Fatalf("the server's metrics lack %s", want)
	}
	if got := u.run(0, "version").stdout; got != "strata "+cli.Version+"\n" {
		t.Fatalf("strata version: %q", got)
	}
}

// TestAWSWithoutCredentials: with no AWS credentials anywhere, a dry run
// of provision still shows the templates (and says what is missing and how
// to give it); a real run, and serve on AWS engines, say the same and exit
// 4, never with the SDK's raw chain of failures.
func TestAWSWithoutCredentials(t *testing.T) {
	home := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_REGION=us-east-1", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none")}
	r := runCLI(t, env, home, nil, "provision", "--dry-run", "--service")
	if r.code != 0 {
		t.Fatalf("dry run: %+v", r)
	}
	for _, want := range []string{"stack strata: not checked (no AWS credentials)", "AWS::DynamoDB::Table", "stack strata-service: not checked",
		"AdminToken", "(generated)", "nothing was changed",
		// SSH through the network load balancer.
		"SshListener ", "SshTargetGroup ", "SshLoadBalancerSecurityGroup ", "SshPort "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry run stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	serve := runCLI(t, env, home, nil, "serve", "--blob", "s3://strata-test", "--listen", "127.0.0.1:0")
	if serve.code != 4 {
		t.Errorf("serve on S3: %+v", serve)
	}
	for _, c := range []cliResult{r, runCLI(t, env, home, nil, "provision"), serve} {
		for _, want := range []string{"no AWS credentials", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "IAM role"} {
			if !strings.Contains(c.stderr, want) {
				t.Errorf("stderr lacks %q: %s", want, c.stderr)
			}
		}
		for _, raw := range []string{"IMDS", "operation error", "get credentials"} {
			if strings.Contains(c.stderr, raw) {
				t.Errorf("stderr shows the SDK's %q: %s", raw, c.stderr)
			}
		}
	}
	if r := runCLI(t, env, home, nil, "provision"); r.code != 4 {
		t.Fatalf("provision: %+v", r)
	}
}

// TestMetricsListen: with --metrics-listen, /metrics is served there and
// not on the API; without a flag, nowhere; /healthz tells no version.
func TestMetricsListen(t *testing.T) {
	s := startServer(t, t.TempDir(), "--metrics-listen", "127.0.0.1:0")
	// Said before "serving on", which startServer waits for.
	m := regexp.MustCompile(`Metrics are served on (http://\S+)`).FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("no metrics address in:\n%s", s.out)
	}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(m[1]); code != http.StatusOK || !strings.Contains(body, "strata_build_info{version=") {
		t.Fatalf("metrics listener: %d\n%.300s", code, body)
	}
	if code, _ := get(s.addr + "/metrics"); code != http.StatusNotFound {
		t.Fatalf("/metrics on the API: %d, want 404", code)
	}
	if code, body := get(s.addr + "/healthz"); code != http.StatusOK || strings.Contains(body, "version") {
		t.Fatalf("healthz: %d %s", code, body)
	}
	plain := startServer(t, t.TempDir())
	if code, _ := get(plain.addr + "/metrics"); code != http.StatusNotFound {
		t.Fatalf("/metrics by default: %d, want 404", code)
	}
}
