package sshserve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sync"
	"time"

	"github.com/charmbracelet/ssh"
	"github.com/pkg/sftp"

	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/internal/storepath"
	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// sftpSubsystem serves SFTP over the session's API client: pkg/sftp's
// request server, with Strata's store as the file system the user sees
// (absolute store paths; it starts in the user's home folder).
func (s *Server) sftpSubsystem(sess ssh.Session) {
	s.withSession(sess, iam.ViaSFTP, func(se *session) {
		ctx := sess.Context()
		home := "/"
		if u, err := se.client.Whoami(ctx); err == nil && u.Home != "" {
			home = u.Home
		}
		fs := &sftpFS{c: se.client, ctx: ctx, writing: map[string]*uploadWriter{}}
		conn := newSFTPConn(sess)
		rs := sftp.NewRequestServer(conn, sftp.Handlers{FileGet: fs, FilePut: fs, FileCmd: fs, FileList: fs},
			sftp.WithStartDirectory(home), sftp.WithRSMaxTxPacket(maxSFTPData))
		err := rs.Serve()
		// Not rs.Close: it would close the channel before its exit
		// status. What the server wrote goes out first.
		err = errors.Join(err, conn.flush())
		if err != nil && !errors.Is(err, io.EOF) {
			s.log.Info("sftp session ended", "user", se.user.Name, "err", err)
		}
	})
}

// sftpFS is the store as an SFTP request server's handlers.
type sftpFS struct {
	c   *client.Client
	ctx context.Context

	mu sync.Mutex
	// writing is the uploads open, by path: a setstat of the path (an
	// fsetstat of the handle, which OpenSSH sends before it closes the
	// file) is about the version being written.
	writing map[string]*uploadWriter
}

var (
	_ sftp.FileReader           = (*sftpFS)(nil)
	_ sftp.FileWriter           = (*sftpFS)(nil)
	_ sftp.PosixRenameFileCmder = (*sftpFS)(nil)
	_ sftp.FileLister           = (*sftpFS)(nil)
	_ sftp.StatVFSFileCmder     = (*sftpFS)(nil)
)

// Fileread opens a file for ranged reads.
func (f *sftpFS) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	e, err := f.c.Stat(r.Context(), r.Filepath)
	if err != nil {
		return nil, sftpError(err)
	}
	if e.IsDir() {
		return nil, statusError(sftp.ErrSSHFxFailure, "%s is a folder", r.Filepath)
	}
	return newRangeReader(r.Context(), f.c, r.Filepath, e.Size), nil
}

// Filewrite opens an upload: the whole file, written from the start (a
// file's versions are whole: appending is refused).
func (f *sftpFS) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	fl := r.Pflags()
	if fl.Append {
		return nil, statusError(sftp.ErrSSHFxOpUnsupported, "appending to a file is not supported: upload the whole file")
	}
	if fl.Excl {
		if _, err := f.c.Stat(r.Context(), r.Filepath); err == nil {
			return nil, statusError(sftp.ErrSSHFxFailure, "%s already exists", r.Filepath)
		} else if !errors.Is(err, client.ErrNotFound) {
			return nil, sftpError(err)
		}
	}
	// Without O_TRUNC too (OpenSSH's sftp and scp open so, and set the
	// size when done): what the client writes becomes the file's new
	// version, whole; writes that leave a hole store nothing.
	w := newUploadWriter(r.Context(), f.c, r.Filepath, fl.Excl)
	f.mu.Lock()
	f.writing[r.Filepath] = w
	f.mu.Unlock()
	w.onClose = func() {
		f.mu.Lock()
		if f.writing[r.Filepath] == w {
			delete(f.writing, r.Filepath)
		}
		f.mu.Unlock()
	}
	return w, nil
}

