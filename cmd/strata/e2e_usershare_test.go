package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-storage/strata/server/api"
)

// TestUserShares: shares between users and groups, end to end through
// strata serve on the embedded engines.
func TestUserShares(t *testing.T) {
	userShares(t, startServer(t, t.TempDir()), true)
}

// TestUserSharesOnAWS is TestUserShares on S3, DynamoDB and KMS (moto),
// without the checks of paths and decisions, which no engine takes part
// in (moto serves one request at a time: every request counts).
func TestUserSharesOnAWS(t *testing.T) {
	args, env := awsEngines(t)
	userShares(t, startServerEnv(t, t.TempDir(), env, args...), false)
}

// userShares runs the scenario; all adds what is the same on every engine.
func userShares(t *testing.T, s *serverProc, all bool) {
	admin := newUser(t, s, adminToken)
	as := func(name string) *user {
		admin.run(0, "admin", "user", "add", "--no-token", name)
		return newUser(t, s, strings.TrimSpace(admin.run(0, "admin", "token", "create", "--user", name, "--name", "t").stdout))
	}
	alice, bob, carol := as("alice"), as("bob"), as("carol")
	admin.run(0, "admin", "group", "create", "eng")
	admin.run(0, "admin", "group", "add-user", "eng", "carol")
	src := func(u *user, name, content string) string {
		p := filepath.Join(u.dir, name)
		writeFile(t, p, []byte(content))
		return p
	}
	alice.run(0, "mkdir", "proj")
	alice.run(0, "put", src(alice, "readme.txt", "hello"), "proj/readme.txt")
	alice.run(0, "put", src(alice, "secret.txt", "alice only"), "secret.txt")
	alice.run(0, "share", "add", "proj", "--user", "bob", "--write")
	alice.run(0, "share", "add", "proj", "--group", "eng")

	// What bob sees, and reads.
	if got := bob.run(0, "ls", "/shared").stdout; got != "alice/\n" {
		t.Fatalf("bob's /shared: %q", got)
	}
	if all {
		userSharesAccess(t, s, admin, alice, bob, carol, as("dave"), src)
	}
	// Bob writes: the version says who, by name and user ID.
	bob.run(0, "put", src(bob, "v2.txt", "hello again"), "/shared/alice/proj/readme.txt")
	bob.run(0, "mkdir", "/shared/alice/proj/sub")
	e, err := s.client(t, strings.TrimPrefix(bob.env[3], "STRATA_TOKEN=")).Stat(bg(), "/shared/alice/proj/readme.txt")
	if err != nil || e.Path != "/shared/alice/proj/readme.txt" || e.Size != int64(len("hello again")) {
		t.Fatalf("stat through the share: %+v %v", e, err)
	}
	var users []api.User
	for _, line := range strings.Split(strings.TrimSpace(admin.run(0, "--json", "admin", "user", "ls").stdout), "\n") {
		var u api.User
		if err := json.Unmarshal([]byte(line), &u); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	bobID := ""
	for _, u := range users {
		if u.Name == "bob" {
			bobID = u.ID
		}
	}
	vs, err := s.client(t, strings.TrimPrefix(alice.env[3], "STRATA_TOKEN=")).Versions(bg(), "/home/alice/proj/readme.txt", "")
	if err != nil || len(vs.Versions) != 2 || vs.Versions[0].Author != "bob" || vs.Versions[0].AuthorID != bobID || bobID == "" {
		t.Fatalf("versions: %+v %v (bob is %s)", vs, err, bobID)
	}
	if out := alice.run(0, "versions", "proj/readme.txt").stdout; !strings.Contains(out, bobID) {
		t.Fatalf("strata versions does not show bob's ID:\n%s", out)
	}

	// What bob deletes goes to alice's trash, and she restores it.
	bob.run(0, "rm", "/shared/alice/proj/readme.txt")
	if out := bob.run(0, "trash", "ls").stdout; strings.Contains(out, "readme.txt") {
		t.Fatalf("bob's trash has it:\n%s", out)
	}
	var item api.TrashItem
	if err := json.Unmarshal([]byte(alice.run(0, "--json", "trash", "ls").stdout), &item); err != nil || item.Path != "/home/alice/proj/readme.txt" {
		t.Fatalf("alice's trash: %+v %v", item, err)
	}
	alice.run(0, "trash", "restore", item.ID)
	if got := bob.run(0, "cat", "/shared/alice/proj/readme.txt").stdout; got != "hello again" {
		t.Fatalf("after the restore bob reads %q", got)
	}

	// The share follows its folder through a rename and a move.
	alice.run(0, "mv", "proj", "project")
	alice.run(0, "mkdir", "work")
	alice.run(0, "mv", "project", "work/project")
	if got := bob.run(0, "cat", "/shared/alice/proj/readme.txt").stdout; got != "hello again" {
		t.Fatalf("after the move bob reads %q", got)
	}
	if out := alice.run(0, "share", "grants").stdout; !strings.Contains(out, "/home/alice/work/project") {
		t.Fatalf("grants after the move:\n%s", out)
	}
	bob.run(0, "put", src(bob, "n.txt", "new"), "/shared/alice/proj/sub/n.txt")
	if got := alice.run(0, "cat", "work/project/sub/n.txt").stdout; got != "new" {
		t.Fatalf("alice reads what bob wrote: %q", got)
	}

	// In the trash, the share is unavailable; restored, it is back.
	if all {
		userSharesTrashed(t, alice, bob)
	}

	// Carol leaves; bob stays. Alice revokes bob's.
	carol.run(0, "share", "leave", "/shared/alice/proj")
	if got := carol.run(0, "ls", "/shared").stdout; got != "" {
		t.Fatalf("carol's /shared after leaving: %q", got)
	}
	carol.run(4, "cat", "/shared/alice/proj/readme.txt")
	bob.run(0, "cat", "/shared/alice/proj/readme.txt")
	alice.run(0, "share", "remove", "work/project", "--user", "bob")
	bob.run(4, "cat", "/shared/alice/proj/readme.txt")
	if got := bob.run(0, "ls", "/shared").stdout; got != "" {
		t.Fatalf("bob's /shared after the revoke: %q", got)
	}
	if out := alice.run(0, "share", "grants").stdout; strings.Contains(out, "bob") || !strings.Contains(out, "group eng") {
		t.Fatalf("grants after the revoke:\n%s", out)
	}
	alice.run(3, "share", "remove", "work/project", "--user", "bob")
	bob.run(4, "share", "add", "/home/alice/work/project", "--user", "carol")
}

// userSharesAccess: what recipients may do through a share, and what no
// one may do.
func userSharesAccess(t *testing.T, s *serverProc, admin, alice, bob, carol, dave *user, src func(u *user, name, content string) string) {
	if got := bob.run(0, "ls", "/shared/alice").stdout; got != "proj/\n" {
		t.Fatalf("bob's /shared/alice: %q", got)
	}
	if got := bob.run(0, "cat", "/shared/alice/proj/readme.txt").stdout; got != "hello" {
		t.Fatalf("bob reads %q", got)
	}
	if got := bob.run(0, "share", "received").stdout; !strings.Contains(got, "/shared/alice/proj") || !strings.Contains(got, "read-write") {
		t.Fatalf("bob's received shares: %q", got)
	}

	// Read-only through the group; a change of membership counts at once.
	if got := carol.run(0, "cat", "/shared/alice/proj/readme.txt").stdout; got != "hello" {
		t.Fatalf("carol reads %q", got)
	}
	carol.run(4, "put", src(carol, "c.txt", "carol"), "/shared/alice/proj/c.txt")
	carol.run(4, "rm", "/shared/alice/proj/readme.txt")
	carol.run(4, "mkdir", "/shared/alice/proj/new")
	admin.run(0, "admin", "group", "remove-user", "eng", "carol")
	carol.run(4, "cat", "/shared/alice/proj/readme.txt")
	admin.run(0, "admin", "group", "add-user", "eng", "carol")
	carol.run(0, "cat", "/shared/alice/proj/readme.txt")

	// Nothing outside the shared entry, and the same answer for what
	// exists and what does not.
	denied := func(u *user, args ...string) {
		t.Helper()
		if r := u.run(4, args...); !strings.Contains(r.stderr, "access denied") {
			t.Fatalf("strata %v: %q", args, r.stderr)
		}
	}
	denied(dave, "cat", "/shared/alice/proj/readme.txt")
	denied(dave, "cat", "/shared/alice/proj/nothing.txt")
	denied(dave, "ls", "/shared/alice")
	denied(dave, "ls", "/shared/nobody")
	denied(bob, "cat", "/shared/alice/secret.txt")
	denied(bob, "cat", "/shared/alice/nothing/x")
	denied(bob, "cat", "/shared/nobody/proj/readme.txt")
	denied(bob, "mkdir", "/shared/bob")
	denied(bob, "put", src(bob, "x.txt", "x"), "/shared/x.txt")
	bob.run(2, "cat", "/shared/alice/proj/../secret.txt")
	for _, p := range []string{
		"/v1/files/shared/alice/proj/..%2Fsecret.txt",
		"/v1/files/shared/alice/proj/%2E%2E/secret.txt",
		"/v1/files/shared/alice/proj/%2e%2e/%2e%2e/alice/secret.txt",
		"/v1/files/shared/alice/proj%2F..%2F..%2Fhome%2Falice%2Fsecret.txt",
	} {
		req, _ := http.NewRequest("GET", s.addr+p, nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimPrefix(bob.env[3], "STRATA_TOKEN="))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || strings.Contains(string(body), "alice only") {
			t.Fatalf("GET %s: %d %s", p, resp.StatusCode, body)
		}
	}
	bob.run(4, "mv", "/shared/alice/proj/readme.txt", "/shared/alice/readme.txt")
	bob.run(4, "cp", "/shared/alice/proj/readme.txt", "/home/alice/stolen.txt")
	// The shared folder itself is the owner's to delete or move.
	bob.run(4, "rm", "-r", "/shared/alice/proj")
	bob.run(4, "mv", "/shared/alice/proj", "/home/bob/proj")

}

// userSharesTrashed: a share whose folder is in the trash is unavailable
// until it is restored.
func userSharesTrashed(t *testing.T, alice, bob *user) {
	alice.run(0, "rm", "-r", "work/project")
	if got := bob.run(0, "ls", "/shared/alice").stdout; got != "" {
		t.Fatalf("a trashed share is listed: %q", got)
	}
	bob.run(3, "cat", "/shared/alice/proj/readme.txt")
	if out := alice.run(0, "share", "grants").stdout; !strings.Contains(out, "unavailable") {
		t.Fatalf("grants of a trashed share:\n%s", out)
	}
	var item api.TrashItem
	if err := json.Unmarshal([]byte(alice.run(0, "--json", "trash", "ls").stdout), &item); err != nil {
		t.Fatal(err)
	}
	alice.run(0, "trash", "restore", item.ID)
	bob.run(0, "cat", "/shared/alice/proj/readme.txt")

}
