package local

import (
	"os"

	"golang.org/x/sys/unix"
)

// setDirect turns direct I/O (O_DIRECT) on or off for f.
func setDirect(f *os.File, on bool) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	err = sc.Control(func(fd uintptr) {
		var flags int
		if flags, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0); ferr != nil {
			return
		}
		if on {
			flags |= unix.O_DIRECT
		} else {
			flags &^= unix.O_DIRECT
		}
		_, ferr = unix.FcntlInt(fd, unix.F_SETFL, flags)
	})
	if err != nil {
		return err
	}
	return ferr
}

// readAhead asks the kernel to start reading n bytes of f from off into the
// page cache now, while the caller works through the first of them: big
// objects are written past the page cache (directWriter), so a read soon
// after a write comes from the disk, and a part file read from its start
// would otherwise wait for each readahead window in turn. Only advice.
func readAhead(f *os.File, off, n int64) {
	sc, err := f.SyscallConn()
	if err != nil || n <= 0 {
		return
	}
	_ = sc.Control(func(fd uintptr) {
		_ = unix.Fadvise(int(fd), off, n, unix.FADV_WILLNEED)
	})
}
