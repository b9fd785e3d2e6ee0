package accessview

import (
	"errors"
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/remote"
)

// The server answers usage one user at a time, so the Users tab asks for
// the usage of the users on screen only, as they come on screen, at most
// usageRequests at once; a row shows "…" until its answer comes.
const usageRequests = 4

// usageCell is one user's usage: asked for (present in the map), then
// answered (done).
type usageCell struct {
	done bool
	u    remote.Usage
	err  error
}

// usages is the usage of the users the Users tab asked for, and of the
// caller for the You tab. A reload starts them again (gen drops the
// answers to the requests before it).
type usages struct {
	users   map[string]usageCell
	gen     uint64
	mine    usageCell
	mineGen uint64
	slots   chan struct{} // bounds the requests under way
	refused bool          // a refusal was said in the status line
}

func newUsages() *usages {
	return &usages{users: map[string]usageCell{}, slots: make(chan struct{}, usageRequests)}
}

// forgetUsers drops what was known of the users' usage, for a reload.
func (us *usages) forgetUsers() {
	us.users, us.refused = map[string]usageCell{}, false
	us.gen++
}

// wantUsage asks for the usage of the users on screen not asked for
// yet. It is called after every Msg: whatever moved the rows (a page, a
// key, the filter) brings the usage of the new ones.
func (m *Model) wantUsage() tea.Cmd {
	if m.tab != tabUsers || m.doc != nil {
		return nil
	}
	var cmds []tea.Cmd
	for _, u := range m.users.OnScreen() {
		if _, asked := m.us.users[u.Name]; asked {
			continue
		}
		m.us.users[u.Name] = usageCell{}
		cmds = append(cmds, m.fetchUsage(tabUsers, u.Name, m.us.gen))
	}
	return tea.Batch(cmds...)
}

// fetchMine asks for the caller's own usage, for the You tab.
func (m *Model) fetchMine() tea.Cmd {
	m.us.mineGen++
	m.us.mine = usageCell{}
	return m.fetchUsage(tabYou, "", m.us.mineGen)
}

// fetchUsage is the request for user's usage ("": the caller's), waiting
// for one of the slots first.
func (m *Model) fetchUsage(t tab, user string, gen uint64) tea.Cmd {
	ctx, r, slots := m.ctx, m.r, m.us.slots
	return func() tea.Msg {
		msg := Msg{kind: usageMsg, tab: t, who: user, gen: gen}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			msg.err = ctx.Err()
			return msg
		}
		defer func() { <-slots }()
		if user == "" {
			msg.usage, msg.err = r.Usage(ctx)
		} else {
			msg.usage, msg.err = r.UserUsage(ctx, user)
		}
		return msg
	}
}

// gotUsage keeps an answer of the current requests. The first refusal of
// a user's usage is explained in the status line: the rest of the tab
// works without it.
func (m *Model) gotUsage(msg Msg) {
	cell := usageCell{done: true, u: msg.usage, err: msg.err}
	if msg.tab == tabYou {
		if msg.gen == m.us.mineGen {
			m.us.mine = cell
		}
		return
	}
	if msg.gen != m.us.gen {
		return
	}
	m.us.users[msg.who] = cell
	if errors.Is(msg.err, remote.ErrForbidden) && !m.us.refused {
		m.us.refused = true
		m.users.SetStatus(explain(msg.err, "read the users' usage", "strata:GetUser").Error(), false)
	}
}

// text is a usage cell in words: "…" until answered, then what the home
// folder uses, with its limits, "⚠" from usageWarn percent of one.
func (c usageCell) text() string {
	switch {
	case !c.done:
		return "…"
	case errors.Is(c.err, remote.ErrForbidden):
		return "not allowed"
	case remote.IsDisconnected(c.err):
		return "unreachable"
	case c.err != nil:
		return "unknown"
	}
	return usageText(c.u)
}

// usageText says what u uses: "1.2 GiB of 5 GiB, 12 files" (a limit only
// when set).
func usageText(u remote.Usage) string {
	s := human.Short(remote.UsageUsed(u))
	if u.QuotaBytes > 0 {
		s += " of " + human.Short(u.QuotaBytes)
	}
	if u.QuotaFiles > 0 {
		s += fmt.Sprintf(", %s of %s files", human.Count(u.Files), human.Count(u.QuotaFiles))
	} else {
		s += ", " + human.Plural(int(u.Files), "file", "files")
	}
	if !u.Counted {
		s += " (never counted)"
	}
	if remote.UsagePercent(u) >= remote.UsageWarn {
		s = "⚠ " + s
	}
	return s
}
