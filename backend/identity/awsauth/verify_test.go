package awsauth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

const (
	serverID = "https://files.example.com"
	region   = "us-east-1"
)

var (
	creds   = aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	session = aws.Credentials{AccessKeyID: "ASIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", SessionToken: "SECRET-SESSION-TOKEN"}
	now     = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	idKey   = http.CanonicalHeaderKey(HeaderServerID)
)

// fakeSTS answers like STS and records what reached it.
type fakeSTS struct {
	*httptest.Server
	mu     sync.Mutex
	got    []*http.Request
	bodies []string
	status int
	answer string
	header http.Header
}

const callerAnswer = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/alice</Arn>
    <UserId>AIDAEXAMPLE</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>`

func newFakeSTS(t *testing.T) *fakeSTS {
	f := &fakeSTS{status: http.StatusOK, answer: callerAnswer}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, r)
		f.bodies = append(f.bodies, string(b))
		status, answer := f.status, f.answer
		for k, v := range f.header {
			w.Header()[k] = v
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSTS) hits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

func newVerifier(t *testing.T, endpoint string) *Verifier {
	t.Helper()
	v, err := NewVerifier(Config{Endpoint: endpoint, Region: region, ServerIDs: []string{serverID + "/"}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustSign(t *testing.T, c aws.Credentials, endpoint, id string, at time.Time) Request {
	t.Helper()
	r, err := Sign(context.Background(), c, endpoint, region, id, at)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestVerifyForwardsOnlyToTheEndpoint(t *testing.T) {
	sts := newFakeSTS(t)
	v := newVerifier(t, sts.URL)
	r := mustSign(t, session, sts.URL, serverID, now.Add(-time.Minute))
	c, err := v.Verify(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	if c.ARN != "arn:aws:iam::123456789012:user/alice" || c.Account != "123456789012" || c.AccessKeyID != session.AccessKeyID ||
		len(c.Digest) != 64 || !c.Signed.Equal(now.Add(-time.Minute)) {
		t.Fatalf("caller %+v", c)
	}
	if sts.hits() != 1 {
		t.Fatalf("STS got %d requests", sts.hits())
	}
	got := sts.got[0]
	if got.Method != "POST" || got.URL.Path != "/" || got.URL.RawQuery != "" || got.Host != strings.TrimPrefix(sts.URL, "http://") ||
		sts.bodies[0] != "Action=GetCallerIdentity&Version=2011-06-15" {
		t.Fatalf("STS got %s %s (Host %s) %q", got.Method, got.URL, got.Host, sts.bodies[0])
	}
	for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "Content-Type", idKey, http.CanonicalHeaderKey(HeaderNonce)} {
		if got.Header.Get(h) != r.Headers[h] {
			t.Errorf("STS got %s %q, the client signed %q", h, got.Header.Get(h), r.Headers[h])
		}
	}

	// The same request signed again later is another request; so is one
	// signed at the same time with another key (SigV4's signature does
	// not depend on the key ID: two keys with one secret sign alike), and
	// one signed again in the same second (the nonce).
	other := session
	other.AccessKeyID = "ASIAOTHERKEY0000EXAMPLE"
	for _, r2 := range []Request{mustSign(t, session, sts.URL, serverID, now), mustSign(t, other, sts.URL, serverID, now.Add(-time.Minute)), mustSign(t, session, sts.URL, serverID, now.Add(-time.Minute))} {
		c2, err := v.Verify(context.Background(), r2)
		if err != nil || c2.Digest == c.Digest {
			t.Fatalf("a second request: %v, digest %s (the first's %s)", err, c2.Digest, c.Digest)
		}
	}
}

// TestVerifyRefuses: every request that is not exactly a fresh
// GetCallerIdentity, signed for this server and this STS endpoint, is
// refused before anything is sent anywhere.
func TestVerifyRefuses(t *testing.T) {
	sts := newFakeSTS(t)
	trap := newFakeSTS(t) // where a request could try to send the server
	v := newVerifier(t, sts.URL)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
	with := func(m map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, val := range m {
			out[k] = val
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	raw := func(method, target, body, reg string, at time.Time, h map[string]string) Request {
		t.Helper()
		r, err := sign(context.Background(), creds, method, target, body, reg, at, h)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	good := func() Request { return mustSign(t, creds, sts.URL, serverID, now) }
	edit := func(f func(r *Request)) Request {
		r := good()
		h := map[string]string{}
		for k, val := range r.Headers {
			h[k] = val
		}
		r.Headers = h
		f(&r)
		return r
	}
	withID := with(form, HeaderServerID, serverID)
	for _, c := range []struct {
		name string
		r    Request
	}{
		{"signed for another server", mustSign(t, creds, sts.URL, "https://evil.example.com", now)},
		{"signed for another port of this host", mustSign(t, creds, sts.URL, "https://files.example.com:8443", now)},
		{"without a server ID", raw("POST", sts.URL, stsBody, region, now, form)},
		{"the server ID not signed", edit(func(r *Request) {
			*r = raw("POST", sts.URL, stsBody, region, now, form)
			r.Headers[idKey] = serverID
		})},
		{"the server ID changed after signing", edit(func(r *Request) { r.Headers[idKey] = "https://evil.example.com" })},
		{"another action", raw("POST", sts.URL, "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/admin&RoleSessionName=x", region, now, withID)},
		{"GetSessionToken", raw("POST", sts.URL, "Action=GetSessionToken&Version=2011-06-15", region, now, withID)},
		{"another action after it", raw("POST", sts.URL, stsBody+"&Action=AssumeRole", region, now, withID)},
		{"another parameter", raw("POST", sts.URL, stsBody+"&DurationSeconds=900", region, now, withID)},
		{"an encoded action", raw("POST", sts.URL, "Action=GetCallerIdentit%79&Version=2011-06-15", region, now, withID)},
		{"no action", raw("POST", sts.URL, "", region, now, withID)},
		{"the action in the query", raw("POST", sts.URL+"/?Action=GetCallerIdentity&Version=2011-06-15", "", region, now, withID)},
		{"GET", raw("GET", sts.URL+"/?Action=GetCallerIdentity&Version=2011-06-15", "", region, now, with(nil, HeaderServerID, serverID))},
		{"a GET in a POST's clothes", edit(func(r *Request) { r.Method = "GET" })},
		{"signed for another endpoint", mustSign(t, creds, trap.URL, serverID, now)},
		{"another path", mustSign(t, creds, sts.URL+"/other", serverID, now)},
		{"Host naming another endpoint", raw("POST", sts.URL, stsBody, region, now, with(withID, "Host", strings.TrimPrefix(trap.URL, "http://")))},
		{"signed for another region", raw("POST", sts.URL, stsBody, "eu-west-1", now, withID)},
		{"signed 20 minutes ago", mustSign(t, creds, sts.URL, serverID, now.Add(-20*time.Minute))},
		{"signed 20 minutes ahead", mustSign(t, creds, sts.URL, serverID, now.Add(20*time.Minute))},
		{"a date changed after signing", edit(func(r *Request) { r.Headers["X-Amz-Date"] = now.Add(-time.Hour).Format(amzDate) })},
		{"a date outside the credential scope", edit(func(r *Request) { r.Headers["X-Amz-Date"] = now.Add(24 * time.Hour).Format(amzDate) })},
		{"a nonce not signed", edit(func(r *Request) {
			*r = raw("POST", sts.URL, stsBody, region, now, withID)
			r.Headers[http.CanonicalHeaderKey(HeaderNonce)] = "0123456789abcdef0123"
		})},
		{"a malformed nonce", raw("POST", sts.URL, stsBody, region, now, with(withID, HeaderNonce, "short"))},
		{"an unknown header", raw("POST", sts.URL, stsBody, region, now, with(withID, "X-Forwarded-For", "10.0.0.1"))},
		{"JSON", raw("POST", sts.URL, stsBody, region, now, with(withID, "Content-Type", "application/json"))},
		{"a header twice", edit(func(r *Request) { r.Headers["x-amz-date"] = r.Headers["X-Amz-Date"] })},
		{"a header with a line break", edit(func(r *Request) { r.Headers["X-Amz-Security-Token"] = "a\r\nX-Evil: 1" })},
		{"a wrong Content-Length", edit(func(r *Request) { r.Headers["Content-Length"] = "9999" })},
		{"no Authorization", edit(func(r *Request) { delete(r.Headers, "Authorization") })},
		{"another algorithm", edit(func(r *Request) {
			r.Headers["Authorization"] = strings.Replace(r.Headers["Authorization"], "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1)
		})},
		{"another service", edit(func(r *Request) {
			r.Headers["Authorization"] = strings.Replace(r.Headers["Authorization"], "/sts/", "/iam/", 1)
		})},
		{"a signed header not sent", edit(func(r *Request) {
			r.Headers["Authorization"] = strings.Replace(r.Headers["Authorization"], "SignedHeaders=", "SignedHeaders=x-amz-target;", 1)
		})},
	} {
		t.Run(c.name, func(t *testing.T) {
			before, trapped := sts.hits(), trap.hits()
			_, err := v.Verify(context.Background(), c.r)
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("%v, want it refused", err)
			}
			t.Log(err)
			if sts.hits() != before || trap.hits() != trapped {
				t.Fatalf("refused, but STS got %d requests and the trap %d", sts.hits()-before, trap.hits()-trapped)
			}
			if strings.Contains(err.Error(), creds.SecretAccessKey) || strings.Contains(err.Error(), "Signature=") {
				t.Fatalf("the reason carries a secret: %v", err)
			}
		})
	}
	if trap.hits() != 0 {
		t.Fatalf("the trap was reached %d times", trap.hits())
	}

	// Just inside the window it is fine.
	if _, err := v.Verify(context.Background(), mustSign(t, creds, sts.URL, serverID, now.Add(-14*time.Minute))); err != nil {
		t.Fatalf("signed 14 minutes ago: %v", err)
	}
	if _, err := v.Verify(context.Background(), mustSign(t, creds, sts.URL, "HTTPS://Files.Example.com:443/", now)); err != nil {
		t.Fatalf("the server ID in another spelling: %v", err)
	}
}

func TestVerifySTSAnswers(t *testing.T) {
	sts := newFakeSTS(t)
	trap := newFakeSTS(t)
	v := newVerifier(t, sts.URL)
	for _, c := range []struct {
		name   string
		status int
		answer string
		header http.Header
		want   error
	}{
		{"a bad signature", 403, `<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>The canonical string was x-amz-security-token:SECRET-SESSION-TOKEN</Message></Error></ErrorResponse>`, nil, ErrRefused},
		{"an expired token", 403, `<ErrorResponse><Error><Code>ExpiredToken</Code><Message>SECRET-SESSION-TOKEN</Message></Error></ErrorResponse>`, nil, ErrRefused},
		{"no error document", 400, `SECRET-SESSION-TOKEN`, nil, ErrRefused},
		{"a redirect", 307, ``, http.Header{"Location": {trap.URL + "/"}}, ErrRefused},
		{"throttling", 400, `<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>`, nil, ErrUnavailable},
		{"a failure of STS", 503, `<ErrorResponse><Error><Code>ServiceUnavailable</Code></Error></ErrorResponse>`, nil, ErrUnavailable},
		{"an answer without an identity", 200, `<GetCallerIdentityResponse/>`, nil, ErrUnavailable},
	} {
		t.Run(c.name, func(t *testing.T) {
			sts.mu.Lock()
			sts.status, sts.answer, sts.header = c.status, c.answer, c.header
			sts.mu.Unlock()
			_, err := v.Verify(context.Background(), mustSign(t, session, sts.URL, serverID, now))
			if !errors.Is(err, c.want) {
				t.Fatalf("%v, want %v", err, c.want)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("the error carries what STS said, secrets and all: %v", err)
			}
		})
	}
	if trap.hits() != 0 {
		t.Fatal("a redirect was followed")
	}
	sts.Close()
	if _, err := v.Verify(context.Background(), mustSign(t, creds, sts.URL, serverID, now)); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("STS down: %v", err)
	}
}

func TestServerID(t *testing.T) {
	for in, want := range map[string]string{
		"https://files.example.com":          "https://files.example.com",
		"HTTPS://Files.Example.COM:443/":     "https://files.example.com",
		"http://127.0.0.1:8420":              "http://127.0.0.1:8420",
		"http://localhost:80/strata/":        "http://localhost/strata",
		"https://files.example.com:8443/a/b": "https://files.example.com:8443/a/b",
	} {
		if got, err := ServerID(in); err != nil || got != want {
			t.Errorf("ServerID(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "files.example.com", "ftp://x", "https://u:p@x", "https://x/?a=b", "https://x/#f", "unix:///tmp/s"} {
		if got, err := ServerID(bad); err == nil {
			t.Errorf("ServerID(%q) = %q, want an error", bad, got)
		}
	}
}

func TestNewVerifierChecks(t *testing.T) {
	for _, c := range []Config{
		{Endpoint: "sts.amazonaws.com", Region: region, ServerIDs: []string{serverID}},
		{Endpoint: "https://sts.amazonaws.com/?x=1", Region: region, ServerIDs: []string{serverID}},
		{Endpoint: GlobalEndpoint, Region: "", ServerIDs: []string{serverID}},
		{Endpoint: GlobalEndpoint, Region: region},
		{Endpoint: GlobalEndpoint, Region: region, ServerIDs: []string{"files.example.com"}},
	} {
		if _, err := NewVerifier(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
