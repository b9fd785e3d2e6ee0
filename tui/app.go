// Package tui is Strata's terminal file manager: two panes (the local file
// system and the Strata server), transfers between them, and the file
// operations, trash and versions of the server. It reaches the server only
// through remote.Remote; every call that may block runs in a tea.Cmd.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/accessview"
	"github.com/strata-storage/strata/tui/archiveview"
	"github.com/strata-storage/strata/tui/bookmarks"
	"github.com/strata-storage/strata/tui/complete"
	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/external"
	"github.com/strata-storage/strata/tui/filelist"
	helpview "github.com/strata-storage/strata/tui/help"
	"github.com/strata-storage/strata/tui/info"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/shareview"
	"github.com/strata-storage/strata/tui/sources"
	"github.com/strata-storage/strata/tui/style"
	"github.com/strata-storage/strata/tui/transfer"
	"github.com/strata-storage/strata/tui/trashview"
	"github.com/strata-storage/strata/tui/versionsview"
)

// Options configure the app.
type Options struct {
	Remote remote.Remote
	// Where reads "local mode (data dir)" or the server's address, for the
	// header.
	Where string
	// LocalDir is where the local pane starts (default: the working dir).
	LocalDir string
	// Transfers runs the transfers (its state file makes them resume after
	// a restart); the app closes it when it quits.
	Transfers *transfer.Manager
	Styles    *style.Styles
	// Ctx bounds every call the app makes.
	Ctx context.Context
	// StatusTTL is how long a message stays in the status line (errors
	// three times as long); default 6s.
	StatusTTL time.Duration
	// Bookmarks is the bookmarks file ("" keeps them for the session
	// only).
	Bookmarks string
	// BigOpen is the size of a Strata file above which opening it in the
	// pager or the editor asks first (default the BigOpen constant).
	BigOpen int64
	// Clipboard puts text on the user's clipboard (a new user's token);
	// nil: there is none (Run sends it to the terminal, OSC 52).
	Clipboard func(text string) error
	// Waits tells, as they happen, of requests waiting before they are
	// sent again (a rate limit's Retry-After, a busy server): the status
	// line shows each (nil: none are told).
	Waits <-chan string
	// RemoteOnly is the layout of a session on the server itself (the
	// file manager over SSH): there is no local file system of the
	// user's, so both panes show Strata, F5 and F6 copy and move on the
	// server, and nothing opens, uploads or downloads local files.
	RemoteOnly bool
	// Commands, when set, is how the user copies files in and out of a
	// Strata folder from their own machine (the scp and sftp commands):
	// the header shows it for the focused folder and y copies it.
	Commands func(dir string) string
	// CopyOut, when set, is the command that copies the marked files
	// (folders with recursive) to the user's machine: y copies it when
	// files are marked.
	CopyOut func(paths []string, recursive bool) string
	// ArchivePoll is how often the Archive screen looks again at files
	// being restored (default archiveview.DefaultPoll).
	ArchivePoll time.Duration
	// PingEvery is how often the app asks an unreachable server whether
	// it is back (default 3s).
	PingEvery time.Duration
	// PingWait, when set, is the wait before each of those pings in place
	// of a PingEvery timer, so that a test decides when the time has come.
	PingWait func(ctx context.Context) error
}

const (
	paneLocal  = 0
	paneRemote = 1
)

// view is what fills the screen under the header.
type view int

const (
	viewPanes view = iota
	viewHelp
	viewTransfers
	viewTrash
	viewVersions
	viewAccess
	viewArchive
	viewShares
)

// App is the root model.
type App struct {
	o     Options
	st    *style.Styles
	keys  KeyMap
	w, h  int
	panes [2]filelist.Model
	focus int
	view  view

	user     remote.User
	status   string
	statusOK bool
	// statusSeq counts status messages; statusTimed is the last one whose
	// expiry is scheduled.
	statusSeq, statusTimed int
	offline                bool // the server is unreachable; pings watch for its return
	pinging                bool

	showInfo bool
	info     info.Model
	help     helpview.Model
	tview    transfer.Model
	trash    trashview.Model
	versions versionsview.Model
	access   accessview.Model
	// archivePage is the Archive screen; arch what the open archive or
	// restore dialog is about (archive.go).
	archivePage archiveview.Model
	archiveSeq  int
	arch        archiveFlow
	shares      shareview.Model

	dlg *dialog.Model
	// dlgStop ends what the open dialog started (its count).
	dlgStop context.CancelFunc
	pending pendingOp

	filesDone int // transfers finished when the panes were last reloaded

	mark marks
	open *opening // a Strata file opened in the pager or the editor
	// noteSeq is the transfers' last move outcome shown.
	noteSeq int

	// usage is the home folder's usage for the status bar (usage.go).
	usage                remote.Usage
	hasUsage             bool
	usageSeq, usageShown int
}

// pendingOp is what an open dialog is about.
type pendingOp struct {
	pane  int
	items []filelist.Item
}

