// Package accessview is the screen of access control. Everyone sees who
// they are on the server and every policy that decides what they may do,
// each document readable. Administrators also see the users with their
// groups and policies, the groups with their members and policies, and the
// policies with what they are attached to; they create users (whose first
// token the screen shows once, with a way to copy it) and groups, attach
// and detach policies, and put users in groups and take them out.
//
// Every call runs in a tea.Cmd; a refusal (403) is said in words. The
// screen lists on four tabs, each a pagedlist, and opens its dialogs over
// the tab's list; the parent passes it every Msg and the dialogs' answers.
package accessview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/pagedlist"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/style"
)

// ClosedMsg says the user left the screen.
type ClosedMsg struct{}

// KeyMap is the access screen's keys.
type KeyMap struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	NextTab  key.Binding
	PrevTab  key.Binding
	Open     key.Binding
	New      key.Binding
	Attach   key.Binding
	Detach   key.Binding
	Join     key.Binding
	Leave    key.Binding
	Delete   key.Binding
	Copy     key.Binding
	Filter   key.Binding
	Reload   key.Binding
	Back     key.Binding
}

// DefaultKeyMap returns the access screen's default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home/g", "first")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "last")),
		NextTab:  key.NewBinding(key.WithKeys("tab", "right", "l"), key.WithHelp("tab/→", "next tab: you, users, groups, policies")),
		PrevTab:  key.NewBinding(key.WithKeys("shift+tab", "left", "h"), key.WithHelp("shift+tab/←", "previous tab")),
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "read the policy's document")),
		New:      key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new user (Users), new group (Groups)")),
		Attach:   key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "attach a policy to the user or group")),
		Detach:   key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "detach a policy from it")),
		Join:     key.NewBinding(key.WithKeys("+", "="), key.WithHelp("+", "put the user in a group; add a member")),
		Leave:    key.NewBinding(key.WithKeys("-"), key.WithHelp("-", "take the user out of a group; remove a member")),
		Delete:   key.NewBinding(key.WithKeys("x", "delete"), key.WithHelp("x", "delete the group (when empty)")),
		Copy:     key.NewBinding(key.WithKeys("c", "y"), key.WithHelp("c", "copy a new token or a document (OSC 52)")),
		Filter:   key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Reload:   key.NewBinding(key.WithKeys("ctrl+r", "f5"), key.WithHelp("ctrl+r", "reload")),
		Back:     key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc/q", "back")),
	}
}

// ShortHelp implements help.KeyMap.
func (k KeyMap) ShortHelp() []key.Binding { return k.forTab(tabYou).ShortHelp() }

// FullHelp implements help.KeyMap.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.NextTab, k.PrevTab, k.Filter, k.Reload, k.Back},
		{k.Open, k.New, k.Attach, k.Detach, k.Join, k.Leave, k.Delete, k.Copy},
	}
}

// tabKeys is the help line of one tab: its own keys, worded briefly to fit
// in 80 columns.
type tabKeys struct {
	k KeyMap
	t tab
}

func (k KeyMap) forTab(t tab) tabKeys { return tabKeys{k, t} }

func (tk tabKeys) ShortHelp() []key.Binding {
	k, b := tk.k, pagedlist.Brief
	next, back := b(k.NextTab, "tab", "next"), b(k.Back, "q", "back")
	switch tk.t {
	case tabUsers:
		return []key.Binding{b(k.New, "n", "new"), b(k.Attach, "a", "attach"), b(k.Detach, "d", "detach"),
			b(k.Join, "+", "group"), b(k.Leave, "-", "ungroup"), next, back}
	case tabGroups:
		return []key.Binding{b(k.New, "n", "new"), b(k.Attach, "a", "attach"), b(k.Detach, "d", "detach"),
			b(k.Join, "+", "member"), b(k.Leave, "-", "remove"), b(k.Delete, "x", "delete"), next, back}
	case tabPolicies:
		return []key.Binding{b(k.Open, "enter", "read"), k.Filter, next, back}
	}
	return []key.Binding{b(k.Open, "enter", "read a policy"), next, back}
}

func (tk tabKeys) FullHelp() [][]key.Binding { return tk.k.FullHelp() }

// tab is one of the screen's lists.
type tab int

const (
	tabYou tab = iota
	tabUsers
	tabGroups
	tabPolicies
	tabs
)

var tabNames = [tabs]string{"You", "Users", "Groups", "Policies"}

type msgKind int

const (
	listMsg    msgKind = iota // a page (or a spinner's tick) of a tab's list
	namesMsg                  // the names a choice offers
	doneMsg                   // a change ended
	createdMsg                // a user was made
	docMsg                    // a policy's document was read
	copiedMsg                 // the clipboard answered
	usageMsg                  // a user's usage (tab: You for the caller's)
)

