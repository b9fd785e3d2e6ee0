package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/strata-storage/strata/backend/blob"
)

// The cold tier (blob.Archiver).
//
// Archived objects live in a directory of their own, which may be another
// disk, a NAS or a USB drive, one local store per class:
//
//	<archive dir>/glacier/        objects archived to GLACIER
//	<archive dir>/deep_archive/   objects archived to DEEP_ARCHIVE
//	<archive dir>/glacier_ir/     objects archived to GLACIER_IR (read from there)
//
// and, in the hot store's directory, two more local stores:
//
//	restores/   per archived key that was asked for, its restore: tier,
//	            days, when it was asked for, when it is ready, and once
//	            it is, until when the copy is kept (a small JSON object)
//	restored/   the readable copies of restored objects
//
// Each is a local store, so every move is a whole, fsynced write and a
// rename: archiving copies the object into the cold store and then deletes
// it from the hot one, and a crash in between leaves it in both (the cold
// copy is the truth; a retried Archive removes the hot one). Cold stores are
// opened when first needed, so a cold disk that is not mounted fails the
// archive operations and nothing else.
//
// A restore takes the delay its tier is given (none by default). The copy
// is made by the first call that finds the delay over (ArchiveState, Get),
// and removed by the first that finds its days run out, so the store needs
// no background worker: the core polls ArchiveState as it would S3's.

const (
	restoresDir = "restores"
	restoredDir = "restored"
)

// Options configure OpenWith.
type Options struct {
	// ArchiveDir is the cold tier's directory; "" means "archive" inside
	// the store's directory.
	ArchiveDir string
	// RestoreDelay is how long a restore at each tier takes; a tier not
	// in the map restores at once.
	RestoreDelay map[blob.RestoreTier]time.Duration
	// Now is the clock restores are timed by; nil means time.Now.
	Now func() time.Time
}

// coldTier is the archive state of a Store opened with OpenWith.
type coldTier struct {
	dir   string
	delay map[blob.RestoreTier]time.Duration
	now   func() time.Time

	restores *Store // restore records
	restored *Store // readable copies

	mu      sync.Mutex
	classes map[blob.ArchiveClass]*Store
}

var _ blob.Archiver = (*Store)(nil)

// OpenWith opens the store in dir as Open does, with its cold tier in
// o.ArchiveDir.
func OpenWith(dir string, o Options) (*Store, error) {
	s, err := Open(dir)
	if err != nil {
		return nil, err
	}
	cold := &coldTier{dir: o.ArchiveDir, now: o.Now, delay: o.RestoreDelay, classes: map[blob.ArchiveClass]*Store{}}
	if cold.dir == "" {
		cold.dir = filepath.Join(s.dir, "archive")
	}
	if cold.now == nil {
		cold.now = time.Now
	}
	if cold.restores, err = Open(filepath.Join(s.dir, restoresDir)); err != nil {
		s.Close()
		return nil, err
	}
	if cold.restored, err = Open(filepath.Join(s.dir, restoredDir)); err != nil {
		s.Close()
		cold.restores.Close()
		return nil, err
	}
	s.cold = cold
	return s, nil
}

// class returns the cold store of c, opening (and creating) it the first
// time.
func (c *coldTier) class(cl blob.ArchiveClass) (*Store, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.classes[cl]; s != nil {
		return s, nil
	}
	s, err := Open(filepath.Join(c.dir, strings.ToLower(string(cl))))
	if err != nil {
		return nil, fmt.Errorf("archive directory: %w", err)
	}
	c.classes[cl] = s
	return s, nil
}

// find returns the class key is archived in and its cold store, or "" if
// it is in none.
func (c *coldTier) find(ctx context.Context, key string) (blob.ArchiveClass, *Store, error) {
	for _, cl := range blob.ArchiveClasses {
		cs, err := c.class(cl)
		if err != nil {
			return "", nil, err
		}
		if _, err := cs.Stat(ctx, key); err == nil {
			return cl, cs, nil
		} else if !errors.Is(err, blob.ErrNotFound) {
			return "", nil, err
		}
	}
	return "", nil, nil
}

func (c *coldTier) close() {
	c.restores.Close()
	c.restored.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.classes {
		s.Close()
	}
}

// restoreRec is a restore's record in restores/.
type restoreRec struct {
	Tier      blob.RestoreTier `json:"tier"`
	Days      int              `json:"days"`
	Requested time.Time        `json:"requested"`
	Ready     time.Time        `json:"ready"`
	// Until is set once the copy is made.
	Until time.Time `json:"until,omitzero"`
}

func (c *coldTier) readRestore(ctx context.Context, key string) (*restoreRec, error) {
	rc, err := c.restores.Get(ctx, key, 0, -1)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var r restoreRec
	if err := json.NewDecoder(io.LimitReader(rc, 4096)).Decode(&r); err != nil {
		return nil, fmt.Errorf("restore record: %w", err)
	}
	return &r, nil
}

