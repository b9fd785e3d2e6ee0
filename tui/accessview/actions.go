package accessview

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/remote"
)

// Dialog IDs, for the dialogs this screen opens.
const (
	newUserDialog  = "access.new-user"
	adminDialog    = "access.new-user.admin"
	newGroupDialog = "access.new-group"
	attachDialog   = "access.attach"
	detachDialog   = "access.detach"
	joinDialog     = "access.join"
	leaveDialog    = "access.leave"
	deleteDialog   = "access.delete-group"
)

// op is what a dialog, and the change it leads to, is about.
type op struct {
	tab   tab
	id    string   // the dialog's
	user  string   // the user (the Users tab), or the new user's name
	group string   // the group (the Groups tab)
	names []string // what a choice offers
}

// who names what the op changes, for questions and messages.
func (o op) who() string {
	if o.tab == tabGroups {
		return "the group " + dialog.Quote(o.group)
	}
	return dialog.Quote(o.user)
}

// keep is the name of the item the op changes, for the selection to stay
// on it.
func (o op) keep() string {
	if o.tab == tabGroups {
		return o.group
	}
	return o.user
}

// ask is a choice's title and question.
func (o op) ask() (title, question string) {
	switch o.id {
	case attachDialog:
		return "Attach a policy", "Attach which policy to " + o.who() + "?"
	case detachDialog:
		return "Detach a policy", "Detach which policy from " + o.who() + "?"
	case joinDialog:
		if o.tab == tabGroups {
			return "Add a member", "Add which user to " + o.who() + "?"
		}
		return "Add to a group", "Put " + o.who() + " in which group?"
	case leaveDialog:
		if o.tab == tabGroups {
			return "Remove a member", "Take which member out of " + o.who() + "?"
		}
		return "Take out of a group", "Take " + o.who() + " out of which group?"
	}
	return "", ""
}

// nothing says why a choice has nothing to offer.
func (o op) nothing() string {
	switch {
	case o.id == attachDialog:
		return "Every policy is attached to " + o.who() + " already."
	case o.id == detachDialog && o.tab == tabGroups:
		return "No policy is attached to " + o.who() + "."
	case o.id == detachDialog:
		return "No policy is attached to " + o.who() + " itself (a group's policies are detached on the Groups tab)."
	case o.id == joinDialog && o.tab == tabGroups:
		return "Every user is in " + o.who() + " already."
	case o.id == joinDialog:
		return o.who() + " is in every group already."
	case o.id == leaveDialog && o.tab == tabGroups:
		return o.who() + " has no members."
	}
	return o.who() + " is in no group."
}

// action carries out a tab's own key.
func (m *Model) action(msg tea.KeyMsg) tea.Cmd {
	switch m.tab {
	case tabYou:
		if key.Matches(msg, m.keys.Open) && m.you.Shown() > 0 {
			if r := m.you.Selected(); !r.none {
				m.openDoc(r.title(), r.policy, r.about())
			}
		}
	case tabPolicies:
		if key.Matches(msg, m.keys.Open) && m.policies.Shown() > 0 {
			return m.readPolicy(m.policies.Selected().Name)
		}
	case tabUsers:
		return m.userAction(msg)
	case tabGroups:
		return m.groupAction(msg)
	}
	return nil
}

func (m *Model) userAction(msg tea.KeyMsg) tea.Cmd {
	if key.Matches(msg, m.keys.New) {
		return m.askName(tabUsers, newUserDialog, "New user")
	}
	if m.users.Shown() == 0 {
		return nil
	}
	u := m.users.Selected()
	return m.subjectAction(msg, op{tab: tabUsers, user: u.Name}, u.Policies, u.Groups, m.groupNames())
}

func (m *Model) groupAction(msg tea.KeyMsg) tea.Cmd {
	l := &m.groups
	if key.Matches(msg, m.keys.New) {
		return m.askName(tabGroups, newGroupDialog, "New group")
	}
	if l.Shown() == 0 {
		return nil
	}
	g := l.Selected()
	o := op{tab: tabGroups, group: g.Name}
	if !key.Matches(msg, m.keys.Delete) {
		return m.subjectAction(msg, o, g.Policies, g.Members, m.userNames())
	}
	if len(g.Members)+len(g.Policies) > 0 {
		l.SetStatus(fmt.Sprintf("The group %s still has %s and %s: remove them first.", dialog.Quote(g.Name),
			human.Plural(len(g.Members), "member", "members"), human.Plural(len(g.Policies), "policy", "policies")), false)
		return nil
	}
	o.id = deleteDialog
	m.op = o
	d := dialog.NewConfirm(m.st, deleteDialog, "Delete a group", "Delete the group "+dialog.Quote(g.Name)+"?")
	d.SetDefault(1)
	l.Open(d)
	return nil
}

