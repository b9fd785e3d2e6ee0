package iam

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/internal/storepath"
)

// doc is a policy document around its statements.
func doc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

// named are policies to compile: name → document.
type named map[string]string

func (n named) compile(t *testing.T) []*Policy {
	t.Helper()
	var out []*Policy
	for _, name := range sortedKeys(n) {
		p, err := Parse(name, []byte(n[name]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, p)
	}
	return out
}

func sortedKeys(n named) []string {
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}

// decided names what decided: "policy/Sid" (or "policy/#i"), "" for an
// implicit deny.
func decided(r *StatementRef) string {
	if r == nil {
		return ""
	}
	if r.Sid != "" {
		return r.Policy + "/" + r.Sid
	}
	return fmt.Sprintf("%s/#%d", r.Policy, r.Index)
}

// The examples of AWS's documentation of policy evaluation, adapted to
// Strata's actions and resources: "The difference between explicit and
// implicit denies", "Policy evaluation for requests within a single
// account" (Carlos's policies), the evaluation of identity-based policies
// with session policies, NotAction and NotResource, and the condition
// examples (source address, secure transport, a date window, IfExists,
// Null).
func TestAWSEvaluationExamples(t *testing.T) {
	carlos := User("u-carlos", "carlossalazar", false, "tok-c")
	p := storepath.MustParse
	office := func(r *Request) { r.SourceIP = "203.0.113.40" }
	home := func(r *Request) { r.SourceIP = "198.51.100.9" }

	// "The difference between explicit and implicit denies": Get* and
	// List* are allowed, anything about versions is explicitly denied,
	// everything else implicitly.
	getList := named{"get-list": doc(
		`{"Sid":"AllowGetList","Effect":"Allow","Action":["strata:Get*","strata:List*"],"Resource":"*"}`,
		`{"Sid":"DenyVersions","Effect":"Deny","Action":"strata:*Version*","Resource":"*"}`)}
	getListPlus := named{"get-list": getList["get-list"], "versions": doc(`{"Sid":"AllowVersions","Effect":"Allow","Action":"strata:ListVersions","Resource":"*"}`)}

	// Carlos's policies: list the top, everything in his own home, but
	// nothing whose path holds "log", even in his home.
	carlosPolicy := named{"carlos": doc(
		`{"Sid":"AllowListTop","Effect":"Allow","Action":"strata:ListFolder","Resource":["/","/home"]}`,
		`{"Sid":"AllowSelf","Effect":"Allow","Action":"strata:*","Resource":["/home/${strata:username}","/home/${strata:username}/*"]}`,
		`{"Sid":"DenyLogs","Effect":"Deny","Action":"strata:*","Resource":"/*log*"}`)}

	// Session policies: identity allows read and write in /projects.
	projectsRW := named{"projects-rw": doc(`{"Sid":"RW","Effect":"Allow","Action":["strata:GetFile","strata:PutFile","strata:ListFolder"],"Resource":["/projects","/projects/*"]}`)}
	allowAll := named{"all": doc(`{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}`)}
	readOnlySession := doc(`{"Sid":"ReadOnly","Effect":"Allow","Action":["strata:GetFile","strata:ListFolder"],"Resource":"*"}`)
	noDeleteSession := doc(`{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}`, `{"Sid":"NoDelete","Effect":"Deny","Action":"strata:DeleteFile","Resource":"*"}`)

	// NotAction with Allow: everything but the Manage actions.
	notManage := named{"not-manage": doc(`{"Sid":"NotManage","Effect":"Allow","NotAction":"strata:Manage*","Resource":"*"}`)}
	// NotAction with Deny: away from the office, only reading.
	officeOnly := named{"all": allowAll["all"], "office": doc(`{"Sid":"ReadOnlyAway","Effect":"Deny","NotAction":["strata:GetFile","strata:ListFolder"],"Resource":"*","Condition":{"NotIpAddress":{"strata:SourceIp":["203.0.113.0/24","192.0.2.0/24"]}}}`)}
	// NotResource with Deny: nothing outside /projects.
	onlyProjects := named{"all": allowAll["all"], "fence": doc(`{"Sid":"Fence","Effect":"Deny","Action":"*","NotResource":["/projects","/projects/*"]}`)}
	// Deny without TLS.
	tlsOnly := named{"all": allowAll["all"], "tls": doc(`{"Sid":"DenyPlain","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"strata:SecureTransport":"false"}}}`)}
	// A date window.
	window := named{"window": doc(`{"Sid":"Q2","Effect":"Allow","Action":"strata:GetFile","Resource":"*","Condition":{"DateGreaterThan":{"strata:CurrentTime":"2026-04-01T00:00:00Z"},"DateLessThan":{"strata:CurrentTime":"2026-06-30T23:59:59Z"}}}`)}
	// IfExists: writes of up to 1 MiB, or of unknown size.
	smallWrites := named{"small": doc(`{"Sid":"Small","Effect":"Allow","Action":"strata:PutFile","Resource":"/drop/*","Condition":{"NumericLessThanEqualsIfExists":{"strata:ContentLength":1048576}}}`)}
	// Null: requests without a token (the server's own work) are denied.
	tokensOnly := named{"all": allowAll["all"], "tokens": doc(`{"Sid":"NeedToken","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Null":{"strata:TokenId":"true"}}}`)}
	// Negated operator with several values: NOR.
	notSSH := named{"not-ssh": doc(`{"Sid":"NotRemoteShells","Effect":"Allow","Action":"strata:GetFile","Resource":"*","Condition":{"StringNotEquals":{"strata:Via":["ssh","sftp"]}}}`)}

	for _, tc := range []struct {
		name     string
		identity named
		session  string
		pr       Principal
		act      Action
		res      Resource
		req      func(*Request)
		allow    bool
		by       string // what decided
		session2 string // the session policy's allowing statement
	}{
		{"allowed by a wildcard action", getList, "", carlos, GetFile, PathOf(p("/a")), nil, true, "get-list/AllowGetList", ""},
		{"implicitly denied", getList, "", carlos, PutFile, PathOf(p("/a")), nil, false, "", ""},
		{"explicitly denied", getList, "", carlos, ListVersions, PathOf(p("/a")), nil, false, "get-list/DenyVersions", ""},
		{"explicit deny beats another policy's allow", getListPlus, "", carlos, ListVersions, PathOf(p("/a")), nil, false, "get-list/DenyVersions", ""},
		{"explicit deny covers what no policy allows", getList, "", carlos, RestoreVersion, PathOf(p("/a")), nil, false, "get-list/DenyVersions", ""},

		{"carlos lists the top", carlosPolicy, "", carlos, ListFolder, PathOf(p("/")), nil, true, "carlos/AllowListTop", ""},
		{"carlos writes in his home", carlosPolicy, "", carlos, PutFile, PathOf(p("/home/carlossalazar/report.txt")), nil, true, "carlos/AllowSelf", ""},
		{"carlos's home itself", carlosPolicy, "", carlos, ListFolder, PathOf(p("/home/carlossalazar")), nil, true, "carlos/AllowSelf", ""},
		{"carlos cannot write logs, even at home", carlosPolicy, "", carlos, PutFile, PathOf(p("/home/carlossalazar/logs/today")), nil, false, "carlos/DenyLogs", ""},
		{"carlos reads no one else's home", carlosPolicy, "", carlos, GetFile, PathOf(p("/home/bob/x")), nil, false, "", ""},
		{"another user under carlos's policy", carlosPolicy, "", User("u-bob", "bob", false, ""), PutFile, PathOf(p("/home/carlossalazar/x")), nil, false, "", ""},

		{"identity and session both allow", projectsRW, readOnlySession, carlos, GetFile, PathOf(p("/projects/a")), nil, true, "projects-rw/RW", "session/ReadOnly"},
		{"the session policy narrows", projectsRW, readOnlySession, carlos, PutFile, PathOf(p("/projects/a")), nil, false, "", ""},
		{"a session policy cannot widen", projectsRW, doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`), carlos, DeleteFile, PathOf(p("/projects/a")), nil, false, "", ""},
		{"a session policy alone allows nothing", nil, readOnlySession, carlos, GetFile, PathOf(p("/projects/a")), nil, false, "", ""},
		{"a session policy's deny", allowAll, noDeleteSession, carlos, DeleteFile, PathOf(p("/projects/a")), nil, false, "session/NoDelete", ""},
		{"an identity deny beats the session's allow", carlosPolicy, noDeleteSession, carlos, GetFile, PathOf(p("/home/carlossalazar/log")), nil, false, "carlos/DenyLogs", ""},
		{"the session's allow by index", allowAll, doc(`{"Effect":"Allow","Action":"strata:GetFile","Resource":"/x"}`), carlos, GetFile, PathOf(p("/x")), nil, true, "all/All", "session/#0"},

		{"NotAction allow", notManage, "", carlos, DeleteFile, PathOf(p("/a")), nil, true, "not-manage/NotManage", ""},
		{"NotAction leaves out", notManage, "", carlos, ManageUsers, UserNamed("bob"), nil, false, "", ""},
		{"NotAction deny, in the office", officeOnly, "", carlos, PutFile, PathOf(p("/a")), office, true, "all/All", ""},
		{"NotAction deny, away", officeOnly, "", carlos, PutFile, PathOf(p("/a")), home, false, "office/ReadOnlyAway", ""},
		{"NotAction deny, away, reading", officeOnly, "", carlos, GetFile, PathOf(p("/a")), home, true, "all/All", ""},
		{"NotResource deny, inside", onlyProjects, "", carlos, GetFile, PathOf(p("/projects/x/y")), nil, true, "all/All", ""},
		{"NotResource deny, the folder itself", onlyProjects, "", carlos, ListFolder, PathOf(p("/projects")), nil, true, "all/All", ""},
		{"NotResource deny, outside", onlyProjects, "", carlos, GetFile, PathOf(p("/projects2/x")), nil, false, "fence/Fence", ""},
		{"NotResource deny, non-path", onlyProjects, "", carlos, ManageTrash, TrashOf("carlossalazar", "*"), nil, false, "fence/Fence", ""},

		{"TLS", tlsOnly, "", carlos, GetFile, PathOf(p("/a")), func(r *Request) { r.SecureTransport = true }, true, "all/All", ""},
		{"no TLS", tlsOnly, "", carlos, GetFile, PathOf(p("/a")), nil, false, "tls/DenyPlain", ""},
		{"in the window", window, "", carlos, GetFile, PathOf(p("/a")), func(r *Request) { r.Time = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) }, true, "window/Q2", ""},
		{"after the window", window, "", carlos, GetFile, PathOf(p("/a")), func(r *Request) { r.Time = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC) }, false, "", ""},
		{"before the window", window, "", carlos, GetFile, PathOf(p("/a")), func(r *Request) { r.Time = time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC) }, false, "", ""},
		{"a small write", smallWrites, "", carlos, PutFile, PathOf(p("/drop/a")), func(r *Request) { r.ContentLength, r.HasContentLength = 1048576, true }, true, "small/Small", ""},
		{"a large write", smallWrites, "", carlos, PutFile, PathOf(p("/drop/a")), func(r *Request) { r.ContentLength, r.HasContentLength = 1048577, true }, false, "", ""},
		{"a write of unknown size", smallWrites, "", carlos, PutFile, PathOf(p("/drop/a")), nil, true, "small/Small", ""},
		{"with a token", tokensOnly, "", carlos, GetFile, PathOf(p("/a")), nil, true, "all/All", ""},
		{"without a token", tokensOnly, "", User("u-carlos", "carlossalazar", false, ""), GetFile, PathOf(p("/a")), nil, false, "tokens/NeedToken", ""},
		{"NOR: over http", notSSH, "", carlos, GetFile, PathOf(p("/a")), nil, true, "not-ssh/NotRemoteShells", ""},
		{"NOR: over sftp", notSSH, "", Principal{Kind: KindUser, UserID: "u", Name: "c", Via: ViaSFTP}, GetFile, PathOf(p("/a")), nil, false, "", ""},

		{"no policies", nil, "", carlos, GetFile, PathOf(p("/a")), nil, false, "", ""},
		{"no principal", allowAll, "", Principal{}, GetFile, PathOf(p("/a")), nil, false, "", ""},
		{"unknown action", allowAll, "", carlos, Action("strata:Fly"), PathOf(p("/a")), nil, false, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := &PolicySet{Identity: tc.identity.compile(t)}
			if tc.session != "" {
				set.Session = MustParse("session", tc.session)
			}
			req := Request{}
			if tc.req != nil {
				tc.req(&req)
			}
			d := set.Evaluate(tc.pr, tc.act, tc.res, req)
			if d.Allowed != tc.allow || decided(d.Statement) != tc.by || decided(d.SessionStatement) != tc.session2 || d.Reason == "" {
				t.Errorf("%+v (by %q, session %q), want allowed %v by %q, session %q", d, decided(d.Statement), decided(d.SessionStatement), tc.allow, tc.by, tc.session2)
			}
			if d.ExplicitDeny() != (!tc.allow && tc.by != "") {
				t.Errorf("ExplicitDeny %v", d.ExplicitDeny())
			}
		})
	}
}

// A decision's reason names the statement, or says the deny was
// implicit and whether the session policy was the one that did not allow.
func TestDecisionReasons(t *testing.T) {
	alice := User("a1", "alice", false, "t1")
	res := PathOf(storepath.MustParse("/home/alice/x"))
	set := &PolicySet{Identity: []*Policy{HomePolicy()}, Session: MustParse("token-t1", doc(`{"Effect":"Allow","Action":"strata:GetFile","Resource":"*"}`))}
	for act, want := range map[Action]string{
		GetFile:    `allowed by policy "home" statement "HomeContent"`,
		PutFile:    "implicitly denied: the session policy does not allow it",
		ManageKeys: "implicitly denied: the session policy does not allow it",
	} {
		if d := set.Evaluate(alice, act, res, Request{}); d.Reason != want {
			t.Errorf("%s: %q, want %q", act, d.Reason, want)
		}
	}
	set.Session = nil
	if d := set.Evaluate(alice, GetFile, PathOf(storepath.MustParse("/x")), Request{}); d.Reason != "implicitly denied: no policy allows it" {
		t.Errorf("%q", d.Reason)
	}
	deny := MustParse("d", doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`, `{"Effect":"Deny","Action":"*","Resource":"/x"}`))
	d := (&PolicySet{Identity: []*Policy{deny}}).Evaluate(alice, GetFile, PathOf(storepath.MustParse("/x")), Request{})
	if d.Reason != `denied by policy "d" statement #1` || d.Statement.Line != 1 || d.Statement.Column != 85 || d.Statement.Effect != Deny {
		t.Errorf("%q %+v", d.Reason, d.Statement)
	}
}

// Policy variables are the principal's, never the pattern's text: a user
// whose name is another's prefix reaches nothing of theirs, and the
// escapes are literal characters.
func TestPolicyVariables(t *testing.T) {
	p := storepath.MustParse
	pol := MustParse("v", doc(
		`{"Sid":"Own","Effect":"Allow","Action":"*","Resource":"/home/${strata:username}/*"}`,
		`{"Sid":"ById","Effect":"Allow","Action":"*","Resource":"/by-id/${strata:userid}"}`,
		`{"Sid":"Literal","Effect":"Allow","Action":"*","Resource":"/lit/${*}${?}${$}"}`,
		`{"Sid":"Case","Effect":"Allow","Action":"*","Resource":"/case/${STRATA:UserName}"}`))
	set := &PolicySet{Identity: []*Policy{pol}}
	al := User("id-1", "al", false, "")
	for _, tc := range []struct {
		path  string
		allow bool
	}{
		{"/home/al/x", true},
		{"/home/alice/x", false},
		{"/home/al", false},
		{"/by-id/id-1", true},
		{"/by-id/id-12", false},
		{"/lit/*?$", true},
		{"/lit/a?$", false},
		{"/lit/*x$", false},
		{"/case/al", true},
	} {
		if d := set.Evaluate(al, GetFile, PathOf(p(tc.path)), Request{}); d.Allowed != tc.allow {
			t.Errorf("%s: %+v", tc.path, d)
		}
	}
}

// Resource wildcards: * spans "/" (as in an ARN), so /projects/* is the
// whole subtree but not /projects itself; ? is one character.
func TestResourceWildcards(t *testing.T) {
	for _, tc := range []struct {
		pattern, res string
		match        bool
	}{
		{"/projects/*", "/projects/a.txt", true},
		{"/projects/*", "/projects/a/b/c.txt", true},
		{"/projects/*", "/projects", false},
		{"/projects/*", "/projects2/a", false},
		{"/projects*", "/projects2/a", true},
		{"/projects", "/projects", true},
		{"/projects", "/projects/a", false},
		{"/*.txt", "/a/b/c.txt", true},
		{"/*/reports/*", "/a/b/reports/x", true},
		{"/a?c", "/abc", true},
		{"/a?c", "/a/c", true},
		{"/a?c", "/aéc", true},
		{"/a?c", "/abbc", false},
		{"/", "/", true},
		{"/*", "/", true}, // * matches nothing too, and the root is "/"
		{"*", "/", true},
		{"*", "strata:user/alice", true},
		{"/*", "strata:user/alice", false},
		{"strata:*", "/a", false},
		{"strata:*", "strata:system/keys", true},
		{"strata:token/alice/*", "strata:token/alice/abc", true},
		{"strata:token/alice/*", "strata:token/alicebob/abc", false},
		{"strata:t*/alice/*", "strata:trash/alice/abc", true},
		{"strata:user/*", "strata:user/alice", true},
		{"strata:system/keys", "strata:system/keys", true},
		{"/Projects/*", "/projects/a", false},
		{"/*ab*cd", "/xxabyyabzzcd", true},
		{"/*ab*cd", "/xxabyyabzzc", false},
		{"/*ab", "/aab", true},
		{"/*aab", "/aaab", true},
		{"/*é?", "/aéb", true},
		{"/*é", "/éé", true},
		{"/*é", "/ée", false},
		{"/a*a", "/a", false},
		{"/*.txt", "/a.txt.gz", false},
		{"/*.txt", "/a.txt/b.txt", true},
	} {
		pat, err := compileResource(tc.pattern)
		if err != nil {
			t.Fatalf("%s: %v", tc.pattern, err)
		}
		if got := pat.match(tc.res, &vars{}, false); got != tc.match {
			t.Errorf("%s on %s: %v", tc.pattern, tc.res, got)
		}
	}
}

// An owner named in a request cannot pose as another by holding "/".
func TestOwnerWithSlash(t *testing.T) {
	alice := User("a1", "alice", false, "")
	set := &PolicySet{Identity: []*Policy{HomePolicy()}}
	for _, res := range []Resource{TrashOf("alice/x", "1"), TrashOf("alice%2Fx", "1"), UploadOf("alice/", "")} {
		if d := set.Evaluate(alice, ManageTrash, res, Request{}); d.Allowed {
			t.Errorf("%s: %+v", res, d)
		}
	}
	admin := &PolicySet{Identity: []*Policy{AdminPolicy()}}
	if d := admin.Evaluate(User("r", "root", true, ""), ManageTrash, TrashOf("alice/x", "1"), Request{}); !d.Allowed {
		t.Errorf("admin: %+v", d)
	}
}

type fakeSource struct {
	set   *PolicySet
	err   error
	calls int
}

func (f *fakeSource) Policies(Principal) (*PolicySet, error) {
	f.calls++
	return f.set, f.err
}

// The decider evaluates what its source finds; when the source fails it
// denies, and Authorize reports the failure rather than a denial.
func TestPolicyDecider(t *testing.T) {
	alice := User("a1", "alice", false, "t1")
	res := PathOf(storepath.MustParse("/home/alice/x"))
	src := &fakeSource{set: &PolicySet{Identity: []*Policy{HomePolicy()}}}
	d := NewPolicyDecider(src, nil)
	if dec := d.Decide(alice, GetFile, res, Request{}); !dec.Allowed || src.calls != 1 {
		t.Fatalf("%+v", dec)
	}
	if dec := d.Decide(Principal{}, GetFile, res, Request{}); dec.Allowed || src.calls != 1 {
		t.Fatalf("no principal: %+v, %d calls", dec, src.calls)
	}

	src.err = fmt.Errorf("reading policies: %w", errs.ErrUnavailable)
	dec := d.Decide(alice, GetFile, res, Request{})
	if dec.Allowed || !errors.Is(dec.Err, errs.ErrUnavailable) || !strings.Contains(dec.Reason, "policies unavailable") {
		t.Fatalf("source failing: %+v", dec)
	}
	err := Authorize(context.Background(), d, alice, GetFile, res)
	if err == nil || !errors.Is(err, errs.ErrUnavailable) || IsDenied(err) {
		t.Fatalf("Authorize with the source failing: %v", err)
	}

	// A nil set is no policy: an implicit deny.
	src.err, src.set = nil, nil
	if dec := d.Decide(alice, GetFile, res, Request{}); dec.Allowed || dec.Err != nil {
		t.Fatalf("nil set: %+v", dec)
	}
}

// A user may always say who they are, as AWS's GetCallerIdentity: a
// session policy that allows only reading, or a Deny of GetUser, must not
// stop a token from logging in; nobody else is described by that rule.
func TestSelfIsAlwaysDescribed(t *testing.T) {
	deny := MustParse("deny", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"strata:GetUser","Resource":"*"}]}`)
	readOnly := MustParse("session", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"strata:GetFile","Resource":"*"}]}`)
	src := &fakeSource{set: &PolicySet{Identity: []*Policy{HomePolicy(), deny}, Session: readOnly}}
	d := NewPolicyDecider(src, nil)
	alice := User("a1", "alice", false, "t1")
	if dec := d.Decide(alice, GetUser, UserNamed("alice"), Request{}); !dec.Allowed {
		t.Fatalf("alice about herself: %+v", dec)
	}
	for _, tc := range []struct {
		act Action
		res Resource
	}{{GetUser, UserNamed("bob")}, {ManagePassword, UserNamed("alice")}} {
		if dec := d.Decide(alice, tc.act, tc.res, Request{}); dec.Allowed {
			t.Errorf("%s on %s: %+v, want a denial", tc.act, tc.res, dec)
		}
	}
}

// A request without a time is decided at the decider's clock, so that a
// date condition never goes unchecked.
func TestPolicyDeciderClock(t *testing.T) {
	alice := User("a1", "alice", false, "t1")
	res := PathOf(storepath.MustParse("/x"))
	until := MustParse("until", doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`,
		`{"Sid":"Expired","Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"strata:CurrentTime":"2026-01-01T00:00:00Z"}}}`))
	now := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	d := NewPolicyDecider(PolicySourceFunc(func(Principal) (*PolicySet, error) {
		return &PolicySet{Identity: []*Policy{until}}, nil
	}), func() time.Time { return now })
	if dec := d.Decide(alice, GetFile, res, Request{}); dec.Allowed || decided(dec.Statement) != "until/Expired" {
		t.Fatalf("no time in the request: %+v", dec)
	}
	if dec := d.Decide(alice, GetFile, res, Request{Time: now.AddDate(-1, 0, 0)}); !dec.Allowed {
		t.Fatalf("the request's own time: %+v", dec)
	}
}
