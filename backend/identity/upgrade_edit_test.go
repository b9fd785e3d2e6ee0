package identity

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/record"
)

// An administrator who took out the statement a version added (making the
// document an earlier built-in's) keeps that edit across restarts.
func TestBuiltinUpgradeKeepsAnEdit(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{now: time.Now()}
	m := boltStore(t)
	s := newService(t, m, clk)
	tok, _, err := s.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := s.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	const audit = "\n    },\n    {\n      \"Sid\": \"OwnAudit\",\n      \"Effect\": \"Allow\",\n      \"Action\": \"strata:ReadAudit\",\n      \"Resource\": \"strata:user/${strata:username}\""
	edited := strings.Replace(iam.HomePolicyDocument, audit, "", 1)
	if _, err := s.PutPolicy(ctx, admin, iam.HomePolicyName, []byte(edited), false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := newService(t, m, clk).Bootstrap(ctx, ""); err != nil {
		t.Fatal(err)
	}
	rec, _, err := record.Get[policyRec](ctx, m, pkPolicies, policySK+iam.HomePolicyName)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Doc != edited {
		t.Fatalf("the administrator's removal of OwnAudit was undone by a restart")
	}
}
