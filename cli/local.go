package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/engine"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/internal/version"
	"github.com/strata-storage/strata/server/client"
)

// localStore is a client of the store in data: through the socket of the
// process that owns it, or else through a server started here, in this
// process, on the directory's socket (which other strata processes then
// share) until stop. It creates the store if there is none.
func (a *app) localStore(ctx context.Context, data string) (c *client.Client, stop func(), err error) {
	// An owner that is starting has the lock before it publishes its
	// token; one that is stopping has removed its token but may still hold
	// the lock. Either way the answer comes within moments.
	for wait := 20 * time.Millisecond; ; wait *= 2 {
		c, stop, err := a.serveInProcess(ctx, data)
		if err == nil {
			return c, stop, nil
		}
		if !errors.Is(err, embedded.ErrInUse) {
			return nil, nil, err
		}
		c, err = attachLocal(data)
		if err == nil {
			return c, func() {}, nil
		}
		if wait > 2*time.Second {
			return nil, nil, err
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// serveInProcess runs the store in data in this process, served on its
// socket (which other strata processes then share), and returns a client
// of it.
func (a *app) serveInProcess(ctx context.Context, data string) (*client.Client, func(), error) {
	// Logs go to a file: the terminal belongs to the command (or the file
	// manager). Local mode's first run makes the data directory.
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, nil, fmt.Errorf("data directory: %w", err)
	}
	logFile, err := os.OpenFile(filepath.Join(data, "strata.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := daemon.Open(ctx, daemon.Config{Engines: engine.Spec{DataDir: data}, LocalSocket: true, GCInterval: time.Hour, Logger: log})
	if err == nil {
		if _, _, err = d.Identity.Bootstrap(ctx, ""); err == nil {
			if err = d.Start(ctx, nil); err != nil {
				d.Close()
			}
		} else {
			d.Close()
		}
	}
	if err != nil {
		logFile.Close()
		return nil, nil, err
	}
	stop := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = d.Stop(sctx)
		logFile.Close()
	}
	c, err := attachLocal(data)
	if err != nil {
		stop()
		return nil, nil, err
	}
	return c, stop, nil
}

// attachLocal is a client of the process that owns data, through its socket.
func attachLocal(data string) (*client.Client, error) {
	t, err := daemon.ReadOwnerToken(data)
	if err != nil {
		return nil, fmt.Errorf("%s is in use by process %d, which does not offer a local socket (%w)", data, embedded.Owner(data), err)
	}
	return client.New("unix://"+daemon.SocketPath(data), t.Token, client.WithUserAgent("strata/"+version.String()))
}
