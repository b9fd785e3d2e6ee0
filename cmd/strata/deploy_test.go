package main

// The deployment files (deploy/, Dockerfile) are run by these tests the way
// systemd, a container engine, nginx and Caddy would run them, so that they
// cannot drift from what strata serve accepts.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// repoFile is the path of a file of the repository (the tests run in
// cmd/strata).
func repoFile(rel string) string { return filepath.Join("..", "..", filepath.FromSlash(rel)) }

// unitFile is a systemd unit: "Section.Key" to its values, in order.
type unitFile map[string][]string

func parseUnit(t *testing.T, path string) unitFile {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	u := unitFile{}
	section := ""
	for i, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
		case strings.HasSuffix(line, `\`):
			t.Fatalf("%s:%d: continued lines are not understood by this test", path, i+1)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s:%d: not key=value: %q", path, i+1, line)
			}
			u[section+"."+strings.TrimSpace(k)] = append(u[section+"."+strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return u
}

// one is the single value of key.
func (u unitFile) one(t *testing.T, key string) string {
	t.Helper()
	if len(u[key]) != 1 {
		t.Fatalf("unit: want one %s, have %q", key, u[key])
	}
	return u[key][0]
}

// envFile reads KEY=VALUE lines (systemd's EnvironmentFile, without quoting).
// With commented, lines commented out as examples ("#KEY=VALUE") count too.
func envFile(t *testing.T, path string, commented bool) [][2]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kv [][2]string
	setting := regexp.MustCompile(`^(#?)([A-Z][A-Z0-9_]*)=(.*)$`)
	for _, line := range strings.Split(string(raw), "\n") {
		m := setting.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil || m[1] == "#" && !commented {
			continue
		}
		if strings.ContainsAny(m[3], `"'\`) {
			t.Fatalf("%s: %s: quotes and escapes are not understood by this test", path, line)
		}
		kv = append(kv, [2]string{m[2], m[3]})
	}
	return kv
}

// expand replaces ${VAR} and $VAR in word as systemd does in ExecStart.
func expand(t *testing.T, word string, env map[string]string) string {
	t.Helper()
	return os.Expand(word, func(k string) string {
		v, ok := env[k]
		if !ok {
			t.Fatalf("ExecStart uses $%s, which the service's environment lacks", k)
		}
		return v
	})
}

// requireServeFlags checks that every STRATA_<FLAG> setting names a flag of
// strata serve and that its value parses: strata parses the flags before it
// looks at --help.
func requireServeFlags(t *testing.T, from string, settings [][2]string) {
	t.Helper()
	args := []string{"serve"}
	for _, kv := range settings {
		name, ok := strings.CutPrefix(kv[0], "STRATA_")
		if !ok || name == "ADMIN_TOKEN" || name == "CONFIG" {
			continue // not flags: read from the environment only
		}
		args = append(args, "--"+strings.ToLower(strings.ReplaceAll(name, "_", "-"))+"="+kv[1])
	}
	r := runCLI(t, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, t.TempDir(), nil, append(args, "--help")...)
	if r.code != 0 {
		t.Fatalf("%s sets what strata serve does not take: %s", from, r.stderr)
	}
}

// portZero is addr (host:port) with port 0: the tests never take a fixed port.
func portZero(t *testing.T, addr string) string {
	t.Helper()
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("listen address %q: %v", addr, err)
	}
	return net.JoinHostPort(host, "0")
}

// stopWith sends sig to the server as its supervisor would and requires a
// clean exit within limit.
func stopWith(t *testing.T, s *serverProc, sig syscall.Signal, limit time.Duration) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("strata serve exited with %v on %v:\n%s", err, sig, s.out)
		}
	case <-time.After(limit):
		_ = s.cmd.Process.Kill()
		t.Fatalf("strata serve did not stop within %v of %v", limit, sig)
	}
}

const unitPath = "deploy/systemd/strata.service"

// TestSystemdUnitVerifies: systemd itself accepts the unit, every directive
// and value of it.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian: apt-get install systemd): the unit is not verified")
	}
	raw, err := os.ReadFile(repoFile(unitPath))
	if err != nil {
		t.Fatal(err)
	}
	// verify requires the program to exist: the one just built stands in
	// for /usr/local/bin/strata.
	text := strings.Replace(string(raw), "ExecStart=/usr/local/bin/strata ", "ExecStart="+binary+" ", 1)
	if text == string(raw) {
		t.Fatal("ExecStart does not run /usr/local/bin/strata, where README installs it")
	}
	unit := filepath.Join(t.TempDir(), "strata.service")
	writeFile(t, unit, []byte(text))
	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	// verify exits 0 on unknown keys and values: what it says about the
	// unit counts too (lines about other units of this machine do not).
	var about []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "strata.service") {
			about = append(about, line)
		}
	}
	if err != nil || len(about) > 0 {
		t.Fatalf("systemd-analyze verify %s: %v\n%s", unitPath, err, out)
	}
}

// TestSystemdUnitRuns runs the unit's ExecStart with the environment systemd
// gives it (its StateDirectory, the example environment file), and stops it
// with its KillSignal within its TimeoutStopSec.
func TestSystemdUnitRuns(t *testing.T) {
	u := parseUnit(t, repoFile(unitPath))
	if got := u.one(t, "Service.StateDirectory"); got != "strata" {
		t.Fatalf("StateDirectory=%s: README says the data is in /var/lib/strata", got)
	}
	envPath := strings.TrimPrefix(u.one(t, "Service.EnvironmentFile"), "-")
	if envPath != "/etc/strata/strata.env" {
		t.Fatalf("EnvironmentFile=%s: README installs deploy/systemd/strata.env as /etc/strata/strata.env", envPath)
	}
	settings := envFile(t, repoFile("deploy/systemd/strata.env"), false)
	requireServeFlags(t, "deploy/systemd/strata.env", envFile(t, repoFile("deploy/systemd/strata.env"), true))

	state := filepath.Join(t.TempDir(), "strata")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": t.TempDir(), "STATE_DIRECTORY": state,
		"STRATA_ADMIN_TOKEN": adminToken,
	}
	for _, kv := range settings {
		env[kv[0]] = kv[1]
		if kv[0] == "STRATA_LISTEN" {
			env[kv[0]] = portZero(t, kv[1])
		}
	}
	exe := u.one(t, "Service.ExecStart")
	if strings.ContainsAny(exe, `"'\;`) {
		t.Fatalf("ExecStart=%s: quoting is not understood by this test", exe)
	}
	words := strings.Fields(exe)
	if words[0] != "/usr/local/bin/strata" {
		t.Fatalf("ExecStart runs %s; README installs strata as /usr/local/bin/strata", words[0])
	}
	var args []string
	for _, w := range words[1:] {
		args = append(args, expand(t, w, env))
	}
	cmd := exec.Command(binary, args...)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	s := startServerCmd(t, cmd, state)

	user := newUser(t, s, adminToken)
	user.run(0, "mkdir", "service")
	for _, name := range []string{"meta.db", "keyring.json", "blobs"} {
		if _, err := os.Stat(filepath.Join(state, name)); err != nil {
			t.Fatalf("the data is not in the StateDirectory: %v", err)
		}
	}

	sig := syscall.SIGTERM
	if v := u["Service.KillSignal"]; len(v) == 1 && v[0] != "SIGTERM" {
		t.Fatalf("KillSignal=%s: strata stops gracefully on SIGTERM", v[0])
	}
	limit, err := time.ParseDuration(u.one(t, "Service.TimeoutStopSec"))
	if err != nil {
		t.Fatalf("TimeoutStopSec: %v", err)
	}
	stopWith(t, s, sig, limit)
}

// dockerfile is the instructions of a Dockerfile's final stage.
type dockerfile struct {
	env                  map[string]string
	user, expose, volume string
	entrypoint, cmd      []string
	stopSignal           string
}

func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d dockerfile
	joined := strings.ReplaceAll(string(raw), "\\\n", " ")
	for _, line := range strings.Split(joined, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		rest = strings.TrimSpace(rest)
		switch strings.ToUpper(instr) {
		case "FROM":
			d = dockerfile{env: map[string]string{}} // a new stage
		case "ENV":
			for _, f := range strings.Fields(rest) {
				k, v, ok := strings.Cut(f, "=")
				if !ok || strings.ContainsAny(v, `"'$`) {
					t.Fatalf("ENV %s: only unquoted KEY=VALUE is understood by this test", rest)
				}
				d.env[k] = v
			}
		case "USER":
			d.user = rest
		case "EXPOSE":
			d.expose = rest
		case "VOLUME":
			d.volume = rest
		case "STOPSIGNAL":
			d.stopSignal = rest
		case "ENTRYPOINT", "CMD":
			words := regexp.MustCompile(`"([^"]*)"`).FindAllStringSubmatch(rest, -1)
			if !strings.HasPrefix(rest, "[") || len(words) == 0 {
				t.Fatalf("%s %s: want the exec (JSON) form", instr, rest)
			}
			var list []string
			for _, w := range words {
				list = append(list, w[1])
			}
			if strings.ToUpper(instr) == "CMD" {
				d.cmd = list
			} else {
				d.entrypoint = list
			}
		}
	}
	return d
}

// TestDockerfileRuns runs the image's command with the image's environment,
// as a container engine would, and stops it as docker stop does.
func TestDockerfileRuns(t *testing.T) {
	d := parseDockerfile(t, repoFile("Dockerfile"))
	if d.user == "" || d.user == "root" || strings.HasPrefix(d.user, "0:") || d.user == "0" {
		t.Fatalf("USER %q: the image must not run as root", d.user)
	}
	var settings [][2]string
	for k, v := range d.env {
		settings = append(settings, [2]string{k, v})
	}
	requireServeFlags(t, "the Dockerfile's ENV", settings)
	_, port, err := net.SplitHostPort(d.env["STRATA_LISTEN"])
	if err != nil || d.expose != port {
		t.Fatalf("EXPOSE %s but STRATA_LISTEN=%s", d.expose, d.env["STRATA_LISTEN"])
	}
	if d.volume != d.env["STRATA_DATA"] {
		t.Fatalf("VOLUME %s but STRATA_DATA=%s", d.volume, d.env["STRATA_DATA"])
	}
	// provisioning/templates/service.json runs the image with EntryPoint
	// ["strata"] and its own Command: strata must be the entrypoint, on PATH.
	args := append(append([]string{}, d.entrypoint...), d.cmd...)
	if len(args) < 2 || args[0] != "strata" || args[1] != "serve" {
		t.Fatalf("ENTRYPOINT and CMD run %q, want strata serve", args)
	}
	data := t.TempDir()
	env := map[string]string{"STRATA_ADMIN_TOKEN": adminToken}
	for k, v := range d.env {
		env[k] = v
	}
	env["PATH"], env["HOME"] = os.Getenv("PATH"), data
	env["STRATA_DATA"] = data // the volume
	env["STRATA_LISTEN"] = portZero(t, d.env["STRATA_LISTEN"])
	cmd := exec.Command(binary, args[1:]...)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	s := startServerCmd(t, cmd, data)
	// Listening on every address, it answers on loopback.
	s.addr = strings.Replace(s.addr, "://0.0.0.0:", "://127.0.0.1:", 1)
	newUser(t, s, adminToken).run(0, "mkdir", "container")
	if d.stopSignal != "" && d.stopSignal != "SIGTERM" {
		t.Fatalf("STOPSIGNAL %s: strata stops gracefully on SIGTERM", d.stopSignal)
	}
	stopWith(t, s, syscall.SIGTERM, 40*time.Second)
}

// TestBackupRestore follows README's backup and restore: stop the server,
// archive the data directory with tar, start it again; later, extract the
// archive into a fresh place and serve it. Everything comes back as it was
// when the backup was taken, users and tokens included.
func TestBackupRestore(t *testing.T) {
	parent := t.TempDir()
	data := filepath.Join(parent, "strata")
	s := startServer(t, data)
	admin := newUser(t, s, adminToken)
	out := admin.run(0, "admin", "user", "add", "bob").stdout
	bobToken := regexp.MustCompile(`strata_[A-Za-z0-9]+`).FindString(out)
	if bobToken == "" {
		t.Fatalf("no token in %q", out)
	}
	files := map[string][]byte{
		"small.txt":   []byte("kept\n"),
		"sub/big.bin": randomBytes(11<<20+5, 7), // several parts
		"gone.txt":    []byte("deleted after the backup"),
	}
	for name, b := range files {
		writeFile(t, filepath.Join(admin.dir, name), b)
		admin.run(0, "put", "--part-size", "5242880", filepath.Join(admin.dir, name), "docs/"+name)
	}
	writeFile(t, filepath.Join(admin.dir, "bobs"), []byte("bob's own"))
	newUser(t, s, bobToken).run(0, "put", filepath.Join(admin.dir, "bobs"), "notes.txt")

	// Back up: stop, archive, start.
	if err := s.stop(); err != nil {
		t.Fatalf("stop: %v\n%s", err, s.out)
	}
	archive := filepath.Join(t.TempDir(), "strata-backup.tar")
	if out, err := exec.Command("tar", "-C", parent, "-cf", archive, "strata").CombinedOutput(); err != nil {
		t.Fatalf("tar -c: %v\n%s", err, out)
	}
	s = startServer(t, data)
	admin = newUser(t, s, adminToken)
	writeFile(t, filepath.Join(admin.dir, "new"), []byte("written after the backup"))
	admin.run(0, "put", filepath.Join(admin.dir, "new"), "docs/small.txt")
	admin.run(0, "rm", "docs/gone.txt")
	admin.run(0, "trash", "empty", "--yes")
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	// Restore into a fresh place.
	restored := t.TempDir()
	if out, err := exec.Command("tar", "-C", restored, "-xpf", archive).CombinedOutput(); err != nil {
		t.Fatalf("tar -x: %v\n%s", err, out)
	}
	s = startServer(t, filepath.Join(restored, "strata"))
	admin = newUser(t, s, adminToken)
	for name, want := range files {
		got := admin.run(0, "cat", "docs/"+name).stdout
		if sha256.Sum256([]byte(got)) != sha256.Sum256(want) {
			t.Fatalf("%s: restored %d bytes, backed up %d", name, len(got), len(want))
		}
	}
	if got := newUser(t, s, bobToken).run(0, "cat", "notes.txt").stdout; got != "bob's own" {
		t.Fatalf("bob's file: %q", got)
	}
}

// proxyCase is what a proxy test starts from: the proxy's program, a strata
// serve to put behind it, a test certificate, and the proxy's configuration
// from the repository, which the test adapts to them.
type proxyCase struct {
	tool, dir         string
	certFile, keyFile string
	server            *serverProc
	upstream          string // host:port of the server
	conf, text        string // the configuration's path and adapted text
}

func newProxyCase(t *testing.T, tool, conf string) *proxyCase {
	t.Helper()
	path := lookTool(tool)
	if path == "" {
		t.Skipf("%s is not installed (Debian: apt-get install %s): %s is not tested", tool, tool, conf)
	}
	p := &proxyCase{tool: path, dir: t.TempDir(), conf: conf}
	p.certFile, p.keyFile = selfSigned(t, p.dir)
	p.server = startServer(t, t.TempDir())
	p.upstream = strings.TrimPrefix(p.server.addr, "http://")
	raw, err := os.ReadFile(repoFile(conf))
	if err != nil {
		t.Fatal(err)
	}
	p.text = string(raw)
	return p
}

// replace replaces old (a regexp) in the configuration, which must hold it.
func (p *proxyCase) replace(t *testing.T, old, new string) {
	t.Helper()
	re := regexp.MustCompile(old)
	if !re.MatchString(p.text) {
		t.Fatalf("%s no longer has %s: update this test with it", p.conf, old)
	}
	p.text = re.ReplaceAllString(p.text, new)
}

// throughProxy uses strata through the proxy: bodies bigger than any
// default limit, in several parts, both ways, streamed.
func throughProxy(t *testing.T, p *proxyCase, addr string) {
	t.Helper()
	u := newUser(t, p.server, adminToken)
	for i, e := range u.env {
		if strings.HasPrefix(e, "STRATA_SERVER=") {
			u.env[i] = "STRATA_SERVER=" + addr
		}
	}
	u.env = append(u.env, "SSL_CERT_FILE="+p.certFile)
	files := map[string][]byte{"one.bin": randomBytes(3<<20+1, 11), "parts.bin": randomBytes(12<<20+3, 12)}
	for name, b := range files {
		writeFile(t, filepath.Join(u.dir, name), b)
		u.run(0, "put", "--part-size", "5242880", filepath.Join(u.dir, name), "proxied/")
	}
	for name, want := range files {
		u.run(0, "get", "proxied/"+name, filepath.Join(u.dir, "back-"+name))
		got, err := os.ReadFile(filepath.Join(u.dir, "back-"+name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s through the proxy: %v (%d of %d bytes)", name, err, len(got), len(want))
		}
		if got := u.run(0, "cat", "proxied/"+name).stdout; got != string(want) {
			t.Fatalf("cat %s through the proxy: %d of %d bytes", name, len(got), len(want))
		}
	}
}

func lookTool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if p := "/usr/sbin/" + name; fileExists(p) {
		return p
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestNginxProxy runs deploy/nginx/strata.conf (with a test certificate and
// loopback ports) in front of strata: nginx -t accepts it, and uploads and
// downloads bigger than nginx's default body limit go through.
func TestNginxProxy(t *testing.T) {
	p := newProxyCase(t, "nginx", "deploy/nginx/strata.conf")
	tlsAddr, plainAddr := freeAddr(t), freeAddr(t)
	p.replace(t, `server 127\.0\.0\.1:8420;`, "server "+p.upstream+";")
	p.replace(t, `listen 443 ssl;`, "listen "+tlsAddr+" ssl;")
	p.replace(t, `listen 80;`, "listen "+plainAddr+";")
	p.replace(t, `\n\s*listen \[::\]:\d+( ssl)?;`, "")
	p.replace(t, `ssl_certificate\s+\S+;`, "ssl_certificate "+p.certFile+";")
	p.replace(t, `ssl_certificate_key\s+\S+;`, "ssl_certificate_key "+p.keyFile+";")
	dir := p.dir
	site := filepath.Join(dir, "strata.conf")
	writeFile(t, site, []byte(p.text))
	mainConf := filepath.Join(dir, "nginx.conf")
	writeFile(t, mainConf, []byte(`daemon off;
pid `+dir+`/nginx.pid;
error_log stderr notice;
events {}
http {
    access_log off;
    client_body_temp_path `+dir+`/body;
    proxy_temp_path `+dir+`/proxy;
    fastcgi_temp_path `+dir+`/fastcgi;
    uwsgi_temp_path `+dir+`/uwsgi;
    scgi_temp_path `+dir+`/scgi;
    include `+site+`;
}
`))
	if out, err := exec.Command(p.tool, "-t", "-q", "-p", dir, "-c", mainConf).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	// nginx has opened its ports when it starts its workers.
	startProxy(t, exec.Command(p.tool, "-p", dir, "-c", mainConf), "start worker processes")
	throughProxy(t, p, "https://"+tlsAddr)
}

// freeAddr is a loopback address with a port that was free a moment ago
// (nginx 1.22 in single-process mode and Caddy 2.6 take no listening
// socket from their parent).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startProxy starts cmd, a proxy, and waits until it logs ready on its
// standard error; it is stopped with SIGTERM when the test ends.
func startProxy(t *testing.T, cmd *exec.Cmd, ready string) {
	t.Helper()
	name := filepath.Base(cmd.Path)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	readyc := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		said := false
		for sc.Scan() {
			out.Write(append(sc.Bytes(), '\n'))
			if !said && strings.Contains(sc.Text(), ready) {
				said = true
				readyc <- true
			}
		}
		if !said {
			readyc <- false
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s said:\n%s", name, out.String())
		}
	})
	select {
	case ok := <-readyc:
		if !ok {
			t.Fatalf("%s stopped:\n%s", name, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not start:\n%s", name, out.String())
	}
}

// TestCaddyProxy runs deploy/caddy/Caddyfile (with a test certificate and a
// loopback port) in front of strata.
func TestCaddyProxy(t *testing.T) {
	p := newProxyCase(t, "caddy", "deploy/caddy/Caddyfile")
	addr := freeAddr(t)
	p.replace(t, `reverse_proxy 127\.0\.0\.1:8420`, "reverse_proxy "+p.upstream)
	p.replace(t, `(?m)^strata\.example\.com \{`, "https://"+addr+" {\n\ttls "+p.certFile+" "+p.keyFile)
	// No admin endpoint, no port 80, no trust store changes: this is a test.
	caddyfile := filepath.Join(p.dir, "Caddyfile")
	writeFile(t, caddyfile, []byte("{\n\tadmin off\n\tauto_https disable_redirects\n\tskip_install_trust\n}\n"+p.text))
	cmd := exec.Command(p.tool, "run", "--adapter", "caddyfile", "--config", caddyfile)
	cmd.Env = []string{"HOME=" + p.dir, "XDG_DATA_HOME=" + p.dir, "XDG_CONFIG_HOME=" + p.dir, "PATH=" + os.Getenv("PATH")}
	startProxy(t, cmd, "serving initial configuration")
	throughProxy(t, p, "https://"+addr)
}
