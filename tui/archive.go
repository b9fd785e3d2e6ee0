package tui

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/internal/archiveprice"
	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/archiveview"
	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/filelist"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/treecount"
)

// Archive and restore from the file manager: a choice of class, then a
// confirmation that states what the selection holds and what it changes
// in the monthly storage bill; a choice of tier, each with its time and
// the estimate of what the restore of the selection's archived bytes
// costs, then the days the copy is kept. Prices and times are the
// server's (GET /v1/archive-prices), fetched each time a dialog opens.

// The archive and restore dialogs.
const (
	archiveClassDialog   = "archive.class"
	archiveConfirmDialog = "archive.confirm"
	restoreTierDialog    = "restore.tier"
	restoreDaysDialog    = "restore.days"
)

// DefaultRestoreDays is the days a restored copy is kept unless the user
// says otherwise.
const DefaultRestoreDays = 7

// archiveFlow is what the open archive or restore dialog is about.
type archiveFlow struct {
	prices remote.ArchivePrices
	class  archiveprice.Class // chosen (archive)
	tier   string             // chosen (restore)
	count  *treecount.Total   // the selection's, once counted
	// download: the restore was offered instead of a download.
	download bool
}

// archivePricesMsg brings the price table a dialog needs.
type archivePricesMsg struct {
	restore  bool // else archive
	download bool
	prices   remote.ArchivePrices
	err      error
}

// archiveDoneMsg ends an archive or restore of the selection.
type archiveDoneMsg struct {
	what string
	pane int
	err  error
}

// startArchive asks for the price table, then for a class.
func (a *App) startArchive(restore bool) tea.Cmd {
	verb := "archive"
	if restore {
		verb = "restore"
	}
	if a.local(a.focus) {
		a.setErr(fmt.Errorf("%s: choose files or folders on the Strata pane (Tab)", verb))
		return nil
	}
	items := a.panes[a.focus].Selected()
	if len(items) == 0 {
		return nil
	}
	a.pending = pendingOp{pane: a.focus, items: items}
	return a.fetchPrices(restore, false)
}

func (a *App) fetchPrices(restore, download bool) tea.Cmd {
	r, ctx := a.o.Remote, a.o.Ctx
	return func() tea.Msg {
		p, err := r.ArchivePrices(ctx)
		return archivePricesMsg{restore: restore, download: download, prices: p, err: err}
	}
}

// pricesArrived opens the first dialog of the flow.
func (a App) pricesArrived(msg archivePricesMsg) (App, tea.Cmd) {
	if msg.err != nil {
		a.setErr(fmt.Errorf("archive prices: %w", msg.err))
		return a, nil
	}
	if len(msg.prices.Classes) == 0 {
		a.setErr(errors.New("this server's storage has no archive tier"))
		return a, nil
	}
	a.arch = archiveFlow{prices: msg.prices, download: msg.download}
	items := a.pending.items
	if !msg.restore {
		var opts []dialog.Option
		for _, c := range msg.prices.Classes {
			opts = append(opts, dialog.Option{Label: className(c.Class), Key: classKey(c.Class)})
		}
		d := dialog.NewChoice(a.st, archiveClassDialog, "Archive "+describe(items), a.classQuestion(), opts)
		d.SetSize(a.w, a.h)
		a.dlg = &d
		return a, nil
	}
	title := "Restore " + describe(items)
	if msg.download {
		title = "Archived: restore " + describe(items) + " first"
	}
	opts := []dialog.Option{{Label: "Expedited", Key: "e"}, {Label: "Standard", Key: "s"}, {Label: "Bulk", Key: "b"}}
	d := dialog.NewChoice(a.st, restoreTierDialog, title, "", opts)
	d.SetDefault(1)
	d.Counting(a.tierQuestion)
	d.SetSize(a.w, a.h)
	a.dlg = &d
	cmd := dialog.CountTreeCmd(a.dialogCtx(), a.o.Remote, restoreTierDialog, paths(items))
	return a, cmd
}

func paths(items []filelist.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Path
	}
	return out
}

func className(c string) string {
	switch c {
	case "glacier":
		return "Glacier"
	case "deep-archive":
		return "Deep Archive"
	case "glacier-ir":
		return "Glacier IR"
	}
	return c
}

func classKey(c string) string {
	switch c {
	case "glacier":
		return "g"
	case "deep-archive":
		return "d"
	case "glacier-ir":
		return "i"
	}
	return ""
}

