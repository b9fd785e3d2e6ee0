package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/server"
)

// result is what one in-process run of the command line did.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the command line in-process with exactly env as its
// environment (HOME is a fresh folder unless env sets it).
func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	if _, ok := env["HOME"]; !ok {
		env["HOME"] = t.TempDir()
	}
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, Env{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
	})
	return result{code, stdout.String(), stderr.String()}
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

const testToken = "strata_cliTest3Hq8Wn2Zr6Kp9Xv4Lm7Bc1Td5Gf0Js"

// newStore creates a store in a new data directory, with an admin whose
// token is testToken, and closes it again.
func newStore(t *testing.T) string {
	t.Helper()
	data := t.TempDir()
	_, eng := openStore(t, data)
	if err := eng.Close(); err != nil {
		t.Fatal(err)
	}
	return data
}

func openStore(t *testing.T, data string) (daemon.Core, *embedded.Engines) {
	t.Helper()
	eng, err := embedded.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	c, err := daemon.NewCore(backend.Config{Blobs: eng.Blobs, Meta: eng.Meta, Keys: eng.Keys, Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	// Background work (purges) ends before the engines close and the
	// temporary directory goes.
	t.Cleanup(func() { _ = c.Files.Drain(context.Background()) })
	if _, _, err := c.Identity.Bootstrap(context.Background(), testToken); err != nil {
		t.Fatal(err)
	}
	return c, eng
}

// tlsServer serves a store over HTTPS with a certificate no system trusts,
// and returns its address and a file with its CA certificate.
func tlsServer(t *testing.T) (addr, caFile string) {
	t.Helper()
	b, eng := openStore(t, t.TempDir())
	srv := httptest.NewUnstartedServer(server.NewServer(server.Deps{Files: b.Files, Identity: b.Identity}, server.Config{}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	t.Cleanup(func() {
		srv.Close()
		eng.Close()
	})
	caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL, caFile
}

// TestServerWithoutToken: a server without a token for it says that a
// token is missing and how to get one; it is not "no server configured".
func TestServerWithoutToken(t *testing.T) {
	for _, env := range []map[string]string{{}, {"STRATA_SERVER": "http://127.0.0.1:1"}} {
		args := []string{"ls"}
		if len(env) == 0 {
			args = []string{"--server", "http://127.0.0.1:1", "ls"}
		}
		r := run(t, env, args...)
		if r.code != ExitAuth {
			t.Fatalf("%v: %v", args, r)
		}
		for _, want := range []string{"no token for http://127.0.0.1:1", "STRATA_TOKEN", "strata login --server http://127.0.0.1:1", "strata admin token create"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%v: stderr lacks %q: %s", args, want, r.stderr)
			}
		}
		if strings.Contains(r.stderr, "no server configured") {
			t.Errorf("%v: %s", args, r.stderr)
		}
	}
}

// TestServerWithoutScheme: host:port is a usage error (exit 2) that shows
// how to write it, wherever the address came from.
func TestServerWithoutScheme(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
	}{
		{map[string]string{}, []string{"--server", "127.0.0.1:8420", "--token", testToken, "ls"}},
		{map[string]string{}, []string{"--server", "127.0.0.1:8420", "ls"}}, // and no token
		{map[string]string{"STRATA_SERVER": "127.0.0.1:8420", "STRATA_TOKEN": testToken}, []string{"ls"}},
		{map[string]string{"STRATA_TOKEN": testToken}, []string{"login", "--server", "127.0.0.1:8420"}},
	} {
		r := run(t, c.env, c.args...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "http://127.0.0.1:8420") || !strings.Contains(r.stderr, "https://127.0.0.1:8420") {
			t.Errorf("%v %v: %v", c.env, c.args, r)
		}
	}
}

// TestUntrustedCertificate: a self-signed server certificate is reported
// as a certificate problem with its x509 reason and the way out
// (--ca-cert), and --ca-cert or STRATA_CA_CERT then works.
func TestUntrustedCertificate(t *testing.T) {
	addr, caFile := tlsServer(t)
	env := map[string]string{"STRATA_SERVER": addr, "STRATA_TOKEN": testToken}
	r := run(t, env, "ls")
	if r.code != ExitError {
		t.Fatalf("untrusted: %v", r)
	}
	for _, want := range []string{"certificate", "x509: certificate signed by unknown authority", "--ca-cert FILE", "STRATA_CA_CERT"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "cannot reach") {
		t.Errorf("stderr: %s", r.stderr)
	}
	if r := run(t, env, "--ca-cert", caFile, "mkdir", "tls"); r.code != 0 {
		t.Fatalf("--ca-cert: %v", r)
	}
	env["STRATA_CA_CERT"] = caFile
	if r := run(t, env, "ls"); r.code != 0 || r.stdout != "tls/\n" {
		t.Fatalf("STRATA_CA_CERT: %v", r)
	}
	env["STRATA_CA_CERT"] = filepath.Join(t.TempDir(), "missing.pem")
	if r := run(t, env, "ls"); r.code != ExitUsage || !strings.Contains(r.stderr, "--ca-cert") {
		t.Fatalf("missing CA file: %v", r)
	}
}

// jsonLines decodes each line of s as an error object.
func jsonLines(t *testing.T, s string) []jsonError {
	t.Helper()
	var out []jsonError
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		var je jsonError
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&je); err != nil {
			t.Fatalf("stderr line %q is not an error object: %v", line, err)
		}
		out = append(out, je)
	}
	return out
}

