package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// strata admin audit reads the audit log: the changes made, filtered,
// as a table or JSON lines.
func TestAdminAudit(t *testing.T) {
	data := newStore(t)
	for _, args := range [][]string{{"mkdir", "docs"}, {"mkdir", "other"}, {"rm", "-r", "other"}} {
		if r := run(t, map[string]string{}, append([]string{"--data", data}, args...)...); r.code != 0 {
			t.Fatalf("%v: %v", args, r)
		}
	}
	r := run(t, map[string]string{}, "--data", data, "admin", "audit", "--since", "1h")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "TIME") || strings.Count(r.stdout, "strata:CreateFolder") != 2 || !strings.Contains(r.stdout, "strata:DeleteFile") {
		t.Fatalf("audit: %v", r)
	}
	r = run(t, map[string]string{}, "--data", data, "admin", "audit", "--action", "strata:Delete*", "--json")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 1 {
		t.Fatalf("audit --action --json: %v", r)
	}
	var rec struct{ Action, Resource, Outcome, User, Via string }
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Action != "strata:DeleteFile" || !strings.HasSuffix(rec.Resource, "/other") || rec.Outcome != "ok" || rec.User != "admin" {
		t.Fatalf("record %+v", rec)
	}
	if r := run(t, map[string]string{}, "--data", data, "admin", "audit", "--since", "yesterday"); r.code != ExitUsage || !strings.Contains(r.stderr, "--since") {
		t.Fatalf("a bad --since: %v", r)
	}
}
