package remote

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/strata-storage/strata/server/client"
)

// The access calls reach the API's routes, ask for a new user's first
// token, and a refusal matches ErrForbidden.
func TestClientAccessCalls(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = append(got, strings.TrimSpace(r.Method+" "+r.URL.RequestURI()+" "+string(body)))
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/v1/users" && r.Method == http.MethodGet:
			w.Write([]byte(`{"users":[{"name":"bob","groups":["readers"],"policies":["home"]}]}`))
		case r.URL.Path == "/v1/users":
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"user":{"name":"carol"},"token":{"id":"k1","user":"carol","token":"strata_secret"}}`))
		case r.URL.Path == "/v1/groups" && r.Method == http.MethodGet:
			w.Write([]byte(`{"groups":[{"name":"readers","members":["bob"],"policies":[]}]}`))
		case r.URL.Path == "/v1/policies":
			w.Write([]byte(`{"policies":[{"name":"home","users":["bob"],"groups":[],"builtIn":true}]}`))
		case r.URL.Path == "/v1/policies/secret":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"title":"Forbidden","status":403,"detail":"forbidden","code":"forbidden"}`))
		case r.URL.Path == "/v1/policies/home":
			w.Write([]byte(`{"name":"home","document":{"Version":"2012-10-17"}}`))
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, "strata_x", client.WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	r, ctx := NewClient(c), context.Background()

	us, err := r.Users(ctx)
	if err != nil || len(us) != 1 || us[0].Groups[0] != "readers" || us[0].Policies[0] != "home" {
		t.Errorf("Users: %+v, %v", us, err)
	}
	nu, err := r.CreateUser(ctx, "carol", true)
	if err != nil || nu.User.Name != "carol" || nu.Token == nil || nu.Token.Secret != "strata_secret" {
		t.Errorf("CreateUser: %+v, %v", nu, err)
	}
	if gs, err := r.Groups(ctx); err != nil || len(gs) != 1 || gs[0].Members[0] != "bob" {
		t.Errorf("Groups: %+v, %v", gs, err)
	}
	if ps, err := r.Policies(ctx); err != nil || len(ps) != 1 || !ps[0].BuiltIn {
		t.Errorf("Policies: %+v, %v", ps, err)
	}
	if p, err := r.Policy(ctx, "home"); err != nil || string(p.Document) != `{"Version":"2012-10-17"}` {
		t.Errorf("Policy: %+v, %v", p, err)
	}
	if _, err := r.Policy(ctx, "secret"); !errors.Is(err, ErrForbidden) {
		t.Errorf("a 403 is %v, not ErrForbidden", err)
	}
	for _, call := range []func() error{
		func() error { return r.CreateGroup(ctx, "readers") },
		func() error { return r.DeleteGroup(ctx, "old") },
		func() error { return r.GroupMember(ctx, "readers", "bob", true) },
		func() error { return r.GroupMember(ctx, "readers", "bob", false) },
		func() error { return r.AttachPolicy(ctx, "home", Target{User: "bob"}, true) },
		func() error { return r.AttachPolicy(ctx, "home", Target{Group: "readers"}, false) },
	} {
		if err := call(); err != nil {
			t.Error(err)
		}
	}
	want := []string{
		"GET /v1/users",
		`POST /v1/users {"name":"carol","admin":true,"token":true}`,
		"GET /v1/groups",
		"GET /v1/policies",
		"GET /v1/policies/home",
		"GET /v1/policies/secret",
		`POST /v1/groups {"name":"readers"}`,
		"DELETE /v1/groups/old",
		"PUT /v1/groups/readers/members/bob",
		"DELETE /v1/groups/readers/members/bob",
		`POST /v1/policies/home/attachments {"user":"bob"}`,
		"DELETE /v1/policies/home/attachments?group=readers",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
