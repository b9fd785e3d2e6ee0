package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/internal/digest"
	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/tui/background"
	"github.com/strata-storage/strata/tui/dialog"
	"github.com/strata-storage/strata/tui/external"
	"github.com/strata-storage/strata/tui/filelist"
	"github.com/strata-storage/strata/tui/remote"
)

// BigOpen is the size above which opening a Strata file asks first (unless
// Options.BigOpen says otherwise): it is downloaded whole to a temporary
// file before the program sees it.
const BigOpen = 100 << 20

// Dialog IDs of opening a Strata file.
const (
	openBigDialog    = "open.big"
	openUploadDialog = "open.upload"
)

// opening is a Strata file on its way to, in, or back from the pager or
// the editor: downloaded to a private temporary folder, which is removed
// once it is over, whatever the outcome.
type opening struct {
	kind   external.Kind
	argv   []string
	item   filelist.Item
	dir    string // the private temporary folder ("" until made)
	file   string // the copy in it
	sha    string // of the copy as downloaded
	done   int64  // bytes downloaded so far
	cancel context.CancelFunc
	// asked is set while the upload question is open.
	asked bool
}

// The messages of an opening.
type (
	// openFetchedMsg reports the download's progress and end.
	openFetchedMsg struct {
		background.Update[fetched]
	}
	// openClosedMsg: the program exited (or could not start).
	openClosedMsg struct {
		local bool
		err   error
	}
	// openCheckedMsg: what became of the copy, and of the file on Strata,
	// while the editor had it.
	openCheckedMsg struct {
		changed bool
		now     remote.Entry // the file on Strata now
		err     error
	}
	// openUploadedMsg ends the upload of the edited copy.
	openUploadedMsg struct{ err error }
)

// fetched is a download's progress, and its end.
type fetched struct {
	file  string
	done  int64
	entry remote.Entry
}

// openFile opens the focused pane's current file in the pager or the
// editor: a local file directly, a Strata file by way of a temporary copy.
func (a *App) openFile(kind external.Kind) tea.Cmd {
	it, ok := a.panes[a.focus].Current()
	switch {
	case !ok:
		return nil
	case it.Dir:
		a.setErr(fmt.Errorf("%s: choose a file (Enter opens a folder)", kind))
		return nil
	case a.open != nil:
		a.setErr(fmt.Errorf("%s is still being opened (esc cancels)", dialog.Quote(a.open.item.Name)))
		return nil
	}
	if !a.local(a.focus) {
		if _, archived, restoring := archivedOf([]filelist.Item{it}); len(archived)+len(restoring) > 0 {
			return a.offerRestore(a.focus, archived, restoring)
		}
	}
	argv, err := external.Find(kind)
	if err != nil {
		a.setErr(err)
		return nil
	}
	if a.focus == paneLocal {
		return tea.ExecProcess(external.Command(argv, it.Path), func(err error) tea.Msg {
			return openClosedMsg{local: true, err: err}
		})
	}
	a.open = &opening{kind: kind, argv: argv, item: it}
	if it.Size > a.o.BigOpen {
		d := dialog.NewConfirm(a.st, openBigDialog, "Open a big file",
			fmt.Sprintf("%s is %s. Download it whole to a temporary file to open it in the %s?",
				dialog.Quote(it.Name), human.Bytes(it.Size), kind))
		d.SetDefault(1)
		d.SetSize(a.w, a.h)
		a.dlg = &d
		return nil
	}
	return a.fetchForOpen()
}

// fetchForOpen downloads the file being opened to a private temporary
// folder, reporting its progress in the status line.
func (a *App) fetchForOpen() tea.Cmd {
	o := a.open
	// The folder is made here, not in the download, so that a quit at any
	// point knows what to remove (Cleanup). MkdirTemp makes it 0700: the
	// copy is the user's alone.
	dir, err := os.MkdirTemp("", "strata-open-")
	if err != nil {
		a.open = nil
		a.setErr(fmt.Errorf("open %s: %w", o.item.Name, err))
		return nil
	}
	o.dir = dir
	ctx, cancel := context.WithCancel(a.o.Ctx)
	o.cancel = cancel
	a.setOK(fmt.Sprintf("Downloading %s for the %s… (esc cancels)", dialog.Quote(o.item.Name), o.kind))
	r, p := a.o.Remote, o.item.Path
	name := path.Base(p)
	if name == "" || name == "." || name == ".." || name == "/" {
		name = "file"
	}
	work := func(ctx context.Context, report func(fetched)) (fetched, error) {
		f := fetched{file: filepath.Join(dir, name)}
		var done int64
		var err error
		f.entry, err = r.Download(ctx, p, f.file, func(n int64) {
			done += n
			report(fetched{done: done})
		})
		if err == nil {
			err = os.Chmod(f.file, 0o600)
		}
		if err == nil && f.entry.SHA256 == "" {
			f.entry.SHA256, err = digest.File(ctx, f.file)
		}
		return f, err
	}
	return background.Start(ctx, work, func(u background.Update[fetched]) tea.Msg { return openFetchedMsg{u} })
}

// cancelOpen stops a download for the pager or the editor (esc).
func (a *App) cancelOpen() bool {
	if a.open == nil || a.open.cancel == nil || a.open.file != "" || a.dlg != nil {
		return false
	}
	a.open.cancel()
	return true
}

