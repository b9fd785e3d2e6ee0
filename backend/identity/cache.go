package identity

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
)

// PolicyTTL bounds how long a server goes on deciding with policies
// another server changed, or taking a token another server revoked:
// every change of policies, a revoked token, a deleted user adds one to a
// counter in the store, and each server reads the counter at most once
// per PolicyTTL and drops what it cached when it moved. A change made
// through this server applies to its next request. So the servers agree
// within PolicyTTL of a change, and no request pays a metadata read for
// its token or its policies but the first of a principal after a change.
const PolicyTTL = 2 * time.Second

// policyCache holds what the policies of principals compile to. Its lock
// is never held across a read of the store.
type policyCache struct {
	mu      sync.Mutex
	gen     uint64    // changes when the entries are dropped
	ver     int64     // the counter the entries were read at
	checked time.Time // when the counter was last read
	users   map[string]*iam.PolicySet
	session map[string]*iam.Policy // by token ID; nil entry: none
	docs    map[string]cachedPolicy
	auth    map[string]authRec // tokens found, by their hash

	refreshMu sync.Mutex // one read of the counter at a time
}

type cachedPolicy struct {
	updated int64
	p       *iam.Policy
}

// authRec is what Authenticate needs of a token found in the store: the
// token's item and its user's profile, as they were read.
type authRec struct {
	hash            string // the token's hash, as stored
	userID, tokenID string
	name            string
	admin           bool
	expires         int64 // unix nanoseconds, 0 for never
	via             string
}

// sessionCacheMax bounds the cached session policies (tokens are many,
// and their session policies never change), authCacheMax the tokens.
const (
	sessionCacheMax = 10000
	authCacheMax    = 10000
)

// invalidate drops the cached policies of users and the tokens found (a
// change made here).
func (c *policyCache) invalidate() {
	c.mu.Lock()
	c.users, c.auth, c.checked = nil, nil, time.Time{}
	c.gen++
	c.mu.Unlock()
}

// cachedAuth is the token with hash h as found in the store, if the cache
// holds it.
func (c *policyCache) cachedAuth(h string) (authRec, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.auth[h]
	return a, ok
}

// forget drops the token with hash h (revoked here). The generation moves
// too, so that a read of it under way is not kept (keepAuth).
func (c *policyCache) forget(h string) {
	c.mu.Lock()
	delete(c.auth, h)
	c.gen++
	c.mu.Unlock()
}

// keepAuth caches a token read while the cache was at generation gen: a
// token read before a change (a revoke) is not kept after it.
func (c *policyCache) keepAuth(gen uint64, h string, a authRec) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if c.auth == nil || len(c.auth) >= authCacheMax {
		c.auth = map[string]authRec{}
	}
	c.auth[h] = a
}

