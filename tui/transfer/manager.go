// Package transfer moves files between the local disk and a Strata server
// for the TUI: a Manager (plain Go) runs the transfers, a Model (bubbletea
// component) shows them.
//
// The Manager never blocks its caller on the network or the disk: Upload and
// Download only queue a request, folders are listed by background walkers,
// and files go through a fixed pool of workers (Options.Parallel). Every
// method is safe for concurrent use and returns at once, so the UI may call
// them from Update.
//
// Resuming. remote.Remote's Upload and Download are themselves resumable: an
// upload of the same local file continues its server-side upload session, a
// download continues from its hidden partial file. The Manager relies on that
// for every kind of interruption:
//
//   - a failed attempt is retried (transient errors only) and continues
//     where it stopped;
//   - a canceled upload leaves its session on the server, where a later
//     upload of the same file resumes it or the collector removes it when it
//     expires; a canceled download leaves its partial file
//     (".<name>.<digest>.strata-part" next to the destination) so that Retry,
//     or any later download of the same content, continues from it;
//   - Close, a quit or a crash leaves the unfinished jobs and folders in the
//     state file (Options.StatePath); New re-queues them and they start at
//     once (no separate Start: the root model reports Resumed to the user,
//     who may cancel).
//
// Progress. A job's Done counts the bytes the Remote reported for the current
// attempt, but never less than what earlier attempts left behind: a retry
// reports the bytes it resumes again, and they are not counted twice, so
// progress on screen only moves back when a Remote undoes bytes with a
// negative count, and never past the size.
package transfer

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/internal/localtree"
	"github.com/strata-storage/strata/tui/remote"
)

// Kind says which way a job goes.
type Kind int

// The kinds of jobs.
const (
	Upload   Kind = iota // local to remote
	Download             // remote to local
)

// String is "upload" or "download".
func (k Kind) String() string {
	if k == Download {
		return "download"
	}
	return "upload"
}

// MarshalText writes the kind as "upload" or "download" (the state file).
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads "upload" or "download".
func (k *Kind) UnmarshalText(b []byte) error {
	switch string(b) {
	case "upload":
		*k = Upload
	case "download":
		*k = Download
	default:
		return fmt.Errorf("unknown transfer kind %q", b)
	}
	return nil
}

// State is where a job is in its life.
type State int

// The states of a job; Done, Canceled and Skipped are final.
const (
	Queued   State = iota // waiting for a worker (or for a retry's backoff)
	Running               // checking its destination or transferring
	Conflict              // its destination exists: waiting for Resolve
	Failed                // given up; Retry queues it again
	Done
	Canceled
	Skipped // by a Skip decision, or not a regular file
	nStates
)

var stateNames = [...]string{"queued", "running", "conflict", "failed", "done", "canceled", "skipped"}

// String is the state's name in lower case ("queued", "running"...).
func (s State) String() string {
	if s < 0 || s >= nStates {
		return fmt.Sprintf("State(%d)", int(s))
	}
	return stateNames[s]
}

// Finished reports a final state: the job is not part of the unfinished
// set that is saved and resumed.
func (s State) Finished() bool { return s == Done || s == Canceled || s == Skipped }

// Action answers a conflict.
type Action int

// The answers to "the destination exists".
const (
	Ask       Action = iota // no decision yet
	Overwrite               // replace it (a remote file gets a new version)
	Skip                    // leave it, do not transfer
	Rename                  // transfer to "name (1).ext", "name (2).ext"...
)

var actionNames = [...]string{"", "overwrite", "skip", "rename"}

// String is the action's name in lower case ("" for Ask).
func (a Action) String() string {
	if a < 0 || int(a) >= len(actionNames) {
		return fmt.Sprintf("Action(%d)", int(a))
	}
	return actionNames[a]
}

func parseAction(s string) (Action, error) {
	for i, n := range actionNames {
		if n == s {
			return Action(i), nil
		}
	}
	return Ask, fmt.Errorf("unknown conflict action %q", s)
}

// Decision is the user's answer to a conflict; ForAll makes it stand for
// every later conflict of the same kind (uploads or downloads) until the
// batch is over (nothing unfinished and no folder left to list).
type Decision struct {
	Action Action
	ForAll bool
}

