package directio

import (
	"errors"
	"io"
	"os"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// directWriter writes large, aligned blocks of a file with O_DIRECT,
// straight from the buffer to the device, and anything else through the
// page cache. A stored object's or a downloaded file's bytes are written
// once and rarely read back soon after, so copying them into the page
// cache first costs CPU (on the machines measured, as much as the hashing
// and sealing together for an upload; for a download, more than its
// SHA-256) and evicts what readers do use; MinIO writes large objects the
// same way. Durability is the caller's as before: an fsync after the
// writes also flushes the device's write cache and the file's size and
// extents.
//
// Only on the local disk file systems whose direct writes are plain block
// writes (Supported): over NFS a direct write is a synchronous round trip,
// and others differ; a file system that refuses the flag all the same is
// written as before.
type directWriter struct {
	f   *os.File
	off int64 // written so far: where the next write goes
	on  bool  // O_DIRECT is set on f
	// refused is shared by the files of one store (or one download): set
	// once a file refused O_DIRECT, after which none of them try again.
	refused *atomic.Bool
}

var _ io.Writer = (*directWriter)(nil)

// NewWriter returns the writer for f, whose offset is off; refused is
// shared by the files that give O_DIRECT up together. Call it only for a
// file on a file system that is Supported.
func NewWriter(f *os.File, off int64, refused *atomic.Bool) io.Writer {
	return &directWriter{f: f, off: off, refused: refused}
}

// Supported reports whether f (a file or a directory) is on ext2/3/4 or
// XFS, where large blocks are written with O_DIRECT.
func Supported(f *os.File) bool {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return false
	}
	switch st.Type {
	case unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC:
		return true
	}
	return false
}

// minDirect is the smallest write that goes around the page cache: a
// direct write waits for the device, which only large writes amortize.
const minDirect = 256 << 10

func (d *directWriter) Write(p []byte) (int, error) {
	n, err := d.write(p)
	d.off += int64(n)
	return n, err
}

func (d *directWriter) write(p []byte) (int, error) {
	if d.off%Align == 0 && len(p) >= minDirect && len(p)%Align == 0 && aligned(p) && !d.refused.Load() {
		if !d.on {
			if err := d.set(true); err != nil {
				d.refused.Store(true)
				return d.f.Write(p)
			}
		}
		n, err := d.f.Write(p)
		if errors.Is(err, unix.EINVAL) {
			// The device wants a larger alignment than Align (or a
			// short write left the rest unaligned): the rest, and the
			// later files sharing refused, go through the page cache.
			d.refused.Store(true)
			if err := d.set(false); err != nil {
				return n, err
			}
			m, err := d.f.Write(p[n:])
			return n + m, err
		}
		return n, err
	}
	if d.on {
		// The tail of the file (or a write not aligned): its last block
		// is partial, which only the page cache can write.
		if err := d.set(false); err != nil {
			return 0, err
		}
	}
	return d.f.Write(p)
}

// set turns O_DIRECT on f on or off.
func (d *directWriter) set(on bool) error {
	raw, err := d.f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	err = raw.Control(func(fd uintptr) {
		var flags int
		flags, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0)
		if ferr != nil {
			return
		}
		if on {
			flags |= unix.O_DIRECT
		} else {
			flags &^= unix.O_DIRECT
		}
		_, ferr = unix.FcntlInt(fd, unix.F_SETFL, flags)
	})
	if err == nil {
		err = ferr
	}
	if err == nil {
		d.on = on
	}
	return err
}
