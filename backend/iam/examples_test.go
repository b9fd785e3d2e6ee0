package iam

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/internal/storepath"
)

// docPolicies are the policies of docs/access.md, by the name of their
// <!-- policy: NAME --> marker.
func docPolicies(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../docs/access.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- policy: ([a-z-]+) -->\n```json\n(.*?)```")
	out := map[string]string{}
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		out[m[1]] = m[2]
	}
	return out
}

// The built-in policies in docs/access.md are the ones the code has.
func TestDocBuiltinPolicies(t *testing.T) {
	docs := docPolicies(t)
	for name, want := range map[string]string{HomePolicyName: HomePolicyDocument, AdminPolicyName: AdminPolicyDocument} {
		if docs[name] != want {
			t.Errorf("docs/access.md's %q policy differs from the code's:\n%s", name, docs[name])
		}
	}
}

// The worked examples of docs/access.md decide as the page says.
func TestDocWorkedExamples(t *testing.T) {
	docs := docPolicies(t)
	compile := func(name string) *Policy {
		t.Helper()
		src, ok := docs[name]
		if !ok {
			t.Fatalf("docs/access.md has no %q policy", name)
		}
		p, err := Parse(name, []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return p
	}
	home := compile("home")
	p := func(s string) Resource { return PathOf(storepath.MustParse(s)) }
	during := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	after := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	office := Request{SourceIP: "203.0.113.9", Time: during}
	officeV6 := Request{SourceIP: "2001:db8:ac3e:1::5", Time: during}
	away := Request{SourceIP: "198.51.100.1", Time: during}
	officeAfter := Request{SourceIP: "203.0.113.9", Time: after}
	size := func(n int64) Request { return Request{Time: during, ContentLength: n, HasContentLength: true} }
	dana := User("u-dana", "dana", false, "t-dana")

	for _, tc := range []struct {
		name     string
		identity []*Policy
		session  *Policy
		act      Action
		res      Resource
		req      Request
		allow    bool
	}{
		{"reader lists /projects", []*Policy{home, compile("projects-read")}, nil, ListFolder, p("/projects"), office, true},
		{"reader reads deep", []*Policy{home, compile("projects-read")}, nil, GetFile, p("/projects/a/b.txt"), office, true},
		{"reader's versions", []*Policy{home, compile("projects-read")}, nil, ListVersions, p("/projects/a/b.txt"), office, true},
		{"reader writes not", []*Policy{home, compile("projects-read")}, nil, PutFile, p("/projects/a/b.txt"), office, false},
		{"reader deletes not", []*Policy{home, compile("projects-read")}, nil, DeleteFile, p("/projects/a"), office, false},
		{"reader restores not", []*Policy{home, compile("projects-read")}, nil, RestoreVersion, p("/projects/a"), office, false},
		{"reader not next door", []*Policy{home, compile("projects-read")}, nil, GetFile, p("/projects2/a"), office, false},
		{"reader keeps home", []*Policy{home, compile("projects-read")}, nil, PutFile, p("/home/dana/a"), office, true},

		{"contractor reads from the office", []*Policy{home, compile("contractor")}, nil, GetFile, p("/projects/acme/spec.pdf"), office, true},
		{"contractor reads over IPv6", []*Policy{home, compile("contractor")}, nil, ListFolder, p("/projects/acme"), officeV6, true},
		{"contractor away", []*Policy{home, compile("contractor")}, nil, GetFile, p("/projects/acme/spec.pdf"), away, false},
		{"contractor writes incoming", []*Policy{home, compile("contractor")}, nil, PutFile, p("/projects/acme/incoming/x.zip"), office, true},
		{"contractor writes not elsewhere", []*Policy{home, compile("contractor")}, nil, PutFile, p("/projects/acme/spec.pdf"), office, false},
		{"contractor replaces not incoming itself", []*Policy{home, compile("contractor")}, nil, PutFile, p("/projects/acme/incoming"), office, false},
		{"contractor after the date", []*Policy{home, compile("contractor")}, nil, GetFile, p("/projects/acme/spec.pdf"), officeAfter, false},
		{"contractor's home during", []*Policy{home, compile("contractor")}, nil, GetFile, p("/home/dana/notes"), away, true},
		{"contractor's home after", []*Policy{home, compile("contractor")}, nil, GetFile, p("/home/dana/notes"), officeAfter, false},
		{"contractor's tokens after", []*Policy{home, compile("contractor")}, nil, ManageTokens, TokenOf("dana", "*"), officeAfter, false},

		{"supplier drops", []*Policy{home, compile("dropbox")}, nil, PutFile, p("/dropbox/invoice.pdf"), size(5 << 20), true},
		{"supplier drops 100 MiB", []*Policy{home, compile("dropbox")}, nil, PutFile, p("/dropbox/big.iso"), size(100 << 20), true},
		{"supplier drops more", []*Policy{home, compile("dropbox")}, nil, PutFile, p("/dropbox/big.iso"), size(100<<20 + 1), false},
		{"supplier drops of unknown size", []*Policy{home, compile("dropbox")}, nil, PutFile, p("/dropbox/x"), Request{Time: during}, false},
		{"supplier lists not", []*Policy{home, compile("dropbox")}, nil, ListFolder, p("/dropbox"), size(1), false},
		{"supplier reads not", []*Policy{home, compile("dropbox")}, nil, GetFile, p("/dropbox/invoice.pdf"), size(1), false},
		{"supplier deletes not", []*Policy{home, compile("dropbox")}, nil, DeleteFile, p("/dropbox/invoice.pdf"), size(1), false},
		{"supplier replaces not the folder", []*Policy{home, compile("dropbox")}, nil, PutFile, p("/dropbox"), size(1), false},

		{"backup reads home", []*Policy{home}, compile("backup"), GetFile, p("/home/dana/a"), office, true},
		{"backup lists home", []*Policy{home}, compile("backup"), ListFolder, p("/home/dana"), office, true},
		{"backup deletes not", []*Policy{home}, compile("backup"), DeleteFile, p("/home/dana/a"), office, false},
		{"backup writes not", []*Policy{home}, compile("backup"), PutFile, p("/home/dana/a"), office, false},
		{"backup purges not", []*Policy{home}, compile("backup"), ManageTrash, TrashOf("dana", "*"), office, false},
		{"backup reads not beyond the user", []*Policy{home}, compile("backup"), GetFile, p("/home/erin/a"), office, false},
		{"backup of an admin deletes not", []*Policy{home, compile("admin")}, compile("backup"), DeleteFile, p("/projects/a"), office, false},
		{"backup of an admin reads all", []*Policy{home, compile("admin")}, compile("backup"), GetFile, p("/projects/a"), office, true},
	} {
		set := &PolicySet{Identity: tc.identity, Session: tc.session}
		if d := set.Evaluate(dana, tc.act, tc.res, tc.req); d.Allowed != tc.allow {
			t.Errorf("%s: %s on %s: %+v, want allowed %v", tc.name, tc.act, tc.res, d, tc.allow)
		}
	}
}

// Every policy in docs/access.md parses (the examples above and any
// other a reader may copy).
func TestDocPoliciesParse(t *testing.T) {
	b, err := os.ReadFile("../../docs/access.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)```json\n(.*?)```")
	n := 0
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		if !strings.HasPrefix(m[1], "{\n  \"Version\"") {
			continue
		}
		n++
		if _, err := Parse("doc", []byte(m[1])); err != nil {
			t.Errorf("%v\n%s", err, m[1])
		}
	}
	if n < 7 {
		t.Fatalf("found %d policies in docs/access.md", n)
	}
}
