package accessview

import (
	"errors"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/pagedlist"
	"github.com/strata-storage/strata/tui/remote"
)

// wide is the width from which the lists show their optional columns.
const wide = 72

// View draws the screen: the tab on screen with an open dialog over it, a
// new user's token over the users, or a policy's document.
func (m Model) View() string {
	if m.doc != nil {
		return m.docView()
	}
	var v string
	switch m.tab {
	case tabUsers:
		v = m.usersView()
	case tabGroups:
		v = m.groupsView()
	case tabPolicies:
		v = m.policiesView()
	default:
		v = m.youView()
	}
	if m.token != nil {
		v = dialog.Overlay(v, m.tokenView(), m.w, m.h)
	}
	return v
}

// tabBar names the tabs, the one on screen bracketed (which shows without
// colour too).
func (m Model) tabBar() string {
	parts := []string{m.st.Header.Render("Access")}
	for t := range tabs {
		if t == m.tab {
			parts = append(parts, m.st.PaneTitle.Render("["+tabNames[t]+"]"))
		} else {
			parts = append(parts, m.st.Muted.Render(" "+tabNames[t]+" "))
		}
	}
	return strings.Join(parts, " ")
}

// titleLine lays out left (styled) at the start and right (muted) at the
// end of a line as wide as the screen.
func (m Model) titleLine(left, right string) string {
	space := max(1, m.w-lipgloss.Width(left)-lipgloss.Width(right))
	return ansi.Truncate(left+strings.Repeat(" ", space)+m.st.Muted.Render(right), m.w, "")
}

// cells lays out one row: a two-cell margin (where the cursor shows), then
// the cells in their widths two spaces apart, the last in the rest.
func (m Model) cells(widths []int, cells ...string) string {
	var b strings.Builder
	b.WriteString("  ")
	for i, c := range cells {
		if i > 0 {
			b.WriteString("  ")
		}
		if i < len(widths) {
			b.WriteString(pagedlist.Cell(c, widths[i], false))
		} else {
			b.WriteString(c)
		}
	}
	return ansi.Truncate(b.String(), m.w, "…")
}

// row styles a laid-out row; the cursor shows without colour too.
func (m Model) row(line string, selected bool) string {
	if selected {
		return m.st.RowCursor.Render("›" + line[1:])
	}
	return line
}

// names lists names for a cell.
func names(l []string) string {
	if len(l) == 0 {
		return "—"
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = dialog.Sanitize(s)
	}
	return strings.Join(out, ", ")
}

// nameWidth is the width of a name column: the longest name, within
// bounds.
func nameWidth[T any](items []T, name func(T) string, header string, most int) int {
	w := ansi.StringWidth(header)
	for _, it := range items {
		w = max(w, ansi.StringWidth(dialog.Sanitize(name(it))))
	}
	return min(w, most)
}

// split shares the width left after the fixed columns (and the margin and
// gaps) between two columns, the first getting share percent.
func (m Model) split(fixed []int, share int) int {
	rest := m.w - 2
	for _, w := range fixed {
		rest -= w + 2
	}
	return max(4, (rest-2)*share/100)
}

func (m Model) youView() string {
	l := m.you
	var me *remote.User
	count := ""
	if items := l.Items(); len(items) > 0 {
		me = &items[0].me
		n := len(items)
		if items[0].none {
			n = 0
		}
		count = human.Plural(n, "policy", "policies")
	}
	nameW := nameWidth(l.Items(), func(r youRow) string { return r.policy.Name }, "Policy", 24)
	fromW := 18
	widths := []int{nameW, fromW}
	return l.View(pagedlist.Screen[youRow]{
		Title:   m.titleLine(m.tabBar(), count) + "\n" + m.summary(me),
		Header:  m.st.Muted.Render(m.cells(widths, "Policy", "From", "")),
		Loading: "Asking the server who you are…",
		Row: func(r youRow, selected, _ bool) string {
			if r.none {
				return m.st.Muted.Render(m.cells(nil, "No policy decides for you: the server refuses you everything."))
			}
			kind := ""
			if r.policy.BuiltIn {
				kind = "built-in"
			}
			return m.row(m.cells(widths, dialog.Sanitize(r.policy.Name), r.from(), kind), selected)
		},
		Keys: m.keys.forTab(tabYou),
	})
}

// summary is the You tab's lines above its list: who you are, and your
// groups.
func (m Model) summary(me *remote.User) string {
	if me == nil {
		return strings.Repeat("\n", summaryLines-1)
	}
	role := "a user"
	if me.Admin {
		role = "an administrator"
	}
	first := m.st.Accent.Render(dialog.Sanitize(me.Name)) + " · " + role + " · home " + dialog.Sanitize(me.Home)
	second := "Groups: " + names(me.Groups)
	if me.Password {
		second += " · password set"
	}
	if len(me.AWSIdentities) > 0 {
		second += " · AWS: " + names(me.AWSIdentities)
	}
	third := "Usage: " + m.us.mine.text()
	if err := m.us.mine.err; err != nil && !errors.Is(err, remote.ErrForbidden) {
		third += " (" + err.Error() + ")"
	}
	return ansi.Truncate(first, m.w, "…") + "\n" + ansi.Truncate(second, m.w, "…") + "\n" + ansi.Truncate(third, m.w, "…")
}

