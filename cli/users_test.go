package cli

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/strata-storage/strata/server/api"
)

// TestUserLsAWSIdentities: `admin user ls` shows the AWS identities that
// log in as each user, in a column and in --json.
func TestUserLsAWSIdentities(t *testing.T) {
	env := map[string]string{"STRATA_DATA": newStore(t)}
	const role, user = "arn:aws:iam::123456789012:role/eng", "arn:aws:iam::123456789012:user/div/bob"
	for _, args := range [][]string{
		{"admin", "user", "add", "--no-token", "bob"},
		{"admin", "user", "add", "--no-token", "carol"},
		{"admin", "user", "add-aws-identity", "bob", role},
		{"admin", "user", "add-aws-identity", "bob", user},
	} {
		if r := run(t, env, args...); r.code != 0 {
			t.Fatalf("%v: %v", args, r)
		}
	}
	r := run(t, env, "admin", "user", "ls")
	lines := strings.Split(r.stdout, "\n")
	if r.code != 0 || !strings.HasSuffix(strings.TrimSpace(lines[0]), "AWS IDENTITIES") {
		t.Fatalf("ls: %v", r)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		switch {
		case len(f) == 0:
		case f[0] == "bob":
			if !strings.HasSuffix(l, role+","+user) {
				t.Errorf("bob's row: %q", l)
			}
		case !strings.HasSuffix(l, " -"):
			t.Errorf("%s has no AWS identity: %q", f[0], l)
		}
	}
	r = run(t, env, "--json", "admin", "user", "ls")
	got := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var u api.User
		if err := json.Unmarshal([]byte(line), &u); err != nil {
			t.Fatalf("ls --json: %v: %v", err, r)
		}
		got[u.Name] = u.AWSIdentities
	}
	if !slices.Equal(got["bob"], []string{role, user}) || len(got["carol"]) != 0 || len(got) != 3 {
		t.Errorf("ls --json: %v", got)
	}
}
