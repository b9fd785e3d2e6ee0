package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// tuiProc is the real strata binary's file manager in a pseudo-terminal.
type tuiProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	out  syncBuffer
	done chan error
}

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1b\][^\x07]*\x07`)

func startTUI(t *testing.T, dir string, env []string, args ...string) *tuiProc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = env
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	p := &tuiProc{t: t, cmd: cmd, pty: f, done: make(chan error, 1)}
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := f.Read(buf)
			p.out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		f.Close()
		if t.Failed() {
			t.Logf("screen output (escape codes removed):\n%s", p.text())
		}
	})
	return p
}

// text is everything drawn so far, without escape sequences.
func (p *tuiProc) text() string {
	return ansiRE.ReplaceAllString(p.out.String(), "")
}

// waitFor waits until s has been drawn.
func (p *tuiProc) waitFor(s string) {
	p.t.Helper()
	p.out.waitFor(p.t, "the screen show "+strconv.Quote(s), 15*time.Second, func(out string) bool {
		return strings.Contains(ansiRE.ReplaceAllString(out, ""), s)
	})
}

// send types keys. The app takes them in order without a pause between
// them: the terminal reader splits keys at spaces and control keys, and
// the tests wait for the screen between letters (two letters in one read
// would be taken as one typed word).
func (p *tuiProc) send(keys string) {
	p.t.Helper()
	if _, err := io.WriteString(p.pty, keys); err != nil {
		p.t.Fatal(err)
	}
}

func (p *tuiProc) exited() error {
	select {
	case err := <-p.done:
		return err
	case <-time.After(10 * time.Second):
		p.t.Fatal("the file manager did not quit")
		return nil
	}
}

// TestTUIEndToEnd drives the real binary's file manager against a real
// server: browse, upload a file with the keyboard, see it arrive, quit.
func TestTUIEndToEnd(t *testing.T) {
	s := startServer(t, t.TempDir())
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "report.txt"), []byte("quarterly numbers"))
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TERM=xterm-256color",
		"STRATA_SERVER=" + s.addr, "STRATA_TOKEN=" + adminToken}
	p := startTUI(t, work, env)
	p.waitFor("Strata /home/admin")
	p.waitFor("report.txt")
	p.send(" ") // focus starts on the local pane: mark report.txt
	p.send("u") // upload it to the Strata pane's folder
	// The file manager says done once the server has acknowledged the
	// upload.
	p.waitFor("1/1 done")
	c := s.client(t, adminToken)
	if e, err := c.Stat(bg(), "/home/admin/report.txt"); err != nil || e.Size != 17 {
		t.Fatalf("the upload did not arrive: %+v, %v", e, err)
	}
	// The Strata pane shows it; the info panel describes it.
	p.send("\t")
	p.send("i")
	p.waitFor("SHA-256")
	p.send("q")
	if err := p.exited(); err != nil {
		t.Fatalf("exit: %v", err)
	}
}

// TestTUILocalMode: with no server configured, strata runs on an embedded
// store; a second strata on the same data directory attaches to the first
// through its private socket instead of failing on the lock.
func TestTUILocalMode(t *testing.T) {
	data := filepath.Join(t.TempDir(), "first", "run") // made by the first strata
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "local.txt"), []byte("stays local"))
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TERM=xterm-256color"}
	first := startTUI(t, work, env, "--data", data)
	first.waitFor("local " + data)
	first.waitFor("Strata /home/admin")
	first.waitFor("local.txt")
	first.send(" ")
	first.send("u")
	first.waitFor("1/1 done")

	second := startTUI(t, work, env, "--data", data)
	second.waitFor("local " + data)
	second.waitFor("local.txt") // in both panes: uploaded by the first
	// The first process owns the store; the second went through its socket.
	tok, err := os.ReadFile(filepath.Join(data, "local.token"))
	if err != nil || len(tok) == 0 {
		t.Fatalf("owner token: %v", err)
	}
	second.send("q")
	if err := second.exited(); err != nil {
		t.Fatal(err)
	}
	first.send("q")
	if err := first.exited(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "strata.sock")); !os.IsNotExist(err) {
		t.Fatalf("the socket outlived its owner: %v", err)
	}
}

// TestQuickStartInOrder follows README's Quick start in order: the file
// manager first (local mode creates the admin, whose token nobody sees),
// then `strata serve` on the same store, which prints no token but says
// how to get one; the command it gives works on this machine without a
// token, and the token it makes works over HTTP.
func TestQuickStartInOrder(t *testing.T) {
	data := t.TempDir()
	home := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "TERM=xterm-256color"}
	fm := startTUI(t, t.TempDir(), env, "--data", data)
	fm.waitFor("Strata /home/admin")
	fm.send("q")
	if err := fm.exited(); err != nil {
		t.Fatal(err)
	}

	s := startServerEnv(t, data, []string{"STRATA_ADMIN_TOKEN="})
	out := s.out.String()
	if strings.Contains(out, "Created user admin") {
		t.Fatalf("serve bootstrapped a store that has users:\n%s", out)
	}
	m := regexp.MustCompile(`(?m)^\s+(strata .*admin token create --name NAME)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("serve does not say how to get a token:\n%s", out)
	}
	args := strings.Fields(strings.Replace(m[1], "NAME", "laptop", 1))[1:]
	r := runCLI(t, env, t.TempDir(), nil, args...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "strata_") {
		t.Fatalf("strata %s: %+v", strings.Join(args, " "), r)
	}
	token := strings.TrimSpace(r.stdout)
	if u, err := s.client(t, token).Whoami(bg()); err != nil || u.Name != "admin" {
		t.Fatalf("the new token over HTTP: %+v %v", u, err)
	}
	login := append(env, "STRATA_TOKEN="+token)
	if r := runCLI(t, login, t.TempDir(), nil, "login", "--server", s.addr); r.code != 0 {
		t.Fatalf("login: %+v", r)
	}
	if r := runCLI(t, env, t.TempDir(), nil, "mkdir", "over-http"); r.code != 0 {
		t.Fatalf("after login: %+v", r)
	}

	// STRATA_ADMIN_TOKEN on a store with users is said to be unused.
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	s = startServerEnv(t, data, nil)
	if out := s.out.String(); !strings.Contains(out, "STRATA_ADMIN_TOKEN is not used") {
		t.Fatalf("serve with STRATA_ADMIN_TOKEN on a store with users:\n%s", out)
	}
}