// askName asks the name of a new user or group.
func (m *Model) askName(t tab, id, title string) tea.Cmd {
	m.op = op{tab: t, id: id}
	m.list(t).Open(dialog.NewInput(m.st, id, title, "Name:", "", nameNeeded))
	return nil
}

// subjectAction attaches or detaches a policy of o's user or group, or
// adds or removes one of its related: a user's groups, a group's members,
// which load reads the candidates of.
func (m *Model) subjectAction(msg tea.KeyMsg, o op, policies, related []string, load namesLoader) tea.Cmd {
	k := m.keys
	switch {
	case key.Matches(msg, k.Attach):
		o.id = attachDialog
		return m.fetchNames(o, m.policyNames(), policies)
	case key.Matches(msg, k.Detach):
		o.id = detachDialog
		return m.offerNow(o, policies)
	case key.Matches(msg, k.Join):
		o.id = joinDialog
		return m.fetchNames(o, load, related)
	case key.Matches(msg, k.Leave):
		o.id = leaveDialog
		return m.offerNow(o, related)
	}
	return nil
}

// nameNeeded refuses an empty name; the server judges the rest.
func nameNeeded(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("type a name")
	}
	return nil
}

// namesLoader reads the names a choice offers, off the UI; what says
// which ("the policies").
type namesLoader struct {
	what string
	load func() ([]string, error)
}

// namesOf reads the names of a listing (what t lists).
func namesOf[T any](ctx context.Context, t tab, list func(context.Context) ([]T, error), name func(T) string) namesLoader {
	return namesLoader{what: listings[t].what, load: func() ([]string, error) {
		items, err := list(ctx)
		names := make([]string, len(items))
		for i, it := range items {
			names[i] = name(it)
		}
		return names, listings[t].explain(err)
	}}
}

func (m *Model) policyNames() namesLoader {
	return namesOf(m.ctx, tabPolicies, m.r.Policies, func(p remote.Policy) string { return p.Name })
}

func (m *Model) groupNames() namesLoader {
	return namesOf(m.ctx, tabGroups, m.r.Groups, func(g remote.Group) string { return g.Name })
}

func (m *Model) userNames() namesLoader {
	return namesOf(m.ctx, tabUsers, m.r.Users, func(u remote.User) string { return u.Name })
}

// fetchNames reads what a choice offers (fresh: another admin may have
// changed it), leaving out those in except, then asks.
func (m *Model) fetchNames(o op, names namesLoader, except []string) tea.Cmd {
	return m.list(o.tab).Start("Reading "+names.what+"…", func() tea.Msg {
		names, err := names.load()
		names = slices.DeleteFunc(names, func(n string) bool { return slices.Contains(except, n) })
		return Msg{kind: namesMsg, tab: o.tab, op: o, names: names, err: err}
	})
}

// offerNow asks to choose among names known already.
func (m *Model) offerNow(o op, names []string) tea.Cmd {
	return m.offer(Msg{kind: namesMsg, tab: o.tab, op: o, names: names})
}

// offer opens the choice the names were read for.
func (m *Model) offer(msg Msg) tea.Cmd {
	l := m.list(msg.tab)
	l.Stop()
	switch {
	case msg.err != nil:
		l.SetStatus(msg.err.Error(), false)
		return nil
	case len(msg.names) == 0:
		l.SetStatus(msg.op.nothing(), false)
		return nil
	}
	m.op = msg.op
	m.op.names = msg.names
	l.Open(m.pick(m.op))
	return nil
}

// maxButtons is the most names a choice shows as buttons (hotkeys 1 to
// 9); more are typed, with completion.
const maxButtons = 9

// pick asks for one of o.names: a button for each when they fit on
// screen, else a field that completes them. The buttons start on Cancel:
// these choices grant and take away rights (the first policy offered is
// often admin), so a stray enter must change nothing.
func (m *Model) pick(o op) dialog.Model {
	title, question := o.ask()
	// The box's border, title, question and spacing take 8 lines; the
	// buttons (and Cancel) may stack one a line.
	if len(o.names) <= maxButtons && len(o.names)+9 <= m.h {
		opts := make([]dialog.Option, len(o.names), len(o.names)+1)
		for i, n := range o.names {
			opts[i] = dialog.Option{Label: n, Key: strconv.Itoa(i + 1)}
		}
		d := dialog.NewChoice(m.st, o.id, title, question, append(opts, dialog.Option{Label: "Cancel"}))
		d.SetDefault(len(o.names))
		return d
	}
	return dialog.NewPathInput(m.st, o.id, title, question, "", oneOf(o.names), complete(o.id, o.names))
}

