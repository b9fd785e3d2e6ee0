package transfer

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/strata-storage/strata/internal/atomicfile"
	"github.com/strata-storage/strata/internal/localtree"
)

// stateVersion is the format of the state file; a file of another version
// is refused rather than misread.
const stateVersion = 1

// stateFile is what Options.StatePath holds: the unfinished set.
//
//	{"version": 1,
//	 "jobs": [{"kind": "upload", "src": "/home/ann/pics/a.jpg", "dst": "/home/ann/pics/a.jpg",
//	           "size": 1234, "done": 512, "state": "queued", "attempts": 1}, ...],
//	 "walks": [{"kind": "download", "src": "/remote/dir", "dst": "/local/dir", "cursor": "name"},
//	           {"kind": "upload", "src": "/home/ann/pics/2025", "dst": "/home/ann/pics/2025",
//	            "parents": [{"dev": 2049, "ino": 131073}, {"dev": 2049, "ino": 131090}]}],
//	 "for_all": {"upload": "overwrite"},
//	 "moves": [{"id": 1, "kind": "download", "src": "/remote/dir", "dst": "/local", "kept": 0}]}
//
// Jobs are queued ones (running ones and ones waiting on a conflict are
// saved as queued: the destination is checked again) and failed ones (with
// their error text); "action" keeps a decision given for that job. A failed
// folder job carries its listing in "walk". Walks are the folders not yet
// listed, with the remote page to continue from. Moves are the move
// requests not yet over; a job or walk of one names it in "move".
type stateFile struct {
	Version int               `json:"version"`
	Jobs    []stateJob        `json:"jobs,omitempty"`
	Walks   []stateWalk       `json:"walks,omitempty"`
	ForAll  map[string]string `json:"for_all,omitempty"`
	Moves   []stateMove       `json:"moves,omitempty"`
}

type stateMove struct {
	ID   int    `json:"id"`
	Kind Kind   `json:"kind"`
	Src  string `json:"src"`
	Dst  string `json:"dst"`
	Kept int    `json:"kept,omitempty"`
}

type stateJob struct {
	Kind     Kind       `json:"kind"`
	Src      string     `json:"src"`
	Dst      string     `json:"dst"`
	Size     int64      `json:"size"`
	Done     int64      `json:"done,omitempty"`
	State    string     `json:"state"` // "queued" or "failed"
	Action   string     `json:"action,omitempty"`
	Attempts int        `json:"attempts,omitempty"`
	Err      string     `json:"error,omitempty"`
	Walk     *stateWalk `json:"walk,omitempty"`
	Move     int        `json:"move,omitempty"`
}

type stateWalk struct {
	Kind   Kind   `json:"kind"`
	Src    string `json:"src"`
	Dst    string `json:"dst"`
	Cursor string `json:"cursor,omitempty"`
	Root   bool   `json:"root,omitempty"`
	IsDir  bool   `json:"is_dir,omitempty"`
	// Parents of a local folder (see walkItem.Parents).
	Parents []localtree.DirID `json:"parents,omitempty"`
	Move    int               `json:"move,omitempty"`
}

func walkState(w *walkItem) stateWalk {
	return stateWalk{Kind: w.Kind, Src: w.Src, Dst: w.Dst, Cursor: w.Cursor, Root: w.Root, IsDir: w.IsDir, Parents: w.Parents, Move: moveID(w.mv)}
}

func (s stateWalk) item(moves map[int]*move) *walkItem {
	return &walkItem{Kind: s.Kind, Src: s.Src, Dst: s.Dst, Cursor: s.Cursor, Root: s.Root, IsDir: s.IsDir, Parents: s.Parents, mv: moves[s.Move]}
}

func moveID(mv *move) int {
	if mv == nil {
		return 0
	}
	return mv.id
}

// stateLocked builds the state to save; m.mu is held.
func (m *Manager) stateLocked() stateFile {
	st := stateFile{Version: stateVersion}
	m.advanceLow()
	for _, j := range m.jobs[m.low:] {
		if j.State.Finished() {
			continue
		}
		sj := stateJob{Kind: j.Kind, Src: j.Src, Dst: j.Dst, Size: j.Size, Done: j.Done, State: "queued", Attempts: j.Attempts,
			Move: moveID(j.mv)}
		if j.action == Overwrite || j.action == Rename {
			sj.Action = j.action.String()
		}
		if j.State == Failed {
			sj.State = "failed"
			if j.Err != nil {
				sj.Err = j.Err.Error()
			}
			if j.walk != nil {
				w := walkState(j.walk)
				sj.Walk = &w
			}
		}
		st.Jobs = append(st.Jobs, sj)
	}
	// Bottom of the stack first, so that restoring in order rebuilds it.
	for _, w := range m.walks {
		st.Walks = append(st.Walks, walkState(w))
	}
	for w := range m.listing {
		st.Walks = append(st.Walks, walkState(w))
	}
	for _, id := range slices.Sorted(maps.Keys(m.moves)) {
		mv := m.moves[id]
		st.Moves = append(st.Moves, stateMove{ID: id, Kind: mv.kind, Src: mv.src, Dst: mv.dst, Kept: mv.kept})
	}
	for k, a := range m.standing {
		if a != Ask {
			if st.ForAll == nil {
				st.ForAll = map[string]string{}
			}
			st.ForAll[Kind(k).String()] = a.String()
		}
	}
	return st
}

