package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/audit"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/internal/storepath"
)

// What the audit log costs an upload on DynamoDB: a streamed upload's
// record rides in the transaction that commits it (no request of its
// own); an upload session's parts, written without a transaction, cost
// one Put each. The figures are logged (go test -v) for the closing note.
func TestAuditRequestsPerUploadOnDynamoDB(t *testing.T) {
	ctx := context.Background()
	// HomeRule decides: the policy cache's own reads would blur the count.
	c, reg := openAWSDaemon(t, "strata-audit", backend.Config{PartSize: 5 << 20, Decider: iam.HomeRule{}})
	ddbRequests := func() int64 { return awsRequests(t, reg, "DynamoDB") }
	admin, tok := adminAndAlice(t, c)
	alice, err := c.Identity.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}

	n := 0
	// request runs op as one API request would: with an audit scope when
	// audited, and returns the DynamoDB requests it made.
	request := func(audited bool, op func(ctx context.Context) error) int64 {
		t.Helper()
		n++
		ctx := iam.WithRequest(context.Background(), iam.Request{ID: fmt.Sprintf("r%d", n), Via: iam.ViaHTTP})
		var sc *audit.Scope
		if audited {
			ctx, sc = c.Audit.Begin(ctx, audit.Request{ID: fmt.Sprintf("r%d", n), Via: iam.ViaHTTP, Changes: true})
			sc.SetPrincipal(alice)
		}
		before := ddbRequests()
		if err := op(ctx); err != nil {
			t.Fatal(err)
		}
		sc.Finish(ctx, audit.OK)
		return ddbRequests() - before
	}
	small := bytes.Repeat([]byte("s"), 4<<10)
	put := func(audited bool) int64 {
		return request(audited, func(ctx context.Context) error {
			_, err := c.Files.Put(ctx, alice, storepath.MustParse(fmt.Sprintf("/home/alice/small-%d", n)), bytes.NewReader(small), backend.PutOptions{Size: int64(len(small))})
			return err
		})
	}
	// A session of two parts: create, two parts, complete.
	big := bytes.Repeat([]byte("b"), 6<<20)
	session := func(audited bool) int64 {
		var id string
		total := request(audited, func(ctx context.Context) error {
			u, err := c.Files.CreateUpload(ctx, alice, storepath.MustParse(fmt.Sprintf("/home/alice/big-%d", n)), backend.UploadOptions{Size: int64(len(big)), PartSize: 5 << 20})
			id = u.ID
			return err
		})
		for i, part := range [][]byte{big[:5<<20], big[5<<20:]} {
			total += request(audited, func(ctx context.Context) error {
				_, err := c.Files.PutPart(ctx, alice, "", id, i+1, bytes.NewReader(part), int64(len(part)), nil)
				return err
			})
		}
		return total + request(audited, func(ctx context.Context) error {
			_, err := c.Files.CompleteUpload(ctx, alice, "", id, nil)
			return err
		})
	}
	put(true) // the day's first record puts the day in the index, once
	const rounds = 3
	var plain, audited, plainS, auditedS int64
	for range rounds {
		plain += put(false)
		audited += put(true)
	}
	for range rounds {
		plainS += session(false)
		auditedS += session(true)
	}
	t.Logf("DynamoDB requests per 4 KiB upload: %.1f without the audit log, %.1f with it (%+.1f)",
		float64(plain)/rounds, float64(audited)/rounds, float64(audited-plain)/rounds)
	t.Logf("DynamoDB requests per upload session (create, 2 parts, complete): %.1f without, %.1f with (%+.1f)",
		float64(plainS)/rounds, float64(auditedS)/rounds, float64(auditedS-plainS)/rounds)
	if audited != plain {
		t.Errorf("a streamed upload's record costs %+.1f DynamoDB requests: it should ride in the upload's transaction", float64(audited-plain)/rounds)
	}
	// Measured: create and complete carry their records in their
	// transactions; each part's record is one more request (an
	// UpdateItem), as a part is stored without a transaction.
	// (A session's count varies a little run to run, with the renewals of
	// a Complete's claim.)
	if extra := float64(auditedS-plainS) / rounds; extra > 2.5 {
		t.Errorf("an upload session's records cost %+.1f DynamoDB requests: want one per part", extra)
	}
	// And they are all there.
	pg, err := c.Audit.List(ctx, admin, audit.Query{User: "alice", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + rounds*(1+4); len(pg.Records) != want {
		t.Errorf("%d records of alice, want %d", len(pg.Records), want)
	}
}

// adminAndAlice bootstraps the store's admin and makes the user alice:
// the admin's principal and a token of alice's.
func adminAndAlice(t *testing.T, c *daemon.Daemon) (iam.Principal, string) {
	t.Helper()
	ctx := context.Background()
	adminTok, _, err := c.Identity.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := c.Identity.Authenticate(ctx, adminTok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Identity.CreateUser(ctx, admin, "alice", false); err != nil {
		t.Fatal(err)
	}
	tok, err := c.Identity.CreateToken(ctx, admin, "alice", "bench", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return admin, tok.Secret
}