// Options tune a Manager; the zero value is usable.
type Options struct {
	// Parallel is the number of files in flight (default 4).
	Parallel int
	// Retries is the number of automatic retries of a file that failed with
	// a transient error (server unreachable, timeout): default 3, negative
	// for none. A refusal is never retried. While the server is unreachable
	// no new file starts, so an outage costs each file in flight one try,
	// however long it lasts.
	Retries int
	// Backoff is the delay before the first retry, doubled for each next
	// one up to 30 s (default 1 s); it also paces the pings that watch for
	// the server's return.
	Backoff time.Duration
	// StatePath is the file the unfinished jobs are saved to (JSON, 0600,
	// written atomically); "" keeps nothing.
	StatePath string
	// Now is the clock of speeds and ETAs (default time.Now).
	Now func() time.Time
}

const (
	defaultParallel = 4
	defaultRetries  = 3
	defaultBackoff  = time.Second
	maxBackoff      = 30 * time.Second
	walkers         = 2    // folders listed at once
	listLimit       = 1000 // entries per remote List page
)

// Job is one file (or, with Dir, a folder whose listing failed).
type Job struct {
	ID   int
	Kind Kind
	// Src and Dst are the source and destination paths: local and remote
	// for an upload, remote and local for a download. Dst changes when the
	// job is renamed by a conflict decision.
	Src, Dst string
	// Dir marks a folder that could not be listed (Err says why); Retry
	// lists it again. Its Size and Done are 0 and it counts in no total.
	Dir bool
	// Size is the file's size as listed (the server's, once done); Done the
	// bytes transferred, 0 <= Done <= Size.
	Size, Done int64
	State      State
	// Err is why the job failed, the last error of a job waiting to be
	// retried, or why a file was skipped; nil otherwise.
	Err error
	// Speed (bytes/s over the last few seconds) and ETA are set while
	// Running.
	Speed float64
	ETA   time.Duration
	// Attempts counts the transfers started (1 for a job that went through
	// at once).
	Attempts int
	// RetryAt is when a Queued job waiting out a retry's backoff starts
	// again (zero otherwise).
	RetryAt time.Time
}

// Snapshot is a consistent copy of the Manager's state.
type Snapshot struct {
	// Jobs are the file-level jobs in a stable order: running, queued,
	// waiting on a conflict, failed, then finished (done, canceled,
	// skipped); by ID within each. From SnapshotRange, only the window
	// [Offset, Offset+len(Jobs)) of that order.
	Jobs   []Job
	Offset int
	// Total is the number of jobs in the whole list.
	Total int

	// Files and Bytes are the batch: every job in the list but the
	// canceled and skipped ones; FilesDone and BytesDone what of it is
	// done. Files grows while folders are listed (Walking > 0).
	Files, FilesDone int
	Bytes, BytesDone int64
	// Speed is the batch's bytes/s over the last few seconds; ETA the time
	// left at that speed for what is not failed (0 when nothing runs).
	Speed float64
	ETA   time.Duration
	// Walking counts folders still to be listed.
	Walking int
	// Counts of jobs by state.
	Running, Queued, Conflicts, Failed, Skipped int
	// Retrying counts queued jobs waiting out a retry's backoff.
	Retrying int
	// Conflict is the first job waiting for a decision, if any, and
	// ConflictAt its place in the whole list.
	Conflict   *Job
	ConflictAt int
	// Offline is set while the server cannot be reached: transfers wait
	// and the Manager pings it until it answers ("connection lost").
	Offline bool
	// SaveErr is the last failure to save the state file (nil when the
	// last save worked).
	SaveErr error
	// Note is the outcome of the last move that ended (zero if none).
	Note Note
}

// job is a Job with what the Manager needs to run it.
type job struct {
	Job
	walk     *walkItem          // a Dir job: the listing Retry starts again
	action   Action             // the decision for this job (Ask: none)
	carry    int64              // bytes earlier attempts left behind
	cur      int64              // bytes the current attempt reported
	serial   int                // counts runs: callbacks of an earlier run are ignored
	tries    int                // failures since the last manual Retry, against Options.Retries
	cancel   context.CancelFunc // of the running attempt
	canceled bool               // Cancel was asked (tells it from Close)
	enq      bool               // in a ready queue
	timer    *time.Timer        // a retry's backoff
	claim    string             // the destination claimed while running
	rate     rate
	mv       *move // the move it is part of, if any
}

// walkItem is a folder (or a root request) still to be listed.
type walkItem struct {
	Kind   Kind
	Src    string
	Dst    string
	Cursor string // next remote page
	Root   bool   // a request from Upload or Download: Src may be a file
	IsDir  bool   // for a root download: Src is a folder
	// Parents identify the local folders from an upload's root down to
	// Src itself, for localtree's cycle check.
	Parents []localtree.DirID

	gen    int // walkGen when queued: CancelAll drops older walks
	tries  int
	cancel context.CancelFunc
	mv     *move // the move it is part of, if any
}

