package tui

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/remote/remotetest"
)

const readDoc = `{"Version":"2012-10-17","Statement":[{"Sid":"ReadProjects","Effect":"Allow",` +
	`"Action":["strata:ListFolder","strata:GetFile"],"Resource":["/projects","/projects/*"]}]}`

// clip is a clipboard that keeps what the app copies.
type clip struct {
	mu  sync.Mutex
	got []string
}

func (c *clip) copy(s string) error {
	c.mu.Lock()
	c.got = append(c.got, s)
	c.mu.Unlock()
	return nil
}

func (c *clip) copied() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// newAdminHarness is the app of an administrator on a server with bob,
// the group readers and the policy projects-read; c gets what is copied.
func newAdminHarness(t *testing.T, c *clip) *harness {
	t.Helper()
	h := newHarness(t, func(o *Options) { o.Clipboard = c.copy })
	f, ctx := h.fake, context.Background()
	f.SetAdmin(true)
	f.PutPolicy("projects-read", readDoc)
	if _, err := f.CreateUser(ctx, "bob", false); err != nil {
		t.Fatal(err)
	}
	if err := f.CreateGroup(ctx, "readers"); err != nil {
		t.Fatal(err)
	}
	return h
}

func userNamed(t *testing.T, f *remotetest.Fake, name string) (remote.User, bool) {
	t.Helper()
	us, err := f.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Name == name {
			return u, true
		}
	}
	return remote.User{}, false
}

func groupNamed(t *testing.T, f *remotetest.Fake, name string) (remote.Group, bool) {
	t.Helper()
	gs, err := f.Groups(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		if g.Name == name {
			return g, true
		}
	}
	return remote.Group{}, false
}

// Everyone sees who they are; a user who is not an administrator is told
// why the users are not shown; q goes back to the panes.
func TestAppAccessNotAdmin(t *testing.T) {
	h := newHarness(t)
	h.press("A")
	h.waitFor("tester · a user · home /home/tester")
	h.press("tab")
	h.waitFor("You may not list the users")
	h.press("shift+tab", "enter")
	h.waitFor("HomeContent")
	h.press("esc", "q")
	h.waitShown("report.txt") // the screen closed
	if v := h.final(); strings.Contains(v, "Access") || !strings.Contains(v, "report.txt") {
		t.Fatalf("not back on the panes:\n%s", v)
	}
}

// The new user's questions get their answers through the app, whichever
// way they are answered: the name (enter, esc), then administrator or not
// (y, n, enter: no, esc: no user at all).
func TestAppAccessNewUser(t *testing.T) {
	for _, tc := range []struct {
		answer      string
		made, admin bool
	}{
		{"y", true, true},
		{"n", true, false},
		{"enter", true, false},
		{"esc", false, false},
	} {
		t.Run(tc.answer, func(t *testing.T) {
			c := &clip{}
			h := newAdminHarness(t, c)
			h.press("A", "tab")
			h.waitFor("bob")
			h.press("n")
			h.waitFor("New user")
			h.tm.Type("carol")
			h.press("enter")
			h.waitFor("an administrator?")
			h.press(tc.answer)
			h.waitGone("an administrator?")
			if tc.made {
				h.waitFor("shown only this once")
				h.press("c")
				h.waitFor("Copied (OSC 52)") // said once the clipboard took it
				if got := c.copied(); len(got) != 1 || !strings.HasPrefix(got[0], "strata_fake") {
					t.Errorf("copied %q", got)
				}
				h.press("enter")
			}
			v := h.final()
			u, ok := userNamed(t, h.fake, "carol")
			if ok != tc.made || u.Admin != tc.admin {
				t.Fatalf("carol: %+v, made %v; want made %v, admin %v", u, ok, tc.made, tc.admin)
			}
			if strings.Contains(v, "shown only this once") || strings.Contains(v, "an administrator?") {
				t.Errorf("a box stayed open:\n%s", v)
			}
		})
	}
	t.Run("esc on the name", func(t *testing.T) {
		h := newAdminHarness(t, &clip{})
		h.press("A", "tab")
		h.waitFor("bob")
		h.press("n")
		h.waitFor("New user")
		h.tm.Type("carol")
		h.press("esc")
		h.waitGone("New user")
		v := h.final()
		if _, ok := userNamed(t, h.fake, "carol"); ok || strings.Contains(v, "New user") {
			t.Fatalf("carol made, or the dialog stayed:\n%s", v)
		}
	})
}

