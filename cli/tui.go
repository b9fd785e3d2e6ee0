package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/charmbracelet/lipgloss"
	"golang.org/x/term"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/client"
	"github.com/strata-storage/strata/tui"
	"github.com/strata-storage/strata/tui/remote"
	"github.com/strata-storage/strata/tui/style"
	"github.com/strata-storage/strata/tui/transfer"
)

// runTUI opens the file manager: on the configured server, or else in
// local mode on the data directory.
func (a *app) runTUI(ctx context.Context, data string) error {
	in, inOK := a.env.Stdin.(*os.File)
	out, outOK := a.env.Stdout.(*os.File)
	if !inOK || !outOK || !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		return usagef("the file manager needs a terminal; see 'strata --help' for the commands")
	}
	c, where, cleanup, err := a.tuiClient(ctx, data)
	if err != nil {
		return err
	}
	defer cleanup()

	r := remote.NewClient(c)
	statePath, err := a.transferState(c.Server())
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
		Styles: style.New(lipgloss.DefaultRenderer()), Ctx: ctx, Bookmarks: marks,
	}, in, out)
}

// tuiClient is the client of the configured server, or of the data
// directory: through its owner's socket if another process holds it, else
// through a server started here, in this process, on the directory's socket.
func (a *app) tuiClient(ctx context.Context, data string) (*client.Client, string, func(), error) {
	c, err := a.client()
	if err == nil {
		return c, c.Server(), func() {}, nil
	}
	if !errors.Is(err, errNoCredentials) {
		return nil, "", nil, err
	}
	if data == "" {
		if data, err = a.dataDir(); err != nil {
			return nil, "", nil, err
		}
	}
	where := "local " + data
	eng, err := embedded.Open(data)
	if errors.Is(err, embedded.ErrInUse) {
		c, err := attachLocal(data)
		return c, where, func() {}, err
	}
	if err != nil {
		return nil, "", nil, err
	}
	// Logs go to a file: the terminal belongs to the TUI.
	logFile, err := os.OpenFile(filepath.Join(data, "strata.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		eng.Close()
		return nil, "", nil, err
	}
	log := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := backend.New(backend.Config{Blobs: eng.Blobs, Meta: eng.Meta, Keys: eng.Keys, Logger: log, Exclusive: true})
	if err == nil {
		err = b.CheckKeys(ctx)
	}
	var ids *identity.Service
	if err == nil {
		ids, err = newIdentity(eng.Meta, b)
	}
	if err == nil {
		_, _, err = ids.Bootstrap(ctx, "")
	}
	if err != nil {
		logFile.Close()
		eng.Close()
		return nil, "", nil, err
	}
	h := server.NewServer(server.Deps{Files: b, Identity: ids}, server.Config{Logger: log, Version: Version()})
	stop, err := serveLocalSocket(ctx, ids, h, data, log)
	if err != nil {
		logFile.Close()
		eng.Close()
		return nil, "", nil, err
	}
	gcCtx, stopGC := context.WithCancel(context.WithoutCancel(ctx))
	go server.Collector(gcCtx, b, time.Hour, log)
	c, err = attachLocal(data)
	return c, where, func() {
		stopGC()
		stop()
		eng.Close()
		logFile.Close()
	}, err
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