// fifo is a queue of jobs.
type fifo struct {
	q    []*job
	head int
}

func (f *fifo) push(j *job) { f.q = append(f.q, j) }

func (f *fifo) pop() *job {
	if f.head == len(f.q) {
		return nil
	}
	j := f.q[f.head]
	f.q[f.head] = nil
	f.head++
	if f.head == len(f.q) {
		f.q, f.head = f.q[:0], 0
	} else if f.head > 1024 && f.head > len(f.q)/2 {
		// Reclaim the popped half so a long batch does not grow the slice.
		n := copy(f.q, f.q[f.head:])
		clear(f.q[n:])
		f.q, f.head = f.q[:n], 0
	}
	return j
}

func (f *fifo) clear() { f.q, f.head = nil, 0 }

// Manager runs transfers. Create it with New and stop it with Close.
type Manager struct {
	r remote.Remote
	o Options

	ctx     context.Context // canceled by Close
	stop    context.CancelFunc
	wg      sync.WaitGroup
	changed chan struct{}
	closed  chan struct{}
	saveReq chan struct{}
	once    sync.Once
	saveMu  sync.Mutex // one save at a time

	mu       sync.Mutex
	cond     *sync.Cond
	closing  bool
	nextID   int
	jobs     []*job // every job in the list, by ID
	low      int    // jobs[:low] are all finished
	count    [nStates]int
	running  map[int]*job
	conflict map[int]*job
	failed   map[int]*job
	urgent   fifo // retries and answered conflicts go first
	ready    fifo
	walks    []*walkItem // a stack: folders are listed depth first
	listing  map[*walkItem]bool
	walkGen  int
	claimed  map[string]int // destination -> the running job writing it
	standing [2]Action      // ForAll decisions, by Kind
	offline  bool
	me       string // the user's ID, once asked (userID)
	probing  bool
	retrying int

	files, filesDone int
	bytes, bytesDone int64
	moved            int64 // bytes moved, for the batch speed
	batchRate        rate
	saveErr          error
	saveDelay        time.Duration
	resumed          int

	moves    map[int]*move // by id
	nextMove int
	note     Note // the outcome of the last move that ended
	archived int  // archived files the batch skipped, for its note
}

// New starts a Manager over r. With a StatePath, the jobs and folders left
// unfinished by an earlier Manager are loaded and queued again at once
// (Resumed says how many), and failed ones come back as failed; an
// unreadable or corrupt state file is an error.
func New(r remote.Remote, o Options) (*Manager, error) {
	if o.Parallel <= 0 {
		o.Parallel = defaultParallel
	}
	if o.Retries == 0 {
		o.Retries = defaultRetries
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Backoff <= 0 {
		o.Backoff = defaultBackoff
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	m := &Manager{
		r: r, o: o,
		changed:  make(chan struct{}, 1),
		closed:   make(chan struct{}),
		saveReq:  make(chan struct{}, 1),
		nextID:   1,
		running:  map[int]*job{},
		conflict: map[int]*job{},
		failed:   map[int]*job{},
		listing:  map[*walkItem]bool{},
		claimed:  map[string]int{},
		moves:    map[int]*move{},
	}
	m.cond = sync.NewCond(&m.mu)
	if o.StatePath != "" {
		st, err := readState(o.StatePath)
		if err != nil {
			return nil, fmt.Errorf("transfer state: %w", err)
		}
		if err := m.restore(st); err != nil {
			return nil, fmt.Errorf("transfer state %s: %w", o.StatePath, err)
		}
	}
	m.ctx, m.stop = context.WithCancel(context.Background())
	for range o.Parallel {
		m.wg.Add(1)
		go m.worker()
	}
	for range walkers {
		m.wg.Add(1)
		go m.walker()
	}
	if o.StatePath != "" {
		m.wg.Add(1)
		go m.saver()
	}
	m.startMoves()
	return m, nil
}

// Resumed is the number of files and folders New queued again from the
// state file ("resuming N transfers"); failed ones are not counted.
func (m *Manager) Resumed() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.resumed
}

// Upload queues the local file or folder (recursively) local, to be
// uploaded into the remote folder remoteDir. The folder is created in
// remoteDir (an existing one is merged into: its files conflict one by
// one). Symbolic links are followed for files and for local itself, not
// for folders inside it.
func (m *Manager) Upload(local, remoteDir string) {
	m.queueWalk(&walkItem{Kind: Upload, Src: local, Dst: path.Join(remoteDir, filepath.Base(local)), Root: true})
}

// Download queues the remote file or folder (isDir, recursively)
// remotePath, to be downloaded into the local folder localDir.
func (m *Manager) Download(remotePath string, isDir bool, localDir string) {
	m.queueWalk(&walkItem{Kind: Download, Src: remotePath, Dst: filepath.Join(localDir, path.Base(remotePath)), Root: true, IsDir: isDir})
}

func (m *Manager) queueWalk(w *walkItem) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w.gen = m.walkGen
	m.walks = append(m.walks, w)
	m.cond.Broadcast()
	m.changedLocked()
}