// fresh makes sure the cache is no older than PolicyTTL, reading the
// store's counter if it is, and returns its generation.
func (s *Service) fresh(ctx context.Context) (uint64, error) {
	c := &s.cache
	stale := func(now time.Time) bool {
		return c.users == nil || now.Sub(c.checked) >= PolicyTTL || now.Before(c.checked)
	}
	c.mu.Lock()
	if !stale(s.now()) {
		defer c.mu.Unlock()
		return c.gen, nil
	}
	c.mu.Unlock()
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	c.mu.Lock()
	if !stale(s.now()) { // another request read it meanwhile
		defer c.mu.Unlock()
		return c.gen, nil
	}
	c.mu.Unlock()
	it, err := s.meta.Get(ctx, pkConfig, skPolicyVer)
	if err != nil && !record.IsNotFound(err) {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.users == nil || it.N != c.ver {
		c.users, c.auth, c.ver = map[string]*iam.PolicySet{}, nil, it.N
		c.gen++
	}
	c.checked = s.now()
	return c.gen, nil
}

// Policies implements iam.PolicySource: the policies attached to the user
// and to their groups, and the session policy of the token, from the
// cache while the store's policies have not changed.
func (s *Service) Policies(pr iam.Principal) (*iam.PolicySet, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := &s.cache
	gen, err := s.fresh(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	set := c.users[pr.UserID]
	sp, haveSession := c.session[pr.TokenID]
	c.mu.Unlock()
	if set == nil {
		if set, err = s.loadPolicies(ctx, pr.UserID); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.gen == gen {
			c.users[pr.UserID] = set
		}
		c.mu.Unlock()
	}
	if pr.TokenID == "" {
		return set, nil
	}
	if !haveSession {
		ref, _, err := record.Get[tokenRefRec](ctx, s.meta, userPK(pr.UserID), tokenSK(pr.TokenID))
		if err != nil && !record.IsNotFound(err) {
			return nil, err
		}
		if ref.Session != "" {
			if sp, err = iam.Parse("session", []byte(ref.Session)); err != nil {
				return nil, fmt.Errorf("session policy of token %s: %w", pr.TokenID, err)
			}
		}
		c.mu.Lock()
		if c.session == nil || len(c.session) >= sessionCacheMax {
			c.session = map[string]*iam.Policy{}
		}
		c.session[pr.TokenID] = sp
		c.mu.Unlock()
	}
	if sp == nil {
		return set, nil
	}
	return &iam.PolicySet{Identity: set.Identity, Session: sp}, nil
}

// loadPolicies reads the policies of user id and of their groups.
func (s *Service) loadPolicies(ctx context.Context, id string) (*iam.PolicySet, error) {
	names := map[string]bool{}
	var groups []string
	err := s.eachItem(ctx, userPK(id), "", func(it meta.Item) error {
		switch k := it.SK; {
		case len(k) > len(polPrefix) && k[:len(polPrefix)] == polPrefix:
			names[k[len(polPrefix):]] = true
		case len(k) > len(grpPrefix) && k[:len(grpPrefix)] == grpPrefix:
			groups = append(groups, k[len(grpPrefix):])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if err := s.eachItem(ctx, groupPK(g), polPrefix, func(it meta.Item) error {
			names[it.SK[len(polPrefix):]] = true
			return nil
		}); err != nil {
			return nil, err
		}
	}
	set := &iam.PolicySet{}
	for name := range names {
		p, err := s.compiled(ctx, name)
		if err != nil {
			return nil, err
		}
		if p != nil {
			set.Identity = append(set.Identity, p)
		}
	}
	return set, nil
}

// compiled is the policy name as compiled, nil if it is gone; a document
// that did not change is compiled once.
func (s *Service) compiled(ctx context.Context, name string) (*iam.Policy, error) {
	rec, _, err := record.Get[policyRec](ctx, s.meta, pkPolicies, policySK+name)
	if record.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c := &s.cache
	c.mu.Lock()
	cp, ok := c.docs[name]
	c.mu.Unlock()
	if ok && cp.updated == rec.Updated {
		return cp.p, nil
	}
	p, err := iam.Parse(name, []byte(rec.Doc))
	if err != nil {
		return nil, fmt.Errorf("stored policy %s: %w", name, err)
	}
	c.mu.Lock()
	if c.docs == nil {
		c.docs = map[string]cachedPolicy{}
	}
	c.docs[name] = cachedPolicy{updated: rec.Updated, p: p}
	c.mu.Unlock()
	return p, nil
}

// Simulate decides, as the server would, whether the user may do act on
// res (over the entry point via; "" for the API) with the policies that
// apply to them now, and which statement decided (like aws iam
// simulate-principal-policy).
func (s *Service) Simulate(ctx context.Context, pr iam.Principal, user, via string, act iam.Action, res iam.Resource, req iam.Request) (iam.Decision, error) {
	if err := s.allow(ctx, pr, iam.ManagePolicies, iam.PolicyNamed("*")); err != nil {
		return iam.Decision{}, err
	}
	u, err := s.lookupUser(ctx, user)
	if err != nil {
		return iam.Decision{}, err
	}
	if req.Time.IsZero() {
		req.Time = s.now()
	}
	set, err := s.loadPolicies(ctx, u.ID)
	if err != nil {
		return iam.Decision{}, err
	}
	who := iam.User(u.ID, u.Name, u.Admin, "")
	if via != "" {
		who.Via = via
	}
	return set.Evaluate(who, act, res, req), nil
}
