package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
)

func TestQuotaHTTP(t *testing.T) {
	f := newFixture(t, server.Config{})
	var r api.CreateUserResult
	_ = json.Unmarshal(ok(t, f.do("POST", "/v1/users", f.admin, strings.NewReader(`{"name":"alice","token":true}`)), http.StatusCreated), &r)
	alice := r.Token.Secret

	problem(t, f.do("PUT", "/v1/users/alice/quota", alice, strings.NewReader(`{"bytes":10}`)), http.StatusForbidden, api.CodeForbidden)
	problem(t, f.do("PUT", "/v1/users/alice/quota", f.admin, strings.NewReader(`{}`)), http.StatusBadRequest, api.CodeInvalidRequest)
	problem(t, f.do("PUT", "/v1/users/alice/quota", f.admin, strings.NewReader(`{"bytes":-1}`)), http.StatusBadRequest, api.CodeInvalidRequest)
	problem(t, f.do("PUT", "/v1/users/nobody/quota", f.admin, strings.NewReader(`{"bytes":1}`)), http.StatusNotFound, api.CodeNotFound)
	var u api.Usage
	_ = json.Unmarshal(ok(t, f.do("PUT", "/v1/users/alice/quota", f.admin, strings.NewReader(`{"bytes":10,"files":5}`)), http.StatusOK), &u)
	if u.QuotaBytes != 10 || u.QuotaFiles != 5 || u.User != "alice" || u.Home != "/home/alice" || !u.Counted {
		t.Fatalf("set: %+v", u)
	}
	ok(t, f.do("PUT", "/v1/files/home/alice/a", alice, strings.NewReader("123456")), http.StatusCreated)
	p := problem(t, f.do("PUT", "/v1/files/home/alice/b", alice, strings.NewReader("12345")), http.StatusInsufficientStorage, api.CodeQuotaExceeded)
	if p.Quota == nil || *p.Quota != (api.QuotaProblem{User: "alice", Resource: "bytes", Used: 6, Limit: 10, Need: 5}) || !strings.Contains(p.Detail, "/home/alice uses 6 B of its quota of 10 B") {
		t.Fatalf("problem: %+v %+v", p, p.Quota)
	}
	problem(t, f.do("POST", "/v1/uploads", alice, strings.NewReader(`{"path":"/home/alice/c","size":5}`)), http.StatusInsufficientStorage, api.CodeQuotaExceeded)

	_ = json.Unmarshal(ok(t, f.do("GET", "/v1/usage", alice, nil), http.StatusOK), &u)
	if u.Bytes != 6 || u.Files != 1 || u.QuotaBytes != 10 {
		t.Fatalf("usage: %+v", u)
	}
	// Another's usage is for admins; a recount too.
	_ = json.Unmarshal(ok(t, f.do("POST", "/v1/users", f.admin, strings.NewReader(`{"name":"bob","token":true}`)), http.StatusCreated), &r)
	problem(t, f.do("GET", "/v1/usage?user=alice", r.Token.Secret, nil), http.StatusForbidden, api.CodeForbidden)
	problem(t, f.do("POST", "/v1/users/alice/quota/recount", alice, nil), http.StatusForbidden, api.CodeForbidden)
	_ = json.Unmarshal(ok(t, f.do("POST", "/v1/users/alice/quota/recount", f.admin, nil), http.StatusOK), &u)
	if u.Bytes != 6 || u.Files != 1 {
		t.Fatalf("recount: %+v", u)
	}
	// Files kept when only bytes change; 0 is no limit.
	_ = json.Unmarshal(ok(t, f.do("PUT", "/v1/users/alice/quota", f.admin, strings.NewReader(`{"bytes":0}`)), http.StatusOK), &u)
	if u.QuotaBytes != 0 || u.QuotaFiles != 5 {
		t.Fatalf("unset bytes: %+v", u)
	}
	ok(t, f.do("PUT", "/v1/files/home/alice/b", alice, strings.NewReader("12345")), http.StatusCreated)
}