// Msg carries the screen's own asynchronous results (and its lists' pages
// and spinner ticks); the parent passes every Msg to Update.
type Msg struct {
	kind msgKind
	tab  tab

	you      pagedlist.Msg[youRow]
	users    pagedlist.Msg[remote.User]
	groups   pagedlist.Msg[remote.Group]
	policies pagedlist.Msg[remote.Policy]

	op     op       // what a choice or a change is about
	names  []string // namesMsg
	text   string   // doneMsg: what was done
	keep   string   // doneMsg: the name to keep the selection on
	user   remote.NewUser
	policy remote.Policy
	who    string       // usageMsg: the user ("" for the caller)
	usage  remote.Usage // usageMsg
	gen    uint64       // usageMsg: of the requests it answers
	err    error
}

// youRow is a policy that decides for the caller (or the stand-in for
// none); every row carries the caller, for the summary above them.
type youRow struct {
	me      remote.User
	policy  remote.Policy
	direct  bool // attached to the caller, not through a group
	session bool // the token's session policy
	none    bool // no policy at all
}

// Model is the access screen.
type Model struct {
	ctx  context.Context
	st   *style.Styles
	r    remote.Remote
	clip func(string) error
	keys KeyMap
	help help.Model
	w, h int
	tab  tab

	you      pagedlist.Model[youRow]
	users    pagedlist.Model[remote.User]
	groups   pagedlist.Model[remote.Group]
	policies pagedlist.Model[remote.Policy]
	fresh    [tabs]bool   // the tab's list was loaded since the last change
	keep     [tabs]string // the name to select when the tab's list arrives

	us *usages // the users' usage and the caller's

	op    op        // what the open dialog is about
	doc   *document // a policy's document on screen
	token *tokenBox // a new user's first token, shown once
}

// lister is what the screen does with any tab's list.
type lister interface {
	Init() tea.Cmd
	Reload() tea.Cmd
	SetSize(w, h int)
	Navigate(tea.KeyMsg) bool
	Scroll() tea.Cmd
	Shown() int
	Filtering() bool
	FilterKey(tea.KeyMsg) tea.Cmd
	StartFilter()
	ClearFilter() bool
	Open(dialog.Model)
	Close()
	Dialog() *dialog.Model
	DialogKey(tea.KeyMsg) (tea.Cmd, bool)
	DialogMsg(tea.Msg) tea.Cmd
	Start(what string, cmd tea.Cmd) tea.Cmd
	Stop()
	Busy() bool
	SetStatus(s string, ok bool)
}

func (m *Model) list(t tab) lister {
	switch t {
	case tabUsers:
		return &m.users
	case tabGroups:
		return &m.groups
	case tabPolicies:
		return &m.policies
	}
	return &m.you
}

// summaryLines is how many lines the You tab shows above its list.
const summaryLines = 3

// New builds the screen; Init loads it. ctx ends its requests; clip puts
// text on the user's clipboard (nil: there is none).
func New(ctx context.Context, st *style.Styles, r remote.Remote, clip func(string) error) Model {
	keys := DefaultKeyMap()
	nav := pagedlist.Nav{Up: keys.Up, Down: keys.Down, PageUp: keys.PageUp, PageDown: keys.PageDown, Top: keys.Top, Bottom: keys.Bottom}
	h := help.New()
	h.Styles.ShortKey, h.Styles.ShortDesc, h.Styles.ShortSeparator = st.Key, st.KeyDesc, st.Muted
	h.Styles.FullKey, h.Styles.FullDesc, h.Styles.FullSeparator, h.Styles.Ellipsis = st.Key, st.KeyDesc, st.Muted, st.Muted
	m := Model{ctx: ctx, st: st, r: r, clip: clip, keys: keys, help: h, w: 80, h: 24, us: newUsages()}

	m.you = pagedlist.New(st, nav, func(string) ([]youRow, string, error) {
		u, err := r.Whoami(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("who you are: %w", err)
		}
		return youRows(u), "", nil
	}, func(msg pagedlist.Msg[youRow]) tea.Msg { return Msg{kind: listMsg, tab: tabYou, you: msg} })

	m.users = pagedlist.New(st, nav, whole(ctx, tabUsers, r.Users),
		func(msg pagedlist.Msg[remote.User]) tea.Msg { return Msg{kind: listMsg, tab: tabUsers, users: msg} })
	m.users.EnableFilter(func(u remote.User) string {
		return strings.Join(slices.Concat([]string{u.Name}, u.Groups, u.Policies, u.AWSIdentities), " ")
	})

	m.groups = pagedlist.New(st, nav, whole(ctx, tabGroups, r.Groups),
		func(msg pagedlist.Msg[remote.Group]) tea.Msg { return Msg{kind: listMsg, tab: tabGroups, groups: msg} })
	m.groups.EnableFilter(func(g remote.Group) string {
		return strings.Join(append(append([]string{g.Name}, g.Members...), g.Policies...), " ")
	})

	m.policies = pagedlist.New(st, nav, whole(ctx, tabPolicies, r.Policies),
		func(msg pagedlist.Msg[remote.Policy]) tea.Msg {
			return Msg{kind: listMsg, tab: tabPolicies, policies: msg}
		})
	m.policies.EnableFilter(func(p remote.Policy) string {
		return strings.Join(append(append([]string{p.Name}, p.Users...), p.Groups...), " ")
	})
	return m
}

