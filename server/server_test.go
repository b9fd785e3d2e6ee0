package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
)

type fixture struct {
	t     *testing.T
	srv   *httptest.Server
	b     *backend.Backend
	ids   *identity.Service
	admin string // token
	fault *faultBlobs
	conns *connWatch
}

// connWatch tells when the server is done with a connection: its last
// handler has returned and it closed the connection.
type connWatch struct {
	mu     sync.Mutex
	closed map[string]chan struct{} // by the client's address
}

func (w *connWatch) ch(addr string) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed == nil {
		w.closed = map[string]chan struct{}{}
	}
	if w.closed[addr] == nil {
		w.closed[addr] = make(chan struct{})
	}
	return w.closed[addr]
}

func (w *connWatch) state(c net.Conn, s http.ConnState) {
	if s == http.StateClosed || s == http.StateHijacked {
		close(w.ch(c.RemoteAddr().String()))
	}
}

// waitClosed waits until the server has closed the connection from local.
func (w *connWatch) waitClosed(t *testing.T, local net.Addr) {
	t.Helper()
	select {
	case <-w.ch(local.String()):
	case <-time.After(10 * time.Second):
		t.Fatal("the server never let go of the connection")
	}
}

func newFixture(t *testing.T, cfg server.Config) *fixture {
	t.Helper()
	return newFixtureCore(t, cfg, backend.Config{}, nil)
}

// newFixtureWith is newFixture that hands the server to see.
func newFixtureWith(t *testing.T, cfg server.Config, see func(*server.Server)) *fixture {
	t.Helper()
	return newFixtureCore(t, cfg, backend.Config{}, see)
}

// newFixtureCore is newFixture with the core's settings in bc (its
// engines are the fixture's), handing the server to see if set.
func newFixtureCore(t *testing.T, cfg server.Config, bc backend.Config, see func(*server.Server)) *fixture {
	t.Helper()
	eng, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	fb := &faultBlobs{Store: eng.Blobs}
	bc.Blobs, bc.Meta, bc.Keys = fb, eng.Meta, eng.Keys
	c, err := daemon.NewCore(bc, daemon.WithPasswordCost(identity.PasswordCost{MemoryKiB: 1024, Passes: 1}))
	if err != nil {
		t.Fatal(err)
	}
	// Background work (purges) ends before the engines close and the
	// temporary directory goes.
	t.Cleanup(func() { _ = c.Files.Drain(context.Background()) })
	b := c.Files
	tok, _, err := c.Identity.Bootstrap(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	s := server.NewServer(server.Deps{Files: c.Files, Identity: c.Identity, Audit: c.Audit}, cfg)
	if see != nil {
		see(s)
	}
	srv := httptest.NewUnstartedServer(s)
	cw := &connWatch{}
	srv.Config.ConnState = cw.state
	srv.Start()
	t.Cleanup(srv.Close)
	return &fixture{t: t, srv: srv, b: b, ids: c.Identity, admin: tok, fault: fb, conns: cw}
}

// faultBlobs makes the blob store report a full disk on demand.
type faultBlobs struct {
	blob.Store
	full bool
	// failAfter, if set, fails every read of a blob after that many bytes.
	failAfter int64
}

var errDiskGone = errors.New("disk gone")

func (f *faultBlobs) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := f.Store.Get(ctx, key, off, n)
	if err != nil || f.failAfter == 0 {
		return rc, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(io.LimitReader(rc, f.failAfter), iotest.ErrReader(errDiskGone)), rc}, nil
}

func (f *faultBlobs) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	if f.full {
		_, _ = io.CopyN(io.Discard, r, 4096)
		return fmt.Errorf("write: %w", blob.ErrNoSpace)
	}
	return f.Store.Put(ctx, key, r, size)
}

// do sends a raw request. path is used verbatim (already escaped); each
// header pair is added, so a header may be given twice.
func (f *fixture) do(method, path, token string, body io.Reader, hdr ...string) *http.Response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+"/", body)
	if err != nil {
		f.t.Fatal(err)
	}
	// Keep the path exactly as written, percent-encoding and dots included.
	req.URL.Opaque = path
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// problem asserts a problem+json answer with status and code.
func problem(t *testing.T, resp *http.Response, status int, code string) api.Problem {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q: %s", ct, body)
	}
	var p api.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Code != code || p.Status != status || p.RequestID == "" || p.RequestID != resp.Header.Get(api.HeaderRequestID) {
		t.Fatalf("problem %+v, want code %s", p, code)
	}
	return p
}

