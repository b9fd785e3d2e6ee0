package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// The log's layout in the metadata store: a partition per UTC day, sorted
// by time, and an index of the days that have records (so that reading
// newest first and trimming never guess which days exist).
//
//	(audit#<yyyy-mm-dd>, <unix nanoseconds, 20 digits>#<random id>) record
//	(auditdays, <yyyy-mm-dd>)                                      day index
const (
	pkDays    = "auditdays"
	dayLayout = "2006-01-02"
)

func dayPK(day string) string { return "audit#" + day }

// DefaultRetention is how long records are kept unless configured.
const DefaultRetention = 90 * 24 * time.Hour

// MinRetention is the shortest retention: a day partition is trimmed once
// all of it is past.
const MinRetention = 24 * time.Hour

// Config assembles a Log.
type Config struct {
	// Meta is the store the log is kept in (not wrapped by Wrap).
	Meta meta.Store
	// Decider decides who may read the log; nil means iam.HomeRule.
	Decider iam.Decider
	// Retention is how long a record is kept: 0 means DefaultRetention,
	// negative forever. At least MinRetention.
	Retention time.Duration
	Logger    *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Log is the audit log of one store.
type Log struct {
	meta      meta.Store
	decider   iam.Decider
	retention time.Duration // 0: forever
	log       *slog.Logger
	now       func() time.Time
	dayMu     sync.Mutex
	indexed   string // the last day this process put in the day index
}

// New returns the log over cfg.Meta.
func New(cfg Config) (*Log, error) {
	if cfg.Meta == nil {
		return nil, errors.New("audit: Meta is required")
	}
	l := &Log{meta: cfg.Meta, decider: cfg.Decider, retention: cfg.Retention, log: cfg.Logger, now: cfg.Now}
	switch {
	case l.retention == 0:
		l.retention = DefaultRetention
	case l.retention < 0:
		l.retention = 0
	case l.retention < MinRetention:
		return nil, fmt.Errorf("audit: retention %v is under the minimum %v", cfg.Retention, MinRetention)
	}
	if l.decider == nil {
		l.decider = iam.HomeRule{}
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.now == nil {
		l.now = time.Now
	}
	return l, nil
}

// Retention is how long records are kept (0: forever).
func (l *Log) Retention() time.Duration { return l.retention }

// item is r as the item that keeps it, after making sure its day is in
// the index.
func (l *Log) item(ctx context.Context, r Record) (meta.Item, error) {
	day := r.Time.UTC().Format(dayLayout)
	if err := l.index(ctx, day); err != nil {
		return meta.Item{}, err
	}
	it := record.Item(dayPK(day), fmt.Sprintf("%020d#%s", r.Time.UnixNano(), record.NewID()), r)
	if l.retention > 0 {
		// DynamoDB's TTL removes what the collector has not trimmed yet.
		it.ExpiresAt = r.Time.Add(l.retention + 24*time.Hour)
	}
	return it, nil
}

// index puts day in the day index, once per day per process.
func (l *Log) index(ctx context.Context, day string) error {
	l.dayMu.Lock()
	defer l.dayMu.Unlock()
	if l.indexed == day {
		return nil
	}
	if _, err := l.meta.Put(ctx, meta.Item{PK: pkDays, SK: day}, meta.NoCond); err != nil {
		return errs.FromStore("audit day index", err)
	}
	l.indexed = day
	return nil
}

// write appends r.
func (l *Log) write(ctx context.Context, r Record) error {
	it, err := l.item(ctx, r)
	if err != nil {
		return err
	}
	_, err = l.meta.Put(ctx, it, meta.MustNew)
	return errs.FromStore("audit record", err)
}

// Query selects records, newest first.
type Query struct {
	// User keeps the records of this user name, or everyone's with
	// AllUsers; "" is everyone's for an admin and one's own otherwise.
	User string
	// Action keeps the records whose action matches this pattern (* and
	// ?, as in strata:Delete*).
	Action string
	// Path keeps the records about this path or below it.
	Path string
	// Since keeps the records from this time on (zero: all kept).
	Since time.Time
	// Limit is the page size, 1..1000; 0 means 100.
	Limit int
	// Cursor continues a listing where the page before ended.
	Cursor string
}

// Page is one page of records, newest first.
type Page struct {
	Records []Record `json:"records"`
	// Next continues the listing ("" at its end). A page may hold fewer
	// records than asked for, and none, when the filters skip many.
	Next string `json:"next,omitempty"`
	// User is whose records were listed ("" everyone's).
	User string `json:"user,omitempty"`
}

// scanBudget bounds the records one page reads past its filters.
const scanBudget = 5000

// AllUsers as Query.User asks for everyone's records.
const AllUsers = "*"

// List reads a page of records as pr: one user's (q.User; by default pr's
// own) with strata:ReadAudit on strata:user/<name>, or everyone's
// (q.User AllUsers; by default for admins) with strata:ReadAudit on
// strata:system/audit.
func (l *Log) List(ctx context.Context, pr iam.Principal, q Query) (Page, error) {
	switch {
	case q.User == "" && pr.Admin:
		q.User = AllUsers
	case q.User == "":
		q.User = pr.Name
	}
	res := iam.UserNamed(q.User)
	if q.User == AllUsers {
		res, q.User = iam.System("audit"), ""
	}
	if err := iam.Authorize(ctx, l.decider, pr, iam.ReadAudit, res); err != nil {
		return Page{}, err
	}
	if err := q.check(); err != nil {
		return Page{}, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = 100
	}
	day, after, err := parseCursor(q.Cursor)
	if err != nil {
		return Page{}, err
	}
	since := ""
	if !q.Since.IsZero() {
		since = fmt.Sprintf("%020d", q.Since.UnixNano())
	}
	pg := Page{Records: []Record{}, User: q.User}
	budget := scanBudget
	days, err := l.daysBefore(ctx, day)
	if err != nil {
		return Page{}, err
	}
	for _, d := range days {
		if since != "" && d < q.Since.UTC().Format(dayLayout) {
			return pg, nil
		}
		if d != day {
			after = ""
		}
		for {
			items, err := l.meta.Query(ctx, dayPK(d), meta.QueryOpts{After: after, Reverse: true, Limit: min(budget, meta.MaxPageLimit)})
			if err != nil {
				return Page{}, errs.FromStore("audit", err)
			}
			for _, it := range items.Items {
				budget--
				if it.SK < since {
					return pg, nil
				}
				r, err := record.Decode[Record](it)
				if err != nil {
					return Page{}, err
				}
				if q.matches(r) {
					pg.Records = append(pg.Records, r)
				}
				if len(pg.Records) == limit || budget == 0 {
					pg.Next = d + "/" + it.SK
					return pg, nil
				}
			}
			if items.Next == "" {
				break
			}
			after = items.Next
		}
	}
	return pg, nil
}

func (q Query) check() error {
	if q.Limit < 0 || q.Limit > meta.MaxPageLimit {
		return fmt.Errorf("%w: limit %d (1..%d)", errs.ErrInvalid, q.Limit, meta.MaxPageLimit)
	}
	if q.Action != "" {
		if _, err := path.Match(q.Action, ""); err != nil {
			return fmt.Errorf("%w: action pattern %q: %w", errs.ErrInvalid, q.Action, err)
		}
	}
	if q.Path != "" {
		if _, err := storepath.Parse(q.Path); err != nil {
			return err
		}
	}
	return nil
}

// parseCursor reads a cursor Next wrote: "<day>/<sort key>".
func parseCursor(c string) (day, after string, err error) {
	if c == "" {
		return "", "", nil
	}
	day, after, ok := strings.Cut(c, "/")
	if _, perr := time.Parse(dayLayout, day); !ok || perr != nil || meta.ValidateKey(after) != nil {
		return "", "", fmt.Errorf("%w: cursor %q is not one this server gave", errs.ErrInvalid, c)
	}
	return day, after, nil
}

// daysBefore lists the days that have records, newest first, from day
// ("" today and before) back.
func (l *Log) daysBefore(ctx context.Context, day string) ([]string, error) {
	var days []string
	after := ""
	if day != "" {
		after = day + "~" // just after day: it is included
	}
	for {
		pg, err := l.meta.Query(ctx, pkDays, meta.QueryOpts{After: after, Reverse: true})
		if err != nil {
			return nil, errs.FromStore("audit days", err)
		}
		for _, it := range pg.Items {
			days = append(days, it.SK)
		}
		if pg.Next == "" {
			return days, nil
		}
		after = pg.Next
	}
}

// Trim removes the records older than the retention, and returns how many
// it removed. Any number of servers may trim at once.
func (l *Log) Trim(ctx context.Context) (int, error) {
	if l.retention == 0 {
		return 0, nil
	}
	cut := l.now().Add(-l.retention).UTC()
	cutDay, cutSK := cut.Format(dayLayout), fmt.Sprintf("%020d", cut.UnixNano())
	n := 0
	after := ""
	for {
		pg, err := l.meta.Query(ctx, pkDays, meta.QueryOpts{After: after})
		if err != nil {
			return n, errs.FromStore("audit days", err)
		}
		for _, it := range pg.Items {
			if it.SK > cutDay {
				return n, nil
			}
			upto := "" // the whole day
			if it.SK == cutDay {
				upto = cutSK
			}
			m, err := l.trimDay(ctx, it.SK, upto)
			n += m
			if err != nil {
				return n, err
			}
			if upto == "" {
				if err := l.meta.Delete(ctx, pkDays, it.SK, meta.NoCond); err != nil {
					return n, errs.FromStore("audit days", err)
				}
			}
		}
		if pg.Next == "" {
			return n, nil
		}
		after = pg.Next
	}
}

// trimDay deletes day's records with sort keys before upto ("" all).
func (l *Log) trimDay(ctx context.Context, day, upto string) (int, error) {
	n := 0
	for {
		pg, err := l.meta.Query(ctx, dayPK(day), meta.QueryOpts{Limit: meta.MaxTxOps})
		if err != nil {
			return n, errs.FromStore("audit trim", err)
		}
		ops := make([]meta.Op, 0, len(pg.Items))
		for _, it := range pg.Items {
			if upto != "" && it.SK >= upto {
				break
			}
			ops = append(ops, meta.Delete(it.PK, it.SK, meta.NoCond))
		}
		if len(ops) == 0 {
			return n, nil
		}
		if err := l.meta.Transact(ctx, ops); err != nil {
			return n, errs.FromStore("audit trim", err)
		}
		n += len(ops)
		if len(ops) < len(pg.Items) || pg.Next == "" {
			return n, nil
		}
	}
}
