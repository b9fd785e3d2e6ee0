package backend

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/keys"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
)

// Master key rotation.
//
// RotateKeys makes a new master key (on a key service that makes its own,
// a keys.Rotator: the local keyring) and starts a job that moves every
// stored data key onto the current master key with keys.Service.Rewrap.
// No content is read or rewritten: only the wrapped data keys, which live
// in blob records, in open upload sessions and in the key canary. On KMS
// there is no key to make: the alias names the key to move to already, and
// the job moves data keys from the previous keys onto it.
//
// The job works in passes. A pass visits the blob records by the blob
// store's keys, one two-character prefix at a time (blob records have no
// index of their own and the blob store lists in no order, but blob IDs are
// random over record.IDAlphabet, so the 1,024 prefixes split them evenly),
// then the upload sessions through their index, then the canary. A record
// not on the current key yet is rewrapped and written back on the
// condition that it did not change meanwhile (or done again), a few at a
// time so as not to burst the key service, and written in batched
// transactions. A page is the blobs of one prefix or of several
// consecutive ones (about a transaction's worth). After each page the job
// records where the next one starts, so a job whose server dies resumes from there, at that
// server's next start or on another server once the lease lapses:
// rewrapping is idempotent, and a record already on the current key is
// skipped without a call to the key service.
//
// At the end of a pass, an old master key that nothing uses any more is
// retired (keys.Retirer) when that is known to be safe (see keyHolds); when
// it cannot be told (a write holding the old key was in flight during the
// pass, or the pass began in another process), the job waits for such
// writes to end and makes another pass. On KMS retiring a key is the
// operator's: the key status says when no data key uses a previous key.

const (
	// rekeyWorkers bounds the rewraps in flight: a rotation must not take
	// the key service's capacity (a KMS request quota is shared by the
	// account) from the requests being served meanwhile.
	rekeyWorkers = 4
	// rekeyTxOps bounds a batch of rewrites below meta.MaxTxOps (the job's
	// own condition is added to each).
	rekeyTxOps = 96
	// rekeyMaxPasses bounds the passes of one rotation; a key that could
	// not be retired by then stays until the next rotation retires it.
	rekeyMaxPasses = 5
)

// Phases of a pass, in order; a pass that could not retire an old key
// waits for the writes holding it, then the next pass starts.
const (
	RekeyBlobs   = "blobs"
	RekeyUploads = "uploads"
	RekeyCanary  = "canary"
	RekeyRetire  = "retire"
	RekeyWaiting = "waiting"
)

// rekeyPrefixes is how many blob ID prefixes a pass visits.
var rekeyPrefixes = len(record.IDAlphabet) * len(record.IDAlphabet)

// rekeyPrefix is the i-th two-character prefix of blob IDs.
func rekeyPrefix(i int) string {
	a := record.IDAlphabet
	return string([]byte{a[i/len(a)], a[i%len(a)]})
}

// rekeyJob is the part of a rotation job's record that says how far it got.
type rekeyJob struct {
	// Target is the master key the rotation made, or moves to.
	Target string `json:"t"`
	Pass   int    `json:"pa"`
	Phase  string `json:"ph"`
	// Prefix is the index of the next blob ID prefix to visit; After the
	// last upload session visited.
	Prefix int    `json:"px,omitempty"`
	After  string `json:"af,omitempty"`
	// Scanned and Rewrapped count records over all passes.
	Scanned   int64 `json:"sc,omitempty"`
	Rewrapped int64 `json:"rw,omitempty"`
	// Uses counts, in this pass, the data keys found under each master
	// key (rewrapped ones under the key they moved to); Failed those the
	// key service could not unwrap; Busy the upload sessions left alone
	// because a Complete was working on them.
	Uses   map[string]int64 `json:"u,omitempty"`
	Failed int64            `json:"f,omitempty"`
	Busy   int64            `json:"b,omitempty"`
	// Retired names the master keys the rotation retired; Waiting those
	// whose retirement waits for writes in flight.
	Retired []string `json:"rt,omitempty"`
	Waiting []string `json:"w,omitempty"`
}

