package shareview

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/strata-storage/strata/tui/pagedlist/pagedlisttest"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/remote/remotetest"
	"github.com/strata-storage/strata/tui/tuitest"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // golden files must not depend on the machine's zone
	os.Exit(m.Run())
}

// clipboard keeps what the screen copies.
type clipboard struct{ got []string }

func (c *clipboard) copy(s string) error { c.got = append(c.got, s); return nil }

// driver runs a screen synchronously, keeping its closing message.
type driver struct {
	t      *testing.T
	m      Model
	closed *ClosedMsg
}

func (d *driver) run(cmd tea.Cmd) {
	tuitest.Run(cmd, func(msg tea.Msg) tea.Cmd {
		switch msg := msg.(type) {
		case ClosedMsg:
			d.closed = &msg
			return nil
		case Msg:
			if msg.kind == listMsg && msg.list.IsTick() {
				return nil
			}
		}
		var next tea.Cmd
		d.m, next = d.m.Update(msg)
		return next
	})
}

func (d *driver) press(keys ...string) {
	for _, k := range keys {
		var cmd tea.Cmd
		d.m, cmd = d.m.Update(tuitest.Key(k))
		d.run(cmd)
	}
}

func (d *driver) typeText(s string) {
	for _, r := range s {
		d.press(string(r))
	}
}

func (d *driver) view() string { return ansi.Strip(d.m.View()) }

func start(t *testing.T, f *remotetest.Fake, c *clipboard, w, h int) *driver {
	t.Helper()
	m := New(context.Background(), tuitest.Styles(), f, c.copy)
	m.SetNow(func() time.Time { return f.Now })
	m.SetSize(w, h)
	d := &driver{t: t, m: m}
	d.run(d.m.Init())
	return d
}

func share(t *testing.T, f *remotetest.Fake, c *clipboard, targets ...Target) *driver {
	t.Helper()
	m := NewShare(context.Background(), tuitest.Styles(), f, c.copy, targets)
	m.SetNow(func() time.Time { return f.Now })
	m.SetSize(80, 23)
	d := &driver{t: t, m: m}
	d.run(d.m.Init())
	return d
}

