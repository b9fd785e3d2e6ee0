package backend

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// Quotas. What a user's quota counts is their home folder, /home/<name>:
// every file below it, in the tree or in a trash (whoever's trash it is
// in), with the logical size of every version kept, copies included (a
// copy shares its blob but counts in full), plus what their open upload
// sessions reserved. Entries outside every home folder (/shared, a file
// right in /home) count against nobody.
//
// The counters of a home folder are items of the partition
// usage#<homeID>, changed in the same transaction as the write that
// changes what they count, so they are exact on every engine, after a
// crash and with any number of servers. A write that adds conditions its
// Add on the limit (meta.IfAtMost), so writers never wait for one
// another and yet never take a counter past its limit together. The
// limits live on the home folder's own entry, which every write below it
// reads on its way down (and conditions on): a quota costs a write no
// extra read.
//
// Records that outlive an entry's place in the tree (trash items, queued
// purges, upload sessions, folder copies) remember the home folder they
// count against, so that the purge, the abort or the rollback that ends
// them gives back to the right one. Records from before quotas remember
// none and count against nobody.

const (
	homesName = "home"

	// skUsageBytes counts bytes: every version kept plus reservations.
	skUsageBytes = "bytes"
	// skUsageFiles counts files (not versions).
	skUsageFiles = "files"
	// skUsageReserved counts the bytes that open upload sessions reserved
	// (included in skUsageBytes).
	skUsageReserved = "reserved"
	// skUsageCounted is set once the home folder's usage was counted
	// (at its creation, or by a recount of what was there before).
	skUsageCounted = "counted"
)

func usagePK(homeID string) string { return "usage#" + homeID }

// Quota is the limits of a home folder; 0 is no limit.
type Quota struct {
	Bytes int64 `json:"bytes,omitempty"`
	Files int64 `json:"files,omitempty"`
}

// account is whose usage an entry counts against: a home folder, or no one
// (home "").
type account struct {
	home  string // the home folder's ID
	name  string // its name in /home
	quota Quota
}

func homeAccount(name string, rec entryRec) account {
	a := account{home: rec.ID, name: name}
	if rec.Quota != nil {
		a.quota = *rec.Quota
	}
	return a
}

// accountAt is whose usage an entry rec at l counts against: the home
// folder it lies in, or the home folder it is (a folder right in /home).
func accountAt(l loc, rec entryRec) account {
	if len(l.chain) == 0 || l.chain[0].dirID != rootDirID || l.chain[0].name != homesName {
		return account{}
	}
	if len(l.chain) >= 2 {
		return homeAccount(l.chain[1].name, l.chain[1].rec)
	}
	if rec.Kind == KindDir && rec.ID != "" {
		return homeAccount(l.path.Name(), rec)
	}
	return account{}
}

// accountOfPath is whose usage a new file at p would count against, as
// of now: the home folder on its way, if it exists. resolved, if not nil,
// is p resolved moments ago (its way down holds the home folder).
func (b *Backend) accountOfPath(ctx context.Context, p storepath.Path, resolved *loc) (account, error) {
	if resolved != nil {
		return accountAt(*resolved, entryRec{Kind: KindFile}), nil
	}
	segs := p.Segments()
	if len(segs) < 3 || segs[0] != homesName {
		return account{}, nil
	}
	home, err := storepath.FromSegments(segs[:2])
	if err != nil {
		return account{}, err
	}
	l, err := b.lookup(ctx, home)
	if errors.Is(err, errs.ErrNotFound) || errors.Is(err, errs.ErrNotDir) {
		return account{}, nil // made by the write, empty
	}
	if err != nil || !l.exists || l.rec.Kind != KindDir {
		return account{}, err
	}
	return homeAccount(segs[1], l.rec), nil
}

// charge is what one transaction changes in one home folder's usage.
type charge struct {
	acct     account
	bytes    int64
	files    int64
	reserved int64
	// recheck conditions the counters on the limits even when they do
	// not grow (a Complete checks again what its session reserved).
	recheck bool
}

// charges collects the usage changes of one transaction, one per home
// folder (a transaction touches an item once).
type charges []*charge

func (c *charges) line(a account) *charge {
	for _, ch := range *c {
		if ch.acct.home == a.home {
			if a.quota != (Quota{}) {
				ch.acct = a
			}
			return ch
		}
	}
	ch := &charge{acct: a}
	*c = append(*c, ch)
	return ch
}

// add counts bytes and files into (or, negative, out of) a's usage.
func (c *charges) add(a account, bytes, files int64) {
	if a.home == "" || (bytes == 0 && files == 0) {
		return
	}
	ch := c.line(a)
	ch.bytes += bytes
	ch.files += files
}

// reserve holds (or, negative, gives back) n bytes for an upload session.
func (c *charges) reserve(a account, n int64) {
	if a.home == "" || n == 0 {
		return
	}
	ch := c.line(a)
	ch.bytes += n
	ch.reserved += n
}

// recheck holds a's counters to its limits in this transaction.
func (c *charges) recheck(a account) {
	if a.home != "" {
		c.line(a).recheck = true
	}
}

