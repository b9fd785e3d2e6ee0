package iam

import (
	"fmt"
	"strings"
	"time"
)

// PolicySet is what applies to a principal: the identity policies
// attached to the user and to their groups, and the session policy of
// the token the request came with, if it has one.
type PolicySet struct {
	Identity []*Policy
	// Session, when set, can only narrow: an action must be allowed by
	// the identity policies and by it (as an STS session policy).
	Session *Policy
}

// The reasons of the decisions no statement makes.
const (
	reasonNoPrincipal     = "no principal"
	reasonUnknownAction   = "unknown action"
	reasonImplicit        = "implicitly denied: no policy allows it"
	reasonSessionImplicit = "implicitly denied: the session policy does not allow it"
	reasonSelf            = "a user may always say who they are"
)

// Evaluate decides as AWS does for identity-based and session policies:
//
//  1. a Deny statement that applies, in any of the policies, denies
//     (an explicit deny);
//  2. otherwise an Allow that applies in the identity policies allows,
//     provided that, when there is a session policy, an Allow of the
//     session policy applies too;
//  3. otherwise the request is denied (an implicit deny).
//
// A statement applies when its Action (or NotAction) covers act, its
// Resource (or NotResource) covers res, and its Condition holds. The
// decision names the statement that decided. A nil set denies
// everything. Evaluate allocates nothing for a path resource.
func (s *PolicySet) Evaluate(pr Principal, act Action, res Resource, req Request) Decision {
	if !pr.Authenticated() {
		return Decision{Reason: reasonNoPrincipal}
	}
	ai, ok := actionIndex[act]
	if !ok {
		return Decision{Reason: reasonUnknownAction}
	}
	subject := resourceSubject(res)
	if s == nil {
		s = &PolicySet{}
		if req.Grant == nil {
			return Decision{Reason: reasonImplicit}
		}
	}
	e := evaluation{
		act: ai, subject: subject,
		vars: vars{username: pr.Name, userid: pr.UserID},
		r:    request{pr: &pr, req: &req},
	}
	var allow, sessionAllow *statement
	for _, p := range s.Identity {
		if p == nil {
			continue
		}
		if deny := e.policy(p, &allow); deny != nil {
			return Decision{Reason: deny.reason, Statement: &deny.ref}
		}
	}
	if req.Grant != nil {
		if deny := e.policy(req.Grant, &allow); deny != nil {
			return Decision{Reason: deny.reason, Statement: &deny.ref}
		}
	}
	if s.Session != nil {
		if deny := e.policy(s.Session, &sessionAllow); deny != nil {
			return Decision{Reason: deny.reason, Statement: &deny.ref}
		}
	}
	switch {
	case allow == nil:
		return Decision{Reason: reasonImplicit}
	case s.Session != nil && sessionAllow == nil:
		return Decision{Reason: reasonSessionImplicit}
	}
	d := Decision{Allowed: true, Reason: allow.reason, Statement: &allow.ref}
	if sessionAllow != nil {
		d.SessionStatement = &sessionAllow.ref
	}
	return d
}

// evaluation is one decision under way.
type evaluation struct {
	act     int
	subject string
	vars    vars
	r       request
}

// policy walks p's statements: it returns the first Deny that applies,
// or nil, having set *allow to the first Allow that applies if none was
// found before (once one is, only Deny statements still matter).
func (e *evaluation) policy(p *Policy, allow **statement) *statement {
	for i := range p.stmts {
		st := &p.stmts[i]
		if !st.deny && *allow != nil {
			continue
		}
		if !st.actions.has(e.act) || !st.matchResource(e.subject, &e.vars) || !e.conditions(st) {
			continue
		}
		if st.deny {
			return st
		}
		*allow = st
	}
	return nil
}

func (e *evaluation) conditions(st *statement) bool {
	for i := range st.conds {
		if !st.conds[i].eval(&e.r, &e.vars) {
			return false
		}
	}
	return true
}

// resourceSubject is the name a policy's Resource patterns match: the
// path, or strata:<kind>/<owner>/<id>. An owner is a user name, which
// holds no "/" or "%"; an owner named in a request might, and its "/"
// would let it pose as another owner (strata:trash/alice/x/* matches
// strata:trash/alice/*), so those two are escaped as in a URL.
func resourceSubject(res Resource) string {
	if res.Kind == KindPath {
		return res.Path.String()
	}
	if strings.ContainsAny(res.Owner, "/%") {
		res.Owner = ownerEscaper.Replace(res.Owner)
	}
	return res.String()
}

var ownerEscaper = strings.NewReplacer("%", "%25", "/", "%2F")

// PolicySource finds the policies that apply to a principal: the
// identity policies of the user and their groups, and the session policy
// of their token. The server's source reads them from storage, through a
// cache.
type PolicySource interface {
	Policies(pr Principal) (*PolicySet, error)
}

// PolicySourceFunc is a function as a PolicySource.
type PolicySourceFunc func(pr Principal) (*PolicySet, error)

// Policies implements PolicySource.
func (f PolicySourceFunc) Policies(pr Principal) (*PolicySet, error) { return f(pr) }

// PolicyDecider is the Decider of policies: it asks its source for the
// principal's policies and evaluates them. When the source fails it
// denies (fails closed), with the error in the decision.
type PolicyDecider struct {
	src PolicySource
	now func() time.Time
}

var _ Decider = (*PolicyDecider)(nil)

// NewPolicyDecider makes a decider of the policies src finds. now is the
// clock strata:CurrentTime reads when a request carries no time (nil:
// time.Now).
func NewPolicyDecider(src PolicySource, now func() time.Time) *PolicyDecider {
	if now == nil {
		now = time.Now
	}
	return &PolicyDecider{src: src, now: now}
}

// Decide implements Decider.
func (d *PolicyDecider) Decide(pr Principal, act Action, res Resource, req Request) Decision {
	if !pr.Authenticated() {
		return Decision{Reason: reasonNoPrincipal}
	}
	// As AWS's GetCallerIdentity, which no policy can deny: a token must
	// be able to say whose it is (logging in with it asks), whatever its
	// session policy or a Deny says.
	if act == GetUser && pr.Kind == KindUser && res == UserNamed(pr.Name) {
		return Decision{Allowed: true, Reason: reasonSelf}
	}
	set, err := d.src.Policies(pr)
	if err != nil {
		return Decision{Reason: "policies unavailable: " + err.Error(), Err: fmt.Errorf("policies of %s: %w", pr.Name, err)}
	}
	if req.Time.IsZero() {
		req.Time = d.now()
	}
	return set.Evaluate(pr, act, res, req)
}
