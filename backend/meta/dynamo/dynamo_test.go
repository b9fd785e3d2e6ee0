package dynamo

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/backendtest"
	"github.com/strata-storage/strata/backend/meta"
)

// newTable creates a fresh table through client and deletes it when the
// test ends.
func newTable(t *testing.T, client *dynamodb.Client) string {
	t.Helper()
	table := awstest.Name("strata-meta")
	ctx := context.Background()
	if err := CreateTable(ctx, client, table); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, err := client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
		// Not found: the SDK retried a delete whose answer was lost; the
		// table is gone either way.
		var nf *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &nf) {
			t.Errorf("deleting table %s: %v", table, err)
		}
	})
	return table
}

// newStore is a Store on a fresh table, through client (a test client when
// nil).
func newStore(t *testing.T, client *dynamodb.Client) *Store {
	t.Helper()
	if client == nil {
		client = newClient(t, nil)
	}
	s, err := New(client, newTable(t, client))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newClient is a client of the test endpoint whose requests go through
// wrap(next), when wrap is not nil, and then one at a time to the endpoint.
//
// moto serves requests on parallel threads without isolating them from one
// another: two TransactWriteItems conditioned on the same version can both
// pass their checks before either writes, and a cancelled transaction rolls
// its table back to a copy taken when it started, undoing writes made
// meanwhile. DynamoDB isolates every request, so the tests make moto do the
// same by sending it one request at a time per client (every test has its
// own client and table). What the driver sends is unchanged.
func newClient(t *testing.T, wrap func(next dynamodb.HTTPClient) dynamodb.HTTPClient, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	t.Helper()
	opts := append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
		var next dynamodb.HTTPClient = &serial{next: o.HTTPClient}
		if wrap != nil {
			next = wrap(next)
		}
		o.HTTPClient = next
	}}, optFns...)
	return dynamodb.NewFromConfig(awstest.Config(t), opts...)
}

// serial passes on one request at a time.
type serial struct {
	mu   sync.Mutex
	next dynamodb.HTTPClient
}

func (s *serial) Do(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// moto has done all its work once the response's header is back.
	return s.next.Do(r)
}

func TestConformance(t *testing.T) {
	t.Parallel()
	backendtest.RunMeta(t, func(t *testing.T) meta.Store { return newStore(t, nil) })
}

// faults is an HTTP client for the SDK that counts requests per operation
// and can answer some of them itself, with an error, instead of passing them
// on to the endpoint.
type faults struct {
	next dynamodb.HTTPClient

	mu     sync.Mutex
	counts map[string]int
	// calls counts first attempts only: the operations the store asked
	// for, whatever the SDK sent again (moto, on a loaded machine,
	// sometimes drops a connection midway through an answer).
	calls map[string]int
	// answer, when set, may return the error response for the n-th request
	// (from 1) of operation op, or nil to pass it on.
	answer func(op string, n int) *fault
}

// fault is an error response in DynamoDB's JSON shape, or with lose set,
// the endpoint's own answer thrown away after the request reached it, as a
// connection that drops on the way back does.
type fault struct {
	status int
	body   string
	lose   bool
}

// newFaults returns a client whose requests go through a new faults, with
// a retryer that makes its 3 attempts without waiting: the attempts are what
// the tests look at. The faults stop answering before the test's cleanups
// run.
func newFaults(t *testing.T, answer func(op string, n int) *fault) (*faults, *dynamodb.Client) {
	t.Helper()
	f := &faults{counts: make(map[string]int), calls: make(map[string]int), answer: answer}
	client := newClient(t, func(next dynamodb.HTTPClient) dynamodb.HTTPClient {
		f.next = next
		return f
	}, func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
		})
	})
	return f, client
}

