package transfer

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/strata-storage/strata/internal/human"
)

// Moving. MoveUpload and MoveDownload transfer as Upload and Download do,
// then remove the source, never before what came from it is safely at the
// destination:
//
//   - a local source file is deleted as soon as its upload is done and
//     verified (or found already there, same content); once the whole
//     request is over, the source folders left empty are removed;
//   - a Strata source goes to the trash, whole (one entry, restorable as
//     it was), once every file under it is downloaded and verified; if any
//     was skipped or canceled, or could not be listed, it stays.
//
// A request is over when nothing of it is left to do: failed jobs wait for
// a retry or a cancel. Requests are kept in the state file with their jobs,
// so a move interrupted by a quit finishes after the restart.

// move is one move request.
type move struct {
	id   int
	kind Kind
	src  string // the source root
	dst  string // where it goes
	open int    // walks and unfinished jobs
	kept int    // jobs skipped or canceled, walks dropped: their sources stay
	// ending is set while the source is being removed.
	ending bool
}

// Note is the outcome of a move, for the status line.
type Note struct {
	// Seq numbers the notes: a new one has a higher Seq.
	Seq  int
	Text string
	Err  bool
}

// MoveUpload is Upload, then the local source is removed (see the package
// comment on moving).
func (m *Manager) MoveUpload(local, remoteDir string) {
	w := &walkItem{Kind: Upload, Src: local, Dst: path.Join(remoteDir, filepath.Base(local)), Root: true}
	m.queueMove(w, remoteDir)
}

// MoveDownload is Download, then the Strata source goes to the trash (see
// the package comment on moving).
func (m *Manager) MoveDownload(remotePath string, isDir bool, localDir string) {
	w := &walkItem{Kind: Download, Src: remotePath, Dst: filepath.Join(localDir, path.Base(remotePath)), Root: true, IsDir: isDir}
	m.queueMove(w, localDir)
}

func (m *Manager) queueMove(w *walkItem, dstDir string) {
	m.mu.Lock()
	m.nextMove++
	w.mv = &move{id: m.nextMove, kind: w.Kind, src: w.Src, dst: dstDir, open: 1}
	m.moves[w.mv.id] = w.mv
	m.mu.Unlock()
	m.queueWalk(w)
}

// moveOpen counts a walk or a job of mv in (delta 1) or out (-1), and ends
// the move when nothing of it is left; m.mu is held.
func (m *Manager) moveOpen(mv *move, delta int) {
	if mv == nil {
		return
	}
	mv.open += delta
	if mv.open == 0 {
		m.endMove(mv)
	}
}

// moveState follows a job of a move from state old to new; m.mu is held.
func (m *Manager) moveState(j *job, old, new State) {
	mv := j.mv
	if mv == nil {
		return
	}
	lost := func(s State) bool { return s == Skipped || s == Canceled }
	switch {
	case lost(old) && !lost(new):
		mv.kept--
	case !lost(old) && lost(new):
		mv.kept++
	}
	switch {
	case !old.Finished() && new.Finished():
		m.moveOpen(mv, -1)
	case old.Finished() && !new.Finished():
		m.moveOpen(mv, 1)
	}
}

// dropWalk counts a walk of a move that will not be listed (CancelAll).
func (m *Manager) dropWalk(w *walkItem) {
	if w.mv != nil {
		w.mv.kept++
		m.moveOpen(w.mv, -1)
	}
}

// removeMoved deletes the local source of an upload of a move, once the
// upload is done: a failure keeps it, and the move says so.
func (m *Manager) removeMoved(j *job) {
	m.mu.Lock()
	mv, kind, src := j.mv, j.Kind, j.Src
	m.mu.Unlock()
	if mv == nil || kind != Upload {
		return
	}
	if err := os.Remove(src); err != nil && !errors.Is(err, fs.ErrNotExist) {
		m.mu.Lock()
		mv.kept++
		m.noteLocked(fmt.Sprintf("Uploaded %s, but could not delete it: %v", src, err), true)
		m.mu.Unlock()
	}
}

// endMove removes the source of a move that is over, off the lock; m.mu is
// held. A Manager that is closing leaves it to the next one.
func (m *Manager) endMove(mv *move) {
	if m.closing || mv.ending {
		return
	}
	mv.ending = true
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		text, failed, done := m.removeSource(mv)
		m.mu.Lock()
		defer m.mu.Unlock()
		mv.ending = false
		if !done {
			return // closing: the state file keeps the move
		}
		delete(m.moves, mv.id)
		m.noteLocked(text, failed)
		m.requestSave()
	}()
}

// removeSource removes what a finished move leaves at its source, and
// says how it went; done is false when it was interrupted by Close.
func (m *Manager) removeSource(mv *move) (text string, failed, done bool) {
	m.mu.Lock()
	kept := mv.kept
	m.mu.Unlock()
	name := filepath.Base(mv.src)
	if mv.kind == Upload {
		pruneEmpty(mv.src)
		if kept > 0 {
			return fmt.Sprintf("Moved %s to %s; %s stayed (skipped or canceled)",
				name, mv.dst, human.Plural(kept, "item", "items")), false, true
		}
		return fmt.Sprintf("Moved %s to %s", name, mv.dst), false, true
	}
	name = path.Base(mv.src)
	if kept > 0 {
		return fmt.Sprintf("Kept %s on Strata: %s skipped or canceled", name, human.Plural(kept, "item was", "items were")), false, true
	}
	_, err := m.r.Delete(m.ctx, mv.src, true)
	switch {
	case err != nil && m.ctx.Err() != nil:
		return "", false, false
	case err != nil:
		return fmt.Sprintf("Downloaded %s, but could not move the original to the trash: %v", name, err), true, true
	}
	return fmt.Sprintf("Moved %s to %s (the original is in the trash)", name, mv.dst), false, true
}

// pruneEmpty removes the folders under root (root included) that are
// empty, deepest first: what a move took the files out of. A folder that
// still holds something stays. Links are not followed.
func pruneEmpty(root string) {
	fi, err := os.Lstat(root)
	if err != nil || !fi.IsDir() {
		return
	}
	var dirs []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for _, d := range slices.Backward(dirs) {
		_ = os.Remove(d) // fails, harmlessly, on a folder that is not empty
	}
}

// noteLocked records the outcome of a move for the snapshot; m.mu is held.
func (m *Manager) noteLocked(text string, failed bool) {
	m.note = Note{Seq: m.note.Seq + 1, Text: text, Err: failed}
	m.changedLocked()
}

// startMoves ends the restored moves that had nothing left (a quit came
// between their last file and the removal of their source).
func (m *Manager) startMoves() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range slices.Sorted(maps.Keys(m.moves)) {
		if mv := m.moves[id]; mv.open == 0 {
			m.endMove(mv)
		}
	}
}
