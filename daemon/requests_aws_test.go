package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/audit"
	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/engine"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta/dynamo"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/internal/storepath"
)

// openAWSDaemon opens a store on fresh AWS resources at the test endpoint
// (moto), with its AWS requests counted in the returned registry.
func openAWSDaemon(t *testing.T, prefix string, core backend.Config) (*daemon.Daemon, *prometheus.Registry) {
	t.Helper()
	ctx := context.Background()
	ep := awstest.Endpoint(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", awstest.Region)
	bucket, table := awstest.Name(prefix), awstest.Name(prefix)
	if _, err := awstest.S3(t).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if err := dynamo.CreateTable(ctx, awstest.DynamoDB(t), table); err != nil {
		t.Fatal(err)
	}
	key, err := awstest.KMS(t).CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecSymmetricDefault})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	c, err := daemon.Open(ctx, daemon.Config{
		Engines: engine.Spec{DataDir: t.TempDir(), Blob: "s3://" + bucket, Meta: "dynamodb://" + table, Keys: "kms://" + *key.KeyMetadata.Arn,
			AWSEndpoint: ep, Registerer: reg},
		Core: core,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, reg
}

// awsRequests counts the requests the engines made to service (DynamoDB,
// KMS, S3), from strata_aws_requests_total.
func awsRequests(t *testing.T, reg *prometheus.Registry, service string) int64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "strata_aws_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "service" && l.GetValue() == service {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return int64(n)
}

// What one small-file upload costs on the AWS engines, as the HTTP server
// makes it: authenticate the token, decide with the stored policies, put
// the file (with its audit record) into a folder written before. At most
// 3 DynamoDB requests and 1 KMS call for a new file (it was 7 and 1: a
// walk of four folders, before the cache of folders); an overwrite costs
// more, as the name turns out taken.
func TestSmallUploadRequestsOnAWS(t *testing.T) {
	ctx := context.Background()
	// The clock stands still, which leaves out the one read of the policy
	// counter a server makes per identity.PolicyTTL (2 s), whatever the
	// number of requests: moto takes about that for a few uploads.
	now := time.Now()
	c, reg := openAWSDaemon(t, "strata-reqs", backend.Config{PartSize: 5 << 20, Now: func() time.Time { return now }})
	admin, tok := adminAndAlice(t, c)
	small := bytes.Repeat([]byte("s"), 4<<10)
	n := 0
	// put uploads path as one API request, and returns its DynamoDB
	// requests and KMS calls.
	put := func(path string) (ddb, kmsCalls int64) {
		t.Helper()
		n++
		d0, k0 := awsRequests(t, reg, "DynamoDB"), awsRequests(t, reg, "KMS")
		rctx := iam.WithRequest(ctx, iam.Request{ID: fmt.Sprintf("r%d", n), Via: iam.ViaHTTP})
		rctx, sc := c.Audit.Begin(rctx, audit.Request{ID: fmt.Sprintf("r%d", n), Via: iam.ViaHTTP, Changes: true})
		alice, err := c.Identity.Authenticate(rctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		sc.SetPrincipal(alice)
		if _, err := c.Files.Put(rctx, alice, storepath.MustParse(path), bytes.NewReader(small), backend.PutOptions{Size: int64(len(small))}); err != nil {
			t.Fatal(err)
		}
		sc.Finish(rctx, audit.OK)
		return awsRequests(t, reg, "DynamoDB") - d0, awsRequests(t, reg, "KMS") - k0
	}
	put("/home/alice/small/first") // makes the folder, warms the caches
	const rounds = 5
	var ddb, kmsCalls, ddbOver int64
	for i := range rounds {
		d, k := put(fmt.Sprintf("/home/alice/small/f%d", i))
		ddb += d
		kmsCalls += k
		d, _ = put(fmt.Sprintf("/home/alice/small/f%d", i))
		ddbOver += d
	}
	t.Logf("per new 4 KiB file: %.1f DynamoDB requests, %.1f KMS calls; per overwrite: %.1f DynamoDB requests",
		float64(ddb)/rounds, float64(kmsCalls)/rounds, float64(ddbOver)/rounds)
	if ddb > 3*rounds || kmsCalls != rounds {
		t.Errorf("a new small file costs %.1f DynamoDB requests and %.1f KMS calls, want at most 3 and 1",
			float64(ddb)/rounds, float64(kmsCalls)/rounds)
	}
	// All on the record, each in its upload's transaction.
	pg, err := c.Audit.List(ctx, admin, audit.Query{User: "alice", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + 2*rounds; len(pg.Records) != want {
		t.Errorf("%d records of alice, want %d", len(pg.Records), want)
	}
}