func (r rekeyJob) clone() *rekeyJob {
	r.Uses = maps.Clone(r.Uses)
	r.Retired = slices.Clone(r.Retired)
	r.Waiting = slices.Clone(r.Waiting)
	return &r
}

// rekeyState is the item at (config, rekey): the latest rotation job, and
// the last complete pass of any.
type rekeyState struct {
	Job         string           `json:"j,omitempty"`
	Uses        map[string]int64 `json:"u,omitempty"`
	Failed      int64            `json:"f,omitempty"`
	ScanCurrent string           `json:"c,omitempty"`
	ScanAt      int64            `json:"t,omitempty"`
}

func (b *Backend) rekeyState(ctx context.Context) (rekeyState, meta.Item, error) {
	st, it, err := record.Get[rekeyState](ctx, b.meta, pkConfig, skRekey)
	if record.IsNotFound(err) {
		return rekeyState{}, meta.Item{}, nil
	}
	return st, it, err
}

// keyVersions is the key service's keys.Versions, or an error saying that a
// rotation needs it.
func (b *Backend) keyVersions() (keys.Versions, error) {
	v, ok := b.keys.(keys.Versions)
	if !ok {
		return nil, fmt.Errorf("%w: the key service cannot name its master keys, so data keys cannot be moved between them", errs.ErrInvalid)
	}
	return v, nil
}

// RotateKeys starts a master key rotation: on a key service that makes its
// own keys (the local keyring) a new master key version first; then a job
// that moves every data key onto the current master key and retires the
// old ones nothing uses any more. It returns the job, running; GetJob and
// KeyStatus follow it. A rotation that is running already is errs.ErrConflict;
// one whose server stopped is carried on here instead of starting another.
func (b *Backend) RotateKeys(ctx context.Context, pr iam.Principal) (Job, error) {
	if err := b.allow(ctx, pr, iam.ManageKeys, iam.System("keys")); err != nil {
		return Job{}, err
	}
	ver, err := b.keyVersions()
	if err != nil {
		return Job{}, err
	}
	st, sit, err := b.rekeyState(ctx)
	if err != nil {
		return Job{}, err
	}
	if st.Job != "" {
		r, it, err := record.Get[jobRec](ctx, b.meta, pkJobs, st.Job)
		switch {
		case record.IsNotFound(err):
		case err != nil:
			return Job{}, err
		case r.State == JobRunning && !b.jobStale(r):
			return Job{}, fmt.Errorf("%w: a key rotation is running already (job %s)", errs.ErrConflict, st.Job)
		case r.State == JobRunning:
			j, err := b.resumeJob(ctx, it, r)
			if record.IsConflict(err) {
				return Job{}, fmt.Errorf("%w: a key rotation is running already (job %s)", errs.ErrConflict, st.Job)
			}
			if err != nil {
				return Job{}, errs.FromStore("resume key rotation", err)
			}
			b.log.Info("key rotation: carrying on a rotation whose server stopped", "job", j.id)
			return b.runRekeyInBackground(j), nil
		}
	}

	var target string
	if rot, ok := b.keys.(keys.Rotator); ok {
		if !b.excl {
			return Job{}, fmt.Errorf("%w: the master keys are in a key file of this server, but the metadata is shared with other servers, which would not know a new key; rotate with the embedded metadata, or keep the keys in KMS", errs.ErrInvalid)
		}
		target, err = rot.Rotate(ctx)
	} else {
		target, _, err = ver.KeyIDs(ctx)
	}
	if err != nil {
		return Job{}, errs.FromStore("rotate the master key", err)
	}
	j, err := b.startJob(ctx, pr, jobRec{Kind: jobRekey, Rekey: &rekeyJob{Target: target, Pass: 1, Phase: RekeyBlobs}})
	if err != nil {
		return Job{}, err
	}
	st.Job = j.id
	cond := meta.MustNew
	if sit.Version != 0 {
		cond = meta.AtVersion(sit.Version)
	}
	if _, err := b.meta.Put(ctx, record.Item(pkConfig, skRekey, st), cond); err != nil {
		cause := errs.FromStore("start key rotation", err)
		if record.IsConflict(err) {
			cause = fmt.Errorf("%w: another key rotation started meanwhile", errs.ErrConflict)
		}
		j.fail(ctx, cause, nil)
		j.end()
		return Job{}, cause
	}
	b.log.Info("key rotation: started", "job", j.id, "key", target)
	return b.runRekeyInBackground(j), nil
}