func (f *faults) Do(r *http.Request) (*http.Response, error) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	f.mu.Lock()
	f.counts[op]++
	if strings.HasPrefix(r.Header.Get("Amz-Sdk-Request"), "attempt=1;") {
		f.calls[op]++
	}
	n := f.counts[op]
	answer := f.answer
	f.mu.Unlock()
	if answer != nil {
		if ft := answer(op, n); ft != nil && ft.lose {
			resp, err := f.next.Do(r)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			return nil, fmt.Errorf("read tcp: connection reset by peer (answer to %s lost by the test)", op)
		} else if ft != nil {
			if r.Body != nil {
				_, _ = io.Copy(io.Discard, r.Body)
				_ = r.Body.Close()
			}
			return &http.Response{
				StatusCode: ft.status,
				Status:     fmt.Sprintf("%d %s", ft.status, http.StatusText(ft.status)),
				Header: http.Header{
					"Content-Type":     {"application/x-amz-json-1.0"},
					"X-Amzn-Requestid": {"fault-injected"},
					// As DynamoDB's; without it the SDK logs a mismatch.
					"X-Amz-Crc32": {strconv.FormatUint(uint64(crc32.ChecksumIEEE([]byte(ft.body))), 10)},
				},
				Body:          io.NopCloser(strings.NewReader(ft.body)),
				ContentLength: int64(len(ft.body)),
				Request:       r,
			}, nil
		}
	}
	return f.next.Do(r)
}

// reset clears the counts and sets answer.
func (f *faults) reset(answer func(op string, n int) *fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts = make(map[string]int)
	f.calls = make(map[string]int)
	f.answer = answer
}

func (f *faults) snapshot() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.counts)
}

// operations is how many operations were asked for (first attempts), by
// name.
func (f *faults) operations() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.calls)
}

func apiError(code, message string) *fault {
	return &fault{status: 400, body: fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, code, message)}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	if err := s.Check(context.Background()); err != nil {
		t.Fatalf("Check of a fresh table: %v", err)
	}
	pg, err := s.Query(context.Background(), probePK, meta.QueryOpts{})
	if err != nil || len(pg.Items) != 0 {
		t.Fatalf("Check left %d probe items behind (%v)", len(pg.Items), err)
	}
}

func TestCheckMissingTable(t *testing.T) {
	t.Parallel()
	table := awstest.Name("strata-missing")
	s, err := New(newClient(t, nil), table)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Check(context.Background())
	if !errors.Is(err, ErrNoTable) {
		t.Fatalf("Check of a missing table: %v, want ErrNoTable", err)
	}
	for _, want := range []string{fmt.Sprintf("%q", table), awstest.Region} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Check of a missing table: %q does not name %s", err, want)
		}
	}
	// Every operation says the same.
	if _, err := s.Get(context.Background(), "p", "s"); !errors.Is(err, ErrNoTable) || !strings.Contains(err.Error(), table) {
		t.Errorf("Get on a missing table: %v", err)
	}
}

// TestCreateTableAgain: a CreateTable that finds the table a lost answer's
// first attempt made takes it (the SDK's retry looks just like a second
// call).
func TestCreateTableAgain(t *testing.T) {
	t.Parallel()
	client := newClient(t, nil)
	table := newTable(t, client)
	if err := CreateTable(context.Background(), client, table); err != nil {
		t.Fatalf("CreateTable of a table already made with this layout: %v", err)
	}
}

