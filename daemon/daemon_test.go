package daemon_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/engine"
	"github.com/strata-storage/strata/backend/meta/dynamo"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/server/client"
)

// Every combination of embedded and AWS engines starts on a data
// directory that does not exist yet (it once failed with "bolt: open
// DIR/meta.db: no such file or directory" when the blobs were on S3), and
// serves a file back.
func TestEveryEngineSet(t *testing.T) {
	ctx := context.Background()
	var bucket, keyARN string
	awsFor := func(t *testing.T) string {
		ep := awstest.Endpoint(t) // skips (or fails, in CI) without moto
		if bucket == "" {
			bucket = awstest.Name("strata-daemon")
			if _, err := awstest.S3(t).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
				t.Fatal(err)
			}
			key, err := awstest.KMS(t).CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecSymmetricDefault})
			if err != nil {
				t.Fatal(err)
			}
			keyARN = *key.KeyMetadata.Arn
		}
		return ep
	}
	for combo := range 8 {
		onAWS := [3]bool{combo&1 != 0, combo&2 != 0, combo&4 != 0}
		name := fmt.Sprintf("blob=%s,meta=%s,keys=%s", kind(onAWS[0]), kind(onAWS[1]), kind(onAWS[2]))
		t.Run(name, func(t *testing.T) {
			spec := engine.Spec{DataDir: filepath.Join(t.TempDir(), "not", "there", "yet")}
			if combo != 0 {
				spec.AWSEndpoint = awsFor(t)
				t.Setenv("AWS_ACCESS_KEY_ID", "testing")
				t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
				t.Setenv("AWS_REGION", awstest.Region)
				if onAWS[0] {
					spec.Blob = fmt.Sprintf("s3://%s/combo%d", bucket, combo)
				}
				if onAWS[1] {
					// A store of its own: its keys differ from the others'.
					table := awstest.Name("strata-daemon")
					if err := dynamo.CreateTable(ctx, awstest.DynamoDB(t), table); err != nil {
						t.Fatal(err)
					}
					spec.Meta = "dynamodb://" + table
				}
				if onAWS[2] {
					spec.Keys = "kms://" + keyARN
				}
			}
			serveAndRead(t, spec, fmt.Sprint("/home/admin/", combo, ".txt"))
		})
	}
}

func kind(aws bool) string {
	if aws {
		return "aws"
	}
	return "embedded"
}

// serveAndRead starts a daemon on spec, puts a file through its API and
// reads it back, then stops it.
func serveAndRead(t *testing.T, spec engine.Spec, path string) {
	t.Helper()
	ctx := context.Background()
	d, err := daemon.Open(ctx, daemon.Config{Engines: spec})
	if err != nil {
		t.Fatal(err)
	}
	tok, created, err := d.Identity.Bootstrap(ctx, "")
	if err != nil {
		d.Close()
		t.Fatal(err)
	}
	if !created {
		d.Close()
		t.Fatal("a new store had users")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx, ln); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := d.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	c, err := client.New("http://"+ln.Addr().String(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(ctx, path, strings.NewReader("hello"), 5, client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	dl, err := c.Get(ctx, path, client.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer dl.Body.Close()
	if b, err := io.ReadAll(dl.Body); err != nil || string(b) != "hello" {
		t.Fatalf("read back %q, %v", b, err)
	}
}
