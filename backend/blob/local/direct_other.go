//go:build !linux

package local

import (
	"errors"
	"os"
)

// setDirect: direct I/O is used on Linux only; elsewhere every write goes
// through the page cache.
func setDirect(*os.File, bool) error {
	return errors.New("local: direct I/O is not used on this system")
}

// readAhead: only advice, given on Linux.
func readAhead(*os.File, int64, int64) {}