func TestCheckWrongKeySchema(t *testing.T) {
	t.Parallel()
	client := newClient(t, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		attrs []types.AttributeDefinition
		keys  []types.KeySchemaElement
	}{
		{
			"hashOnly",
			[]types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
			[]types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		},
		{
			"otherNames",
			[]types.AttributeDefinition{
				{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
			},
			[]types.KeySchemaElement{
				{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
			},
		},
		{
			"numericSortKey",
			[]types.AttributeDefinition{
				{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
				{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
			},
			[]types.KeySchemaElement{
				{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := awstest.Name("strata-wrong")
			_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName:            aws.String(table),
				BillingMode:          types.BillingModePayPerRequest,
				AttributeDefinitions: tc.attrs,
				KeySchema:            tc.keys,
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_, _ = client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
			})
			var inUse *types.ResourceInUseException
			if err := CreateTable(ctx, client, table); !errors.As(err, &inUse) {
				t.Fatalf("CreateTable over a table of key schema %s: %v, want ResourceInUseException", tc.name, err)
			}
			s, err := New(client, table)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Check(ctx)
			if err == nil || !strings.Contains(err.Error(), "key schema") || !strings.Contains(err.Error(), table) {
				t.Fatalf("Check of a table with key schema %s: %v, want an error naming the table and its key schema", tc.name, err)
			}
			t.Log(err)
		})
	}
}

// The answer to Check's delete of its probe lost: the SDK deletes it
// again, which must not fail the start-up (CI saw it on moto).
func TestCheckDeleteAnswerLost(t *testing.T) {
	t.Parallel()
	f, client := newFaults(t, nil)
	s := newStore(t, client)
	t.Cleanup(func() { f.reset(nil) })
	f.reset(func(op string, n int) *fault {
		if op == "DeleteItem" && n == 1 {
			return &fault{lose: true}
		}
		return nil
	})
	if err := s.Check(context.Background()); err != nil {
		t.Fatalf("Check with the delete's answer lost once: %v", err)
	}
	if n := f.snapshot()["DeleteItem"]; n != 2 {
		t.Fatalf("%d DeleteItem attempts, want 2", n)
	}
}

func TestCheckAccessDenied(t *testing.T) {
	t.Parallel()
	f, client := newFaults(t, nil)
	s := newStore(t, client)
	t.Cleanup(func() { f.reset(nil) })
	f.reset(func(op string, _ int) *fault {
		if op == "PutItem" || op == "UpdateItem" {
			return apiError("AccessDeniedException", "User: arn:aws:iam::123456789012:user/strata is not authorized to perform: dynamodb:"+op)
		}
		return nil
	})
	err := s.Check(context.Background())
	want := fmt.Sprintf("dynamodb: table %q: dynamodb:UpdateItem denied", s.table)
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("Check without write access: %v, want an error starting %q", err, want)
	}
	if n := f.snapshot()["DeleteItem"]; n != 0 {
		t.Fatalf("Check went on after the refused write (%d DeleteItem)", n)
	}
	if _, err := s.Put(context.Background(), meta.Item{PK: "p", SK: "s"}, meta.NoCond); err == nil || !strings.Contains(err.Error(), "denied") {
		t.Fatalf("Put without write access: %v", err)
	}
}

func TestThrottlingRetriedBySDK(t *testing.T) {
	t.Parallel()
	f, client := newFaults(t, nil)
	s := newStore(t, client)
	t.Cleanup(func() { f.reset(nil) })
	ctx := context.Background()
	throttle := func(times int) func(string, int) *fault {
		return func(op string, n int) *fault {
			if n <= times {
				return apiError("ThrottlingException", "Rate of requests exceeds the allowed throughput.")
			}
			return nil
		}
	}

	f.reset(throttle(2))
	if _, err := s.Put(ctx, meta.Item{PK: "p", SK: "s", Value: []byte("v")}, meta.MustNew); err != nil {
		t.Fatalf("Put throttled twice: %v", err)
	}
	if got := f.snapshot()["UpdateItem"]; got != 3 {
		t.Fatalf("Put throttled twice made %d requests, want 3", got)
	}
	f.reset(throttle(2))
	if it, err := s.Get(ctx, "p", "s"); err != nil || string(it.Value) != "v" {
		t.Fatalf("Get throttled twice: %+v, %v", it, err)
	}

	for _, code := range []string{"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"} {
		f.reset(func(string, int) *fault { return apiError(code, "slow down") })
		_, err := s.Get(ctx, "p", "s")
		if err == nil || !strings.Contains(err.Error(), "throttling") || !strings.Contains(err.Error(), s.table) {
			t.Fatalf("Get always answered %s: %v, want an error saying the table throttles", code, err)
		}
		if !errors.Is(err, meta.ErrUnavailable) || errors.Is(err, meta.ErrNotFound) {
			t.Errorf("Get always answered %s: %v, want meta.ErrUnavailable", code, err)
		}
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code {
			t.Errorf("Get always answered %s: %v does not wrap DynamoDB's error", code, err)
		}
		if got := f.snapshot()["GetItem"]; got != 3 {
			t.Fatalf("Get always answered %s: %d requests, want the retryer's 3", code, got)
		}
	}
}

func TestTransactionConflictRetried(t *testing.T) {
	t.Parallel()
	f, client := newFaults(t, nil)
	s := newStore(t, client)
	t.Cleanup(func() { f.reset(nil) })
	s.conflictBackoff = time.Millisecond
	ctx := context.Background()
	canceled := &fault{status: 400, body: `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException",` +
		`"Message":"Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]",` +
		`"CancellationReasons":[{"Code":"None"},{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"}]}`}
	ops := []meta.Op{
		meta.Put(meta.Item{PK: "p", SK: "a"}, meta.MustNew),
		meta.Add("p", "b", 1, meta.NoCond),
	}

	f.reset(func(op string, n int) *fault {
		if op == "TransactWriteItems" && n <= 2 {
			return canceled
		}
		return nil
	})
	if err := s.Transact(ctx, ops); err != nil {
		t.Fatalf("Transact cancelled twice for a conflict: %v", err)
	}
	if got := f.snapshot()["TransactWriteItems"]; got != 3 {
		t.Fatalf("Transact made %d requests, want 3", got)
	}
	if it, err := s.Get(ctx, "p", "b"); err != nil || it.N != 1 {
		t.Fatalf("after the retried transaction: %+v, %v", it, err)
	}

	f.reset(func(op string, n int) *fault {
		if op == "TransactWriteItems" {
			return canceled
		}
		return nil
	})
	err := s.Transact(ctx, []meta.Op{meta.Add("p", "b", 1, meta.NoCond)})
	var txErr *meta.TxError
	if !errors.Is(err, meta.ErrConflict) || errors.As(err, &txErr) || !strings.Contains(err.Error(), "conflicting transactions") {
		t.Fatalf("Transact always in conflict: %v, want ErrConflict that is no TxError", err)
	}
	if !errors.Is(err, meta.ErrUnavailable) {
		t.Errorf("Transact always in conflict: %v, want it to wrap ErrUnavailable too", err)
	}
	if got := f.snapshot()["TransactWriteItems"]; got != defaultConflictAttempts {
		t.Fatalf("Transact always in conflict made %d requests, want %d", got, defaultConflictAttempts)
	}

	// Single-item writes meet transactions too.
	f.reset(func(op string, n int) *fault {
		if op == "UpdateItem" && n == 1 {
			return apiError("TransactionConflictException", "Transaction is ongoing for the item")
		}
		return nil
	})
	if n, err := s.Add(ctx, "p", "b", 1); err != nil || n != 2 {
		t.Fatalf("Add after a transaction conflict = %d, %v; want 2", n, err)
	}
}

func TestTooLargeRefusedLocally(t *testing.T) {
	t.Parallel()
	f, client := newFaults(t, nil)
	s := newStore(t, client)
	t.Cleanup(func() { f.reset(nil) })
	f.reset(nil)
	ctx := context.Background()
	big := meta.Item{PK: "p", SK: "s", Value: make([]byte, meta.MaxValueLen+1)}
	if _, err := s.Put(ctx, big, meta.NoCond); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("Put of %d bytes: %v, want ErrInvalid", len(big.Value), err)
	}
	if err := s.Transact(ctx, []meta.Op{meta.Put(big, meta.NoCond)}); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("Transact of %d bytes: %v, want ErrInvalid", len(big.Value), err)
	}
	var ops []meta.Op
	for i := range 13 {
		ops = append(ops, meta.Put(meta.Item{PK: "p", SK: fmt.Sprint(i), Value: make([]byte, meta.MaxValueLen)}, meta.NoCond))
	}
	if err := s.Transact(ctx, ops); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("Transact of 13 items of %d bytes: %v, want ErrInvalid", meta.MaxValueLen, err)
	}
	if got := f.snapshot(); len(got) != 0 {
		t.Fatalf("refusing too large items made requests: %v", got)
	}
	// The largest allowed item is accepted by DynamoDB, with the longest keys.
	max := meta.Item{PK: strings.Repeat("p", meta.MaxKeyLen), SK: strings.Repeat("s", meta.MaxKeyLen), Value: make([]byte, meta.MaxValueLen), ExpiresAt: time.Now()}
	if _, err := s.Put(ctx, max, meta.NoCond); err != nil {
		t.Fatalf("Put of the largest item: %v", err)
	}
}