// shared is a fake with links of every kind and shares with a user and a
// group.
func shared(t *testing.T) *remotetest.Fake {
	t.Helper()
	f := remotetest.New()
	ctx := context.Background()
	f.PutFile("/home/tester/report.pdf", []byte("pdf"))
	f.PutFile("/home/tester/old.txt", []byte("old"))
	f.MkdirAll("/home/tester/inbox")
	f.MkdirAll("/home/tester/team")
	if _, err := f.CreateUser(ctx, "bob", false); err != nil {
		f.SetAdmin(true)
		if _, err := f.CreateUser(ctx, "bob", false); err != nil {
			t.Fatal(err)
		}
		if err := f.CreateGroup(ctx, "eng"); err != nil {
			t.Fatal(err)
		}
		f.SetAdmin(false)
	}
	week := f.Now.Add(7 * 24 * time.Hour)
	day := f.Now.Add(24 * time.Hour)
	l, err := f.CreateLink(ctx, remote.LinkRequest{Path: "/home/tester/report.pdf", Expires: &week, Password: "pw", MaxDownloads: 10})
	if err != nil {
		t.Fatal(err)
	}
	f.AddDownloads(l.ID, 3)
	if _, err := f.CreateLink(ctx, remote.LinkRequest{Path: "/home/tester/inbox", Mode: "upload"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CreateLink(ctx, remote.LinkRequest{Path: "/home/tester/report.pdf", Expires: &day}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.AddOldLink(ctx, remote.LinkRequest{Path: "/home/tester/old.txt"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ShareWith(ctx, remote.ShareRequest{Path: "/home/tester/team", User: "bob", Write: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ShareWith(ctx, remote.ShareRequest{Path: "/home/tester/team", Group: "eng"}); err != nil {
		t.Fatal(err)
	}
	f.Advance(2 * 24 * time.Hour) // the one-day link has expired
	return f
}

func TestGoldenShares(t *testing.T) {
	f := shared(t)
	m := New(context.Background(), tuitest.Styles(), f, nil)
	m.SetNow(func() time.Time { return f.Now })
	tm := pagedlisttest.Start[ClosedMsg](t, m, 80, 24)
	pagedlisttest.WaitFor(t, tm, "6 shares", "old.txt")
	h := pagedlisttest.Finish[ClosedMsg, Model](t, tm, true)
	pagedlisttest.CheckFits(t, h.View(), 80, 24)
	teatest.RequireEqualOutput(t, []byte(h.View()))
}

func TestStates(t *testing.T) {
	f := shared(t)
	d := start(t, f, &clipboard{}, 120, 24)
	v := d.view()
	for _, want := range []string{
		"expires in 5d", "password · 7/10 left", // the week's link, two days on
		"never expires", "upload-only", // the drop folder
		"expired", // the day's link
		"user bob", "read-write", "group eng", "read-only",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("the screen lacks %q:\n%s", want, v)
		}
	}
}

func TestRevoke(t *testing.T) {
	f := shared(t)
	d := start(t, f, &clipboard{}, 100, 24)
	// The first rows are the user shares; then the links, oldest first.
	d.press("down", "down") // the report's first link
	d.press("D")
	if !strings.Contains(d.view(), "Revoke the link to “report.pdf”?") {
		t.Fatalf("no confirmation:\n%s", d.view())
	}
	d.press("enter") // No is the default
	d.press("D", "esc")
	d.press("D", "n")
	if got := len(f.LinkList()); got != 4 {
		t.Fatalf("%d links after three no's", got)
	}
	d.press("D", "y")
	if got := len(f.LinkList()); got != 3 {
		t.Fatalf("%d links after revoking one", got)
	}
	if v := d.view(); !strings.Contains(v, "Revoked.") || strings.Contains(v, "7/10") {
		t.Errorf("after revoking:\n%s", v)
	}
	// A share with a user.
	d.press("home", "D")
	if !strings.Contains(d.view(), "Stop sharing “team” with user bob?") {
		t.Fatalf("no confirmation:\n%s", d.view())
	}
	d.press("y")
	us, _ := f.UserShares(context.Background())
	if len(us) != 1 || us[0].Group != "eng" {
		t.Errorf("user shares after revoking bob's: %+v", us)
	}
	// A refusal is shown, and the row stays.
	f.Fail("RevokeLink", remote.ErrForbidden)
	d.press("end", "D", "y")
	if v := d.view(); !strings.Contains(v, "forbidden") || !strings.Contains(v, "old.txt") {
		t.Errorf("refused revoke:\n%s", v)
	}
	d.press("q")
	if d.closed == nil || !d.closed.Changed {
		t.Errorf("closed: %+v", d.closed)
	}
}

// qrOf reads the QR code drawn in a view back.
func qrOf(t *testing.T, view string) string {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(view, "\n") {
		if strings.ContainsAny(l, "█▀▄") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		t.Fatalf("no QR code drawn:\n%s", view)
	}
	// Cut the lines at the box: the code is the run of block and space
	// cells after the border and padding ("│ ").
	var code []string
	for _, l := range lines {
		r := []rune(l)
		start := 0
		for start < len(r) && r[start] != '│' {
			start++
		}
		start += 2
		end := start
		for end < len(r) && strings.ContainsRune("█▀▄ ", r[end]) {
			end++
		}
		code = append(code, string(r[start:end]))
	}
	w := 0
	for _, l := range code {
		w = max(w, len([]rune(l)))
	}
	for i, l := range code {
		code[i] = l + strings.Repeat(" ", w-len([]rune(l)))
	}
	return decodeLines(t, code)
}

func TestCopyAgain(t *testing.T) {
	f := shared(t)
	c := &clipboard{}
	d := start(t, f, c, 80, 23)
	d.press("down", "down", "c")
	want, err := f.RevealLink(context.Background(), f.LinkList()[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.got) != 1 || c.got[0] != want.URL {
		t.Fatalf("copied %q, want %q", c.got, want.URL)
	}
	v := d.view()
	if !strings.Contains(v, "Copied (OSC 52)") || !strings.Contains(v, "Link to “report.pdf”") {
		t.Errorf("the box:\n%s", v)
	}
	if got := qrOf(t, v); got != want.URL {
		t.Errorf("the QR code reads %q, want %q", got, want.URL)
	}
	pagedlisttest.CheckFits(t, d.m.View(), 80, 23)
	d.press("c") // again
	if len(c.got) != 2 {
		t.Errorf("copied %d times", len(c.got))
	}
	d.press("esc")
	if strings.Contains(d.view(), "Copied") || d.closed != nil {
		t.Errorf("esc did not close the box only:\n%s", d.view())
	}
	// A link made before URLs were kept says so; nothing is copied.
	d.press("end", "c")
	if v := d.view(); !strings.Contains(v, "cannot be shown again") || len(c.got) != 2 {
		t.Errorf("old link:\n%s", v)
	}
	// A share with a user has no link.
	d.press("home", "enter")
	if v := d.view(); !strings.Contains(v, "has no link") || len(c.got) != 2 {
		t.Errorf("user share:\n%s", v)
	}
	// Too small a window for the code says so.
	d.press("down", "down", "c")
	d.m.SetSize(60, 16)
	if v := d.view(); !strings.Contains(v, "a bigger window shows a QR code") || strings.ContainsAny(v, "█▀▄") {
		t.Errorf("small window:\n%s", v)
	}
	d.press("enter")
	if d.closed != nil {
		t.Errorf("closing the box closed the screen")
	}
}

func TestShareDefaults(t *testing.T) {
	f := shared(t)
	before := len(f.LinkList())
	c := &clipboard{}
	d := share(t, f, c, Target{Path: "/home/tester/report.pdf", Name: "report.pdf"})
	v := d.view()
	for _, want := range []string{"Share “report.pdf”", "(•) a link", "Expires:", "7d", "Password:", "Downloads:"} {
		if !strings.Contains(v, want) {
			t.Errorf("the dialog lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "Upload only") {
		t.Errorf("a file's dialog offers upload-only")
	}
	d.press("enter")
	links := f.LinkList()
	if len(links) != before+1 {
		t.Fatalf("%d links", len(links))
	}
	l := links[len(links)-1]
	if l.Expires == nil || !l.Expires.Equal(f.Now.Add(7*24*time.Hour)) || l.Password || l.MaxDownloads != 0 || l.Mode != "read" {
		t.Errorf("made %+v", l)
	}
	if len(c.got) != 1 || !strings.HasPrefix(c.got[0], "https://strata.example/s/") {
		t.Errorf("copied %q", c.got)
	}
	if got := qrOf(t, d.view()); got != c.got[0] {
		t.Errorf("QR %q, want %q", got, c.got[0])
	}
	d.press("enter")
	if d.closed == nil || !d.closed.Changed {
		t.Errorf("closed %+v", d.closed)
	}
}

func TestShareCancel(t *testing.T) {
	for _, keys := range [][]string{{"esc"}, {"tab", "tab", "p", "w", "esc"}} {
		f := shared(t)
		before := len(f.LinkList())
		d := share(t, f, &clipboard{}, Target{Path: "/home/tester/report.pdf", Name: "report.pdf"})
		d.press(keys...)
		if d.closed == nil || d.closed.Changed || len(f.LinkList()) != before {
			t.Errorf("%v: closed %+v, %d links", keys, d.closed, len(f.LinkList()))
		}
	}
}

func TestShareFields(t *testing.T) {
	f := shared(t)
	before := len(f.LinkList())
	c := &clipboard{}
	d := share(t, f, c, Target{Path: "/home/tester/inbox", Name: "inbox", Dir: true})
	// Expires: a wrong answer is shown at its field, and nothing is made.
	d.press("tab", "ctrl+u")
	d.typeText("soon")
	d.press("enter")
	if v := d.view(); !strings.Contains(v, "Expires:") || !strings.Contains(v, "want a lifetime") || len(f.LinkList()) != before {
		t.Fatalf("bad expiry:\n%s", v)
	}
	d.press("ctrl+u")
	d.typeText("never")
	// Password: masked.
	d.press("tab")
	d.typeText("s3cret-pass")
	if v := d.view(); strings.Contains(v, "s3cret") || !strings.Contains(v, "•••") {
		t.Errorf("the password shows:\n%s", v)
	}
	// Downloads: a number.
	d.press("tab")
	d.typeText("x")
	d.press("enter")
	if v := d.view(); !strings.Contains(v, "a number of downloads") {
		t.Fatalf("bad limit:\n%s", v)
	}
	d.press("backspace")
	d.typeText("5")
	// Upload only, for a folder.
	d.press("tab", " ")
	if !strings.Contains(d.view(), "[x] drop files in") {
		t.Fatalf("upload-only not ticked:\n%s", d.view())
	}
	// The server refuses: the dialog stays, with why.
	f.Fail("CreateLink", errors.New("invalid request: the password is too short"))
	d.press("enter")
	if v := d.view(); !strings.Contains(v, "too short") || d.closed != nil {
		t.Fatalf("refused:\n%s", v)
	}
	f.Fail("CreateLink", nil)
	d.press("enter")
	links := f.LinkList()
	if len(links) != before+1 {
		t.Fatalf("%d links", len(links))
	}
	l := links[len(links)-1]
	if l.Expires != nil || !l.Password || l.MaxDownloads != 5 || l.Mode != "upload" {
		t.Errorf("made %+v", l)
	}
	if !strings.Contains(d.view(), "upload-only") {
		t.Errorf("the box:\n%s", d.view())
	}
	d.press("q")
	if d.closed == nil || !d.closed.Changed {
		t.Errorf("closed %+v", d.closed)
	}
}

func TestShareWithUsers(t *testing.T) {
	f := shared(t)
	d := share(t, f, &clipboard{}, Target{Path: "/home/tester/report.pdf", Name: "report.pdf"},
		Target{Path: "/home/tester/old.txt", Name: "old.txt"})
	if !strings.Contains(d.view(), "Share 2 items") {
		t.Errorf("title:\n%s", d.view())
	}
	d.press(" ") // users and groups
	if v := d.view(); !strings.Contains(v, "(•) users and groups") || !strings.Contains(v, "Users:") || strings.Contains(v, "Expires:") {
		t.Fatalf("kind:\n%s", v)
	}
	d.press("enter")
	if v := d.view(); !strings.Contains(v, "name a user or a group") {
		t.Fatalf("no names:\n%s", v)
	}
	d.typeText("bob")
	d.press("tab")
	d.typeText("eng")
	d.press("tab", " ", "enter")
	if d.closed == nil || !d.closed.Changed {
		t.Fatalf("closed %+v:\n%s", d.closed, d.view())
	}
	us, _ := f.UserShares(context.Background())
	got := map[string]bool{}
	for _, u := range us {
		got[u.Path+" "+u.User+u.Group+" "+map[bool]string{true: "rw", false: "ro"}[u.Write]] = true
	}
	for _, want := range []string{"/home/tester/report.pdf bob rw", "/home/tester/report.pdf eng rw", "/home/tester/old.txt bob rw", "/home/tester/old.txt eng rw"} {
		if !got[want] {
			t.Errorf("no share %q in %v", want, got)
		}
	}
}

// The expiry offered (7d) is a suggestion: typing replaces it rather than
// making "7d30d".
func TestShareExpiryTypedOver(t *testing.T) {
	f := shared(t)
	c := &clipboard{}
	d := share(t, f, c, Target{Path: "/home/tester/report.pdf", Name: "report.pdf"})
	d.press("tab")
	d.typeText("30d")
	d.press("enter")
	links := f.LinkList()
	l := links[len(links)-1]
	if l.Expires == nil || !l.Expires.Equal(f.Now.Add(30*24*time.Hour)) {
		t.Fatalf("made %+v (the box:\n%s)", l, d.view())
	}
}

// What is left of a link is said to the nearest unit: a week's link says
// 7d right after it was made, not 6d.
func TestLeftRounds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		7*24*time.Hour - time.Second:  "7d",
		5 * 24 * time.Hour:            "5d",
		4*24*time.Hour + 11*time.Hour: "4d",
		47*time.Hour + 59*time.Minute: "48h",
		90 * time.Minute:              "2h",
		30 * time.Second:              "under a minute",
	} {
		if got := left(d); got != want {
			t.Errorf("left(%v) = %q, want %q", d, got, want)
		}
	}
}
