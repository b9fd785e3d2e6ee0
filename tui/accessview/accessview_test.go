package accessview

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/strata-storage/strata/tui/pagedlist/pagedlisttest"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/remote/remotetest"
	"github.com/strata-storage/strata/tui/tuitest"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // golden files must not depend on the machine's zone
	os.Exit(m.Run())
}

const projectsRead = `{"Version":"2012-10-17","Statement":[{"Sid":"ReadProjects","Effect":"Allow",` +
	`"Action":["strata:ListFolder","strata:GetFile","strata:ListVersions"],"Resource":["/projects","/projects/*"]}]}`

// server is a fake with an administrator (the caller), bob in the group
// readers, which has the policy projects-read, and carol.
func server(t *testing.T) *remotetest.Fake {
	t.Helper()
	f := remotetest.New()
	f.SetAdmin(true)
	ctx := context.Background()
	f.PutPolicy("projects-read", projectsRead)
	for _, u := range []string{"bob", "carol"} {
		if _, err := f.CreateUser(ctx, u, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.CreateGroup(ctx, "readers"); err != nil {
		t.Fatal(err)
	}
	if err := f.GroupMember(ctx, "readers", "bob", true); err != nil {
		t.Fatal(err)
	}
	if err := f.AttachPolicy(ctx, "projects-read", remote.Target{Group: "readers"}, true); err != nil {
		t.Fatal(err)
	}
	return f
}

// tick reports a tick of a list's spinner, which drain and press drop.
func tick(msg tea.Msg) bool {
	m, ok := msg.(Msg)
	return ok && m.kind == listMsg && isTick(m)
}

func drain(m Model, cmd tea.Cmd) Model { return pagedlisttest.Drain(m, cmd, tick) }

func press(m Model, keys ...string) Model { return pagedlisttest.Press(m, tick, keys...) }

// clipboard keeps what the screen copies.
type clipboard struct{ got []string }

func (c *clipboard) copy(s string) error {
	c.got = append(c.got, s)
	return nil
}

func load(r remote.Remote, clip *clipboard, w, h int) Model {
	var copy func(string) error
	if clip != nil {
		copy = clip.copy
	}
	m := New(context.Background(), tuitest.Styles(), r, copy)
	m.SetSize(w, h)
	return drain(m, m.Init())
}

// view is the screen, checked to fill w×h.
func view(t *testing.T, m Model, w, h int) string {
	t.Helper()
	v := m.View()
	pagedlisttest.CheckFits(t, v, w, h)
	return v
}

func TestGoldenYou(t *testing.T) {
	f := remotetest.New()
	f.PutPolicy("projects-read", projectsRead)
	ctx := context.Background()
	f.SetAdmin(true)
	if err := f.CreateGroup(ctx, "readers"); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		f.GroupMember(ctx, "readers", remotetest.Me, true),
		f.AttachPolicy(ctx, "projects-read", remote.Target{Group: "readers"}, true),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	f.SetAdmin(false)
	f.SetSessionPolicy(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"strata:GetFile","Resource":"*"}}`)
	m := load(f, nil, 80, 24)
	golden.RequireEqual(t, []byte(view(t, m, 80, 24)))
	m = press(m, "G", "enter")
	if v := view(t, m, 80, 24); !strings.Contains(v, "The session policy of this token") || !strings.Contains(v, `"Action": "strata:GetFile"`) {
		t.Errorf("session policy:\n%s", v)
	}
}

func TestGoldenUsers(t *testing.T) {
	m := load(server(t), nil, 80, 24)
	m = press(m, "tab")
	golden.RequireEqual(t, []byte(view(t, m, 80, 24)))
}

func TestGoldenGroupsNarrow(t *testing.T) {
	m := load(server(t), nil, 60, 16)
	m = press(m, "tab", "tab")
	golden.RequireEqual(t, []byte(view(t, m, 60, 16)))
}

func TestGoldenPolicies(t *testing.T) {
	m := load(server(t), nil, 80, 24)
	m = press(m, "shift+tab")
	golden.RequireEqual(t, []byte(view(t, m, 80, 24)))
}

// enter on a policy reads its document, shown whole and indented; c
// copies it.
func TestGoldenDocument(t *testing.T) {
	clip := &clipboard{}
	m := load(server(t), clip, 60, 16)
	m = press(m, "shift+tab", "down", "down", "enter")
	v := view(t, m, 60, 16)
	if !strings.Contains(v, `"Sid": "ReadProjects",`) {
		t.Fatalf("no document:\n%s", v)
	}
	m = press(m, "G", "c")
	if len(clip.got) != 1 || !strings.Contains(clip.got[0], "\n      \"Effect\": \"Allow\",\n") {
		t.Errorf("copied %q", clip.got)
	}
	golden.RequireEqual(t, []byte(view(t, m, 60, 16)))
	m = press(m, "esc")
	if v := view(t, m, 60, 16); !strings.Contains(v, "[Policies]") {
		t.Errorf("esc did not go back to the list:\n%s", v)
	}
}

// A user who is not an administrator sees who they are, and is told in
// words why the other tabs are empty.
func TestNotAnAdministrator(t *testing.T) {
	f := remotetest.New()
	m := load(f, nil, 80, 24)
	v := view(t, m, 80, 24)
	for _, want := range []string{"tester · a user · home /home/tester", "Groups: —", "home", "you", "built-in"} {
		if !strings.Contains(v, want) {
			t.Errorf("no %q:\n%s", want, v)
		}
	}
	for _, tab := range []struct{ name, want string }{
		{"Users", "You may not list the users: it takes strata:ManageUsers"},
		{"Groups", "You may not list the groups: it takes strata:ManageGroups"},
		{"Policies", "You may not list the policies: it takes strata:ManagePolicies"},
	} {
		m = press(m, "tab")
		v := view(t, m, 80, 24)
		if !strings.Contains(strings.ReplaceAll(v, "\n", " "), tab.want) || strings.Contains(v, "retry") {
			t.Errorf("%s: no %q, or a retry offered:\n%s", tab.name, tab.want, v)
		}
	}
	m = press(m, "tab", "enter") // back on You: the home policy's document
	if v := view(t, m, 80, 24); !strings.Contains(v, "HomeContent") || !strings.Contains(v, "Attached to you. Built in.") {
		t.Errorf("no home document:\n%s", v)
	}
}

func users(t *testing.T, f *remotetest.Fake) map[string]remote.User {
	t.Helper()
	us, err := f.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]remote.User{}
	for _, u := range us {
		out[u.Name] = u
	}
	return out
}

// Attach offers the policies not attached yet, detach those attached;
// the list is read again, with the selection kept on the user.
func TestAttachDetach(t *testing.T) {
	f := server(t)
	m := load(f, nil, 80, 24)
	m = press(m, "tab", "a") // bob, the first
	v := view(t, m, 80, 24)
	if !strings.Contains(v, "Attach which policy to “bob”?") || !strings.Contains(v, "1 admin") ||
		!strings.Contains(v, "2 projects-read") || strings.Contains(v, "3 home") {
		t.Fatalf("choice:\n%s", v)
	}
	m = press(m, "2")
	if got := users(t, f)["bob"].Policies; !slices.Equal(got, []string{"home", "projects-read"}) {
		t.Fatalf("bob's policies: %v", got)
	}
	v = view(t, m, 80, 24)
	if !strings.Contains(v, "Attached “projects-read” to “bob”.") || !strings.Contains(v, "› bob") ||
		!strings.Contains(v, "home, projects-read") {
		t.Errorf("after attaching:\n%s", v)
	}
	m = press(m, "d", "enter") // the choice starts on Cancel
	if got := users(t, f)["bob"].Policies; len(got) != 2 || m.users.Dialog() != nil {
		t.Fatalf("enter changed bob's policies (%v), or left the choice open", got)
	}
	m = press(m, "d", "tab", "enter") // the first offered: home
	if got := users(t, f)["bob"].Policies; !slices.Equal(got, []string{"projects-read"}) {
		t.Fatalf("bob's policies after detaching: %v", got)
	}
	// With nothing to offer, it says so and asks nothing.
	m = press(m, "d", "1")
	m = press(m, "d")
	if v := view(t, m, 80, 24); !strings.Contains(v, "No policy is attached to “bob” itself") || m.users.Dialog() != nil {
		t.Errorf("nothing to detach:\n%s", v)
	}
}

// Creating a user asks for the name, then whether an administrator; the
// token is shown once and copied with c.
func TestCreateUser(t *testing.T) {
	f := server(t)
	clip := &clipboard{}
	m := load(f, clip, 80, 24)
	m = press(m, "tab", "n", "d", "a", "v", "e", "enter")
	if v := view(t, m, 80, 24); !strings.Contains(v, "Make “dave” an administrator?") {
		t.Fatalf("no question:\n%s", v)
	}
	m = press(m, "y")
	u, ok := users(t, f)["dave"]
	if !ok || !u.Admin {
		t.Fatalf("dave: %+v %v", u, ok)
	}
	v := view(t, m, 80, 24)
	if !strings.Contains(v, "strata_fake") || !strings.Contains(v, "shown only this once") {
		t.Fatalf("no token:\n%s", v)
	}
	golden.RequireEqual(t, []byte(v))
	m = press(m, "c")
	if len(clip.got) != 1 || !strings.HasPrefix(clip.got[0], "strata_fake") {
		t.Errorf("copied %q", clip.got)
	}
	if v := view(t, m, 80, 24); !strings.Contains(v, "Copied (OSC 52)") {
		t.Errorf("copy not confirmed:\n%s", v)
	}
	m = press(m, "enter")
	if v := view(t, m, 80, 24); strings.Contains(v, "strata_fake") || !strings.Contains(v, "› dave") {
		t.Errorf("after closing the token:\n%s", v)
	}
	// A name taken is asked again, with why.
	m = press(m, "n", "d", "a", "v", "e", "enter", "n")
	if v := view(t, m, 80, 24); !strings.Contains(v, "already exists") || !strings.Contains(v, "New user") {
		t.Errorf("taken name:\n%s", v)
	}
	m = press(m, "esc")
	if m.users.Dialog() != nil {
		t.Error("esc left the dialog open")
	}
}

// Groups: create one, add and remove a member, attach a policy, and
// delete it only when empty, after a question that defaults to no.
func TestGroups(t *testing.T) {
	f := server(t)
	m := load(f, nil, 80, 24)
	m = press(m, "tab", "tab", "n")
	for _, r := range "writers" {
		m = press(m, string(r))
	}
	m = press(m, "enter")
	if v := view(t, m, 80, 24); !strings.Contains(v, "Created the group “writers”.") || !strings.Contains(v, "› writers") {
		t.Fatalf("after creating:\n%s", v)
	}
	m = press(m, "+")
	if v := view(t, m, 80, 24); !strings.Contains(v, "Add which user to the group “writers”?") {
		t.Fatalf("no choice of users:\n%s", v)
	}
	m = press(m, "2") // bob, carol, tester: carol
	gs, _ := f.Groups(context.Background())
	if g := gs[slices.IndexFunc(gs, func(g remote.Group) bool { return g.Name == "writers" })]; !slices.Equal(g.Members, []string{"carol"}) {
		t.Fatalf("members %v", g.Members)
	}
	m = press(m, "x")
	if v := view(t, m, 80, 24); !strings.Contains(v, "still has 1 member and 0 policies") {
		t.Errorf("deleting a group with members:\n%s", v)
	}
	m = press(m, "-", "1", "x", "enter")
	if gs, _ := f.Groups(context.Background()); len(gs) != 3 {
		t.Fatalf("deleted on the default answer: %v", gs)
	}
	m = press(m, "x", "y")
	if gs, _ := f.Groups(context.Background()); len(gs) != 2 {
		t.Fatalf("not deleted: %v", gs)
	}
	if v := view(t, m, 80, 24); !strings.Contains(v, "Deleted the group “writers”.") {
		t.Errorf("after deleting:\n%s", v)
	}
	// A name the server refuses is shown in the dialog, which stays.
	m = press(m, "n", "a", " ", "b", "enter")
	if v := view(t, m, 80, 24); !strings.Contains(v, "use letters") || m.groups.Dialog() == nil {
		t.Errorf("refused name:\n%s", v)
	}
}

// More names than buttons fit are typed, with completion.
func TestPickCompletes(t *testing.T) {
	f := server(t)
	for _, n := range []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"} {
		f.PutPolicy(n, projectsRead)
	}
	m := load(f, nil, 80, 24)
	m = press(m, "tab", "a", "p", "r", "tab") // bob
	if v := view(t, m, 80, 24); !strings.Contains(v, "> projects-read") {
		t.Fatalf("not completed:\n%s", v)
	}
	m = press(m, "enter")
	if got := users(t, f)["bob"].Policies; !slices.Equal(got, []string{"home", "projects-read"}) {
		t.Fatalf("bob's policies: %v", got)
	}
}

// A change the server refuses leaves the choice open, saying why at
// length; esc closes it and nothing changed.
func TestRefusalInTheChoice(t *testing.T) {
	f := server(t)
	m := load(f, nil, 60, 16)
	m = press(m, "tab", "tab", "-", "1") // the admins group: tester, its only member
	v := view(t, m, 60, 16)
	if !strings.Contains(v, "last admin stays an admin") || m.groups.Dialog() == nil {
		t.Fatalf("refusal not in the choice:\n%s", v)
	}
	m = press(m, "esc")
	if m.groups.Dialog() != nil {
		t.Error("esc left the choice open")
	}
	if gs, _ := f.Groups(context.Background()); !slices.Equal(gs[0].Members, []string{remotetest.Me}) {
		t.Errorf("admins: %v", gs[0].Members)
	}
}

// answer is an error in the shape of the client's: the server's own
// words, and a code and request ID for logs.
type answer struct{}

func (answer) Error() string   { return "in use: the last admin stays (conflict, request 1234)" }
func (answer) Message() string { return "in use: the last admin stays" }

func TestExplain(t *testing.T) {
	forbidden := fmt.Errorf("%w: %w", remote.ErrForbidden, answer{})
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{forbidden, "You may not list the users: it takes strata:ManageUsers, which administrators (the admins group) have."},
		{fmt.Errorf("wrapped: %w", answer{}), "list the users: in use: the last admin stays"},
		{fmt.Errorf("%w: dial", remote.ErrUnavailable), "list the users: server unavailable: dial"},
	} {
		err := explain(tc.err, "list the users", "strata:ManageUsers")
		if got := fmt.Sprint(err); err != nil && got != tc.want || err == nil && tc.want != "" {
			t.Errorf("%v: %q, want %q", tc.err, got, tc.want)
		}
		if tc.err != nil && !errors.Is(err, tc.err) {
			t.Errorf("%v: the cause is lost", tc.err)
		}
	}
}