// oneOf accepts only one of names.
func oneOf(names []string) func(string) error {
	return func(s string) error {
		switch {
		case s == "":
			return errors.New("type a name (tab completes)")
		case !slices.Contains(names, s):
			return errors.New("not one of the names offered (tab lists them)")
		}
		return nil
	}
}

// complete completes a prefix of one of names.
func complete(id string, names []string) func(string) tea.Cmd {
	return func(prefix string) tea.Cmd {
		return func() tea.Msg {
			var match []string
			for _, n := range names {
				if strings.HasPrefix(n, prefix) {
					match = append(match, n)
				}
			}
			out := dialog.CompletedMsg{ID: id, For: prefix, Value: prefix}
			switch len(match) {
			case 0:
				out.Err = fmt.Errorf("no name starts with %q", prefix)
			case 1:
				out.Value = match[0]
			default:
				out.Value, out.Candidates = commonPrefix(match), match
			}
			return out
		}
	}
}

func commonPrefix(names []string) string {
	p := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}

// answered takes a dialog's answer: Esc, No or a cancel closes it; the
// others carry on with what it asked.
func (m Model) answered(msg tea.Msg) (Model, tea.Cmd) {
	l := m.list(m.op.tab)
	d := l.Dialog()
	if d == nil {
		return m, nil
	}
	var value string
	switch msg := msg.(type) {
	case dialog.ConfirmedMsg:
		if msg.ID != d.ID() {
			return m, nil
		}
		l.Close()
		if msg.Yes && msg.ID == deleteDialog {
			return m, m.deleteGroup(m.op)
		}
		return m, nil
	case dialog.InputMsg:
		if msg.ID != d.ID() {
			return m, nil
		}
		if msg.Canceled {
			l.Close()
			return m, nil
		}
		value = msg.Value
	case dialog.ChoiceMsg:
		if msg.ID != d.ID() {
			return m, nil
		}
		if msg.Canceled {
			l.Close()
			return m, nil
		}
		if msg.ID == adminDialog {
			return m, m.createUser(msg.Index == 1)
		}
		if msg.Index < 0 || msg.Index >= len(m.op.names) { // Cancel
			l.Close()
			return m, nil
		}
		value = m.op.names[msg.Index]
	}
	return m, m.chosen(value)
}

// chosen carries on with the name a dialog was answered with.
func (m *Model) chosen(value string) tea.Cmd {
	o := m.op
	l := m.list(o.tab)
	switch o.id {
	case newUserDialog:
		m.op.user = value
		q := fmt.Sprintf("Make %s an administrator?\n\nAn administrator is in the admins group, whose admin policy allows everything. "+
			"A user gets the home policy: their own folder, /home/%s.", dialog.Quote(value), value)
		l.Open(dialog.NewChoice(m.st, adminDialog, "New user", q,
			[]dialog.Option{{Label: "No, a user", Key: "n"}, {Label: "Yes, an administrator", Key: "y"}}))
		return nil
	case newGroupDialog:
		// The dialog stays open until the server answers, to show its
		// error in place (a name taken or refused).
		o.group = value
		return l.Start("Creating the group "+dialog.Quote(value)+"…", m.change(o, "Created the group "+dialog.Quote(value)+".",
			"create the group "+dialog.Quote(value), "strata:ManageGroups",
			func(ctx context.Context, r remote.Remote) error { return r.CreateGroup(ctx, value) }))
	case attachDialog, detachDialog:
		// The choice stays until the server answers: a refusal is shown
		// in it, at length (the last admin, a policy that is built in).
		attach := o.id == attachDialog
		to := remote.Target{User: o.user}
		if o.tab == tabGroups {
			to = remote.Target{Group: o.group}
		}
		verb, done, prep := "attach", "Attached", "to"
		if !attach {
			verb, done, prep = "detach", "Detached", "from"
		}
		what := fmt.Sprintf("%s %s %s %s", verb, dialog.Quote(value), prep, o.who())
		return l.Start(what+"…", m.change(o, fmt.Sprintf("%s %s %s %s.", done, dialog.Quote(value), prep, o.who()),
			what, "strata:ManagePolicies",
			func(ctx context.Context, r remote.Remote) error { return r.AttachPolicy(ctx, value, to, attach) }))
	case joinDialog, leaveDialog:
		in := o.id == joinDialog
		group, user := value, o.user
		if o.tab == tabGroups {
			group, user = o.group, value
		}
		what := fmt.Sprintf("put %s in the group %s", dialog.Quote(user), dialog.Quote(group))
		done := fmt.Sprintf("Put %s in the group %s.", dialog.Quote(user), dialog.Quote(group))
		if !in {
			what = fmt.Sprintf("take %s out of the group %s", dialog.Quote(user), dialog.Quote(group))
			done = fmt.Sprintf("Took %s out of the group %s.", dialog.Quote(user), dialog.Quote(group))
		}
		return l.Start(what+"…", m.change(o, done, what, "strata:ManageGroups",
			func(ctx context.Context, r remote.Remote) error { return r.GroupMember(ctx, group, user, in) }))
	}
	return nil
}