// runRekeyInBackground runs the claimed job j until it ends or the backend
// drains, and returns it as it starts.
func (b *Backend) runRekeyInBackground(j *runningJob) Job {
	j.mu.Lock()
	job := j.rec.public(j.id)
	j.mu.Unlock()
	b.bg.Add(1)
	go func() {
		defer b.bg.Done()
		if err := b.runRekey(b.rotating, j); err != nil {
			b.log.Warn("key rotation: stopped; it resumes later", "job", j.id, "err", err)
		}
	}()
	return job
}

// ResumeKeyRotation carries on a key rotation whose server stopped (this
// process before a restart, or another server that died), if there is one,
// and returns when it ends or ctx does. It does nothing while the
// rotation's server is alive. The daemon calls it at start and now and then.
func (b *Backend) ResumeKeyRotation(ctx context.Context) error {
	st, _, err := b.rekeyState(ctx)
	if err != nil || st.Job == "" {
		return err
	}
	r, it, err := record.Get[jobRec](ctx, b.meta, pkJobs, st.Job)
	if record.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.State != JobRunning || !b.jobStale(r) {
		return nil
	}
	j, err := b.resumeJob(ctx, it, r)
	if record.IsConflict(err) {
		return nil // another server took it
	}
	if err != nil {
		return err
	}
	b.log.Info("key rotation: resuming", "job", j.id, "pass", r.Rekey.Pass, "phase", r.Rekey.Phase)
	return b.runRekey(ctx, j)
}

// runRekey runs the claimed rotation job j until it is done, or suspends
// it (still running, for a later resume) when it cannot go on.
func (b *Backend) runRekey(ctx context.Context, j *runningJob) error {
	defer j.end()
	err := b.rekey(ctx, j)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errJobLost):
		b.log.Warn("key rotation: taken over by another server", "job", j.id)
		return nil
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	j.suspend(sctx, err)
	if ctx.Err() != nil {
		return nil // stopping: it resumes at the next start
	}
	return fmt.Errorf("key rotation %s: %w", j.id, err)
}

// rekey carries the rotation job j through its passes.
func (b *Backend) rekey(ctx context.Context, j *runningJob) error {
	ver, err := b.keyVersions()
	if err != nil {
		return err
	}
	ret, canRetire := b.keys.(keys.Retirer)
	// Retiring is safe only if every write to the store is this process's
	// (see keyHolds).
	canRetire = canRetire && b.excl
	j.mu.Lock()
	rk := j.rec.Rekey.clone()
	j.mu.Unlock()
	if rk.Phase == RekeyWaiting {
		rk.nextPass()
	}
	// mark is where this process started the pass from (nil: the pass
	// began in another process, whose writes in flight are unknown).
	var mark map[string]int64
	for {
		if rk.Phase == RekeyBlobs && rk.Prefix == 0 {
			mark = b.holds.mark()
		}
		current, _, err := ver.KeyIDs(ctx)
		if err != nil {
			return err
		}
		if err := b.rekeyPass(ctx, j, rk, current); err != nil {
			return err
		}
		if err := b.recordScan(ctx, j.id, rk, current); err != nil {
			return err
		}
		_, all, err := ver.KeyIDs(ctx)
		if err != nil {
			return err
		}
		var undecided []string
		for _, id := range all {
			if id == current || rk.Uses[id] > 0 || !canRetire {
				continue
			}
			retired := false
			if mark != nil {
				retired, err = b.holds.retire(id, mark, func() error { return ret.Retire(ctx, id) })
				if errors.Is(err, keys.ErrUnknownKey) {
					retired, err = true, nil // gone already
				}
				if err != nil {
					return err
				}
			}
			if retired {
				b.log.Info("key rotation: retired a master key nothing uses any more", "job", j.id, "key", id)
				rk.Retired = append(rk.Retired, id)
			} else {
				undecided = append(undecided, id)
			}
		}
		// Sessions a Complete was working on keep an old key until the
		// Complete commits them as blob records: another pass finds those.
		if !canRetire || (len(undecided) == 0 && rk.Busy == 0) || rk.Pass >= rekeyMaxPasses {
			return j.finish(ctx, func(r *jobRec) { r.Rekey, r.Done = rk.clone(), rk.Scanned })
		}
		rk.Phase, rk.Waiting = RekeyWaiting, oldKeys(all, current)
		if err := b.saveRekey(ctx, j, rk); err != nil {
			return err
		}
		for _, id := range rk.Waiting {
			if err := b.holds.drain(ctx, id); err != nil {
				return err
			}
		}
		rk.nextPass()
		if err := b.saveRekey(ctx, j, rk); err != nil {
			return err
		}
	}
}

