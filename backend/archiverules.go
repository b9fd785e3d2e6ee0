package backend

import (
	"context"
	"fmt"
	"time"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// Archive rules: a folder's files not modified for some time move to an
// archive class. Object keys say nothing of paths, so S3's own lifecycle
// rules cannot do this: Strata sweeps the folders itself. A rule is an item
// at (archiverules, <folder ID>), which also holds its sweep's place; the
// sweeper (SweepArchiveRules, run by every server now and then) claims a
// rule with a conditional write, walks at most SweepBudget entries of its
// folder from where the last run stopped, archives the files that are due
// (each checked for whoever set the rule, as their own request would be),
// and saves its place. A rule whose sweep is done is swept again after
// sweepEvery.

const (
	pkArchiveRules = "archiverules"
	// ruleLease is how long a sweeper's claim on a rule holds.
	ruleLease = 5 * time.Minute
	// sweepEvery is how long after a complete sweep a rule is swept again.
	sweepEvery = 12 * time.Hour
)

// SweepBudget bounds the entries one run of SweepArchiveRules reads.
var SweepBudget = 2000

// ruleRec is the item at (archiverules, <folder ID>).
type ruleRec struct {
	Path      string            `json:"p"`
	After     int64             `json:"a"` // nanoseconds since the last modification
	Class     blob.ArchiveClass `json:"c"`
	Principal iam.Principal     `json:"pr"`
	Created   int64             `json:"cr"`
	// The sweep: the folders being walked, when the last one ended, how
	// many files it archived in all, and why the last one it could not
	// archive was not.
	Stack    []treeFrame `json:"st,omitempty"`
	Swept    int64       `json:"sw,omitempty"`
	Archived int64       `json:"n,omitempty"`
	Why      string      `json:"why,omitempty"`
	Claim    int64       `json:"cl,omitempty"`
	ClaimBy  string      `json:"clb,omitempty"`
}

// ArchiveRule is a rule as clients see it.
type ArchiveRule struct {
	Path string `json:"path"`
	// AfterDays: files not modified for this many days are archived.
	AfterDays int       `json:"afterDays"`
	Class     string    `json:"class"`
	By        string    `json:"by"`
	Created   time.Time `json:"created"`
	// LastSweep is when the last complete sweep ended; Sweeping, whether
	// one is under way; Archived counts the files sweeps archived.
	LastSweep time.Time `json:"lastSweep,omitzero"`
	Sweeping  bool      `json:"sweeping"`
	Archived  int64     `json:"archived"`
	Why       string    `json:"why,omitempty"`
}

func (r ruleRec) public() ArchiveRule {
	return ArchiveRule{Path: r.Path, AfterDays: int(time.Duration(r.After) / (24 * time.Hour)), Class: r.Class.Name(),
		By: r.Principal.Name, Created: record.FromNanos(r.Created), LastSweep: record.FromNanos(r.Swept),
		Sweeping: len(r.Stack) > 0, Archived: r.Archived, Why: r.Why}
}

// MaxRuleDays bounds a rule's age (about 100 years).
const MaxRuleDays = 36500

// SetArchiveRule makes the files under the folder at p that are not
// modified for afterDays days move to class, replacing the folder's rule if
// it has one. Setting it needs strata:ArchiveFile on the folder; every file
// the sweeper archives is checked for pr as well.
func (b *Backend) SetArchiveRule(ctx context.Context, pr iam.Principal, p storepath.Path, afterDays int, class blob.ArchiveClass) (ArchiveRule, error) {
	if err := b.allowPath(ctx, pr, iam.ArchiveFile, p); err != nil {
		return ArchiveRule{}, err
	}
	if !class.Valid() {
		return ArchiveRule{}, fmt.Errorf("%w: unknown archive class %q: want glacier, deep-archive or glacier-ir", errs.ErrInvalid, class)
	}
	if afterDays < 1 || afterDays > MaxRuleDays {
		return ArchiveRule{}, fmt.Errorf("%w: archive after %d days: want 1 to %d", errs.ErrInvalid, afterDays, MaxRuleDays)
	}
	if _, err := b.archiver(); err != nil {
		return ArchiveRule{}, err
	}
	l, err := b.lookupExisting(ctx, p)
	if err != nil {
		return ArchiveRule{}, err
	}
	if l.rec.Kind != KindDir {
		return ArchiveRule{}, fmt.Errorf("%s: %w: rules are set on folders", p, errs.ErrNotDir)
	}
	r := ruleRec{Path: p.String(), After: int64(time.Duration(afterDays) * 24 * time.Hour), Class: class,
		Principal: pr, Created: record.Nanos(b.now())}
	if _, err := b.meta.Put(ctx, record.Item(pkArchiveRules, l.rec.ID, r), meta.NoCond); err != nil {
		return ArchiveRule{}, errs.FromStore("set archive rule", err)
	}
	return r.public(), nil
}

// DeleteArchiveRule removes the rule of the folder at p.
func (b *Backend) DeleteArchiveRule(ctx context.Context, pr iam.Principal, p storepath.Path) error {
	if err := b.allowPath(ctx, pr, iam.ArchiveFile, p); err != nil {
		return err
	}
	l, err := b.lookupExisting(ctx, p)
	if err != nil {
		return err
	}
	if _, _, err := record.Get[ruleRec](ctx, b.meta, pkArchiveRules, l.rec.ID); record.IsNotFound(err) {
		return fmt.Errorf("%s: no archive rule: %w", p, errs.ErrNotFound)
	} else if err != nil {
		return err
	}
	return b.meta.Delete(ctx, pkArchiveRules, l.rec.ID, meta.NoCond)
}

// ArchiveRules lists the rules on under and the folders below it that pr
// may archive in (pr must be allowed to archive in under).
func (b *Backend) ArchiveRules(ctx context.Context, pr iam.Principal, under storepath.Path) ([]ArchiveRule, error) {
	if err := b.allowPath(ctx, pr, iam.ArchiveFile, under); err != nil {
		return nil, err
	}
	out := []ArchiveRule{}
	err := b.eachItem(ctx, pkArchiveRules, "", func(it meta.Item) error {
		r, err := record.Decode[ruleRec](it)
		if err != nil {
			return err
		}
		p, err := storepath.Parse(r.Path)
		if err != nil {
			return err
		}
		if p.Within(under) && b.allowPath(ctx, pr, iam.ArchiveFile, p) == nil {
			out = append(out, r.public())
		}
		return nil
	})
	return out, err
}

// SweepArchiveRules carries the sweeps of the rules that are due on, each
// claimed by one server, reading at most SweepBudget entries in all.
func (b *Backend) SweepArchiveRules(ctx context.Context) error {
	if _, err := b.archiver(); err != nil {
		return nil
	}
	budget := SweepBudget
	return b.eachItem(ctx, pkArchiveRules, "", func(it meta.Item) error {
		if budget <= 0 {
			return errStopItems
		}
		r, err := record.Decode[ruleRec](it)
		if err != nil {
			return err
		}
		now := b.now()
		claimed := r.ClaimBy != "" && !(b.excl && r.ClaimBy != b.instance) && now.UnixNano()-r.Claim < int64(ruleLease)
		if claimed || (len(r.Stack) == 0 && r.Swept != 0 && now.UnixNano()-r.Swept < int64(sweepEvery)) {
			return nil
		}
		r.Claim, r.ClaimBy = record.Nanos(now), b.instance
		ver, err := b.meta.Put(ctx, record.Item(it.PK, it.SK, r), meta.AtVersion(it.Version))
		if record.IsConflict(err) {
			return nil // another server took it
		}
		if err != nil {
			return err
		}
		budget -= b.sweepRule(ctx, it.SK, &r)
		r.Claim, r.ClaimBy = 0, ""
		if _, err := b.meta.Put(ctx, record.Item(it.PK, it.SK, r), meta.AtVersion(ver)); err != nil && !record.IsConflict(err) {
			return err
		}
		return nil
	})
}

// sweepRule walks the rule's folder from where it stopped, archiving the
// files that are due, and returns how many entries it read.
func (b *Backend) sweepRule(ctx context.Context, folderID string, r *ruleRec) int {
	if len(r.Stack) == 0 {
		p, err := storepath.Parse(r.Path)
		if err != nil {
			r.Why = err.Error()
			return 1
		}
		l, err := b.lookupExisting(ctx, p)
		if err != nil || l.rec.ID != folderID {
			// The folder moved or went; the rule stays with it and waits
			// (a path sweep would archive another folder's files).
			r.Why, r.Swept = fmt.Sprintf("%s is no longer the folder the rule was set on (moved or deleted)", r.Path), record.Nanos(b.now())
			return 1
		}
		r.Stack = []treeFrame{{ID: folderID, Path: r.Path}}
	}
	read := 0
	cutoff := b.now().UnixNano() - r.After
	for len(r.Stack) > 0 && read < SweepBudget {
		stack, err := b.walkPage(ctx, r.Stack, func(p storepath.Path, rec entryRec) error {
			read++
			if rec.Arch != nil || rec.MTime > cutoff {
				return nil
			}
			err := b.ruleFile(ctx, r, p)
			switch {
			case err == nil:
				r.Archived++
			case ctx.Err() != nil || errs.IsUnavailable(err):
				return err
			default:
				r.Why = err.Error()
			}
			return nil
		})
		r.Stack = stack
		read++
		if err != nil {
			r.Why = err.Error()
			b.log.Warn("archive rule: sweep", "path", r.Path, "err", err)
			return read
		}
	}
	if len(r.Stack) == 0 {
		r.Swept = record.Nanos(b.now())
		b.log.Info("archive rule: swept", "path", r.Path, "archived", r.Archived)
	}
	return read
}

// ruleFile archives the file at p for the rule r.
func (b *Backend) ruleFile(ctx context.Context, r *ruleRec, p storepath.Path) error {
	if err := b.allowPath(ctx, r.Principal, iam.ArchiveFile, p); err != nil {
		return err
	}
	l, err := b.lookupExisting(ctx, p)
	if err != nil {
		return err
	}
	if err := b.noUploadTo(ctx, r.Principal, p); err != nil {
		return err
	}
	_, err = b.archiveFile(ctx, p, l, r.Class)
	return err
}