// listing is what an administrator's tab lists, and the action it takes.
type listing struct{ what, action string }

// explain is explain of a failure to list.
func (l listing) explain(err error) error { return explain(err, "list "+l.what, l.action) }

// listings are the tabs' listings.
var listings = [tabs]listing{
	tabUsers:    {"the users", "strata:ManageUsers"},
	tabGroups:   {"the groups", "strata:ManageGroups"},
	tabPolicies: {"the policies", "strata:ManagePolicies"},
}

// whole is the Loader of tab t's list, which the server gives whole, in
// one answer.
func whole[T any](ctx context.Context, t tab, list func(context.Context) ([]T, error)) pagedlist.Loader[T] {
	return func(string) ([]T, string, error) {
		items, err := list(ctx)
		return items, "", listings[t].explain(err)
	}
}

// youRows lists what decides for u: the policies of u and of u's groups,
// then the token's session policy.
func youRows(u remote.User) []youRow {
	var rows []youRow
	for _, p := range u.Applies {
		rows = append(rows, youRow{me: u, policy: p, direct: slices.Contains(u.Policies, p.Name)})
	}
	if u.SessionPolicy != "" {
		rows = append(rows, youRow{me: u, session: true,
			policy: remote.Policy{Name: "session policy", Document: json.RawMessage(u.SessionPolicy)}})
	}
	if len(rows) == 0 {
		rows = append(rows, youRow{me: u, none: true})
	}
	return rows
}

// refused is a server's answer said in words; it still matches what the
// server said (errors.Is). A refusal (403) is final: asking again does not
// help.
type refused struct {
	msg   string
	err   error
	final bool
}

func (e *refused) Error() string { return e.msg }
func (e *refused) Unwrap() error { return e.err }
func (e *refused) Final() bool   { return e.final }

