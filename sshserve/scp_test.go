package sshserve_test

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/strata-storage/strata/sshserve"
)

// scpPeer speaks the client's side of the legacy scp protocol.
type scpPeer struct {
	t   *testing.T
	s   *gossh.Session
	in  io.WriteCloser
	out *bufio.Reader
}

func startSCP(t *testing.T, cl *gossh.Client, cmd string) *scpPeer {
	t.Helper()
	s, err := cl.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Start(cmd); err != nil {
		t.Fatal(err)
	}
	return &scpPeer{t: t, s: s, in: in, out: bufio.NewReader(out)}
}

func (p *scpPeer) send(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, s); err != nil {
		p.t.Fatal(err)
	}
}

// answer reads the other side's answer: "" for yes, else its message.
func (p *scpPeer) answer() string {
	p.t.Helper()
	b, err := p.out.ReadByte()
	if err != nil {
		p.t.Fatalf("no answer: %v", err)
	}
	if b == 0 {
		return ""
	}
	line, _ := p.out.ReadString('\n')
	return string(rune('0'+b)) + line
}

// next says yes to what came before and takes the next line, which must
// be want.
func (p *scpPeer) next(want string) {
	p.t.Helper()
	p.send("\x00")
	if l := p.line(); l != want {
		p.t.Fatalf("got %q, want %q", l, want)
	}
}

func (p *scpPeer) ok() {
	p.t.Helper()
	if a := p.answer(); a != "" {
		p.t.Fatalf("refused: %q", a)
	}
}

func (p *scpPeer) line() string {
	p.t.Helper()
	l, err := p.out.ReadString('\n')
	if err != nil {
		p.t.Fatalf("read a line: %v", err)
	}
	return l
}

func (p *scpPeer) wait() error {
	p.in.Close()
	return p.s.Wait()
}

func TestSCPLegacy(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	cl := e.login("alice")

	// Into the home folder (scp -O -r a.txt dir alice@host:), -r.
	p := startSCP(t, cl, "scp -r -t .")
	p.ok()
	p.send("T1700000000 0 1700000000 0\n")
	p.ok()
	p.send("C0644 5 a.txt\n")
	p.ok()
	p.send("hello\x00")
	p.ok()
	p.send("D0755 0 dir\n")
	p.ok()
	p.send("C0600 3 b.txt\n")
	p.ok()
	p.send("abc\x00")
	p.ok()
	p.send("E\n")
	p.ok()
	if err := p.wait(); err != nil {
		t.Fatal(err)
	}
	if string(e.stored("/home/alice/a.txt")) != "hello" || string(e.stored("/home/alice/dir/b.txt")) != "abc" {
		t.Fatal("not stored")
	}

	// One file under another name.
	p = startSCP(t, cl, "scp -t renamed.txt")
	p.ok()
	p.send("C0644 2 original.txt\n")
	p.ok()
	p.send("hi\x00")
	p.ok()
	if err := p.wait(); err != nil {
		t.Fatal(err)
	}
	if string(e.stored("/home/alice/renamed.txt")) != "hi" || e.stored("/home/alice/original.txt") != nil {
		t.Fatal("a file sent to a new name")
	}

	// Out again, recursively.
	p = startSCP(t, cl, "scp -r -f dir")
	p.next("D0755 0 dir\n")
	p.next("C0644 3 b.txt\n")
	p.send("\x00")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(p.out, buf); err != nil || string(buf) != "abc\x00" {
		t.Fatalf("content %q, %v", buf, err)
	}
	p.next("E\n")
	p.send("\x00")
	if err := p.wait(); err != nil {
		t.Fatal(err)
	}

	// A bad name is refused (policies: TestSCPRefusedWriteNamesIt).
	p = startSCP(t, cl, "scp -t .")
	p.ok()
	p.send("C0644 2 ../escape\n")
	if a := p.answer(); !strings.HasPrefix(a, "2") {
		t.Fatalf("a bad name: %q", a)
	}
	p.wait()
	p = startSCP(t, cl, "scp -t .")
	p.ok()
	p.send("C0644 2 small\n")
	p.ok()
	p.send("no\x00")
	if a := p.answer(); a != "" {
		t.Fatalf("%q", a)
	}
	p.wait()

	// A connection that drops mid-file stores nothing.
	p = startSCP(t, cl, "scp -t .")
	p.ok()
	p.send("C0644 1000000 dropped.bin\n")
	p.ok()
	p.send(strings.Repeat("x", 500000))
	cl.Close()
	_ = p.wait() // the connection is gone
	if err := e.srv.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if b := e.stored("/home/alice/dropped.bin"); b != nil || !bytes.Equal(e.stored("/home/alice/small"), []byte("no")) {
		t.Fatalf("after a dropped scp: %d bytes", len(b))
	}
}