func ok(t *testing.T, resp *http.Response, status int) []byte {
	t.Helper()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, status, body)
	}
	return body
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return api.FormatSHA256(s[:])
}

func TestPutGetHTTP(t *testing.T) {
	f := newFixture(t, server.Config{})
	content := bytes.Repeat([]byte("0123456789"), 30_000)
	resp := f.do("PUT", "/v1/files/home/admin/a%20b/%C3%A9t%C3%A9.txt", f.admin, bytes.NewReader(content), api.HeaderContentDigest, digest(content))
	var e api.Entry
	_ = json.Unmarshal(ok(t, resp, http.StatusCreated), &e)
	if e.Path != "/home/admin/a b/été.txt" || e.Size != int64(len(content)) || e.Version != 1 {
		t.Fatalf("entry %+v", e)
	}
	etag := resp.Header.Get("ETag")
	sum := sha256.Sum256(content)
	if etag != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Fatalf("etag %q", etag)
	}

	get := f.do("GET", "/v1/files/home/admin/a%20b/%C3%A9t%C3%A9.txt", f.admin, nil)
	body := ok(t, get, http.StatusOK)
	if !bytes.Equal(body, content) || get.Header.Get("ETag") != etag || get.Header.Get(api.HeaderContentDigest) != digest(content) ||
		get.Header.Get("Accept-Ranges") != "bytes" || get.Header.Get("Content-Length") != fmt.Sprint(len(content)) {
		t.Fatalf("GET headers %v", get.Header)
	}
	// Conditional GET.
	nm := f.do("GET", "/v1/files/home/admin/a%20b/%C3%A9t%C3%A9.txt", f.admin, nil, "If-None-Match", etag)
	ok(t, nm, http.StatusNotModified)
	// HEAD: headers, no body.
	head := f.do("HEAD", "/v1/files/home/admin/a%20b/%C3%A9t%C3%A9.txt", f.admin, nil)
	if b := ok(t, head, http.StatusOK); len(b) != 0 || head.Header.Get("Content-Length") != fmt.Sprint(len(content)) {
		t.Fatalf("HEAD %v", head.Header)
	}
	// Ranges.
	for _, c := range []struct {
		rng       string
		from, len int
	}{{"bytes=0-0", 0, 1}, {"bytes=10-19", 10, 10}, {"bytes=-5", len(content) - 5, 5}, {"bytes=299990-", 299990, 10}, {"bytes=299990-999999", 299990, 10}} {
		r := f.do("GET", "/v1/files/home/admin/a%20b/%C3%A9t%C3%A9.txt", f.admin, nil, "Range", c.rng)
		b := ok(t, r, http.StatusPartialContent)
		want := fmt.Sprintf("bytes %d-%d/%d", c.from, c.from+c.len-1, len(content))
		if !bytes.Equal(b, content[c.from:c.from+c.len]) || r.Header.Get("Content-Range") != want || r.Header.Get(api.HeaderReprDigest) != digest(content) {
			t.Fatalf("%s: Content-Range %q, %d bytes", c.rng, r.Header.Get("Content-Range"), len(b))
		}
	}
	// If-Range with a stale tag gives the whole file.
	r := f.do("GET", "/v1/files/home/admin/a%20b/%C3%A9t%C3%A9.txt", f.admin, nil, "Range", "bytes=0-9", "If-Range", `"stale"`)
	if b := ok(t, r, http.StatusOK); len(b) != len(content) {
		t.Fatal("If-Range ignored")
	}
}

