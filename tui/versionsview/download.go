package versionsview

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/strata-storage/strata/tui/background"
	"github.com/strata-storage/strata/tui/remote"
)

// SavedMsg says a version was downloaded to the local file Local, so that
// the parent shows it in its listing.
type SavedMsg struct{ Local string }

// saving is the progress of a version's download: the bytes so far, then
// where it went.
type saving struct {
	done  int64
	local string
}

// SetDownloadDir sets the local folder old versions are downloaded to (d):
// the local pane's.
func (m *Model) SetDownloadDir(dir string) {
	m.saveDir = dir
	m.keys.Download.SetEnabled(dir != "")
}

// download saves version v to the download folder, under a name that
// says which version it is and takes nothing's place: "notes (version
// 2).md", or "notes (version 2) (1).md" when that is taken.
func (m *Model) download(v remote.Version) tea.Cmd {
	if m.saveDir == "" {
		m.list.SetStatus("There is no local folder to download to.", false)
		return nil
	}
	r, p, dir := m.r, m.path, m.saveDir
	work := func(ctx context.Context, report func(saving)) (saving, error) {
		local, err := freeName(dir, path.Base(p), v.Version)
		if err != nil {
			return saving{}, err
		}
		var done int64
		_, err = r.DownloadVersion(ctx, p, v.Version, local, func(n int64) {
			done += n
			report(saving{done: done})
		})
		if err != nil {
			return saving{}, fmt.Errorf("download version %d of %s: %w", v.Version, p, err)
		}
		return saving{done: done, local: local}, nil
	}
	cmd := background.Start(m.ctx, work, func(u background.Update[saving]) tea.Msg {
		return Msg{kind: savedMsg, saving: u, version: v.Version, size: v.Size}
	})
	return m.list.Start(fmt.Sprintf("Downloading version %d…", v.Version), cmd)
}

// freeName is the first name for version v of name in dir that is not
// taken.
func freeName(dir, name string, v int64) (string, error) {
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	if stem == "" { // ".profile" is all name
		stem, ext = name, ""
	}
	for i := 0; i < 10000; i++ {
		n := fmt.Sprintf("%s (version %d)%s", stem, v, ext)
		if i > 0 {
			n = fmt.Sprintf("%s (version %d) (%d)%s", stem, v, i, ext)
		}
		p := filepath.Join(dir, n)
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p, nil
		} else if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("no free name for version %d of %s in %s", v, name, dir)
}

// saved follows a download and ends it.
func (m Model) saved(msg Msg) (Model, tea.Cmd) {
	u := msg.saving
	if !u.Done {
		pct := 100
		if msg.size > 0 {
			pct = int(100 * min(u.Value.done, msg.size) / msg.size)
		}
		m.list.Progress(fmt.Sprintf("Downloading version %d… %d%%", msg.version, pct))
		return m, u.Next()
	}
	m.list.Stop()
	if u.Err != nil {
		m.list.SetStatus(u.Err.Error(), false)
		return m, nil
	}
	local := u.Value.local
	m.list.SetStatus(fmt.Sprintf("Downloaded version %d to %s.", msg.version, local), true)
	return m, func() tea.Msg { return SavedMsg{Local: local} }
}
