package backend_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/backend/meta"
)

// withPolicies decides with the stored policies, as the server does.
func withPolicies(e **identity.Service) option {
	return func(c *backend.Config) {
		c.Decider = iam.NewPolicyDecider(iam.PolicySourceFunc(func(pr iam.Principal) (*iam.PolicySet, error) {
			return (*e).Policies(pr)
		}), nil)
	}
}

// policyEnv is an env deciding with policies.
func policyEnv(t *testing.T) *env {
	var ids *identity.Service
	e := newEnv(t, withPolicies(&ids))
	ids = e.ids
	return e
}

func denied(t *testing.T, err error) {
	t.Helper()
	if !iam.IsDenied(err) {
		t.Fatalf("got %v, want a denial", err)
	}
}

// shareProj makes alice's /home/alice/proj holding file (its content
// "a") and shares it with bob.
func shareProj(t *testing.T, e *env, file string, write bool) (alice, bob iam.Principal) {
	t.Helper()
	alice, bob = e.user("alice"), e.user("bob")
	e.put(alice, "/home/alice/proj/"+file, []byte("a"))
	if _, err := e.b.ShareWith(context.Background(), alice, p("/home/alice/proj"), backend.ShareOptions{User: "bob", Write: write}); err != nil {
		t.Fatal(err)
	}
	return alice, bob
}