// New builds the app.
func New(o Options) App {
	if o.Ctx == nil {
		o.Ctx = context.Background()
	}
	if o.LocalDir == "" {
		o.LocalDir, _ = os.Getwd()
	}
	if o.StatusTTL <= 0 {
		o.StatusTTL = 6 * time.Second
	}
	if o.BigOpen <= 0 {
		o.BigOpen = BigOpen
	}
	if o.PingEvery <= 0 {
		o.PingEvery = 3 * time.Second
	}
	if o.PingWait == nil {
		o.PingWait = waitFor(o.PingEvery)
	}
	st := o.Styles
	// Focus starts on the local pane: what a new user does first is pick
	// files there and upload them (Space, u).
	a := App{o: o, st: st, keys: DefaultKeyMap(), focus: paneLocal}
	if o.RemoteOnly {
		a.panes[paneLocal] = filelist.New(sources.Remote(o.Remote), st, "")
	} else {
		a.panes[paneLocal] = filelist.New(sources.Local("/"), st, o.LocalDir)
	}
	a.panes[paneRemote] = filelist.New(sources.Remote(o.Remote), st, "")
	a.panes[paneLocal].Focus(true)
	a.info = info.New(o.Ctx, st, o.Remote)
	a.tview = transfer.NewModel(o.Transfers, st)
	a.help = helpview.New(st, a.helpSections())
	var err error
	if a.mark.store, err = bookmarks.Load(o.Bookmarks); err != nil {
		a.setErr(err)
	}
	if n := o.Transfers.Resumed(); n > 0 {
		a.setOK(fmt.Sprintf("Resuming %s (t to see them)", human.Plural(n, "unfinished transfer", "unfinished transfers")))
	}
	return a
}

// whoamiMsg carries who we are on the server (and proves it answers).
type whoamiMsg struct {
	user remote.User
	err  error
}

// pingMsg is the answer to a ping while the server was unreachable.
type pingMsg struct{ err error }

// opDoneMsg ends a file operation.
type opDoneMsg struct {
	what   string
	pane   int
	err    error
	reload bool
}

// Init loads both panes and asks the server who we are.
func (a App) Init() tea.Cmd {
	r, ctx := a.o.Remote, a.o.Ctx
	return tea.Batch(
		a.panes[paneLocal].Init(),
		func() tea.Msg {
			u, err := r.Whoami(ctx)
			return whoamiMsg{u, err}
		},
		a.tview.Init(),
		a.nextWait(),
	)
}

// Update routes a message (see update), and times out a new status
// message.
func (a App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := a.update(msg)
	if m.statusSeq != m.statusTimed {
		m.statusTimed = m.statusSeq
		cmd = tea.Batch(cmd, m.expireStatus())
	}
	return m, cmd
}