// save writes the state file, or removes it when nothing is unfinished.
func (m *Manager) save() {
	m.saveMu.Lock()
	defer m.saveMu.Unlock()
	start := time.Now()
	m.mu.Lock()
	st := m.stateLocked()
	m.mu.Unlock()
	err := writeState(m.o.StatePath, st)
	m.mu.Lock()
	defer m.mu.Unlock()
	// A big queue costs a while to write: space the saves so that saving
	// takes at most a fifth of the time.
	m.saveDelay = max(saveDebounce, 5*time.Since(start))
	if (err == nil) != (m.saveErr == nil) {
		m.changedLocked()
	}
	m.saveErr = err
}

const saveDebounce = 250 * time.Millisecond

// saver saves the state after changes, debounced, until Close (which saves
// once more itself).
func (m *Manager) saver() {
	defer m.wg.Done()
	for {
		select {
		case <-m.closed:
			return
		case <-m.saveReq:
		}
		m.mu.Lock()
		d := max(m.saveDelay, saveDebounce)
		m.mu.Unlock()
		t := time.NewTimer(d)
		select {
		case <-m.closed:
			t.Stop()
			return
		case <-t.C:
		}
		m.save()
	}
}

func writeState(name string, st stateFile) error {
	if len(st.Jobs) == 0 && len(st.Walks) == 0 && len(st.Moves) == 0 {
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove transfer state: %w", err)
		}
		return nil
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode transfer state: %w", err)
	}
	// Temp file, fsync, rename: a crash leaves the old state or the new.
	if err := atomicfile.Write(name, b, 0o600); err != nil {
		return fmt.Errorf("save transfer state: %w", err)
	}
	return nil
}

// readState reads a state file; a missing one is an empty state.
func readState(name string) (stateFile, error) {
	b, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return stateFile{Version: stateVersion}, nil
	}
	if err != nil {
		return stateFile{}, err
	}
	var st stateFile
	if err := json.Unmarshal(b, &st); err != nil {
		return stateFile{}, fmt.Errorf("%s: %w", name, err)
	}
	if st.Version != stateVersion {
		return stateFile{}, fmt.Errorf("%s: unknown version %d", name, st.Version)
	}
	return st, nil
}

// restore queues a loaded state (before the workers start).
func (m *Manager) restore(st stateFile) error {
	for _, sm := range st.Moves {
		m.moves[sm.ID] = &move{id: sm.ID, kind: sm.Kind, src: sm.Src, dst: sm.Dst, kept: max(sm.Kept, 0)}
		m.nextMove = max(m.nextMove, sm.ID)
	}
	for _, sj := range st.Jobs {
		j := &job{Job: Job{Kind: sj.Kind, Src: sj.Src, Dst: sj.Dst, Size: max(sj.Size, 0), Attempts: sj.Attempts},
			mv: m.moves[sj.Move]}
		j.Done = min(max(sj.Done, 0), j.Size)
		a, err := parseAction(sj.Action)
		if err != nil {
			return err
		}
		j.action = a
		switch sj.State {
		case "queued":
			m.resumed++
		case "failed":
			j.State = Failed
			j.Err = errors.New(sj.Err)
			if sj.Walk != nil {
				j.Dir, j.walk = true, sj.Walk.item(m.moves)
			}
		default:
			return fmt.Errorf("unknown job state %q", sj.State)
		}
		m.add(j)
	}
	for _, sw := range st.Walks {
		w := sw.item(m.moves)
		m.walks = append(m.walks, w)
		if w.mv != nil {
			w.mv.open++
		}
		m.resumed++
	}
	for k, v := range st.ForAll {
		var kind Kind
		if err := kind.UnmarshalText([]byte(k)); err != nil {
			return err
		}
		a, err := parseAction(v)
		if err != nil {
			return err
		}
		m.standing[kind] = a
	}
	return nil
}
