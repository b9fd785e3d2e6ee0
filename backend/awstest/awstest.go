// Package awstest points tests at an AWS-compatible endpoint — moto's server,
// started by scripts/test.sh — and names throwaway resources there.
//
// Tests that need it call Config (or a client constructor). When
// STRATA_TEST_AWS_ENDPOINT is unset they are skipped with a message, so that
// `go test ./...` works on a machine without moto; scripts/test.sh sets
// STRATA_TEST_REQUIRE_AWS=1, under which a missing endpoint fails instead:
// CI never skips them silently.
//
// CheckIAMActions, which needs no endpoint, checks a driver's table of the
// IAM actions its SDK calls need against the calls its source makes.
package awstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Environment variables.
const (
	EnvEndpoint = "STRATA_TEST_AWS_ENDPOINT"
	EnvRequire  = "STRATA_TEST_REQUIRE_AWS"
)

// Region is the region tests use.
const Region = "us-east-1"

// Endpoint returns the endpoint, or skips (or fails, when required) the test.
func Endpoint(t testing.TB) string {
	t.Helper()
	ep := os.Getenv(EnvEndpoint)
	if ep == "" {
		if os.Getenv(EnvRequire) != "" {
			t.Fatalf("%s is not set but %s is: the AWS emulator did not start", EnvEndpoint, EnvRequire)
		}
		t.Skipf("%s is not set: run scripts/test.sh, or start moto_server and point %s at it", EnvEndpoint, EnvEndpoint)
	}
	return ep
}

// Config is an aws.Config for the test endpoint with fixed test credentials.
func Config(t testing.TB) aws.Config {
	t.Helper()
	ep := Endpoint(t)
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("testing", "testing", "")),
		config.WithBaseEndpoint(ep),
		config.WithRetryMaxAttempts(3),
	)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// S3 is an S3 client on the test endpoint (path-style, as emulators and
// S3-compatible stores need).
func S3(t testing.TB) *s3.Client {
	cfg := Config(t)
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
}

// DynamoDB is a DynamoDB client on the test endpoint.
func DynamoDB(t testing.TB) *dynamodb.Client { return dynamodb.NewFromConfig(Config(t)) }

// KMS is a KMS client on the test endpoint.
func KMS(t testing.TB) *kms.Client { return kms.NewFromConfig(Config(t)) }

// Name returns a fresh lowercase resource name starting with prefix, valid
// as a bucket or table name.
func Name(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(prefix) + "-" + hex.EncodeToString(b[:])
}