// update routes a message: dialogs first, then the view on screen, then the
// app's own keys, then the focused pane.
func (a App) update(msg tea.Msg) (App, tea.Cmd) {
	var cmds []tea.Cmd
	if o, ok := msg.(filelist.OpenedMsg); ok {
		a.noteOpened(o)
	}
	switch msg := msg.(type) {
	case statusExpiredMsg:
		if msg.seq == a.statusSeq {
			a.status = ""
		}
		return a, nil

	case waitMsg:
		a.setOK(string(msg))
		return a, a.nextWait()

	case openFetchedMsg, openClosedMsg, openCheckedMsg, openUploadedMsg:
		return a.openUpdate(msg)

	case marksSavedMsg:
		if msg.err != nil {
			a.setErr(msg.err)
		}
		return a, nil

	case tea.WindowSizeMsg:
		a.w, a.h = msg.Width, msg.Height
		a.layout()
		return a, nil

	case whoamiMsg:
		if msg.err != nil {
			a.setErr(msg.err)
			if remote.IsDisconnected(msg.err) {
				return a, a.watchConnection()
			}
			return a, nil
		}
		a.user = msg.user
		// The remote pane starts in the user's home (both do over SSH).
		if a.o.RemoteOnly {
			return a, tea.Batch(a.panes[paneLocal].Navigate(msg.user.Home), a.panes[paneRemote].Navigate(msg.user.Home), a.fetchUsage(), a.fetchLinked())
		}
		return a, tea.Batch(a.panes[paneRemote].Navigate(msg.user.Home), a.fetchUsage(), a.fetchLinked())

	case usageMsg:
		a.gotUsage(msg)
		return a, nil

	case linkedMsg:
		a.gotLinked(msg)
		return a, nil

	case pingMsg:
		a.pinging = false
		if msg.err != nil {
			if a.o.Ctx.Err() != nil {
				return a, nil // the app is ending: nothing to watch for
			}
			return a, a.watchConnection()
		}
		a.offline = false
		a.setOK("Connection to the server is back")
		cmds = append(cmds, a.panes[paneRemote].Reload())
		if a.user.Home == "" {
			r, ctx := a.o.Remote, a.o.Ctx
			cmds = append(cmds, func() tea.Msg {
				u, err := r.Whoami(ctx)
				return whoamiMsg{u, err}
			})
		}
		return a, tea.Batch(cmds...)

	case opDoneMsg:
		if msg.err != nil {
			a.setErr(fmt.Errorf("%s: %w", msg.what, msg.err))
			if remote.IsDisconnected(msg.err) {
				cmds = append(cmds, a.watchConnection())
			}
		} else {
			a.setOK(msg.what)
			cmds = append(cmds, a.fetchUsage())
		}
		if msg.reload || msg.err == nil {
			a.panes[msg.pane].ClearSelection()
			cmds = append(cmds, a.panes[msg.pane].Reload())
			if a.o.RemoteOnly {
				// Both panes show Strata: the change may be in either.
				cmds = append(cmds, a.panes[1-msg.pane].Reload())
			}
		}
		return a, tea.Batch(cmds...)

	case transfer.ChangedMsg:
		var cmd tea.Cmd
		a.tview, cmd = a.tview.Update(msg)
		cmds = append(cmds, cmd)
		snap := a.tview.Snapshot()
		if snap.Conflict != nil && a.view == viewPanes && a.dlg == nil {
			// A name exists at the destination: the transfers view asks.
			a.view = viewTransfers
		}
		cmds = append(cmds, a.moveNoted(snap))
		if snap.FilesDone != a.filesDone {
			// Finished files appear in the panes.
			a.filesDone = snap.FilesDone
			cmds = append(cmds, a.panes[paneLocal].Reload(), a.panes[paneRemote].Reload(), a.fetchUsage())
		}
		return a, tea.Batch(cmds...)

	case helpview.ClosedMsg:
		a.view = viewPanes
		return a, nil

	case trashview.ClosedMsg:
		a.view = viewPanes
		if msg.Restored > 0 {
			return a, tea.Batch(a.panes[paneRemote].Reload(), a.fetchUsage())
		}
		// Emptied or purged items gave their space back.
		return a, a.fetchUsage()

	case versionsview.SavedMsg:
		return a, a.panes[paneLocal].Reload()

	case versionsview.ClosedMsg:
		a.view = viewPanes
		if msg.Restored {
			return a, a.panes[paneRemote].Reload()
		}
		return a, nil

	case accessview.ClosedMsg:
		a.view = viewPanes
		return a, nil

	case archivePricesMsg, archiveDoneMsg, archiveview.Msg, archiveview.ClosedMsg, archiveview.RestoreMsg:
		return a.archiveUpdate(msg)
	case shareview.ClosedMsg:
		return a, a.sharesClosed(msg)

	case dialog.ConfirmedMsg, dialog.InputMsg, dialog.ChoiceMsg, dialog.CountedMsg, dialog.CompletedMsg:
		return a.dialogMsg(msg)

	case jumpCheckedMsg:
		if a.dlg == nil || a.dlg.ID() != "jump" {
			return a, nil // cancelled meanwhile
		}
		if msg.err != nil {
			a.dlg.SetError(msg.err)
			return a, nil
		}
		a.dlg = nil
		return a, a.panes[msg.pane].Navigate(msg.target)

	case info.Msg:
		var cmd tea.Cmd
		a.info, cmd = a.info.Update(msg)
		return a, cmd

	case trashview.Msg:
		var cmd tea.Cmd
		a.trash, cmd = a.trash.Update(msg)
		return a, cmd

	case versionsview.Msg:
		var cmd tea.Cmd
		a.versions, cmd = a.versions.Update(msg)
		return a, cmd

	case accessview.Msg:
		var cmd tea.Cmd
		a.access, cmd = a.access.Update(msg)
		return a, cmd

	case shareview.Msg:
		var cmd tea.Cmd
		a.shares, cmd = a.shares.Update(msg)
		return a, cmd

	case filelist.ActivateMsg:
		// Enter on a file: show what it is.
		a.showInfo = true
		a.layout()
		return a, a.showCurrentInfo()

	case tea.MouseMsg:
		if a.dlg != nil || a.view != viewPanes {
			return a, nil
		}
		return a.mouse(msg)

	case tea.KeyMsg:
		return a.key(msg)
	}

	// Everything else (pages, spinners) goes to both panes: each drops
	// what is not its own.
	for i := range a.panes {
		var cmd tea.Cmd
		a.panes[i], cmd = a.panes[i].Update(msg)
		cmds = append(cmds, cmd)
	}
	if a.dlg != nil {
		d, cmd := a.dlg.Update(msg)
		a.dlg = &d
		cmds = append(cmds, cmd)
	}
	var cmd tea.Cmd
	a.tview, cmd = a.tview.Update(msg)
	cmds = append(cmds, cmd)
	cmds = append(cmds, a.afterPaneChange())
	return a, tea.Batch(cmds...)
}

// afterPaneChange notices a lost connection in the remote pane and keeps
// the info panel on the entry under the cursor.
func (a *App) afterPaneChange() tea.Cmd {
	var cmds []tea.Cmd
	if err := a.panes[paneRemote].Err(); err != nil && remote.IsDisconnected(err) && !a.offline {
		a.offline = true
		cmds = append(cmds, a.watchConnection())
	}
	if a.showInfo {
		cmds = append(cmds, a.showCurrentInfo())
	}
	return tea.Batch(cmds...)
}

