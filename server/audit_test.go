package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/internal/fakeclock"
	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
)

// call sends a JSON request (body nil: none) and decodes a JSON answer
// into out (if not nil); it returns the status.
func (f *fixture) call(method, path, token string, body, out any) int {
	f.t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			f.t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	resp := f.do(method, path, token, r)
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			f.t.Fatal(err)
		}
	}
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// newUser makes a user with a first token, and returns the token.
func (f *fixture) newUser(name string) api.Token {
	f.t.Helper()
	var cu api.CreateUserResult
	if code := f.call("POST", "/v1/users", f.admin, api.CreateUserRequest{Name: name, Token: true}, &cu); code != http.StatusCreated || cu.Token == nil {
		f.t.Fatalf("create user %s: %d", name, code)
	}
	return *cu.Token
}

// auditOf is every audit record of the request id, as the admin reads
// them.
func (f *fixture) auditOf(id string) []api.AuditRecord {
	f.t.Helper()
	var out []api.AuditRecord
	cursor := ""
	for {
		var pg api.AuditPage
		path := "/v1/audit?limit=1000"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		if code := f.call("GET", path, f.admin, nil, &pg); code != http.StatusOK {
			f.t.Fatalf("read the audit log: %d", code)
		}
		for _, r := range pg.Records {
			if r.RequestID == id || id == "" {
				out = append(out, r)
			}
		}
		if pg.Cursor == "" {
			return out
		}
		cursor = pg.Cursor
	}
}

// firstRead signals when the handler first reads a request body.
type firstRead struct {
	io.ReadCloser
	once    *sync.Once
	started chan struct{}
}

func (b firstRead) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.once.Do(func() { close(b.started) })
	}
	return n, err
}

// A running upload ends when its token is revoked or its user deleted:
// at its first read after the re-check interval, with 401, and nothing of
// it is kept.
func TestTokenGoneEndsARunningRequest(t *testing.T) {
	for _, how := range []string{"revoke", "delete user"} {
		t.Run(how, func(t *testing.T) {
			clk := fakeclock.New(time.Now())
			started := make(chan struct{})
			var ts *httptest.Server
			f := newFixtureWith(t, server.Config{Now: clk.Now, TokenRecheck: 10 * time.Second}, func(s *server.Server) {
				var once sync.Once
				ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					r.Body = firstRead{ReadCloser: r.Body, once: &once, started: started}
					s.ServeHTTP(w, r)
				}))
			})
			t.Cleanup(ts.Close)
			tok := f.newUser("alice")
			pr, pw := io.Pipe()
			req, _ := http.NewRequest("PUT", ts.URL+"/v1/files/home/alice/big.bin", pr)
			req.Header.Set("Authorization", "Bearer "+tok.Secret)
			req.Header.Set(api.HeaderRequestID, "long-upload")
			done := make(chan *http.Response, 1)
			go func() {
				// The server may close the connection while the client
				// still sends: then the record below is the evidence.
				resp, _ := http.DefaultClient.Do(req)
				done <- resp
			}()
			// The body is finite: were the token not re-checked, the
			// upload would complete.
			chunk := bytes.Repeat([]byte("x"), 64<<10)
			advanced := make(chan struct{})
			go func() {
				if _, err := pw.Write(chunk); err != nil {
					return
				}
				<-advanced
				for range 4 {
					if _, err := pw.Write(chunk); err != nil {
						return
					}
				}
				pw.Close()
			}()
			<-started
			// Within the interval nothing is asked again; then the token goes.
			if how == "revoke" {
				if code := f.call("DELETE", "/v1/tokens/"+tok.ID+"?user=alice", f.admin, nil, nil); code != http.StatusNoContent {
					t.Fatalf("revoke: %d", code)
				}
			} else if code := f.call("DELETE", "/v1/users/alice", f.admin, nil, nil); code != http.StatusNoContent {
				t.Fatalf("delete user: %d", code)
			}
			clk.Add(11 * time.Second)
			close(advanced)
			resp := <-done
			pw.CloseWithError(io.ErrClosedPipe)
			if resp != nil {
				p := problem(t, resp, http.StatusUnauthorized, api.CodeUnauthorized)
				if !strings.Contains(p.Detail, "while the request ran") {
					t.Fatalf("detail %q: want the token gone while the request ran", p.Detail)
				}
			}
			if code := f.call("GET", "/v1/stat/home/alice/big.bin", f.admin, nil, nil); code != http.StatusNotFound {
				t.Fatalf("the cut-off upload left a file: stat %d", code)
			}
			// Recorded as alice's upload (so it was under way: a token
			// refused at the start is no upload), refused.
			recs := f.auditOf("long-upload")
			if len(recs) != 1 || recs[0].Outcome != api.CodeUnauthorized || recs[0].User != "alice" || recs[0].Action != "strata:PutFile" {
				t.Fatalf("audit of the cut-off upload: %+v", recs)
			}
		})
	}
}

