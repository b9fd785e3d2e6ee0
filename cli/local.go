package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/internal/version"
	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/client"
)

// A data directory's owner — `strata serve`, or `strata` in local mode —
// also serves the API on a unix socket inside the (0700) directory, and
// leaves a token for it in a 0600 file next to it. Any other strata of the
// same user on the same data directory then reaches the store through the
// owner instead of waiting on the lock.
const (
	socketName = "strata.sock"
	tokenName  = "local.token"
)

type localToken struct {
	Token string `json:"token"`
	ID    string `json:"id"`
	User  string `json:"user"`
}

// localListener serves h on the data directory's socket and publishes a
// fresh owner token for it. stop shuts it down and revokes the token.
func serveLocalSocket(ctx context.Context, b *backend.Backend, h http.Handler, data string, log *slog.Logger) (stop func(), err error) {
	sock := filepath.Join(data, socketName)
	// Only the lock holder gets here, so a socket file left behind is a
	// dead one from a crash.
	_ = os.Remove(sock)
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("local socket: %w", err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("local socket: %w", err)
	}
	// The token of an earlier owner that crashed is revoked, not reused.
	if old, err := readLocalToken(data); err == nil {
		_ = b.RevokeOwnerToken(ctx, backend.Token{ID: old.ID, User: old.User})
	}
	tok, err := b.OwnerToken(ctx, "local", 0)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("local token: %w", err)
	}
	if err := writeLocalToken(data, localToken{Token: tok.Secret, ID: tok.ID, User: tok.User}); err != nil {
		ln.Close()
		return nil, err
	}
	srv := server.HTTPServer("", h, log)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("local socket", "err", err)
		}
	}()
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = os.Remove(sock)
		_ = os.Remove(filepath.Join(data, tokenName))
		_ = b.RevokeOwnerToken(sctx, tok)
	}, nil
}

func readLocalToken(data string) (localToken, error) {
	raw, err := os.ReadFile(filepath.Join(data, tokenName))
	if err != nil {
		return localToken{}, err
	}
	var t localToken
	if err := json.Unmarshal(raw, &t); err != nil {
		return localToken{}, fmt.Errorf("%s: %w", tokenName, err)
	}
	return t, nil
}

func writeLocalToken(data string, t localToken) error {
	raw, _ := json.Marshal(t)
	tmp, err := os.CreateTemp(data, ".local-token-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(data, tokenName))
}

// localStore is a client of the store in data: through the socket of the
// process that owns it, or else through a server started here, in this
// process, on the directory's socket (which other strata processes then
// share) until stop. It creates the store if there is none.
func (a *app) localStore(ctx context.Context, data string) (c *client.Client, stop func(), err error) {
	// An owner that is starting has the lock before it publishes its
	// token; one that is stopping has removed its token but may still hold
	// the lock. Either way the answer comes within moments.
	for wait := 20 * time.Millisecond; ; wait *= 2 {
		eng, err := embedded.Open(data)
		if err == nil {
			return a.serveInProcess(ctx, eng)
		}
		if !errors.Is(err, embedded.ErrInUse) {
			return nil, nil, err
		}
		c, err := attachLocal(data)
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

// serveInProcess runs the store of eng in this process, served on its
// data directory's socket, and returns a client of it.
func (a *app) serveInProcess(ctx context.Context, eng *embedded.Engines) (*client.Client, func(), error) {
	data := eng.Dir
	// Logs go to a file: the terminal belongs to the command (or the file
	// manager).
	logFile, err := os.OpenFile(filepath.Join(data, "strata.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		eng.Close()
		return nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b, err := backend.New(backend.Config{Blobs: eng.Blobs, Meta: eng.Meta, Keys: eng.Keys, Logger: log, Exclusive: true})
	if err == nil {
		err = b.CheckKeys(ctx)
	}
	if err == nil {
		_, _, err = b.Bootstrap(ctx, "")
	}
	if err != nil {
		logFile.Close()
		eng.Close()
		return nil, nil, err
	}
	h := server.NewServer(b, server.Config{Logger: log})
	stopSocket, err := serveLocalSocket(ctx, b, h, data, log)
	if err != nil {
		logFile.Close()
		eng.Close()
		return nil, nil, err
	}
	gcCtx, stopGC := context.WithCancel(context.WithoutCancel(ctx))
	go server.Collector(gcCtx, b, time.Hour, log)
	stop := func() {
		stopGC()
		stopSocket()
		eng.Close()
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
	t, err := readLocalToken(data)
	if err != nil {
		return nil, fmt.Errorf("%s is in use by process %d, which does not offer a local socket (%w)", data, embedded.Owner(data), err)
	}
	return client.New("unix://"+filepath.Join(data, socketName), t.Token, client.WithUserAgent("strata/"+version.String()))
}
