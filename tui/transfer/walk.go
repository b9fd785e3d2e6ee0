package transfer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/strata-storage/strata/internal/localtree"
	"github.com/strata-storage/strata/tui/remote"
)

// walker lists folders until Close. A folder is listed one directory (or
// one remote page) at a time, and what a step finds is committed at once
// with the step's end, so a walk interrupted anywhere resumes from the
// saved state without listing a file twice. (This is why the local walk is
// os.ReadDir per folder rather than filepath.WalkDir, which cannot resume.)
func (m *Manager) walker() {
	defer m.wg.Done()
	for {
		w, ctx, cancel := m.nextWalk()
		if w == nil {
			return
		}
		var files []*job
		var dirs []*walkItem
		var cursor string
		var err error
		if w.Kind == Upload {
			files, dirs, err = m.listLocal(ctx, w)
		} else {
			files, dirs, cursor, err = m.listRemote(ctx, w)
		}
		cancel()
		m.commit(w, files, dirs, cursor, err)
	}
}

// nextWalk waits for a folder to list (none while the server is
// unreachable); nil after Close.
func (m *Manager) nextWalk() (*walkItem, context.Context, context.CancelFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		if m.closing {
			return nil, nil, nil
		}
		if !m.offline && len(m.walks) > 0 {
			w := m.walks[len(m.walks)-1]
			m.walks[len(m.walks)-1] = nil
			m.walks = m.walks[:len(m.walks)-1]
			ctx, cancel := context.WithCancel(m.ctx)
			w.cancel = cancel
			m.listing[w] = true
			return w, ctx, cancel
		}
		m.cond.Wait()
	}
}

// listLocal lists one local folder for an upload (or resolves a root
// request), creating its remote counterpart first. What it takes and skips
// is localtree's rule, the CLI's too.
func (m *Manager) listLocal(ctx context.Context, w *walkItem) ([]*job, []*walkItem, error) {
	if w.Root || len(w.Parents) == 0 { // (a walk saved before parents were)
		e, err := localtree.Stat(w.Src)
		if err != nil {
			return nil, nil, err
		}
		if e.Skip != nil {
			return []*job{{Job: Job{Kind: Upload, Src: w.Src, Dst: w.Dst, State: Skipped, Err: e.Skip}}}, nil, nil
		}
		if !e.IsDir() {
			return []*job{{Job: Job{Kind: Upload, Src: w.Src, Dst: w.Dst, Size: e.Info.Size()}}}, nil, nil
		}
		w.Parents = []localtree.DirID{e.ID}
	}
	if err := m.mkdirRemote(ctx, w.Dst); err != nil {
		return nil, nil, err
	}
	entries, err := localtree.ReadDir(w.Src, w.Parents)
	if err != nil {
		return nil, nil, err
	}
	var files []*job
	var dirs []*walkItem
	for _, e := range entries {
		dst := path.Join(w.Dst, e.Name)
		switch {
		case e.Skip != nil:
			files = append(files, &job{Job: Job{Kind: Upload, Src: e.Path, Dst: dst, State: Skipped, Err: e.Skip}})
		case e.IsDir():
			// A copy per folder: siblings must not share one array.
			parents := append(w.Parents[:len(w.Parents):len(w.Parents)], e.ID)
			dirs = append(dirs, &walkItem{Kind: Upload, Src: e.Path, Dst: dst, Parents: parents})
		default:
			files = append(files, &job{Job: Job{Kind: Upload, Src: e.Path, Dst: dst, Size: e.Info.Size()}})
		}
	}
	return files, dirs, nil
}

// mkdirRemote creates a remote folder; one that exists is fine.
func (m *Manager) mkdirRemote(ctx context.Context, p string) error {
	_, err := m.r.Mkdir(ctx, p)
	if err == nil {
		return nil
	}
	if !errors.Is(err, remote.ErrExists) {
		return fmt.Errorf("create %s: %w", p, err)
	}
	e, err := m.r.Stat(ctx, p)
	if err != nil {
		return fmt.Errorf("create %s: %w", p, err)
	}
	if !e.IsDir() {
		return fmt.Errorf("create %s: %w: a file has this name", p, remote.ErrExists)
	}
	return nil
}