// ops are the transaction's writes of the usage counters.
func (c charges) ops() []meta.Op {
	var ops []meta.Op
	for _, ch := range c {
		pk := usagePK(ch.acct.home)
		ops = appendBounded(ops, pk, skUsageBytes, ch.bytes, ch.acct.quota.Bytes, ch.recheck)
		ops = appendBounded(ops, pk, skUsageFiles, ch.files, ch.acct.quota.Files, ch.recheck)
		if ch.reserved != 0 {
			ops = append(ops, meta.Add(pk, skUsageReserved, ch.reserved, meta.NoCond))
		}
	}
	return ops
}

// appendBounded appends the Add of d to a counter, held to limit (0: none)
// when it grows or when recheck.
func appendBounded(ops []meta.Op, pk, sk string, d, limit int64, recheck bool) []meta.Op {
	bounded := limit > 0 && (d > 0 || recheck)
	switch {
	case d == 0 && bounded:
		return append(ops, meta.Check(pk, sk, meta.AtMost(limit)))
	case d == 0:
		return ops
	case bounded:
		return append(ops, meta.Add(pk, sk, d, meta.AtMost(limit-d)))
	}
	return append(ops, meta.Add(pk, sk, d, meta.NoCond))
}

// refused turns a transaction's failure on a usage limit into the
// errs.QuotaError it means, with the usage as it now is; any other error
// is returned as it is.
func (c charges) refused(ctx context.Context, ms meta.Store, err error) error {
	var txe *meta.TxError
	if !errors.As(err, &txe) || txe.Op.Cond.Kind != meta.IfAtMost || !strings.HasPrefix(txe.Op.PK, "usage#") {
		return err
	}
	for _, ch := range c {
		if usagePK(ch.acct.home) != txe.Op.PK {
			continue
		}
		qe := &errs.QuotaError{User: ch.acct.name, Resource: txe.Op.SK, Limit: ch.acct.quota.Bytes, Need: ch.bytes}
		if txe.Op.SK == skUsageFiles {
			qe.Limit, qe.Need = ch.acct.quota.Files, ch.files
		}
		if it, gerr := ms.Get(ctx, txe.Op.PK, txe.Op.SK); gerr == nil {
			qe.Used = it.N
		}
		return qe
	}
	return err
}

// commit runs ops and the usage writes in one transaction; a limit that
// refuses it is an errs.QuotaError.
func (c charges) commit(ctx context.Context, ms meta.Store, ops []meta.Op) error {
	all := append(ops[:len(ops):len(ops)], c.ops()...)
	return c.refused(ctx, ms, ms.Transact(ctx, all))
}

// versionBytes is the size of every kept version of the file rec: what it
// counts against its home folder.
func (b *Backend) versionBytes(ctx context.Context, rec entryRec) (int64, error) {
	if rec.Seq == rec.First {
		return rec.Size, nil
	}
	return b.fileBytes(ctx, rec.ID)
}

// fileBytes is the size of every version of the file id.
func (b *Backend) fileBytes(ctx context.Context, id string) (int64, error) {
	var n int64
	err := record.Each(ctx, b.meta, filePK(id), versionPrefix, func(it meta.Item) error {
		v, err := record.Decode[versionRec](it)
		n += v.Size
		return err
	})
	return n, err
}

// transfer counts the entry rec out of from and into to, for a change of
// place between home folders: a file moves with all its versions; a
// folder cannot (what it holds would have to be counted in the same
// transaction), and the error says what to do instead.
func (b *Backend) transfer(ctx context.Context, c *charges, rec entryRec, from, to account, what storepath.Path) error {
	if from.home == to.home {
		return nil
	}
	if rec.Kind == KindDir {
		return fmt.Errorf("%w: %s would move from %s to %s, whose quotas count it: copy the folder there and delete the original instead",
			errs.ErrInvalid, what, describeAccount(from), describeAccount(to))
	}
	n, err := b.versionBytes(ctx, rec)
	if err != nil {
		return err
	}
	c.add(from, -n, -1)
	c.add(to, n, 1)
	return nil
}

func describeAccount(a account) string {
	if a.home == "" {
		return "outside every home folder"
	}
	return "the home folder " + a.name
}

// homeName is the name of the home folder a path lies in, or "".
func homeName(p string) string {
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if len(segs) >= 2 && segs[0] == homesName {
		return segs[1]
	}
	return ""
}

// fits fails early, before any content is stored, on n more bytes that
// would not fit a's quota as it now is; the commit decides exactly.
func (b *Backend) fits(ctx context.Context, a account, n int64) error {
	if a.home == "" || a.quota.Bytes <= 0 || n <= 0 {
		return nil
	}
	it, err := b.meta.Get(ctx, usagePK(a.home), skUsageBytes)
	if err != nil && !record.IsNotFound(err) {
		return err
	}
	if it.N+n > a.quota.Bytes {
		return &errs.QuotaError{User: a.name, Resource: skUsageBytes, Used: it.N, Limit: a.quota.Bytes, Need: n}
	}
	return nil
}