// rawItem reads an item's attributes as stored.
func rawItem(t *testing.T, s *Store, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := s.client.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(pk, sk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func TestTTLAttribute(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	ctx := context.Background()
	ttl, err := s.client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(s.table)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != attrTTL ||
		(d.TimeToLiveStatus != types.TimeToLiveStatusEnabled && d.TimeToLiveStatus != types.TimeToLiveStatusEnabling) {
		t.Fatalf("CreateTable left TTL at %+v, want enabled on %q", d, attrTTL)
	}

	exp := time.Unix(2_000_000_000, 0)
	wantTTL := func(what string, want string) {
		t.Helper()
		got := "absent"
		if v, ok := rawItem(t, s, "p", "s")[attrTTL].(*types.AttributeValueMemberN); ok {
			got = v.Value
		}
		if got != want {
			t.Fatalf("after %s: attribute ttl %s, want %s", what, got, want)
		}
	}
	if _, err := s.Put(ctx, meta.Item{PK: "p", SK: "s", ExpiresAt: exp.Add(900 * time.Millisecond)}, meta.NoCond); err != nil {
		t.Fatal(err)
	}
	wantTTL("a Put with ExpiresAt", "2000000000")
	if _, err := s.Add(ctx, "p", "s", 1); err != nil {
		t.Fatal(err)
	}
	wantTTL("an Add", "2000000000")
	if _, err := s.Put(ctx, meta.Item{PK: "p", SK: "s"}, meta.NoCond); err != nil {
		t.Fatal(err)
	}
	wantTTL("a Put without ExpiresAt", "absent")
	if err := s.Transact(ctx, []meta.Op{meta.Put(meta.Item{PK: "p", SK: "s", ExpiresAt: exp}, meta.MustLive)}); err != nil {
		t.Fatal(err)
	}
	wantTTL("a transaction's Put with ExpiresAt", "2000000000")
	cur, err := s.Get(ctx, "p", "s")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Transact(ctx, []meta.Op{meta.Put(meta.Item{PK: "p", SK: "s"}, meta.AtVersion(cur.Version))}); err != nil {
		t.Fatal(err)
	}
	wantTTL("a transaction's Put without ExpiresAt", "absent")
}

// TestRequestsPerOperation pins every operation to one request: the bench
// reports DynamoDB requests per uploaded file.
func TestRequestsPerOperation(t *testing.T) {
	t.Parallel()
	f, client := newFaults(t, nil)
	s := newStore(t, client)
	t.Cleanup(func() { f.reset(nil) })
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		do   func() error
		want map[string]int
	}{
		{"Put", func() error {
			_, err := s.Put(ctx, meta.Item{PK: "p", SK: "a", Value: []byte("x")}, meta.NoCond)
			return err
		}, map[string]int{"UpdateItem": 1}},
		{"PutMustNew", func() error {
			_, err := s.Put(ctx, meta.Item{PK: "p", SK: "b", Value: []byte("x")}, meta.MustNew)
			return err
		}, map[string]int{"UpdateItem": 1}},
		{"Get", func() error { _, err := s.Get(ctx, "p", "a"); return err }, map[string]int{"GetItem": 1}},
		{"GetMissing", func() error {
			if _, err := s.Get(ctx, "p", "zz"); !errors.Is(err, meta.ErrNotFound) {
				return fmt.Errorf("want ErrNotFound, got %v", err)
			}
			return nil
		}, map[string]int{"GetItem": 1}},
		{"Add", func() error { _, err := s.Add(ctx, "p", "n", 3); return err }, map[string]int{"TransactWriteItems": 1, "GetItem": 1}},
		{"Delete", func() error { return s.Delete(ctx, "p", "b", meta.MustLive) }, map[string]int{"TransactWriteItems": 1}},
		{"DeleteUnconditional", func() error { return s.Delete(ctx, "p", "zz", meta.NoCond) }, map[string]int{"DeleteItem": 1}},
		{"Query", func() error { _, err := s.Query(ctx, "p", meta.QueryOpts{Prefix: "a"}); return err }, map[string]int{"Query": 1}},
		{"QueryAfterPastPrefix", func() error {
			pg, err := s.Query(ctx, "p", meta.QueryOpts{Prefix: "a", After: "b"})
			if err == nil && (len(pg.Items) != 0 || pg.Next != "") {
				err = fmt.Errorf("got %+v, want an empty last page", pg)
			}
			return err
		}, map[string]int{}},
		{"Transact", func() error {
			return s.Transact(ctx, []meta.Op{
				meta.Put(meta.Item{PK: "p", SK: "c"}, meta.MustNew),
				meta.Add("p", "n", 1, meta.MustLive),
				meta.Delete("p", "a", meta.MustLive),
				meta.Check("p", "b", meta.MustNew),
				meta.Check("p", "x", meta.NoCond),
			})
		}, map[string]int{"TransactWriteItems": 1}},
		{"TransactOnlyUnconditionalChecks", func() error {
			return s.Transact(ctx, []meta.Op{meta.Check("p", "x", meta.NoCond)})
		}, map[string]int{}},
	} {
		f.reset(nil)
		if err := tc.do(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := f.operations(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s made requests %v, want %v", tc.name, got, tc.want)
		}
	}
}

// An answer lost on the way back makes the SDK send the request again; a
// counter must still move once. (The test endpoint honours client request
// tokens as DynamoDB does: see scripts/moto_server.py.)
func TestLostAnswerAppliedOnce(t *testing.T) {
	t.Parallel()
	f, client := newFaults(t, nil)
	s := newStore(t, client)
	ctx := context.Background()
	loseFirst := func(op string, n int) *fault {
		if op == "TransactWriteItems" && n == 1 {
			return &fault{lose: true}
		}
		return nil
	}
	f.reset(loseFirst)
	n, err := s.Add(ctx, "p", "n", 5)
	if err != nil || n != 5 {
		t.Fatalf("Add after a lost answer = %d, %v; want 5", n, err)
	}
	if got := f.snapshot()["TransactWriteItems"]; got != 2 {
		t.Fatalf("TransactWriteItems sent %d times, want 2 (the lost one and the retry)", got)
	}
	f.reset(loseFirst)
	if err := s.Transact(ctx, []meta.Op{meta.Add("p", "n", 7, meta.MustLive), meta.Put(meta.Item{PK: "p", SK: "m"}, meta.MustNew)}); err != nil {
		t.Fatalf("Transact after a lost answer: %v", err)
	}
	f.reset(nil)
	it, err := s.Get(ctx, "p", "n")
	if err != nil || it.N != 12 {
		t.Fatalf("counter = %d, %v; want 12", it.N, err)
	}
	f.reset(loseFirst)
	if err := s.Delete(ctx, "p", "n", meta.AtVersion(it.Version)); err != nil {
		t.Fatalf("Delete after a lost answer: %v", err)
	}
}

func TestCounterOverflow(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	ctx := context.Background()
	const top = int64(1<<63 - 2)
	if _, err := s.Put(ctx, meta.Item{PK: "p", SK: "hi", N: top}, meta.NoCond); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, meta.Item{PK: "p", SK: "lo", N: -top}, meta.NoCond); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Add(ctx, "p", "hi", 1); err != nil || n != top+1 {
		t.Fatalf("Add up to MaxInt64 = %d, %v", n, err)
	}
	if n, err := s.Add(ctx, "p", "lo", -2); err != nil || n != -top-2 {
		t.Fatalf("Add down to MinInt64 = %d, %v", n, err)
	}
	hi, err := s.Get(ctx, "p", "hi")
	if err != nil {
		t.Fatal(err)
	}
	lo, err := s.Get(ctx, "p", "lo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, "p", "hi", 1); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("Add beyond MaxInt64: %v, want ErrInvalid", err)
	}
	if _, err := s.Add(ctx, "p", "lo", -1); !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("Add beyond MinInt64: %v, want ErrInvalid", err)
	}
	var txErr *meta.TxError
	err = s.Transact(ctx, []meta.Op{meta.Put(meta.Item{PK: "p", SK: "x"}, meta.NoCond), meta.Add("p", "hi", 5, meta.AtVersion(hi.Version))})
	if !errors.Is(err, meta.ErrInvalid) || errors.As(err, &txErr) {
		t.Fatalf("Transact adding beyond MaxInt64: %v, want ErrInvalid", err)
	}
	err = s.Transact(ctx, []meta.Op{meta.Put(meta.Item{PK: "p", SK: "x"}, meta.NoCond), meta.Add("p", "hi", 5, meta.AtVersion(hi.Version+1))})
	if !errors.As(err, &txErr) || txErr.Index != 1 {
		t.Fatalf("Transact adding beyond MaxInt64 with a failing condition: %v, want a TxError at 1", err)
	}
	for _, want := range []meta.Item{hi, lo} {
		if it, err := s.Get(ctx, "p", want.SK); err != nil || it.N != want.N || it.Version != want.Version {
			t.Fatalf("Get(%q) = %+v, %v; want it unchanged at %+v", want.SK, it, err, want)
		}
	}
	if _, err := s.Get(ctx, "p", "x"); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("a refused transaction wrote: %v", err)
	}
}