// TestJSONErrors: with --json (or STRATA_JSON), an error is one JSON
// object on stderr, with the server's problem code when there is one.
func TestJSONErrors(t *testing.T) {
	data := newStore(t)
	env := map[string]string{}
	r := run(t, env, "--data", data, "--json", "stat", "nope")
	if r.code != ExitNotFound || r.stdout != "" {
		t.Fatalf("stat nope: %v", r)
	}
	je := jsonLines(t, r.stderr)
	if len(je) != 1 || je[0].Error.Code != "not_found" || je[0].Error.Exit != ExitNotFound || je[0].Error.Status != 404 ||
		je[0].Error.RequestID == "" || je[0].Error.Message != "/home/admin/nope: not found" {
		t.Fatalf("stat nope: %+v", je)
	}

	for _, c := range []struct {
		env  map[string]string
		args []string
		code string
		exit int
	}{
		{map[string]string{}, []string{"--json", "get"}, "usage", ExitUsage},
		{map[string]string{}, []string{"ls", "--bogus", "--json"}, "usage", ExitUsage},
		{map[string]string{"STRATA_JSON": "true"}, []string{"ls", "--bogus"}, "usage", ExitUsage},
		{map[string]string{}, []string{"--json", "--server", "http://127.0.0.1:1", "ls"}, "no_token", ExitAuth},
		{map[string]string{}, []string{"--json", "--data", t.TempDir(), "ls"}, "no_server", ExitAuth},
		{map[string]string{}, []string{"--json", "--server", "127.0.0.1:1", "--token", testToken, "ls"}, "invalid_request", ExitUsage},
		{map[string]string{}, []string{"--json", "--data", data, "ls", "a//b"}, "invalid_request", ExitUsage},
	} {
		r := run(t, c.env, c.args...)
		je := jsonLines(t, r.stderr)
		if r.code != c.exit || len(je) != 1 || je[0].Error.Code != c.code || je[0].Error.Exit != c.exit || je[0].Error.Message == "" {
			t.Errorf("%v: %v", c.args, r)
		}
	}
	// Without --json, errors stay text.
	if r := run(t, env, "--data", data, "stat", "nope"); !strings.HasPrefix(r.stderr, "strata: ") {
		t.Errorf("plain: %v", r)
	}
}

