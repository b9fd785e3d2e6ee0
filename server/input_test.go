package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
)

// TestJSONBodiesAreStrict: a key twice (in any case), a key in another
// case than the API's, and a value of the wrong kind are refused, with
// messages in the API's words that quote little of the input.
func TestJSONBodiesAreStrict(t *testing.T) {
	f := newFixture(t, server.Config{})
	long := strings.Repeat("x", 64<<10)
	for _, c := range []struct {
		body string
		want string // in the detail
	}{
		{`{"name":"alice","name":"mallory"}`, `key "name" appears twice`},
		{`{"name":"alice","admin":false,"admin":true}`, `key "admin" appears twice`},
		{`{"name":"alice","NAME":"mallory"}`, `key "NAME" appears twice`},
		{`{"NAME":"alice"}`, `unknown field "NAME"`},
		{`{"name":"alice","` + long + `":1}`, `unknown field "xxxx`},
		{`{"name":"alice","admin":"yes"}`, `field admin: want true or false, not a string`},
		{`{"name":"alice","admin":"` + long + `"}`, `field admin: want true or false, not a string`},
		{`{"name":5}`, `field name: want a string, not a number`},
		{`{"name":["` + long + `"]}`, `field name: want a string, not an array`},
		{`["alice"]`, `must be a JSON object`},
		{`{"name":"alice"`, `ends in the middle`},
		{``, `empty`},
	} {
		resp := f.do("POST", "/v1/users", f.admin, strings.NewReader(c.body), "Content-Type", "application/json")
		p := problem(t, resp, http.StatusBadRequest, api.CodeInvalidJSON)
		if !strings.Contains(p.Detail, c.want) {
			t.Errorf("%.60s: detail %q, want %q in it", c.body, p.Detail, c.want)
		}
		for _, goWord := range []string{"Go ", "struct", "bool", "int64", "CreateUserRequest", "json:"} {
			if strings.Contains(p.Detail, goWord) {
				t.Errorf("%.60s: detail %q speaks Go (%q)", c.body, p.Detail, goWord)
			}
		}
		if len(p.Detail) > 200 {
			t.Errorf("%.60s: detail of %d bytes echoes the input", c.body, len(p.Detail))
		}
	}
	var pg map[string][]api.User
	_ = json.Unmarshal(ok(t, f.do("GET", "/v1/users", f.admin, nil), http.StatusOK), &pg)
	if len(pg["users"]) != 1 {
		t.Fatalf("users after refused bodies: %+v", pg)
	}
	// Numbers out of range name the field and quote a short number.
	resp := f.do("POST", "/v1/uploads", f.admin, strings.NewReader(`{"path":"/home/admin/x","size":1`+strings.Repeat("0", 4000)+`}`))
	if p := problem(t, resp, http.StatusBadRequest, api.CodeInvalidJSON); !strings.Contains(p.Detail, "field size: want an integer") || len(p.Detail) > 200 {
		t.Errorf("detail %q", p.Detail)
	}
	resp = f.do("POST", "/v1/uploads", f.admin, strings.NewReader(`{"path":"/home/admin/x","size":1,"mtime":"`+long+`"}`))
	if p := problem(t, resp, http.StatusBadRequest, api.CodeInvalidJSON); !strings.Contains(p.Detail, "RFC 3339") || len(p.Detail) > 200 {
		t.Errorf("detail %q", p.Detail)
	}
}

// TestContentDigestLines: every Content-Digest line counts; two sha-256
// values are refused, whichever is right.
func TestContentDigestLines(t *testing.T) {
	f := newFixture(t, server.Config{})
	content := []byte("the real content")
	for _, lines := range [][]string{
		{digest(content), digest([]byte("something else"))},
		{digest([]byte("something else")), digest(content)},
		{digest(content), digest(content)},
	} {
		resp := f.do("PUT", "/v1/files/home/admin/f", f.admin, strings.NewReader(string(content)),
			api.HeaderContentDigest, lines[0], api.HeaderContentDigest, lines[1])
		p := problem(t, resp, http.StatusBadRequest, api.CodeInvalidRequest)
		if !strings.Contains(p.Detail, "sha-256 given twice") {
			t.Errorf("detail %q", p.Detail)
		}
	}
	problem(t, f.do("GET", "/v1/stat/home/admin/f", f.admin, nil), http.StatusNotFound, api.CodeNotFound)
	// Another algorithm on its own line is no second sha-256.
	sha512 := "sha-512=:" + strings.Repeat("A", 86) + "==:"
	ok(t, f.do("PUT", "/v1/files/home/admin/f", f.admin, strings.NewReader(string(content)),
		api.HeaderContentDigest, sha512, api.HeaderContentDigest, digest(content)), http.StatusCreated)
	problem(t, f.do("PUT", "/v1/files/home/admin/g", f.admin, strings.NewReader("x"),
		api.HeaderContentDigest, sha512, api.HeaderContentDigest, digest(content)), http.StatusBadRequest, api.CodeDigestMismatch)
}

// TestRepeatedHeaders: a header that may come once is refused twice.
func TestRepeatedHeaders(t *testing.T) {
	f := newFixture(t, server.Config{})
	problem(t, f.do("GET", "/v1/whoami", f.admin, nil, "Authorization", "Bearer strata_"+strings.Repeat("A", 40)),
		http.StatusBadRequest, api.CodeInvalidRequest)
	problem(t, f.do("PUT", "/v1/files/home/admin/m", f.admin, strings.NewReader("x"),
		api.HeaderMTime, "2020-01-01T00:00:00Z", api.HeaderMTime, "2021-01-01T00:00:00Z"), http.StatusBadRequest, api.CodeInvalidRequest)
	problem(t, f.do("GET", "/v1/files/home/admin/m", f.admin, nil, "Range", "bytes=0-0", "Range", "bytes=1-1"),
		http.StatusBadRequest, api.CodeInvalidRequest)
}