// A share never gives more than its owner has, nor more than the
// recipient's own Deny statements and session policy let through.
func TestUserShareBounds(t *testing.T) {
	e := policyEnv(t)
	ctx := context.Background()
	_, bob := shareProj(t, e, "a.txt", true)
	if got := e.mustRead(bob, "/shared/alice/proj/a.txt"); string(got) != "a" {
		t.Fatalf("bob reads %q", got)
	}
	e.put(bob, "/shared/alice/proj/b.txt", []byte("b"))

	// A token of bob's whose session policy reads only.
	tok, err := e.ids.CreateToken(ctx, e.admin, "bob", "ro", 0, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Action":["strata:GetFile","strata:ListFolder"],"Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ro, err := e.ids.Authenticate(ctx, tok.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.mustRead(ro, "/shared/alice/proj/a.txt"); string(got) != "a" {
		t.Fatalf("the read-only token reads %q", got)
	}
	_, err = e.b.Put(ctx, ro, p("/shared/alice/proj/c.txt"), strings.NewReader("c"), backend.PutOptions{Size: 1})
	denied(t, err)

	// bob's own Deny on /shared.
	admin := e.admin
	if _, err := e.ids.PutPolicy(ctx, admin, "noshares", []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny",
		"Action":"strata:*","Resource":"/shared/*"}]}`), true); err != nil {
		t.Fatal(err)
	}
	if err := e.ids.AttachPolicy(ctx, admin, "noshares", identity.Target{User: "bob"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.read(bob, "/shared/alice/proj/a.txt", backend.OpenOptions{})
	denied(t, err)
	if err := e.ids.DetachPolicy(ctx, admin, "noshares", identity.Target{User: "bob"}); err != nil {
		t.Fatal(err)
	}
	e.mustRead(bob, "/shared/alice/proj/a.txt")

	// alice loses her write access: so does bob, through her share.
	if _, err := e.ids.PutPolicy(ctx, admin, "read", []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Action":["strata:GetFile","strata:ListFolder","strata:ShareWithUsers"],"Resource":["/home/alice","/home/alice/*"]}]}`), true); err != nil {
		t.Fatal(err)
	}
	if err := e.ids.AttachPolicy(ctx, admin, "read", identity.Target{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := e.ids.DetachPolicy(ctx, admin, iam.HomePolicyName, identity.Target{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	e.mustRead(bob, "/shared/alice/proj/a.txt")
	_, err = e.b.Put(ctx, bob, p("/shared/alice/proj/c.txt"), strings.NewReader("c"), backend.PutOptions{Size: 1})
	denied(t, err)
	_, err = e.b.Delete(ctx, bob, p("/shared/alice/proj/a.txt"), false)
	denied(t, err)
	if err := e.ids.DetachPolicy(ctx, admin, "read", identity.Target{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	_, err = e.read(bob, "/shared/alice/proj/a.txt", backend.OpenOptions{})
	denied(t, err)
}

// Refusals under /shared say nothing of what exists: the same denial,
// naming only the path the caller gave.
func TestUserShareUniformDenial(t *testing.T) {
	e := policyEnv(t)
	ctx := context.Background()
	alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
	e.put(alice, "/home/alice/proj/a.txt", []byte("a"))
	e.put(alice, "/home/alice/secret.txt", []byte("s"))
	if _, err := e.b.ShareWith(ctx, alice, p("/home/alice/proj"), backend.ShareOptions{User: "bob"}); err != nil {
		t.Fatal(err)
	}
	msg := func(pr iam.Principal, path string) string {
		_, err := e.b.Stat(ctx, pr, p(path))
		denied(t, err)
		if strings.Contains(err.Error(), "/home/") {
			t.Fatalf("a denial names the owner's path: %v", err)
		}
		return strings.Replace(err.Error(), path, "PATH", 1)
	}
	want := msg(carol, "/shared/alice/proj/a.txt")
	for _, c := range []struct {
		pr   iam.Principal
		path string
	}{
		{carol, "/shared/alice/proj/nothing"},
		{carol, "/shared/alice/proj"},
		{carol, "/shared/alice/nothing"},
		{carol, "/shared/nobody/x"},
		{bob, "/shared/alice/secret.txt"},
		{bob, "/shared/nobody/proj/a.txt"},
		{bob, "/shared/alice/proj2/a.txt"},
	} {
		if got := msg(c.pr, c.path); got != want {
			t.Errorf("%s: %q, want %q", c.path, got, want)
		}
	}
	// Read-only: no change is let through, not even to what is missing.
	for _, path := range []string{"/shared/alice/proj/a.txt", "/shared/alice/proj/new.txt"} {
		_, err := e.b.Put(ctx, bob, p(path), strings.NewReader("x"), backend.PutOptions{Size: 1})
		denied(t, err)
	}
	_, err := e.b.Mkdir(ctx, bob, p("/shared/alice/proj/d"), false)
	denied(t, err)
	_, err = e.b.Move(ctx, bob, p("/shared/alice/proj/a.txt"), p("/home/bob/a.txt"), false)
	denied(t, err)
}

// A move of a folder above shared entries re-points their shares in its
// transaction; one that would re-point too many is refused, whole.
func TestUserShareFollowsMoves(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, bob := e.user("alice"), e.user("bob")
	for i := range 11 {
		path := fmt.Sprintf("/home/alice/top/d%02d", i)
		e.put(alice, path+"/f.txt", []byte(path))
		if _, err := e.b.ShareWith(ctx, alice, p(path), backend.ShareOptions{User: "bob"}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.b.Move(ctx, alice, p("/home/alice/top"), p("/home/alice/moved"), false)
	wantErr(t, err, errs.ErrInvalid)
	if got := e.mustRead(bob, "/shared/alice/d03/f.txt"); string(got) != "/home/alice/top/d03" {
		t.Fatalf("after a refused move bob reads %q", got)
	}
	if err := e.b.Unshare(ctx, alice, p("/home/alice/top/d10"), "bob", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Move(ctx, alice, p("/home/alice/top"), p("/home/alice/moved"), false); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		got := e.mustRead(bob, fmt.Sprintf("/shared/alice/d%02d/f.txt", i))
		if want := fmt.Sprintf("/home/alice/top/d%02d", i); string(got) != want {
			t.Fatalf("d%02d: bob reads %q", i, got)
		}
	}
	us, err := e.b.ListUserShares(ctx, alice, nil)
	if err != nil || len(us) != 10 {
		t.Fatalf("shares: %v %v", us, err)
	}
	for _, u := range us {
		if !strings.HasPrefix(u.Path, "/home/alice/moved/") || !u.Available {
			t.Fatalf("share after the move: %+v", u)
		}
	}
	// The same name for another entry is refused; so is a second name.
	_, err = e.b.ShareWith(ctx, alice, p("/home/alice/moved/d10"), backend.ShareOptions{User: "bob", Name: "d01"})
	wantErr(t, err, errs.ErrExists)
	_, err = e.b.ShareWith(ctx, alice, p("/home/alice/moved/d01"), backend.ShareOptions{User: "bob", Name: "other"})
	wantErr(t, err, errs.ErrExists)
}

// A recipient copies out of a share and into one (a folder copy checks
// every entry through the share), and uploads through a session.
func TestUserShareCopyAndUpload(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, bob := shareProj(t, e, "sub/a.txt", true)
	ent, _, err := e.b.Copy(ctx, bob, p("/shared/alice/proj/sub"), p("/home/bob/sub"), time.Minute)
	if err != nil || ent.Path != "/home/bob/sub" {
		t.Fatalf("copy out: %+v %v", ent, err)
	}
	ent, _, err = e.b.Copy(ctx, bob, p("/home/bob/sub"), p("/shared/alice/proj/sub2"), time.Minute)
	if err != nil || ent.Path != "/shared/alice/proj/sub2" {
		t.Fatalf("copy in: %+v %v", ent, err)
	}
	if got := e.mustRead(alice, "/home/alice/proj/sub2/a.txt"); string(got) != "a" {
		t.Fatalf("alice reads %q", got)
	}
	content := bytes.Repeat([]byte("u"), 100)
	up, err := e.b.CreateUpload(ctx, bob, p("/shared/alice/proj/up.bin"), backend.UploadOptions{Size: int64(len(content)), PartSize: backend.MinPartSize})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.PutPart(ctx, bob, "", up.ID, 1, bytes.NewReader(content), int64(len(content)), nil); err != nil {
		t.Fatal(err)
	}
	ent, err = e.b.CompleteUpload(ctx, bob, "", up.ID, sum(content))
	if err != nil || ent.Path != "/shared/alice/proj/up.bin" {
		t.Fatalf("complete: %+v %v", ent, err)
	}
	if got := e.mustRead(alice, "/home/alice/proj/up.bin"); !bytes.Equal(got, content) {
		t.Fatal("alice does not read what bob uploaded")
	}
	// Revoked between the start and the end of an upload: refused.
	up, err = e.b.CreateUpload(ctx, bob, p("/shared/alice/proj/late.bin"), backend.UploadOptions{Size: 1, PartSize: backend.MinPartSize})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.PutPart(ctx, bob, "", up.ID, 1, strings.NewReader("x"), 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.b.Unshare(ctx, alice, p("/home/alice/proj"), "bob", ""); err != nil {
		t.Fatal(err)
	}
	_, err = e.b.CompleteUpload(ctx, bob, "", up.ID, nil)
	if !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("complete after the revoke: %v", err)
	}
}

// What fails through a share names the recipient's paths, not the owner's.
func TestUserShareErrorsNameTheView(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, bob := shareProj(t, e, "sub/a.txt", true)
	_, err1 := e.b.Stat(ctx, bob, p("/shared/alice/proj/nothing"))
	_, err2 := e.b.Mkdir(ctx, bob, p("/shared/alice/proj/sub"), false)
	_, err3 := e.b.List(ctx, bob, p("/shared/alice/proj/sub/a.txt"), "", 0)
	_, err4 := e.b.Move(ctx, bob, p("/shared/alice/proj/nothing"), p("/shared/alice/proj/x"), false)
	for i, c := range []struct {
		err  error
		want error
	}{{err1, errs.ErrNotFound}, {err2, errs.ErrExists}, {err3, errs.ErrNotDir}, {err4, errs.ErrNotFound}} {
		if !errors.Is(c.err, c.want) || strings.Contains(c.err.Error(), "/home/alice") || !strings.Contains(c.err.Error(), "/shared/alice/proj") {
			t.Errorf("%d: %v, want %v naming /shared/alice/proj", i, c.err, c.want)
		}
	}
}

// A shared folder trashed and restored elsewhere keeps its share.
func TestUserShareRestoredElsewhere(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, bob := shareProj(t, e, "a.txt", false)
	it, err := e.b.Delete(ctx, alice, p("/home/alice/proj"), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.read(bob, "/shared/alice/proj/a.txt", backend.OpenOptions{}); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("a trashed share: %v", err)
	}
	to := p("/home/alice/back")
	if _, err := e.b.RestoreTrash(ctx, alice, "", it.ID, &to); err != nil {
		t.Fatal(err)
	}
	if got := e.mustRead(bob, "/shared/alice/proj/a.txt"); string(got) != "a" {
		t.Fatalf("bob reads %q", got)
	}
}

// The shares of a deleted user are gone from their recipients' view.
func TestUserShareOwnerDeleted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, bob := shareProj(t, e, "a.txt", false)
	if got := e.names(bob, "/shared"); len(got) != 1 || got[0] != "alice" {
		t.Fatalf("bob's /shared: %v", got)
	}
	if err := e.ids.DeleteUser(ctx, e.admin, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := e.names(bob, "/shared"); len(got) != 0 {
		t.Fatalf("bob's /shared once alice is deleted: %v", got)
	}
	rs, err := e.b.ReceivedShares(ctx, bob)
	if err != nil || len(rs) != 0 {
		t.Fatalf("received: %v %v", rs, err)
	}
	_, err = e.read(bob, "/shared/alice/proj/a.txt", backend.OpenOptions{})
	denied(t, err)
}

// An upload session bob opens through a folder alice shares with him
// reserves its size in alice's home, where the file will count, and a
// quota there too small for it refuses the session at once.
func TestShareUploadSessionReservesInOwnersHome(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, bob := shareProj(t, e, "a.txt", true)
	u, err := e.b.CreateUpload(ctx, bob, p("/shared/alice/proj/big"), backend.UploadOptions{Size: 6 << 20, PartSize: 5 << 20, ClientDigest: true})
	if err != nil {
		t.Fatal(err)
	}
	if u.ClientDigest {
		t.Error("bob's word taken for a file in alice's home")
	}
	got, err := e.b.GetUsage(ctx, e.admin, "alice")
	if err != nil || got.Reserved != 6<<20 {
		t.Fatalf("alice's usage %+v (%v): want 6 MiB reserved", got, err)
	}
	content := data(6<<20, 11)
	putParts(t, e, bob, u.ID, content[:5<<20], content[5<<20:])
	if _, err := e.b.CompleteUploadChecked(ctx, bob, "", u.ID, backend.CompleteCheck{SHA256: sum(content), PartCRC32C: crcs(content[:5<<20], content[5<<20:])}); err != nil {
		t.Fatal(err)
	}
	e.usageIs("alice", 1+6<<20, 2) // a.txt and big; nothing reserved
	if _, err := e.b.SetQuota(ctx, e.admin, "alice", ptr(int64(1<<20)), nil); err != nil {
		t.Fatal(err)
	}
	_, err = e.b.CreateUpload(ctx, bob, p("/shared/alice/proj/big2"), backend.UploadOptions{Size: 6 << 20, PartSize: 5 << 20})
	wantErr(t, err, errs.ErrQuotaExceeded)
}

// A session bob opens through a share reserves in alice's home, so alice
// sees it among her uploads (by bob, his path) and may abort it, as a
// bucket's owner may a multipart upload in it; no one else may, and bob
// still sees it as his own. Ended by the collector, it leaves no index.
func TestGuestSessionsListedAndAbortedByHomeOwner(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, bob := shareProj(t, e, "a.txt", true)
	carol := e.user("carol")
	guest, err := e.b.CreateUpload(ctx, bob, p("/shared/alice/proj/big"), backend.UploadOptions{Size: 6 << 20, PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	own, err := e.b.CreateUpload(ctx, bob, p("/home/bob/x"), backend.UploadOptions{Size: 6 << 20, PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ids := func(pr iam.Principal) map[string]string {
		t.Helper()
		us, err := e.b.ListUploads(ctx, pr, "")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, u := range us {
			out[u.ID] = u.User + " " + u.Path
		}
		return out
	}
	if got, want := ids(alice), map[string]string{guest.ID: "bob /shared/alice/proj/big"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("alice lists %v, want %v", got, want)
	}
	if got, want := ids(bob), map[string]string{guest.ID: " /shared/alice/proj/big", own.ID: " /home/bob/x"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("bob lists %v, want %v", got, want)
	}
	if got := ids(carol); len(got) != 0 {
		t.Fatalf("carol lists %v", got)
	}
	// An admin listing alice's sees it too.
	if us, err := e.b.ListUploads(ctx, e.admin, "alice"); err != nil || len(us) != 1 || us[0].User != "bob" {
		t.Fatalf("alice's uploads as the admin lists them: %+v %v", us, err)
	}
	wantErr(t, e.b.AbortUpload(ctx, carol, "", guest.ID), errs.ErrNotFound)
	wantErr(t, e.b.AbortUpload(ctx, alice, "", own.ID), errs.ErrNotFound)
	if _, err := e.b.GetUpload(ctx, alice, "", guest.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("alice reads bob's session: %v", err)
	}
	if err := e.b.AbortUpload(ctx, alice, "", guest.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := e.b.GetUsage(ctx, e.admin, "alice"); err != nil || got.Reserved != 0 {
		t.Fatalf("alice's usage %+v (%v): nothing should be reserved", got, err)
	}
	if _, err := e.b.GetUpload(ctx, bob, "", guest.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("bob's aborted session: %v", err)
	}
	if got := ids(bob); len(got) != 1 {
		t.Fatalf("bob lists %v after the abort", got)
	}
	aliceID, err := e.ids.UserID(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	index := func() int { return guestIndex(t, e, aliceID) }
	if n := index(); n != 0 {
		t.Fatalf("%d index items left by the abort", n)
	}

	// Another, left to expire: the collector removes it, index and all.
	if _, err := e.b.CreateUpload(ctx, bob, p("/shared/alice/proj/big"), backend.UploadOptions{Size: 6 << 20, PartSize: 5 << 20}); err != nil {
		t.Fatal(err)
	}
	if n := index(); n != 1 {
		t.Fatalf("%d index items for one session", n)
	}
	e.clock.Add(backend.DefaultUploadTTL + time.Hour)
	if got := ids(alice); len(got) != 0 {
		t.Fatalf("alice lists an expired session: %v", got)
	}
	if st, err := e.b.Collect(ctx, 0); err != nil || st.ExpiredUploads != 2 { // and bob's own
		t.Fatalf("collect: %+v %v", st, err)
	}
	if n := index(); n != 0 {
		t.Fatalf("%d index items left by the collector", n)
	}
	if got, err := e.b.GetUsage(ctx, e.admin, "alice"); err != nil || got.Reserved != 0 {
		t.Fatalf("alice's usage %+v (%v) after the collector", got, err)
	}
}

// Every other end of a guest session takes its home index item with it:
// bob's Complete, an admin's abort for alice, the collector finding the
// session gone (a cleanup cut short), bob's deletion; alice may not send
// bob's parts nor complete his session, and bob's count of open sessions
// comes down when alice aborts one. An index item with no session behind
// it is dropped by the listing.
func TestGuestSessionEnds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice, bob := shareProj(t, e, "a.txt", true)
	aliceID, err := e.ids.UserID(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	index := func() int { return guestIndex(t, e, aliceID) }
	open := func() backend.Upload {
		t.Helper()
		u, err := e.b.CreateUpload(ctx, bob, p("/shared/alice/proj/big"), backend.UploadOptions{Size: 6 << 20, PartSize: 5 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if n := index(); n != 1 {
			t.Fatalf("%d index items for one guest session", n)
		}
		return u
	}
	content := data(6<<20, 12)

	u := open()
	if _, err := e.b.PutPart(ctx, alice, "", u.ID, 1, bytes.NewReader(content[:5<<20]), 5<<20, nil); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("alice sends a part of bob's session: %v", err)
	}
	putParts(t, e, bob, u.ID, content[:5<<20], content[5<<20:])
	if _, err := e.b.CompleteUploadChecked(ctx, alice, "", u.ID, backend.CompleteCheck{}); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("alice completes bob's session: %v", err)
	}
	if _, err := e.b.CompleteUploadChecked(ctx, bob, "", u.ID, backend.CompleteCheck{SHA256: sum(content)}); err != nil {
		t.Fatal(err)
	}
	if n := index(); n != 0 {
		t.Fatalf("%d index items after bob's Complete", n)
	}

	bobID, err := e.ids.UserID(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	count := func() int64 {
		t.Helper()
		it, err := e.meta.Get(ctx, "user#"+bobID, "uploads")
		if err != nil && !errors.Is(err, meta.ErrNotFound) {
			t.Fatal(err)
		}
		return it.N
	}
	u = open()
	before := count()
	if err := e.b.AbortUpload(ctx, e.admin, "alice", u.ID); err != nil {
		t.Fatalf("the admin aborts for alice: %v", err)
	}
	if n := index(); n != 0 {
		t.Fatalf("%d index items after the admin's abort", n)
	}
	if after := count(); after != before-1 {
		t.Fatalf("bob's open sessions %d → %d", before, after)
	}

	// A cleanup cut short: the session's items are gone, its index items
	// are not; the collector finds it through pkUploads.
	u = open()
	pg, err := e.meta.Query(ctx, "upload#"+u.ID, meta.QueryOpts{})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range pg.Items {
		if err := e.meta.Delete(ctx, it.PK, it.SK, meta.NoCond); err != nil {
			t.Fatal(err)
		}
	}
	if st, err := e.b.Collect(ctx, 0); err != nil || st.StaleSessions != 1 {
		t.Fatalf("collect: %+v %v", st, err)
	}
	if n := index(); n != 0 {
		t.Fatalf("%d index items after the collector", n)
	}

	// An index item with nothing behind it goes when listed.
	if _, err := e.meta.Put(ctx, meta.Item{PK: "user#" + aliceID, SK: "upg#nosuchsession0000000000000"}, meta.NoCond); err != nil {
		t.Fatal(err)
	}
	if us, err := e.b.ListUploads(ctx, alice, ""); err != nil || len(us) != 0 {
		t.Fatalf("alice lists %+v %v", us, err)
	}
	if n := index(); n != 0 {
		t.Fatalf("%d index items after the listing", n)
	}

	// bob deleted: his sessions go, and their index items.
	open()
	if err := e.ids.DeleteUser(ctx, e.admin, "bob"); err != nil {
		t.Fatal(err)
	}
	if n := index(); n != 0 {
		t.Fatalf("%d index items after bob's deletion", n)
	}
}

// guestIndex is the number of index items of guest sessions in the home
// of the user with ID owner.
func guestIndex(t *testing.T, e *env, owner string) int {
	t.Helper()
	pg, err := e.meta.Query(context.Background(), "user#"+owner, meta.QueryOpts{Prefix: "upg#"})
	if err != nil {
		t.Fatal(err)
	}
	return len(pg.Items)
}

// A session bob cannot open through the share says so in his own view of
// the path, not alice's.
func TestShareUploadSessionErrorsInViewersPath(t *testing.T) {
	e := newEnv(t)
	_, bob := shareProj(t, e, "a.txt", true)
	_, err := e.b.CreateUpload(context.Background(), bob, p("/shared/alice/proj/a.txt/x"), backend.UploadOptions{Size: 6 << 20})
	if !errors.Is(err, errs.ErrNotDir) || strings.Contains(err.Error(), "/home/alice") || !strings.Contains(err.Error(), "/shared/alice/proj/a.txt") {
		t.Fatalf("err %v", err)
	}
}