func oldKeys(all []string, current string) []string {
	var out []string
	for _, id := range all {
		if id != current {
			out = append(out, id)
		}
	}
	return out
}

func (r *rekeyJob) nextPass() {
	r.Pass++
	r.Phase, r.Prefix, r.After, r.Waiting = RekeyBlobs, 0, "", nil
	r.Uses, r.Failed, r.Busy = nil, 0, 0
}

// rekeyPass does the rest of rk's pass, from where it is, onto current.
func (b *Backend) rekeyPass(ctx context.Context, j *runningJob, rk *rekeyJob, current string) error {
	for rk.Phase == RekeyBlobs {
		// A page is the blobs of consecutive prefixes, one prefix at
		// least, until it holds a batch's worth.
		var ids []itemKey
		// A blob kept inline can have an object too (an archive that put
		// it there and failed after): each record goes into a page once.
		seen := map[string]bool{}
		add := func(blobID string) {
			if !seen[blobID] {
				seen[blobID] = true
				ids = append(ids, itemKey{blobPK(blobID), skBlob})
			}
		}
		next := rk.Prefix
		for next < rekeyPrefixes && len(ids) < rekeyTxOps {
			err := b.blobs.List(ctx, rekeyPrefix(next), func(info blob.Info) error {
				add(info.Key)
				return nil
			})
			if err != nil {
				return fmt.Errorf("list blobs: %w", err)
			}
			// Blobs kept in their records are not in the blob store.
			err = b.eachItem(ctx, inlinePK(rekeyPrefix(next)), "", func(it meta.Item) error {
				add(it.SK)
				return nil
			})
			if err != nil {
				return fmt.Errorf("list inline blobs: %w", err)
			}
			next++
		}
		if err := b.rekeyItems(ctx, j, rk, ids, current); err != nil {
			return err
		}
		rk.Prefix = next
		if next >= rekeyPrefixes {
			rk.Phase = RekeyUploads
		}
		if err := b.saveRekey(ctx, j, rk); err != nil {
			return err
		}
	}
	for rk.Phase == RekeyUploads {
		pg, err := b.meta.Query(ctx, pkUploads, meta.QueryOpts{After: rk.After, Limit: rekeyTxOps})
		if err != nil {
			return err
		}
		ids := make([]itemKey, len(pg.Items))
		for i, it := range pg.Items {
			ids[i] = itemKey{uploadPK(it.SK), skSession}
		}
		if err := b.rekeyItems(ctx, j, rk, ids, current); err != nil {
			return err
		}
		rk.After = pg.Next
		if pg.Next == "" {
			rk.Phase = RekeyCanary
		}
		if err := b.saveRekey(ctx, j, rk); err != nil {
			return err
		}
	}
	if rk.Phase == RekeyCanary {
		if err := b.rekeyItems(ctx, j, rk, []itemKey{{pkConfig, skCanary}}, current); err != nil {
			return err
		}
		rk.Phase = RekeyRetire
		return b.saveRekey(ctx, j, rk)
	}
	return nil
}

