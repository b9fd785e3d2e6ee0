package sshserve_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
	gossh "golang.org/x/crypto/ssh"

	"github.com/strata-storage/strata/sshserve"
)

// terminal is the client's terminal of an SSH session: what the server
// sends is drawn on an emulated screen, which the test reads back.
type terminal struct {
	t      testing.TB
	s      *gossh.Session
	in     io.WriteCloser
	out    io.Reader
	screen *vt.Emulator
	raw    bytes.Buffer // everything the server sent
}

func openTerminal(t testing.TB, cl *gossh.Client, w, h int, env map[string]string) *terminal {
	t.Helper()
	s, err := cl.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range env {
		if err := s.Setenv(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	return &terminal{t: t, s: s, in: in, out: out, screen: vt.NewEmulator(w, h)}
}

// await reads what the server sends until the screen shows want.
func (tm *terminal) await(want string) string {
	tm.t.Helper()
	return tm.awaitScreen(want, func(s string) bool { return strings.Contains(s, want) })
}

// awaitScreen reads what the server sends until the screen is what ok
// wants (what says what that is).
func (tm *terminal) awaitScreen(what string, ok func(screen string) bool) string {
	tm.t.Helper()
	// A watchdog, not a pause: a screen that never comes ends the session.
	stop := time.AfterFunc(20*time.Second, func() { tm.s.Close() })
	defer stop.Stop()
	buf := make([]byte, 32<<10)
	for {
		if s := tm.screen.String(); ok(s) {
			return s
		}
		n, err := tm.out.Read(buf)
		tm.raw.Write(buf[:n])
		tm.screen.Write(buf[:n])
		if err != nil {
			tm.t.Fatalf("the screen never showed %s (%v); it shows:\n%s", what, err, tm.screen.String())
		}
	}
}

func (tm *terminal) keys(s string) {
	tm.t.Helper()
	if _, err := io.WriteString(tm.in, s); err != nil {
		tm.t.Fatal(err)
	}
}

func TestFileManagerOverSSH(t *testing.T) {
	e := newEnv(t, sshserve.Config{Public: "files.example.com:2222"})
	e.put("/home/alice/hello.txt", []byte("hello"))
	e.put("/home/alice/docs/readme.md", []byte("readme"))
	cl := e.login("alice")
	tm := openTerminal(t, cl, 100, 20, map[string]string{"NO_COLOR": "1"})
	screen := tm.await("hello.txt")
	const cmd = "sftp -P 2222 alice@files.example.com:/home/alice"
	for _, want := range []string{cmd + "  (y copies it)", "Strata /home/alice ─", "docs/"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("no %q on the screen:\n%s", want, screen)
		}
	}
	// Both panes are Strata: the right one too.
	if first := strings.Split(screen, "\n")[1]; strings.Count(first, "Strata /home/alice") != 2 {
		t.Fatalf("panes: %q", first)
	}
	// NO_COLOR from the client: no colours.
	if bytes.Contains(tm.raw.Bytes(), []byte("[38;")) {
		t.Fatal("colours were sent to a client that sent NO_COLOR")
	}
	// Nothing local here: u says how to copy files in instead.
	tm.keys("u")
	tm.await("no files of yours are here over SSH")
	// y puts the command on the user's clipboard (OSC 52).
	tm.keys("y")
	tm.await("Copied to your clipboard")
	if osc := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(cmd)); !bytes.Contains(tm.raw.Bytes(), []byte(osc)) {
		t.Fatal("no OSC 52 with the command")
	}
	// Into docs on the left: the header follows the focused folder.
	tm.keys("\r") // folders come first
	tm.await(cmd + "/docs  (y copies it)")
	// With files marked, y copies the scp command that fetches them.
	tm.await("readme.md") // listed: there is something to mark
	tm.keys(" y")
	tm.await("Copied to your clipboard: scp")
	const scp = "scp -P 2222 alice@files.example.com:/home/alice/docs/readme.md ."
	if osc := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(scp)); !bytes.Contains(tm.raw.Bytes(), []byte(osc)) {
		t.Fatalf("no OSC 52 with %q", scp)
	}
	// A resize redraws for the new size.
	if err := tm.s.WindowChange(24, 120); err != nil {
		t.Fatal(err)
	}
	tm.screen.Resize(120, 24)
	tm.awaitScreen("the panes at 60 columns each", func(s string) bool {
		line := strings.Split(s, "\n")[1]
		i := strings.Index(line, "╗╭")
		return i > 0 && len([]rune(line[:i])) == 59
	})
	tm.keys("q")
	if err := tm.s.Wait(); err != nil {
		t.Fatalf("quit: %v", err)
	}
	// The session's token went with it.
	if err := e.srv.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if toks, err := e.d.Identity.ListTokens(t.Context(), e.admin, "alice"); err != nil || len(toks) != 0 {
		t.Fatalf("tokens after the session: %+v, %v", toks, err)
	}
}

// Every session draws for its own terminal: colours for one that has
// them, while another session has none.
func TestFileManagerColoursPerSession(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	cl := e.login("alice")
	plain := openTerminal(t, cl, 80, 20, map[string]string{"NO_COLOR": "1"})
	colour := openTerminal(t, cl, 80, 20, map[string]string{"COLORTERM": "truecolor"})
	plain.await("Strata /home/alice")
	colour.await("Strata /home/alice")
	if bytes.Contains(plain.raw.Bytes(), []byte("[38;")) || !bytes.Contains(colour.raw.Bytes(), []byte("[38;")) {
		t.Fatalf("colours: with NO_COLOR %v, without %v", bytes.Contains(plain.raw.Bytes(), []byte("[38;")), bytes.Contains(colour.raw.Bytes(), []byte("[38;")))
	}
}

// Without a terminal the file manager says how to get one.
func TestFileManagerNeedsATerminal(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	s, err := e.login("alice").NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	s.Stderr = &stderr
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(); err == nil || !strings.Contains(stderr.String(), "needs a terminal") {
		t.Fatalf("%v, %q", err, stderr.String())
	}
}

// A share link made in a session is addressed to the server's web
// address (WebURL), not to the sessions' internal one: a browser opens it.
func TestShareLinkOverSSH(t *testing.T) {
	e := newEnv(t, sshserve.Config{Public: "files.example.com:2222", WebURL: "https://files.example.com:8443"})
	e.put("/home/alice/hello.txt", []byte("hello"))
	tm := openTerminal(t, e.login("alice"), 100, 30, map[string]string{"NO_COLOR": "1"})
	tm.await("hello.txt")
	tm.keys("P")
	tm.await("Share “hello.txt”")
	tm.keys("\r")
	tm.await("https://files.example.com:8443/s/")
}
