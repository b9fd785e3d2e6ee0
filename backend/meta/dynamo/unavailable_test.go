package dynamo

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/strata-storage/strata/backend/meta"
)

// errReset is a dropped connection as net/http reports one; the SDK
// retries it.
var errReset = errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer")

// doFunc is a dynamodb.HTTPClient.
type doFunc func(*http.Request) (*http.Response, error)

func (f doFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

func target(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
}

// quickRetries makes the SDK's 3 attempts without waiting.
func quickRetries(o *dynamodb.Options) {
	o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = 3
		so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return time.Millisecond, nil })
	})
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		s, err := New(newClient(t, nil, quickRetries, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String("http://" + addr) }), "table")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "p", "s"); !errors.Is(err, meta.ErrUnavailable) || errors.Is(err, meta.ErrNotFound) {
			t.Errorf("Get from an endpoint that refuses connections: %v, want ErrUnavailable", err)
		}
	})

	t.Run("ConnectionDropped", func(t *testing.T) {
		t.Parallel()
		client := newClient(t, func(next dynamodb.HTTPClient) dynamodb.HTTPClient {
			return doFunc(func(r *http.Request) (*http.Response, error) {
				if target(r) == "UpdateItem" {
					if r.Body != nil {
						_, _ = io.Copy(io.Discard, r.Body)
					}
					return nil, errReset
				}
				return next.Do(r)
			})
		}, quickRetries)
		s := newStore(t, client)
		_, err := s.Put(ctx, meta.Item{PK: "p", SK: "s", Value: []byte("v")}, meta.MustNew)
		if !errors.Is(err, meta.ErrUnavailable) || errors.Is(err, meta.ErrConflict) {
			t.Errorf("Put over dropped connections: %v, want ErrUnavailable", err)
		}
		if err := s.Transact(ctx, []meta.Op{meta.Add("p", "n", 1, meta.NoCond)}); err != nil {
			t.Errorf("Transact (not dropped): %v", err)
		}
	})

	t.Run("ServiceUnavailable", func(t *testing.T) {
		t.Parallel()
		f, client := newFaults(t, nil)
		s := newStore(t, client)
		t.Cleanup(func() { f.reset(nil) })
		f.reset(func(op string, _ int) *fault {
			if op == "Query" {
				return &fault{status: 503, body: `{"__type":"com.amazonaws.dynamodb.v20120810#ServiceUnavailable","message":"try again"}`}
			}
			return nil
		})
		if _, err := s.Query(ctx, "p", meta.QueryOpts{}); !errors.Is(err, meta.ErrUnavailable) {
			t.Errorf("Query answered 503: %v, want ErrUnavailable", err)
		}
	})

	t.Run("CallerCancelled", func(t *testing.T) {
		t.Parallel()
		cctx, cancel := context.WithCancel(ctx)
		client := newClient(t, func(next dynamodb.HTTPClient) dynamodb.HTTPClient {
			return doFunc(func(r *http.Request) (*http.Response, error) {
				if target(r) == "GetItem" {
					cancel()
					<-r.Context().Done()
					return nil, r.Context().Err()
				}
				return next.Do(r)
			})
		}, quickRetries)
		s := newStore(t, client)
		_, err := s.Get(cctx, "p", "s")
		if !errors.Is(err, context.Canceled) || errors.Is(err, meta.ErrUnavailable) {
			t.Errorf("Get cancelled by its caller: %v, want context.Canceled and not ErrUnavailable", err)
		}
	})

	t.Run("ConditionFailedIsNot", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, nil)
		if _, err := s.Put(ctx, meta.Item{PK: "p", SK: "s"}, meta.MustLive); !errors.Is(err, meta.ErrConflict) || errors.Is(err, meta.ErrUnavailable) {
			t.Errorf("Put(MustLive) of a missing item: %v, want ErrConflict only", err)
		}
	})
}

// loseFirst is a client whose first conditional UpdateItem reaches the
// table but whose answer is lost (a dropped connection), so that the SDK
// sends it again; between the two, between(), if set, runs. With drop set
// instead, the first request never reaches the table.
type loseFirst struct {
	mu      sync.Mutex
	armed   bool
	drop    bool
	between func()
	calls   int
}

