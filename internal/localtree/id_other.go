//go:build !unix

package localtree

import "io/fs"

// sysID: no inode numbers here; dirID falls back to the real path.
func sysID(fs.FileInfo) (DirID, bool) { return DirID{}, false }