// TestStartKey pins how After and Prefix become a start key, since moto
// accepts start keys outside the key condition that DynamoDB refuses.
func TestStartKey(t *testing.T) {
	for _, tc := range []struct {
		o     meta.QueryOpts
		start string
		empty bool
	}{
		{meta.QueryOpts{}, "", false},
		{meta.QueryOpts{After: "b"}, "b", false},
		{meta.QueryOpts{After: "b", Reverse: true}, "b", false},
		{meta.QueryOpts{Prefix: "e#"}, "", false},
		{meta.QueryOpts{Prefix: "e#", After: "e#b"}, "e#b", false},
		{meta.QueryOpts{Prefix: "e#", After: "e#b", Reverse: true}, "e#b", false},
		{meta.QueryOpts{Prefix: "e#", After: "e#"}, "e#", false},
		{meta.QueryOpts{Prefix: "e#", After: "e#", Reverse: true}, "e#", true},
		// Before the prefix's range.
		{meta.QueryOpts{Prefix: "e#", After: "d"}, "", false},
		{meta.QueryOpts{Prefix: "e#", After: "e"}, "", false},
		{meta.QueryOpts{Prefix: "e#", After: "d", Reverse: true}, "", true},
		// After it.
		{meta.QueryOpts{Prefix: "e#", After: "f"}, "", true},
		{meta.QueryOpts{Prefix: "e#", After: "e$"}, "", true},
		{meta.QueryOpts{Prefix: "e#", After: "f", Reverse: true}, "", false},
	} {
		start, empty := startKey(tc.o)
		if empty != tc.empty || (!empty && start != tc.start) {
			t.Errorf("startKey(%+v) = %q, %v; want %q, %v", tc.o, start, empty, tc.start, tc.empty)
		}
	}
}

func TestNewRetryer(t *testing.T) {
	if n := NewRetryer().MaxAttempts(); n != 10 {
		t.Fatalf("NewRetryer makes %d attempts, want 10", n)
	}
}
