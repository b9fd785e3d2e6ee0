package identity

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/meta/dynamo"
	"github.com/strata-storage/strata/backend/record"
)

// A store made by an earlier version keeps the home policy it was given,
// which lacks what this version's home policy allows (a user's own links,
// their own audit records): it is upgraded when the store is opened, but
// only while it is still exactly an earlier built-in document; an
// administrator's edit stays as it is.
func TestBuiltinUpgrade(t *testing.T) {
	t.Run("bolt", func(t *testing.T) { testBuiltinUpgrade(t, func() meta.Store { return boltStore(t) }) })
	t.Run("dynamodb", func(t *testing.T) {
		ddb := awstest.DynamoDB(t)
		testBuiltinUpgrade(t, func() meta.Store {
			table := awstest.Name("strata-upgrade")
			if err := dynamo.CreateTable(context.Background(), ddb, table); err != nil {
				t.Fatal(err)
			}
			st, err := dynamo.New(ddb, table)
			if err != nil {
				t.Fatal(err)
			}
			return st
		})
	})
}

// earlierHomeDocuments rebuilds, from iam.HomePolicyDocument, the home
// policies earlier versions stored, oldest first.
func earlierHomeDocuments(t testing.TB) []string {
	t.Helper()
	cut := func(doc, old, new string) string {
		t.Helper()
		if !strings.Contains(doc, old) {
			t.Fatalf("the home policy no longer has %q", old)
		}
		return strings.Replace(doc, old, new, 1)
	}
	const audit = "\n    },\n    {\n      \"Sid\": \"OwnAudit\",\n      \"Effect\": \"Allow\",\n      \"Action\": \"strata:ReadAudit\",\n      \"Resource\": \"strata:user/${strata:username}\""
	links := cut(iam.HomePolicyDocument, audit, "")
	withAudit := cut(cut(iam.HomePolicyDocument, "\"strata:ManagePassword\",\n        \"strata:ManageShares\"", "\"strata:ManagePassword\""),
		"\"strata:job/${strata:username}/*\",\n        \"strata:link/${strata:username}/*\"", "\"strata:job/${strata:username}/*\"")
	password := cut(withAudit, audit, "")
	first := cut(password, "\"strata:GetUser\",\n        \"strata:ManagePassword\"", "\"strata:GetUser\"")
	return []string{first, password, withAudit, links}
}

func testBuiltinUpgrade(t *testing.T, store func() meta.Store) {
	ctx := context.Background()
	clk := &fakeClock{now: time.Now()}
	var alice iam.Principal
	// start opens a new store: the admin and alice.
	start := func(m meta.Store) {
		t.Helper()
		s := newService(t, m, clk)
		tok, _, err := s.Bootstrap(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		admin, err := s.Authenticate(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		u, err := s.CreateUser(ctx, admin, "alice", false)
		if err != nil {
			t.Fatal(err)
		}
		alice = iam.User(u.ID, "alice", false, "")
	}
	mayAll := func(s *Service) bool {
		set, err := s.Policies(alice)
		if err != nil {
			t.Fatal(err)
		}
		return set.Evaluate(alice, iam.ManageShares, iam.LinkOf("alice", "*"), iam.Request{}).Allowed &&
			set.Evaluate(alice, iam.ReadAudit, iam.UserNamed("alice"), iam.Request{}).Allowed
	}
	setHome := func(m meta.Store, doc string) {
		t.Helper()
		rec, it, err := record.Get[policyRec](ctx, m, pkPolicies, policySK+iam.HomePolicyName)
		if err != nil {
			t.Fatal(err)
		}
		rec.Doc = doc
		if _, err := m.Put(ctx, record.Item(pkPolicies, policySK+iam.HomePolicyName, rec), meta.AtVersion(it.Version)); err != nil {
			t.Fatal(err)
		}
	}
	home := func(m meta.Store) string {
		t.Helper()
		rec, _, err := record.Get[policyRec](ctx, m, pkPolicies, policySK+iam.HomePolicyName)
		if err != nil {
			t.Fatal(err)
		}
		return rec.Doc
	}
	for _, old := range earlierHomeDocuments(t) {
		if !iam.EarlierBuiltIn(iam.HomePolicyName, old) {
			t.Fatalf("not taken for an earlier home policy:\n%s", old)
		}
		m := store()
		start(m)
		setHome(m, old) // as an earlier version left it
		if mayAll(newService(t, m, clk)) {
			t.Fatal("an earlier home policy lets alice manage her links and read her audit records")
		}
		if _, _, err := newService(t, m, clk).Bootstrap(ctx, ""); err != nil {
			t.Fatal(err)
		}
		if got := home(m); got != iam.HomePolicyDocument {
			t.Errorf("an earlier home policy was not upgraded:\n%s", got)
		}
		if !mayAll(newService(t, m, clk)) {
			t.Error("after the upgrade alice may not manage her links or read her audit records")
		}
	}
	// An administrator's edit of the home policy stays.
	m := store()
	start(m)
	edited := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"strata:GetFile","Resource":"/home/${strata:username}/*"}]}`
	setHome(m, edited)
	if _, _, err := newService(t, m, clk).Bootstrap(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if got := home(m); got != edited {
		t.Errorf("an administrator's home policy was replaced:\n%s", got)
	}
}

func TestEarlierBuiltIn(t *testing.T) {
	for _, doc := range []string{iam.HomePolicyDocument, iam.AdminPolicyDocument, iam.HomePolicyDocument + " "} {
		if iam.EarlierBuiltIn(iam.HomePolicyName, doc) || iam.EarlierBuiltIn(iam.AdminPolicyName, doc) {
			t.Errorf("taken for an earlier built-in:\n%s", doc)
		}
	}
	for i, doc := range earlierHomeDocuments(t) {
		if _, err := iam.Parse(iam.HomePolicyName, []byte(doc)); err != nil {
			t.Errorf("earlier home policy %d: %v", i, err)
		}
	}
}