// watchConnection pings the server every few seconds until it answers.
func (a *App) watchConnection() tea.Cmd {
	a.offline = true
	if a.pinging {
		return nil
	}
	a.pinging = true
	r, ctx, wait := a.o.Remote, a.o.Ctx, a.o.PingWait
	return func() tea.Msg {
		if err := wait(ctx); err != nil {
			return pingMsg{err}
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return pingMsg{r.Ping(pctx)}
	}
}

// waitFor waits d, or less if ctx ends first.
func waitFor(d time.Duration) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (a *App) setErr(err error) {
	a.status, a.statusOK = err.Error(), false
	a.statusSeq++
}

func (a *App) setOK(s string) {
	a.status, a.statusOK = s, true
	a.statusSeq++
}

// statusExpiredMsg clears the status line if it still shows message seq.
type statusExpiredMsg struct{ seq int }

// expireStatus clears the status line after a while: a message is about
// what just happened, and one that stays reads as if it were still true
// ("Uploading 3 items…" long after they are done). Errors stay longer.
func (a *App) expireStatus() tea.Cmd {
	if a.status == "" {
		return nil
	}
	ttl, seq := a.o.StatusTTL, a.statusSeq
	if !a.statusOK {
		ttl *= 3
	}
	return tea.Tick(ttl, func(time.Time) tea.Msg { return statusExpiredMsg{seq} })
}

// key handles a key press.
func (a App) key(msg tea.KeyMsg) (App, tea.Cmd) {
	if key.Matches(msg, a.keys.ForceQuit) {
		// ctrl+c never asks: unfinished transfers resume next time.
		return a, tea.Quit
	}
	if a.dlg != nil {
		d, cmd := a.dlg.Update(msg)
		a.dlg = &d
		return a, cmd
	}
	if a.mark.mode != markNone {
		return a.markKey(msg)
	}
	switch a.view {
	case viewHelp:
		var cmd tea.Cmd
		a.help, cmd = a.help.Update(msg)
		return a, cmd
	case viewTransfers:
		if key.Matches(msg, a.keys.Back) || key.Matches(msg, a.keys.Transfers) {
			if a.tview.Snapshot().Conflict == nil {
				a.view = viewPanes
				return a, nil
			}
		}
		var cmd tea.Cmd
		a.tview, cmd = a.tview.Update(msg)
		return a, cmd
	case viewTrash:
		var cmd tea.Cmd
		a.trash, cmd = a.trash.Update(msg)
		return a, cmd
	case viewVersions:
		var cmd tea.Cmd
		a.versions, cmd = a.versions.Update(msg)
		return a, cmd
	case viewAccess:
		var cmd tea.Cmd
		a.access, cmd = a.access.Update(msg)
		return a, cmd
	case viewArchive:
		var cmd tea.Cmd
		a.archivePage, cmd = a.archivePage.Update(msg)
		return a, cmd
	case viewShares:
		var cmd tea.Cmd
		a.shares, cmd = a.shares.Update(msg)
		return a, cmd
	}

	p := &a.panes[a.focus]
	if p.Filtering() {
		var cmd tea.Cmd
		*p, cmd = p.Update(msg)
		return a, tea.Batch(cmd, a.afterPaneChange())
	}
	remotePane := !a.local(a.focus)
	if a.o.RemoteOnly {
		if handled, cmd := a.remoteOnlyKey(msg); handled {
			return a, cmd
		}
	}
	switch {
	case key.Matches(msg, a.keys.Quit):
		return a, a.quit()
	case key.Matches(msg, a.keys.Switch):
		a.panes[a.focus].Focus(false)
		a.focus = 1 - a.focus
		a.panes[a.focus].Focus(true)
		return a, a.afterPaneChange()
	case key.Matches(msg, a.keys.Help):
		a.view = viewHelp
		a.help.SetSize(a.w, a.h-1)
		return a, nil
	case key.Matches(msg, a.keys.Transfers):
		a.view = viewTransfers
		return a, nil
	case key.Matches(msg, a.keys.Info):
		a.showInfo = !a.showInfo
		a.layout()
		if a.showInfo {
			return a, a.showCurrentInfo()
		}
		return a, nil
	case key.Matches(msg, a.keys.Reload):
		if remotePane {
			return a, tea.Batch(p.Reload(), a.fetchLinked())
		}
		return a, p.Reload()
	case key.Matches(msg, a.keys.Jump):
		return a, a.openPathInput("jump", "Go to", "Folder:", a.focus, p.Dir())
	case key.Matches(msg, a.keys.Back) && a.cancelOpen():
		return a, nil
	case key.Matches(msg, a.keys.Back) && a.showInfo && p.Filter() == "":
		// Esc with no filter to clear closes the info panel, as i does.
		a.showInfo = false
		a.layout()
		return a, nil
	case key.Matches(msg, a.keys.View):
		return a, a.openFile(external.Pager)
	case key.Matches(msg, a.keys.Edit):
		return a, a.openFile(external.Editor)
	case key.Matches(msg, a.keys.Mark):
		a.startMark(markSet)
		return a, nil
	case key.Matches(msg, a.keys.GoMark):
		a.startMark(markJump)
		return a, nil
	case key.Matches(msg, a.keys.Upload):
		return a, a.upload()
	case key.Matches(msg, a.keys.Download):
		return a, a.download()
	case key.Matches(msg, a.keys.CopyOver):
		return a, a.copyOver()
	case key.Matches(msg, a.keys.MoveOver):
		return a, a.confirmMoveOver()
	case key.Matches(msg, a.keys.Mkdir):
		return a, a.openInput("mkdir", "New folder", "Name:", "", validName)
	case key.Matches(msg, a.keys.Rename):
		it, ok := p.Current()
		if !ok {
			return a, nil
		}
		a.pending = pendingOp{pane: a.focus, items: []filelist.Item{it}}
		return a, a.openInput("rename", "Rename", "New name:", it.Name, validName)
	case key.Matches(msg, a.keys.Move), key.Matches(msg, a.keys.Copy):
		if !remotePane {
			a.setErr(errors.New("move and copy work on the Strata pane; use u and d to transfer"))
			return a, nil
		}
		items := p.Selected()
		if len(items) == 0 {
			return a, nil
		}
		a.pending = pendingOp{pane: a.focus, items: items}
		id, title := "move", "Move"
		if key.Matches(msg, a.keys.Copy) {
			id, title = "copy", "Copy"
		}
		return a, a.openPathInput(id, fmt.Sprintf("%s %s", title, describe(items)), "To folder:", paneRemote, p.Dir())
	case key.Matches(msg, a.keys.Delete):
		return a, a.confirmDelete()
	case key.Matches(msg, a.keys.Trash):
		a.trash = trashview.New(a.o.Ctx, a.st, a.o.Remote)
		a.trash.SetSize(a.w, a.h-1)
		a.view = viewTrash
		return a, a.trash.Init()
	case key.Matches(msg, a.keys.Versions):
		it, ok := a.panes[paneRemote].Current()
		if a.o.RemoteOnly {
			it, ok = p.Current()
		}
		if !remotePane || !ok || it.Dir {
			a.setErr(errors.New("versions: choose a file on the Strata pane"))
			return a, nil
		}
		a.versions = versionsview.New(a.o.Ctx, a.st, a.o.Remote, it.Path)
		if !a.o.RemoteOnly {
			a.versions.SetDownloadDir(a.panes[paneLocal].Dir())
		}
		a.versions.SetSize(a.w, a.h-1)
		a.view = viewVersions
		return a, a.versions.Init()
	case key.Matches(msg, a.keys.Archive):
		return a, a.startArchive(false)
	case key.Matches(msg, a.keys.Restore):
		return a, a.startArchive(true)
	case key.Matches(msg, a.keys.ArchivePage):
		return a, a.openArchivePage()
	case key.Matches(msg, a.keys.Access):
		a.access = accessview.New(a.o.Ctx, a.st, a.o.Remote, a.o.Clipboard)
		a.access.SetSize(a.w, a.h-1)
		a.view = viewAccess
		return a, a.access.Init()
	case key.Matches(msg, a.keys.Shares):
		return a, a.openShares()
	case key.Matches(msg, a.keys.Share):
		return a, a.shareSelection()
	}
	var cmd tea.Cmd
	*p, cmd = p.Update(msg)
	return a, tea.Batch(cmd, a.afterPaneChange())
}

// quit stops, after asking when transfers are still running.
func (a *App) quit() tea.Cmd {
	s := a.tview.Snapshot()
	if busy := s.Running + s.Queued + s.Conflicts; busy > 0 && a.dlg == nil {
		q := fmt.Sprintf("%d transfers are not finished. They resume the next time you start strata. Quit now?", busy)
		if busy == 1 {
			q = "1 transfer is not finished. It resumes the next time you start strata. Quit now?"
		}
		d := dialog.NewConfirm(a.st, "quit", "Quit", q)
		d.SetSize(a.w, a.h)
		a.dlg = &d
		return nil
	}
	return tea.Quit
}

func (a *App) openInput(id, title, prompt, value string, validate func(string) error) tea.Cmd {
	d := dialog.NewInput(a.st, id, title, prompt, value, validate)
	d.SetSize(a.w, a.h)
	a.dlg = &d
	return nil
}

func validName(s string) error {
	switch {
	case s == "" || s == "." || s == "..":
		return errors.New("a name is needed")
	case strings.ContainsAny(s, "/\x00"):
		return errors.New("a name cannot contain /")
	case len(s) > 255:
		return errors.New("at most 255 bytes")
	}
	return nil
}

// openPathInput asks for a folder on pane, suggesting value: typing
// replaces the suggestion, Tab completes folder names, and the answer is
// read as cd reads it (relative to the pane's folder, "~" on the local
// pane).
func (a *App) openPathInput(id, title, prompt string, pane int, value string) tea.Cmd {
	d := dialog.NewPathInput(a.st, id, title, prompt, value, notEmpty, a.tree(pane).Cmd(a.o.Ctx, id))
	d.SetSize(a.w, a.h)
	a.dlg = &d
	a.pending.pane = pane
	return nil
}

// tree is where paths typed for pane are read and completed.
func (a *App) tree(pane int) complete.Tree {
	if a.local(pane) {
		return complete.LocalTree(a.panes[paneLocal].Dir())
	}
	return complete.RemoteTree(a.o.Remote, a.panes[paneRemote].Dir())
}

// notEmpty refuses an empty answer.
func notEmpty(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("type a path")
	}
	return nil
}

