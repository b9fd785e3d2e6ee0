package backend_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/awstest/awsengines"
	"github.com/strata-storage/strata/backend/errs"
)

// newAWSEnv is newEnv on S3, DynamoDB and KMS at the test endpoint (moto
// in scripts/test.sh), each with fresh resources.
func newAWSEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	return newAWSEnvAPI(t, nil, nil, opts...)
}

// newAWSEnvAPI is newAWSEnv with middleware added to the S3 and DynamoDB
// clients (s3API, ddbAPI: nil for none).
func newAWSEnvAPI(t *testing.T, s3API, ddbAPI func(*middleware.Stack) error, opts ...option) *env {
	t.Helper()
	bs, ms, ks := awsengines.OpenWith(t, "strata-core", s3API, ddbAPI)
	clk := &clock{now: time.Now().UTC().Truncate(time.Second)}
	cfg := backend.Config{Blobs: bs, Meta: ms, Keys: ks, Now: clk.Now}
	for _, o := range opts {
		o(&cfg)
	}
	b, ids, admin := wire(t, cfg)
	return &env{t: t, b: b, ids: ids, blobs: cfg.Blobs, meta: cfg.Meta, keys: cfg.Keys, admin: admin, clock: clk}
}

// TestCoreOnAWS runs the core's main flows on the AWS engines: the same
// code, on the other set of drivers.
func TestCoreOnAWS(t *testing.T) {
	e := newAWSEnv(t, keep(3), partSize(64<<10))
	ctx := context.Background()
	alice := e.user("alice")

	// Streamed puts, several parts, ranges.
	content := data(300_000, 1)
	e.put(alice, "/home/alice/docs/a.bin", content)
	if !bytes.Equal(e.mustRead(alice, "/home/alice/docs/a.bin"), content) {
		t.Fatal("round trip")
	}
	got, err := e.read(alice, "/home/alice/docs/a.bin", backend.OpenOptions{Offset: 65530, Length: 70000})
	if err != nil || !bytes.Equal(got, content[65530:65530+70000]) {
		t.Fatalf("range: %v", err)
	}
	_, err = e.b.Stat(ctx, alice, p("/home/admin"))
	wantErr(t, err, errs.ErrForbidden)

	// Versions beyond the kept three release their blobs.
	for i := range 5 {
		e.put(alice, "/home/alice/docs/v.txt", []byte(fmt.Sprint("version ", i)))
	}
	vp, err := e.b.Versions(ctx, alice, p("/home/alice/docs/v.txt"), "", 0)
	if err != nil || len(vp.Versions) != 3 {
		t.Fatalf("versions %+v %v", vp, err)
	}
	if n := e.blobCount(); n != 4 {
		t.Fatalf("%d blobs, want 4", n)
	}

	// An upload session.
	big := data(11<<20, 2)
	u, err := e.b.CreateUpload(ctx, alice, p("/home/alice/big.bin"), backend.UploadOptions{Size: int64(len(big)), PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for n := 1; n <= u.Parts; n++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lo := (n - 1) * (5 << 20)
			part := big[lo:min(lo+(5<<20), len(big))]
			if _, err := e.b.PutPart(ctx, alice, "", u.ID, n, bytes.NewReader(part), int64(len(part)), nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := e.b.CompleteUpload(ctx, alice, "", u.ID, sum(big)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.mustRead(alice, "/home/alice/big.bin"), big) {
		t.Fatal("session content")
	}

	// Move, copy, trash, purge.
	if _, err := e.b.Move(ctx, alice, p("/home/alice/docs"), p("/home/alice/papers"), false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.b.Copy(ctx, alice, p("/home/alice/papers"), p("/home/alice/copy"), time.Minute); err != nil {
		t.Fatal(err)
	}
	ti, err := e.b.Delete(ctx, alice, p("/home/alice/papers"), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.b.PurgeTrash(ctx, alice, "", ti.ID); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.mustRead(alice, "/home/alice/copy/a.bin"), content) {
		t.Fatal("copy after purging the original")
	}

	// Concurrent writers to one path.
	var wg2 sync.WaitGroup
	for w := range 4 {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for i := range 3 {
				c := []byte(fmt.Sprint(w, i))
				if _, err := e.b.Put(ctx, alice, p("/home/alice/hot"), bytes.NewReader(c), backend.PutOptions{Size: int64(len(c))}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg2.Wait()
	st, err := e.b.Stat(ctx, alice, p("/home/alice/hot"))
	if err != nil || st.Version != 12 {
		t.Fatalf("hot: %+v %v", st, err)
	}

	// The collector finds nothing to take from a consistent store.
	cs, err := e.b.Collect(ctx, time.Nanosecond)
	if err != nil || cs.OrphanBlobs != 0 {
		t.Fatalf("collect %+v %v", cs, err)
	}
}