// setstat changes what Strata keeps of a file's attributes: its
// modification time (rclone and scp -p set it after an upload; the access
// time is not kept), and its size only to what it is (OpenSSH sets the
// size of what it uploaded when done): a truncation is refused.
// Permissions and owners are accepted and not kept (Strata has none), as
// is a folder's time (a folder's time is when it was made): refusing them
// would fail sftp's put -p and rclone's syncs over what is not there to
// keep.
func (f *sftpFS) setstat(ctx context.Context, path string, flags sftp.FileAttrFlags, attrs *sftp.FileStat) error {
	f.mu.Lock()
	w := f.writing[path]
	f.mu.Unlock()
	if w != nil {
		stored, err := w.setAttrs(flags, attrs)
		if err != nil || !stored {
			return err
		}
		// The file was closed and is being stored: it takes the time
		// once it is, as any stored file.
		if err := w.wait(ctx); err != nil {
			return err
		}
	}
	if flags.Size {
		e, err := f.c.Stat(ctx, path)
		if err != nil {
			return sftpError(err)
		}
		if e.IsDir() || e.Size != int64(attrs.Size) {
			return statusError(sftp.ErrSSHFxOpUnsupported,
				"%s: changing a file's size is not supported: upload it whole (nothing was changed)", path)
		}
	}
	if flags.Acmodtime {
		_, err := f.c.SetMTime(ctx, path, time.Unix(int64(attrs.Mtime), 0))
		if err != nil && !errors.Is(err, client.ErrIsDir) {
			return sftpError(err)
		}
	}
	return nil
}

// Filecmd changes the tree: setstat (see setstat), mkdir, rename, remove
// and rmdir (both to the trash).
func (f *sftpFS) Filecmd(r *sftp.Request) error {
	ctx := r.Context()
	switch r.Method {
	case "Setstat":
		return f.setstat(ctx, r.Filepath, r.AttrFlags(), r.Attributes())
	case "Mkdir":
		_, err := f.c.Mkdir(ctx, r.Filepath, false)
		return sftpError(err)
	case "Rename":
		// SFTP v3: the target must not exist.
		_, err := f.c.Move(ctx, r.Filepath, r.Target, false)
		return sftpError(err)
	case "Remove", "Rmdir":
		e, err := f.c.Stat(ctx, r.Filepath)
		if err != nil {
			return sftpError(err)
		}
		if e.IsDir() != (r.Method == "Rmdir") {
			if e.IsDir() {
				return statusError(sftp.ErrSSHFxFailure, "%s is a folder: remove it with rmdir", r.Filepath)
			}
			return statusError(sftp.ErrSSHFxFailure, "%s is not a folder", r.Filepath)
		}
		_, err = f.c.Delete(ctx, r.Filepath, false)
		return sftpError(err)
	case "Symlink", "Link":
		return statusError(sftp.ErrSSHFxOpUnsupported, "Strata has no links")
	}
	return statusError(sftp.ErrSSHFxOpUnsupported, "%s is not supported", r.Method)
}

// statvfsBlock is the block size StatVFS counts in.
const statvfsBlock = 4096

// StatVFS answers statvfs@openssh.com (sftp's df, rclone about) with the
// user's quota: its size, and what is left of it. A home folder without a
// byte quota has no free space to tell, and says so.
func (f *sftpFS) StatVFS(r *sftp.Request) (*sftp.StatVFS, error) {
	u, err := f.c.Usage(r.Context(), "")
	if err != nil {
		return nil, sftpError(err)
	}
	if u.QuotaBytes <= 0 {
		return nil, statusError(sftp.ErrSSHFxOpUnsupported,
			"your home folder %s has no quota, so no free space to tell; it holds %d files, %d bytes", u.Home, u.Files, u.Bytes)
	}
	blocks := func(n int64) uint64 { return uint64(max(n, 0)+statvfsBlock-1) / statvfsBlock }
	st := &sftp.StatVFS{
		Bsize: statvfsBlock, Frsize: statvfsBlock,
		Blocks: blocks(u.QuotaBytes), Namemax: storepath.MaxName,
	}
	// Rounded down: what is free is what fits.
	st.Bfree = uint64(max(u.QuotaBytes-u.Bytes-u.Reserved, 0)) / statvfsBlock
	st.Bavail = st.Bfree
	if u.QuotaFiles > 0 {
		st.Files = uint64(u.QuotaFiles)
		st.Ffree = uint64(max(u.QuotaFiles-u.Files, 0))
		st.Favail = st.Ffree
	}
	return st, nil
}

// PosixRename renames onto an existing file (which goes to the trash), as
// posix-rename@openssh.com asks.
func (f *sftpFS) PosixRename(r *sftp.Request) error {
	_, err := f.c.Move(r.Context(), r.Filepath, r.Target, true)
	return sftpError(err)
}

