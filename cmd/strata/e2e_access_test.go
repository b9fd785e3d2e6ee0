package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPoliciesFromTheCLI: the worked examples of docs/access.md, as an
// admin and users would go about them with the CLI.
func TestPoliciesFromTheCLI(t *testing.T) {
	s := startServer(t, t.TempDir())
	admin := newUser(t, s, adminToken)
	token := func(out string) string { return strings.TrimSpace(out[strings.Index(out, "strata_"):]) }
	bob := newUser(t, s, token(admin.run(0, "admin", "user", "add", "bob").stdout))
	carol := newUser(t, s, token(admin.run(0, "admin", "user", "add", "carol").stdout))
	writeFile(t, filepath.Join(admin.dir, "a.txt"), []byte("plans"))
	admin.run(0, "put", filepath.Join(admin.dir, "a.txt"), "/projects/")

	// A read-only group for /projects.
	doc := filepath.Join(admin.dir, "read.json")
	writeFile(t, doc, []byte(`{"Version": "2012-10-17", "Statement": [{"Sid": "ReadProjects", "Effect": "Allow",
		"Action": ["strata:ListFolder", "strata:GetFile"], "Resource": ["/projects", "/projects/*"]}]}`))
	admin.run(0, "admin", "policy", "create", "projects-read", "--document", doc)
	admin.run(0, "admin", "group", "create", "readers")
	admin.run(0, "admin", "policy", "attach", "projects-read", "--group", "readers")
	bob.run(4, "cat", "/projects/a.txt") // not yet a member
	admin.run(0, "admin", "group", "add-user", "readers", "bob")
	if got := bob.run(0, "cat", "/projects/a.txt").stdout; got != "plans" {
		t.Fatalf("bob reads %q", got)
	}
	bob.run(0, "ls", "/projects")
	// Listing / needs only strata:ListFolder on it, not reading it.
	bob.run(4, "ls", "/")
	root := filepath.Join(admin.dir, "root.json")
	writeFile(t, root, []byte(`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "strata:ListFolder", "Resource": "/"}]}`))
	admin.run(0, "admin", "policy", "create", "browse-root", "--document", root)
	admin.run(0, "admin", "policy", "attach", "browse-root", "--group", "readers")
	if got := bob.run(0, "ls", "/").stdout; !strings.Contains(got, "projects/") {
		t.Fatalf("bob lists / as %q", got)
	}
	if got := bob.run(0, "ls", "-l", "/projects/a.txt").stdout; !strings.Contains(got, "a.txt") {
		t.Fatalf("bob lists a file as %q", got)
	}
	bob.run(4, "put", filepath.Join(admin.dir, "a.txt"), "/projects/b.txt")
	bob.run(4, "rm", "/projects/a.txt")
	carol.run(4, "cat", "/projects/a.txt")

	// Simulate says why.
	sim := admin.run(0, "admin", "policy", "simulate", "--user", "bob", "--action", "strata:GetFile", "--resource", "/projects/a.txt").stdout
	if !strings.HasPrefix(sim, "Allow") || !strings.Contains(sim, `"projects-read"`) || !strings.Contains(sim, `"ReadProjects"`) {
		t.Fatalf("simulate: %q", sim)
	}
	var res struct {
		Decision  string
		Statement *struct{ Policy, Sid string }
	}
	out := admin.run(0, "--json", "admin", "policy", "simulate", "--user", "carol", "--action", "strata:GetFile", "--resource", "/projects/a.txt").stdout
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Decision != "Deny" || res.Statement != nil {
		t.Fatalf("simulate --json: %q %v", out, err)
	}

	// A backup token: reads, never deletes.
	ro := filepath.Join(carol.dir, "readonly.json")
	writeFile(t, ro, []byte(`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
		"Action": ["strata:GetFile", "strata:ListFolder"], "Resource": "*"}]}`))
	writeFile(t, filepath.Join(carol.dir, "mine.txt"), []byte("mine"))
	carol.run(0, "put", filepath.Join(carol.dir, "mine.txt"), "mine.txt")
	backup := &user{t: t, env: append(carol.env[:2:2], "STRATA_SERVER="+s.addr, "STRATA_TOKEN="+strings.TrimSpace(carol.run(0, "token", "create", "--name", "backup", "--policy", ro).stdout)), dir: carol.dir}
	if got := backup.run(0, "cat", "mine.txt").stdout; got != "mine" {
		t.Fatalf("the backup token reads %q", got)
	}
	backup.run(4, "rm", "mine.txt")
	backup.run(4, "put", filepath.Join(carol.dir, "mine.txt"), "other.txt")
	// A token that may only read still says whose it is (logging in asks).
	if got := backup.run(0, "whoami").stdout; !strings.HasPrefix(got, "carol") || !strings.Contains(got, "session policy") {
		t.Fatalf("whoami with the backup token: %q", got)
	}
	if !strings.Contains(carol.run(0, "token", "ls").stdout, "yes") {
		t.Fatal("token ls does not show the session policy")
	}

	// Bad input says where and why; what is in use stays.
	bad := filepath.Join(admin.dir, "bad.json")
	writeFile(t, bad, []byte("{\"Version\": \"2012-10-17\",\n \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"strata:GetFiles\", \"Resource\": \"*\"}]}"))
	r := admin.run(2, "admin", "policy", "create", "bad", "--document", bad)
	if !strings.Contains(r.stderr, "strata:GetFiles") || !strings.Contains(r.stderr, "line 2") {
		t.Fatalf("malformed policy: %q", r.stderr)
	}
	admin.run(5, "admin", "policy", "rm", "projects-read")
	admin.run(5, "admin", "group", "rm", "readers")
	admin.run(5, "admin", "group", "remove-user", "admins", "admin")
	admin.run(3, "admin", "policy", "attach", "projects-read", "--user", "nobody")
	admin.run(3, "admin", "policy", "attach", "nothing", "--group", "readers")
	admin.run(2, "admin", "policy", "attach", "projects-read")
	if got := admin.run(0, "admin", "policy", "get", "home").stdout; !strings.Contains(got, "${strata:username}") {
		t.Fatalf("the built-in home policy: %q", got)
	}
	_ = os.Remove(bad)
}