// jumpCheckedMsg answers whether a folder typed into "go to" exists.
type jumpCheckedMsg struct {
	pane   int
	target string
	err    error
}

// checkFolder reports whether target is a folder on pane, off the UI:
// going to a folder that is not there must say so, not open an empty pane
// that an upload would then silently create.
func (a *App) checkFolder(pane int, target string) tea.Cmd {
	r, ctx, local := a.o.Remote, a.o.Ctx, a.local(pane)
	return func() tea.Msg {
		var err error
		if local {
			var fi os.FileInfo
			if fi, err = os.Stat(target); err == nil && !fi.IsDir() {
				err = fmt.Errorf("%s is a file, not a folder", target)
			} else if errors.Is(err, fs.ErrNotExist) {
				err = fmt.Errorf("there is no folder %s", target)
			}
		} else {
			sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			var e remote.Entry
			if e, err = r.Stat(sctx, target); err == nil && !e.IsDir() {
				err = fmt.Errorf("%s is a file, not a folder", target)
			} else if errors.Is(err, remote.ErrForbidden) {
				// A policy may allow listing a folder (strata:ListFolder)
				// but not reading it (strata:GetFile, which a stat is).
				if _, lerr := r.List(sctx, target, "", 1); lerr == nil {
					err = nil
				}
			} else if errors.Is(err, remote.ErrNotFound) {
				err = fmt.Errorf("there is no folder %s", target)
			}
		}
		return jumpCheckedMsg{pane: pane, target: target, err: err}
	}
}