func TestBadPaths(t *testing.T) {
	f := newFixture(t, server.Config{})
	long := strings.Repeat("x", 256)
	deep := strings.Repeat("/"+strings.Repeat("y", 200), 21)
	for _, path := range []string{
		"/v1/files/home/admin/../admin/x",
		"/v1/files/home/admin/./x",
		"/v1/files/home//admin/x",
		"/v1/files/home/admin/%2e%2e/x",
		"/v1/files/home/admin/%2E%2E/%2e%2e/etc/passwd",
		"/v1/files/home/admin/a%2Fb",
		"/v1/files/home/admin/a%00b",
		"/v1/files/home/admin/a%0Ab",
		"/v1/files/home/admin/a%7Fb",
		"/v1/files/home/admin/%FF%FE",
		"/v1/files/home/admin/" + long,
		"/v1/files/home/admin" + deep,
	} {
		for _, m := range []string{"PUT", "GET", "DELETE"} {
			resp := f.do(m, path, f.admin, strings.NewReader("x"))
			problem(t, resp, http.StatusBadRequest, api.CodeInvalidPath)
		}
	}
	resp := f.do("GET", "/v1/dirs/home/%2e%2e", f.admin, nil)
	problem(t, resp, http.StatusBadRequest, api.CodeInvalidPath)
	// A malformed escape never reaches the handler: net/http refuses the
	// request line itself, with a plain 400.
	if resp := f.do("GET", "/v1/files/home/admin/%zz", f.admin, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("malformed escape: status %d", resp.StatusCode)
	}
}

func TestBadRanges(t *testing.T) {
	f := newFixture(t, server.Config{})
	ok(t, f.do("PUT", "/v1/files/home/admin/f", f.admin, strings.NewReader("0123456789")), http.StatusCreated)
	for _, rng := range []string{"bytes=10-", "bytes=20-30", "bytes=-0", "bytes=5-2", "bytes=a-b", "bytes=0-1,4-5", "lines=1-2", "bytes=", "bytes=--1"} {
		resp := f.do("GET", "/v1/files/home/admin/f", f.admin, nil, "Range", rng)
		problem(t, resp, http.StatusRequestedRangeNotSatisfiable, api.CodeInvalidRange)
		if resp.Header.Get("Content-Range") != "bytes */10" {
			t.Fatalf("%s: Content-Range %q", rng, resp.Header.Get("Content-Range"))
		}
	}
}

func TestBadBodies(t *testing.T) {
	f := newFixture(t, server.Config{})
	ok(t, f.do("PUT", "/v1/files/home/admin/f", f.admin, strings.NewReader("original")), http.StatusCreated)

	problem(t, f.do("PUT", "/v1/files/home/admin/f", f.admin, strings.NewReader("changed"), api.HeaderContentDigest, digest([]byte("other"))),
		http.StatusBadRequest, api.CodeDigestMismatch)
	problem(t, f.do("PUT", "/v1/files/home/admin/f", f.admin, strings.NewReader("x"), api.HeaderContentDigest, "sha-256=:nonsense:"),
		http.StatusBadRequest, api.CodeInvalidRequest)
	if b := ok(t, f.do("GET", "/v1/files/home/admin/f", f.admin, nil), http.StatusOK); string(b) != "original" {
		t.Fatalf("current content %q", b)
	}
	// Oversized and malformed JSON.
	big := `{"from":"` + strings.Repeat("a", 2<<20) + `"}`
	problem(t, f.do("POST", "/v1/move", f.admin, strings.NewReader(big), "Content-Type", "application/json"), http.StatusRequestEntityTooLarge, api.CodeTooLarge)
	problem(t, f.do("POST", "/v1/move", f.admin, strings.NewReader(`{"from":`), "Content-Type", "application/json"), http.StatusBadRequest, api.CodeInvalidJSON)
	problem(t, f.do("POST", "/v1/move", f.admin, strings.NewReader(`{"frm":"/a","to":"/b"}`)), http.StatusBadRequest, api.CodeInvalidJSON)
	problem(t, f.do("POST", "/v1/move", f.admin, strings.NewReader(`{"from":"/a","to":"/b"} {}`)), http.StatusBadRequest, api.CodeInvalidJSON)
	problem(t, f.do("POST", "/v1/move", f.admin, strings.NewReader(`{"from":"a/../b","to":"/b"}`)), http.StatusBadRequest, api.CodeInvalidPath)
	problem(t, f.do("GET", "/v1/dirs/home?limit=0", f.admin, nil), http.StatusBadRequest, api.CodeInvalidRequest)
	problem(t, f.do("GET", "/v1/dirs/home?cursor=%25%25", f.admin, nil), http.StatusBadRequest, api.CodeInvalidRequest)
}

