// Package audit is Strata's audit log: who changed what, who was refused
// what, and who logged in, kept append-only in the metadata store (so on
// both engine sets) and trimmed after a retention period.
//
// The record is made by the core, not by a front end. An entry point (the
// HTTP server; the SSH and SFTP servers, a share link) opens a Scope per
// request with Log.Begin and closes it with Scope.Finish and the outcome;
// in between, every decision iam.Authorize makes in the request's context
// is seen by the scope (iam.Observer), and every write to the metadata
// store through Wrap marks the request as a change. A request is
// recorded when it was denied, when it changed something (or its entry
// point says it is meant to: an HTTP method other than GET and HEAD), and
// when it logged in. Where the change commits in a transaction, the record
// goes into that same transaction (on DynamoDB: no extra request).
//
// An operation that makes no authorization decision but must be on the
// record (a login, a share link used by anyone, a quota change made by
// the server itself) says what it is with one call:
//
//	audit.Note(ctx, principal, action, resource)
package audit

import (
	"context"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
)

// The actions of the record that are not policy actions: nothing decides
// them, they are what happened.
const (
	// ActionLogin is a login with a password or an AWS identity.
	ActionLogin iam.Action = "strata:Login"
	// ActionAuthenticate is a request whose token was refused.
	ActionAuthenticate iam.Action = "strata:Authenticate"
)

// Decisions and outcomes of a record.
const (
	Allow = "allow"
	Deny  = "deny"
	// OK is the outcome of a request that succeeded; any other outcome is
	// the API's problem code (forbidden, not_found, ...).
	OK = "ok"
)