// openUpdate handles the messages of an opening.
func (a App) openUpdate(msg tea.Msg) (App, tea.Cmd) {
	o := a.open
	switch msg := msg.(type) {
	case openClosedMsg:
		// A program that ran and exited with a status is no failure of
		// ours: less says 1 when asked not to show a binary file, vim
		// after some errors; what it wrote is there all the same.
		var exit *exec.ExitError
		failed := msg.err != nil && !errors.As(msg.err, &exit)
		if failed {
			a.setErr(fmt.Errorf("open: %w", msg.err))
		}
		if msg.local {
			return a, a.panes[paneLocal].Reload()
		}
		if o == nil {
			return a, nil
		}
		if failed {
			return a, a.endOpen()
		}
		if o.kind == external.Pager {
			a.status = ""
			return a, a.endOpen()
		}
		a.setOK("Checking " + dialog.Quote(o.item.Name) + " for changes…")
		r, ctx, file, p, sha := a.o.Remote, a.o.Ctx, o.file, o.item.Path, o.sha
		return a, func() tea.Msg {
			sum, err := digest.File(ctx, file)
			if err != nil || sum == sha {
				return openCheckedMsg{err: err}
			}
			now, err := r.Stat(ctx, p)
			if errors.Is(err, remote.ErrNotFound) {
				err = nil // deleted meanwhile: the upload puts it back
			}
			return openCheckedMsg{changed: true, now: now, err: err}
		}
	}
	if o == nil {
		return a, nil
	}
	switch msg := msg.(type) {
	case openFetchedMsg:
		if msg.Err != nil {
			if errors.Is(msg.Err, context.Canceled) {
				a.setOK("Canceled: " + dialog.Quote(o.item.Name) + " was not opened")
			} else {
				a.setErr(fmt.Errorf("open %s: %w", o.item.Name, msg.Err))
			}
			return a, a.endOpen()
		}
		if !msg.Done {
			o.done = msg.Value.done
			pct := 100
			if o.item.Size > 0 {
				pct = int(100 * min(o.done, o.item.Size) / o.item.Size)
			}
			a.setOK(fmt.Sprintf("Downloading %s for the %s… %d%% (esc cancels)", dialog.Quote(o.item.Name), o.kind, pct))
			return a, msg.Next()
		}
		o.file, o.sha = msg.Value.file, msg.Value.entry.SHA256
		a.status = ""
		return a, tea.ExecProcess(external.Command(o.argv, o.file), func(err error) tea.Msg {
			return openClosedMsg{err: err}
		})
	case openCheckedMsg:
		switch {
		case msg.err != nil:
			a.setErr(fmt.Errorf("open %s: %w", o.item.Name, msg.err))
			return a, a.endOpen()
		case !msg.changed:
			a.setOK("No changes to " + dialog.Quote(o.item.Name))
			return a, a.endOpen()
		}
		q := fmt.Sprintf("You changed %s. Upload it as a new version of %s?\n\nNo discards your changes.",
			dialog.Quote(o.item.Name), dialog.Sanitize(o.item.Path))
		switch {
		case msg.now.Path == "":
			q += "\n\nIt was deleted on Strata meanwhile: the upload puts it back."
		case msg.now.SHA256 != o.sha:
			q += fmt.Sprintf("\n\nIt changed on Strata meanwhile (now version %d): yours becomes the current version; the other stays in its versions (v).", msg.now.Version)
		}
		d := dialog.NewConfirm(a.st, openUploadDialog, "Upload your changes", q)
		d.SetSize(a.w, a.h)
		a.dlg = &d
		o.asked = true
		return a, nil
	case openUploadedMsg:
		if msg.err != nil && a.dlg != nil && a.dlg.ID() == openUploadDialog {
			// The copy stays until the user tries again or discards it.
			a.dlg.SetBusy(false)
			a.dlg.SetError(msg.err)
			return a, nil
		}
		a.closeDialog()
		a.setOK("Uploaded your changes to " + o.item.Path + " as a new version")
		return a, tea.Batch(a.endOpen(), a.panes[paneRemote].Reload())
	}
	return a, nil
}

// openAnswer takes the answers to the questions of an opening.
func (a App) openAnswer(msg dialog.ConfirmedMsg) (App, tea.Cmd) {
	o := a.open
	switch {
	case o == nil:
		a.closeDialog()
		return a, nil
	case msg.ID == openBigDialog:
		a.closeDialog()
		if !msg.Yes {
			a.open = nil
			return a, nil
		}
		return a, a.fetchForOpen()
	case !msg.Yes:
		a.closeDialog()
		a.setOK("Discarded your changes to " + dialog.Quote(o.item.Name))
		return a, a.endOpen()
	}
	// The question stays up, busy, until the upload ends: a failure is
	// shown in it, and the user may try again or discard.
	a.dlg.SetBusy(true)
	a.setOK("Uploading your changes to " + o.item.Path + "…")
	r, ctx, file, p := a.o.Remote, a.o.Ctx, o.file, o.item.Path
	return a, func() tea.Msg {
		_, err := r.Upload(ctx, file, p, nil)
		return openUploadedMsg{err: err}
	}
}

// endOpen removes the temporary copy (off the UI) and ends the opening.
func (a *App) endOpen() tea.Cmd {
	o := a.open
	a.open = nil
	if o == nil || o.dir == "" {
		return nil
	}
	if o.cancel != nil {
		o.cancel()
	}
	dir := o.dir
	return func() tea.Msg {
		if err := os.RemoveAll(dir); err != nil {
			return opDoneMsg{what: "remove the temporary copy", pane: paneRemote, err: err}
		}
		return nil
	}
}

// Cleanup removes what the app leaves on disk when it quits in the middle
// of something (the temporary copy of a file opened from Strata).
func (a App) Cleanup() {
	if a.open != nil && a.open.dir != "" {
		os.RemoveAll(a.open.dir)
	}
}
