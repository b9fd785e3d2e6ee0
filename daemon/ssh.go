package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/strata-storage/strata/sshserve"
)

// sshHostKeySecret names the host key sealed in the store.
const sshHostKeySecret = "ssh-host-ed25519"

// HostKey is the SSH host key of this store: kept in the data directory
// on the embedded metadata, and sealed in the store otherwise, so that
// every server of a store behind one address presents the same key.
func (d *Daemon) HostKey(ctx context.Context) ([]byte, error) {
	if d.cfg.Engines.Meta == "" {
		return sshserve.DataDirHostKey(d.cfg.Engines.DataDir)
	}
	return d.Files.SealedSecret(ctx, sshHostKeySecret, sshserve.NewHostKey)
}

// ServeSSH also serves the file manager, SFTP and scp over SSH on ln
// (after Start), with the store's host key unless cfg has one; its
// sessions act through this daemon's API. Stop stops it first.
func (d *Daemon) ServeSSH(ctx context.Context, ln net.Listener, cfg sshserve.Config) (*sshserve.Server, error) {
	if d.ssh != nil {
		return nil, errors.New("daemon: SSH is served already")
	}
	if cfg.HostKey == nil {
		k, err := d.HostKey(ctx)
		if err != nil {
			return nil, err
		}
		cfg.HostKey = k
	}
	cfg.Users, cfg.API, cfg.Guard = d.Identity, d.handler, d.limits
	if cfg.Clock == nil {
		// The sessions wait for the rate limiter by its own clock.
		cfg.Clock = d.limits.Config().Clock
	}
	if cfg.Logger == nil {
		cfg.Logger = d.cfg.Logger
	}
	s, err := sshserve.New(cfg)
	if err != nil {
		return nil, err
	}
	d.ssh = s
	go func() {
		if err := s.Serve(ln); err != nil {
			d.cfg.Logger.Warn("ssh listener", "err", err)
		}
	}()
	return s, nil
}

// stopSSH tells SSH users the server is stopping and closes their
// sessions.
func (d *Daemon) stopSSH(ctx context.Context) error {
	if d.ssh == nil {
		return nil
	}
	if err := d.ssh.Shutdown(ctx); err != nil {
		return fmt.Errorf("ssh: %w", err)
	}
	return nil
}
