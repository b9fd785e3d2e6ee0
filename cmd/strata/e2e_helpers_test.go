package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strata-storage/strata/server/client"
)

// The end-to-end tests run the real binary: TestMain builds it once.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "strata-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "strata")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building strata:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// adminToken is what the tests bootstrap the admin with.
const adminToken = "strata_e2eAdmin7Qk2Rw9Zp4Lx8Vn3Mc6Jt1Bh5Gs0Fd"

// serverProc is a running `strata serve`.
type serverProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	data string
	out  *syncBuffer
	done chan error
}

// syncBuffer collects another process's output. Every write wakes waitFor,
// so that a test waits on what the process says, not on the clock.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // one pending wake-up; made by the first use
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	select {
	case s.wake() <- struct{}{}:
	default:
	}
	return n, err
}

// wake is the wake-up channel; s.mu is held.
func (s *syncBuffer) wake() chan struct{} {
	if s.changed == nil {
		s.changed = make(chan struct{}, 1)
	}
	return s.changed
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until cond holds for everything written so far, checking
// after each write, and fails the test after d.
func (s *syncBuffer) waitFor(t *testing.T, what string, d time.Duration, cond func(string) bool) {
	t.Helper()
	s.mu.Lock()
	changed := s.wake()
	s.mu.Unlock()
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	for !cond(s.String()) {
		select {
		case <-changed:
		case <-timeout.C:
			t.Fatalf("never saw %s", what)
		}
	}
}

// pollUntil checks cond every few milliseconds until it holds, and fails
// the test after d. It is only for state that another process keeps and
// tells nobody about when it changes (a server's upload sessions, its
// metrics): whatever this process can be told about, it waits for.
func pollUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-timeout.C:
			t.Fatalf("never: %s", what)
		}
	}
}

var servingRE = regexp.MustCompile(`serving on (https?://\S+)`)

// startServer runs strata serve on a free port over data and waits until it
// says where it listens.
func startServer(t *testing.T, data string, extra ...string) *serverProc {
	t.Helper()
	return startServerEnv(t, data, nil, extra...)
}

// startServerEnv is startServer with more environment variables.
func startServerEnv(t *testing.T, data string, env []string, extra ...string) *serverProc {
	t.Helper()
	args := append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0", "--log-level", "warn"}, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append(os.Environ(), "STRATA_ADMIN_TOKEN="+adminToken, "HOME="+t.TempDir()), env...)
	return startServerCmd(t, cmd, data)
}

// startServerCmd starts cmd, a strata serve on data (its stdout and stderr
// are taken), and waits until it says where it listens.
func startServerCmd(t *testing.T, cmd *exec.Cmd, data string) *serverProc {
	t.Helper()
	out := &syncBuffer{}
	pr, pw := io.Pipe()
	cmd.Stdout = io.MultiWriter(out, pw) // out first: the test reads it once the pipe says "serving"
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &serverProc{t: t, cmd: cmd, data: data, out: out, done: make(chan error, 1)}
	go func() {
		err := cmd.Wait()
		pw.Close()
		s.done <- err
	}()
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := servingRE.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
		close(addrc)
	}()
	select {
	case addr, ok := <-addrc:
		if !ok {
			t.Fatalf("strata serve exited early:\n%s", out)
		}
		s.addr = addr
		go func() {
			for range addrc {
			}
		}()
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("strata serve did not start:\n%s", out)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-s.done:
			case <-time.After(10 * time.Second):
				_ = cmd.Process.Kill()
			}
		}
		if t.Failed() {
			t.Logf("server output:\n%s", out)
		}
	})
	return s
}

// kill stops the server with SIGKILL, as a crash or power cut would.
func (s *serverProc) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// stop sends SIGTERM and returns the exit error.
func (s *serverProc) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		return err
	case <-time.After(40 * time.Second):
		_ = s.cmd.Process.Kill()
		return fmt.Errorf("server did not stop")
	}
}

func (s *serverProc) client(t *testing.T, token string) *client.Client {
	t.Helper()
	c, err := client.New(s.addr, token)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cli runs the CLI against s as the holder of token, in dir.
type cliResult struct {
	code   int
	stdout string
	stderr string
}

func runCLI(t *testing.T, env []string, dir string, stdin io.Reader, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// user is a CLI user: its environment points at a server with a token.
type user struct {
	t   *testing.T
	env []string
	dir string
}

func newUser(t *testing.T, s *serverProc, token string) *user {
	home := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "STRATA_SERVER=" + s.addr, "STRATA_TOKEN=" + token}
	return &user{t: t, env: env, dir: t.TempDir()}
}

// run runs the CLI and requires the exit code.
func (u *user) run(want int, args ...string) cliResult {
	u.t.Helper()
	r := runCLI(u.t, u.env, u.dir, nil, args...)
	if r.code != want {
		u.t.Fatalf("strata %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 42))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n - n%8; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func bg() context.Context { return context.Background() }

// selfSigned writes a certificate and key for 127.0.0.1 and returns their
// files.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "strata test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeFile(t, certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
	return certFile, keyFile
}
