package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/clip"
	"github.com/strata-storage/strata/internal/lazyregexp"
)

// Policies, groups and what is attached to what, in the metadata store:
//
//	(policies, p#<name>)            the policy's document
//	(groups, g#<name>)              a group
//	(group#<name>, m#<userID>)      a member (and (user#<id>, grp#<name>))
//	(user#<id>, pol#<policy>)       a policy attached to a user
//	(group#<name>, pol#<policy>)    a policy attached to a group
//	(policy#<name>, u#<userID>)     who a policy is attached to, to refuse
//	(policy#<name>, g#<group>)      deleting one in use
//	(config, policies)              a counter every change adds one to
//
// Every change is one transaction that also adds one to the counter, which
// is how servers notice that their cached policies are stale (see cache).
const (
	pkPolicies   = "policies"
	pkGroups     = "groups"
	policySK     = "p#"
	groupSK      = "g#"
	memberPrefix = "m#"
	polPrefix    = "pol#"
	grpPrefix    = "grp#"
	attUser      = "u#"
	attGroup     = "g#"
	pkConfig     = "config"
	skPolicyVer  = "policies"
	skPoliciesV1 = "policies-migrated"

	// AdminsGroup is the built-in group whose members may do anything
	// (the built-in admin policy is attached to it).
	AdminsGroup = "admins"
)

func groupPK(name string) string  { return "group#" + name }
func policyPK(name string) string { return "policy#" + name }

// bumpPolicies is the write every change of policies makes, and every
// revoked token and deleted user (PolicyTTL).
func bumpPolicies() meta.Op { return meta.Add(pkConfig, skPolicyVer, 1, meta.NoCond) }

type policyRec struct {
	Doc     string `json:"doc"`
	Created int64  `json:"c"`
	Updated int64  `json:"u"`
	// Stock: the document is a built-in one as a server wrote it, so a
	// later version may replace it with its own; Edited: an administrator
	// wrote it (PutPolicy), and no version replaces it.
	Stock  bool `json:"s,omitempty"`
	Edited bool `json:"e,omitempty"`
}

type groupRec struct {
	Created int64 `json:"c"`
}

type memberRec struct {
	Name string `json:"n,omitempty"` // the user's or group's name, for listing
}

// ErrInUse: a policy or group that something still refers to, or the
// last admin.
// It is an errs.ErrConflict (the API's conflict) without that error's
// words: nothing changed meanwhile, and trying again will not help.
var ErrInUse error = inUse{}

type inUse struct{}

func (inUse) Error() string        { return "in use" }
func (inUse) Is(target error) bool { return target == errs.ErrConflict }

var groupNameRE = lazyregexp.New(`^[A-Za-z0-9+=,.@_-]{1,128}$`)

// ValidGroupName checks a group name: 1 to 128 of A-Z a-z 0-9 and
// +=,.@_- (as AWS IAM's).
func ValidGroupName(name string) error {
	if !groupNameRE().MatchString(name) {
		return fmt.Errorf("%w: group name %q: 1 to 128 letters, digits and +=,.@_-", errs.ErrInvalid, clip.Text(name))
	}
	return nil
}