// The choice of a policy to attach starts on Cancel: enter takes nothing
// until tab moves to a policy; a digit takes its policy, esc nothing; y
// and n choose nothing (the dialog stays until esc).
func TestAppAccessAttach(t *testing.T) {
	for _, tc := range []struct {
		keys []string
		want []string
	}{
		{[]string{"enter"}, []string{"home"}},
		{[]string{"tab", "enter"}, []string{"admin", "home"}},
		{[]string{"2"}, []string{"home", "projects-read"}},
		{[]string{"esc"}, []string{"home"}},
		{[]string{"y", "n", "esc"}, []string{"home"}},
	} {
		t.Run(strings.Join(tc.keys, ","), func(t *testing.T) {
			h := newAdminHarness(t, &clip{})
			h.press("A", "tab")
			h.waitFor("bob")
			h.press("a") // bob, the first
			h.waitFor("Attach which policy to “bob”?")
			h.press(tc.keys...)
			h.waitGone("Attach which policy")
			if len(tc.want) > 1 {
				h.waitFor("Attached")
			}
			v := h.final()
			if u, _ := userNamed(t, h.fake, "bob"); !slices.Equal(u.Policies, tc.want) {
				t.Fatalf("bob's policies %v, want %v\n%s", u.Policies, tc.want, v)
			}
			if strings.Contains(v, "Attach which policy") {
				t.Errorf("the dialog stayed open:\n%s", v)
			}
		})
	}
}

// Put in a group from the Users tab, then taken out from the Groups tab;
// a group is made there and deleted after a question that defaults to
// no.
func TestAppAccessGroups(t *testing.T) {
	h := newAdminHarness(t, &clip{})
	h.press("A", "tab")
	h.waitFor("bob")
	h.press("+")
	h.waitFor("Put “bob” in which group?")
	h.press("2") // admins, readers
	h.waitFor("Put “bob” in the group “readers”.")
	if g, _ := groupNamed(t, h.fake, "readers"); !slices.Equal(g.Members, []string{"bob"}) {
		t.Fatalf("readers: %v", g.Members)
	}
	off := h.drawn()
	h.press("tab")
	h.waitForSince(off, "2 groups") // loaded: keys before it find no group
	h.press("j", "-")
	h.waitFor("Take which member out of the group “readers”?")
	h.press("1")
	h.waitFor("Took “bob” out of the group “readers”.")
	if g, _ := groupNamed(t, h.fake, "readers"); len(g.Members) != 0 {
		t.Fatalf("readers: %v", g.Members)
	}
	h.press("n")
	h.waitFor("New group")
	h.tm.Type("writers")
	h.press("enter")
	h.waitFor("Created the group “writers”.")
	h.waitShown("› writers") // reloaded, on the new group
	for _, answer := range []string{"enter", "n", "esc"} {
		off := h.drawn()
		h.press("x")
		h.waitForSince(off, "Delete the group “writers”?")
		h.press(answer)
		h.waitGone("Delete the group")
		// The question closed: the keys move the selection again.
		off = h.drawn()
		h.press("k")
		h.waitForSince(off, "› readers")
		h.press("j")
		h.waitForSince(off, "› writers")
	}
	if _, ok := groupNamed(t, h.fake, "writers"); !ok {
		t.Fatal("deleted without a yes")
	}
	h.press("x")
	h.waitFor("Delete the group “writers”?")
	h.press("y")
	h.waitFor("Deleted the group “writers”.")
	if _, ok := groupNamed(t, h.fake, "writers"); ok {
		t.Fatal("not deleted")
	}
	h.final()
}

// A policy's document is read from the Policies tab; with more policies
// than buttons, the name is typed and tab completes it (the completion
// reaches the dialog through the app).
func TestAppAccessPolicies(t *testing.T) {
	h := newAdminHarness(t, &clip{})
	for _, n := range []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"} {
		h.fake.PutPolicy(n, readDoc)
	}
	h.press("A", "shift+tab")
	h.waitFor("projects-read")
	h.press("G", "enter")
	h.waitFor(`"Sid": "ReadProjects"`)
	off := h.drawn()
	h.press("esc", "h", "h") // back to the list, then to Users
	h.waitForSince(off, "2 users")
	h.press("a")
	h.waitFor("Attach which policy to “bob”?")
	h.tm.Type("pr")
	h.press("tab")
	h.waitFor("> projects-read")
	h.press("enter")
	h.waitFor("Attached “projects-read” to “bob”.")
	if u, _ := userNamed(t, h.fake, "bob"); !slices.Equal(u.Policies, []string{"home", "projects-read"}) {
		t.Fatalf("bob's policies %v", u.Policies)
	}
	h.final()
}