// engineLine says where archived content goes on this server.
func engineLine(p remote.ArchivePrices) string {
	switch {
	case p.Engine == "cold-tier" && p.NoCharge():
		return "This server archives to its cold tier, a directory on its own disks, at no charge: " +
			"the classes differ only in how they are read back."
	case p.Engine == "cold-tier":
		return "This server archives to its cold tier, a directory on its own disks. Prices: " + p.Source + "."
	}
	return "Prices: " + p.Source + "."
}

// classQuestion describes each class the server offers.
func (a *App) classQuestion() string {
	p := a.arch.prices
	var b strings.Builder
	b.WriteString("Which archive class?\n\n")
	for _, c := range p.Classes {
		fmt.Fprintf(&b, "%s %s: ", classKey(c.Class), className(c.Class))
		if !p.NoCharge() {
			fmt.Fprintf(&b, "%s/GB-month", p.Rate(c.StoragePerGBMonth))
			if c.MinDays > 0 {
				fmt.Fprintf(&b, " (at least %d days billed)", c.MinDays)
			}
			b.WriteString("; ")
		}
		if len(c.Tiers) == 0 {
			b.WriteString("reads at once")
		} else {
			b.WriteString("read after a restore (" + tierTimes(c) + ")")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n" + engineLine(p))
	return b.String()
}

// tierTimes lists a class's tiers with their times.
func tierTimes(c archiveprice.Class) string {
	var parts []string
	for _, t := range c.Tiers {
		parts = append(parts, t.Tier+" "+waitText(t.Expected()))
	}
	return strings.Join(parts, ", ")
}

// waitText says how long a restore takes.
func waitText(d time.Duration) string {
	switch {
	case d <= 0:
		return "at once"
	case d < time.Minute:
		return "within " + human.Plural(int(d.Round(time.Second)/time.Second), "second", "seconds")
	case d < time.Hour:
		return "within " + human.Plural(int(d.Round(time.Minute)/time.Minute), "minute", "minutes")
	}
	return "within " + human.Plural(int(d.Round(time.Hour)/time.Hour), "hour", "hours")
}

// archiveConfirmQuestion states what archiving the selection into the
// chosen class does.
func (a *App) archiveConfirmQuestion(c *dialog.CountedMsg) string {
	p, cl := a.arch.prices, a.arch.class
	q := fmt.Sprintf("Archive %s to %s?", describe(a.pending.items), className(cl.Class))
	if c == nil || c.Err != nil || !c.Done {
		return q + "\n\n" + dialog.CountText(c)
	}
	t := c.Value
	hot := t.Hot
	q = fmt.Sprintf("Archive %s (%s) to %s?\n\n", describe(a.pending.items), t.String(), className(cl.Class))
	if n := t.Files - hot.Files; n > 0 {
		q += human.Plural(n, "file is", "files are") + " archived already: the cost below counts the hot ones.\n"
	}
	if p.NoCharge() {
		q += "Monthly storage cost: no change (" + p.Source + ")."
	} else {
		now := archiveprice.GB(hot.Bytes) * p.HotPerGBMonth
		change := p.MonthlyChange(cl, hot.Bytes)
		q += fmt.Sprintf("Monthly storage cost of %s: %s now, %s archived (%s a month).", human.Bytes(hot.Bytes),
			p.Money(now), p.Money(now+change), signed(p, change))
		if cl.MinDays > 0 {
			q += fmt.Sprintf(" %s bills at least %d days.", className(cl.Class), cl.MinDays)
		}
	}
	if len(cl.Tiers) > 0 {
		q += "\nReading " + map[bool]string{true: "it", false: "them"}[t.Files == 1] + " back needs a restore (w)."
	}
	return q
}

// about is an estimate of v.
func about(p remote.ArchivePrices, v float64) string {
	m := p.Money(v)
	if strings.HasPrefix(m, "≈") {
		return m
	}
	return "about " + m
}

func signed(p remote.ArchivePrices, v float64) string {
	if v >= 0.0001 {
		return "+" + p.Money(v)
	}
	return p.Money(v)
}

// refusedTier reports a tier that no archived file counted in t is
// offered (expedited when all are in deep-archive).
func refusedTier(p remote.ArchivePrices, t *treecount.Total, tier string) bool {
	if t == nil || countNonEmpty(*t) == 0 {
		return false
	}
	for _, ac := range []struct {
		class string
		tally treecount.Tally
	}{{"glacier", t.Glacier}, {"deep-archive", t.DeepArchive}} {
		cl, _ := p.Class(ac.class)
		if _, ok := cl.Tier(tier); ok && ac.tally.Files > 0 {
			return false
		}
	}
	return true
}

// tierQuestion states, for each tier, when a restore of the selection's
// archived files is expected and what it is estimated to cost.
func (a *App) tierQuestion(c *dialog.CountedMsg) string {
	p := a.arch.prices
	if c == nil || c.Err != nil || !c.Done {
		return "Restore at which tier?\n\n" + dialog.CountText(c)
	}
	t := c.Value
	arch := []struct {
		class string
		tally treecount.Tally
	}{{"glacier", t.Glacier}, {"deep-archive", t.DeepArchive}}
	files, bytes := t.Glacier.Files+t.DeepArchive.Files, t.Glacier.Bytes+t.DeepArchive.Bytes
	var b strings.Builder
	if files == 0 {
		b.WriteString("Nothing in the selection needs a restore now (hot, glacier-ir, being restored or restored already: a restored copy's days are extended).\n\n")
	} else {
		fmt.Fprintf(&b, "%s to restore, %s.\n\n", human.Plural(files, "archived file", "archived files"), human.Bytes(bytes))
	}
	for _, tier := range []string{"expedited", "standard", "bulk"} {
		var wait time.Duration
		cost, refused := 0.0, []string{}
		for _, ac := range arch {
			if ac.tally.Files == 0 {
				continue
			}
			cl, _ := p.Class(ac.class)
			tr, ok := cl.Tier(tier)
			if !ok {
				refused = append(refused, ac.class)
				continue
			}
			wait = max(wait, tr.Expected())
			cost += p.RestoreCost(tr, ac.tally.Files, ac.tally.Bytes, 0)
		}
		fmt.Fprintf(&b, "%s %s: ", tier[:1], strings.ToUpper(tier[:1])+tier[1:])
		switch {
		case files == 0:
			b.WriteString(tierTimesFor(p, tier))
		case len(refused) > 0 && len(refused) == countNonEmpty(t):
			b.WriteString("not offered for " + strings.Join(refused, ", "))
		default:
			b.WriteString(waitText(wait))
			if p.NoCharge() {
				b.WriteString(", no charge")
			} else {
				b.WriteString(", " + about(p, cost))
			}
			if len(refused) > 0 {
				b.WriteString(" (not offered for " + strings.Join(refused, ", ") + ": those are left out)")
			}
		}
		b.WriteString("\n")
	}
	if p.Engine == "cold-tier" {
		b.WriteString("\nThe cold tier's restore times are the server's --restore-delay.")
	}
	if !p.NoCharge() {
		fmt.Fprintf(&b, "\nThe copy is kept for the days you choose next, at %s/GB-month. Prices: %s.", p.Rate(p.HotPerGBMonth), p.Source)
	}
	return b.String()
}

func countNonEmpty(t treecount.Total) int {
	n := 0
	for _, x := range []treecount.Tally{t.Glacier, t.DeepArchive} {
		if x.Files > 0 {
			n++
		}
	}
	return n
}

// tierTimesFor says a tier's time per class, when nothing is to restore.
func tierTimesFor(p remote.ArchivePrices, tier string) string {
	var parts []string
	for _, c := range p.Classes {
		if tr, ok := c.Tier(tier); ok {
			parts = append(parts, c.Class+" "+waitText(tr.Expected()))
		}
	}
	if len(parts) == 0 {
		return "not offered"
	}
	return strings.Join(parts, ", ")
}

// daysPrompt asks for the days, with what each day of the copy costs.
func (a *App) daysPrompt() string {
	p := a.arch.prices
	q := fmt.Sprintf("Keep the restored copy for how many days (1-30)?")
	if t := a.arch.count; t != nil && !p.NoCharge() {
		bytes := t.Glacier.Bytes + t.DeepArchive.Bytes
		q += fmt.Sprintf("\nEach day of the copy of %s costs %s.", human.Bytes(bytes), about(p, archiveprice.GB(bytes)*p.HotPerGBMonth/30))
	}
	return q
}

func validDays(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 30 {
		return errors.New("a number of days from 1 to 30")
	}
	return nil
}

// archiveDialog carries out the answers of the archive and restore
// dialogs; done is false for any other dialog's.
func (a App) archiveDialog(msg tea.Msg) (App, tea.Cmd, bool) {
	switch m := msg.(type) {
	case dialog.CountedMsg:
		// The tier dialog's count: the days' prompt and the check of the
		// tier chosen need it (the dialog words its question itself).
		if m.ID == restoreTierDialog && m.Done && m.Err == nil {
			v := m.Value
			a.arch.count = &v
		}
		return a, nil, false
	case dialog.ChoiceMsg:
		switch m.ID {
		case archiveClassDialog:
			a.closeDialog()
			if m.Canceled {
				return a, nil, true
			}
			a.arch.class = a.arch.prices.Classes[m.Index]
			d := dialog.NewCountingConfirm(a.st, archiveConfirmDialog, "Archive", a.archiveConfirmQuestion)
			d.SetSize(a.w, a.h)
			a.dlg = &d
			cmd := dialog.CountTreeCmd(a.dialogCtx(), a.o.Remote, archiveConfirmDialog, paths(a.pending.items))
			return a, cmd, true
		case restoreTierDialog:
			tier := []string{"expedited", "standard", "bulk"}[max(m.Index, 0)]
			if !m.Canceled && refusedTier(a.arch.prices, a.arch.count, tier) {
				// Asking would only be refused: the dialog stays.
				a.dlg.SetError(fmt.Errorf("no file here offers %s: choose another tier", tier))
				return a, nil, true
			}
			a.closeDialog()
			if m.Canceled {
				return a, nil, true
			}
			a.arch.tier = tier
			d := dialog.NewSuggestedInput(a.st, restoreDaysDialog, "Restore "+describe(a.pending.items)+" ("+a.arch.tier+")",
				a.daysPrompt(), strconv.Itoa(DefaultRestoreDays), validDays)
			d.SetSize(a.w, a.h)
			a.dlg = &d
			return a, nil, true
		}
	case dialog.ConfirmedMsg:
		if m.ID != archiveConfirmDialog {
			return a, nil, false
		}
		a.closeDialog()
		if !m.Yes {
			return a, nil, true
		}
		cmd := a.runArchive(a.pending, a.arch.class.Class)
		return a, cmd, true
	case dialog.InputMsg:
		if m.ID != restoreDaysDialog {
			return a, nil, false
		}
		a.closeDialog()
		if m.Canceled {
			return a, nil, true
		}
		days, _ := strconv.Atoi(strings.TrimSpace(m.Value))
		cmd := a.runRestore(a.pending, a.arch.tier, days)
		return a, cmd, true
	}
	return a, nil, false
}

// runArchive archives the items (folders as jobs) off the UI.
func (a *App) runArchive(op pendingOp, class string) tea.Cmd {
	r, ctx := a.o.Remote, a.o.Ctx
	a.setOK(fmt.Sprintf("Archiving %s to %s…", describe(op.items), class))
	return func() tea.Msg {
		var n, skipped int64
		why := ""
		for _, it := range op.items {
			res, err := r.Archive(ctx, it.Path, class, it.Dir)
			if err != nil {
				return archiveDoneMsg{what: "archive " + it.Name, pane: op.pane, err: err}
			}
			n, skipped, why = n+1, skipped+jobSkipped(res), jobWhy(res, why)
			if res.Job != nil {
				n += res.Job.Done - 1
			}
		}
		what := fmt.Sprintf("Archived %s to %s", human.Plural(int(n), "file", "files"), class)
		if skipped > 0 {
			what += fmt.Sprintf(" (%d left out: %s)", skipped, why)
		}
		return archiveDoneMsg{what: what, pane: op.pane}
	}
}

func jobSkipped(res remote.ArchiveResult) int64 {
	if res.Job == nil {
		return 0
	}
	return res.Job.Skipped
}

func jobWhy(res remote.ArchiveResult, why string) string {
	if res.Job != nil && res.Job.Why != "" {
		return res.Job.Why
	}
	return why
}

// runRestore asks for the items' restores (folders as jobs) off the UI.
func (a *App) runRestore(op pendingOp, tier string, days int) tea.Cmd {
	r, ctx, onPage := a.o.Remote, a.o.Ctx, a.view == viewArchive
	a.setOK(fmt.Sprintf("Asking for the restore of %s…", describe(op.items)))
	return func() tea.Msg {
		var started, skipped int64
		var notes []string
		why := ""
		var expected time.Time
		for _, it := range op.items {
			res, err := r.Restore(ctx, it.Path, tier, days, it.Dir)
			if err != nil {
				return archiveDoneMsg{what: "restore " + it.Name, pane: op.pane, err: err}
			}
			switch {
			case res.Job != nil:
				started += res.Job.Done
				skipped, why = skipped+res.Job.Skipped, jobWhy(res, why)
			case res.Started:
				started++
				if ai := res.Entry.Archive; ai != nil && ai.Expected.After(expected) {
					expected = ai.Expected
				}
			case res.Note != "":
				notes = append(notes, it.Name+": "+res.Note)
			}
		}
		what := fmt.Sprintf("Restoring %s (%s, kept %s)", human.Plural(int(started), "file", "files"), tier, human.Plural(days, "day", "days"))
		if !expected.IsZero() {
			what += ", expected by " + dialog.FormatTime(expected)
		}
		if started == 0 && len(notes) > 0 {
			what = strings.Join(notes, "; ")
		} else if !onPage {
			what += " — W to follow"
		}
		if skipped > 0 {
			what += fmt.Sprintf(" (%d left out: %s)", skipped, why)
		}
		return archiveDoneMsg{what: what, pane: op.pane}
	}
}

// archiveDone reports the end and shows the new states.
func (a App) archiveDone(msg archiveDoneMsg) (App, tea.Cmd) {
	if msg.err != nil {
		a.setErr(fmt.Errorf("%s: %w", msg.what, msg.err))
	} else {
		a.setOK(msg.what)
	}
	a.panes[msg.pane].ClearSelection()
	cmds := []tea.Cmd{a.panes[msg.pane].Reload()}
	if a.view == viewArchive {
		// The screen hides the status line: it says so itself.
		if msg.err != nil {
			a.archivePage.SetStatus(a.status, false)
		} else {
			a.archivePage.SetStatus(msg.what, true)
		}
		cmds = append(cmds, a.archivePage.Refresh())
	}
	return a, tea.Batch(cmds...)
}

// archivedOf splits items into those whose content can be read now and
// the files that need a restore first (archived) or are being restored
// (restoring).
func archivedOf(items []filelist.Item) (readable, archived, restoring []filelist.Item) {
	for _, it := range items {
		switch {
		case it.Dir:
			readable = append(readable, it)
		case it.State == remote.StateRestoring:
			restoring = append(restoring, it)
		case it.State == remote.StateArchived && it.Class != "glacier-ir":
			archived = append(archived, it)
		default:
			readable = append(readable, it)
		}
	}
	return readable, archived, restoring
}

// restoringNote says when the restores of items are expected.
func restoringNote(items []filelist.Item) string {
	it := items[0]
	s := describe(items) + " is being restored"
	if len(items) > 1 {
		s = describe(items) + " are being restored"
	}
	if !it.Until.IsZero() {
		s += ", expected by " + dialog.FormatTime(it.Until)
	}
	return s + " (W to follow)"
}

// offerRestore opens the restore dialog for archived files that were to be
// read (downloaded, opened), and says when those being restored are due.
func (a *App) offerRestore(pane int, archived, restoring []filelist.Item) tea.Cmd {
	if len(restoring) > 0 {
		a.setErr(errors.New(restoringNote(restoring)))
	}
	if len(archived) == 0 {
		return nil
	}
	a.pending = pendingOp{pane: pane, items: archived}
	return a.fetchPrices(true, true)
}

// openArchivePage opens the Archive screen on the Strata pane's folder.
func (a *App) openArchivePage() tea.Cmd {
	pane := paneRemote
	if a.o.RemoteOnly {
		pane = a.focus
	}
	a.archiveSeq++
	a.archivePage = archiveview.New(a.o.Ctx, a.st, a.o.Remote, a.panes[pane].Dir(), a.o.ArchivePoll, a.archiveSeq)
	a.archivePage.SetSize(a.w, a.h-1)
	a.view = viewArchive
	return a.archivePage.Init()
}

// archiveUpdate routes the archive flows' messages and the Archive
// screen's.
func (a App) archiveUpdate(msg tea.Msg) (App, tea.Cmd) {
	switch msg := msg.(type) {
	case archivePricesMsg:
		return a.pricesArrived(msg)
	case archiveDoneMsg:
		return a.archiveDone(msg)
	case archiveview.Msg:
		if a.view != viewArchive {
			return a, nil // the screen is closed: its ticks stop here
		}
		var cmd tea.Cmd
		a.archivePage, cmd = a.archivePage.Update(msg)
		return a, cmd
	case archiveview.ClosedMsg:
		a.view = viewPanes
		if msg.GoTo == "" {
			return a, nil
		}
		pane := paneRemote
		if a.o.RemoteOnly {
			pane = a.focus
		}
		if a.focus != pane {
			a.panes[a.focus].Focus(false)
			a.focus = pane
			a.panes[pane].Focus(true)
		}
		return a, a.panes[pane].Reveal(msg.GoTo)
	case archiveview.RestoreMsg:
		items := make([]filelist.Item, len(msg.Entries))
		for i, e := range msg.Entries {
			items[i] = filelist.Item{Name: e.Name, Path: e.Path, Size: e.Size, State: e.State}
		}
		if len(items) == 0 {
			return a, nil
		}
		a.pending = pendingOp{pane: paneRemote, items: items}
		return a, a.fetchPrices(true, false)
	}
	return a, nil
}
