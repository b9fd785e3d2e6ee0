// Package awsengines opens the three AWS engines (S3, DynamoDB, KMS) on
// fresh resources at the test endpoint (moto in scripts/test.sh), for the
// tests of the core and of the server. It is apart from awstest because
// the drivers' own tests import awstest.
package awsengines

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/blob"
	s3blob "github.com/strata-storage/strata/backend/blob/s3"
	"github.com/strata-storage/strata/backend/keys"
	"github.com/strata-storage/strata/backend/keys/awskms"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/meta/dynamo"
)

// Open makes a bucket, a table and a key named after prefix and returns
// the engines on them; it skips the test when no endpoint is set.
func Open(t testing.TB, prefix string) (blob.Store, meta.Store, keys.Service) {
	t.Helper()
	return OpenWith(t, prefix, nil, nil)
}

// OpenWith is Open with middleware added to the S3 and DynamoDB clients,
// for tests that count or disturb requests (s3API, ddbAPI: nil for none).
func OpenWith(t testing.TB, prefix string, s3API, ddbAPI func(*middleware.Stack) error) (blob.Store, meta.Store, keys.Service) {
	t.Helper()
	ctx := context.Background()
	bucket, table := awstest.Name(prefix), awstest.Name(prefix)
	s3c := s3.NewFromConfig(awstest.Config(t), func(o *s3.Options) {
		o.UsePathStyle = true
		s3blob.ClientOptions(o)
		if s3API != nil {
			o.APIOptions = append(o.APIOptions, s3API)
		}
	})
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	bs, err := s3blob.New(s3c, bucket, "blobs")
	if err != nil {
		t.Fatal(err)
	}
	ddb := dynamodb.NewFromConfig(awstest.Config(t), func(o *dynamodb.Options) {
		if ddbAPI != nil {
			o.APIOptions = append(o.APIOptions, ddbAPI)
		}
	})
	if err := dynamo.CreateTable(ctx, ddb, table); err != nil {
		t.Fatal(err)
	}
	ms, err := dynamo.New(ddb, table)
	if err != nil {
		t.Fatal(err)
	}
	kc := awstest.KMS(t)
	key, err := kc.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecSymmetricDefault})
	if err != nil {
		t.Fatal(err)
	}
	ks, err := awskms.New(kc, *key.KeyMetadata.Arn)
	if err != nil {
		t.Fatal(err)
	}
	return bs, ms, ks
}
