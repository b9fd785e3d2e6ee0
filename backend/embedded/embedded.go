// Package embedded opens Strata's embedded engines in one data directory:
// sealed blobs on local disk, metadata in bbolt, master keys in a key file.
// It is what runs when no cloud engine is configured.
package embedded

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/strata-storage/strata/backend/blob/local"
	"github.com/strata-storage/strata/backend/keys/keyring"
	"github.com/strata-storage/strata/backend/meta/bolt"
)

// ErrInUse is wrapped when another process owns the data directory.
var ErrInUse = errors.New("data directory in use")

// Engines are the three drivers over one data directory.
type Engines struct {
	Dir   string
	Blobs *local.Store
	Meta  *bolt.Store
	Keys  *keyring.Keyring
}

// Layout of a data directory.
const (
	metaFile = "meta.db"
	blobDir  = "blobs"
	// archiveDir is the default cold tier (--archive-dir).
	archiveDir = "archive"
	keyFile    = "keyring.json"
	ownerFile  = "strata.pid"
)

// Open opens (or creates) the engines in dir, with the cold tier in
// dir/archive. bbolt locks its file, so one
// process owns a data directory; a second Open fails at once with ErrInUse
// and the ID of the process that holds it, rather than waiting. The
// directory is made private (0700) whether it is new or not: it holds the
// master keys, the metadata, the owner's socket and token.
func Open(dir string) (*Engines, error) {
	return OpenWith(dir, local.Options{})
}

// OpenWith is Open with the blob store's options; an empty ArchiveDir is
// dir/archive.
func OpenWith(dir string, o local.Options) (*Engines, error) {
	if o.ArchiveDir == "" {
		o.ArchiveDir = filepath.Join(dir, archiveDir)
	}
	if err := MakePrivate(dir); err != nil {
		return nil, err
	}
	m, err := bolt.Open(filepath.Join(dir, metaFile))
	if errors.Is(err, bolt.ErrLocked) {
		holder := "another process"
		if pid := Owner(dir); pid > 0 {
			holder = fmt.Sprintf("process %d", pid)
		}
		return nil, fmt.Errorf("%w: %s is held by %s", ErrInUse, dir, holder)
	}
	if err != nil {
		return nil, fmt.Errorf("metadata store: %w", err)
	}
	// Only the lock holder writes this, so a stale file never misleads:
	// it is read only while the lock is held.
	_ = os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600)
	bs, err := local.OpenWith(filepath.Join(dir, blobDir), o)
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("blob store: %w", err)
	}
	if err := keyFileCheck(dir); err != nil {
		m.Close()
		return nil, err
	}
	kr, err := keyring.Open(filepath.Join(dir, keyFile))
	if err != nil {
		m.Close()
		return nil, fmt.Errorf("key file: %w", err)
	}
	return &Engines{Dir: dir, Blobs: bs, Meta: m, Keys: kr}, nil
}

// Exists reports whether dir holds a store (Open would open rather than
// create one).
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, metaFile))
	return err == nil
}

// MakePrivate creates the data directory dir (0700), or takes group and
// others' access to it away if it exists: it holds the master keys or the
// metadata, and the owner's socket and token.
func MakePrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, fi.Mode().Perm()&0o700); err != nil {
			return fmt.Errorf("data directory %s is open to other users (mode %04o) and cannot be made private: %w", dir, fi.Mode().Perm(), err)
		}
	}
	return nil
}

// Owner returns the process ID recorded by the process that holds dir, or
// 0 if none is recorded.
func Owner(dir string) int {
	data, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0
	}
	return pid
}

// Close releases the engines (and with them the directory lock).
func (e *Engines) Close() error {
	_ = os.Remove(filepath.Join(e.Dir, ownerFile))
	return e.Meta.Close()
}

// keyFileCheck refuses to go on without the key file when the store already
// holds sealed data: keyring.Open would create a new key file, and the data
// could then never be read (nor the old key file be put back without
// breaking whatever was written meanwhile).
func keyFileCheck(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, keyFile)); !errors.Is(err, os.ErrNotExist) {
		return nil
	}
	for _, sub := range []string{"objects", "uploads"} {
		ents, err := os.ReadDir(filepath.Join(dir, blobDir, sub))
		if err != nil {
			continue
		}
		for _, e := range ents {
			inner, err := os.ReadDir(filepath.Join(dir, blobDir, sub, e.Name()))
			if err == nil && len(inner) > 0 || sub == "uploads" {
				return fmt.Errorf("%s is missing but %s holds encrypted data: restore the key file from your backup (without it nothing can be decrypted)",
					filepath.Join(dir, keyFile), dir)
			}
		}
	}
	return nil
}