// TestMTimeRange: a file time the store cannot keep exactly is refused
// with a message that says the range, in the header of a PUT and in an
// upload session alike; the edges are kept to the nanosecond.
func TestMTimeRange(t *testing.T) {
	f := newFixture(t, server.Config{})
	for _, v := range []string{"1677-09-21T00:12:43.145224191Z", "2262-04-11T23:47:16.854775808Z", "1600-01-01T00:00:00Z",
		"9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2262-04-12T00:00:00+00:00", "2262-04-11T20:00:00-04:00"} {
		p := problem(t, f.do("PUT", "/v1/files/home/admin/m", f.admin, strings.NewReader("x"), api.HeaderMTime, v), http.StatusBadRequest, api.CodeInvalidRequest)
		if !strings.Contains(p.Detail, "outside the times Strata keeps (1677-09-21T00:12:43Z to 2262-04-11T23:47:16Z)") {
			t.Errorf("%s: detail %q", v, p.Detail)
		}
		p = problem(t, f.do("POST", "/v1/uploads", f.admin, strings.NewReader(`{"path":"/home/admin/m","size":1,"mtime":"`+v+`"}`)), http.StatusBadRequest, api.CodeInvalidRequest)
		if !strings.Contains(p.Detail, "outside the times Strata keeps") {
			t.Errorf("%s: detail %q", v, p.Detail)
		}
	}
	problem(t, f.do("GET", "/v1/stat/home/admin/m", f.admin, nil), http.StatusNotFound, api.CodeNotFound)
	for i, v := range []string{"1677-09-21T00:12:43.145224192Z", "2262-04-11T23:47:16.854775807Z", "1970-01-01T00:00:00Z"} {
		var e api.Entry
		_ = json.Unmarshal(ok(t, f.do("PUT", fmt.Sprintf("/v1/files/home/admin/m%d", i), f.admin, strings.NewReader("x"), api.HeaderMTime, v), http.StatusCreated), &e)
		if got := e.ModTime.Format(time.RFC3339Nano); got != v {
			t.Errorf("mtime %s kept as %s", v, got)
		}
	}
}

// TestDurationsInRange: a duration in seconds too large for the server's
// clock is refused, not wrapped around.
func TestDurationsInRange(t *testing.T) {
	f := newFixture(t, server.Config{})
	for _, secs := range []string{"3153600001", "9223372037", "9223372036854775807"} {
		problem(t, f.do("POST", "/v1/admin/collect", f.admin, strings.NewReader(`{"graceSeconds":`+secs+`}`)), http.StatusBadRequest, api.CodeInvalidRequest)
		problem(t, f.do("POST", "/v1/tokens", f.admin, strings.NewReader(`{"expiresIn":`+secs+`}`)), http.StatusBadRequest, api.CodeInvalidRequest)
	}
}

// TestUploadLayoutRefused: the session layouts of the attack run are
// refused at creation with a 400 that says why.
func TestUploadLayoutRefused(t *testing.T) {
	f := newFixture(t, server.Config{})
	for _, body := range []string{`{"path":"/home/admin/x","size":10,"partSize":4831838208}`, `{"path":"/home/admin/x","size":53687091200000}`} {
		p := problem(t, f.do("POST", "/v1/uploads", f.admin, strings.NewReader(body)), http.StatusBadRequest, api.CodeInvalidRequest)
		if !strings.Contains(p.Detail, "part size") && !strings.Contains(p.Detail, "larger than an upload session takes") {
			t.Errorf("%s: detail %q", body, p.Detail)
		}
	}
}

// TestTooManyUploads: the bound on open upload sessions is 429 too_many.
func TestTooManyUploads(t *testing.T) {
	f := newFixtureCore(t, server.Config{}, backend.Config{MaxOpenUploads: 2}, nil)
	for i := range 2 {
		ok(t, f.do("POST", "/v1/uploads", f.admin, strings.NewReader(fmt.Sprintf(`{"path":"/home/admin/u%d","size":1}`, i))), http.StatusCreated)
	}
	p := problem(t, f.do("POST", "/v1/uploads", f.admin, strings.NewReader(`{"path":"/home/admin/u3","size":1}`)), http.StatusTooManyRequests, api.CodeTooMany)
	if !strings.Contains(p.Detail, "2 upload sessions are open already") {
		t.Errorf("detail %q", p.Detail)
	}
}

// TestRepeatedQueryParameters: a query parameter given twice is refused
// rather than one of its values picked.
func TestRepeatedQueryParameters(t *testing.T) {
	f := newFixture(t, server.Config{})
	problem(t, f.do("GET", "/v1/dirs/home/admin?limit=1&limit=1000", f.admin, nil), http.StatusBadRequest, api.CodeInvalidRequest)
	problem(t, f.do("GET", "/v1/trash?user=admin&user=bob", f.admin, nil), http.StatusBadRequest, api.CodeInvalidRequest)
	ok(t, f.do("GET", "/v1/dirs/home/admin?limit=1", f.admin, nil), http.StatusOK)
}