// Record is one entry of the audit log.
type Record struct {
	Time time.Time `json:"time"`
	// The principal: the user (ID and name) and the token they used.
	UserID  string `json:"userId,omitempty"`
	User    string `json:"user,omitempty"`
	TokenID string `json:"tokenId,omitempty"`
	// Where the request came from and through which entry point.
	SourceIP string `json:"sourceIp,omitempty"`
	Via      string `json:"via,omitempty"`
	// Op is the entry point's name of the operation (an HTTP route).
	Op string `json:"op,omitempty"`
	// Action and Resource are what was decided (or, with Note, done):
	// the resource as a path or strata:<kind>/<owner>/<id>, and its ID
	// apart when it has one.
	Action     string `json:"action,omitempty"`
	Resource   string `json:"resource,omitempty"`
	ResourceID string `json:"resourceId,omitempty"`
	// Decision is allow or deny ("" for what Note recorded: nothing was
	// decided, the outcome says how it went); Policy and Sid name the
	// statement that decided, Reason says it in words (also when no
	// statement did).
	Decision string `json:"decision,omitempty"`
	Policy   string `json:"policy,omitempty"`
	Sid      string `json:"sid,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// RequestID ties the record to the request log and the response.
	RequestID string `json:"requestId,omitempty"`
	// Outcome is OK or the request's problem code.
	Outcome string `json:"outcome"`
	// Also lists the request's other decisions (the destination of a
	// move, each entry of a folder copy), up to maxSteps.
	Also []Step `json:"also,omitempty"`
}

// Step is one more decision of a recorded request.
type Step struct {
	Action   string `json:"action"`
	Resource string `json:"resource"`
	Decision string `json:"decision"`
	Policy   string `json:"policy,omitempty"`
	Sid      string `json:"sid,omitempty"`
}

// maxSteps bounds the decisions one record lists (a folder copy decides
// once per entry).
const maxSteps = 16

// Request is what an entry point knows of a request when it begins.
type Request struct {
	ID       string
	SourceIP string
	Via      string
	// Op names the operation (an HTTP route: "DELETE /v1/files/{path...}").
	Op string
	// Changes says the operation is meant to change something, so that it
	// is recorded even when it fails before it writes.
	Changes bool
}

type step struct {
	act iam.Action
	res iam.Resource
	dec iam.Decision
	// noted: said by Note, not decided (the record has no decision).
	noted bool
}

// Scope collects what one request decided and did, until Finish records
// it. It is safe for concurrent use (a folder copy decides in parallel).
type Scope struct {
	log *Log
	mu  sync.Mutex
	req Request
	pr  iam.Principal
	// steps are the decisions, in order; more counts those past maxSteps.
	steps []step
	more  int
	note  *step
	wrote bool
	// committed: the record went into a transaction of the change, with
	// outcome OK.
	committed bool
	closed    bool
}

var _ iam.Observer = (*Scope)(nil)

type scopeKey struct{}

// Begin opens the scope of one request: ctx carries it (and the core's
// decisions in ctx are observed by it) until Finish. A nil Log records
// nothing.
func (l *Log) Begin(ctx context.Context, r Request) (context.Context, *Scope) {
	if l == nil {
		return ctx, nil
	}
	s := &Scope{log: l, req: r}
	ctx = context.WithValue(ctx, scopeKey{}, s)
	return iam.WithObserver(ctx, s), s
}

func from(ctx context.Context) *Scope {
	s, _ := ctx.Value(scopeKey{}).(*Scope)
	return s
}

// SetPrincipal names who the request is from, once the entry point has
// authenticated it.
func (s *Scope) SetPrincipal(pr iam.Principal) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.pr = pr
	s.mu.Unlock()
}

// Observe implements iam.Observer: it keeps the decision.
func (s *Scope) Observe(pr iam.Principal, act iam.Action, res iam.Resource, d iam.Decision) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if s.pr.UserID == "" {
		s.pr = pr
	}
	if len(s.steps) == maxSteps+1 {
		// Keep the first denial, whatever comes before it.
		if d.Allowed || slices.ContainsFunc(s.steps, func(st step) bool { return !st.dec.Allowed }) {
			s.more++
			return
		}
		s.steps = s.steps[:maxSteps]
		s.more++
	}
	s.steps = append(s.steps, step{act: act, res: res, dec: d})
}

// Note records that the request in ctx does act on res as pr (pr may be
// zero when nobody is known, as for a failed login), for an operation no
// authorization decision describes: a login, a share link used by anyone,
// a change the server makes itself. It is what the record names as the
// request's action. Without a scope in ctx it does nothing.
func Note(ctx context.Context, pr iam.Principal, act iam.Action, res iam.Resource) {
	s := from(ctx)
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if pr.UserID != "" || pr.Name != "" {
		s.pr = pr
	}
	s.note = &step{act: act, res: res, dec: iam.Decision{Allowed: true}, noted: true}
}

// wroteNow marks the request as a change and returns the record to commit
// with it, if it is the first write that can carry it.
func (s *Scope) wroteNow() (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Record{}, false
	}
	s.wrote = true
	if s.committed {
		return Record{}, false
	}
	main, ok := s.mainLocked()
	if !ok {
		return Record{}, false
	}
	return s.recordLocked(main, OK), true
}

func (s *Scope) markCommitted() {
	s.mu.Lock()
	s.committed = true
	s.mu.Unlock()
}

// reads are the actions that change nothing: a change is named by the
// request's first other one.
var reads = map[iam.Action]bool{
	iam.GetFile: true, iam.ListFolder: true, iam.ListVersions: true, iam.GetUser: true, iam.ReadAudit: true,
}

// mainLocked is what the request did: the noted action, or the first
// allowed decision that changes something, or the first allowed one.
func (s *Scope) mainLocked() (step, bool) {
	if s.note != nil {
		return *s.note, true
	}
	first := -1
	for i, st := range s.steps {
		if !st.dec.Allowed {
			continue
		}
		if !reads[st.act] {
			return st, true
		}
		if first < 0 {
			first = i
		}
	}
	if first >= 0 {
		return s.steps[first], true
	}
	return step{}, false
}

func (s *Scope) recordLocked(main step, outcome string) Record {
	r := Record{
		Time:      s.log.now().UTC(),
		UserID:    s.pr.UserID,
		User:      s.pr.Name,
		TokenID:   s.pr.TokenID,
		SourceIP:  s.req.SourceIP,
		Via:       s.req.Via,
		Op:        s.req.Op,
		RequestID: s.req.ID,
		Outcome:   outcome,
	}
	if r.Via == "" {
		r.Via = s.pr.Via
	}
	if main.act != "" {
		r.Action, r.ResourceID = string(main.act), main.res.ID
		// A resource not known (a refused token; a login as no one) is
		// left out.
		if main.res != (iam.Resource{}) && (main.res.Kind != iam.KindUserR || main.res.Owner != "") {
			r.Resource = main.res.String()
		}
		if !main.noted {
			r.Decision, r.Policy, r.Sid, r.Reason = decided(main.dec)
		}
	}
	for _, st := range s.steps {
		if st.act == main.act && st.res == main.res {
			continue
		}
		if len(r.Also) == maxSteps {
			break
		}
		d, p, sid, _ := decided(st.dec)
		r.Also = append(r.Also, Step{Action: string(st.act), Resource: st.res.String(), Decision: d, Policy: p, Sid: sid})
	}
	return r
}

func decided(d iam.Decision) (decision, policy, sid, reason string) {
	decision = Deny
	if d.Allowed {
		decision = Allow
	}
	if d.Statement != nil {
		policy, sid = d.Statement.Policy, d.Statement.Sid
		if sid == "" {
			sid = "#" + strconv.Itoa(d.Statement.Index)
		}
	}
	return decision, policy, sid, d.Reason
}

// Finish records the request, if it is one to record, with its outcome
// (OK or a problem code). It writes even when ctx is cancelled: the
// record of a request the client gave up on is due all the same.
func (s *Scope) Finish(ctx context.Context, outcome string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	var recs []Record
	allowed := s.note != nil
	for _, st := range s.steps {
		if !st.dec.Allowed {
			if len(recs) < 4 {
				recs = append(recs, s.recordLocked(st, outcome))
			}
		} else {
			allowed = true
		}
	}
	changed := s.req.Changes || s.wrote || s.note != nil
	switch {
	case !changed:
	case s.committed && outcome == OK:
		// On the record already, in the change's transaction.
	case allowed:
		main, _ := s.mainLocked()
		recs = append(recs, s.recordLocked(main, outcome))
	case len(s.steps) == 0:
		// Refused before anything was decided (bad input, no principal).
		recs = append(recs, s.recordLocked(step{}, outcome))
	}
	s.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	for _, r := range recs {
		if err := s.log.write(ctx, r); err != nil {
			s.log.log.Error("audit record lost", "rid", r.RequestID, "action", r.Action, "err", err)
		}
	}
}

// matches reports whether r passes q's filters.
func (q Query) matches(r Record) bool {
	if q.User != "" && r.User != q.User {
		return false
	}
	if q.Action != "" {
		if ok, _ := path.Match(q.Action, r.Action); !ok {
			return false
		}
	}
	if q.Path != "" && q.Path != "/" {
		if r.Resource != q.Path && !strings.HasPrefix(r.Resource, q.Path+"/") {
			return false
		}
	} else if q.Path == "/" && !strings.HasPrefix(r.Resource, "/") {
		return false
	}
	return true
}

// Wrap returns m with the audit log's part in writes: a write made in a
// request's scope marks the request as a change, and the first
// transaction of the change carries its record (outcome OK), so that on
// DynamoDB the record costs no request of its own. The core's metadata
// store is wrapped once, where the core is assembled.
func Wrap(m meta.Store) meta.Store { return store{m} }

type store struct{ meta.Store }

func (w store) Put(ctx context.Context, it meta.Item, c meta.Cond) (int64, error) {
	w.mark(ctx)
	return w.Store.Put(ctx, it, c)
}

func (w store) Delete(ctx context.Context, pk, sk string, c meta.Cond) error {
	w.mark(ctx)
	return w.Store.Delete(ctx, pk, sk, c)
}

func (w store) Add(ctx context.Context, pk, sk string, delta int64) (int64, error) {
	w.mark(ctx)
	return w.Store.Add(ctx, pk, sk, delta)
}

func (w store) mark(ctx context.Context) {
	if s := from(ctx); s != nil {
		s.mu.Lock()
		if !s.closed {
			s.wrote = true
		}
		s.mu.Unlock()
	}
}

func (w store) Transact(ctx context.Context, ops []meta.Op) error {
	s := from(ctx)
	if s == nil {
		return w.Store.Transact(ctx, ops)
	}
	r, ok := s.wroteNow()
	if !ok {
		return w.Store.Transact(ctx, ops)
	}
	it, err := s.log.item(ctx, r)
	if err != nil {
		return w.Store.Transact(ctx, ops)
	}
	with := append(ops[:len(ops):len(ops)], meta.Put(it, meta.MustNew))
	if meta.ValidateOps(with) != nil {
		// No room: Finish writes the record on its own.
		return w.Store.Transact(ctx, ops)
	}
	if err := w.Store.Transact(ctx, with); err != nil {
		return err
	}
	s.markCommitted()
	return nil
}