// PolicyInfo describes a policy.
type PolicyInfo struct {
	Name     string    `json:"name"`
	Document string    `json:"document,omitempty"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	// Users and Groups it is attached to.
	Users  []string `json:"users"`
	Groups []string `json:"groups"`
	// BuiltIn says the store made it (it can be changed, not deleted).
	BuiltIn bool `json:"builtIn,omitempty"`
}

// GroupInfo describes a group.
type GroupInfo struct {
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	Members  []string  `json:"members"`
	Policies []string  `json:"policies"`
}

func builtIn(name string) bool { return name == iam.HomePolicyName || name == iam.AdminPolicyName }

// PutPolicy stores a policy document under name: a new one (create), or
// a new document for an existing one. The document is checked whole
// before anything is stored; its errors say where and why.
func (s *Service) PutPolicy(ctx context.Context, pr iam.Principal, name string, doc []byte, create bool) (PolicyInfo, error) {
	if err := s.allow(ctx, pr, iam.ManagePolicies, iam.PolicyNamed(name)); err != nil {
		return PolicyInfo{}, err
	}
	if err := iam.ValidPolicyName(name); err != nil {
		return PolicyInfo{}, err
	}
	if _, err := iam.Parse(name, doc); err != nil {
		return PolicyInfo{}, err
	}
	now := record.Nanos(s.now())
	rec := policyRec{Doc: string(doc), Created: now, Updated: now, Edited: true}
	cond := meta.MustNew
	if !create {
		old, it, err := record.Get[policyRec](ctx, s.meta, pkPolicies, policySK+name)
		if record.IsNotFound(err) {
			return PolicyInfo{}, fmt.Errorf("policy %s: %w", name, errs.ErrNotFound)
		}
		if err != nil {
			return PolicyInfo{}, err
		}
		rec.Created, cond = old.Created, meta.AtVersion(it.Version)
	}
	err := s.meta.Transact(ctx, []meta.Op{meta.Put(record.Item(pkPolicies, policySK+name, rec), cond), bumpPolicies()})
	switch {
	case record.IsConflict(err) && create:
		return PolicyInfo{}, fmt.Errorf("policy %s: %w", name, errs.ErrExists)
	case record.IsConflict(err):
		return PolicyInfo{}, fmt.Errorf("policy %s: %w", name, errs.ErrConflict)
	case err != nil:
		return PolicyInfo{}, errs.FromStore("store policy", err)
	}
	s.cache.invalidate()
	return s.policyInfo(ctx, name, rec, true)
}

func (s *Service) policyInfo(ctx context.Context, name string, rec policyRec, withDoc bool) (PolicyInfo, error) {
	pi := PolicyInfo{Name: name, Created: record.FromNanos(rec.Created), Updated: record.FromNanos(rec.Updated),
		Users: []string{}, Groups: []string{}, BuiltIn: builtIn(name)}
	if withDoc {
		pi.Document = rec.Doc
	}
	err := s.eachItem(ctx, policyPK(name), "", func(it meta.Item) error {
		m, err := record.Decode[memberRec](it)
		if err != nil {
			return err
		}
		if strings.HasPrefix(it.SK, attUser) {
			pi.Users = append(pi.Users, m.Name)
		} else {
			pi.Groups = append(pi.Groups, strings.TrimPrefix(it.SK, attGroup))
		}
		return nil
	})
	sort.Strings(pi.Users)
	return pi, err
}

// GetPolicy describes a policy with its document.
func (s *Service) GetPolicy(ctx context.Context, pr iam.Principal, name string) (PolicyInfo, error) {
	if err := s.allow(ctx, pr, iam.ManagePolicies, iam.PolicyNamed(name)); err != nil {
		return PolicyInfo{}, err
	}
	rec, _, err := record.Get[policyRec](ctx, s.meta, pkPolicies, policySK+name)
	if record.IsNotFound(err) {
		return PolicyInfo{}, fmt.Errorf("policy %s: %w", clip.Text(name), errs.ErrNotFound)
	}
	if err != nil {
		return PolicyInfo{}, err
	}
	return s.policyInfo(ctx, name, rec, true)
}

// ListPolicies lists the policies by name, without their documents.
func (s *Service) ListPolicies(ctx context.Context, pr iam.Principal) ([]PolicyInfo, error) {
	if err := s.allow(ctx, pr, iam.ManagePolicies, iam.PolicyNamed("*")); err != nil {
		return nil, err
	}
	out := []PolicyInfo{}
	err := s.eachItem(ctx, pkPolicies, policySK, func(it meta.Item) error {
		rec, err := record.Decode[policyRec](it)
		if err != nil {
			return err
		}
		pi, err := s.policyInfo(ctx, strings.TrimPrefix(it.SK, policySK), rec, false)
		out = append(out, pi)
		return err
	})
	return out, err
}

// DeletePolicy deletes a policy that nothing is attached to. The built-in
// ones stay (their documents can be changed).
func (s *Service) DeletePolicy(ctx context.Context, pr iam.Principal, name string) error {
	if err := s.allow(ctx, pr, iam.ManagePolicies, iam.PolicyNamed(name)); err != nil {
		return err
	}
	if builtIn(name) {
		return fmt.Errorf("%w: policy %s is built in: change its document instead", ErrInUse, name)
	}
	rec, it, err := record.Get[policyRec](ctx, s.meta, pkPolicies, policySK+name)
	if record.IsNotFound(err) {
		return fmt.Errorf("policy %s: %w", clip.Text(name), errs.ErrNotFound)
	}
	if err != nil {
		return err
	}
	pi, err := s.policyInfo(ctx, name, rec, false)
	if err != nil {
		return err
	}
	if len(pi.Users)+len(pi.Groups) > 0 {
		return fmt.Errorf("%w: policy %s is attached to %s: detach it first", ErrInUse, name, who(pi.Users, pi.Groups))
	}
	// The (policy#<name>) partition must still be empty when it goes: an
	// attach racing the delete fails on the policy's version or makes
	// this fail on the partition's check below.
	err = s.meta.Transact(ctx, []meta.Op{meta.Delete(pkPolicies, policySK+name, meta.AtVersion(it.Version)), bumpPolicies()})
	if record.IsConflict(err) {
		return fmt.Errorf("policy %s: %w", name, errs.ErrConflict)
	}
	if err != nil {
		return errs.FromStore("delete policy", err)
	}
	s.cache.invalidate()
	return nil
}

func who(users, groups []string) string {
	var parts []string
	if len(users) > 0 {
		parts = append(parts, "users "+strings.Join(users, ", "))
	}
	if len(groups) > 0 {
		parts = append(parts, "groups "+strings.Join(groups, ", "))
	}
	return strings.Join(parts, " and ")
}

// Target names what a policy is attached to: a user or a group.
type Target struct {
	User  string
	Group string
}

// attachOps are the writes that attach (or detach) policy to t, with the
// conditions that both exist.
func (s *Service) attachOps(ctx context.Context, policy string, t Target, attach bool) ([]meta.Op, error) {
	pit, err := s.meta.Get(ctx, pkPolicies, policySK+policy)
	if record.IsNotFound(err) {
		return nil, fmt.Errorf("policy %s: %w", clip.Text(policy), errs.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	ops := []meta.Op{meta.Check(pkPolicies, policySK+policy, meta.AtVersion(pit.Version)), bumpPolicies()}
	put := func(pk, sk string, v any) meta.Op {
		if attach {
			return meta.Put(record.Item(pk, sk, v), meta.NoCond)
		}
		return meta.Delete(pk, sk, meta.NoCond)
	}
	switch {
	case t.User != "" && t.Group == "":
		u, err := s.lookupUser(ctx, t.User)
		if err != nil {
			return nil, err
		}
		ops = append(ops, meta.Check(userPK(u.ID), skProfile, meta.MustLive),
			put(userPK(u.ID), polPrefix+policy, memberRec{}),
			put(policyPK(policy), attUser+u.ID, memberRec{Name: u.Name}))
	case t.Group != "" && t.User == "":
		if err := s.groupExists(ctx, t.Group); err != nil {
			return nil, err
		}
		ops = append(ops, meta.Check(pkGroups, groupSK+t.Group, meta.MustLive),
			put(groupPK(t.Group), polPrefix+policy, memberRec{}),
			put(policyPK(policy), attGroup+t.Group, memberRec{Name: t.Group}))
	default:
		return nil, fmt.Errorf("%w: name a user or a group", errs.ErrInvalid)
	}
	return ops, nil
}

// AttachPolicy attaches a policy to a user or a group.
func (s *Service) AttachPolicy(ctx context.Context, pr iam.Principal, policy string, t Target) error {
	return s.attach(ctx, pr, policy, t, true)
}

// DetachPolicy detaches a policy from a user or a group. Detaching the
// admin policy from the admins group is refused: it would leave no admin.
func (s *Service) DetachPolicy(ctx context.Context, pr iam.Principal, policy string, t Target) error {
	if policy == iam.AdminPolicyName && t.Group == AdminsGroup {
		return fmt.Errorf("%w: the admins group keeps the admin policy (it would leave no admin)", ErrInUse)
	}
	return s.attach(ctx, pr, policy, t, false)
}

func (s *Service) attach(ctx context.Context, pr iam.Principal, policy string, t Target, attach bool) error {
	if err := s.allow(ctx, pr, iam.ManagePolicies, iam.PolicyNamed(policy)); err != nil {
		return err
	}
	_, err := record.Optimistic(ctx, "attach "+policy, func() (struct{}, error) {
		ops, err := s.attachOps(ctx, policy, t, attach)
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, s.meta.Transact(ctx, ops)
	})
	if err != nil {
		return errs.FromStore("attach policy", err)
	}
	s.cache.invalidate()
	return nil
}

func (s *Service) groupExists(ctx context.Context, name string) error {
	if ValidGroupName(name) != nil {
		return fmt.Errorf("group %s: %w", clip.Text(name), errs.ErrNotFound)
	}
	_, err := s.meta.Get(ctx, pkGroups, groupSK+name)
	if record.IsNotFound(err) {
		return fmt.Errorf("group %s: %w", name, errs.ErrNotFound)
	}
	return err
}

// CreateGroup makes an empty group.
func (s *Service) CreateGroup(ctx context.Context, pr iam.Principal, name string) error {
	if err := s.allow(ctx, pr, iam.ManageGroups, iam.GroupNamed(name)); err != nil {
		return err
	}
	if err := ValidGroupName(name); err != nil {
		return err
	}
	return s.createGroup(ctx, name)
}

func (s *Service) createGroup(ctx context.Context, name string) error {
	err := s.meta.Transact(ctx, []meta.Op{
		meta.Put(record.Item(pkGroups, groupSK+name, groupRec{Created: record.Nanos(s.now())}), meta.MustNew), bumpPolicies()})
	if record.IsConflict(err) {
		return fmt.Errorf("group %s: %w", name, errs.ErrExists)
	}
	return errs.FromStore("create group", err)
}

// ListGroups lists the groups with their members and policies.
func (s *Service) ListGroups(ctx context.Context, pr iam.Principal) ([]GroupInfo, error) {
	if err := s.allow(ctx, pr, iam.ManageGroups, iam.GroupNamed("*")); err != nil {
		return nil, err
	}
	out := []GroupInfo{}
	err := s.eachItem(ctx, pkGroups, groupSK, func(it meta.Item) error {
		rec, err := record.Decode[groupRec](it)
		if err != nil {
			return err
		}
		gi, err := s.groupInfo(ctx, strings.TrimPrefix(it.SK, groupSK), rec)
		out = append(out, gi)
		return err
	})
	return out, err
}

func (s *Service) groupInfo(ctx context.Context, name string, rec groupRec) (GroupInfo, error) {
	gi := GroupInfo{Name: name, Created: record.FromNanos(rec.Created), Members: []string{}, Policies: []string{}}
	err := s.eachItem(ctx, groupPK(name), "", func(it meta.Item) error {
		switch {
		case strings.HasPrefix(it.SK, memberPrefix):
			m, err := record.Decode[memberRec](it)
			if err != nil {
				return err
			}
			gi.Members = append(gi.Members, m.Name)
		case strings.HasPrefix(it.SK, polPrefix):
			gi.Policies = append(gi.Policies, strings.TrimPrefix(it.SK, polPrefix))
		}
		return nil
	})
	sort.Strings(gi.Members)
	return gi, err
}

// DeleteGroup deletes a group with no members and no policies (as IAM
// does); the admins group stays.
func (s *Service) DeleteGroup(ctx context.Context, pr iam.Principal, name string) error {
	if err := s.allow(ctx, pr, iam.ManageGroups, iam.GroupNamed(name)); err != nil {
		return err
	}
	if name == AdminsGroup {
		return fmt.Errorf("%w: the admins group is built in", ErrInUse)
	}
	rec, it, err := record.Get[groupRec](ctx, s.meta, pkGroups, groupSK+name)
	if record.IsNotFound(err) || ValidGroupName(name) != nil {
		return fmt.Errorf("group %s: %w", clip.Text(name), errs.ErrNotFound)
	}
	if err != nil {
		return err
	}
	gi, err := s.groupInfo(ctx, name, rec)
	if err != nil {
		return err
	}
	if len(gi.Members)+len(gi.Policies) > 0 {
		return fmt.Errorf("%w: group %s has %d members and %d policies: remove them first", ErrInUse, name, len(gi.Members), len(gi.Policies))
	}
	if err := s.meta.Transact(ctx, []meta.Op{meta.Delete(pkGroups, groupSK+name, meta.AtVersion(it.Version)), bumpPolicies()}); err != nil {
		return errs.FromStore("delete group", err)
	}
	s.cache.invalidate()
	return nil
}

// membershipOps are the writes that put user u in group g (or take them
// out), keeping the user's admin mark in step with the admins group.
func (s *Service) membershipOps(ctx context.Context, group string, u User, in bool) ([]meta.Op, error) {
	rec, it, err := record.Get[userRec](ctx, s.meta, userPK(u.ID), skProfile)
	if err != nil {
		return nil, err
	}
	ops := []meta.Op{meta.Check(pkGroups, groupSK+group, meta.MustLive), bumpPolicies()}
	if in {
		ops = append(ops, meta.Put(record.Item(groupPK(group), memberPrefix+u.ID, memberRec{Name: u.Name}), meta.NoCond),
			meta.Put(record.Item(userPK(u.ID), grpPrefix+group, memberRec{Name: group}), meta.NoCond))
	} else {
		ops = append(ops, meta.Delete(groupPK(group), memberPrefix+u.ID, meta.NoCond),
			meta.Delete(userPK(u.ID), grpPrefix+group, meta.NoCond))
	}
	if group == AdminsGroup && rec.Admin != in {
		rec.Admin = in
		ops = append(ops, meta.Put(record.Item(userPK(u.ID), skProfile, rec), meta.AtVersion(it.Version)))
	} else {
		ops = append(ops, meta.Check(userPK(u.ID), skProfile, meta.AtVersion(it.Version)))
	}
	return ops, nil
}

// AddToGroup puts a user in a group.
func (s *Service) AddToGroup(ctx context.Context, pr iam.Principal, group, user string) error {
	return s.changeMembership(ctx, pr, group, user, true)
}

// RemoveFromGroup takes a user out of a group; the last member of the
// admins group stays.
func (s *Service) RemoveFromGroup(ctx context.Context, pr iam.Principal, group, user string) error {
	return s.changeMembership(ctx, pr, group, user, false)
}

func (s *Service) changeMembership(ctx context.Context, pr iam.Principal, group, user string, in bool) error {
	if err := s.allow(ctx, pr, iam.ManageGroups, iam.GroupNamed(group)); err != nil {
		return err
	}
	if err := s.groupExists(ctx, group); err != nil {
		return err
	}
	u, err := s.lookupUser(ctx, user)
	if err != nil {
		return err
	}
	_, err = record.Optimistic(ctx, "group "+group, func() (struct{}, error) {
		ops, err := s.membershipOps(ctx, group, u, in)
		if err != nil {
			return struct{}{}, err
		}
		if !in && group == AdminsGroup {
			guard, err := s.notLastAdmin(ctx, u.ID)
			if err != nil {
				return struct{}{}, err
			}
			ops = append(ops, guard...)
		}
		return struct{}{}, s.meta.Transact(ctx, ops)
	})
	if err != nil {
		return errs.FromStore("change group", err)
	}
	s.cache.invalidate()
	return nil
}

// notLastAdmin refuses to leave the admins group without the user id, and
// returns the conditions that the other admins it counted stay.
func (s *Service) notLastAdmin(ctx context.Context, id string) ([]meta.Op, error) {
	var others []meta.Op
	err := s.eachItem(ctx, groupPK(AdminsGroup), memberPrefix, func(it meta.Item) error {
		if it.SK != memberPrefix+id && len(others) == 0 {
			others = append(others, meta.Check(it.PK, it.SK, meta.AtVersion(it.Version)))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(others) == 0 {
		return nil, fmt.Errorf("%w: the last admin stays an admin (make another admin first)", ErrInUse)
	}
	return others, nil
}

// eachItem calls fn for every item of the partition pk whose sort key has
// prefix, in order.
func (s *Service) eachItem(ctx context.Context, pk, prefix string, fn func(meta.Item) error) error {
	return record.Each(ctx, s.meta, pk, prefix, fn)
}

// userAccessOps are what a new user starts with: the home policy, and the
// admins group for an admin.
func userAccessOps(id, name string, admin bool) []meta.Op {
	ops := []meta.Op{
		meta.Put(record.Item(userPK(id), polPrefix+iam.HomePolicyName, memberRec{}), meta.NoCond),
		meta.Put(record.Item(policyPK(iam.HomePolicyName), attUser+id, memberRec{Name: name}), meta.NoCond),
		bumpPolicies(),
	}
	if admin {
		ops = append(ops,
			meta.Put(record.Item(groupPK(AdminsGroup), memberPrefix+id, memberRec{Name: name}), meta.NoCond),
			meta.Put(record.Item(userPK(id), grpPrefix+AdminsGroup, memberRec{Name: AdminsGroup}), meta.NoCond))
	}
	return ops
}

// userGoneOps are the writes that take a deleted user out of every group
// and every attachment, found in the user's own partition.
func (s *Service) userGoneOps(ctx context.Context, id string) ([]meta.Op, error) {
	var ops []meta.Op
	err := s.eachItem(ctx, userPK(id), "", func(it meta.Item) error {
		switch {
		case strings.HasPrefix(it.SK, grpPrefix):
			g := strings.TrimPrefix(it.SK, grpPrefix)
			ops = append(ops, meta.Delete(groupPK(g), memberPrefix+id, meta.NoCond), meta.Delete(it.PK, it.SK, meta.NoCond))
		case strings.HasPrefix(it.SK, polPrefix):
			p := strings.TrimPrefix(it.SK, polPrefix)
			ops = append(ops, meta.Delete(policyPK(p), attUser+id, meta.NoCond), meta.Delete(it.PK, it.SK, meta.NoCond))
		}
		return nil
	})
	return ops, err
}

// ensureBuiltins makes the built-in policies and the admins group of a
// store that lacks them, and moves the users of a store made before
// policies onto them once: each user gets the home policy, each admin
// the admins group. What is there already is left as it is (an admin may
// have changed the built-in documents).
func (s *Service) ensureBuiltins(ctx context.Context) error {
	if _, err := s.meta.Get(ctx, pkConfig, skPoliciesV1); err == nil {
		return s.upgradeBuiltins(ctx)
	} else if !record.IsNotFound(err) {
		return err
	}
	now := record.Nanos(s.now())
	for name, doc := range map[string]string{iam.HomePolicyName: iam.HomePolicyDocument, iam.AdminPolicyName: iam.AdminPolicyDocument} {
		_, err := s.meta.Put(ctx, record.Item(pkPolicies, policySK+name, policyRec{Doc: doc, Created: now, Updated: now, Stock: true}), meta.MustNew)
		if err != nil && !record.IsConflict(err) {
			return errs.FromStore("built-in policies", err)
		}
	}
	if err := s.createGroup(ctx, AdminsGroup); err != nil && !errors.Is(err, errs.ErrExists) {
		return err
	}
	if err := s.meta.Transact(ctx, []meta.Op{
		meta.Put(record.Item(groupPK(AdminsGroup), polPrefix+iam.AdminPolicyName, memberRec{}), meta.NoCond),
		meta.Put(record.Item(policyPK(iam.AdminPolicyName), attGroup+AdminsGroup, memberRec{Name: AdminsGroup}), meta.NoCond),
		bumpPolicies(),
	}); err != nil {
		return errs.FromStore("admins group", err)
	}
	err := s.eachUser(ctx, func(id string, u userRec) (bool, error) {
		var has bool
		if err := s.eachItem(ctx, userPK(id), polPrefix, func(meta.Item) error { has = true; return nil }); err != nil {
			return false, err
		}
		if has {
			return true, nil // moved already (a migration cut short)
		}
		return true, s.meta.Transact(ctx, userAccessOps(id, u.Name, u.Admin))
	})
	if err != nil {
		return fmt.Errorf("give users their policies: %w", err)
	}
	_, err = s.meta.Put(ctx, record.Item(pkConfig, skPoliciesV1, struct{}{}), meta.NoCond)
	s.cache.invalidate()
	return errs.FromStore("policies", err)
}

// upgradeBuiltins brings the built-in policies of a store made by an
// earlier version up to this version's documents (the home policy gained
// strata:ManageShares on the user's links and strata:ReadAudit on their
// own records), but only a document still exactly as an earlier version
// stored it: an administrator's edit is theirs, and stays. The write is
// conditional on the version read, so an edit made meanwhile wins.
func (s *Service) upgradeBuiltins(ctx context.Context) error {
	for name, doc := range map[string]string{iam.HomePolicyName: iam.HomePolicyDocument, iam.AdminPolicyName: iam.AdminPolicyDocument} {
		rec, it, err := record.Get[policyRec](ctx, s.meta, pkPolicies, policySK+name)
		if record.IsNotFound(err) {
			continue // deleted by an administrator
		}
		if err != nil {
			return errs.FromStore("built-in policy "+name, err)
		}
		// An administrator's edit stays, even one that made the document
		// an earlier built-in's (say, the statement a version added taken
		// out again). Records from before Stock and Edited were kept
		// were never edited if they were never updated.
		stock := !rec.Edited && (rec.Stock || rec.Updated == rec.Created)
		if rec.Doc == doc || !stock || !iam.EarlierBuiltIn(name, rec.Doc) {
			continue
		}
		rec.Doc, rec.Updated, rec.Stock = doc, record.Nanos(s.now()), true
		err = s.meta.Transact(ctx, []meta.Op{
			meta.Put(record.Item(pkPolicies, policySK+name, rec), meta.AtVersion(it.Version)),
			bumpPolicies(),
		})
		if err != nil && !record.IsConflict(err) {
			return errs.FromStore("upgrade the built-in policy "+name, err)
		}
		if err == nil {
			slog.InfoContext(ctx, "upgraded the built-in policy to this version's document", "policy", name)
		}
	}
	s.cache.invalidate()
	return nil
}

// GroupRef names a group as it is now: a group deleted and made again
// under its name has another Created, so that what was given to the old
// one (a user share) does not pass to the new.
type GroupRef struct {
	Name    string
	Created int64
}

// Group is the group name as it is now, or errs.ErrNotFound.
func (s *Service) Group(ctx context.Context, name string) (GroupRef, error) {
	if ValidGroupName(name) != nil {
		return GroupRef{}, fmt.Errorf("group %s: %w", clip.Text(name), errs.ErrNotFound)
	}
	g, _, err := record.Get[groupRec](ctx, s.meta, pkGroups, groupSK+name)
	if record.IsNotFound(err) {
		return GroupRef{}, fmt.Errorf("group %s: %w", name, errs.ErrNotFound)
	}
	return GroupRef{Name: name, Created: g.Created}, err
}

// GroupsOf is the groups the user id is in now.
func (s *Service) GroupsOf(ctx context.Context, id string) ([]GroupRef, error) {
	var out []GroupRef
	err := s.eachItem(ctx, userPK(id), grpPrefix, func(it meta.Item) error {
		g, err := s.Group(ctx, strings.TrimPrefix(it.SK, grpPrefix))
		if errors.Is(err, errs.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out = append(out, g)
		return nil
	})
	return out, err
}
