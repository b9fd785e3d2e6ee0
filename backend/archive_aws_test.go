package backend_test

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go/middleware"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
)

// opCounter counts the AWS operations a client sends, by service and
// name.
type opCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *opCounter) middleware(service string) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("strata-count", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.n[service+" "+middleware.GetOperationName(ctx)]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
	}
}

// take returns the counts since the last take, as "op n" sorted, and the
// number of S3 requests among them.
func (c *opCounter) take() (string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	s3n := 0
	for k, v := range c.n {
		parts = append(parts, k+" "+strconv.Itoa(v))
		if strings.HasPrefix(k, "s3 ") {
			s3n += v
		}
	}
	sort.Strings(parts)
	c.n = map[string]int{}
	return strings.Join(parts, ", "), s3n
}

// TestArchiveOnAWS archives and restores on S3 (Glacier classes, as moto
// models them: a restore completes at once) with DynamoDB, counting the
// requests per archived and restored file, with two servers polling the
// same restore (exactly one sends it).
func TestArchiveOnAWS(t *testing.T) {
	ctx := context.Background()
	counts := &opCounter{n: map[string]int{}}
	e := newAWSEnvAPI(t, counts.middleware("s3"), counts.middleware("dynamodb"))
	b, admin, clk := e.b, e.admin, e.clock
	bs, ms, ks := e.blobs, e.meta, e.keys
	content := data(100_000, 7)
	e.put(admin, "/home/admin/a/one.bin", content)
	e.put(admin, "/home/admin/a/two.bin", []byte("two"))
	counts.take()

	e.archive("/home/admin/a/one.bin", blob.ClassGlacier)
	ops, s3n := counts.take()
	t.Logf("archive of one file: %s", ops)
	if s3n != 2 { // HeadObject, CopyObject
		t.Errorf("archive of one file: %d S3 requests (%s), want 2", s3n, ops)
	}
	if got := e.listed("/home/admin/a"); got["one.bin"] != backend.StateArchived {
		t.Errorf("listing: %v", got)
	}
	if ops, s3n := counts.take(); s3n != 0 {
		t.Errorf("listing made S3 requests: %s", ops)
	}
	e.wantArchivedRead("/home/admin/a/one.bin")
	counts.take()

	r := e.restore("/home/admin/a/one.bin", blob.TierStandard, 1)
	if !r.Started || r.Entry.State != backend.StateRestoring {
		t.Fatalf("restore: %+v", r)
	}
	ops, s3n = counts.take()
	t.Logf("restore request: %s", ops)
	if s3n != 0 {
		t.Errorf("the restore request itself sent %d S3 requests (%s): the poller does", s3n, ops)
	}
	// Two servers poll; AWS restores take hours, so the first look is
	// after the tier's first wait.
	b2, err := backend.New(backend.Config{Blobs: bs, Meta: ms, Keys: ks, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	pollBoth := func() {
		var wg sync.WaitGroup
		for _, s := range []*backend.Backend{b, b2} {
			wg.Go(func() {
				if err := s.PollRestores(ctx); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	pollBoth()
	ops, s3n = counts.take()
	t.Logf("first poll (two servers): %s", ops)
	if !strings.Contains(ops, "s3 RestoreObject 1") || s3n != 2 { // HeadObject, RestoreObject
		t.Errorf("first poll: %s, want one RestoreObject after one HeadObject", ops)
	}
	e.wantState("/home/admin/a/one.bin", backend.StateRestoring)
	clk.Add(3 * time.Hour)
	pollBoth()
	ops, s3n = counts.take()
	t.Logf("poll after 3 hours (two servers): %s", ops)
	if s3n != 1 { // HeadObject
		t.Errorf("second poll: %s", ops)
	}
	e.wantState("/home/admin/a/one.bin", backend.StateRestored)
	if got := e.mustRead(admin, "/home/admin/a/one.bin"); string(got) != string(content) {
		t.Error("restored content differs")
	}
}