// saveRekey records how far the job got.
func (b *Backend) saveRekey(ctx context.Context, j *runningJob, rk *rekeyJob) error {
	return j.update(ctx, func(r *jobRec) {
		r.Rekey, r.Done, r.Err, r.Code = rk.clone(), rk.Scanned, "", ""
	})
}

// recordScan keeps what a complete pass of job found, for KeyStatus (unless
// a newer rotation started meanwhile).
func (b *Backend) recordScan(ctx context.Context, job string, rk *rekeyJob, current string) error {
	_, err := record.Optimistic(ctx, "record the key scan", func() (struct{}, error) {
		st, it, err := b.rekeyState(ctx)
		if err != nil || st.Job != job {
			return struct{}{}, err
		}
		st.Uses, st.Failed, st.ScanCurrent, st.ScanAt = maps.Clone(rk.Uses), rk.Failed, current, record.Nanos(b.now())
		_, err = b.meta.Put(ctx, record.Item(pkConfig, skRekey, st), meta.AtVersion(it.Version))
		return struct{}{}, err
	})
	return err
}

type itemKey struct{ pk, sk string }

// rewrap is what a rotation does about one record.
type rewrap struct {
	found  bool   // the record exists
	keyID  string // the master key of its data key, once op is done ("": unreadable)
	op     *meta.Op
	failed bool // the key service could not unwrap it
	busy   bool // an upload session a Complete is working on
}

