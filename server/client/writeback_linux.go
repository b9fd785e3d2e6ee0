package client

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing n bytes of f from off to
// the disk, without waiting for them.
func startWriteback(f *os.File, off, n int64) {
	// Only a hint: where a file system does nothing with it, the fsync
	// at the end still writes everything.
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
