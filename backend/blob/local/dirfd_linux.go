package local

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// On Linux a plain Put creates, renames and fsyncs by file descriptor:
// openat(2) in tmp/, renameat(2) from tmp/ into the shard, fsync(2) of the
// shard, relative to the directories the Store holds open. Going through
// the os.Root for each step costs, per object, five more openat and close
// (the root walks every component of a path), a stat of the destination
// (Root.Rename refuses to replace a directory; renameat(2) of a file onto
// a directory fails by itself), and for each *os.File opened two fcntl
// pairs and an epoll_ctl (the poller is tried on every file, and refuses
// regular files and directories). Only single names are ever resolved
// against the held directories, with O_NOFOLLOW, so a symbolic link planted
// there is not followed; anything unusual (a link in place of a shard
// among them) goes the root's way, which follows a link only to somewhere
// inside the store.

// openDirFlags make openDir refuse a symbolic link, or anything but a
// directory, in place of tmp/ or objects/.
const openDirFlags = unix.O_DIRECTORY | unix.O_NOFOLLOW

// createTemp creates the temp file tmp (tmp/<name>, from tempName) for
// writing, failing if it exists.
func (s *Store) createTemp(tmp string) (*os.File, error) {
	fd, err := unix.Openat(int(s.tmp.Fd()), filepath.Base(tmp),
		unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, filePerm)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: tmp, Err: err}
	}
	// os.NewFile leaves the descriptor out of the poller (it is blocking),
	// at the cost of one fcntl to learn that.
	return os.NewFile(uintptr(fd), tmp), nil
}

// installFile renames the temp file tmp (written by writeTemp) to key's
// object and makes the rename durable, as install does.
func (s *Store) installFile(tmp, key string) error {
	sh := shard(key)
	openShard := func() (int, error) {
		return unix.Openat(int(s.objects.Fd()), sh, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	dirfd, err := openShard()
	if errors.Is(err, unix.ENOENT) {
		if err := s.mkShard(filepath.Join(objectsDir, sh)); err != nil {
			return err
		}
		dirfd, err = openShard()
	}
	if err != nil {
		// A shard that is not a plain directory: the root decides.
		return s.install(tmp, objectPath(key))
	}
	defer unix.Close(dirfd)
	err = unix.Renameat(int(s.tmp.Fd()), filepath.Base(tmp), dirfd, key)
	if replaceNeedsMove(err) {
		// A directory object under key: install moves it aside.
		return s.install(tmp, objectPath(key))
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: tmp, New: objectPath(key), Err: err}
	}
	if err := unix.Fsync(dirfd); err != nil {
		return &os.PathError{Op: "sync", Path: filepath.Join(objectsDir, sh), Err: err}
	}
	return s.syncShard(filepath.Join(objectsDir, sh))
}
