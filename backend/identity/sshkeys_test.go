package identity

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/record"
)

func newSSHKey(t *testing.T) (ssh.PublicKey, []byte) {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	line := ssh.MarshalAuthorizedKey(k)
	return k, append(line[:len(line)-1], " laptop\n"...)
}

func TestSSHKeys(t *testing.T) {
	e := newAWSEnv(t)
	ctx := context.Background()
	alice, err := e.ids.UserID(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	key, line := newSSHKey(t)
	// Alice manages her own keys: a token of hers.
	tok, err := e.ids.CreateToken(ctx, e.admin, "alice", "t", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := e.ids.Authenticate(ctx, tok.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ids.AuthenticateSSHKey(ctx, key); !errors.Is(err, errs.ErrUnauthorized) {
		t.Fatalf("an unknown key: %v", err)
	}
	k, err := e.ids.AddSSHKey(ctx, pr, "", line)
	if err != nil {
		t.Fatal(err)
	}
	if k.Fingerprint != ssh.FingerprintSHA256(key) || k.Comment != "laptop" || k.User != "alice" || k.Type != "ssh-ed25519" {
		t.Fatalf("added %+v", k)
	}
	if u, err := e.ids.AuthenticateSSHKey(ctx, key); err != nil || u.ID != alice || u.Name != "alice" {
		t.Fatalf("alice's key: %+v, %v", u, err)
	}
	// The same key is nobody else's, and not alice's twice.
	if _, err := e.ids.AddSSHKey(ctx, e.admin, "bob", line); !errors.Is(err, errs.ErrExists) {
		t.Fatalf("alice's key given to bob: %v", err)
	}
	if _, err := e.ids.AddSSHKey(ctx, pr, "", line); !errors.Is(err, errs.ErrExists) {
		t.Fatalf("alice's key twice: %v", err)
	}
	// Alice may not touch bob's keys.
	if _, err := e.ids.ListSSHKeys(ctx, pr, "bob"); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("alice lists bob's keys: %v", err)
	}
	for _, bad := range []string{"", "ssh-ed25519", "not a key", `command="ls" ` + string(line)} {
		if _, err := e.ids.AddSSHKey(ctx, pr, "", []byte(bad)); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	ks, err := e.ids.ListSSHKeys(ctx, pr, "")
	if err != nil || len(ks) != 1 || ks[0].Fingerprint != k.Fingerprint {
		t.Fatalf("list: %+v, %v", ks, err)
	}
	if err := e.ids.RemoveSSHKey(ctx, pr, "", k.Fingerprint); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ids.AuthenticateSSHKey(ctx, key); !errors.Is(err, errs.ErrUnauthorized) {
		t.Fatalf("a removed key: %v", err)
	}
	if err := e.ids.RemoveSSHKey(ctx, pr, "", k.Fingerprint); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("removed twice: %v", err)
	}
	// Deleting a user frees their keys.
	if _, err := e.ids.AddSSHKey(ctx, e.admin, "bob", line); err != nil {
		t.Fatal(err)
	}
	if err := e.ids.DeleteUser(ctx, e.admin, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ids.AuthenticateSSHKey(ctx, key); !errors.Is(err, errs.ErrUnauthorized) {
		t.Fatalf("a deleted user's key: %v", err)
	}
	if _, err := e.ids.AddSSHKey(ctx, pr, "", line); err != nil {
		t.Fatalf("a deleted user's key given to alice: %v", err)
	}
}

func TestSessionToken(t *testing.T) {
	e := newAWSEnv(t)
	ctx := context.Background()
	id, err := e.ids.UserID(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	u := SSHUser{ID: id, Name: "alice"}
	if _, err := e.ids.SessionToken(ctx, u, iam.ViaHTTP, time.Hour); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("a session token for the network: %v", err)
	}
	tok, err := e.ids.SessionToken(ctx, u, iam.ViaSFTP, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	via := func(v string) context.Context { return iam.WithRequest(ctx, iam.Request{Via: v}) }
	for _, v := range []string{iam.ViaHTTP, iam.ViaSocket, iam.ViaSSH, ""} {
		if _, err := e.ids.Authenticate(via(v), tok.Secret); !errors.Is(err, errs.ErrUnauthorized) {
			t.Errorf("an sftp session's token through %q: %v", v, err)
		}
	}
	pr, err := e.ids.Authenticate(via(iam.ViaSFTP), tok.Secret)
	if err != nil || pr.Name != "alice" || pr.Via != iam.ViaSFTP {
		t.Fatalf("through sftp: %+v, %v", pr, err)
	}
	counter := func() int64 {
		it, err := e.ids.meta.Get(ctx, pkConfig, skPolicyVer)
		if err != nil && !record.IsNotFound(err) {
			t.Fatal(err)
		}
		return it.N
	}
	before := counter()
	if err := e.ids.EndSession(ctx, tok); err != nil {
		t.Fatal(err)
	}
	// Refused at once by the server that held it, without moving the
	// counter that makes every server drop its caches.
	if _, err := e.ids.Authenticate(via(iam.ViaSFTP), tok.Secret); !errors.Is(err, errs.ErrUnauthorized) {
		t.Fatalf("an ended session's token: %v", err)
	}
	if after := counter(); after != before {
		t.Fatalf("the end of a session moved the policy counter %d → %d", before, after)
	}
}