// Cancel stops a job that is not finished: a queued, waiting or failed one
// at once, a running one as soon as its Remote call returns (see the
// package comment for what a canceled transfer leaves behind).
func (m *Manager) Cancel(id int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if j := m.find(id); j != nil {
		m.cancelLocked(j)
		m.changedLocked()
	}
}

// CancelAll cancels every unfinished job and drops the folders still to be
// listed.
func (m *Manager) CancelAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.walkGen++
	for _, w := range m.walks {
		m.dropWalk(w)
	}
	m.walks = nil
	for w := range m.listing {
		if w.cancel != nil {
			w.cancel()
		}
	}
	clear(m.listing)
	for _, j := range m.jobs[m.low:] {
		m.cancelLocked(j)
	}
	m.urgent.clear()
	m.ready.clear()
	for _, j := range m.jobs {
		j.enq = false
	}
	m.changedLocked()
}

func (m *Manager) cancelLocked(j *job) {
	switch j.State {
	case Running:
		j.canceled = true
		if j.cancel != nil {
			j.cancel()
		}
	case Queued, Conflict, Failed:
		m.stopTimer(j)
		j.Err = nil
		m.setState(j, Canceled)
	}
}

// Retry queues again a failed or canceled job, with a fresh allowance of
// automatic retries; a folder that could not be listed is listed again.
func (m *Manager) Retry(id int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if j := m.find(id); j != nil {
		m.retryLocked(j)
		m.changedLocked()
	}
}

// RetryFailed retries every failed job.
func (m *Manager) RetryFailed() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, j := range m.sorted(m.failed) {
		m.retryLocked(j)
	}
	m.changedLocked()
}

func (m *Manager) retryLocked(j *job) {
	if j.State != Failed && j.State != Canceled {
		return
	}
	if j.Dir {
		// The folder goes back to the walkers; a new failure makes a new job.
		w := j.walk
		if w != nil {
			w.gen, w.tries = m.walkGen, 0
			m.walks = append(m.walks, w)
			m.moveOpen(w.mv, 1) // before the job leaves: the move is not over
			m.cond.Broadcast()
		}
		m.remove(j)
		m.requestSave()
		return
	}
	j.tries, j.canceled = 0, false
	j.Err = nil
	m.setState(j, Queued)
	m.enqueue(j, true)
}

// ClearDone removes the finished jobs (done, canceled, skipped) from the
// list, and so from the batch totals.
func (m *Manager) ClearDone() {
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := m.jobs[:0]
	for _, j := range m.jobs {
		if j.State.Finished() {
			m.acct(j, -1)
			m.count[j.State]--
			continue
		}
		kept = append(kept, j)
	}
	clear(m.jobs[len(kept):])
	m.jobs, m.low = kept, 0
	m.changedLocked()
}