// describe says what a selection is, for dialog titles.
// whoseTrash says where what was deleted at p went: what is deleted in a
// folder someone shares (/shared/<owner>/...) goes to the owner's trash.
func whoseTrash(p string) string {
	if rest, ok := strings.CutPrefix(p, "/shared/"); ok {
		if owner, _, ok := strings.Cut(rest, "/"); ok {
			return dialog.Quote(owner) + "'s trash (they can restore it)"
		}
	}
	return "the trash (T to see it)"
}

func describe(items []filelist.Item) string {
	if len(items) == 1 {
		return dialog.Quote(items[0].Name)
	}
	return fmt.Sprintf("%d items", len(items))
}

func (a *App) upload() tea.Cmd {
	if a.focus != paneLocal {
		a.setErr(errors.New("upload: choose files on the local pane (Tab), then u"))
		return nil
	}
	items := a.panes[paneLocal].Selected()
	dst := a.panes[paneRemote].Dir()
	for _, it := range items {
		a.o.Transfers.Upload(it.Path, dst)
	}
	a.panes[paneLocal].ClearSelection()
	if len(items) > 0 {
		a.setOK(fmt.Sprintf("Uploading %s to %s (t to watch)", describe(items), dst))
	}
	return nil
}

func (a *App) download() tea.Cmd {
	if a.focus != paneRemote {
		a.setErr(errors.New("download: choose files on the Strata pane (Tab), then d"))
		return nil
	}
	// Archived files cannot be read until restored: they get the restore
	// dialog instead (archive.go).
	items, archived, restoring := archivedOf(a.panes[paneRemote].Selected())
	dst := a.panes[paneLocal].Dir()
	for _, it := range items {
		a.o.Transfers.Download(it.Path, it.Dir, dst)
	}
	a.panes[paneRemote].ClearSelection()
	if len(items) > 0 {
		a.setOK(fmt.Sprintf("Downloading %s to %s (t to watch)", describe(items), dst))
	}
	return a.offerRestore(paneRemote, archived, restoring)
}

// confirmDelete asks before deleting, with what it holds counted.
func (a *App) confirmDelete() tea.Cmd {
	items := a.panes[a.focus].Selected()
	if len(items) == 0 {
		return nil
	}
	a.pending = pendingOp{pane: a.focus, items: items}
	folders, files, paths := kinds(items)
	if a.local(a.focus) {
		d := dialog.NewConfirm(a.st, "delete-local", "Delete",
			fmt.Sprintf("Delete %s from this computer? There is no trash here: this cannot be undone.", describe(items)))
		d.SetDefault(1)
		d.SetSize(a.w, a.h)
		a.dlg = &d
		return nil
	}
	d := dialog.NewTrashConfirm(a.st, "delete", folders, files)
	d.SetSize(a.w, a.h)
	a.dlg = &d
	return dialog.CountTreeCmd(a.dialogCtx(), a.o.Remote, "delete", paths)
}

// dialogMsg routes a dialog's answer (or its count) to whoever opened the
// dialog: the app's own dialog is answered while it is open; otherwise the
// dialog was the screen's on view (the trash, versions and access screens
// open their own), which must get its answer or it waits for ever.
func (a App) dialogMsg(msg tea.Msg) (App, tea.Cmd) {
	if c, ok := msg.(dialog.ConfirmedMsg); ok && a.dlg != nil && (c.ID == openBigDialog || c.ID == openUploadDialog) {
		return a.openAnswer(c)
	}
	if a.dlg == nil {
		var cmd tea.Cmd
		switch a.view {
		case viewTrash:
			a.trash, cmd = a.trash.Update(msg)
		case viewVersions:
			a.versions, cmd = a.versions.Update(msg)
		case viewAccess:
			a.access, cmd = a.access.Update(msg)
		case viewShares:
			a.shares, cmd = a.shares.Update(msg)
		}
		return a, cmd
	}
	a, cmd, done := a.archiveDialog(msg)
	if done {
		return a, cmd
	}
	switch m := msg.(type) {
	case dialog.CountedMsg, dialog.CompletedMsg:
		d, cmd := a.dlg.Update(m)
		a.dlg = &d
		return a, cmd
	case dialog.InputMsg:
		if m.ID == "jump" && !m.Canceled {
			// The dialog stays until the folder is known to be there, so
			// that a typo can be mended.
			pane := a.pending.pane
			return a, a.checkFolder(pane, a.tree(pane).Resolve(m.Value))
		}
	}
	return a.dialogDone(msg)
}

