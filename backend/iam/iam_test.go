package iam

import (
	"context"
	"errors"
	"testing"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/internal/storepath"
)

func TestHomeRule(t *testing.T) {
	alice := User("a1", "alice", false, "t1")
	root := User("r1", "admin", true, "t2")
	p := storepath.MustParse
	for _, tc := range []struct {
		pr    Principal
		act   Action
		res   Resource
		allow bool
	}{
		{alice, GetFile, PathOf(p("/home/alice/a.txt")), true},
		{alice, ListFolder, PathOf(p("/home/alice")), true},
		{alice, PutFile, PathOf(p("/home/alice/deep/x")), true},
		{alice, GetFile, PathOf(p("/home/alicebob/x")), false},
		{alice, GetFile, PathOf(p("/home/bob/x")), false},
		{alice, ListFolder, PathOf(p("/home")), false},
		{alice, ListFolder, PathOf(p("/")), false},
		{alice, DeleteFile, PathOf(p("/home/alice")), false},
		{alice, MoveFile, PathOf(p("/home/alice")), false},
		{alice, CreateFolder, PathOf(p("/home/alice")), false},
		{alice, ManageTrash, TrashOf("alice", "*"), true},
		{alice, ManageTrash, TrashOf("bob", "*"), false},
		{alice, ManageUploads, UploadOf("alice", "x"), true},
		{alice, ManageTokens, TokenOf("bob", ""), false},
		{alice, GetUser, UserNamed("alice"), true},
		{alice, GetUser, UserNamed("bob"), false},
		{alice, ManageUsers, UserNamed("alice"), false},
		{alice, CollectGarbage, System("collector"), false},
		{alice, ManageKeys, System("keys"), false},
		{root, GetFile, PathOf(p("/home/bob/x")), true},
		{root, DeleteFile, PathOf(p("/")), false},
		{root, MoveFile, PathOf(p("/")), false},
		{root, ListFolder, PathOf(p("/")), true},
		{root, ManageUsers, UserNamed("bob"), true},
		{root, CollectGarbage, System("collector"), true},
		{Principal{}, GetFile, PathOf(p("/home/alice/a.txt")), false},
	} {
		if got := (HomeRule{}).Decide(tc.pr, tc.act, tc.res, Request{}); got.Allowed != tc.allow || got.Reason == "" {
			t.Errorf("%s %s on %s: %+v, want allowed %v", tc.pr.Name, tc.act, tc.res, got, tc.allow)
		}
	}
}

// Denials are one error, the same for every resource, matching
// ErrForbidden; no principal is ErrUnauthorized.
func TestAuthorize(t *testing.T) {
	ctx := context.Background()
	alice := User("a1", "alice", false, "")
	err := Authorize(ctx, HomeRule{}, alice, GetFile, PathOf(storepath.MustParse("/home/bob/x")))
	if !errors.Is(err, errs.ErrForbidden) || !IsDenied(err) {
		t.Fatalf("denial: %v", err)
	}
	if err := Authorize(ctx, HomeRule{}, Principal{}, GetFile, PathOf(storepath.MustParse("/x"))); !errors.Is(err, errs.ErrUnauthorized) {
		t.Fatalf("no principal: %v", err)
	}
	if err := Authorize(ctx, HomeRule{}, alice, GetFile, PathOf(storepath.MustParse("/home/alice/x"))); err != nil {
		t.Fatalf("allowed: %v", err)
	}
}

func TestResourceNames(t *testing.T) {
	for res, want := range map[Resource]string{
		PathOf(storepath.MustParse("/a/b")): "/a/b",
		UserNamed("alice"):                  "strata:user/alice",
		TokenOf("alice", "abc"):             "strata:token/alice/abc",
		TrashOf("alice", ""):                "strata:trash/alice/*",
		UploadOf("bob", "u1"):               "strata:upload/bob/u1",
		JobOf("bob", "j1"):                  "strata:job/bob/j1",
		System("keys"):                      "strata:system/keys",
	} {
		if got := res.String(); got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}

// BenchmarkDecide is one decision of the rule (issue 10's bound: 1 µs).
func BenchmarkDecide(b *testing.B) {
	alice := User("a1", "alice", false, "t1")
	res := PathOf(storepath.MustParse("/home/alice/projects/2026/report.pdf"))
	b.ReportAllocs()
	for b.Loop() {
		if !(HomeRule{}).Decide(alice, GetFile, res, Request{}).Allowed {
			b.Fatal("denied")
		}
	}
}
