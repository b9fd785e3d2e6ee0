package sshserve

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"

	"github.com/strata-storage/strata/internal/atomicfile"
)

// HostKeyFile is the host key's file in a data directory.
const HostKeyFile = "ssh_host_ed25519_key"

// NewHostKey makes an ed25519 host key (OpenSSH PEM).
func NewHostKey() ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	blk, err := gossh.MarshalPrivateKey(priv, "strata host key")
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(blk), nil
}

// DataDirHostKey is the host key kept in the data directory dir (the
// embedded engines'): made the first time, then the same at every start.
func DataDirHostKey(dir string) ([]byte, error) {
	p := filepath.Join(dir, HostKeyFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		if b, err = NewHostKey(); err != nil {
			return nil, err
		}
		if err := atomicfile.Write(p, b, 0o600); err != nil {
			return nil, fmt.Errorf("ssh host key: %w", err)
		}
		return b, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ssh host key: %w", err)
	}
	if _, err := gossh.ParsePrivateKey(b); err != nil {
		return nil, fmt.Errorf("ssh host key %s: %w", p, err)
	}
	return b, nil
}

// HostKeyFingerprint is the SHA-256 fingerprint of a host key (PEM), as
// OpenSSH shows it, for people to check on their first connection.
func HostKeyFingerprint(pemKey []byte) (string, error) {
	s, err := gossh.ParsePrivateKey(pemKey)
	if err != nil {
		return "", err
	}
	return gossh.FingerprintSHA256(s.PublicKey()), nil
}
