package server_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/identity/awsauth"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/internal/ratelimit"
	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestAWSLogin logs in with AWS identities verified by moto's STS: a
// mapped IAM user and a session of a mapped role get tokens; everything
// else gets one same 401 and counts as a failed login, with the reason in
// the log and no secret anywhere.
func TestAWSLogin(t *testing.T) {
	ep := awstest.Endpoint(t)
	ctx := context.Background()
	eng, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	c, err := daemon.NewCore(backend.Config{Blobs: eng.Blobs, Meta: eng.Meta, Keys: eng.Keys})
	if err != nil {
		t.Fatal(err)
	}
	// Background work (purges) ends before the engines close and the
	// temporary directory goes.
	t.Cleanup(func() { _ = c.Files.Drain(context.Background()) })
	adminTok, _, err := c.Identity.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	var clock atomic.Int64 // the login guard's, in nanoseconds
	clock.Store(time.Now().UnixNano())
	srv := server.NewServer(server.Deps{Files: c.Files, Identity: c.Identity}, server.Config{
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Now:    func() time.Time { return time.Unix(0, clock.Load()) },
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	anon, err := client.New(ts.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.AWSLoginInfo(ctx); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("AWS login info before it is set up: %v", err)
	}
	v, err := awsauth.NewVerifier(awsauth.Config{Endpoint: ep, Region: awstest.Region, ServerIDs: []string{ts.URL}})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetAWSLogin(v)

	admin, err := client.New(ts.URL, adminTok)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		if _, err := admin.CreateUser(ctx, u, false, false); err != nil {
			t.Fatal(err)
		}
	}
	aliceKey := awstest.IAMUser(t, "/div/")
	role := awstest.Name("role")
	bobSession := awstest.AssumeRole(t, role, "ci-run")
	stranger := awstest.IAMUser(t, "/")
	if _, err := admin.AddAWSIdentity(ctx, "alice", aliceKey.ARN); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.AddAWSIdentity(ctx, "bob", "arn:aws:iam::"+awstest.Account+":role/"+role); err != nil {
		t.Fatal(err)
	}
	ids, err := admin.AWSIdentities(ctx, "bob")
	if err != nil || len(ids) != 1 || ids[0].ARN != "arn:aws:iam::"+awstest.Account+":role/"+role || ids[0].User != "bob" {
		t.Fatalf("bob's AWS identities: %+v %v", ids, err)
	}

	info, err := anon.AWSLoginInfo(ctx)
	if err != nil || info.STSEndpoint != ep || info.Region != awstest.Region || len(info.ServerIDs) != 1 || info.ServerIDs[0] != ts.URL {
		t.Fatalf("AWS login info: %+v %v", info, err)
	}
	signed := func(p awstest.Principal, serverID string, at time.Time) api.AWSLoginRequest {
		t.Helper()
		r, err := awsauth.Sign(ctx, p.Creds, info.STSEndpoint, info.Region, serverID, at)
		if err != nil {
			t.Fatal(err)
		}
		return api.AWSLoginRequest{Method: r.Method, URL: r.URL, Headers: r.Headers, Body: r.Body, Name: "test"}
	}

	for _, c := range []struct {
		p    awstest.Principal
		user string
	}{{aliceKey, "alice"}, {bobSession, "bob"}} {
		res, err := anon.LoginAWS(ctx, signed(c.p, ts.URL, time.Now()))
		if err != nil {
			t.Fatalf("%s: %v", c.p.ARN, err)
		}
		if res.User != c.user || res.ARN != c.p.ARN || res.Expires == nil || res.Expires.Before(time.Now().Add(29*24*time.Hour)) {
			t.Fatalf("%s logged in: %+v", c.p.ARN, res)
		}
		me, err := client.New(ts.URL, res.Secret)
		if err != nil {
			t.Fatal(err)
		}
		if u, err := me.Whoami(ctx); err != nil || u.Name != c.user {
			t.Fatalf("the token of %s: %+v %v", c.p.ARN, u, err)
		}
	}

	trap := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("a login request reached a URL taken from the request")
	}))
	t.Cleanup(trap.Close)
	used := signed(aliceKey, ts.URL, time.Now().Add(-time.Second))
	if _, err := anon.LoginAWS(ctx, used); err != nil {
		t.Fatal(err)
	}
	refusals := []struct {
		name, reason string
		req          api.AWSLoginRequest
	}{
		{"an unmapped user", "no user for this ARN", signed(stranger, ts.URL, time.Now())},
		{"a request used before", "no user for this ARN (or the request was used before)", used},
		{"signed for another server", "which is not this one", signed(aliceKey, "https://files.example.com", time.Now())},
		{"signed 20 minutes ago", "more than 15m0s from now", signed(aliceKey, ts.URL, time.Now().Add(-20*time.Minute))},
		{"another STS action", "only GetCallerIdentity", func() api.AWSLoginRequest {
			r := signed(aliceKey, ts.URL, time.Now())
			r.Body = "Action=GetSessionToken&Version=2011-06-15"
			return r
		}()},
		{"another URL", "not this server's STS endpoint", func() api.AWSLoginRequest {
			r, err := awsauth.Sign(ctx, aliceKey.Creds, trap.URL, info.Region, ts.URL, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return api.AWSLoginRequest{Method: r.Method, URL: r.URL, Headers: r.Headers, Body: r.Body}
		}()},
		{"nothing at all", "only POST", api.AWSLoginRequest{}},
	}
	var detail string
	for _, c := range refusals {
		_, err := anon.LoginAWS(ctx, c.req)
		var ce *client.Error
		if !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized || ce.Code != api.CodeUnauthorized {
			t.Fatalf("%s: %v, want a 401", c.name, err)
		}
		if detail == "" {
			detail = ce.Detail
		}
		if ce.Detail != detail {
			t.Errorf("%s: %q, unlike the others' %q", c.name, ce.Detail, detail)
		}
		if !strings.Contains(logs.String(), c.reason) {
			t.Errorf("%s: the log does not say why (%q):\n%s", c.name, c.reason, logs)
		}
		// Failed logins slow down; the next case must not wait for it.
		clock.Add(int64(16 * time.Minute))
	}
	for _, secret := range []string{aliceKey.Creds.SecretAccessKey, bobSession.Creds.SecretAccessKey, bobSession.Creds.SessionToken, "Signature="} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("the log has a secret (%.12s...):\n%s", secret, logs)
		}
	}

	// They counted as failed logins: more than a minute's budget from
	// this address, and even a good one waits.
	// Each with another access key, so that no one key's own backoff
	// stops the address's failures from being counted.
	for i := range ratelimit.DefaultAuthFailures + 1 {
		other := stranger
		other.Creds.AccessKeyID = fmt.Sprintf("AKIASTRANGER%08d", i)
		anon.LoginAWS(ctx, signed(other, ts.URL, time.Now()))
	}
	_, err = anon.LoginAWS(ctx, signed(aliceKey, ts.URL, time.Now()))
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != http.StatusTooManyRequests {
		t.Fatalf("after many failures: %v, want a 429", err)
	}

	// A removed identity logs in no more.
	clock.Add(int64(2 * time.Hour))
	if err := admin.RemoveAWSIdentity(ctx, "alice", aliceKey.ARN); err != nil {
		t.Fatal(err)
	}
	if _, err := anon.LoginAWS(ctx, signed(aliceKey, ts.URL, time.Now())); !errors.As(err, &ce) || ce.Status != http.StatusUnauthorized {
		t.Fatalf("a removed identity: %v", err)
	}
	if err := admin.RemoveAWSIdentity(ctx, "alice", aliceKey.ARN); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("removing it twice: %v", err)
	}
}