// listRemote lists one page of a remote folder for a download (or resolves
// a root request), creating the local folder first; cursor is the next
// page's ("" after the last).
func (m *Manager) listRemote(ctx context.Context, w *walkItem) ([]*job, []*walkItem, string, error) {
	if w.Root && !w.IsDir {
		e, err := m.r.Stat(ctx, w.Src)
		if err != nil {
			return nil, nil, "", err
		}
		if !e.IsDir() {
			return []*job{downloadJob(e, w.Src, w.Dst)}, nil, "", nil
		}
	}
	if err := ctx.Err(); err != nil { // canceled: leave the disk alone
		return nil, nil, "", err
	}
	if err := os.MkdirAll(w.Dst, 0o755); err != nil {
		return nil, nil, "", err
	}
	pg, err := m.r.List(ctx, w.Src, w.Cursor, listLimit)
	if err != nil {
		return nil, nil, "", fmt.Errorf("list %s: %w", w.Src, err)
	}
	var files []*job
	var dirs []*walkItem
	for _, e := range pg.Entries {
		src := path.Join(w.Src, e.Name)
		if !safeName(e.Name) {
			// A server must not make us write outside the target folder.
			files = append(files, &job{Job: Job{Kind: Download, Src: src, Dst: w.Dst, State: Skipped,
				Err: fmt.Errorf("%q cannot be a local file name", e.Name)}})
			continue
		}
		dst := filepath.Join(w.Dst, e.Name)
		if e.IsDir() {
			dirs = append(dirs, &walkItem{Kind: Download, Src: src, Dst: dst})
			continue
		}
		files = append(files, downloadJob(e, src, dst))
	}
	return files, dirs, pg.Cursor, nil
}

// errArchived is why a file was not downloaded: its content is archived.
var errArchived = fmt.Errorf("%w: restore it first (w)", remote.ErrArchived)

// downloadJob is the download of file e, or, when its content must be
// restored before it is read, a skipped job that says so (counted for the
// note at the batch's end): one archived file does not fail a folder.
func downloadJob(e remote.Entry, src, dst string) *job {
	if remote.NeedsRestore(e) {
		return &job{Job: Job{Kind: Download, Src: src, Dst: dst, Size: e.Size, State: Skipped, Err: errArchived}}
	}
	return &job{Job: Job{Kind: Download, Src: src, Dst: dst, Size: e.Size}}
}

func safeName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\\\x00") &&
		filepath.Base(name) == name && !filepath.IsAbs(name) && filepath.VolumeName(name) == ""
}

// commit records one listing step: its files join the queue, its
// subfolders the walk (listed in name order, depth first), and a folder
// with more pages goes back on top so its pages come before its
// subfolders'. A failure is retried (server unreachable: when it is back;
// timeout: up to Options.Retries) or becomes a failed folder job.
func (m *Manager) commit(w *walkItem, files []*job, dirs []*walkItem, cursor string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.listing, w)
	w.cancel = nil
	defer func() {
		m.batchOver()
		m.requestSave()
		m.cond.Broadcast()
		m.changedLocked()
	}()
	if w.gen != m.walkGen {
		m.dropWalk(w) // dropped by CancelAll
		return
	}
	if err != nil {
		switch {
		case m.closing:
			m.walks = append(m.walks, w) // saved, resumed by the next Manager
		case remote.IsDisconnected(err):
			m.setOffline()
			m.walks = append(m.walks, w)
		case isTimeout(err) && w.tries < m.o.Retries:
			w.tries++
			m.walks = append(m.walks, w)
		default:
			m.add(&job{Job: Job{Kind: w.Kind, Src: w.Src, Dst: w.Dst, Dir: true, State: Failed, Err: err}, walk: w, mv: w.mv})
			m.moveOpen(w.mv, -1) // the job stands for the walk now
		}
		return
	}
	m.setOnline()
	for _, f := range files {
		f.mv = w.mv
		m.add(f)
		if f.Err == errArchived {
			m.archived++
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		dirs[i].gen, dirs[i].mv = w.gen, w.mv
		m.walks = append(m.walks, dirs[i])
		m.moveOpen(w.mv, 1)
	}
	if cursor != "" {
		w.Cursor, w.tries = cursor, 0
		m.walks = append(m.walks, w)
		return
	}
	m.moveOpen(w.mv, -1) // listed whole
}
