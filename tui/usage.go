package tui

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/remote"
)

// usageMsg carries the usage of the user's home folder; seq orders the
// answers, so that a slow old one never replaces a newer one.
type usageMsg struct {
	seq int
	u   remote.Usage
	err error
}

// fetchUsage asks the server for the usage, in a command: the status bar
// shows it when it comes.
func (a *App) fetchUsage() tea.Cmd {
	a.usageSeq++
	seq, r, ctx := a.usageSeq, a.o.Remote, a.o.Ctx
	return func() tea.Msg {
		u, err := r.Usage(ctx)
		return usageMsg{seq, u, err}
	}
}

// gotUsage keeps the newest usage. A failure keeps what was shown: the
// status bar is no place for it (a server without quotas, a blip).
func (a *App) gotUsage(m usageMsg) {
	if m.err != nil || m.seq < a.usageShown {
		return
	}
	a.usage, a.usageShown, a.hasUsage = m.u, m.seq, true
}

// usageSummary is the status bar's usage: bytes used, and with a quota its
// limit and share, warned about (warn) from remote.UsageWarn percent of
// either limit (then the files' share, if it is the larger).
func (a App) usageSummary() (text string, warn bool) {
	if !a.hasUsage {
		return "", false
	}
	u := a.usage
	used := remote.UsageUsed(u)
	bytesPct := -1
	text = human.Short(used) + " used"
	if u.QuotaBytes > 0 {
		bytesPct = int(used * 100 / u.QuotaBytes)
		text = fmt.Sprintf("%s of %s (%d%%)", human.Short(used), human.Short(u.QuotaBytes), bytesPct)
	}
	if u.QuotaFiles > 0 {
		if fp := int(u.Files * 100 / u.QuotaFiles); fp > bytesPct && fp >= remote.UsageWarn {
			text = fmt.Sprintf("%s of %s files (%d%%)", human.Count(u.Files), human.Count(u.QuotaFiles), fp)
		}
	}
	if remote.UsagePercent(u) >= remote.UsageWarn {
		return a.st.StatusErr.Render("⚠ quota: "+text) + "  ", true
	}
	return a.st.Muted.Render(text) + "  ", false
}
