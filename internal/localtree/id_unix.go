//go:build unix

package localtree

import (
	"io/fs"
	"syscall"
)

func sysID(fi fs.FileInfo) (DirID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return DirID{}, false
	}
	// Dev is int32 on some systems.
	return DirID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}, true
}