func (l *loseFirst) wrap(next dynamodb.HTTPClient) dynamodb.HTTPClient {
	return doFunc(func(r *http.Request) (*http.Response, error) {
		if target(r) != "UpdateItem" {
			return next.Do(r)
		}
		l.mu.Lock()
		l.calls++
		fire := l.armed
		l.armed = false
		drop, between := l.drop, l.between
		l.mu.Unlock()
		if !fire {
			return next.Do(r)
		}
		if drop {
			if r.Body != nil {
				_, _ = io.Copy(io.Discard, r.Body)
			}
		} else {
			resp, err := next.Do(r)
			if err != nil {
				return nil, err
			}
			resp.Body.Close()
		}
		if between != nil {
			between()
		}
		return nil, errReset
	})
}

func (l *loseFirst) arm(drop bool, between func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.armed, l.drop, l.between, l.calls = true, drop, between, 0
}

func (l *loseFirst) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// TestConditionalPutAnswerLost: a conditional Put whose first answer is
// lost after it applied is sent again by the SDK; that attempt fails its
// condition on the Put's own result, which is success, with the version the
// Put set. A condition that fails because of another write is still a
// conflict, even when that write stored the same value.
func TestConditionalPutAnswerLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := &loseFirst{}
	s := newStore(t, newClient(t, l.wrap, quickRetries))
	other, err := New(newClient(t, nil), s.table) // a second writer, not faulted
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Unix(2_000_000_000, 0)
	get := func(sk string) meta.Item {
		t.Helper()
		it, err := s.Get(ctx, "p", sk)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}

	// IfAbsent.
	l.arm(false, nil)
	v, err := s.Put(ctx, meta.Item{PK: "p", SK: "new", Value: []byte("first"), N: 3, ExpiresAt: exp}, meta.MustNew)
	if err != nil {
		t.Fatalf("Put(MustNew) whose answer was lost: %v", err)
	}
	if n := l.count(); n != 2 {
		t.Fatalf("%d UpdateItem requests, want 2 (the SDK's retry)", n)
	}
	if it := get("new"); it.Version != v || string(it.Value) != "first" || it.N != 3 || !it.ExpiresAt.Equal(exp) {
		t.Fatalf("after Put(MustNew) = %d: item %+v", v, it)
	}

	// IfVersion.
	l.arm(false, nil)
	v2, err := s.Put(ctx, meta.Item{PK: "p", SK: "new", Value: []byte("second")}, meta.AtVersion(v))
	if err != nil {
		t.Fatalf("Put(AtVersion) whose answer was lost: %v", err)
	}
	if it := get("new"); it.Version != v2 || v2 == v || string(it.Value) != "second" || !it.ExpiresAt.IsZero() {
		t.Fatalf("after Put(AtVersion(%d)) = %d: item %+v", v, v2, it)
	}

	// Another write between the lost answer and the retry: a conflict.
	l.arm(false, func() {
		if _, err := other.Put(ctx, meta.Item{PK: "p", SK: "new", Value: []byte("theirs")}, meta.NoCond); err != nil {
			t.Error(err)
		}
	})
	if _, err := s.Put(ctx, meta.Item{PK: "p", SK: "new", Value: []byte("third")}, meta.AtVersion(v2)); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Put(AtVersion) overtaken by another write: %v, want ErrConflict", err)
	}
	if it := get("new"); string(it.Value) != "theirs" {
		t.Fatalf("item %+v, want the other write's", it)
	}

	// Our request never arrived, and another writer stored the very same
	// value from the same version: the retry's failure is not ours.
	cur := get("new")
	l.arm(true, func() {
		if _, err := other.Put(ctx, meta.Item{PK: "p", SK: "new", Value: []byte("same")}, meta.AtVersion(cur.Version)); err != nil {
			t.Error(err)
		}
	})
	if _, err := s.Put(ctx, meta.Item{PK: "p", SK: "new", Value: []byte("same")}, meta.AtVersion(cur.Version)); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Put(AtVersion) beaten by an identical write: %v, want ErrConflict", err)
	}

	// A plain lost race is still a conflict.
	if _, err := s.Put(ctx, meta.Item{PK: "p", SK: "new"}, meta.MustNew); !errors.Is(err, meta.ErrConflict) {
		t.Fatalf("Put(MustNew) of an existing item: %v, want ErrConflict", err)
	}
}
