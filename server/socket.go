package server

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// ListenPrivateSocket listens on a unix socket at path that only this
// user can connect to, from the moment it exists there. The socket is
// made in a fresh 0700 directory next to path, set to 0600 there (where
// no one else can reach it) and renamed into place: listening at path and
// then chmod-ing it would leave a moment in which the socket is open to
// whatever the umask allows, and setting the umask instead would change
// it for every goroutine of the process at once. A file already at path
// is replaced.
func ListenPrivateSocket(path string) (net.Listener, error) {
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".socket-")
	if err != nil {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	defer os.Remove(tmp)
	inner := filepath.Join(tmp, "s")
	ln, err := net.Listen("unix", inner)
	if err != nil {
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	ul := ln.(*net.UnixListener)
	// The listener's name stays the inner path, gone after the rename:
	// whoever closes it removes path.
	ul.SetUnlinkOnClose(false)
	if err := os.Chmod(inner, 0o600); err != nil {
		ln.Close()
		os.Remove(inner)
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	if err := os.Rename(inner, path); err != nil {
		ln.Close()
		os.Remove(inner)
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	return ln, nil
}