// explain says what a refusal means: what you may not do, and what it
// takes. Other errors are said after what was being done, in the server's
// words when it answered (without its code and request ID, which a
// status line has no room for).
func explain(err error, what, action string) error {
	var answer interface{ Message() string }
	switch {
	case err == nil:
		return nil
	case errors.Is(err, remote.ErrForbidden):
		return &refused{msg: fmt.Sprintf("You may not %s: it takes %s, which administrators (the admins group) have.", what, action),
			err: err, final: true}
	case errors.As(err, &answer) && !remote.IsDisconnected(err):
		return &refused{msg: what + ": " + answer.Message(), err: err}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Init loads the first tab: who you are, and what you use.
func (m *Model) Init() tea.Cmd { return tea.Batch(m.show(tabYou), m.fetchMine()) }

// show brings tab t on screen, loading it if it changed since it was
// last loaded.
func (m *Model) show(t tab) tea.Cmd {
	m.tab = t
	if m.fresh[t] {
		return nil
	}
	m.fresh[t] = true
	return m.list(t).Init()
}

// SetSize sets the screen's size; View fills exactly w×h.
func (m *Model) SetSize(w, h int) {
	m.w, m.h = w, h
	m.help.Width = w
	m.you.SetSize(w, h-summaryLines)
	m.users.SetSize(w, h)
	m.groups.SetSize(w, h)
	m.policies.SetSize(w, h)
	if m.doc != nil {
		m.doc.wrap(w)
	}
}

// Tab names the tab on screen ("You", "Users", "Groups" or "Policies").
func (m Model) Tab() string { return tabNames[m.tab] }

// Update handles keys (the open dialog's first), the dialogs' answers and
// the screen's Msgs.
func (m Model) Update(msg tea.Msg) (Model, tea.Cmd) {
	m, cmd := m.update(msg)
	return m, tea.Batch(cmd, m.wantUsage())
}

func (m Model) update(msg tea.Msg) (Model, tea.Cmd) {
	switch msg := msg.(type) {
	case Msg:
		return m.handle(msg)
	case dialog.ConfirmedMsg, dialog.InputMsg, dialog.ChoiceMsg:
		return m.answered(msg)
	case dialog.CompletedMsg:
		return m, m.list(m.op.tab).DialogMsg(msg)
	case tea.KeyMsg:
		return m.key(msg)
	}
	return m, nil
}

func (m Model) key(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch {
	case m.token != nil:
		return m.tokenKey(msg)
	case m.doc != nil:
		return m.docKey(msg)
	}
	l := m.list(m.tab)
	if cmd, ok := l.DialogKey(msg); ok {
		return m, cmd
	}
	if l.Filtering() {
		return m, l.FilterKey(msg)
	}
	switch {
	case msg.Type == tea.KeyEsc && l.ClearFilter():
		return m, nil
	case key.Matches(msg, m.keys.Back):
		return m, func() tea.Msg { return ClosedMsg{} }
	case key.Matches(msg, m.keys.Reload):
		m.keep[m.tab] = m.selectedName()
		switch m.tab {
		case tabUsers:
			m.us.forgetUsers()
		case tabYou:
			return m, tea.Batch(l.Reload(), m.fetchMine())
		}
		return m, l.Reload()
	case l.Navigate(msg):
	case l.Busy():
		// One change at a time, and its answer is shown on its tab.
		return m, nil
	case key.Matches(msg, m.keys.NextTab):
		return m, m.show((m.tab + 1) % tabs)
	case key.Matches(msg, m.keys.PrevTab):
		return m, m.show((m.tab + tabs - 1) % tabs)
	case key.Matches(msg, m.keys.Filter):
		l.StartFilter()
		return m, nil
	default:
		return m, m.action(msg)
	}
	return m, l.Scroll()
}

// selectedName names the item under the cursor ("" for none).
func (m *Model) selectedName() string {
	switch {
	case m.tab == tabYou && m.you.Shown() > 0:
		return m.you.Selected().policy.Name
	case m.tab == tabUsers && m.users.Shown() > 0:
		return m.users.Selected().Name
	case m.tab == tabGroups && m.groups.Shown() > 0:
		return m.groups.Selected().Name
	case m.tab == tabPolicies && m.policies.Shown() > 0:
		return m.policies.Selected().Name
	}
	return ""
}

func (m Model) handle(msg Msg) (Model, tea.Cmd) {
	switch msg.kind {
	case listMsg:
		return m, m.page(msg)
	case namesMsg:
		return m, m.offer(msg)
	case doneMsg:
		return m, m.done(msg)
	case createdMsg:
		return m, m.created(msg)
	case docMsg:
		l := m.list(msg.tab)
		l.Stop()
		if msg.err != nil {
			l.SetStatus(msg.err.Error(), false)
			return m, nil
		}
		m.openDoc("Policy "+msg.policy.Name, msg.policy, m.attachedTo(msg.policy))
		return m, nil
	case copiedMsg:
		m.copied(msg.err)
	case usageMsg:
		m.gotUsage(msg)
	}
	return m, nil
}

// page hands a page to its tab's list, and puts the selection back on the
// item a change or a reload was about.
func (m *Model) page(msg Msg) tea.Cmd {
	var cmd tea.Cmd
	switch msg.tab {
	case tabYou:
		m.you, cmd = m.you.Update(msg.you)
	case tabUsers:
		m.users, cmd = m.users.Update(msg.users)
	case tabGroups:
		m.groups, cmd = m.groups.Update(msg.groups)
	case tabPolicies:
		m.policies, cmd = m.policies.Update(msg.policies)
	}
	if keep := m.keep[msg.tab]; keep != "" && !isTick(msg) {
		m.keep[msg.tab] = ""
		m.selectName(msg.tab, keep)
	}
	return cmd
}

// selectName puts tab t's selection on the item called name, if shown.
func (m *Model) selectName(t tab, name string) {
	switch t {
	case tabYou:
		m.you.Select(func(r youRow) bool { return r.policy.Name == name })
	case tabUsers:
		m.users.Select(func(u remote.User) bool { return u.Name == name })
	case tabGroups:
		m.groups.Select(func(g remote.Group) bool { return g.Name == name })
	case tabPolicies:
		m.policies.Select(func(p remote.Policy) bool { return p.Name == name })
	}
}

func isTick(msg Msg) bool {
	switch msg.tab {
	case tabUsers:
		return msg.users.IsTick()
	case tabGroups:
		return msg.groups.IsTick()
	case tabPolicies:
		return msg.policies.IsTick()
	}
	return msg.you.IsTick()
}

// changed reloads tab t after a change, with the selection on keep, and
// every other tab when it is next shown: a change of a user shows in its
// groups and policies, and may change what decides for you.
func (m *Model) changed(t tab, keep string) tea.Cmd {
	m.fresh = [tabs]bool{}
	m.fresh[t] = true
	m.keep[t] = keep
	return m.list(t).Init()
}
