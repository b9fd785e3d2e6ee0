package identity

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta/bolt"
)

func TestAWSKeys(t *testing.T) {
	for _, c := range []struct {
		arn  string
		want []string // nil: refused
	}{
		{"arn:aws:iam::123456789012:user/alice", []string{"arn:aws:iam::123456789012:user/alice"}},
		{"arn:aws:iam::123456789012:user/division/team/alice", []string{"arn:aws:iam::123456789012:user/alice"}},
		{"arn:aws:iam::123456789012:role/eng", []string{"arn:aws:iam::123456789012:role/eng"}},
		{"arn:aws:iam::123456789012:role/service-role/eng", []string{"arn:aws:iam::123456789012:role/eng"}},
		{"arn:aws:sts::123456789012:assumed-role/eng/alice@example.com",
			[]string{"arn:aws:sts::123456789012:assumed-role/eng/alice@example.com", "arn:aws:iam::123456789012:role/eng"}},
		{"arn:aws-us-gov:iam::123456789012:user/bob", []string{"arn:aws-us-gov:iam::123456789012:user/bob"}},
		{"arn:aws-cn:sts::123456789012:assumed-role/r/s", []string{"arn:aws-cn:sts::123456789012:assumed-role/r/s", "arn:aws-cn:iam::123456789012:role/r"}},
		// Not users, roles or sessions, or not as STS names them.
		{"arn:aws:iam::123456789012:root", nil},
		{"arn:aws:sts::123456789012:user/moto", nil},
		{"arn:aws:iam::123456789012:assumed-role/eng/s", nil},
		{"arn:aws:sts::123456789012:federated-user/bob", nil},
		{"arn:aws:iam::123456789012:group/admins", nil},
		{"arn:aws:iam::12345678901:user/alice", nil},
		{"arn:aws:iam::123456789012:user/", nil},
		{"arn:aws:iam::123456789012:user/*", nil},
		{"arn:aws:iam::123456789012:user/ali ce", nil},
		{"arn:aws:iam::123456789012:role/div//eng", nil},
		{"arn:aws:sts::123456789012:assumed-role/eng", nil},
		{"arn:aws:sts::123456789012:assumed-role/eng/a/b", nil},
		{"arn:aws:s3:::bucket", nil},
		{"arn:gcp:iam::123456789012:user/alice", nil},
		{"", nil},
	} {
		got, _, err := awsKeys(c.arn)
		if c.want == nil {
			if err == nil || !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("%q: %v, %v; want it refused", c.arn, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%q: %v, %v; want %v", c.arn, got, err, c.want)
		}
	}
}

type awsEnv struct {
	ids   *Service
	admin iam.Principal
	now   time.Time
}

func newAWSEnv(t *testing.T) *awsEnv {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &awsEnv{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	ids, err := New(Config{Meta: st, Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tok, _, err := ids.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if e.admin, err = ids.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"alice", "bob"} {
		if _, err := ids.CreateUser(ctx, e.admin, n, false); err != nil {
			t.Fatal(err)
		}
	}
	e.ids = ids
	return e
}

// login logs in as arn with a fresh request ID.
func (e *awsEnv) login(t *testing.T, arn, request string) (string, error) {
	t.Helper()
	tok, _, err := e.ids.LoginAWS(context.Background(), AWSLogin{ARN: arn, Request: request, Expires: e.now.Add(30 * time.Minute)})
	if err != nil {
		return "", err
	}
	pr, err := e.ids.Authenticate(context.Background(), tok.Secret)
	if err != nil {
		t.Fatalf("the token of an AWS login does not authenticate: %v", err)
	}
	if tok.Expires == nil || !tok.Expires.Equal(e.now.Add(DefaultLoginTTL)) {
		t.Errorf("token expiry %v, want %v", tok.Expires, e.now.Add(DefaultLoginTTL))
	}
	return pr.Name, nil
}

func TestAWSLoginMapping(t *testing.T) {
	e := newAWSEnv(t)
	ctx := context.Background()
	add := func(user, arn string) {
		t.Helper()
		if _, err := e.ids.AddAWSIdentity(ctx, e.admin, user, arn); err != nil {
			t.Fatalf("add %s to %s: %v", arn, user, err)
		}
	}
	add("alice", "arn:aws:iam::123456789012:user/div/alice")
	add("alice", "arn:aws:iam::123456789012:role/eng")
	add("bob", "arn:aws:sts::123456789012:assumed-role/eng/bob@example.com")

	n := 0
	for _, c := range []struct{ arn, want string }{
		{"arn:aws:iam::123456789012:user/div/alice", "alice"},
		{"arn:aws:iam::123456789012:user/alice", "alice"}, // a path is not part of the match
		{"arn:aws:sts::123456789012:assumed-role/eng/build-42", "alice"},
		{"arn:aws:sts::123456789012:assumed-role/eng/bob@example.com", "bob"}, // the session before its role
		{"arn:aws:iam::123456789012:user/mallory", ""},
		{"arn:aws:iam::210987654321:user/alice", ""}, // another account
		{"arn:aws:sts::123456789012:assumed-role/ops/alice", ""},
		{"arn:aws:iam::123456789012:role/eng", ""}, // a role itself never signs
		{"arn:aws:iam::123456789012:user/Alice", ""},
		{"not an arn", ""},
	} {
		n++
		got, err := e.login(t, c.arn, "req-"+string(rune('a'+n)))
		if c.want == "" {
			if !errors.Is(err, errs.ErrUnauthorized) {
				t.Errorf("%s logged in as %q (%v); want ErrUnauthorized", c.arn, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: logged in as %q (%v), want %s", c.arn, got, err, c.want)
		}
	}

	// A signed request logs in once.
	if _, err := e.login(t, "arn:aws:iam::123456789012:user/alice", "req-once"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.login(t, "arn:aws:iam::123456789012:user/alice", "req-once"); !errors.Is(err, errs.ErrUnauthorized) {
		t.Fatalf("a request used twice: %v", err)
	}

	// An ARN maps to one user, in whatever form it is given.
	for _, arn := range []string{"arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:role/other-path/eng"} {
		if _, err := e.ids.AddAWSIdentity(ctx, e.admin, "bob", arn); !errors.Is(err, errs.ErrExists) {
			t.Errorf("mapping %s to bob as well: %v", arn, err)
		}
	}
	if _, err := e.ids.AddAWSIdentity(ctx, e.admin, "alice", "arn:aws:iam::123456789012:role/eng"); !errors.Is(err, errs.ErrExists) {
		t.Errorf("mapping it twice: %v", err)
	}
	for _, c := range []struct {
		user, arn string
		want      error
	}{
		{"alice", "arn:aws:iam::123456789012:user/*", errs.ErrInvalid},
		{"alice", "arn:aws:iam::123456789012:root", errs.ErrInvalid},
		{"nobody", "arn:aws:iam::123456789012:user/zed", errs.ErrNotFound},
	} {
		if _, err := e.ids.AddAWSIdentity(ctx, e.admin, c.user, c.arn); !errors.Is(err, c.want) {
			t.Errorf("add %s to %s: %v, want %v", c.arn, c.user, err, c.want)
		}
	}

	list, err := e.ids.AWSIdentities(ctx, e.admin, "alice")
	if err != nil || len(list) != 2 || list[0].ARN != "arn:aws:iam::123456789012:role/eng" || list[1].ARN != "arn:aws:iam::123456789012:user/div/alice" {
		t.Fatalf("alice's AWS identities: %+v %v", list, err)
	}

	// Removed, it logs in no more; the sessions of the role neither.
	if err := e.ids.RemoveAWSIdentity(ctx, e.admin, "alice", "arn:aws:iam::123456789012:role/eng"); err != nil {
		t.Fatal(err)
	}
	if err := e.ids.RemoveAWSIdentity(ctx, e.admin, "alice", "arn:aws:iam::123456789012:role/eng"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("removing it twice: %v", err)
	}
	if err := e.ids.RemoveAWSIdentity(ctx, e.admin, "bob", "arn:aws:iam::123456789012:user/alice"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("removing alice's ARN from bob: %v", err)
	}
	if _, err := e.login(t, "arn:aws:sts::123456789012:assumed-role/eng/build-43", "req-x"); !errors.Is(err, errs.ErrUnauthorized) {
		t.Fatalf("a session of a removed role: %v", err)
	}
	if got, err := e.login(t, "arn:aws:sts::123456789012:assumed-role/eng/bob@example.com", "req-y"); err != nil || got != "bob" {
		t.Fatalf("bob's session: %q %v", got, err)
	}

	// A deleted user's identities go with them, free to map to someone
	// else.
	if err := e.ids.DeleteUser(ctx, e.admin, "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.login(t, "arn:aws:sts::123456789012:assumed-role/eng/bob@example.com", "req-z"); !errors.Is(err, errs.ErrUnauthorized) {
		t.Fatalf("a deleted user's identity: %v", err)
	}
	add("alice", "arn:aws:sts::123456789012:assumed-role/eng/bob@example.com")
}

func TestAWSIdentitiesNeedManageUsers(t *testing.T) {
	e := newAWSEnv(t)
	ctx := context.Background()
	tok, err := e.ids.CreateToken(ctx, e.admin, "alice", "t", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	alice, err := e.ids.Authenticate(ctx, tok.Secret)
	if err != nil {
		t.Fatal(err)
	}
	// Not even her own: mapping an identity to herself would let whoever
	// holds it in as her.
	if _, err := e.ids.AddAWSIdentity(ctx, alice, "alice", "arn:aws:iam::123456789012:user/alice"); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("alice maps an ARN to herself: %v", err)
	}
	if _, err := e.ids.AWSIdentities(ctx, alice, "bob"); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("alice lists bob's: %v", err)
	}
	if err := e.ids.RemoveAWSIdentity(ctx, alice, "bob", "arn:aws:iam::123456789012:user/bob"); !errors.Is(err, errs.ErrForbidden) {
		t.Fatalf("alice removes bob's: %v", err)
	}
}
