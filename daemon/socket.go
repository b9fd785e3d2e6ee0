package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/server"
)

// The owner of a data directory (`strata serve` on embedded engines, or
// local mode) also serves the API on a unix socket inside the (0700)
// directory, and leaves a token for it in a 0600 file next to it. Any other
// strata of the same user on the same data directory then reaches the
// store through the owner instead of waiting on the lock.
const (
	socketName = "strata.sock"
	tokenName  = "local.token"
)

// SocketPath is the owner's socket in the data directory data.
func SocketPath(data string) string { return filepath.Join(data, socketName) }

// OwnerToken is what the owner of a data directory leaves for local
// clients: a token of the first admin, for its socket.
type OwnerToken struct {
	Token string `json:"token"`
	ID    string `json:"id"`
	User  string `json:"user"`
}

// ReadOwnerToken reads the token the owner of data left for its socket.
func ReadOwnerToken(data string) (OwnerToken, error) {
	raw, err := os.ReadFile(filepath.Join(data, tokenName))
	if err != nil {
		return OwnerToken{}, err
	}
	var t OwnerToken
	if err := json.Unmarshal(raw, &t); err != nil {
		return OwnerToken{}, fmt.Errorf("%s: %w", tokenName, err)
	}
	return t, nil
}

func writeOwnerToken(data string, t OwnerToken) error {
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

// serveSocket serves h on the data directory's socket and publishes a
// fresh owner token for it. stop shuts it down and revokes the token.
func serveSocket(ctx context.Context, ids *identity.Service, h http.Handler, data string, log *slog.Logger) (stop func(), err error) {
	sock := SocketPath(data)
	// Only the lock holder gets here, so a socket file left behind is a
	// dead one from a crash.
	_ = os.Remove(sock)
	ln, err := server.ListenPrivateSocket(sock)
	if err != nil {
		return nil, fmt.Errorf("local socket: %w", err)
	}
	// The token of an earlier owner that crashed is revoked, not reused.
	if old, err := ReadOwnerToken(data); err == nil {
		_ = ids.RevokeOwnerToken(ctx, identity.Token{ID: old.ID, User: old.User})
	}
	tok, err := ids.OwnerToken(ctx, "local", 0)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("local token: %w", err)
	}
	if err := writeOwnerToken(data, OwnerToken{Token: tok.Secret, ID: tok.ID, User: tok.User}); err != nil {
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
		_ = ids.RevokeOwnerToken(sctx, tok)
	}, nil
}