// rekeyItems moves the data keys of the records at ids onto current, and
// counts them into rk.
func (b *Backend) rekeyItems(ctx context.Context, j *runningJob, rk *rekeyJob, ids []itemKey, current string) error {
	results := make([]rewrap, len(ids))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan int)
	)
	for range min(rekeyWorkers, len(ids)) {
		wg.Go(func() {
			for i := range next {
				r, err := b.prepareRewrap(ctx, ids[i], current)
				mu.Lock()
				results[i] = r
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
feed:
	for i := range ids {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		return firstErr
	}

	// Write the rewraps in batches, each on the condition that the job is
	// still this server's; a batch that lost a race with a write to one of
	// its records is done again one record at a time.
	var batch []int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		ops := make([]meta.Op, len(batch))
		for k, i := range batch {
			ops[k] = *results[i].op
		}
		err := j.transact(ctx, ops)
		if record.IsConflict(err) && !errors.Is(err, errJobLost) {
			for _, i := range batch {
				if results[i], err = b.rewrapOne(ctx, j, ids[i], current); err != nil {
					return err
				}
			}
			err = nil
		}
		batch = batch[:0]
		return errs.FromStore("rewrap data keys", err)
	}
	for i, r := range results {
		if r.op == nil {
			continue
		}
		batch = append(batch, i)
		if len(batch) == rekeyTxOps {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	for _, r := range results {
		rk.count(r)
	}
	return nil
}

func (rk *rekeyJob) count(r rewrap) {
	if !r.found {
		return
	}
	rk.Scanned++
	if r.op != nil {
		rk.Rewrapped++
	}
	if r.failed {
		rk.Failed++
	}
	if r.busy {
		rk.Busy++
	}
	if r.keyID == "" {
		return
	}
	if rk.Uses == nil {
		rk.Uses = map[string]int64{}
	}
	rk.Uses[r.keyID]++
}

// rewrapOne moves one record's data key onto current, with retries when
// the record changes under it.
func (b *Backend) rewrapOne(ctx context.Context, j *runningJob, id itemKey, current string) (rewrap, error) {
	for attempt := 0; ; attempt++ {
		r, err := b.prepareRewrap(ctx, id, current)
		if err != nil || r.op == nil {
			return r, err
		}
		err = j.transact(ctx, []meta.Op{*r.op})
		if !record.IsConflict(err) || errors.Is(err, errJobLost) {
			return r, errs.FromStore("rewrap a data key", err)
		}
		if attempt == record.MaxRetries {
			return r, fmt.Errorf("rewrap the data key in (%s, %s): %w", id.pk, id.sk, errs.ErrConflict)
		}
	}
}

// prepareRewrap reads the record at id and, if its data key is not on
// current, rewraps it: the write to make, on the condition that the record
// is still as read.
func (b *Backend) prepareRewrap(ctx context.Context, id itemKey, current string) (rewrap, error) {
	it, err := b.meta.Get(ctx, id.pk, id.sk)
	if record.IsNotFound(err) {
		return rewrap{}, nil // an object with no record, a session ended meanwhile
	}
	if err != nil {
		return rewrap{}, err
	}
	w, err := b.decodeWrapped(it)
	if err != nil {
		// A record nobody can read: the rotation goes on without it (a
		// job that stopped on it would stop again at every resume).
		b.log.Warn("key rotation: a record cannot be read; it stays as it is", "pk", it.PK, "sk", it.SK, "err", err)
		return rewrap{found: true, failed: true}, nil
	}
	r := rewrap{found: true, keyID: w.keyID}
	switch {
	case w.keyID == current:
		return r, nil
	case w.busy:
		// Rewriting the session would break the Complete's claim; the
		// Complete holds its key (keyHolds) and commits it as a blob
		// record, which the next pass finds.
		r.busy = true
		return r, nil
	}
	nw, keyID, err := b.keys.Rewrap(ctx, w.wrapped, w.ec)
	if errors.Is(err, keys.ErrDecrypt) {
		b.log.Warn("key rotation: a data key cannot be unwrapped; it stays as it is", "pk", it.PK, "key", w.keyID, "err", err)
		r.failed = true
		return r, nil
	}
	if err != nil {
		return rewrap{}, err
	}
	out := meta.Item{PK: it.PK, SK: it.SK, Value: w.encode(nw, keyID), N: it.N, ExpiresAt: it.ExpiresAt}
	op := meta.Put(out, meta.AtVersion(it.Version))
	r.keyID, r.op = keyID, &op
	return r, nil
}

// wrapped is what a rotation needs of a record that keeps a wrapped data
// key.
type wrapped struct {
	wrapped []byte
	keyID   string
	ec      keys.Context
	busy    bool
	// encode is the record's value with another wrapping.
	encode func(wrapped []byte, keyID string) []byte
}

// decodeWrapped reads the wrapped data key of a blob record, an upload
// session or the canary.
func (b *Backend) decodeWrapped(it meta.Item) (wrapped, error) {
	switch {
	case strings.HasPrefix(it.PK, blobPK("")):
		r, err := record.Decode[blobRec](it)
		return wrapped{wrapped: r.Wrapped, keyID: r.KeyID, ec: blobContext(strings.TrimPrefix(it.PK, blobPK(""))),
			encode: func(w []byte, id string) []byte { r.Wrapped, r.KeyID = w, id; return record.Encode(r) }}, err
	case strings.HasPrefix(it.PK, uploadPK("")) && it.SK == skSession:
		s, err := record.Decode[sessionRec](it)
		return wrapped{wrapped: s.Wrapped, keyID: s.KeyID, ec: blobContext(s.Blob), busy: b.busy(s),
			encode: func(w []byte, id string) []byte { s.Wrapped, s.KeyID = w, id; return record.Encode(s) }}, err
	case it.PK == pkConfig && it.SK == skCanary:
		c, err := record.Decode[canaryRec](it)
		return wrapped{wrapped: c.Wrapped, keyID: c.KeyID, ec: canaryContext,
			encode: func(w []byte, id string) []byte { c.Wrapped, c.KeyID = w, id; return record.Encode(c) }}, err
	}
	return wrapped{}, fmt.Errorf("backend: (%s, %s) keeps no data key", it.PK, it.SK)
}

// KeyStatus says what the master keys are and how a rotation goes.
type KeyStatus struct {
	// Current is the master key new data keys are wrapped under.
	Current string
	// Keys are the master keys: every key the key service has, and any
	// other that the last complete scan found data keys under.
	Keys []KeyUse
	// ScannedAt is when the last complete pass of a rotation ended (zero:
	// none yet); KeyUse.DataKeys and Failed are as of then.
	ScannedAt time.Time
	// Failed counts the data keys that pass could not unwrap.
	Failed int64
	// MakesKeys: a rotation makes a new master key (the local keyring);
	// otherwise (KMS) it moves data keys onto the key configured now.
	MakesKeys bool
	// RetiresKeys: a rotation retires old keys that nothing uses any more;
	// otherwise that is the operator's.
	RetiresKeys bool
	// Rotation is the latest rotation job, if any is still recorded.
	Rotation *Rotation
}

// KeyUse is one master key.
type KeyUse struct {
	ID      string
	Current bool
	// Known: the key service has it (a key only the scan knows of was
	// retired or dropped while data keys were still wrapped under it).
	Known bool
	// DataKeys is how many data keys the last complete scan found under
	// it.
	DataKeys int64
	// InFlight counts the writes on this server that hold a data key
	// wrapped under it now.
	InFlight int
}

// Rotation is a rotation job's progress.
type Rotation struct {
	Job
	// Running: a server works on it now (a running job whose server
	// stopped is not, until one resumes it).
	Running   bool
	Target    string
	Pass      int
	Phase     string
	Prefix    int // blob ID prefixes visited in this pass, of Prefixes
	Prefixes  int
	Scanned   int64
	Rewrapped int64
	Failed    int64
	Retired   []string
	Waiting   []string
	// LastError is why a running job was last suspended.
	LastError string
}

// KeyStatus describes the master keys and the latest rotation.
func (b *Backend) KeyStatus(ctx context.Context, pr iam.Principal) (KeyStatus, error) {
	if err := b.allow(ctx, pr, iam.ManageKeys, iam.System("keys")); err != nil {
		return KeyStatus{}, err
	}
	ver, err := b.keyVersions()
	if err != nil {
		return KeyStatus{}, err
	}
	current, all, err := ver.KeyIDs(ctx)
	if err != nil {
		return KeyStatus{}, errs.FromStore("list master keys", err)
	}
	st, _, err := b.rekeyState(ctx)
	if err != nil {
		return KeyStatus{}, err
	}
	_, makes := b.keys.(keys.Rotator)
	_, retires := b.keys.(keys.Retirer)
	out := KeyStatus{Current: current, ScannedAt: record.FromNanos(st.ScanAt), Failed: st.Failed,
		MakesKeys: makes, RetiresKeys: retires && b.excl}
	for _, id := range all {
		out.Keys = append(out.Keys, KeyUse{ID: id, Current: id == current, Known: true, DataKeys: st.Uses[id], InFlight: b.holds.inUse(id)})
	}
	for _, id := range slices.Sorted(maps.Keys(st.Uses)) {
		if !slices.Contains(all, id) && st.Uses[id] > 0 {
			out.Keys = append(out.Keys, KeyUse{ID: id, DataKeys: st.Uses[id], InFlight: b.holds.inUse(id)})
		}
	}
	if st.Job == "" {
		return out, nil
	}
	r, _, err := record.Get[jobRec](ctx, b.meta, pkJobs, st.Job)
	if record.IsNotFound(err) || (err == nil && r.Rekey == nil) {
		return out, nil // forgotten after jobKeep
	}
	if err != nil {
		return KeyStatus{}, err
	}
	rk := r.Rekey
	rot := &Rotation{Job: r.public(st.Job), Running: r.State == JobRunning && !b.jobStale(r), Target: rk.Target,
		Pass: rk.Pass, Phase: rk.Phase, Prefix: rk.Prefix, Prefixes: rekeyPrefixes, Scanned: rk.Scanned,
		Rewrapped: rk.Rewrapped, Failed: rk.Failed, Retired: rk.Retired, Waiting: rk.Waiting}
	if r.State == JobRunning {
		rot.LastError = r.Err
	}
	out.Rotation = rot
	return out, nil
}
