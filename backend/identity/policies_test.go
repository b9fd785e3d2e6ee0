package identity

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/meta/bolt"
	"github.com/strata-storage/strata/backend/meta/dynamo"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// countingMeta counts the reads a service makes.
type countingMeta struct {
	meta.Store
	reads atomic.Int64
}

func (c *countingMeta) Get(ctx context.Context, pk, sk string) (meta.Item, error) {
	c.reads.Add(1)
	return c.Store.Get(ctx, pk, sk)
}

func (c *countingMeta) Query(ctx context.Context, pk string, o meta.QueryOpts) (meta.Page, error) {
	c.reads.Add(1)
	return c.Store.Query(ctx, pk, o)
}

func boltStore(t *testing.T) meta.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newService(t *testing.T, m meta.Store, clk *fakeClock) *Service {
	t.Helper()
	var s *Service
	dec := iam.NewPolicyDecider(iam.PolicySourceFunc(func(pr iam.Principal) (*iam.PolicySet, error) { return s.Policies(pr) }), clk.Now)
	s, err := New(Config{Meta: m, Decider: dec, Now: clk.Now, PasswordCost: PasswordCost{MemoryKiB: 1024, Passes: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A store made before policies (users with no policy, an admin marked on
// the user) is moved onto them once: each user gets the home policy, the
// admin the admins group, and decisions stay what they were.
func TestMigrationToPolicies(t *testing.T) {
	ctx := context.Background()
	m := boltStore(t)
	clk := &fakeClock{now: time.Now()}
	for _, u := range []struct {
		id, name string
		admin    bool
	}{{"u1", "admin", true}, {"u2", "alice", false}} {
		if err := m.Transact(ctx, []meta.Op{
			meta.Put(record.Item(usernamePK(u.name), skUser, usernameRec{ID: u.id}), meta.MustNew),
			meta.Put(record.Item(userPK(u.id), skProfile, userRec{Name: u.name, Admin: u.admin}), meta.MustNew),
			meta.Put(record.Item(pkUsers, userIndexSK(u.name), usernameRec{ID: u.id}), meta.MustNew),
		}); err != nil {
			t.Fatal(err)
		}
	}
	s := newService(t, m, clk)
	if _, created, err := s.Bootstrap(ctx, ""); err != nil || created {
		t.Fatalf("bootstrap of a store with users: %v %v", created, err)
	}
	alice := iam.User("u2", "alice", false, "")
	admin := iam.User("u1", "admin", true, "")
	decide := func(pr iam.Principal, act iam.Action, p string) bool {
		set, err := s.Policies(pr)
		if err != nil {
			t.Fatal(err)
		}
		return set.Evaluate(pr, act, iam.PathOf(storepath.MustParse(p)), iam.Request{}).Allowed
	}
	if !decide(alice, iam.PutFile, "/home/alice/x") || decide(alice, iam.GetFile, "/home/admin/x") {
		t.Fatal("alice is not confined to her home")
	}
	if !decide(admin, iam.GetFile, "/home/alice/x") || decide(admin, iam.DeleteFile, "/") {
		t.Fatal("the admin is not an admin")
	}
	users, err := s.ListUsers(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if !slices.Contains(u.Policies, iam.HomePolicyName) || (u.Name == "admin") != slices.Contains(u.Groups, AdminsGroup) {
			t.Errorf("%s after the move: groups %v, policies %v", u.Name, u.Groups, u.Policies)
		}
	}
	// Once: a policy detached afterwards stays detached at the next start.
	if err := s.DetachPolicy(ctx, admin, iam.HomePolicyName, Target{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := newService(t, m, clk).Bootstrap(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if decide(alice, iam.GetFile, "/home/alice/x") {
		t.Fatal("the move ran again: alice has the home policy back")
	}
}

// Two servers on one store agree within PolicyTTL of a change made on
// either, and a server asks the store nothing for a principal whose
// policies it has cached, until the TTL runs out.
func TestPolicyCacheAcrossServers(t *testing.T) {
	onBothStores(t, "strata-policies", testCacheAcrossServers)
}

// onBothStores runs test on a bbolt store and on a DynamoDB table (moto's
// in scripts/test.sh) named after table.
func onBothStores(t *testing.T, table string, test func(*testing.T, meta.Store)) {
	t.Run("bolt", func(t *testing.T) { test(t, boltStore(t)) })
	t.Run("dynamodb", func(t *testing.T) {
		ctx := context.Background()
		table := awstest.Name(table)
		ddb := awstest.DynamoDB(t)
		if err := dynamo.CreateTable(ctx, ddb, table); err != nil {
			t.Fatal(err)
		}
		st, err := dynamo.New(ddb, table)
		if err != nil {
			t.Fatal(err)
		}
		test(t, st)
	})
}

// twoServers are two services on the store m with one clock, the store
// bootstrapped through a; cb counts b's reads; admin is a's admin.
func twoServers(t *testing.T, m meta.Store) (clk *fakeClock, a, b *Service, cb *countingMeta, admin iam.Principal) {
	t.Helper()
	clk = &fakeClock{now: time.Now()}
	cb = &countingMeta{Store: m}
	a, b = newService(t, &countingMeta{Store: m}, clk), newService(t, cb, clk)
	if _, _, err := a.Bootstrap(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	admin, err := a.Authenticate(context.Background(), mustToken(t, a))
	if err != nil {
		t.Fatal(err)
	}
	return clk, a, b, cb, admin
}

func testCacheAcrossServers(t *testing.T, m meta.Store) {
	ctx := context.Background()
	clk, a, b, cb, admin := twoServers(t, m)
	if _, err := a.CreateUser(ctx, admin, "alice", false); err != nil {
		t.Fatal(err)
	}
	u, _ := a.lookupUser(ctx, "alice")
	alice := iam.User(u.ID, "alice", false, "")
	res := iam.PathOf(storepath.MustParse("/home/alice/a.txt"))
	allowed := func(s *Service) bool {
		return iam.Authorize(ctx, s.decider, alice, iam.GetFile, res) == nil
	}
	if !allowed(a) || !allowed(b) {
		t.Fatal("alice may not read her own file")
	}
	// Cached: no read of the store within the TTL.
	before := cb.reads.Load()
	for range 100 {
		allowed(b)
	}
	if n := cb.reads.Load() - before; n != 0 {
		t.Fatalf("%d reads for 100 decisions of a cached principal", n)
	}
	// A deny made on server a: a decides with it at once, b within
	// PolicyTTL.
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"strata:GetFile","Resource":"/home/alice/*"}]}`
	if _, err := a.PutPolicy(ctx, admin, "no-reading", []byte(deny), true); err != nil {
		t.Fatal(err)
	}
	if err := a.AttachPolicy(ctx, admin, "no-reading", Target{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	if allowed(a) {
		t.Fatal("the server that made the change still allows")
	}
	if !allowed(b) {
		t.Fatal("the other server changed its mind before its cache's time")
	}
	clk.Add(PolicyTTL)
	if allowed(b) {
		t.Fatalf("the other server still allows %v after the change", PolicyTTL)
	}
}

// Two servers on one store take a token without reading the store once
// they found it, and stop taking it within PolicyTTL of its revoke or its
// user's deletion made on either; an expired token is refused at once,
// found or not; a user made admin is one within PolicyTTL.
func TestTokenCacheAcrossServers(t *testing.T) {
	onBothStores(t, "strata-tokens", testTokenCacheAcrossServers)
}

func testTokenCacheAcrossServers(t *testing.T, m meta.Store) {
	ctx := context.Background()
	clk, a, b, cb, admin := twoServers(t, m)
	for _, n := range []string{"alice", "bob"} {
		if _, err := a.CreateUser(ctx, admin, n, false); err != nil {
			t.Fatal(err)
		}
	}
	token := func(user string, ttl time.Duration) string {
		tok, err := a.CreateToken(ctx, admin, user, "t", ttl, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tok.Secret
	}
	takes := func(s *Service, tok string) bool {
		_, err := s.Authenticate(ctx, tok)
		if err != nil && !errors.Is(err, errs.ErrUnauthorized) {
			t.Fatal(err)
		}
		return err == nil
	}
	alice, bob := token("alice", 0), token("bob", 0)
	if !takes(b, alice) || !takes(b, bob) {
		t.Fatal("a new token refused")
	}
	before := cb.reads.Load()
	for range 100 {
		takes(b, alice)
	}
	if n := cb.reads.Load() - before; n != 0 {
		t.Fatalf("%d reads for 100 requests with a token found before", n)
	}

	// Revoked on a: refused there at once, on b within PolicyTTL.
	toks, err := a.ListTokens(ctx, admin, "alice")
	if err != nil || len(toks) != 1 {
		t.Fatalf("alice's tokens %+v %v", toks, err)
	}
	if err := a.RevokeToken(ctx, admin, "alice", toks[0].ID); err != nil {
		t.Fatal(err)
	}
	if takes(a, alice) {
		t.Fatal("the server that revoked the token still takes it")
	}
	if !takes(b, alice) {
		t.Fatal("the other server dropped the token before its cache's time")
	}
	clk.Add(PolicyTTL)
	if takes(b, alice) {
		t.Fatalf("the other server still takes a token revoked %v ago", PolicyTTL)
	}

	// Deleted on a: bob's token goes on both the same way.
	if err := a.DeleteUser(ctx, admin, "bob"); err != nil {
		t.Fatal(err)
	}
	if takes(a, bob) {
		t.Fatal("the server that deleted bob still takes his token")
	}
	clk.Add(PolicyTTL)
	if takes(b, bob) {
		t.Fatalf("the other server still takes the token of a user deleted %v ago", PolicyTTL)
	}

	// Found a second before it expires, refused the second after.
	short := token("alice", time.Hour)
	clk.Add(time.Hour - time.Second)
	if !takes(b, short) {
		t.Fatal("a token refused before it expired")
	}
	clk.Add(2 * time.Second)
	if takes(b, short) {
		t.Fatal("an expired token taken from the cache")
	}

	// Made admin on a: b says so within PolicyTTL.
	fresh := token("alice", 0)
	if pr, err := b.Authenticate(ctx, fresh); err != nil || pr.Admin {
		t.Fatalf("alice %+v %v", pr, err)
	}
	if err := a.AddToGroup(ctx, admin, AdminsGroup, "alice"); err != nil {
		t.Fatal(err)
	}
	clk.Add(PolicyTTL)
	if pr, err := b.Authenticate(ctx, fresh); err != nil || !pr.Admin {
		t.Fatalf("alice %+v %v: not admin %v after she was made one", pr, err, PolicyTTL)
	}
}

// mustToken is a token of the admin for the network, made as the owner
// makes one: with the owner's token on the private socket.
func mustToken(t *testing.T, s *Service) string {
	t.Helper()
	ctx := context.Background()
	owner, err := s.OwnerToken(ctx, "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := s.Authenticate(iam.WithRequest(ctx, iam.Request{Via: iam.ViaSocket}), owner.Secret)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.CreateToken(ctx, pr, "", "test", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Secret
}

// Policies that are malformed, in use, built in or about the last admin
// are refused with what to do.
func TestPolicyRefusals(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{now: time.Now()}
	s := newService(t, boltStore(t), clk)
	if _, _, err := s.Bootstrap(ctx, ""); err != nil {
		t.Fatal(err)
	}
	admin, _ := s.Authenticate(ctx, mustToken(t, s))
	for _, bad := range []string{`{`, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`} {
		if _, err := s.PutPolicy(ctx, admin, "bad", []byte(bad), true); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	for _, err := range []error{
		s.DeletePolicy(ctx, admin, iam.HomePolicyName),
		s.DeleteGroup(ctx, admin, AdminsGroup),
		s.RemoveFromGroup(ctx, admin, AdminsGroup, "admin"),
		s.DetachPolicy(ctx, admin, iam.AdminPolicyName, Target{Group: AdminsGroup}),
	} {
		if !errors.Is(err, ErrInUse) || !errors.Is(err, errs.ErrConflict) || strings.Contains(err.Error(), "try again") {
			t.Errorf("want in use (a conflict that no retry helps): %v", err)
		}
	}
	if err := s.AttachPolicy(ctx, admin, iam.HomePolicyName, Target{User: "nobody"}); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("attach to a missing user: %v", err)
	}
	if err := s.AddToGroup(ctx, admin, "nogroup", "admin"); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("a missing group: %v", err)
	}
	// A second admin may leave; then the first is the last again.
	if _, err := s.CreateUser(ctx, admin, "root2", true); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveFromGroup(ctx, admin, AdminsGroup, "root2"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, admin, "root2"); err != nil {
		t.Fatal(err)
	}
}