// Tokens and passwords never reach the request log (at any level) or the
// audit log, and the request log names routes, not the paths people work
// on, unless LogPaths asks for them.
func TestSecretsAndPathsStayOutOfTheLogs(t *testing.T) {
	for _, logPaths := range []bool{false, true} {
		var buf lockedBuffer
		logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		f := newFixtureCore(t, server.Config{Logger: logger, LogPaths: logPaths}, backend.Config{Logger: logger}, nil)
		tok := f.newUser("alice")
		const password = "velvet-orbit-cactus-42"
		if code := f.call("PUT", "/v1/users/alice/password", f.admin, map[string]string{"password": password}, nil); code != http.StatusNoContent {
			t.Fatalf("set password: %d", code)
		}
		var login api.Token
		if code := f.call("POST", "/v1/login", "", api.LoginRequest{User: "alice", Password: password}, &login); code != http.StatusOK && code != http.StatusCreated {
			t.Fatalf("login: %d", code)
		}
		if code := f.call("POST", "/v1/login", "", api.LoginRequest{User: "alice", Password: password + "x"}, nil); code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", code)
		}
		var made api.Token
		if code := f.call("POST", "/v1/tokens", login.Secret, api.CreateTokenRequest{Name: "laptop"}, &made); code != http.StatusCreated {
			t.Fatalf("create token: %d", code)
		}
		forged := strings.Repeat("A", len(tok.Secret))
		if code := f.call("GET", "/v1/whoami", forged, nil, nil); code != http.StatusUnauthorized {
			t.Fatalf("forged token: %d", code)
		}
		resp := f.do("PUT", "/v1/files/home/alice/secret-plans.txt", made.Secret, strings.NewReader("plans"))
		ok(t, resp, http.StatusCreated)
		recs, _ := json.Marshal(f.auditOf(""))
		logs := buf.String()
		for what, secret := range map[string]string{"admin token": f.admin, "first token": tok.Secret, "login token": login.Secret,
			"made token": made.Secret, "password": password, "forged token": forged} {
			if strings.Contains(logs, secret) {
				t.Errorf("the request log holds the %s", what)
			}
			if bytes.Contains(recs, []byte(secret)) {
				t.Errorf("the audit log holds the %s", what)
			}
		}
		if got := strings.Contains(logs, "secret-plans.txt"); got != logPaths {
			t.Errorf("LogPaths %v: path in the request log: %v", logPaths, got)
		}
		if !strings.Contains(logs, `"route":"PUT /v1/files/{path...}"`) {
			t.Errorf("the request log does not name the route")
		}
		// The audit log has the change, the logins and the forged token.
		var seen []string
		for _, r := range f.auditOf("") {
			seen = append(seen, r.Action+" "+r.Outcome)
		}
		for _, want := range []string{"strata:PutFile ok", "strata:Login ok", "strata:Login unauthorized", "strata:Authenticate unauthorized", "strata:ManageTokens ok"} {
			if !strings.Contains(strings.Join(seen, "\n"), want) {
				t.Errorf("audit log lacks %q: %v", want, seen)
			}
		}
	}
}

// A user reads their own records; the admin everyone's, or one user's.
func TestAuditAPIScopes(t *testing.T) {
	f := newFixture(t, server.Config{})
	alice, bob := f.newUser("alice"), f.newUser("bob")
	for _, u := range []struct{ tok, name string }{{alice.Secret, "alice"}, {bob.Secret, "bob"}} {
		resp := f.do("PUT", "/v1/files/home/"+u.name+"/a.txt", u.tok, strings.NewReader("a"))
		ok(t, resp, http.StatusCreated)
	}
	var pg api.AuditPage
	if code := f.call("GET", "/v1/audit", alice.Secret, nil, &pg); code != http.StatusOK {
		t.Fatalf("alice reads her own: %d", code)
	}
	if pg.User != "alice" || len(pg.Records) == 0 {
		t.Fatalf("alice's page: %+v", pg)
	}
	for _, r := range pg.Records {
		if r.User != "alice" {
			t.Fatalf("alice sees %s's record", r.User)
		}
	}
	for _, q := range []string{"?user=bob", "?user=*"} {
		if code := f.call("GET", "/v1/audit"+q, alice.Secret, nil, nil); code != http.StatusForbidden {
			t.Fatalf("alice reads %s: %d", q, code)
		}
	}
	pg = api.AuditPage{}
	if code := f.call("GET", "/v1/audit?action=strata:Put*&path=/home/bob", f.admin, nil, &pg); code != http.StatusOK {
		t.Fatalf("admin: %d", code)
	}
	if len(pg.Records) != 1 || pg.Records[0].User != "bob" || pg.Records[0].Resource != "/home/bob/a.txt" {
		t.Fatalf("admin's filtered page: %+v", pg.Records)
	}
	for _, q := range []string{"?since=yesterday", "?action=[", "?cursor=x", "?path=rel"} {
		if code := f.call("GET", "/v1/audit"+q, f.admin, nil, nil); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", q, code)
		}
	}
}