// Resolve answers the conflict of job id (ignored if it is not waiting on
// one). With ForAll the action also answers every other waiting job of the
// same kind, and the later conflicts of the batch.
func (m *Manager) Resolve(id int, d Decision) {
	if d.Action < Overwrite || d.Action > Rename {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	j := m.find(id)
	if j == nil || j.State != Conflict {
		return
	}
	if d.ForAll {
		m.standing[j.Kind] = d.Action
		for _, o := range m.sorted(m.conflict) {
			if o.Kind == j.Kind {
				m.apply(o, d.Action)
			}
		}
	} else {
		m.apply(j, d.Action)
	}
	m.requestSave()
	m.changedLocked()
}

func (m *Manager) apply(j *job, a Action) {
	if a == Skip {
		m.setState(j, Skipped)
		return
	}
	j.action = a
	m.setState(j, Queued)
	m.enqueue(j, true)
}

// Changed is signalled (coalesced: one pending signal at most) whenever
// the snapshot changed. It is never closed.
func (m *Manager) Changed() <-chan struct{} { return m.changed }

// Closed is closed by Close; a goroutine waiting on Changed should wait on
// it too.
func (m *Manager) Closed() <-chan struct{} { return m.closed }

// Close stops the walkers and the workers (running transfers are
// interrupted, to be resumed by the next Manager), waits for them (that is,
// for the Remote calls in flight to return on their canceled context) and
// saves the state. It is idempotent; other methods called after Close do
// nothing useful.
func (m *Manager) Close() {
	m.once.Do(func() {
		m.mu.Lock()
		m.closing = true
		for _, j := range m.jobs[m.low:] {
			m.stopTimer(j)
		}
		m.cond.Broadcast()
		m.mu.Unlock()
		m.stop()
		close(m.closed)
		m.wg.Wait()
		if m.o.StatePath != "" {
			m.save()
		}
	})
}

// Snapshot copies the whole state, every job included (O(jobs): a view
// should use SnapshotRange).
func (m *Manager) Snapshot() Snapshot {
	return m.SnapshotRange(0, -1)
}

// SnapshotRange is Snapshot with only the jobs at positions [offset,
// offset+limit) of its order (limit < 0: all from offset). Its cost is that
// of the window plus a scan of the queued or finished jobs it falls in.
func (m *Manager) SnapshotRange(offset, limit int) Snapshot {
	now := m.o.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Snapshot{
		Offset: max(offset, 0), Total: len(m.jobs),
		Files: m.files, FilesDone: m.filesDone, Bytes: m.bytes, BytesDone: m.bytesDone,
		Walking: len(m.walks) + len(m.listing),
		Running: m.count[Running], Queued: m.count[Queued], Conflicts: m.count[Conflict], Failed: m.count[Failed],
		Skipped: m.count[Skipped], Retrying: m.retrying, Offline: m.offline, SaveErr: m.saveErr, Note: m.note,
	}
	if limit < 0 {
		limit = len(m.jobs)
	}
	end := s.Offset + limit
	pos := 0
	inWindow := func(n int) bool { return pos < end && pos+n > s.Offset }
	take := func(list []*job) {
		if inWindow(len(list)) {
			for _, j := range list[max(s.Offset-pos, 0):min(end-pos, len(list))] {
				s.Jobs = append(s.Jobs, m.public(j, now))
			}
		}
		pos += len(list)
	}
	scan := func(n int, from int, want func(State) bool) {
		if inWindow(n) {
			skip := max(s.Offset-pos, 0)
			for _, j := range m.jobs[from:] {
				if len(s.Jobs) == limit {
					break
				}
				if !want(j.State) {
					continue
				}
				if skip > 0 {
					skip--
					continue
				}
				s.Jobs = append(s.Jobs, m.public(j, now))
			}
		}
		pos += n
	}
	m.advanceLow()
	take(m.sorted(m.running))
	scan(m.count[Queued], m.low, func(st State) bool { return st == Queued })
	conflicts := m.sorted(m.conflict)
	s.ConflictAt = pos
	take(conflicts)
	take(m.sorted(m.failed))
	scan(m.count[Done]+m.count[Canceled]+m.count[Skipped], 0, State.Finished)
	if len(conflicts) > 0 {
		c := m.public(conflicts[0], now)
		s.Conflict = &c
	}
	if m.count[Running] > 0 {
		s.Speed = m.batchRate.speed(now)
		left := m.bytes - m.bytesDone
		for _, j := range m.failed {
			left -= j.Size - j.Done
		}
		s.ETA = eta(left, s.Speed)
	}
	return s
}

// public copies a job for a snapshot.
func (m *Manager) public(j *job, now time.Time) Job {
	p := j.Job
	if j.State == Running {
		p.Speed = j.rate.speed(now)
		p.ETA = eta(j.Size-j.Done, p.Speed)
	}
	return p
}

func eta(left int64, speed float64) time.Duration {
	if speed <= 0 || left <= 0 {
		return 0
	}
	return time.Duration(float64(left) / speed * float64(time.Second)).Round(time.Second)
}

// sorted returns a set's jobs by ID.
func (m *Manager) sorted(set map[int]*job) []*job {
	list := make([]*job, 0, len(set))
	for _, j := range set {
		list = append(list, j)
	}
	slices.SortFunc(list, func(a, b *job) int { return a.ID - b.ID })
	return list
}

// find returns job id, or nil; m.mu is held.
func (m *Manager) find(id int) *job {
	if i := m.index(id); i >= 0 {
		return m.jobs[i]
	}
	return nil
}

func (m *Manager) index(id int) int {
	i := sort.Search(len(m.jobs), func(i int) bool { return m.jobs[i].ID >= id })
	if i < len(m.jobs) && m.jobs[i].ID == id {
		return i
	}
	return -1
}

func (m *Manager) advanceLow() {
	for m.low < len(m.jobs) && m.jobs[m.low].State.Finished() {
		m.low++
	}
}

// remove takes a job out of the list; m.mu is held.
func (m *Manager) remove(j *job) {
	i := m.index(j.ID)
	if i < 0 {
		return
	}
	m.acct(j, -1)
	m.count[j.State]--
	if !j.State.Finished() {
		m.moveOpen(j.mv, -1)
	}
	delete(m.running, j.ID)
	delete(m.conflict, j.ID)
	delete(m.failed, j.ID)
	m.jobs = slices.Delete(m.jobs, i, i+1)
	m.low = 0
}

// add appends a new queued job; m.mu is held.
func (m *Manager) add(j *job) {
	j.ID = m.nextID
	m.nextID++
	m.jobs = append(m.jobs, j)
	m.count[j.State]++
	m.acct(j, 1)
	if j.mv != nil {
		// Counted in as unfinished, then as it is.
		j.mv.open++
		m.moveState(j, Queued, j.State)
	}
	switch j.State {
	case Queued:
		m.enqueue(j, false)
	case Failed:
		m.failed[j.ID] = j
	}
}

// acct adds (sign 1) or removes (-1) a job's share of the batch totals.
func (m *Manager) acct(j *job, sign int) {
	if j.Dir || j.State == Canceled || j.State == Skipped {
		return
	}
	m.files += sign
	if j.State == Done {
		m.filesDone += sign
	}
	m.bytes += int64(sign) * j.Size
	m.bytesDone += int64(sign) * j.Done
}

// setState moves a job to s, keeping counts, sets and totals; m.mu is held.
func (m *Manager) setState(j *job, s State) {
	if j.State == s {
		return
	}
	m.acct(j, -1)
	m.count[j.State]--
	switch j.State {
	case Running:
		delete(m.running, j.ID)
	case Conflict:
		delete(m.conflict, j.ID)
	case Failed:
		delete(m.failed, j.ID)
	}
	wasFinished := j.State.Finished()
	old := j.State
	j.State = s
	m.count[s]++
	switch s {
	case Running:
		m.running[j.ID] = j
	case Conflict:
		m.conflict[j.ID] = j
	case Failed:
		m.failed[j.ID] = j
	}
	if s != Running {
		j.rate.clear()
	}
	m.acct(j, 1)
	m.moveState(j, old, s)
	if wasFinished && !s.Finished() {
		if i := m.index(j.ID); i >= 0 && i < m.low {
			m.low = i
		}
	}
	m.batchOver()
	m.requestSave()
	m.changedLocked()
}

// batchOver ends the ForAll decisions when nothing is left to do.
func (m *Manager) batchOver() {
	active := m.count[Queued] + m.count[Running] + m.count[Conflict] + len(m.walks) + len(m.listing)
	if active+m.count[Failed] == 0 {
		m.standing = [2]Action{}
	}
	if active == 0 && m.archived > 0 {
		// Said once the rest is through (failures aside, which say so
		// themselves).
		m.noteLocked(human.Plural(m.archived, "archived file", "archived files")+" not downloaded: restore "+
			pick(m.archived == 1, "it", "them")+" first (w)", true)
		m.archived = 0
	}
}

func pick(one bool, a, b string) string {
	if one {
		return a
	}
	return b
}

func (m *Manager) enqueue(j *job, urgent bool) {
	if j.enq || m.closing {
		return
	}
	j.enq = true
	if urgent {
		m.urgent.push(j)
	} else {
		m.ready.push(j)
	}
	m.cond.Broadcast() // workers and walkers share the cond
}

func (m *Manager) stopTimer(j *job) {
	if j.timer != nil {
		j.timer.Stop()
		j.timer = nil
		j.RetryAt = time.Time{}
		m.retrying--
	}
}

// changedLocked signals Changed without blocking.
func (m *Manager) changedLocked() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

func (m *Manager) requestSave() {
	if m.o.StatePath == "" {
		return
	}
	select {
	case m.saveReq <- struct{}{}:
	default:
	}
}