// dialogDone carries out what the app's own dialog was about.
func (a App) dialogDone(msg tea.Msg) (App, tea.Cmd) {
	a.closeDialog()
	op := a.pending
	r, ctx := a.o.Remote, a.o.Ctx
	switch m := msg.(type) {
	case dialog.ConfirmedMsg:
		if !m.Yes {
			return a, nil
		}
		switch m.ID {
		case "quit":
			return a, tea.Quit
		case "delete":
			return a, func() tea.Msg {
				for _, it := range op.items {
					if _, err := r.Delete(ctx, it.Path, true); err != nil {
						return opDoneMsg{what: "delete " + it.Name, pane: op.pane, err: err, reload: true}
					}
				}
				return opDoneMsg{what: fmt.Sprintf("Moved %s to %s", describe(op.items), whoseTrash(op.items[0].Path)), pane: op.pane}
			}
		case moveOverDialog:
			return a, a.moveOver(op)
		case "delete-local":
			return a, func() tea.Msg {
				for _, it := range op.items {
					if err := os.RemoveAll(it.Path); err != nil {
						return opDoneMsg{what: "delete " + it.Name, pane: op.pane, err: err, reload: true}
					}
				}
				return opDoneMsg{what: "Deleted " + describe(op.items), pane: op.pane}
			}
		}
	case dialog.InputMsg:
		if m.Canceled {
			return a, nil
		}
		pane := a.focus
		if m.ID == "rename" || m.ID == "move" || m.ID == "copy" {
			pane = op.pane
		}
		dir := a.panes[pane].Dir()
		switch m.ID {
		case "mkdir":
			if a.local(pane) {
				p := filepath.Join(dir, m.Value)
				return a, func() tea.Msg {
					return opDoneMsg{what: "Created " + p, pane: pane, err: os.Mkdir(p, 0o755)}
				}
			}
			p := path.Join(dir, m.Value)
			return a, func() tea.Msg {
				_, err := r.Mkdir(ctx, p)
				return opDoneMsg{what: "Created " + p, pane: pane, err: err}
			}
		case "rename":
			it := op.items[0]
			if a.local(pane) {
				to := filepath.Join(filepath.Dir(it.Path), m.Value)
				return a, func() tea.Msg {
					if _, err := os.Lstat(to); err == nil {
						return opDoneMsg{what: "rename", pane: pane, err: fmt.Errorf("%s exists", to)}
					}
					return opDoneMsg{what: "Renamed to " + m.Value, pane: pane, err: os.Rename(it.Path, to)}
				}
			}
			to := path.Join(path.Dir(it.Path), m.Value)
			return a, func() tea.Msg {
				_, err := r.Move(ctx, it.Path, to, false)
				return opDoneMsg{what: "Renamed to " + m.Value, pane: pane, err: err}
			}
		case "move", "copy":
			dst := a.tree(pane).Resolve(m.Value)
			return a, func() tea.Msg {
				for _, it := range op.items {
					to := path.Join(dst, it.Name)
					var err error
					if m.ID == "move" {
						_, err = r.Move(ctx, it.Path, to, false)
					} else {
						_, err = r.Copy(ctx, it.Path, to)
					}
					if err != nil {
						return opDoneMsg{what: m.ID + " " + it.Name, pane: pane, err: err, reload: true}
					}
				}
				verb := "Moved"
				if m.ID == "copy" {
					verb = "Copied"
				}
				return opDoneMsg{what: fmt.Sprintf("%s %s to %s", verb, describe(op.items), dst), pane: pane}
			}
		}
	}
	return a, nil
}

// showCurrentInfo points the info panel at the focused pane's cursor.
func (a *App) showCurrentInfo() tea.Cmd {
	it, ok := a.panes[a.focus].Current()
	if !ok {
		a.info.Clear()
		return nil
	}
	if !a.local(a.focus) {
		return a.info.Show(info.Item{Remote: true, Path: it.Path, Name: it.Name, Dir: it.Dir, Size: it.Size,
			ModTime: it.ModTime, Created: it.Created, SHA256: it.SHA256, ClientDigest: it.ClientDigest, Version: it.Version, State: it.State})
	}
	fi, err := os.Lstat(it.Path)
	if err != nil {
		a.info.Clear()
		return nil
	}
	return a.info.Show(info.FromLocal(it.Path, fi))
}

