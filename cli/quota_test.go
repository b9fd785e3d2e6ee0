package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-storage/strata/server/api"
)

func TestQuotaCommands(t *testing.T) {
	data := newStore(t)
	work := t.TempDir()
	env := map[string]string{"STRATA_DATA": data}
	for name, content := range map[string]string{"six": "123456", "five": "12345"} {
		if err := os.WriteFile(filepath.Join(work, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := run(t, env, "admin", "quota", "set", "admin", "--bytes", "10", "--files", "1,000")
	if r.code != 0 || !strings.Contains(r.stdout, "/home/admin  0 B   10 B   0%    0      1,000  0%") {
		t.Fatalf("set: %v", r)
	}
	if r := run(t, env, "put", filepath.Join(work, "six"), "six"); r.code != 0 {
		t.Fatal(r)
	}
	r = run(t, env, "put", filepath.Join(work, "five"), "five")
	if r.code != ExitNoSpace || !strings.Contains(r.stderr, "quota exceeded: /home/admin uses 6 B of its quota of 10 B, and this needs 5 B more") ||
		!strings.Contains(r.stderr, "'strata trash empty' gives their space back") {
		t.Fatalf("put past the quota: %v", r)
	}
	r = run(t, env, "--json", "put", filepath.Join(work, "five"), "five")
	if je := jsonLines(t, r.stderr); len(je) != 1 || je[0].Error.Code != api.CodeQuotaExceeded || je[0].Error.Exit != ExitNoSpace {
		t.Fatalf("put past the quota, --json: %v", r)
	}
	r = run(t, env, "usage")
	want := "HOME         USED  LIMIT  USE%  FILES  LIMIT  USE%\n/home/admin  6 B   10 B   60%   1      1,000  0%\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("usage: %v\nwant:\n%s", r, want)
	}
	r = run(t, env, "usage", "--json")
	var u api.Usage
	if err := json.Unmarshal([]byte(r.stdout), &u); err != nil || u.Bytes != 6 || u.Files != 1 || u.QuotaBytes != 10 || u.QuotaFiles != 1000 {
		t.Fatalf("usage --json: %v (%+v, %v)", r, u, err)
	}
	for _, bad := range [][]string{{"--bytes", "ten"}, {"--files", "-3"}, {}} {
		if r := run(t, env, append([]string{"admin", "quota", "set", "admin"}, bad...)...); r.code != ExitUsage {
			t.Errorf("set %v: %v", bad, r)
		}
	}
	r = run(t, env, "admin", "quota", "set", "admin", "--bytes", "none")
	if r.code != 0 || !strings.Contains(r.stdout, "6 B   none   -") {
		t.Fatalf("set none: %v", r)
	}
	if r := run(t, env, "put", filepath.Join(work, "five"), "five"); r.code != 0 {
		t.Fatal(r)
	}
	for _, args := range [][]string{{"admin", "quota", "get", "admin"}, {"admin", "quota", "recount", "admin"}} {
		if r := run(t, env, args...); r.code != 0 || !strings.Contains(r.stdout, "/home/admin  11 B  none   -     2      1,000") {
			t.Errorf("%v: %v", args, r)
		}
	}
	if r := run(t, env, "admin", "quota", "get", "nobody"); r.code != ExitNotFound {
		t.Errorf("get nobody: %v", r)
	}
}
