package sshserve_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/sys/cpu"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/engine"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/internal/storepath"
	"github.com/strata-storage/strata/sshserve"
)

// env is a store served over SSH, with users alice and bob, each with a
// key.
type env struct {
	t     testing.TB
	d     *daemon.Daemon
	srv   *sshserve.Server
	addr  string
	admin iam.Principal
	keys  map[string]gossh.Signer
	hostK gossh.PublicKey
}

func newEnv(t testing.TB, cfg sshserve.Config) *env {
	t.Helper()
	return newEnvWith(t, daemon.Config{}, cfg)
}

// newEnvWith is newEnv with the store's settings dc (its engines are a
// new data directory's).
func newEnvWith(t testing.TB, dc daemon.Config, cfg sshserve.Config) *env {
	t.Helper()
	ctx := context.Background()
	dc.Engines = engine.Spec{DataDir: t.TempDir()}
	dc.PasswordCost = identity.PasswordCost{MemoryKiB: 1024, Passes: 1}
	d, err := daemon.Open(ctx, dc)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := d.Identity.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, nil); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, d: d, keys: map[string]gossh.Signer{}}
	if e.admin, err = d.Identity.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "bob"} {
		if _, err := d.Identity.CreateUser(ctx, e.admin, name, false); err != nil {
			t.Fatal(err)
		}
		signer := newSigner(t)
		if _, err := d.Identity.AddSSHKey(ctx, e.admin, name, gossh.MarshalAuthorizedKey(signer.PublicKey())); err != nil {
			t.Fatal(err)
		}
		e.keys[name] = signer
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if e.srv, err = d.ServeSSH(ctx, ln, cfg); err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	hk, err := d.HostKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := gossh.ParsePrivateKey(hk)
	if err != nil {
		t.Fatal(err)
	}
	e.hostK = hs.PublicKey()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Stop(sctx); err != nil {
			t.Error(err)
		}
	})
	return e
}

