package awsauth

import (
	"context"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/awstest"
)

// TestVerifyOnMoto has moto's STS say who signed: an IAM user, and a
// session of a role.
func TestVerifyOnMoto(t *testing.T) {
	ep := awstest.Endpoint(t)
	v, err := NewVerifier(Config{Endpoint: ep, Region: awstest.Region, ServerIDs: []string{serverID}})
	if err != nil {
		t.Fatal(err)
	}
	user := awstest.IAMUser(t, "/div/")
	role := awstest.Name("role")
	sess := awstest.AssumeRole(t, role, "build-7")
	if want := "arn:aws:sts::" + awstest.Account + ":assumed-role/" + role + "/build-7"; sess.ARN != want {
		t.Fatalf("assumed %s, want %s", sess.ARN, want)
	}
	for _, p := range []awstest.Principal{user, sess} {
		r, err := Sign(context.Background(), p.Creds, ep, awstest.Region, serverID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		c, err := v.Verify(context.Background(), r)
		if err != nil {
			t.Fatalf("%s: %v", p.ARN, err)
		}
		if c.ARN != p.ARN || c.Account != awstest.Account || c.AccessKeyID != p.Creds.AccessKeyID {
			t.Fatalf("STS said %+v, want %s", c, p.ARN)
		}
	}
}