func (c *coldTier) writeRestore(ctx context.Context, key string, r *restoreRec) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return c.restores.Put(ctx, key, bytes.NewReader(data), int64(len(data)))
}

// dropRestore removes a restore and its copy.
func (c *coldTier) dropRestore(ctx context.Context, key string) error {
	if err := c.restored.Delete(ctx, key); err != nil {
		return err
	}
	return c.restores.Delete(ctx, key)
}

// settle brings key's restore up to date: it makes the copy of a restore
// whose delay is over, and removes one whose days have run out. It returns
// the record as it now stands (nil for none).
func (c *coldTier) settle(ctx context.Context, key string, cs *Store) (*restoreRec, error) {
	r, err := c.readRestore(ctx, key)
	if err != nil || r == nil {
		return nil, err
	}
	now := c.now()
	switch {
	case !r.Until.IsZero() && !now.Before(r.Until):
		return nil, c.dropRestore(ctx, key)
	case r.Until.IsZero() && !now.Before(r.Ready):
		if err := copyObject(ctx, cs, c.restored, key); err != nil {
			return nil, err
		}
		r.Until = now.Add(time.Duration(r.Days) * 24 * time.Hour)
		if err := c.writeRestore(ctx, key, r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// copyObject copies key from src to dst, streaming, as one atomic write.
func copyObject(ctx context.Context, src, dst *Store, key string) error {
	info, err := src.Stat(ctx, key)
	if err != nil {
		return err
	}
	rc, err := src.Get(ctx, key, 0, -1)
	if err != nil {
		return err
	}
	defer rc.Close()
	return dst.Put(ctx, key, rc, info.Size)
}

// Archive implements blob.Archiver: it copies the object into class's cold
// store and then removes it from the hot tier (or from the cold store of
// another class). An object in class already is left alone.
func (s *Store) Archive(ctx context.Context, key string, class blob.ArchiveClass) error {
	if !blob.ValidKey(key) {
		return opError("archive", key, blob.ErrInvalidKey)
	}
	if !class.Valid() {
		return opError("archive", key, fmt.Errorf("unknown archive class %q", class))
	}
	if s.cold == nil {
		return opError("archive", key, errors.New("store has no archive tier"))
	}
	if err := s.archive(ctx, key, class); err != nil {
		return opError("archive", key, err)
	}
	return nil
}

func (s *Store) archive(ctx context.Context, key string, class blob.ArchiveClass) error {
	dst, err := s.cold.class(class)
	if err != nil {
		return err
	}
	cur, src, err := s.cold.find(ctx, key)
	if err != nil {
		return err
	}
	_, herr := s.open(objectPath(key), false)
	hot := herr == nil
	if herr != nil && !errors.Is(herr, blob.ErrNotFound) {
		return herr
	}
	switch {
	case cur == class:
		// Done already, or a crash left the hot copy behind.
	case hot:
		if err := copyObject(ctx, s, dst, key); err != nil {
			return err
		}
	case cur != "":
		if err := copyObject(ctx, src, dst, key); err != nil {
			return err
		}
		if err := src.Delete(ctx, key); err != nil {
			return err
		}
	default:
		return blob.ErrNotFound
	}
	if hot {
		if err := s.deleteHot(ctx, key); err != nil {
			return err
		}
	}
	if cur != class {
		// A restore, and its copy, were of the object in its old place
		// (as on S3, where the copy in a new class is a new object).
		return s.cold.dropRestore(ctx, key)
	}
	return nil
}

// Restore implements blob.Archiver. The request is recorded; with no delay
// for tier the copy is made before Restore returns.
func (s *Store) Restore(ctx context.Context, key string, days int, tier blob.RestoreTier) error {
	if !blob.ValidKey(key) {
		return opError("restore", key, blob.ErrInvalidKey)
	}
	if err := blob.CheckRestore(days, tier); err != nil {
		return opError("restore", key, err)
	}
	if s.cold == nil {
		return opError("restore", key, errors.New("store has no archive tier"))
	}
	if err := s.restore(ctx, key, days, tier); err != nil {
		return opError("restore", key, err)
	}
	return nil
}

func (s *Store) restore(ctx context.Context, key string, days int, tier blob.RestoreTier) error {
	class, cs, err := s.cold.find(ctx, key)
	if err != nil {
		return err
	}
	if class == "" {
		_, err := s.open(objectPath(key), false)
		return err // hot: nothing to restore
	}
	if !class.NeedsRestore() {
		return nil
	}
	if !class.Offers(tier) {
		return fmt.Errorf("%s has no %s tier: use %s or %s", class, tier, blob.TierStandard, blob.TierBulk)
	}
	r, err := s.cold.settle(ctx, key, cs)
	if err != nil {
		return err
	}
	now := s.cold.now()
	switch {
	case r == nil:
		r = &restoreRec{Tier: tier, Days: days, Requested: now, Ready: now.Add(s.cold.delay[tier])}
	case r.Until.IsZero():
		return nil // in progress: the first request stands
	default:
		r.Until = now.Add(time.Duration(days) * 24 * time.Hour)
	}
	if err := s.cold.writeRestore(ctx, key, r); err != nil {
		return err
	}
	_, err = s.cold.settle(ctx, key, cs)
	return err
}

// ArchiveState implements blob.Archiver. It also makes a restored copy whose
// delay is over and removes one whose days have run out.
func (s *Store) ArchiveState(ctx context.Context, key string) (blob.ArchiveState, error) {
	if !blob.ValidKey(key) {
		return blob.ArchiveState{}, opError("archive state", key, blob.ErrInvalidKey)
	}
	if s.cold == nil {
		return blob.ArchiveState{}, opError("archive state", key, errors.New("store has no archive tier"))
	}
	st, err := s.archiveState(ctx, key)
	if err != nil {
		return blob.ArchiveState{}, opError("archive state", key, err)
	}
	return st, nil
}

func (s *Store) archiveState(ctx context.Context, key string) (blob.ArchiveState, error) {
	class, cs, err := s.cold.find(ctx, key)
	if err != nil {
		return blob.ArchiveState{}, err
	}
	if class == "" {
		_, err := s.open(objectPath(key), false)
		return blob.ArchiveState{}, err
	}
	st := blob.ArchiveState{Class: class}
	if !class.NeedsRestore() {
		return st, nil
	}
	r, err := s.cold.settle(ctx, key, cs)
	if err != nil || r == nil {
		return st, err
	}
	st.Restoring = r.Until.IsZero()
	st.RestoredUntil = r.Until
	return st, nil
}

// getCold is Get of a key that is not in the hot tier: from GLACIER_IR
// directly, from a restored copy, or ErrArchived.
func (s *Store) getCold(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	class, cs, err := s.cold.find(ctx, key)
	if err != nil {
		return nil, err
	}
	switch {
	case class == "":
		return nil, blob.ErrNotFound
	case !class.NeedsRestore():
		return cs.Get(ctx, key, offset, length)
	}
	r, err := s.cold.settle(ctx, key, cs)
	if err != nil {
		return nil, err
	}
	if r == nil || r.Until.IsZero() {
		return nil, fmt.Errorf("%w: in %s (restore it first)", blob.ErrArchived, class)
	}
	return s.cold.restored.Get(ctx, key, offset, length)
}

// statCold is Stat of a key that is not in the hot tier.
func (s *Store) statCold(ctx context.Context, key string) (blob.Info, error) {
	_, cs, err := s.cold.find(ctx, key)
	if err != nil {
		return blob.Info{}, err
	}
	if cs == nil {
		return blob.Info{}, blob.ErrNotFound
	}
	return cs.Stat(ctx, key)
}

// deleteCold removes key from every class and its restore.
func (s *Store) deleteCold(ctx context.Context, key string) error {
	for _, cl := range blob.ArchiveClasses {
		cs, err := s.cold.class(cl)
		if err != nil {
			return err
		}
		if err := cs.Delete(ctx, key); err != nil {
			return err
		}
	}
	return s.cold.dropRestore(ctx, key)
}

// listCold lists the archived objects, leaving out those a crash in Archive
// left in the hot tier too (List has given them).
func (s *Store) listCold(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	for _, cl := range blob.ArchiveClasses {
		cs, err := s.cold.class(cl)
		if err != nil {
			return err
		}
		err = cs.List(ctx, prefix, func(info blob.Info) error {
			if _, err := s.open(objectPath(info.Key), false); err == nil {
				return nil
			}
			return fn(info)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// sweepCold sweeps the cold tier's stores.
func (s *Store) sweepCold(ctx context.Context, olderThan time.Duration) error {
	stores := []*Store{s.cold.restores, s.cold.restored}
	for _, cl := range blob.ArchiveClasses {
		cs, err := s.cold.class(cl)
		if err != nil {
			return err
		}
		stores = append(stores, cs)
	}
	for _, st := range stores {
		if err := st.Sweep(ctx, olderThan); err != nil {
			return err
		}
	}
	return nil
}

// RestoreDelay is how long a restore at tier takes (the core's poller looks
// then, rather than by S3's times).
func (s *Store) RestoreDelay(_ blob.ArchiveClass, tier blob.RestoreTier) time.Duration {
	if s.cold == nil {
		return 0
	}
	return s.cold.delay[tier]
}
