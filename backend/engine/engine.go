// Package engine opens the storage engines `strata serve` runs on, from
// URLs: the embedded ones in a data directory by default, or AWS (S3, DynamoDB,
// KMS, and S3-compatible stores), each checked at start so that a missing
// resource or permission stops the server with a message that names it.
package engine

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/blob/local"
	s3blob "github.com/strata-storage/strata/backend/blob/s3"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/keys"
	"github.com/strata-storage/strata/backend/keys/awskms"
	"github.com/strata-storage/strata/backend/keys/keyring"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/meta/bolt"
	"github.com/strata-storage/strata/backend/meta/dynamo"
	"github.com/strata-storage/strata/internal/awscreds"
)

// Spec says which engines to open.
type Spec struct {
	// DataDir holds the embedded engines that are not given as URLs.
	DataDir string
	// Blob is "" (embedded), file:///dir, or s3://bucket[/prefix].
	Blob string
	// Meta is "" (embedded), file:///path/meta.db, or dynamodb://table.
	Meta string
	// Keys is "" (embedded), file:///path/keyring.json, or kms://<key ID,
	// key ARN, alias/name or alias ARN>.
	Keys string
	// KMSPreviousKeys are the ARNs of KMS keys the alias in Keys pointed to
	// before a manual rotation: data keys wrapped under them still unwrap
	// (and Rewrap moves them to the current key).
	KMSPreviousKeys []string

	// ArchiveDir is the embedded blob store's cold tier ("" for "archive"
	// in DataDir); RestoreDelay how long its restores take per tier
	// (none by default). Both are for local disk only: on S3 the
	// Glacier classes are the cold tier.
	ArchiveDir   string
	RestoreDelay map[blob.RestoreTier]time.Duration

	// AWSEndpoint overrides the endpoint of every AWS service (an emulator,
	// or an S3-compatible store). Without it the SDK's own resolution
	// applies, including AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB and
	// AWS_ENDPOINT_URL_KMS, so each engine can sit on its own endpoint.
	AWSEndpoint string
	// AWSRegion overrides the region of the standard chain (AWS_REGION,
	// the shared config file, the instance metadata).
	AWSRegion string
	// S3PathStyle forces path-style S3 addressing; S3-compatible stores
	// and emulators need it. Unset, it is on whenever a custom S3 endpoint
	// is configured.
	S3PathStyle *bool

	// Registerer receives strata_aws_requests_total; nil skips it.
	Registerer prometheus.Registerer
}

// Set is the three opened engines.
type Set struct {
	Blobs blob.Store
	Meta  meta.Store
	Keys  keys.Service
	// Describe says what runs, for the start-up log (no secrets).
	Describe string
	closers  []func() error
}

// Close releases what Open opened.
func (s *Set) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	return errors.Join(errs...)
}

// localOptions are the options of an embedded blob store.
func (s Spec) localOptions() local.Options {
	dir := s.ArchiveDir
	if dir == "" {
		dir = filepath.Join(s.DataDir, "archive")
	}
	return local.Options{ArchiveDir: dir, RestoreDelay: s.RestoreDelay}
}