// scp -p: a file takes the modification time of the T line before it
// (only the file it comes before), and files sent with -p come with
// theirs; a malformed T line is refused.
func TestSCPPreservesTimes(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	cl := e.login("alice")
	p := startSCP(t, cl, "scp -p -r -t .")
	p.ok()
	p.send("T1300000000 250000 1700000000 0\n")
	p.ok()
	p.send("C0644 5 a.txt\n")
	p.ok()
	p.send("hello\x00")
	p.ok()
	p.send("C0644 2 b.txt\n") // no T line: now
	p.ok()
	p.send("hi\x00")
	p.ok()
	if err := p.wait(); err != nil {
		t.Fatal(err)
	}
	want := time.Unix(1300000000, 250000_000)
	if got := e.storedTime("/home/alice/a.txt"); !got.Equal(want) {
		t.Fatalf("a.txt: %s, want %s", got, want)
	}
	if got := e.storedTime("/home/alice/b.txt"); got.Equal(want) || time.Since(got) > time.Hour {
		t.Fatalf("b.txt took %s", got)
	}

	p = startSCP(t, cl, "scp -p -f a.txt")
	p.next("T1300000000 0 1300000000 0\n")
	p.next("C0644 5 a.txt\n")
	p.send("\x00")
	buf := make([]byte, 6)
	if _, err := io.ReadFull(p.out, buf); err != nil || string(buf) != "hello\x00" {
		t.Fatalf("content %q, %v", buf, err)
	}
	p.send("\x00")
	if err := p.wait(); err != nil {
		t.Fatal(err)
	}

	p = startSCP(t, cl, "scp -p -t .")
	p.ok()
	p.send("T-5 0 0 0\n")
	if a := p.answer(); !strings.HasPrefix(a, "2") || !strings.Contains(a, "malformed times") {
		t.Fatalf("a bad T line: %q", a)
	}
	p.wait()
}

// A write scp -O may not make is refused as the write it is, though the
// user may not look at the target either, and nothing is stored.
func TestSCPRefusedWriteNamesIt(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	cl := e.login("alice")
	for _, tc := range []struct{ cmd, stored string }{
		{"scp -t /home/bob/x.txt", "/home/bob/x.txt"},
		{"scp -t /home/bob", "/home/bob/x.txt"},
		{"scp -d -t /home/bob", "/home/bob/x.txt"},
		{"scp -t /home/bob/", "/home/bob/x.txt"},
	} {
		p := startSCP(t, cl, tc.cmd)
		refusal := p.answer()
		if refusal == "" {
			p.send("C0644 2 x.txt\n")
			if refusal = p.answer(); refusal == "" {
				p.send("hi\x00")
				refusal = p.answer()
			}
		}
		p.wait()
		if !strings.HasPrefix(refusal, "1scp:") || !strings.Contains(refusal, "PutFile") || strings.Contains(refusal, "GetFile") {
			t.Errorf("%s: refused with %q, want the write named", tc.cmd, refusal)
		}
		if e.stored(tc.stored) != nil {
			t.Errorf("%s: stored", tc.cmd)
		}
	}
}