// change runs call, a change that the tab shows when it is done (done),
// or its error, said as the failure to do what.
func (m *Model) change(o op, done, what, action string, call func(context.Context, remote.Remote) error) tea.Cmd {
	ctx, r := m.ctx, m.r
	return func() tea.Msg {
		err := explain(call(ctx, r), what, action)
		return Msg{kind: doneMsg, tab: o.tab, op: o, text: done, keep: o.keep(), err: err}
	}
}

func (m *Model) deleteGroup(o op) tea.Cmd {
	name := o.group
	what := "delete the group " + dialog.Quote(name)
	o.group = "" // it will be gone: the selection stays where it falls
	return m.groups.Start(what+"…", m.change(o, "Deleted the group "+dialog.Quote(name)+".", what, "strata:ManageGroups",
		func(ctx context.Context, r remote.Remote) error { return r.DeleteGroup(ctx, name) }))
}

// done ends a change: its error is shown in the dialog still open, or in
// the status line; else the tab is read again.
func (m *Model) done(msg Msg) tea.Cmd {
	l := m.list(msg.tab)
	l.Stop()
	if msg.err != nil {
		if d := l.Dialog(); d != nil {
			d.SetError(msg.err)
			return nil
		}
		l.SetStatus(msg.err.Error(), false)
		return nil
	}
	l.Close()
	l.SetStatus(msg.text, true)
	return m.changed(msg.tab, msg.keep)
}

func (m *Model) createUser(admin bool) tea.Cmd {
	name := m.op.user
	ctx, r := m.ctx, m.r
	// The question stays on screen until the server answers.
	return m.users.Start("Creating the user "+dialog.Quote(name)+"…", func() tea.Msg {
		nu, err := r.CreateUser(ctx, name, admin)
		return Msg{kind: createdMsg, tab: tabUsers, op: op{tab: tabUsers, user: name}, user: nu,
			err: explain(err, "create the user "+dialog.Quote(name), "strata:ManageUsers")}
	})
}

// created shows a new user's first token, or asks the name again with why
// it was refused.
func (m *Model) created(msg Msg) tea.Cmd {
	l := &m.users
	l.Stop()
	if err := msg.err; err != nil {
		if errors.Is(err, remote.ErrForbidden) || remote.IsDisconnected(err) {
			l.Close()
			l.SetStatus(err.Error(), false)
			return nil
		}
		d := dialog.NewInput(m.st, newUserDialog, "New user", "Name:", msg.op.user, nameNeeded)
		d.SetError(err)
		m.op = op{tab: tabUsers, id: newUserDialog}
		l.Open(d)
		return nil
	}
	l.Close()
	name := msg.user.User.Name
	if t := msg.user.Token; t == nil || t.Secret == "" {
		l.SetStatus("Created the user "+dialog.Quote(name)+", but no token came back: make one with strata admin token create --user "+name, false)
	} else {
		l.SetStatus("Created the user "+dialog.Quote(name)+".", true)
		m.token = &tokenBox{user: name, secret: t.Secret, server: m.r.Server()}
	}
	return m.changed(tabUsers, name)
}

// readPolicy reads a policy's document, to show it.
func (m *Model) readPolicy(name string) tea.Cmd {
	ctx, r := m.ctx, m.r
	return m.policies.Start("Reading the policy "+dialog.Quote(name)+"…", func() tea.Msg {
		p, err := r.Policy(ctx, name)
		return Msg{kind: docMsg, tab: tabPolicies, policy: p,
			err: explain(err, "read the policy "+dialog.Quote(name), "strata:ManagePolicies")}
	})
}