// Filelist lists a folder page by page, or stats one entry.
func (f *sftpFS) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	switch r.Method {
	case "List":
		e, err := f.c.Stat(r.Context(), r.Filepath)
		if err != nil {
			return nil, sftpError(err)
		}
		if !e.IsDir() {
			return nil, statusError(sftp.ErrSSHFxFailure, "%s is not a folder", r.Filepath)
		}
		return &pagedLister{c: f.c, ctx: r.Context(), path: r.Filepath}, nil
	case "Stat", "Lstat":
		if r.Filepath == "/" {
			return oneEntry{entryInfo{api.Entry{Name: "/", Kind: api.KindDir}}}, nil
		}
		e, err := f.c.Stat(r.Context(), r.Filepath)
		if err != nil {
			return nil, sftpError(err)
		}
		return oneEntry{entryInfo{e}}, nil
	case "Readlink":
		return nil, statusError(sftp.ErrSSHFxOpUnsupported, "Strata has no links")
	}
	return nil, statusError(sftp.ErrSSHFxOpUnsupported, "%s is not supported", r.Method)
}

// pagedLister lists a folder a page at a time, as the client asks for
// more: never the whole folder in memory.
type pagedLister struct {
	c      *client.Client
	ctx    context.Context
	path   string
	page   []api.Entry
	base   int64 // index of page[0] in the listing
	cursor string
	done   bool
}

// listPage is the page size asked of the API.
const listPage = 500

func (l *pagedLister) ListAt(out []os.FileInfo, off int64) (int, error) {
	for off >= l.base+int64(len(l.page)) {
		if l.done {
			return 0, io.EOF
		}
		l.base += int64(len(l.page))
		pg, err := l.c.List(l.ctx, l.path, l.cursor, listPage)
		if err != nil {
			return 0, sftpError(err)
		}
		l.page, l.cursor, l.done = pg.Entries, pg.Cursor, pg.Cursor == ""
	}
	if off < l.base {
		return 0, statusError(sftp.ErrSSHFxFailure, "the listing of %s was read out of order", l.path)
	}
	n := 0
	for i := off - l.base; i < int64(len(l.page)) && n < len(out); i++ {
		out[n] = entryInfo{l.page[i]}
		n++
	}
	if l.done && off+int64(n) >= l.base+int64(len(l.page)) {
		return n, io.EOF
	}
	return n, nil
}

type oneEntry struct{ fi os.FileInfo }

func (o oneEntry) ListAt(out []os.FileInfo, off int64) (int, error) {
	if off > 0 || len(out) == 0 {
		return 0, io.EOF
	}
	out[0] = o.fi
	return 1, io.EOF
}

// entryInfo is an entry as a file's information. Modes are what the user
// may expect to do (Strata keeps none).
type entryInfo struct{ e api.Entry }

func (i entryInfo) Name() string {
	if i.e.Name == "" {
		return path.Base(i.e.Path)
	}
	return i.e.Name
}
func (i entryInfo) Size() int64        { return i.e.Size }
func (i entryInfo) ModTime() time.Time { return i.e.ModTime }
func (i entryInfo) IsDir() bool        { return i.e.IsDir() }
func (i entryInfo) Sys() any           { return nil }
func (i entryInfo) Mode() os.FileMode {
	if i.e.IsDir() {
		return os.ModeDir | 0o755
	}
	return 0o644
}

// sftpStatus is an error with an SFTP status code and a message for
// people: pkg/sftp sends the code it wraps and the text.
type sftpStatus struct {
	code error // one of sftp.ErrSSHFx*
	msg  string
}

func (e *sftpStatus) Error() string { return e.msg }
func (e *sftpStatus) Unwrap() error { return e.code }

func statusError(code error, format string, args ...any) error {
	return &sftpStatus{code: code, msg: fmt.Sprintf(format, args...)}
}

// sftpError maps an API error to the SFTP status the client understands,
// keeping the server's message.
func sftpError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var ae *client.Error
	if errors.As(err, &ae) {
		msg = ae.Message()
	}
	var st *sftpStatus
	switch {
	case errors.As(err, &st):
		return err
	case errors.Is(err, context.Canceled):
		return statusError(sftp.ErrSSHFxConnectionLost, "%s", msg)
	case errors.Is(err, client.ErrNotFound):
		return statusError(sftp.ErrSSHFxNoSuchFile, "%s", msg)
	case errors.Is(err, client.ErrForbidden), errors.Is(err, client.ErrUnauthorized):
		return statusError(sftp.ErrSSHFxPermissionDenied, "%s", msg)
	case errors.Is(err, client.ErrNoSpace):
		return statusError(sftp.ErrSSHFxFailure, "quota: %s", msg)
	}
	return statusError(sftp.ErrSSHFxFailure, "%s", msg)
}
