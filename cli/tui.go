package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"os"
	"path/filepath"

	"github.com/charmbracelet/lipgloss"
	"golang.org/x/term"

	"github.com/strata-storage/strata/tui"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/style"
	"github.com/strata-storage/strata/tui/transfer"
)

// runTUI opens the file manager: on the configured server, or else in
// local mode on the data directory.
func (a *app) runTUI(ctx context.Context) error {
	in, inOK := a.env.Stdin.(*os.File)
	out, outOK := a.env.Stdout.(*os.File)
	if !inOK || !outOK || !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		return usagef("the file manager needs a terminal; see 'strata --help' for the commands")
	}
	a.waits.tui = make(chan string, 8) // before the client is made
	c, where, err := a.connect(ctx, true)
	if err != nil {
		return err
	}

	r := remote.NewClient(c)
	// Unfinished transfers are kept per server, or per data directory (all
	// sockets have the same address).
	statePath, err := a.transferState(where)
	if err != nil {
		return err
	}
	if a.parallel < 1 || a.parallel > 64 {
		return usagef("--parallel must be 1 to 64")
	}
	mgr, err := transfer.New(r, transfer.Options{StatePath: statePath, Parallel: a.parallel})
	if err != nil {
		return err
	}
	defer mgr.Close()
	cwd, _ := os.Getwd()
	marks := "" // no config directory: bookmarks last the session
	if dir, err := a.configDir(); err == nil {
		marks = filepath.Join(dir, "bookmarks.json")
	}
	return tui.Run(tui.Options{
		Remote: r, Where: where, LocalDir: cwd, Transfers: mgr,
		Styles: style.New(lipgloss.DefaultRenderer()), Ctx: ctx, Bookmarks: marks, Waits: a.waits.tui,
	}, in, out)
}

// transferState is the file the TUI keeps unfinished transfers in, one per
// server: $XDG_STATE_HOME/strata/transfers-<server>.json.
func (a *app) transferState(server string) (string, error) {
	dir := a.env.Getenv("XDG_STATE_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home := a.env.Getenv("HOME")
		if home == "" {
			return "", errors.New("cannot find a state directory: set XDG_STATE_HOME or HOME")
		}
		dir = filepath.Join(home, ".local", "state")
	}
	dir = filepath.Join(dir, "strata")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	h := sha256.Sum256([]byte(server))
	return filepath.Join(dir, fmt.Sprintf("transfers-%s.json", hex.EncodeToString(h[:6]))), nil
}
