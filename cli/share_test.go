package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
)

// runIn is run with stdin.
func runIn(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, Env{
		Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
	})
	return result{code, stdout.String(), stderr.String()}
}

// TestShareCommands: create prints the URL (--json: the link with id and
// url), ls, info and rm find and revoke it; bad settings are usage errors.
func TestShareCommands(t *testing.T) {
	c, eng := openStore(t, t.TempDir())
	srv := httptest.NewServer(server.NewServer(server.Deps{Files: c.Files, Identity: c.Identity, Shares: c.Shares}, server.Config{}))
	t.Cleanup(func() { srv.Close(); eng.Close() })
	env := map[string]string{"STRATA_SERVER": srv.URL, "STRATA_TOKEN": testToken, "HOME": t.TempDir()}
	if r := run(t, env, "mkdir", "docs"); r.code != 0 {
		t.Fatal(r)
	}
	r := run(t, env, "share", "create", "docs", "-q")
	if r.code != 0 || !strings.HasPrefix(r.stdout, srv.URL+"/s/") || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("create: %v", r)
	}
	r = run(t, env, "--json", "share", "create", "docs", "--expires", "2099-01-31", "--allow-upload", "--max-downloads", "3", "--allow-ip", "10.0.0.0/8,192.0.2.7", "--note", "hi")
	var sh api.Share
	if err := json.Unmarshal([]byte(r.stdout), &sh); err != nil || r.code != 0 {
		t.Fatalf("create --json: %v %v", r, err)
	}
	if sh.ID == "" || !strings.HasPrefix(sh.URL, srv.URL+"/s/") || sh.Mode != "read-upload" || sh.MaxDownloads != 3 || sh.Note != "hi" ||
		sh.Expires == nil || !sh.Expires.Equal(time.Date(2099, 1, 31, 23, 59, 59, 0, time.UTC)) || strings.Join(sh.AllowIP, ",") != "10.0.0.0/8,192.0.2.7/32" || sh.Path != "/home/admin/docs" {
		t.Errorf("create --json: %+v", sh)
	}
	r = runIn(t, env, "correct horse battery\n", "--json", "share", "create", "/home/admin/docs", "--password-stdin", "--expires", "never")
	var pw api.Share
	if err := json.Unmarshal([]byte(r.stdout), &pw); err != nil || !pw.Password || pw.Expires != nil {
		t.Errorf("--password-stdin: %v %+v", r, pw)
	}
	for _, bad := range [][]string{
		{"share", "create", "docs", "--upload-only", "--allow-upload"},
		{"share", "create", "docs", "--expires", "2001-01-01"},
		{"share", "create", "docs", "--expires", "soon"},
		{"share", "create", "docs", "--max-upload-size", "lots"},
		{"share", "create", "docs", "--allow-ip", "not-a-net"},
	} {
		if r := run(t, env, bad...); r.code != ExitUsage {
			t.Errorf("%v: %v", bad, r)
		}
	}
	r = run(t, env, "--json", "share", "ls", "docs")
	if r.code != 0 || strings.Count(r.stdout, "\n") != 3 {
		t.Fatalf("ls --json: %v", r)
	}
	r = run(t, env, "share", "ls")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "ID") || !strings.Contains(r.stdout, "download and upload, expires") {
		t.Errorf("ls: %v", r)
	}
	r = run(t, env, "share", "info", sh.ID)
	if r.code != 0 || !strings.Contains(r.stdout, "state:     active") || !strings.Contains(r.stdout, "0 of 3 downloads used") {
		t.Errorf("info: %v", r)
	}
	if strings.Contains(r.stdout, sh.URL) {
		t.Errorf("info shows the URL unasked: %v", r)
	}
	r = run(t, env, "share", "info", "--url", sh.ID)
	if r.code != 0 || !strings.Contains(r.stdout, "url:       "+sh.URL+"\n") {
		t.Errorf("info --url: %v", r)
	}
	if r := run(t, env, "share", "info", "--url", "--user", "bob", sh.ID); r.code != ExitUsage {
		t.Errorf("info --url --user: %v", r)
	}
	if r := run(t, env, "share", "rm", sh.ID); r.code != 0 {
		t.Fatalf("rm: %v", r)
	}
	if r := run(t, env, "share", "info", sh.ID); r.code != ExitNotFound {
		t.Errorf("info after rm: %v", r)
	}
	if r := run(t, env, "--json", "share", "ls", "docs"); strings.Count(r.stdout, "\n") != 2 {
		t.Errorf("ls after rm: %v", r)
	}
}

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	for in, want := range map[string]string{
		"never": "", "": "", "30d": "2027-01-04T10:00:00Z", "12h": "2026-12-05T22:00:00Z",
		"2027-01-31": "2027-01-31T23:59:59Z", "2027-01-31T12:00:00Z": "2027-01-31T12:00:00Z",
	} {
		got, err := parseExpiry(in, now)
		s := ""
		if got != nil {
			s = got.UTC().Format(time.RFC3339)
		}
		if err != nil || s != want {
			t.Errorf("%q: %q %v, want %q", in, s, err, want)
		}
	}
	for _, bad := range []string{"2026-12-04", "-1d", "0d", "tomorrow"} {
		if _, err := parseExpiry(bad, now); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