// TestDataDirectory: with no server given, commands use the data
// directory — --data, STRATA_DATA, or the default — through its owner's
// socket, or in this process when nobody owns it; they never create a
// store, and an explicit data directory wins over a saved profile.
func TestDataDirectory(t *testing.T) {
	ctx := context.Background()
	data := newStore(t)

	// Nobody owns it: opened in-process, for the command only.
	if r := run(t, map[string]string{}, "--data", data, "mkdir", "inproc"); r.code != 0 {
		t.Fatalf("in-process mkdir: %v", r)
	}
	if r := run(t, map[string]string{"STRATA_DATA": data}, "ls"); r.code != 0 || r.stdout != "inproc/\n" {
		t.Fatalf("STRATA_DATA ls: %v", r)
	}
	_, eng := openStore(t, data) // the lock was given back
	eng.Close()

	// The default data directory, under XDG_DATA_HOME.
	xdg := t.TempDir()
	if err := os.Rename(data, filepath.Join(xdg, "strata")); err != nil {
		t.Fatal(err)
	}
	data = filepath.Join(xdg, "strata")
	if r := run(t, map[string]string{"XDG_DATA_HOME": xdg}, "ls"); r.code != 0 || r.stdout != "inproc/\n" {
		t.Fatalf("default data directory: %v", r)
	}

	// Someone owns it (here: this process, as local mode does): through
	// its socket, as admin, even to make tokens.
	owner := &app{env: Env{Getenv: func(string) string { return "" }}}
	if _, stop, err := owner.localStore(ctx, data); err != nil {
		t.Fatal(err)
	} else {
		defer stop()
	}
	if _, err := embedded.Open(data); !errors.Is(err, embedded.ErrInUse) {
		t.Fatalf("not owned: %v", err)
	}
	r := run(t, map[string]string{"XDG_DATA_HOME": xdg}, "admin", "token", "create", "--name", "laptop")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "strata_") {
		t.Fatalf("token create through the socket: %v", r)
	}

	// --data wins over a profile; without it the profile is used.
	home := t.TempDir()
	profileDir := filepath.Join(home, ".config", "strata")
	if err := os.MkdirAll(profileDir, 0o700); err != nil {
		t.Fatal(err)
	}
	var profileHits atomic.Int64
	profiled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		profileHits.Add(1)
		w.WriteHeader(http.StatusTeapot)
	}))
	defer profiled.Close()
	if err := os.WriteFile(filepath.Join(profileDir, "profile.json"), []byte(`{"server":"`+profiled.URL+`","token":"`+testToken+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(t, map[string]string{"HOME": home}, "--data", data, "ls"); r.code != 0 || r.stdout != "inproc/\n" || profileHits.Load() != 0 {
		t.Fatalf("--data with a profile: %v", r)
	}
	if r := run(t, map[string]string{"HOME": home}, "ls"); r.code == 0 || profileHits.Load() == 0 {
		t.Fatalf("the profile was not used: %v", r)
	}

	// No store there: says so and how to get one, and creates nothing.
	empty := filepath.Join(t.TempDir(), "none")
	r = run(t, map[string]string{}, "--data", empty, "ls")
	if r.code != ExitAuth || !strings.Contains(r.stderr, "no store in "+empty) || !strings.Contains(r.stderr, "strata login") {
		t.Fatalf("no store: %v", r)
	}
	if _, err := os.Stat(empty); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a command created %s: %v", empty, err)
	}
}

