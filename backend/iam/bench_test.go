package iam

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/internal/storepath"
)

// benchPolicies are 10 policies of 10 statements each, as a user in
// several groups might have: allows and denies over wildcard paths and
// variables, non-path resources, NotAction and NotResource, and
// conditions on the address, the time, the transport and the size. None
// of them allows what the benchmarks ask until the last statement of the
// last policy, so every statement is looked at.
func benchPolicies(tb testing.TB) []*Policy {
	var out []*Policy
	for i := range 10 {
		var st []string
		for j := range 10 {
			var s string
			switch j {
			case 0:
				s = fmt.Sprintf(`{"Sid":"Read%d","Effect":"Allow","Action":["strata:Get*","strata:List*"],"Resource":["/projects/team%d","/projects/team%d/*"]}`, j, i, i)
			case 1:
				s = fmt.Sprintf(`{"Sid":"Write%d","Effect":"Allow","Action":["strata:PutFile","strata:CreateFolder"],"Resource":"/projects/team%d/drop/*","Condition":{"NumericLessThanEqualsIfExists":{"strata:ContentLength":1048576}}}`, j, i)
			case 2:
				s = fmt.Sprintf(`{"Sid":"DenyAway%d","Effect":"Deny","NotAction":["strata:GetFile","strata:ListFolder"],"Resource":"/projects/team%d/*","Condition":{"NotIpAddress":{"strata:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}}`, j, i)
			case 3:
				s = fmt.Sprintf(`{"Sid":"Contract%d","Effect":"Allow","Action":"strata:*","Resource":"/contracts/%d/${strata:username}/*","Condition":{"DateLessThan":{"strata:CurrentTime":"2027-01-01T00:00:00Z"},"Bool":{"strata:SecureTransport":"true"}}}`, j, i)
			case 4:
				s = fmt.Sprintf(`{"Sid":"Own%d","Effect":"Allow","Action":["strata:ManageTrash","strata:ManageUploads"],"Resource":["strata:trash/${strata:username}/*","strata:upload/${strata:username}/*"]}`, j)
			case 5:
				s = fmt.Sprintf(`{"Sid":"DenyArchive%d","Effect":"Deny","Action":"strata:DeleteFile","Resource":"/archive/%d/*"}`, j, i)
			case 6:
				s = fmt.Sprintf(`{"Sid":"Via%d","Effect":"Allow","Action":"strata:GetFile","Resource":"/shared/%d/*.pdf","Condition":{"StringEquals":{"strata:Via":["ssh","sftp"]}}}`, j, i)
			case 7:
				s = fmt.Sprintf(`{"Sid":"Fence%d","Effect":"Deny","Action":"strata:*","NotResource":["/*","strata:*"],"Condition":{"StringLike":{"strata:TokenId":"tmp-*"}}}`, j)
			case 8:
				s = fmt.Sprintf(`{"Sid":"Year%d","Effect":"Allow","Action":"strata:GetFile","Resource":"/reports/20?%d/*/summary-*.txt"}`, j, i)
			case 9:
				s = fmt.Sprintf(`{"Sid":"Home%d","Effect":"Allow","Action":"strata:ListVersions","Resource":"/home/${strata:username}/*/versions/*"}`, j)
			}
			st = append(st, s)
		}
		if i == 9 {
			st[9] = `{"Sid":"HomeContent","Effect":"Allow","Action":"strata:*","Resource":"/home/${strata:username}/*"}`
		}
		doc := `{"Version":"2012-10-17","Statement":[` + strings.Join(st, ",") + `]}`
		p, err := Parse(fmt.Sprintf("policy-%d", i), []byte(doc))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func benchRequest() Request {
	return Request{SourceIP: "10.1.2.3", SecureTransport: true, Time: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), ContentLength: 4096, HasContentLength: true}
}

// BenchmarkEvaluate is one decision for a user with 10 policies of 10
// statements each (issue 11's bound: 5 µs).
func BenchmarkEvaluate(b *testing.B) {
	set := &PolicySet{Identity: benchPolicies(b)}
	alice := User("u-alice", "alice", false, "tok-1")
	req := benchRequest()
	for _, bc := range []struct {
		name  string
		act   Action
		res   Resource
		allow bool
	}{
		{"allowed-by-the-last", GetFile, PathOf(storepath.MustParse("/home/alice/projects/2026/report.pdf")), true},
		{"implicit-deny", GetFile, PathOf(storepath.MustParse("/home/bob/projects/2026/report.pdf")), false},
		{"explicit-deny", DeleteFile, PathOf(storepath.MustParse("/archive/3/2026/report.pdf")), false},
		{"non-path", ManageTrash, TrashOf("alice", "0123456789abcdef"), true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if set.Evaluate(alice, bc.act, bc.res, req).Allowed != bc.allow {
					b.Fatal("wrong decision")
				}
			}
		})
	}
}

// BenchmarkEvaluateSession adds a session policy to the 10.
func BenchmarkEvaluateSession(b *testing.B) {
	set := &PolicySet{Identity: benchPolicies(b), Session: MustParse("session", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["strata:Get*","strata:List*"],"Resource":["/home/${strata:username}","/home/${strata:username}/*"]},
		{"Effect":"Deny","Action":"strata:DeleteFile","Resource":"*"}]}`)}
	alice := User("u-alice", "alice", false, "tok-1")
	res := PathOf(storepath.MustParse("/home/alice/projects/2026/report.pdf"))
	req := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		if !set.Evaluate(alice, GetFile, res, req).Allowed {
			b.Fatal("denied")
		}
	}
}

// BenchmarkParse compiles a policy of 10 statements (done once per
// policy and cached, not per decision).
func BenchmarkParse(b *testing.B) {
	doc := []byte(HomePolicyDocument)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("home", doc); err != nil {
			b.Fatal(err)
		}
	}
}
