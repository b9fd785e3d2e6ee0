package backend_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/backend/keys/keyring"
	"github.com/strata-storage/strata/backend/meta"
)

func TestConfinement(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := e.user("alice")
	e.user("bob")
	e.put(e.admin, "/home/bob/secret.txt", []byte("bob's"))
	e.put(alice, "/home/alice/mine.txt", []byte("alice's"))

	// Everything outside alice's home is the same "forbidden", whether it
	// exists or not, so she learns nothing about it.
	for _, path := range []string{"/home/bob/secret.txt", "/home/bob/nothing", "/home/bob", "/home", "/", "/etc/passwd"} {
		_, err := e.b.Stat(ctx, alice, p(path))
		wantErr(t, err, errs.ErrForbidden)
		_, err = e.b.Open(ctx, alice, p(path), backend.OpenOptions{Length: -1})
		wantErr(t, err, errs.ErrForbidden)
		_, err = e.b.Put(ctx, alice, p(path+"x"), strings.NewReader("x"), backend.PutOptions{Size: 1})
		wantErr(t, err, errs.ErrForbidden)
	}
	_, err := e.b.List(ctx, alice, p("/home"), "", 0)
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.b.Move(ctx, alice, p("/home/alice/mine.txt"), p("/home/bob/stolen"), false)
	wantErr(t, err, errs.ErrForbidden)
	_, _, err = e.b.Copy(ctx, alice, p("/home/bob/secret.txt"), p("/home/alice/copy"), time.Minute)
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.b.Delete(ctx, alice, p("/home/alice"), true)
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.b.Move(ctx, alice, p("/home/alice"), p("/home/alice2"), false)
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.ids.ListUsers(ctx, alice)
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.ids.CreateUser(ctx, alice, "mallory", true)
	wantErr(t, err, errs.ErrForbidden)
	_, err = e.ids.CreateToken(ctx, alice, "bob", "", 0, nil)
	wantErr(t, err, errs.ErrForbidden)

	// Inside her home she can do everything, and the admin can read it.
	if names := e.names(alice, "/home/alice"); len(names) != 1 || names[0] != "mine.txt" {
		t.Fatalf("names %v", names)
	}
	if string(e.mustRead(e.admin, "/home/alice/mine.txt")) != "alice's" {
		t.Fatal("admin read")
	}
	// Trash and upload sessions are per user.
	ti, err := e.b.Delete(ctx, alice, p("/home/alice/mine.txt"), false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.b.RestoreTrash(ctx, e.admin, "", ti.ID, nil)
	wantErr(t, err, errs.ErrNotFound)
	u, err := e.b.CreateUpload(ctx, alice, p("/home/alice/big"), backend.UploadOptions{Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.b.GetUpload(ctx, e.admin, "", u.ID)
	wantErr(t, err, errs.ErrNotFound)
}

func TestTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	carol := e.user("carol")
	tok, err := e.ids.CreateToken(ctx, e.admin, "carol", "laptop", time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !identity.ValidTokenFormat(tok.Secret) || !strings.HasPrefix(tok.Secret, "strata_") {
		t.Fatalf("token %q", tok.Secret)
	}
	pr, err := e.ids.Authenticate(ctx, tok.Secret)
	if err != nil || pr.Name != "carol" || pr.Admin {
		t.Fatalf("%+v %v", pr, err)
	}
	// One character changed (to one it is not, or 1 run in 62 would send
	// the real token).
	last := "0"
	if strings.HasSuffix(tok.Secret, last) {
		last = "1"
	}
	for _, bad := range []string{"", "strata_", "strata_short", "bearer x", tok.Secret[:len(tok.Secret)-1] + last,
		"strata_" + strings.Repeat("a", 40) + "!", strings.TrimPrefix(tok.Secret, "strata_")} {
		_, err := e.ids.Authenticate(ctx, bad)
		wantErr(t, err, errs.ErrUnauthorized)
	}
	// Expiry.
	e.clock.Add(2 * time.Hour)
	_, err = e.ids.Authenticate(ctx, tok.Secret)
	wantErr(t, err, errs.ErrUnauthorized)
	// Revocation.
	tok2, err := e.ids.CreateToken(ctx, carol, "", "cli", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := e.ids.ListTokens(ctx, e.admin, "carol")
	if err != nil || len(ts) != 3 {
		t.Fatalf("tokens %+v %v", ts, err)
	}
	for _, x := range ts {
		if x.Secret != "" {
			t.Fatal("a listed token carries its secret")
		}
	}
	if err := e.ids.RevokeToken(ctx, carol, "", tok2.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.ids.Authenticate(ctx, tok2.Secret)
	wantErr(t, err, errs.ErrUnauthorized)
	// Deleting the user stops all of its tokens.
	tok3, _ := e.ids.CreateToken(ctx, e.admin, "carol", "", 0, nil)
	if err := e.ids.DeleteUser(ctx, e.admin, "carol"); err != nil {
		t.Fatal(err)
	}
	_, err = e.ids.Authenticate(ctx, tok3.Secret)
	wantErr(t, err, errs.ErrUnauthorized)
	err = e.ids.DeleteUser(ctx, e.admin, "admin")
	wantErr(t, err, errs.ErrInvalid)
}

func TestUserNames(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, bad := range []string{"", "Alice", "1abc", "a b", "../x", "a/b", strings.Repeat("a", 33), "é"} {
		_, err := e.ids.CreateUser(ctx, e.admin, bad, false)
		wantErr(t, err, errs.ErrInvalid)
	}
	e.user("dave")
	_, err := e.ids.CreateUser(ctx, e.admin, "dave", false)
	wantErr(t, err, errs.ErrExists)
	us, err := e.ids.ListUsers(ctx, e.admin)
	if err != nil || len(us) != 2 || us[0].Name != "admin" || us[1].Home != "/home/dave" {
		t.Fatalf("users %+v %v", us, err)
	}
}

// A token made with a token never outlives it: asking for no expiry, or a
// later one, from a 5-second token gives a token that ends with it.
func TestTokenNeverOutlivesItsParent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.user("dave")
	short, err := e.ids.CreateToken(ctx, e.admin, "dave", "short", 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	parent, err := e.ids.Authenticate(ctx, short.Secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, ttl := range []time.Duration{0, time.Hour} {
		child, err := e.ids.CreateToken(ctx, parent, "", "child", ttl, nil)
		if err != nil {
			t.Fatal(err)
		}
		if child.Expires == nil || !child.Expires.Equal(*short.Expires) {
			t.Fatalf("child of a token expiring %v expires %v", short.Expires, child.Expires)
		}
		e.clock.Add(6 * time.Second)
		if _, err := e.ids.Authenticate(ctx, child.Secret); !errors.Is(err, errs.ErrUnauthorized) {
			t.Fatalf("the child outlived its parent: %v", err)
		}
		e.clock.Add(-6 * time.Second)
	}
	// A shorter expiry is kept; an expired parent makes nothing.
	child, err := e.ids.CreateToken(ctx, parent, "", "child", time.Second, nil)
	if err != nil || !child.Expires.Before(*short.Expires) {
		t.Fatalf("%v %v", child.Expires, err)
	}
	e.clock.Add(6 * time.Second)
	_, err = e.ids.CreateToken(ctx, parent, "", "late", 0, nil)
	wantErr(t, err, errs.ErrUnauthorized)
}

func TestBootstrapOnce(t *testing.T) {
	e := newEnv(t)
	tok, created, err := e.ids.Bootstrap(context.Background(), "")
	if err != nil || created || tok != "" {
		t.Fatalf("second bootstrap: %q %v %v", tok, created, err)
	}
	// STRATA_ADMIN_TOKEN on a store with users is not used, nor judged.
	tok, created, err = e.ids.Bootstrap(context.Background(), "not-a-token")
	if err != nil || created || tok != "" {
		t.Fatalf("bootstrap with a malformed token on a store with users: %q %v %v", tok, created, err)
	}
}

func TestReadTampered(t *testing.T) {
	e := newEnv(t)
	content := data(100_000, 4)
	e.put(e.admin, "/home/admin/f", content)
	// Flip one byte of the stored blob, behind the core's back.
	var key string
	_ = e.blobs.List(context.Background(), "", func(i blobInfo) error { key = i.Key; return nil })
	rc, err := e.blobs.Get(context.Background(), key, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(rc)
	rc.Close()
	sealed := buf.Bytes()
	sealed[len(sealed)/2] ^= 1
	if err := e.blobs.Put(context.Background(), key, bytes.NewReader(sealed), int64(len(sealed))); err != nil {
		t.Fatal(err)
	}
	_, err = e.read(e.admin, "/home/admin/f", backend.OpenOptions{})
	wantErr(t, err, errs.ErrIntegrity)
}

func TestDeleteUserEmptiesTrashAndKeepsHome(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bob := e.user("bob")
	e.put(bob, "/home/bob/keep.txt", []byte("stays"))
	e.put(bob, "/home/bob/gone.txt", data(10_000, 1))
	if _, err := e.b.Delete(ctx, bob, p("/home/bob/gone.txt"), false); err != nil {
		t.Fatal(err)
	}
	before := e.blobCount()
	if err := e.ids.DeleteUser(ctx, e.admin, "bob"); err != nil {
		t.Fatal(err)
	}
	if after := e.blobCount(); after != before-1 {
		t.Fatalf("blobs %d -> %d: the deleted user's trash was not emptied", before, after)
	}
	if string(e.mustRead(e.admin, "/home/bob/keep.txt")) != "stays" {
		t.Fatal("the deleted user's files must stay")
	}
	// A new user of the same name would silently inherit them: refused.
	_, err := e.ids.CreateUser(ctx, e.admin, "bob", false)
	wantErr(t, err, errs.ErrExists)
	if _, err := e.b.Move(ctx, e.admin, p("/home/bob"), p("/home/bob-old"), false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ids.CreateUser(ctx, e.admin, "bob", false); err != nil {
		t.Fatal(err)
	}
}

func TestNoBootstrapOnceUsersExist(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.ids.CreateUser(ctx, e.admin, "root2", true); err != nil {
		t.Fatal(err)
	}
	tok, err := e.ids.CreateToken(ctx, e.admin, "root2", "", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := e.ids.Authenticate(ctx, tok.Secret)
	if err := e.ids.DeleteUser(ctx, other, "admin"); err != nil {
		t.Fatal(err)
	}
	if tok, created, err := e.ids.Bootstrap(ctx, ""); err != nil || created || tok != "" {
		t.Fatalf("bootstrap after admin was deleted: %q %v %v", tok, created, err)
	}
}

func TestCheckKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.b.CheckKeys(ctx); err != nil { // records the canary
		t.Fatal(err)
	}
	if err := e.b.CheckKeys(ctx); err != nil { // and finds it again
		t.Fatal(err)
	}
	// The same store with another key file cannot start.
	other, err := keyring.Open(filepath.Join(t.TempDir(), "other.json"))
	if err != nil {
		t.Fatal(err)
	}
	b2, err := backend.New(backend.Config{Blobs: e.blobs, Meta: e.meta, Keys: other})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, b2.CheckKeys(ctx), backend.ErrWrongKeys)
}

func TestMissingKeyFileWithData(t *testing.T) {
	dir := t.TempDir()
	eng, err := embedded.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _, admin := wire(t, backend.Config{Blobs: eng.Blobs, Meta: eng.Meta, Keys: eng.Keys})
	if _, err := b.Put(context.Background(), admin, p("/home/admin/x"), strings.NewReader("secret"), backend.PutOptions{Size: 6}); err != nil {
		t.Fatal(err)
	}
	eng.Close()
	if err := os.Rename(filepath.Join(dir, "keyring.json"), filepath.Join(dir, "keyring.bak")); err != nil {
		t.Fatal(err)
	}
	if _, err := embedded.Open(dir); err == nil || !strings.Contains(err.Error(), "restore the key file") {
		t.Fatalf("opened without the key file: %v", err)
	}
}

// TestBootstrapRefusesWeakToken: on an empty store a chosen admin token
// must be as strong as a random one; nothing is created otherwise.
func TestBootstrapRefusesWeakToken(t *testing.T) {
	for _, weak := range []string{
		"strata_" + strings.Repeat("a", 40),
		"strata_" + strings.Repeat("0123456789", 4),
		"strata_e2eAdminToken0123456789abcdefABCDEF",
	} {
		eng, err := embedded.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		ids, err := identity.New(identity.Config{Meta: eng.Meta})
		if err != nil {
			t.Fatal(err)
		}
		_, created, err := ids.Bootstrap(context.Background(), weak)
		wantErr(t, err, errs.ErrInvalid)
		if has, _ := ids.HasUsers(context.Background()); created || has {
			t.Fatalf("%s: bootstrapped", weak)
		}
		eng.Close()
	}
}

// Deleting a user leaves nothing of theirs behind but their files: no
// trash, no upload session (nor its stored parts, multipart upload and
// data key), no token, no item under the user at all.
func TestDeleteUserLeavesNoOrphans(t *testing.T) {
	e := newEnv(t, partSize(5<<20))
	ctx := context.Background()
	bob := e.user("bob")
	bobID := bob.UserID
	e.put(bob, "/home/bob/keep.txt", []byte("stays"))
	e.put(bob, "/home/bob/gone.txt", data(10_000, 1))
	if _, err := e.b.Delete(ctx, bob, p("/home/bob/gone.txt"), false); err != nil {
		t.Fatal(err)
	}
	var sessions []string
	for i := range 3 {
		u, err := e.b.CreateUpload(ctx, bob, p(fmt.Sprintf("/home/bob/big%d.bin", i)), backend.UploadOptions{Size: 6 << 20})
		if err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, u.ID)
		if i > 0 {
			part := data(5<<20, uint64(i))
			if _, err := e.b.PutPart(ctx, bob, "", u.ID, 1, bytes.NewReader(part), int64(len(part)), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	// One of them expired: the collector has not seen it yet.
	e.clock.Add(backend.DefaultUploadTTL + time.Hour)
	if _, err := e.ids.CreateToken(ctx, e.admin, "bob", "laptop", 0, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.ids.DeleteUser(ctx, e.admin, "bob"); err != nil {
		t.Fatal(err)
	}
	for _, pk := range append([]string{"user#" + bobID, "trash#" + bobID}, func() (out []string) {
		for _, id := range sessions {
			out = append(out, "upload#"+id)
		}
		return out
	}()...) {
		pg, err := e.meta.Query(ctx, pk, meta.QueryOpts{})
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.Items) > 0 {
			t.Errorf("%s left %d items: %v", pk, len(pg.Items), pg.Items)
		}
	}
	pg, err := e.meta.Query(ctx, "uploads", meta.QueryOpts{})
	if err != nil || len(pg.Items) > 0 {
		t.Errorf("the collector's index of sessions still has %v (%v)", pg.Items, err)
	}
	if ul, ok := e.blobs.(blob.UploadLister); ok {
		n := 0
		if err := ul.ListUploads(ctx, func(blob.PendingUpload) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			t.Errorf("%d multipart uploads of the deleted user's sessions are still open", n)
		}
	} else {
		t.Fatal("the embedded blob store lists its open uploads")
	}
	if string(e.mustRead(e.admin, "/home/bob/keep.txt")) != "stays" {
		t.Fatal("the deleted user's files must stay")
	}
}