// TestMessages: what a new user gets wrong is said plainly, once, with the
// right exit code.
func TestMessages(t *testing.T) {
	data := newStore(t)
	work := t.TempDir()
	env := map[string]string{"STRATA_DATA": data}
	if err := os.WriteFile(filepath.Join(work, "f.txt"), []byte("f"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, env, "put", filepath.Join(work, "f.txt"), "f.txt"); r.code != 0 {
		t.Fatal(r)
	}
	missing := filepath.Join(work, "nonexistent")
	for _, c := range []struct {
		args []string
		exit int
		want string
	}{
		{[]string{"put", missing, "x"}, ExitNotFound, "strata: " + missing + ": no such file or folder\n"},
		{[]string{"mkdir", "a/b/c"}, ExitNotFound, "-p creates the missing folders"},
		{[]string{"get", "f.txt", filepath.Join(work, "no", "x")}, ExitNotFound, "strata: " + filepath.Join(work, "no") + ": no such local folder\n"},
		{[]string{"get", "--version", "9", "f.txt", filepath.Join(work, "x")}, ExitNotFound, "strata: /home/admin/f.txt: version 9: not found"},
		{[]string{"get"}, ExitUsage, "Usage: strata get REMOTE... LOCAL [flags]\nRun 'strata get --help' for more.\n"},
	} {
		r := run(t, env, c.args...)
		if r.code != c.exit || !strings.Contains(r.stderr, c.want) || strings.Count(r.stderr, "/home/admin/f.txt") > 1 {
			t.Errorf("%v: want exit %d and %q; %v", c.args, c.exit, c.want, r)
		}
	}
	if _, err := os.Stat(filepath.Join(work, "no")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("get made the missing folder: %v", err)
	}
	if r := run(t, env, "stat", "/"); !strings.Contains(r.stdout, "Modified:  -\n") {
		t.Errorf("stat /: %v", r)
	}

	// The wrong scheme, either way.
	addr, caFile := tlsServer(t)
	plain := strings.Replace(addr, "https://", "http://", 1)
	r := run(t, map[string]string{"STRATA_SERVER": plain, "STRATA_TOKEN": testToken, "STRATA_CA_CERT": caFile}, "ls")
	if r.code == 0 || !strings.Contains(r.stderr, "use an https:// address") {
		t.Errorf("http:// to an HTTPS server: %v", r)
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	https := strings.Replace(srv.URL, "http://", "https://", 1)
	r = run(t, map[string]string{"STRATA_SERVER": https, "STRATA_TOKEN": testToken}, "ls")
	if r.code != ExitUsage || !strings.Contains(r.stderr, https+" does not serve HTTPS: use "+srv.URL) {
		t.Errorf("https:// to a plain server: %v", r)
	}
}

// TestServeChecksSettingsFirst: a bad --tls-cert or --listen stops serve
// before it makes the admin's token, which is shown only once; the address
// problems are said plainly.
func TestServeChecksSettingsFirst(t *testing.T) {
	data := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, c := range []struct {
		args []string
		exit int
		want string
	}{
		{[]string{"--tls-cert", filepath.Join(data, "none.pem"), "--tls-key", filepath.Join(data, "none.key"), "--listen", "127.0.0.1:0"},
			ExitNotFound, "--tls-cert and --tls-key: open"},
		{[]string{"--listen", busy.Addr().String()}, ExitError, "another program uses this port"},
		{[]string{"--listen", "127.0.0.1:99999"}, ExitUsage, `--listen "127.0.0.1:99999": want host:port`},
		{[]string{"--listen", "8420"}, ExitUsage, `--listen "8420": want host:port`},
		{[]string{"--listen", "192.0.2.1:8420"}, ExitUsage, "192.0.2.1 is not an address of this machine"},
		{[]string{"--listen", "127.0.0.1:0", "--pprof", "0.0.0.0:0"}, ExitUsage, "--pprof \"0.0.0.0:0\": not a loopback address: profiles show the server's internals; add --pprof-public"},
		{[]string{"--listen", "127.0.0.1:0", "--pprof", busy.Addr().String()}, ExitError, "another program uses this port"},
	} {
		r := run(t, map[string]string{}, append([]string{"serve", "--data", data}, c.args...)...)
		if r.code != c.exit || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stdout, "Created user") {
			t.Errorf("%v: want exit %d and %q: %v", c.args, c.exit, c.want, r)
		}
	}
	eng, err := embedded.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	c, err := daemon.NewCore(backend.Config{Blobs: eng.Blobs, Meta: eng.Meta, Keys: eng.Keys, Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	// Background work (purges) ends before the engines close and the
	// temporary directory goes.
	t.Cleanup(func() { _ = c.Files.Drain(context.Background()) })
	if _, created, err := c.Identity.Bootstrap(context.Background(), ""); err != nil || !created {
		t.Fatalf("a failed serve left users behind: created %v, %v", created, err)
	}
}

// TestAdminTokenIgnoredOnStoreWithUsers: STRATA_ADMIN_TOKEN only sets the
// admin's token on an empty store; on one with users it is not used, so a
// malformed one does not stop the server.
func TestAdminTokenIgnoredOnStoreWithUsers(t *testing.T) {
	t.Parallel()
	eng, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	c, err := daemon.NewCore(backend.Config{Blobs: eng.Blobs, Meta: eng.Meta, Keys: eng.Keys, Exclusive: true})
	if err != nil {
		t.Fatal(err)
	}
	// Background work (purges) ends before the engines close and the
	// temporary directory goes.
	t.Cleanup(func() { _ = c.Files.Drain(context.Background()) })
	ctx := context.Background()
	if _, _, err := c.Identity.Bootstrap(ctx, "not-a-token"); err == nil {
		t.Fatal("an empty store took a malformed admin token")
	}
	if _, created, err := c.Identity.Bootstrap(ctx, ""); err != nil || !created {
		t.Fatalf("bootstrap: created %v, %v", created, err)
	}
	if tok, created, err := c.Identity.Bootstrap(ctx, "not-a-token"); err != nil || created || tok != "" {
		t.Fatalf("a malformed admin token on a store with users: %q, created %v, %v; want it ignored", tok, created, err)
	}
}

// A word that names no subcommand of a group is a usage error, not the
// group's help with exit 0 (which a script's typo would take for success).
func TestUnknownSubcommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"admin", "group", "add", "readers", "bob"}, `unknown command "add" for "strata admin group"; did you mean "add-user"?`},
		{[]string{"admin", "grup"}, `did you mean "group"?`},
		{[]string{"trash", "lst"}, `unknown command "lst" for "strata trash"`},
	} {
		r := run(t, map[string]string{}, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("strata %s: %s\nwant exit 2 and %q", strings.Join(tc.args, " "), r, tc.want)
		}
	}
	// With no word at all a group still shows its help.
	if r := run(t, map[string]string{}, "admin", "group"); r.code != 0 || !strings.Contains(r.stdout, "add-user") {
		t.Errorf("strata admin group: %s", r)
	}
}