// Open opens and checks the engines of spec.
func Open(ctx context.Context, spec Spec) (*Set, error) {
	set := &Set{}
	ok := false
	defer func() {
		if !ok {
			_ = set.Close()
		}
	}()
	var desc []string
	needAWS := strings.HasPrefix(spec.Blob, "s3://") || strings.HasPrefix(spec.Meta, "dynamodb://") || strings.HasPrefix(spec.Keys, "kms://")
	var cfg aws.Config
	if needAWS {
		var err error
		if cfg, err = awsConfig(ctx, spec); err != nil {
			return nil, err
		}
	}
	if spec.Blob == "" && spec.Meta == "" && spec.Keys == "" {
		eng, err := embedded.OpenWith(spec.DataDir, spec.localOptions())
		if err != nil {
			return nil, err
		}
		set.closers = append(set.closers, eng.Close)
		set.Blobs, set.Meta, set.Keys = eng.Blobs, eng.Meta, eng.Keys
		set.Describe = "embedded engines in " + spec.DataDir
		ok = true
		return set, nil
	}

	// Blobs.
	switch {
	case spec.Blob == "" || strings.HasPrefix(spec.Blob, "file://"):
		dir, err := fileURL(spec.Blob, filepath.Join(spec.DataDir, "blobs"))
		if err != nil {
			return nil, fmt.Errorf("--blob: %w", err)
		}
		st, err := local.OpenWith(dir, spec.localOptions())
		if err != nil {
			return nil, fmt.Errorf("blob store %s: %w", dir, err)
		}
		set.closers = append(set.closers, st.Close)
		set.Blobs = st
		desc = append(desc, "blobs in "+dir)
	case strings.HasPrefix(spec.Blob, "s3://"):
		bucket, prefix, err := s3URL(spec.Blob)
		if err != nil {
			return nil, fmt.Errorf("--blob: %w", err)
		}
		client := s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = pathStyle(spec, o)
			s3blob.ClientOptions(o)
		})
		st, err := s3blob.New(client, bucket, prefix)
		if err != nil {
			return nil, err
		}
		if err := st.Check(ctx); err != nil {
			return nil, err
		}
		set.Blobs = st
		desc = append(desc, "blobs in "+spec.Blob)
	default:
		return nil, fmt.Errorf("--blob %q: want file:///dir or s3://bucket/prefix", spec.Blob)
	}

	// Metadata.
	switch {
	case spec.Meta == "" || strings.HasPrefix(spec.Meta, "file://"):
		path, err := fileURL(spec.Meta, filepath.Join(spec.DataDir, "meta.db"))
		if err != nil {
			return nil, fmt.Errorf("--meta: %w", err)
		}
		st, err := bolt.Open(path)
		if err != nil {
			return nil, fmt.Errorf("metadata store %s: %w", path, err)
		}
		set.closers = append(set.closers, st.Close)
		set.Meta = st
		desc = append(desc, "metadata in "+path)
	case strings.HasPrefix(spec.Meta, "dynamodb://"):
		table := strings.TrimPrefix(spec.Meta, "dynamodb://")
		if table == "" || strings.ContainsAny(table, "/?#") {
			return nil, fmt.Errorf("--meta %q: want dynamodb://table", spec.Meta)
		}
		st, err := dynamo.New(dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.Retryer = dynamo.NewRetryer() }), table)
		if err != nil {
			return nil, err
		}
		if err := st.Check(ctx); err != nil {
			return nil, err
		}
		set.Meta = st
		desc = append(desc, "metadata in "+spec.Meta)
	default:
		return nil, fmt.Errorf("--meta %q: want file:///path or dynamodb://table", spec.Meta)
	}

	// Keys.
	switch {
	case spec.Keys == "" || strings.HasPrefix(spec.Keys, "file://"):
		path, err := fileURL(spec.Keys, filepath.Join(spec.DataDir, "keyring.json"))
		if err != nil {
			return nil, fmt.Errorf("--keys: %w", err)
		}
		kr, err := keyring.Open(path)
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", path, err)
		}
		set.Keys = kr
		desc = append(desc, "keys in "+path)
	case strings.HasPrefix(spec.Keys, "kms://"):
		keyID := strings.TrimPrefix(spec.Keys, "kms://")
		if keyID == "" {
			return nil, fmt.Errorf("--keys %q: want kms://<key ID, ARN or alias/name>", spec.Keys)
		}
		svc, err := awskms.New(kms.NewFromConfig(cfg), keyID, spec.KMSPreviousKeys...)
		if err != nil {
			return nil, err
		}
		if err := svc.Check(ctx); err != nil {
			return nil, err
		}
		set.Keys = svc
		desc = append(desc, "keys in "+spec.Keys)
	default:
		return nil, fmt.Errorf("--keys %q: want file:///path or kms://alias/name", spec.Keys)
	}
	if needAWS {
		desc = append(desc, "AWS region "+cfg.Region)
	}
	set.Describe = strings.Join(desc, ", ")
	ok = true
	return set, nil
}

// fileURL reads file:///abs/path, or returns def for "".
func fileURL(s, def string) (string, error) {
	if s == "" {
		return def, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "file" || u.Host != "" || !filepath.IsAbs(u.Path) {
		return "", fmt.Errorf("%q: want file:///absolute/path", s)
	}
	return filepath.Clean(u.Path), nil
}

// s3URL reads s3://bucket[/prefix].
func s3URL(s string) (bucket, prefix string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return "", "", fmt.Errorf("%q: want s3://bucket or s3://bucket/prefix", s)
	}
	return u.Host, strings.Trim(u.Path, "/"), nil
}

func pathStyle(spec Spec, o *s3.Options) bool {
	if spec.S3PathStyle != nil {
		return *spec.S3PathStyle
	}
	return o.BaseEndpoint != nil && *o.BaseEndpoint != ""
}

// awsConfig loads the standard AWS configuration (credential chain,
// region, per-service endpoints) with Strata's retry policy and request
// metrics.
func awsConfig(ctx context.Context, spec Spec) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		// Throttling (503 SlowDown, ThrottlingException, ...) and
		// transient faults are retried with jittered exponential backoff.
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 8
				o.MaxBackoff = 20 * time.Second
			})
		}),
	}
	if spec.AWSRegion != "" {
		opts = append(opts, config.WithRegion(spec.AWSRegion))
	}
	if spec.AWSEndpoint != "" {
		u, err := url.Parse(spec.AWSEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return aws.Config{}, fmt.Errorf("--aws-endpoint %q: want http(s)://host[:port]", spec.AWSEndpoint)
		}
		opts = append(opts, config.WithBaseEndpoint(spec.AWSEndpoint))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("AWS configuration: no region: set AWS_REGION (or --aws-region)")
	}
	if err := awscreds.Check(ctx, cfg); err != nil {
		return aws.Config{}, err
	}
	if spec.Registerer != nil {
		if err := countRequests(&cfg, spec.Registerer); err != nil {
			return aws.Config{}, err
		}
	}
	return cfg, nil
}