func newSigner(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dial logs in as user with auth.
func (e *env) dial(user string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", e.addr, &gossh.ClientConfig{User: user, Auth: auth, HostKeyCallback: gossh.FixedHostKey(e.hostK), Timeout: 10 * time.Second})
}

// login logs in as user with their key.
func (e *env) login(user string) *gossh.Client {
	e.t.Helper()
	c, err := e.dial(user, gossh.PublicKeys(e.keys[user]))
	if err != nil {
		e.t.Fatalf("login as %s: %v", user, err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

func (e *env) sftp(user string) *sftp.Client {
	e.t.Helper()
	c, err := sftp.NewClient(e.login(user))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Close() })
	return c
}

func (e *env) put(path string, content []byte) {
	e.t.Helper()
	if _, err := e.d.Files.Put(context.Background(), e.admin, storepath.MustParse(path), bytes.NewReader(content), backend.PutOptions{Size: int64(len(content))}); err != nil {
		e.t.Fatal(err)
	}
}

// stored reads a file through the core (as the admin): nil if absent.
func (e *env) stored(path string) []byte {
	e.t.Helper()
	ctx := context.Background()
	p := storepath.MustParse(path)
	if _, err := e.d.Files.Stat(ctx, e.admin, p); errors.Is(err, errs.ErrNotFound) {
		return nil
	}
	r, err := e.d.Files.Open(ctx, e.admin, p, backend.OpenOptions{Length: -1})
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// random is n bytes nobody could guess or compress, made by ChaCha8 from
// a random seed: crypto/rand.Read of hundreds of MiB in one call sits in
// the kernel's getrandom, which the Go scheduler cannot preempt, and
// stalls the garbage collector (and every goroutine it stops) for seconds,
// which a benchmark of the server would count.
func random(n int) []byte {
	var seed [32]byte
	_, _ = rand.Read(seed[:])
	b := make([]byte, n)
	_, _ = mrand.NewChaCha8(seed).Read(b)
	return b
}

func TestLogin(t *testing.T) {
	e := newEnv(t, sshserve.Config{Passwords: true})
	ctx := context.Background()
	if err := e.d.Identity.SetPassword(ctx, e.admin, "alice", "", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	e.login("alice").Close()
	// An unknown key, a key of another user, a wrong password: the same
	// refusal.
	for _, c := range []struct {
		user string
		auth gossh.AuthMethod
	}{
		{"alice", gossh.PublicKeys(newSigner(t))},
		{"alice", gossh.PublicKeys(e.keys["bob"])},
		{"nobody", gossh.PublicKeys(e.keys["bob"])},
		{"alice", gossh.Password("wrong horse battery")},
		{"bob", gossh.Password("correct horse battery")},
	} {
		c, err := e.dial(c.user, c.auth)
		if err == nil {
			c.Close()
			t.Fatalf("logged in as %s", c.User())
		}
		if !strings.Contains(err.Error(), "unable to authenticate") {
			t.Fatalf("refusal: %v", err)
		}
	}
	// Failures slow the guesser down, like the API's logins: after a few,
	// even the right password waits.
	for range 3 {
		if c, err := e.dial("alice", gossh.Password("wrong horse battery")); err == nil {
			c.Close()
		}
	}
	if c, err := e.dial("alice", gossh.Password("correct horse battery")); err == nil {
		c.Close()
		t.Fatal("the right password went through right after repeated failures")
	}
	// A key still works: the guard is on passwords.
	e.login("alice").Close()
}

func TestPasswordsOffByDefault(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	if err := e.d.Identity.SetPassword(context.Background(), e.admin, "alice", "", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if c, err := e.dial("alice", gossh.Password("correct horse battery")); err == nil {
		c.Close()
		t.Fatal("a password logged in with password logins off")
	}
}

func TestSFTP(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	c := e.sftp("alice")
	wd, err := c.Getwd()
	if err != nil || wd != "/home/alice" {
		t.Fatalf("starts in %q, %v", wd, err)
	}
	// The sftp client writes in parallel: writes arrive out of order.
	content := random(5<<20 + 123)
	f, err := c.Create("big.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadFrom(bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	if e.stored("/home/alice/big.bin") != nil {
		t.Fatal("visible before the file was closed")
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.stored("/home/alice/big.bin"), content) {
		t.Fatal("stored content differs")
	}
	// Read whole (in parallel), and in ranges anywhere.
	r, err := c.Open("/home/alice/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := r.WriteTo(&got); err != nil || !bytes.Equal(got.Bytes(), content) {
		t.Fatalf("read back %d bytes, %v", got.Len(), err)
	}
	for _, off := range []int64{4 << 20, 17, 0, 5<<20 + 100, 1 << 20} {
		buf := make([]byte, 1000)
		n, err := r.ReadAt(buf, off)
		want := content[off:min(off+1000, int64(len(content)))]
		if (err != nil && !errors.Is(err, io.EOF)) || !bytes.Equal(buf[:n], want) {
			t.Fatalf("range at %d: %d bytes, %v", off, n, err)
		}
	}
	// Ranges across the download's chunks, forwards and back.
	rnd := mrand.New(mrand.NewPCG(1, 2))
	for range 40 {
		off := rnd.Int64N(int64(len(content)))
		buf := make([]byte, 1+rnd.IntN(600<<10))
		n, err := r.ReadAt(buf, off)
		want := content[off:min(off+int64(len(buf)), int64(len(content)))]
		if (err != nil && !errors.Is(err, io.EOF)) || !bytes.Equal(buf[:n], want) {
			t.Fatalf("range of %d at %d: %d bytes, %v", len(buf), off, n, err)
		}
	}
	r.Close()
	st, err := c.Stat("big.bin")
	if err != nil || st.Size() != int64(len(content)) || st.IsDir() {
		t.Fatalf("stat %v, %v", st, err)
	}
	// Clients set times after an upload: accepted, harmless.
	if err := c.Chtimes("big.bin", time.Now(), time.Now()); err != nil {
		t.Fatalf("setstat: %v", err)
	}
	if err := c.Mkdir("sub"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rename("big.bin", "sub/moved.bin"); err != nil {
		t.Fatal(err)
	}
	if e.stored("/home/alice/big.bin") != nil || !bytes.Equal(e.stored("/home/alice/sub/moved.bin"), content) {
		t.Fatal("rename")
	}
	e.put("/home/alice/other.txt", []byte("other"))
	if err := c.Rename("other.txt", "sub/moved.bin"); err == nil {
		t.Fatal("rename onto an existing file (SFTP v3 refuses)")
	}
	if err := c.PosixRename("other.txt", "sub/moved.bin"); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove("sub"); err == nil {
		t.Fatal("remove of a folder")
	}
	if err := c.Remove("sub/moved.bin"); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveDirectory("sub"); err != nil {
		t.Fatal(err)
	}
	// Removed things are in the trash: the replaced file and both removed.
	tr, err := e.d.Files.ListTrash(context.Background(), e.admin, "alice", "", 100)
	if err != nil || len(tr.Items) != 3 {
		t.Fatalf("trash: %+v, %v", tr, err)
	}
	if _, err := c.Stat("nothere"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stat of nothing: %v", err)
	}
	if err := c.Symlink("a", "b"); err == nil {
		t.Fatal("symlink")
	}
}

func TestSFTPListsInPages(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	const n = 1003 // three pages of the API
	if _, err := e.d.Files.Mkdir(context.Background(), e.admin, storepath.MustParse("/home/alice/many"), false); err != nil {
		t.Fatal(err)
	}
	// Written at once, so that the store's writes share their syncs.
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				// Folders: the lightest entries to make.
				if _, err := e.d.Files.Mkdir(context.Background(), e.admin, storepath.MustParse(fmt.Sprintf("/home/alice/many/f%04d", i)), false); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	fis, err := e.sftp("alice").ReadDir("many")
	if err != nil {
		t.Fatal(err)
	}
	if len(fis) != n {
		t.Fatalf("%d entries, want %d", len(fis), n)
	}
	for i, fi := range fis {
		if fi.Name() != fmt.Sprintf("f%04d", i) || !fi.IsDir() {
			t.Fatalf("entry %d: %s %v", i, fi.Name(), fi.Mode())
		}
	}
}

// Policies decide over SFTP exactly as over HTTP, and strata:Via tells
// SFTP apart.
func TestSFTPPolicies(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	ctx := context.Background()
	e.put("/home/bob/secret.txt", []byte("bob's"))
	c := e.sftp("alice")
	if _, err := c.Open("/home/bob/secret.txt"); !errors.Is(err, os.ErrPermission) {
		t.Fatalf("alice reads bob's file: %v", err)
	}
	if _, err := c.ReadDir("/home/bob"); !errors.Is(err, os.ErrPermission) {
		t.Fatalf("alice lists bob's folder: %v", err)
	}
	f, err := c.Create("/home/bob/planted.txt")
	if err == nil {
		_, err = f.Write([]byte("x"))
		if err == nil {
			err = f.Close()
		}
	}
	if !errors.Is(err, os.ErrPermission) || e.stored("/home/bob/planted.txt") != nil {
		t.Fatalf("alice writes in bob's folder: %v", err)
	}
	const noUploadsOverSFTP = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"strata:PutFile","Resource":"*",
		"Condition":{"StringEquals":{"strata:Via":"sftp"}}}]}`
	if _, err := e.d.Identity.PutPolicy(ctx, e.admin, "no-sftp-uploads", []byte(noUploadsOverSFTP), true); err != nil {
		t.Fatal(err)
	}
	if err := e.d.Identity.AttachPolicy(ctx, e.admin, "no-sftp-uploads", identity.Target{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	c = e.sftp("alice") // a new session: policies are cached per principal
	f, err = c.Create("mine.txt")
	if err == nil {
		_, err = f.Write([]byte("x"))
		if err == nil {
			err = f.Close()
		}
	}
	if !errors.Is(err, os.ErrPermission) || e.stored("/home/alice/mine.txt") != nil {
		t.Fatalf("an upload over SFTP a policy denies: %v", err)
	}
	// Reading is still allowed, and so is writing over HTTP.
	e.put("/home/alice/mine.txt", []byte("via the API"))
	r, err := c.Open("mine.txt")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil || string(b) != "via the API" {
		t.Fatalf("read %q, %v", b, err)
	}
}

// A connection dropped in the middle of an upload leaves nothing, and the
// session's token is revoked.
func TestDroppedUpload(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	conn := e.login("alice")
	c, err := sftp.NewClient(conn)
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Create("half.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(random(3 << 20)); err != nil {
		t.Fatal(err)
	}
	conn.Close() // no close of the file: the connection is gone
	// Shutdown waits for the sessions to end.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if b := e.stored("/home/alice/half.bin"); b != nil {
		t.Fatalf("%d bytes of a dropped upload are visible", len(b))
	}
	toks, err := e.d.Identity.ListTokens(context.Background(), e.admin, "alice")
	if err != nil || len(toks) != 0 {
		t.Fatalf("alice's tokens after her sessions: %+v, %v", toks, err)
	}
}

// An upload with a hole stores nothing and says why.
func TestSFTPHole(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	c := e.sftp("alice")
	f, err := c.Create("holey.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("late"), 1000); err != nil {
		t.Fatal(err)
	}
	err = f.Close()
	if err == nil || !strings.Contains(err.Error(), "nothing was stored") || e.stored("/home/alice/holey.bin") != nil {
		t.Fatalf("closed with a hole: %v", err)
	}
	f, err = c.OpenFile("appended.bin", os.O_WRONLY|os.O_APPEND|os.O_CREATE)
	if err == nil {
		f.Close()
		t.Fatal("append was accepted")
	}
}

// run runs a command in a new session of cl, feeding it in.
func run(t *testing.T, cl *gossh.Client, cmd string, in io.Reader) (stdout, stderr string, err error) {
	t.Helper()
	s, err := cl.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var o, e bytes.Buffer
	s.Stdin, s.Stdout, s.Stderr = in, &o, &e
	err = s.Run(cmd)
	return o.String(), e.String(), err
}

func TestRefusals(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	cl := e.login("alice")
	_, stderr, err := run(t, cl, "cat /etc/passwd", nil)
	var exit *gossh.ExitError
	if !errors.As(err, &exit) || exit.ExitStatus() != 1 || !strings.Contains(stderr, "no commands or shells here") {
		t.Fatalf("a command: %v, %q", err, stderr)
	}
	_, err = cl.Dial("tcp", "127.0.0.1:22")
	if err == nil || !strings.Contains(err.Error(), "does not forward ports") {
		t.Fatalf("port forwarding: %v", err)
	}
	if _, err := cl.Listen("tcp", "127.0.0.1:0"); err == nil {
		t.Fatal("remote forwarding was accepted")
	}
	_, stderr, err = run(t, cl, "scp -x /", nil)
	if err == nil || !strings.Contains(stderr, "not supported") {
		t.Fatalf("scp with a bad option: %v, %q", err, stderr)
	}
}

func TestSessionCap(t *testing.T) {
	e := newEnv(t, sshserve.Config{MaxSessionsPerUser: 1})
	e.sftp("alice")
	if _, err := sftp.NewClient(e.login("alice")); err == nil {
		t.Fatal("a second session past the cap")
	}
	e.sftp("bob") // another user's are theirs
}

func TestShutdownTellsUsers(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	cl := e.login("alice")
	s, err := cl.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	stderr, _ := s.StderrPipe()
	if err := s.RequestSubsystem("sftp"); err != nil {
		t.Fatal(err)
	}
	c, err := sftp.NewClientPipe(mustStdout(t, s), mustStdin(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Getwd(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(stderr)
	if !strings.Contains(string(msg), "shutting down") {
		t.Fatalf("told %q", msg)
	}
}

func mustStdout(t *testing.T, s *gossh.Session) io.Reader {
	r, err := s.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustStdin(t *testing.T, s *gossh.Session) io.WriteCloser {
	w, err := s.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// An SFTP session the client ends exits with status 0 (OpenSSH's scp
// reports a failure otherwise, though every file went through).
func TestSFTPExitStatus(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	ch, reqs, err := e.login("alice").OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := ch.SendRequest("subsystem", true, gossh.Marshal(struct{ Name string }{"sftp"})); !ok || err != nil {
		t.Fatalf("subsystem: %v %v", ok, err)
	}
	c, err := sftp.NewClientPipe(ch, halfCloser{ch})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Getwd(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	status := -1
	for req := range reqs {
		if req.Type == "exit-status" && len(req.Payload) == 4 {
			status = int(binary.BigEndian.Uint32(req.Payload))
		}
	}
	if status != 0 {
		t.Fatalf("exit status %d (-1: none)", status)
	}
}

// halfCloser closes only the writing half of a channel.
type halfCloser struct{ ch gossh.Channel }

func (h halfCloser) Write(p []byte) (int, error) { return h.ch.Write(p) }
func (h halfCloser) Close() error                { return h.ch.CloseWrite() }

// The server offers the ciphers it is given, and only those: a client
// asking for another is turned away; a cipher Go counts as insecure is
// refused at start.
func TestCiphers(t *testing.T) {
	e := newEnv(t, sshserve.Config{Ciphers: []string{gossh.CipherAES128GCM}})
	dial := func(ciphers ...string) error {
		c, err := gossh.Dial("tcp", e.addr, &gossh.ClientConfig{User: "alice", Auth: []gossh.AuthMethod{gossh.PublicKeys(e.keys["alice"])},
			HostKeyCallback: gossh.FixedHostKey(e.hostK), Timeout: 10 * time.Second,
			Config: gossh.Config{Ciphers: ciphers}})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial(gossh.CipherChaCha20Poly1305, gossh.CipherAES128CTR); err == nil {
		t.Fatal("a client without the offered cipher logged in")
	}
	if err := dial(gossh.CipherChaCha20Poly1305, gossh.CipherAES128GCM); err != nil {
		t.Fatalf("a client with the offered cipher: %v", err)
	}
	if _, err := sshserve.New(sshserve.Config{Users: e.d.Identity, API: http.NotFoundHandler(), Ciphers: []string{"aes128-cbc"}}); err == nil {
		t.Fatal("a server offering aes128-cbc was made")
	}
}

// With AES instructions, a client with OpenSSH's order (ChaCha20 first)
// gets AES from the default ciphers; without them, ChaCha20.
func TestDefaultCiphers(t *testing.T) {
	openSSH := []string{gossh.CipherChaCha20Poly1305, gossh.CipherAES128CTR, gossh.CipherAES192CTR, gossh.CipherAES256CTR, gossh.CipherAES128GCM, gossh.CipherAES256GCM}
	def := sshserve.DefaultCiphers()
	var agreed string
	for _, c := range openSSH {
		if slices.Contains(def, c) {
			agreed = c
			break
		}
	}
	aes := (runtime.GOARCH == "amd64" && cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ) || (runtime.GOARCH == "arm64" && cpu.ARM64.HasAES && cpu.ARM64.HasPMULL)
	switch {
	case aes && agreed != gossh.CipherAES128CTR:
		t.Fatalf("OpenSSH would use %s on a CPU with AES instructions (offered %v)", agreed, def)
	case !aes && runtime.GOARCH != "s390x" && agreed != gossh.CipherChaCha20Poly1305:
		t.Fatalf("OpenSSH would use %s on a CPU without AES instructions (offered %v)", agreed, def)
	}
}

// By default, where the CPU has AES instructions, an OpenSSH client is
// offered AES-GCM alone (it would take CTR and its costlier MAC from the
// whole list); any other client gets the whole list, so one that knows
// only CTR still gets in.
func TestOpenSSHIsOfferedGCM(t *testing.T) {
	if !((runtime.GOARCH == "amd64" && cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ) || (runtime.GOARCH == "arm64" && cpu.ARM64.HasAES && cpu.ARM64.HasPMULL)) {
		t.Skip("no AES instructions: the offer is the same for every client")
	}
	e := newEnv(t, sshserve.Config{})
	dial := func(ident string, ciphers ...string) error {
		c, err := gossh.Dial("tcp", e.addr, &gossh.ClientConfig{User: "alice", Auth: []gossh.AuthMethod{gossh.PublicKeys(e.keys["alice"])},
			HostKeyCallback: gossh.FixedHostKey(e.hostK), Timeout: 10 * time.Second, ClientVersion: ident,
			Config: gossh.Config{Ciphers: ciphers}})
		if err == nil {
			c.Close()
		}
		return err
	}
	if err := dial("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6", gossh.CipherAES128CTR); err == nil {
		t.Fatal("OpenSSH was offered AES-CTR")
	}
	if err := dial("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6", gossh.CipherChaCha20Poly1305, gossh.CipherAES128CTR, gossh.CipherAES128GCM); err != nil {
		t.Fatalf("OpenSSH with AES-GCM: %v", err)
	}
	for _, ident := range []string{"SSH-2.0-PuTTY_Release_0.75", "SSH-2.0-paramiko_2.12.0", "SSH-2.0-Go"} {
		if err := dial(ident, gossh.CipherAES128CTR); err != nil {
			t.Fatalf("%s with AES-CTR only: %v", ident, err)
		}
	}
}

// The server sends its identification string first and once: a client
// that waits for it before it sends its own (as PuTTY does) gets it, and
// then the key exchange, not a second one.
func TestServerIdentFirst(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	c, err := net.DialTimeout("tcp", e.addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil || line != "SSH-2.0-Strata\r\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	if _, err := io.WriteString(c, "SSH-2.0-PuTTY_Release_0.81\r\n"); err != nil {
		t.Fatal(err)
	}
	// A binary packet: length, padding length, SSH_MSG_KEXINIT (20).
	hdr := make([]byte, 6)
	if _, err := io.ReadFull(r, hdr); err != nil {
		t.Fatal(err)
	}
	if string(hdr[:4]) == "SSH-" || hdr[5] != 20 {
		t.Fatalf("after the identification strings: %q, want a KEXINIT packet", hdr)
	}
}

// The server tells OpenSSH's clients its limits (limits@openssh.com, which
// pkg/sftp does not know) and serves reads of that size: OpenSSH moves a
// file in requests of 255 KiB instead of 32 KiB.
func TestSFTPLimitsExtension(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	content := random(300 << 10)
	e.put("/home/alice/big.bin", content)
	sess, err := e.login("alice").NewSession()
	if err != nil {
		t.Fatal(err)
	}
	w, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestSubsystem("sftp"); err != nil {
		t.Fatal(err)
	}
	send := func(typ byte, fields ...any) {
		t.Helper()
		body := []byte{typ}
		for _, f := range fields {
			switch f := f.(type) {
			case uint32:
				body = binary.BigEndian.AppendUint32(body, f)
			case uint64:
				body = binary.BigEndian.AppendUint64(body, f)
			case string:
				body = binary.BigEndian.AppendUint32(body, uint32(len(f)))
				body = append(body, f...)
			}
		}
		if _, err := w.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)); err != nil {
			t.Fatal(err)
		}
	}
	recv := func(want byte) []byte {
		t.Helper()
		var n [4]byte
		if _, err := io.ReadFull(r, n[:]); err != nil {
			t.Fatal(err)
		}
		p := make([]byte, binary.BigEndian.Uint32(n[:]))
		if _, err := io.ReadFull(r, p); err != nil {
			t.Fatal(err)
		}
		if want != 0 && p[0] != want {
			t.Fatalf("packet type %d, want %d: %q", p[0], want, p)
		}
		return p[1:]
	}
	send(1, uint32(3)) // INIT, version 3
	if v := recv(2); !bytes.Contains(v, []byte("\x00\x00\x00\x12limits@openssh.com\x00\x00\x00\x011")) {
		t.Fatalf("VERSION %q does not name limits@openssh.com", v)
	}
	send(200, uint32(7), "limits@openssh.com") // EXTENDED
	reply := recv(201)
	if len(reply) != 4+4*8 || binary.BigEndian.Uint32(reply) != 7 {
		t.Fatalf("limits reply %x", reply)
	}
	packet, read, write := binary.BigEndian.Uint64(reply[4:]), binary.BigEndian.Uint64(reply[12:]), binary.BigEndian.Uint64(reply[20:])
	if packet != 256<<10 || read != 255<<10 || write != 255<<10 {
		t.Fatalf("limits: packet %d, read %d, write %d", packet, read, write)
	}
	send(3, uint32(8), "/home/alice/big.bin", uint32(1), uint32(0)) // OPEN for reading
	h := recv(102)                                                  // HANDLE
	handle := string(h[8:])
	send(5, uint32(9), handle, uint64(1000), uint32(read)) // READ
	data := recv(103)                                      // DATA
	if got := data[8:]; !bytes.Equal(got, content[1000:1000+read]) {
		t.Fatalf("a read of %d bytes got %d, or other bytes", read, len(got))
	}
	// Another extension still goes to the request server, which
	// answers it (with a status: /home/alice has no quota).
	send(200, uint32(10), "statvfs@openssh.com", "/home/alice")
	if st := recv(0); binary.BigEndian.Uint32(st) != 10 {
		t.Fatalf("statvfs answer %q", st)
	}
}
