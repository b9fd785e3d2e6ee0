package iam

import (
	"testing"

	"github.com/strata-storage/strata/internal/storepath"
)

// equivalenceResources are the resources the built-in policies are
// checked on against HomeRule: every kind, the edges of a home folder
// (the folder itself, a sibling whose name starts alike, the parent, the
// root) and other users' things, including owners no user can have.
func equivalenceResources() []Resource {
	p := storepath.MustParse
	var rs []Resource
	for _, s := range []string{
		"/", "/home", "/home/alice", "/home/alice/x", "/home/alice/a/b/c.txt", "/home/alicebob", "/home/alicebob/x",
		"/home/alic", "/home/bob", "/home/bob/x", "/home/bob/home/alice/x", "/projects", "/projects/a.txt",
		"/alice", "/home/alice/*", "/home/alice/${strata:username}", "/home/admin", "/home/admin/x",
	} {
		rs = append(rs, PathOf(p(s)))
	}
	for _, owner := range []string{"alice", "bob", "admin", "alicebob", "alic", "", "alice/x", "alice%2Fx", "*"} {
		for _, id := range []string{"", "*", "t1", "a/b"} {
			rs = append(rs, TokenOf(owner, id), TrashOf(owner, id), UploadOf(owner, id), JobOf(owner, id))
		}
		rs = append(rs, UserNamed(owner), Resource{Kind: KindUserR, Owner: owner, ID: "x"})
	}
	for _, name := range []string{"collector", "keys", "alice", "*"} {
		rs = append(rs, System(name), Resource{Kind: KindSystem, Owner: "alice", ID: name})
	}
	return rs
}

// The built-in policies decide exactly as HomeRule did: "home" for users,
// "admin" (with "home", as an admin is a user too) for admins, over every
// action and a table of resources.
func TestBuiltinPoliciesDecideAsHomeRule(t *testing.T) {
	users := &PolicySet{Identity: []*Policy{HomePolicy()}}
	admins := &PolicySet{Identity: []*Policy{HomePolicy(), AdminPolicy()}}
	principals := []Principal{
		User("a1", "alice", false, "t1"),
		User("b1", "bob", false, ""),
		User("ab1", "alicebob", false, "t3"),
		User("r1", "admin", true, "t2"),
	}
	n := 0
	for _, pr := range principals {
		set := users
		if pr.Admin {
			set = admins
		}
		for _, act := range Actions {
			for _, res := range equivalenceResources() {
				want := (HomeRule{}).Decide(pr, act, res, Request{})
				got := set.Evaluate(pr, act, res, Request{})
				if got.Allowed != want.Allowed {
					t.Errorf("%s %s on %s: policies say %v (%s), HomeRule %v (%s)", pr.Name, act, res, got.Allowed, got.Reason, want.Allowed, want.Reason)
				}
				n++
			}
		}
	}
	if n < 5000 {
		t.Fatalf("only %d cases", n)
	}
}

// The admin's policy keeps the root by an explicit Deny, which no other
// policy can override.
func TestAdminPolicyKeepsRoot(t *testing.T) {
	root := User("r1", "admin", true, "")
	set := &PolicySet{Identity: []*Policy{AdminPolicy(), MustParse("more", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"strata:DeleteFile","Resource":"/"}}`)}}
	d := set.Evaluate(root, DeleteFile, PathOf(storepath.Root), Request{})
	if d.Allowed || !d.ExplicitDeny() || d.Statement.Sid != "KeepTheRoot" || d.Statement.Policy != AdminPolicyName {
		t.Fatalf("%+v", d)
	}
}
