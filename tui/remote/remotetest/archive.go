package remotetest

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/strata-storage/strata/internal/archiveprice"
	"github.com/strata-storage/strata/tui/remote"
)

// The fake's archive tier: a file's place in it by path (moves carry it,
// copies share it, a new version is hot), restores that stay restoring
// until FinishRestores, and a price table like an S3 server's.

// restoreTimes are the fake's restore times per class and tier.
var restoreTimes = map[string]map[string]time.Duration{
	"glacier":      {"expedited": 5 * time.Minute, "standard": 5 * time.Hour, "bulk": 12 * time.Hour},
	"deep-archive": {"standard": 12 * time.Hour, "bulk": 48 * time.Hour},
}

// SetPrices replaces the price table the fake serves.
func (f *Fake) SetPrices(p remote.ArchivePrices) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prices = &p
}

// defaultPrices is AWS's table as an S3 server serves it.
func defaultPrices() remote.ArchivePrices {
	p := archiveprice.AWS()
	p.Engine = "s3"
	for i, c := range p.Classes {
		for j, t := range c.Tiers {
			p.Classes[i].Tiers[j].ExpectedSeconds = int64(restoreTimes[c.Class][t.Tier].Seconds())
		}
	}
	return p
}

func (f *Fake) ArchivePrices(ctx context.Context) (remote.ArchivePrices, error) {
	if err := f.call(ctx, "ArchivePrices"); err != nil {
		return remote.ArchivePrices{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.prices != nil {
		return *f.prices, nil
	}
	return defaultPrices(), nil
}

// archState is where a file's content stands; f.mu is held.
func (f *Fake) archState(a *remote.ArchiveInfo) string {
	switch {
	case a == nil:
		return remote.StateHot
	case a.Class == "glacier-ir":
		return remote.StateArchived
	case a.Until.After(f.Now):
		return remote.StateRestored
	case !a.Requested.IsZero() && a.Until.IsZero():
		return remote.StateRestoring
	}
	return remote.StateArchived
}

// filesUnder is the files at or under p, sorted; f.mu is held.
func (f *Fake) filesUnder(p string) []string {
	files, _ := f.subtree(p)
	sort.Strings(files)
	return files
}

func (f *Fake) Archive(ctx context.Context, p, class string, recursive bool) (remote.ArchiveResult, error) {
	if err := f.call(ctx, "Archive"); err != nil {
		return remote.ArchiveResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := restoreTimes[class]; !ok && class != "glacier-ir" {
		return remote.ArchiveResult{}, fmt.Errorf("class: unknown archive class %q", class)
	}
	one := func(q string) error {
		a := f.arch[q]
		switch {
		case a != nil && a.Class == class:
			return nil
		case f.archState(a) == remote.StateRestoring:
			return fmt.Errorf("%s: being restored: %w", q, remote.ErrExists)
		}
		f.arch[q] = &remote.ArchiveInfo{Class: class, Since: f.Now}
		return nil
	}
	return f.each(p, recursive, "archive", one)
}

// each does one to p, or to every file under the folder p as a job.
func (f *Fake) each(p string, recursive bool, kind string, one func(string) error) (remote.ArchiveResult, error) {
	if f.dirs[p] {
		if !recursive {
			return remote.ArchiveResult{}, fmt.Errorf("%s is a folder: use the recursive option", p)
		}
		job := remote.Job{ID: "job-" + kind, Kind: kind, State: "done", Path: p, Created: f.Now, Updated: f.Now}
		for _, q := range f.filesUnder(p) {
			if err := one(q); err != nil {
				job.Skipped++
				job.Why = err.Error()
				continue
			}
			job.Done++
		}
		return remote.ArchiveResult{Job: &job}, nil
	}
	if _, ok := f.files[p]; !ok {
		return remote.ArchiveResult{}, fmt.Errorf("%s: %w", p, remote.ErrNotFound)
	}
	if err := one(p); err != nil {
		return remote.ArchiveResult{}, err
	}
	e, _ := f.entry(p)
	return remote.ArchiveResult{Entry: e}, nil
}

func (f *Fake) Restore(ctx context.Context, p, tier string, days int, recursive bool) (remote.ArchiveResult, error) {
	if err := f.call(ctx, "Restore"); err != nil {
		return remote.ArchiveResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if days < 1 || days > 30 {
		return remote.ArchiveResult{}, fmt.Errorf("days: %d is out of range 1..30", days)
	}
	note := ""
	one := func(q string) error {
		a := f.arch[q]
		switch st := f.archState(a); {
		case a == nil:
			note = "not archived: it reads as it is, nothing to restore"
			return nil
		case a.Class == "glacier-ir":
			note = "glacier-ir reads at once: nothing to restore"
			return nil
		case st == remote.StateRestoring:
			note = "a restore is in progress already"
			return nil
		}
		wait, ok := restoreTimes[a.Class][tier]
		if !ok {
			return fmt.Errorf("%s has no %s tier", a.Class, tier)
		}
		b := *a
		b.Tier, b.Days, b.Requested, b.Expected, b.Until = tier, days, f.Now, f.Now.Add(wait), time.Time{}
		f.arch[q] = &b
		return nil
	}
	res, err := f.each(p, recursive, "restore", one)
	if err == nil && res.Job == nil {
		res.Started, res.Note = note == "", note
	}
	return res, err
}

// Restoring lists the files being restored (test checks).
func (f *Fake) Restoring() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for p, a := range f.arch {
		if f.archState(a) == remote.StateRestoring {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// FinishRestores makes every restore in progress done: its copy readable
// for its days.
func (f *Fake) FinishRestores() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.arch {
		if f.archState(a) == remote.StateRestoring {
			a.Until = f.Now.Add(time.Duration(a.Days) * 24 * time.Hour)
		}
	}
}

// SetArchived puts a file in class directly (test setup).
func (f *Fake) SetArchived(p, class string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.arch[p] = &remote.ArchiveInfo{Class: class, Since: f.Now}
}

// readable fails for content that needs a restore; f.mu is held.
func (f *Fake) readable(p string) error {
	a := f.arch[p]
	if st := f.archState(a); st == remote.StateRestoring || (st == remote.StateArchived && a.Class != "glacier-ir") {
		return fmt.Errorf("%s is archived (%s): restore it first: %w", p, a.Class, remote.ErrArchived)
	}
	return nil
}
