//go:build !linux

package local

import "os"

// openDirFlags: init has checked that tmp/ and objects/ are directories.
const openDirFlags = 0

// createTemp creates the temp file tmp (tmp/<name>, from tempName) for
// writing, failing if it exists.
func (s *Store) createTemp(tmp string) (*os.File, error) {
	return s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
}

// installFile renames the temp file tmp (written by writeTemp) to key's
// object and makes the rename durable.
func (s *Store) installFile(tmp, key string) error {
	return s.install(tmp, objectPath(key))
}