func TestKindsAndFullDisk(t *testing.T) {
	f := newFixture(t, server.Config{})
	ok(t, f.do("PUT", "/v1/files/home/admin/file", f.admin, strings.NewReader("x")), http.StatusCreated)
	ok(t, f.do("PUT", "/v1/dirs/home/admin/dir", f.admin, nil), http.StatusCreated)
	problem(t, f.do("PUT", "/v1/files/home/admin/dir", f.admin, strings.NewReader("x")), http.StatusConflict, api.CodeIsDir)
	problem(t, f.do("GET", "/v1/files/home/admin/dir", f.admin, nil), http.StatusConflict, api.CodeIsDir)
	problem(t, f.do("PUT", "/v1/files/home/admin/file/x", f.admin, strings.NewReader("x")), http.StatusConflict, api.CodeNotDir)
	problem(t, f.do("GET", "/v1/dirs/home/admin/file", f.admin, nil), http.StatusConflict, api.CodeNotDir)
	problem(t, f.do("GET", "/v1/files/home/admin/none", f.admin, nil), http.StatusNotFound, api.CodeNotFound)

	f.fault.full = true
	problem(t, f.do("PUT", "/v1/files/home/admin/file", f.admin, strings.NewReader(strings.Repeat("y", 100_000))), http.StatusInsufficientStorage, api.CodeNoSpace)
	f.fault.full = false
	if b := ok(t, f.do("GET", "/v1/files/home/admin/file", f.admin, nil), http.StatusOK); string(b) != "x" {
		t.Fatalf("content after a full disk: %q", b)
	}
}