// from says how a policy comes to decide for you.
func (r youRow) from() string {
	switch {
	case r.session:
		return "this token"
	case r.direct:
		return "you"
	case len(r.me.Groups) == 1:
		return "group " + dialog.Sanitize(r.me.Groups[0])
	}
	return "your groups"
}

// title is the title over the row's document.
func (r youRow) title() string {
	if r.session {
		return "The session policy of this token"
	}
	return "Policy " + r.policy.Name
}

// about says it in a sentence, over the document.
func (r youRow) about() string {
	var s string
	switch {
	case r.session:
		return "The token does only what this allows too."
	case r.direct:
		s = "Attached to you."
	default:
		s = "Attached to a group of yours: " + names(r.me.Groups) + "."
	}
	if r.policy.BuiltIn {
		s += " Built in."
	}
	return s
}

// attachedTo says what an administrator's policy is attached to.
func (m Model) attachedTo(p remote.Policy) string {
	s := "Attached to users: " + names(p.Users) + " · groups: " + names(p.Groups)
	if p.BuiltIn {
		s = "Built in. " + s
	}
	return s
}

func (m Model) usersView() string {
	l := m.users
	nameW := nameWidth(l.Items(), func(u remote.User) string { return u.Name }, "User", 20)
	// Usage with both limits ("2.0 KiB of 4.0 KiB, 1 of 100 files") fits
	// from 100 columns; the groups and policies keep room below that.
	usageW := nameWidth(l.Items(), func(u remote.User) string { return m.us.users[u.Name].text() }, "Usage", min(36, max(20, m.w-48)))
	widths := []int{nameW}
	header := []string{"User"}
	if m.w >= wide {
		widths = append(widths, len("Password"))
		header = append(header, "Password")
	}
	widths = append(widths, usageW)
	widths = append(widths, m.split(widths, 50))
	header = append(header, "Usage", "Groups", "Policies")
	return l.View(pagedlist.Screen[remote.User]{
		Title:   m.titleLine(m.tabBar(), l.Count("user", "users")),
		Header:  m.st.Muted.Render(m.cells(widths, header...)),
		Loading: "Loading the users…",
		Empty:   m.st.Muted.Render("No users."),
		Row: func(u remote.User, selected, _ bool) string {
			cells := []string{dialog.Sanitize(u.Name)}
			if m.w >= wide {
				pw := "no"
				if u.Password {
					pw = "yes"
				}
				cells = append(cells, pw)
			}
			cells = append(cells, m.us.users[u.Name].text(), names(u.Groups), names(u.Policies))
			return m.row(m.cells(widths, cells...), selected)
		},
		Keys: m.keys.forTab(tabUsers),
	})
}

func (m Model) groupsView() string {
	l := m.groups
	nameW := nameWidth(l.Items(), func(g remote.Group) string { return g.Name }, "Group", 20)
	widths := []int{nameW}
	widths = append(widths, m.split(widths, 55))
	return l.View(pagedlist.Screen[remote.Group]{
		Title:   m.titleLine(m.tabBar(), l.Count("group", "groups")),
		Header:  m.st.Muted.Render(m.cells(widths, "Group", "Members", "Policies")),
		Loading: "Loading the groups…",
		Empty:   m.st.Muted.Render("No groups."),
		Row: func(g remote.Group, selected, _ bool) string {
			return m.row(m.cells(widths, dialog.Sanitize(g.Name), names(g.Members), names(g.Policies)), selected)
		},
		Keys: m.keys.forTab(tabGroups),
	})
}

func (m Model) policiesView() string {
	l := m.policies
	nameW := nameWidth(l.Items(), func(p remote.Policy) string { return p.Name }, "Policy", 24)
	widths := []int{nameW}
	if m.w >= wide {
		widths = append(widths, len("built-in"))
	}
	widths = append(widths, m.split(widths, 50))
	header := []string{"Policy", "", "Users", "Groups"}
	if m.w < wide {
		header = []string{"Policy", "Users", "Groups"}
	}
	return l.View(pagedlist.Screen[remote.Policy]{
		Title:   m.titleLine(m.tabBar(), l.Count("policy", "policies")),
		Header:  m.st.Muted.Render(m.cells(widths, header...)),
		Loading: "Loading the policies…",
		Empty:   m.st.Muted.Render("No policies."),
		Row: func(p remote.Policy, selected, _ bool) string {
			cells := []string{dialog.Sanitize(p.Name)}
			if m.w >= wide {
				kind := ""
				if p.BuiltIn {
					kind = "built-in"
				}
				cells = append(cells, kind)
			}
			cells = append(cells, names(p.Users), names(p.Groups))
			return m.row(m.cells(widths, cells...), selected)
		},
		Keys: m.keys.forTab(tabPolicies),
	})
}