// mouse sends a mouse event to the pane under it, made relative to it.
func (a App) mouse(msg tea.MouseMsg) (App, tea.Cmd) {
	left := a.w / 2
	i := paneLocal
	if msg.X >= left {
		i = paneRemote
		msg.X -= left
	}
	if a.showInfo && i != a.focus {
		return a, nil // the info panel stands there
	}
	msg.Y -= 1 // the header
	if msg.Action == tea.MouseActionPress && msg.Button == tea.MouseButtonLeft && i != a.focus {
		a.panes[a.focus].Focus(false)
		a.focus = i
		a.panes[i].Focus(true)
	}
	var cmd tea.Cmd
	a.panes[i], cmd = a.panes[i].Update(msg)
	return a, tea.Batch(cmd, a.afterPaneChange())
}

// layout sizes everything for the window.
func (a *App) layout() {
	body := max(a.h-2, 3)
	left := a.w / 2
	a.panes[paneLocal].SetSize(left, body)
	a.panes[paneRemote].SetSize(a.w-left, body)
	if a.focus == paneLocal {
		a.info.SetSize(a.w-left-2, body-2)
	} else {
		a.info.SetSize(left-2, body-2)
	}
	a.help.SetSize(a.w, a.h-1)
	a.tview.SetSize(a.w, a.h-1)
	a.trash.SetSize(a.w, a.h-1)
	a.versions.SetSize(a.w, a.h-1)
	a.access.SetSize(a.w, a.h-1)
	a.archivePage.SetSize(a.w, a.h-1)
	a.shares.SetSize(a.w, a.h-1)
	if a.dlg != nil {
		a.dlg.SetSize(a.w, a.h)
	}
}

// View draws the screen.
func (a App) View() string {
	if a.w == 0 {
		return ""
	}
	var body string
	switch a.view {
	case viewHelp:
		body = a.help.View()
	case viewTransfers:
		body = a.tview.View()
	case viewTrash:
		body = a.trash.View()
	case viewVersions:
		body = a.versions.View()
	case viewAccess:
		body = a.access.View()
	case viewArchive:
		body = a.archivePage.View()
	case viewShares:
		body = a.sharesBody()
	default:
		body = a.panesView() + "\n" + a.statusLine()
	}
	screen := a.header() + "\n" + body
	if a.dlg != nil {
		screen = dialog.Overlay(screen, a.dlg.View(), a.w, a.h)
	}
	if a.view == viewShares && a.shares.Alone() {
		screen = dialog.Overlay(screen, a.shares.Box(), a.w, a.h)
	}
	if box := a.marksView(); box != "" {
		screen = dialog.Overlay(screen, box, a.w, a.h)
	}
	return screen
}

func (a App) panesView() string {
	left, right := a.panes[paneLocal].View(), a.panes[paneRemote].View()
	if a.showInfo {
		box := a.st.Pane.Render(a.info.View())
		if a.focus == paneLocal {
			right = box
		} else {
			left = box
		}
	}
	return lipgloss.JoinHorizontal(lipgloss.Top, left, right)
}

func (a App) header() string {
	who := a.user.Name
	if who == "" {
		who = "…"
	}
	where := a.o.Where
	if where == "" {
		where = a.o.Remote.Server()
	}
	if a.o.Commands != nil {
		where = a.o.Commands(a.panes[a.focus].Dir()) + "  (y copies it)"
	}
	line := a.st.Header.Render("Strata") + "  " + a.st.HeaderKey.Render(where) + "  " +
		a.st.Accent.Render(who) + "  " + a.st.Muted.Render(dialog.Sanitize(a.panes[a.focus].Dir()))
	return lipgloss.NewStyle().MaxWidth(a.w).Render(line)
}

// statusLine shows the last message, the connection, and the transfers.
func (a App) statusLine() string {
	var left string
	switch {
	case a.offline:
		left = a.st.StatusErr.Render("Connection to the server lost — retrying…")
	case a.status != "" && a.statusOK:
		left = a.st.StatusOK.Render(dialog.Sanitize(a.status))
	case a.status != "":
		left = a.st.StatusErr.Render(dialog.Sanitize(a.status))
	}
	// The usage gives way to a message, unless it warns.
	usage, warn := a.usageSummary()
	if left != "" && !warn {
		usage = ""
	}
	right := usage + a.transfersSummary() + a.st.Muted.Render("  ? help  q quit")
	room := a.w - lipgloss.Width(right) - 1
	if lipgloss.Width(left) > room {
		left = lipgloss.NewStyle().MaxWidth(max(room, 0)).Render(left)
	}
	gap := max(a.w-lipgloss.Width(left)-lipgloss.Width(right), 1)
	return left + strings.Repeat(" ", gap) + right
}

func (a App) transfersSummary() string {
	s := a.tview.Snapshot()
	if s.Files == 0 {
		return ""
	}
	active := s.Running + s.Queued + s.Conflicts
	if active == 0 {
		if s.Failed > 0 {
			return a.st.StatusErr.Render(fmt.Sprintf("%d failed (t)", s.Failed))
		}
		return a.st.Muted.Render(fmt.Sprintf("%d/%d done", s.FilesDone, s.Files))
	}
	pct := 0
	if s.Bytes > 0 {
		pct = int(100 * s.BytesDone / s.Bytes)
	}
	return a.st.Accent.Render(fmt.Sprintf("⇅ %d/%d %d%%", s.FilesDone, s.Files, pct))
}