func TestAuth(t *testing.T) {
	f := newFixture(t, server.Config{})
	problem(t, f.do("GET", "/v1/whoami", "", nil), http.StatusUnauthorized, api.CodeUnauthorized)
	for _, tok := range []string{"nonsense", "strata_short", "strata_" + strings.Repeat("A", 40), f.admin + "x"} {
		resp := f.do("GET", "/v1/whoami", tok, nil)
		problem(t, resp, http.StatusUnauthorized, api.CodeUnauthorized)
		if resp.Header.Get("WWW-Authenticate") == "" {
			t.Fatal("no WWW-Authenticate")
		}
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/v1/whoami", nil)
	req.Header.Set("Authorization", "Basic YWRtaW46eA==")
	resp, _ := http.DefaultClient.Do(req)
	problem(t, resp, http.StatusUnauthorized, api.CodeUnauthorized)

	// A revoked token stops working at once.
	var tok api.Token
	_ = json.Unmarshal(ok(t, f.do("POST", "/v1/tokens", f.admin, strings.NewReader(`{"name":"tmp"}`)), http.StatusCreated), &tok)
	ok(t, f.do("GET", "/v1/whoami", tok.Secret, nil), http.StatusOK)
	ok(t, f.do("DELETE", "/v1/tokens/"+tok.ID, f.admin, nil), http.StatusNoContent)
	problem(t, f.do("GET", "/v1/whoami", tok.Secret, nil), http.StatusUnauthorized, api.CodeUnauthorized)

	// Public routes answer without a token.
	ok(t, f.do("GET", "/healthz", "", nil), http.StatusOK)
	ok(t, f.do("GET", "/readyz", "", nil), http.StatusOK)
	problem(t, f.do("GET", "/metrics", "", nil), http.StatusNotFound, api.CodeRouteNotFound) // not public
	problem(t, f.do("POST", "/v1/files/x", f.admin, nil), http.StatusMethodNotAllowed, api.CodeMethodNotAllowed)
	problem(t, f.do("GET", "/v2/nothing", f.admin, nil), http.StatusNotFound, api.CodeRouteNotFound)
}

func TestOtherUsersFilesDoNotLeak(t *testing.T) {
	f := newFixture(t, server.Config{})
	var r api.CreateUserResult
	_ = json.Unmarshal(ok(t, f.do("POST", "/v1/users", f.admin, strings.NewReader(`{"name":"alice","token":true}`)), http.StatusCreated), &r)
	_ = json.Unmarshal(ok(t, f.do("POST", "/v1/users", f.admin, strings.NewReader(`{"name":"bob"}`)), http.StatusCreated), &api.CreateUserResult{})
	ok(t, f.do("PUT", "/v1/files/home/bob/diary.txt", f.admin, strings.NewReader("dear diary")), http.StatusCreated)
	alice := r.Token.Secret

	// An existing and a missing file of bob's look exactly alike to alice.
	var bodies []string
	for _, path := range []string{"/v1/files/home/bob/diary.txt", "/v1/files/home/bob/missing.txt"} {
		resp := f.do("GET", path, alice, nil)
		p := problem(t, resp, http.StatusForbidden, api.CodeForbidden)
		bodies = append(bodies, p.Title+strings.ReplaceAll(p.Detail, strings.TrimPrefix(path, "/v1/files"), "<path>"))
	}
	if bodies[0] != bodies[1] {
		t.Fatalf("answers differ: %q vs %q", bodies[0], bodies[1])
	}
	problem(t, f.do("GET", "/v1/dirs/home/bob", alice, nil), http.StatusForbidden, api.CodeForbidden)
	problem(t, f.do("GET", "/v1/dirs/home", alice, nil), http.StatusForbidden, api.CodeForbidden)
	problem(t, f.do("GET", "/v1/users", alice, nil), http.StatusForbidden, api.CodeForbidden)
	ok(t, f.do("PUT", "/v1/files/home/alice/mine", alice, strings.NewReader("ok")), http.StatusCreated)
}

// TestClientDisconnectMidUpload sends half a body over a raw connection and
// hangs up: nothing may become visible.
func TestClientDisconnectMidUpload(t *testing.T) {
	f := newFixture(t, server.Config{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT /v1/files/home/admin/partial HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 1000000\r\n\r\n", f.admin)
	_, _ = conn.Write(bytes.Repeat([]byte("z"), 400_000))
	conn.Close()
	// Once the server has closed its end, the handler is over: whatever
	// it left is what stays.
	f.conns.waitClosed(t, conn.LocalAddr())
	problem(t, f.do("GET", "/v1/stat/home/admin/partial", f.admin, nil), http.StatusNotFound, api.CodeNotFound)
	problem(t, f.do("GET", "/v1/files/home/admin/partial", f.admin, nil), http.StatusNotFound, api.CodeNotFound)
}

// TestStalledBodyIsDropped: a client that stops sending mid-body loses its
// connection after the idle timeout instead of holding it forever.
func TestStalledBodyIsDropped(t *testing.T) {
	f := newFixture(t, server.Config{BodyIdleTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /v1/files/home/admin/slow HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 1000\r\n\r\nabc", f.admin)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		// The server may answer before closing; either way it must not wait.
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Fatalf("status %d for a stalled upload", resp.StatusCode)
		}
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("connection held for %v", el)
	}
	ok(t, f.do("GET", "/v1/dirs/home/admin", f.admin, nil), http.StatusOK)
	problem(t, f.do("GET", "/v1/stat/home/admin/slow", f.admin, nil), http.StatusNotFound, api.CodeNotFound)
}

func TestUploadSessionHTTP(t *testing.T) {
	f := newFixture(t, server.Config{})
	size := 6 << 20
	content := bytes.Repeat([]byte{7}, size)
	var u api.Upload
	_ = json.Unmarshal(ok(t, f.do("POST", "/v1/uploads", f.admin, strings.NewReader(fmt.Sprintf(`{"path":"/home/admin/big","size":%d,"partSize":%d}`, size, 5<<20))), http.StatusCreated), &u)
	if u.Parts != 2 {
		t.Fatalf("%+v", u)
	}
	ok(t, f.do("PUT", "/v1/uploads/"+u.ID+"/parts/2", f.admin, bytes.NewReader(content[5<<20:])), http.StatusOK)
	var st api.Upload
	_ = json.Unmarshal(ok(t, f.do("GET", "/v1/uploads/"+u.ID, f.admin, nil), http.StatusOK), &st)
	if len(st.Received) != 1 || st.Received[0].N != 2 {
		t.Fatalf("status %+v", st)
	}
	problem(t, f.do("POST", "/v1/uploads/"+u.ID+"/complete", f.admin, nil), http.StatusBadRequest, api.CodeInvalidRequest)
	problem(t, f.do("PUT", "/v1/uploads/"+u.ID+"/parts/1", f.admin, bytes.NewReader(content[:100])), http.StatusBadRequest, api.CodeLengthMismatch)
	// A crc32c Content-Digest (RFC 9530: 4 big-endian bytes) is checked.
	crc := binary.BigEndian.AppendUint32(nil, crc32.Checksum(content[:5<<20], crc32.MakeTable(crc32.Castagnoli)))
	wrong := binary.BigEndian.AppendUint32(nil, binary.BigEndian.Uint32(crc)+1)
	problem(t, f.do("PUT", "/v1/uploads/"+u.ID+"/parts/1", f.admin, bytes.NewReader(content[:5<<20]),
		api.HeaderContentDigest, "crc32c=:"+base64.StdEncoding.EncodeToString(wrong)+":"), http.StatusBadRequest, api.CodeDigestMismatch)
	problem(t, f.do("PUT", "/v1/uploads/"+u.ID+"/parts/1", f.admin, bytes.NewReader(content[:5<<20]),
		api.HeaderContentDigest, "crc32c=:AAAA:"), http.StatusBadRequest, api.CodeInvalidRequest)
	var part api.UploadPart
	_ = json.Unmarshal(ok(t, f.do("PUT", "/v1/uploads/"+u.ID+"/parts/1", f.admin, bytes.NewReader(content[:5<<20]),
		api.HeaderContentDigest, "crc32c=:"+base64.StdEncoding.EncodeToString(crc)+":"), http.StatusOK), &part)
	if part.CRC32C != hex.EncodeToString(crc) || part.SHA256 != "" {
		t.Fatalf("part %+v, want crc32c %x and no sha256", part, crc)
	}
	sum := sha256.Sum256(content)
	var e api.Entry
	_ = json.Unmarshal(ok(t, f.do("POST", "/v1/uploads/"+u.ID+"/complete", f.admin, strings.NewReader(`{"sha256":"`+hex.EncodeToString(sum[:])+`"}`)), http.StatusCreated), &e)
	if e.Size != int64(size) {
		t.Fatalf("%+v", e)
	}
	if b := ok(t, f.do("GET", "/v1/files/home/admin/big", f.admin, nil), http.StatusOK); !bytes.Equal(b, content) {
		t.Fatal("content")
	}
	problem(t, f.do("GET", "/v1/uploads/"+u.ID, f.admin, nil), http.StatusNotFound, api.CodeNotFound)
}

// TestUploadClientDigestHTTP: a session opened with "clientDigest" in the
// uploader's own home says so, and its Complete is checked against every
// part's CRC-32C: a list of the wrong length is 400 invalid_request, a
// part's wrong 400 digest_mismatch (the session stays open), and with the
// right ones the file is committed with the client's SHA-256, saying whose.
func TestUploadClientDigestHTTP(t *testing.T) {
	f := newFixture(t, server.Config{})
	content := bytes.Repeat([]byte("strata"), 1<<20)
	ok(t, f.do("PUT", "/v1/files/home/admin/x", f.admin, strings.NewReader("x")), http.StatusCreated) // the home
	var u api.Upload
	_ = json.Unmarshal(ok(t, f.do("POST", "/v1/uploads", f.admin, strings.NewReader(fmt.Sprintf(`{"path":"/home/admin/cd","size":%d,"partSize":%d,"clientDigest":true}`, len(content), 5<<20))), http.StatusCreated), &u)
	if !u.ClientDigest || u.Parts != 2 {
		t.Fatalf("session %+v", u)
	}
	ok(t, f.do("PUT", "/v1/uploads/"+u.ID+"/parts/1", f.admin, bytes.NewReader(content[:5<<20])), http.StatusOK)
	ok(t, f.do("PUT", "/v1/uploads/"+u.ID+"/parts/2", f.admin, bytes.NewReader(content[5<<20:])), http.StatusOK)
	tab := crc32.MakeTable(crc32.Castagnoli)
	crc1, crc2 := fmt.Sprintf("%08x", crc32.Checksum(content[:5<<20], tab)), fmt.Sprintf("%08x", crc32.Checksum(content[5<<20:], tab))
	sum := sha256.Sum256(content)
	complete := func(body string) *http.Response {
		return f.do("POST", "/v1/uploads/"+u.ID+"/complete", f.admin, strings.NewReader(body))
	}
	problem(t, complete(`{"sha256":"`+hex.EncodeToString(sum[:])+`","partCrc32c":["`+crc1+`"]}`), http.StatusBadRequest, api.CodeInvalidRequest)
	problem(t, complete(`{"sha256":"`+hex.EncodeToString(sum[:])+`","partCrc32c":["`+crc2+`","`+crc1+`"]}`), http.StatusBadRequest, api.CodeDigestMismatch)
	var e api.Entry
	_ = json.Unmarshal(ok(t, complete(`{"sha256":"`+hex.EncodeToString(sum[:])+`","partCrc32c":["`+crc1+`","`+crc2+`"]}`), http.StatusCreated), &e)
	var me api.User
	_ = json.Unmarshal(ok(t, f.do("GET", "/v1/whoami", f.admin, nil), http.StatusOK), &me)
	if e.SHA256 != hex.EncodeToString(sum[:]) || !e.ClientDigest || e.ClientDigestBy != me.ID || me.ID == "" {
		t.Fatalf("entry %+v; the uploader %q", e, me.ID)
	}
	if b := ok(t, f.do("GET", "/v1/files/home/admin/cd", f.admin, nil), http.StatusOK); !bytes.Equal(b, content) {
		t.Fatal("content")
	}
}

// TestTricklingBodyIsDropped: a byte now and then, each within the idle
// timeout, is still far too slow and is dropped. The server's clock moves
// 40 s each time it is read, and the client sends a byte each time: to the
// server, a byte comes every 40 s, under the idle timeout of a minute.
func TestTricklingBodyIsDropped(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	read := make(chan struct{}, 1)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(40 * time.Second)
		select {
		case read <- struct{}{}:
		default:
		}
		return now
	}
	f := newFixture(t, server.Config{BodyIdleTimeout: time.Minute, Now: clock})
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT /v1/files/home/admin/drip HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 100000\r\n\r\n", f.admin)
	answered := make(chan *http.Response, 1)
	go func() {
		// The server may answer before closing, or only close.
		resp, _ := http.ReadResponse(bufio.NewReader(conn), nil)
		answered <- resp
	}()
	for sent := 0; ; sent++ {
		if sent == 50 {
			t.Fatalf("%d bytes, one every 40 s, and the upload is still going", sent)
		}
		select {
		case resp := <-answered:
			if resp != nil && resp.StatusCode < 400 {
				t.Fatalf("status %d for a trickling upload", resp.StatusCode)
			}
			f.conns.waitClosed(t, conn.LocalAddr())
			problem(t, f.do("GET", "/v1/stat/home/admin/drip", f.admin, nil), http.StatusNotFound, api.CodeNotFound)
			return
		case <-read:
			_, _ = conn.Write([]byte("x"))
		case <-time.After(20 * time.Second):
			t.Fatal("the server neither read nor answered")
		}
	}
}

// TestMetricsLabelsStayBounded: made-up methods do not create new series.
func TestMetricsLabelsStayBounded(t *testing.T) {
	f := newFixture(t, server.Config{Metrics: server.MetricsOnAPI, MetricsToken: metricsToken})
	for i := range 20 {
		f.do(fmt.Sprintf("X%d", i), "/healthz", "", nil)
	}
	// PATCH is the API's own (a file's time): it is named.
	f.do("PATCH", "/v1/files/home/admin/none", f.admin, nil)
	b := ok(t, f.do("GET", "/metrics", metricsToken, nil), http.StatusOK)
	if bytes.Contains(b, []byte(`method="X1"`)) || !bytes.Contains(b, []byte(`method="OTHER"`)) {
		t.Fatal("unknown methods are labelled one by one")
	}
	if !bytes.Contains(b, []byte(`method="PATCH"`)) {
		t.Fatal("PATCH, a method of the API, is labelled OTHER")
	}
}
