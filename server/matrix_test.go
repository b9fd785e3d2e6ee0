package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/audit"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/backend/identity/awsauth"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
)

// decisions records, per request, whether the one authorization decision
// was asked, and every storage access a request made before it was.
type decisions struct {
	mu      sync.Mutex
	decided map[string]int
	early   map[string][]string // request ID -> accesses before any decision
	inner   iam.Decider
	// For the audit log: the requests that were denied, that wrote to
	// the metadata store (other than the audit log), and the audit
	// records written, by request ID.
	denied  map[string]bool
	wrote   map[string][]string
	audited map[string][]audit.Record
}

func (d *decisions) Decide(pr iam.Principal, act iam.Action, res iam.Resource, req iam.Request) iam.Decision {
	dec := d.inner.Decide(pr, act, res, req)
	d.mu.Lock()
	d.decided[req.ID]++
	if !dec.Allowed && d.denied != nil {
		d.denied[req.ID] = true
	}
	d.mu.Unlock()
	return dec
}

// write notes the writes of a request: the audit records it made, and
// anything else it changed.
func (d *decisions) write(ctx context.Context, items ...meta.Item) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.audited == nil {
		return
	}
	for _, it := range items {
		if strings.HasPrefix(it.PK, "audit#") {
			var r audit.Record
			if err := json.Unmarshal(it.Value, &r); err == nil {
				d.audited[r.RequestID] = append(d.audited[r.RequestID], r)
			}
			continue
		}
		if id := iam.RequestFrom(ctx).ID; id != "" && it.PK != "auditdays" {
			d.wrote[id] = append(d.wrote[id], it.PK)
		}
	}
}

// touch notes a storage access; the server's authentication of the token
// comes before the request is known to the core (no request ID) and is
// not counted.
func (d *decisions) touch(ctx context.Context, what string) {
	id := iam.RequestFrom(ctx).ID
	if id == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.decided[id] == 0 {
		d.early[id] = append(d.early[id], what)
	}
}

type watchedMeta struct {
	meta.Store
	d *decisions
}

func (w watchedMeta) Get(ctx context.Context, pk, sk string) (meta.Item, error) {
	w.d.touch(ctx, "meta get "+pk)
	return w.Store.Get(ctx, pk, sk)
}
func (w watchedMeta) Put(ctx context.Context, it meta.Item, c meta.Cond) (int64, error) {
	w.d.touch(ctx, "meta put "+it.PK)
	w.d.write(ctx, it)
	return w.Store.Put(ctx, it, c)
}
func (w watchedMeta) Delete(ctx context.Context, pk, sk string, c meta.Cond) error {
	w.d.touch(ctx, "meta delete "+pk)
	w.d.write(ctx, meta.Item{PK: pk, SK: sk})
	return w.Store.Delete(ctx, pk, sk, c)
}
func (w watchedMeta) Query(ctx context.Context, pk string, o meta.QueryOpts) (meta.Page, error) {
	w.d.touch(ctx, "meta query "+pk)
	return w.Store.Query(ctx, pk, o)
}
func (w watchedMeta) Add(ctx context.Context, pk, sk string, delta int64) (int64, error) {
	w.d.touch(ctx, "meta add "+pk)
	w.d.write(ctx, meta.Item{PK: pk, SK: sk})
	return w.Store.Add(ctx, pk, sk, delta)
}
func (w watchedMeta) Transact(ctx context.Context, ops []meta.Op) error {
	w.d.touch(ctx, "meta transact")
	for _, op := range ops {
		if op.Kind == meta.OpPut {
			w.d.write(ctx, op.Item)
		} else if op.Kind != meta.OpCheck {
			w.d.write(ctx, meta.Item{PK: op.PK, SK: op.SK})
		}
	}
	return w.Store.Transact(ctx, ops)
}

type watchedBlobs struct {
	blob.Store
	d *decisions
}

func (w watchedBlobs) Get(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	w.d.touch(ctx, "blob get")
	return w.Store.Get(ctx, key, off, n)
}
func (w watchedBlobs) Put(ctx context.Context, key string, r io.Reader, size int64) error {
	w.d.touch(ctx, "blob put")
	return w.Store.Put(ctx, key, r, size)
}
func (w watchedBlobs) Begin(ctx context.Context, key string) (string, error) {
	w.d.touch(ctx, "blob begin")
	return w.Store.Begin(ctx, key)
}

// role is who sends a request of the matrix, about alice's things.
type role int

const (
	anonymous role = iota
	owner          // alice herself
	other          // bob, another user
	member         // carol, in a group allowed to read alice's home
	session        // alice with a token whose session policy only reads
	admin
)

var roles = []role{anonymous, owner, other, member, session, admin}

func (r role) String() string {
	return [...]string{"anonymous", "owner", "other user", "group member", "read-only session", "admin"}[r]
}

// The group carol is in, its policy, and the session policy of alice's
// read-only token.
const (
	readersPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Action":["strata:GetFile","strata:ListFolder","strata:ListVersions"],
		"Resource":["/home/alice","/home/alice/*"]}]}`
	readOnlySession = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Action":["strata:GetFile","strata:ListFolder","strata:ListVersions"],"Resource":"*"}]}`
)

// matrixCase builds one route's request for a role: path (with query) and
// body, about alice's things.
type matrixCase struct {
	req func(r role) (path, body string)
	// ownerDenied: the route is an admin's, denied to alice too.
	ownerDenied bool
	// read: the route only reads alice's files (what the group and the
	// session policy allow).
	read bool
	// self: the route is about the caller only (whoami): bob is allowed
	// his own.
	self bool
	// recipients: the route is about a share alice made with bob, carol
	// and the admin (leaving it): they are allowed, alice is not.
	recipients bool
}

// alicePassword is alice's password, which the matrix sets and keeps.
const alicePassword = "correct horse battery"

// alice is what the matrix's requests are about.
type alice struct {
	trashID, uploadID string
	// awsLogin is the body of a fresh AWS login as alice.
	awsLogin string
	// linkID is a share link of alice's to f.txt, fileLink its token,
	// dirLink the token of one to dir that also takes uploads.
	linkID, fileLink, dirLink string
}

// aliceARN is the AWS identity that logs in as alice.
const aliceARN = "arn:aws:iam::123456789012:user/alice"

// forOthers adds ?user=alice (or &user=) for the roles that act on
// alice's things from outside.
func forOthers(r role, path string) string {
	if r == owner || r == anonymous || r == session {
		return path
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "user=alice"
}

func matrix(a alice) map[string]matrixCase {
	file := func(prefix string) func(role) (string, string) {
		return func(role) (string, string) { return prefix + "home/alice/f.txt", "" }
	}
	static := func(path, body string) func(role) (string, string) {
		return func(role) (string, string) { return path, body }
	}
	owned := func(path, body string) func(role) (string, string) {
		return func(r role) (string, string) { return forOthers(r, path), body }
	}
	// Each reads their own limits (an admin alice's).
	ownLimits := func(r role) (string, string) {
		name := map[role]string{other: "bob", member: "carol"}[r]
		if name == "" {
			name = "alice"
		}
		return "/v1/users/" + name + "/limits", ""
	}
	return map[string]matrixCase{
		"GET /v1/whoami":                          {req: static("/v1/whoami", ""), self: true},
		"PUT /v1/files/{path...}":                 {req: func(role) (string, string) { return "/v1/files/home/alice/new.txt", "new" }},
		"GET /v1/files/{path...}":                 {req: file("/v1/files/"), read: true},
		"HEAD /v1/files/{path...}":                {req: file("/v1/files/"), read: true},
		"DELETE /v1/files/{path...}":              {req: file("/v1/files/")},
		"PATCH /v1/files/{path...}":               {req: static("/v1/files/home/alice/f.txt", `{"mtime":"2001-02-03T04:05:06Z"}`)},
		"GET /v1/dirs/{path...}":                  {req: static("/v1/dirs/home/alice", ""), read: true},
		"PUT /v1/dirs/{path...}":                  {req: static("/v1/dirs/home/alice/newdir", "")},
		"DELETE /v1/dirs/{path...}":               {req: static("/v1/dirs/home/alice/dir?recursive=true", "")},
		"GET /v1/stat/{path...}":                  {req: file("/v1/stat/"), read: true},
		"POST /v1/move":                           {req: static("/v1/move", `{"from":"/home/alice/f.txt","to":"/home/alice/moved.txt"}`)},
		"POST /v1/copy":                           {req: static("/v1/copy", `{"from":"/home/alice/dir","to":"/home/alice/copied"}`)},
		"GET /v1/jobs/{id}":                       {req: owned("/v1/jobs/"+strings.Repeat("a", 26), "")},
		"GET /v1/versions/{path...}":              {req: file("/v1/versions/"), read: true},
		"POST /v1/versions/{path...}":             {req: func(role) (string, string) { return "/v1/versions/home/alice/f.txt", `{"version":1}` }},
		"GET /v1/trash":                           {req: owned("/v1/trash", "")},
		"DELETE /v1/trash":                        {req: owned("/v1/trash", "")},
		"POST /v1/trash/{id}/restore":             {req: owned("/v1/trash/"+a.trashID+"/restore", "")},
		"DELETE /v1/trash/{id}":                   {req: owned("/v1/trash/"+a.trashID, "")},
		"POST /v1/uploads":                        {req: static("/v1/uploads", `{"path":"/home/alice/big.bin","size":10}`)},
		"GET /v1/uploads":                         {req: owned("/v1/uploads", "")},
		"GET /v1/uploads/{id}":                    {req: owned("/v1/uploads/"+a.uploadID, "")},
		"PUT /v1/uploads/{id}/parts/{n}":          {req: owned("/v1/uploads/"+a.uploadID+"/parts/1", "0123456789")},
		"POST /v1/uploads/{id}/complete":          {req: owned("/v1/uploads/"+a.uploadID+"/complete", "")},
		"DELETE /v1/uploads/{id}":                 {req: owned("/v1/uploads/"+a.uploadID, "")},
		"GET /v1/users":                           {req: static("/v1/users", ""), ownerDenied: true},
		"POST /v1/users":                          {req: static("/v1/users", `{"name":"carol"}`), ownerDenied: true},
		"DELETE /v1/users/{name}":                 {req: static("/v1/users/dave", ""), ownerDenied: true},
		"PUT /v1/users/{name}/password":           {req: static("/v1/users/alice/password", `{"current":"`+alicePassword+`","password":"`+alicePassword+`"}`)},
		"POST /v1/login":                          {req: static("/v1/login", `{"user":"alice","password":"`+alicePassword+`"}`)},
		"GET /v1/tokens":                          {req: owned("/v1/tokens", "")},
		"POST /v1/tokens":                         {req: func(r role) (string, string) { return "/v1/tokens", `{"user":"alice","name":"x"}` }},
		"DELETE /v1/tokens/{id}":                  {req: owned("/v1/tokens/nosuchtoken", "")},
		"GET /v1/keys":                            {req: owned("/v1/keys", "")},
		"POST /v1/keys":                           {req: static("/v1/keys", `{"user":"alice","key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID3m0SpIvr1hG4yOMrSPFgMpCoQ6A7GNAj7osyO6SQ47 matrix"}`)},
		"DELETE /v1/keys":                         {req: owned("/v1/keys?fingerprint=SHA256:nosuchkey", "")},
		"POST /v1/admin/collect":                  {req: static("/v1/admin/collect", ""), ownerDenied: true},
		"POST /v1/admin/keys/rotate":              {req: static("/v1/admin/keys/rotate", ""), ownerDenied: true},
		"GET /v1/admin/keys":                      {req: static("/v1/admin/keys", ""), ownerDenied: true},
		"GET /v1/audit":                           {req: owned("/v1/audit", "")},
		"GET /v1/policies":                        {req: static("/v1/policies", ""), ownerDenied: true},
		"POST /v1/policies":                       {req: static("/v1/policies", `{"name":"made","document":`+readersPolicy+`}`), ownerDenied: true},
		"GET /v1/policies/{name}":                 {req: static("/v1/policies/home", ""), ownerDenied: true},
		"PUT /v1/policies/{name}":                 {req: static("/v1/policies/scratch", `{"document":`+readersPolicy+`}`), ownerDenied: true},
		"DELETE /v1/policies/{name}":              {req: static("/v1/policies/scratch", ""), ownerDenied: true},
		"POST /v1/policies/{name}/attachments":    {req: static("/v1/policies/readers/attachments", `{"user":"dave"}`), ownerDenied: true},
		"DELETE /v1/policies/{name}/attachments":  {req: static("/v1/policies/readers/attachments?user=dave", ""), ownerDenied: true},
		"POST /v1/simulate":                       {req: static("/v1/simulate", `{"user":"alice","action":"strata:GetFile","resource":"/home/alice/f.txt"}`), ownerDenied: true},
		"GET /v1/groups":                          {req: static("/v1/groups", ""), ownerDenied: true},
		"POST /v1/groups":                         {req: static("/v1/groups", `{"name":"made"}`), ownerDenied: true},
		"DELETE /v1/groups/{name}":                {req: static("/v1/groups/scratch", ""), ownerDenied: true},
		"PUT /v1/groups/{name}/members/{user}":    {req: static("/v1/groups/readers/members/dave", ""), ownerDenied: true},
		"DELETE /v1/groups/{name}/members/{user}": {req: static("/v1/groups/readers/members/dave", ""), ownerDenied: true},
		"GET /v1/login/aws":                       {req: static("/v1/login/aws", "")},
		"POST /v1/login/aws":                      {req: static("/v1/login/aws", a.awsLogin)},
		"GET /v1/users/{name}/aws-identities":     {req: static("/v1/users/alice/aws-identities", ""), ownerDenied: true},
		"POST /v1/users/{name}/aws-identities":    {req: static("/v1/users/alice/aws-identities", `{"arn":"arn:aws:iam::123456789012:role/matrix"}`), ownerDenied: true},
		"DELETE /v1/users/{name}/aws-identities":  {req: static("/v1/users/alice/aws-identities?arn=arn:aws:iam::123456789012:role/matrix", ""), ownerDenied: true},
		"GET /v1/users/{name}/limits":             {req: ownLimits, self: true},
		"PUT /v1/users/{name}/limits":             {req: static("/v1/users/alice/limits", `{"requests":100}`), ownerDenied: true},
		"DELETE /v1/users/{name}/limits":          {req: static("/v1/users/alice/limits", ""), ownerDenied: true},
		"GET /v1/usage":                           {req: static("/v1/usage", ""), self: true},
		"PUT /v1/users/{name}/quota":              {req: static("/v1/users/alice/quota", `{"bytes":1000000}`), ownerDenied: true},
		"POST /v1/users/{name}/quota/recount":     {req: static("/v1/users/alice/quota/recount", ""), ownerDenied: true},
		"POST /v1/usershares":                     {req: static("/v1/usershares", `{"path":"/home/alice/f.txt","user":"bob"}`)},
		"GET /v1/usershares":                      {req: static("/v1/usershares", ""), self: true},
		"DELETE /v1/usershares":                   {req: static("/v1/usershares?path=/home/alice/f.txt&user=bob", "")},
		"GET /v1/shared":                          {req: static("/v1/shared", ""), self: true},
		"DELETE /v1/shared":                       {req: static("/v1/shared?path=/shared/alice/dir", ""), recipients: true},
		"POST /v1/shares":                         {req: static("/v1/shares", `{"path":"/home/alice/f.txt"}`)},
		"GET /v1/shares":                          {req: owned("/v1/shares", "")},
		"GET /v1/shares/{id}":                     {req: owned("/v1/shares/"+a.linkID, "")},
		"DELETE /v1/shares/{id}":                  {req: owned("/v1/shares/"+a.linkID, "")},
		"GET /s/{token}":                          {req: static("/s/"+a.dirLink, "")},
		"HEAD /s/{token}":                         {req: static("/s/"+a.fileLink, "")},
		"GET /s/{token}/d/{path...}":              {req: static("/s/"+a.dirLink+"/d/", "")},
		"POST /s/{token}/unlock":                  {req: static("/s/"+a.fileLink+"/unlock", "")},
		"POST /s/{token}/upload":                  {req: static("/s/"+a.dirLink+"/upload", "")},
		"GET /s/{token}/raw":                      {req: static("/s/"+a.fileLink+"/raw", "")},
		"HEAD /s/{token}/raw":                     {req: static("/s/"+a.fileLink+"/raw", "")},
		"GET /s/{token}/raw/{path...}":            {req: static("/s/"+a.dirLink+"/raw/x.txt", "")},
		"HEAD /s/{token}/raw/{path...}":           {req: static("/s/"+a.dirLink+"/raw/x.txt", "")},
		"GET /s/{token}/zip":                      {req: static("/s/"+a.dirLink+"/zip", "")},
		"GET /s/{token}/zip/{path...}":            {req: static("/s/"+a.dirLink+"/zip/", "")},
		"POST /v1/archive/{path...}":              {req: static("/v1/archive/home/alice/f.txt", `{"class":"glacier"}`)},
		"POST /v1/restore/{path...}":              {req: static("/v1/restore/home/alice/f.txt", `{"tier":"standard","days":1}`)},
		"GET /v1/archive-prices":                  {req: static("/v1/archive-prices", ""), self: true},
		"GET /v1/archive-rules":                   {req: static("/v1/archive-rules?path=/home/alice", "")},
		"PUT /v1/archive-rules/{path...}":         {req: static("/v1/archive-rules/home/alice/dir", `{"afterDays":90,"class":"deep-archive"}`)},
		"DELETE /v1/archive-rules/{path...}":      {req: static("/v1/archive-rules/home/alice/dir", "")},
		"GET /healthz":                            {req: static("/healthz", "")},
		"GET /readyz":                             {req: static("/readyz", "")},
		"GET /metrics":                            {req: static("/metrics", "")},
	}
}

// TestRouteMatrix walks every route of the route table for anonymous, the
// owner of what it is about, another user, a member of a group allowed to
// read it, the owner with a read-only session token, and an admin, with
// the product's decisions (the policies stored, cached): an allow where a
// denial is due fails it, and so does a route whose request touched
// storage before the one authorization decision was asked.
func TestRouteMatrix(t *testing.T) {
	eng, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	d := &decisions{decided: map[string]int{}, early: map[string][]string{}}
	c, err := daemon.NewCore(backend.Config{Blobs: watchedBlobs{eng.Blobs, d}, Meta: watchedMeta{eng.Meta, d}, Keys: eng.Keys, Decider: d},
		daemon.WithPasswordCost(identity.PasswordCost{MemoryKiB: 1024, Passes: 1}))
	if err != nil {
		t.Fatal(err)
	}
	// Background work (purges) ends before the engines close and the
	// temporary directory goes.
	t.Cleanup(func() { _ = c.Files.Drain(context.Background()) })
	d.inner = iam.NewPolicyDecider(c.Identity, nil) // the product's decisions, watched
	srv := server.NewServer(server.Deps{Files: c.Files, Identity: c.Identity, Audit: c.Audit, Shares: c.Shares}, server.Config{Metrics: server.MetricsOnAPI, MetricsToken: metricsToken})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	// AWS logins are verified by an STS that says alice signed.
	fakeSTS := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>%s</Arn><Account>123456789012</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`, aliceARN)
	}))
	t.Cleanup(fakeSTS.Close)
	verifier, err := awsauth.NewVerifier(awsauth.Config{Endpoint: fakeSTS.URL, Region: "us-east-1", ServerIDs: []string{ts.URL}})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetAWSLogin(verifier)
	signed := 0
	awsLogin := func() string {
		// With another access key each time: a signed request logs in
		// once, and two signed in the same second with one key would be
		// the same request.
		signed++
		key := fmt.Sprintf("AKIAMATRIX%010d", signed)
		r, err := awsauth.Sign(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: "secret"},
			fakeSTS.URL, "us-east-1", ts.URL, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(api.AWSLoginRequest{Method: r.Method, URL: r.URL, Headers: r.Headers, Body: r.Body})
		return string(b)
	}
	ctx := context.Background()
	adminTok, _, err := c.Identity.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	adminPr, _ := c.Identity.Authenticate(ctx, adminTok)
	tokens := map[role]string{admin: adminTok}
	for _, u := range []struct {
		name string
		r    role
	}{{"alice", owner}, {"bob", other}} {
		if _, err := c.Identity.CreateUser(ctx, adminPr, u.name, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Identity.AddAWSIdentity(ctx, adminPr, "alice", aliceARN); err != nil {
		t.Fatal(err)
	}

	// From here on: what each request of the matrix changed, and its
	// audit records.
	d.mu.Lock()
	d.denied, d.wrote, d.audited = map[string]bool{}, map[string][]string{}, map[string][]audit.Record{}
	d.mu.Unlock()

	var n int
	send := func(method, path, body, tok string) (int, string) {
		t.Helper()
		n++
		id := fmt.Sprintf("matrix-%d", n)
		req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = int64(len(body))
		req.Header.Set(api.HeaderRequestID, id)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, id
	}
	// alice's things, made fresh before each request (requests delete
	// and move them).
	setup := func() alice {
		t.Helper()
		var a alice
		at := tokens[owner]
		send("POST", "/v1/users", `{"name":"dave"}`, tokens[admin]) // the one DELETE /v1/users deletes
		send("POST", "/v1/policies", `{"name":"scratch","document":`+readersPolicy+`}`, tokens[admin])
		send("POST", "/v1/groups", `{"name":"scratch"}`, tokens[admin])
		for _, p := range []string{"/v1/files/home/alice/f.txt", "/v1/files/home/alice/gone.txt", "/v1/files/home/alice/dir/x.txt"} {
			if code, _ := send("PUT", p, "hello", at); code != http.StatusCreated && code != http.StatusOK {

				t.Fatalf("setup put %s: %d", p, code)
			}
		}
		req, _ := http.NewRequest("DELETE", ts.URL+"/v1/files/home/alice/gone.txt", nil)
		req.Header.Set("Authorization", "Bearer "+at)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ti api.TrashItem
		json.NewDecoder(resp.Body).Decode(&ti)
		resp.Body.Close()
		a.trashID = ti.ID
		req, _ = http.NewRequest("POST", ts.URL+"/v1/uploads", strings.NewReader(`{"path":"/home/alice/up.bin","size":10}`))
		req.Header.Set("Authorization", "Bearer "+at)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var u api.Upload
		json.NewDecoder(resp.Body).Decode(&u)
		resp.Body.Close()
		a.uploadID = u.ID
		a.awsLogin = awsLogin()
		for _, l := range []struct {
			body string
			id   *string
			tok  *string
		}{
			{`{"path":"/home/alice/f.txt"}`, &a.linkID, &a.fileLink},
			{`{"path":"/home/alice/dir","mode":"read-upload"}`, nil, &a.dirLink},
		} {
			req, _ = http.NewRequest("POST", ts.URL+"/v1/shares", strings.NewReader(l.body))
			req.Header.Set("Authorization", "Bearer "+at)
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var sh api.Share
			json.NewDecoder(resp.Body).Decode(&sh)
			resp.Body.Close()
			if sh.Token == "" {
				t.Fatalf("setup share %s: %d", l.body, resp.StatusCode)
			}
			if l.id != nil {
				*l.id = sh.ID
			}
			*l.tok = sh.Token
		}
		return a
	}
	if err := c.Identity.SetPassword(ctx, adminPr, "alice", "", alicePassword); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Identity.CreateUser(ctx, adminPr, "carol", false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Identity.PutPolicy(ctx, adminPr, "readers", []byte(readersPolicy), true); err != nil {
		t.Fatal(err)
	}
	if err := c.Identity.CreateGroup(ctx, adminPr, "readers"); err != nil {
		t.Fatal(err)
	}
	if err := c.Identity.AttachPolicy(ctx, adminPr, "readers", identity.Target{Group: "readers"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Identity.AddToGroup(ctx, adminPr, "readers", "carol"); err != nil {
		t.Fatal(err)
	}
	for r, name := range map[role]string{owner: "alice", other: "bob", member: "carol", session: "alice"} {
		var sp []byte
		if r == session {
			sp = []byte(readOnlySession)
		}
		tok, err := c.Identity.CreateToken(ctx, adminPr, name, "matrix", 0, sp)
		if err != nil {
			t.Fatal(err)
		}
		tokens[r] = tok.Secret
	}

	covered := map[string]bool{}
	for _, rt := range srv.Routes() {
		key := rt.Method + " " + rt.Pattern
		covered[key] = true
		if _, ok := matrix(alice{})[key]; !ok {
			t.Fatalf("route %s has no row in the route matrix: add one", key)
		}
		for _, r := range roles {
			mc := matrix(setup())[key]
			if mc.recipients {
				for _, to := range []string{"bob", "carol", "admin"} {
					if code, _ := send("POST", "/v1/usershares", `{"path":"/home/alice/dir","user":"`+to+`"}`, tokens[owner]); code != http.StatusCreated {
						t.Fatalf("setup share with %s: %d", to, code)
					}
				}
			}
			path, body := mc.req(r)
			code, id := send(rt.Method, path, body, tokens[r])
			denied := code == http.StatusUnauthorized || code == http.StatusForbidden
			want := true // allowed
			switch {
			case rt.Public:
			case rt.MetricsToken, r == anonymous:
				want = false
			case mc.recipients:
				want = r == other || r == member || r == admin
			case r == owner:
				want = !mc.ownerDenied
			case r == other:
				want = mc.self
			case r == member, r == session:
				want = mc.self || mc.read
			}
			if !want && !denied {
				t.Errorf("%s as %s (%s): %d, want a denial", key, r, path, code)
			}
			if want && denied {
				t.Errorf("%s as %s (%s): %d, want it allowed", key, r, path, code)
			}
			d.mu.Lock()
			early, decided := d.early[id], d.decided[id]
			d.mu.Unlock()
			if len(early) > 0 && !rt.Public {
				t.Errorf("%s as %s touched storage before any decision: %v", key, r, early)
			}
			checkAudited(t, d, key+" as "+r.String(), rt, id, code)
			if !rt.Public && !rt.MetricsToken && r != anonymous && decided == 0 {
				t.Errorf("%s as %s: no authorization decision was asked", key, r)
			}
		}
	}
	for key := range matrix(alice{}) {
		if !covered[key] {
			t.Errorf("the matrix has a row for %s, which is not a route", key)
		}
	}
}

// checkAudited fails a request of the route matrix that changed
// something, was denied or logged in without its audit record, or whose
// record does not say who, what and how it ended.
func checkAudited(t *testing.T, d *decisions, what string, rt server.RouteInfo, id string, code int) {
	t.Helper()
	d.mu.Lock()
	wrote, denied, recs := d.wrote[id], d.denied[id], d.audited[id]
	d.mu.Unlock()
	changes := rt.Method != http.MethodGet && rt.Method != http.MethodHead
	if (len(wrote) > 0 || denied || changes) && len(recs) == 0 {
		t.Errorf("%s (status %d, wrote %v, denied %v): no audit record", what, code, wrote, denied)
		return
	}
	if len(recs) == 0 {
		return
	}
	if denied && !slices.ContainsFunc(recs, func(r audit.Record) bool { return r.Decision == audit.Deny && r.Action != "" }) {
		t.Errorf("%s: denied, but no record of the denial: %+v", what, recs)
	}
	for _, r := range recs {
		if r.Op != rt.Method+" "+rt.Pattern || r.Outcome == "" || r.Time.IsZero() || r.Via == "" {
			t.Errorf("%s: record without its route, outcome, time or entry point: %+v", what, r)
		}
		ok := code < 300 || code == http.StatusNotModified
		if ok != (r.Outcome == audit.OK) && len(recs) == 1 {
			t.Errorf("%s: status %d recorded as %q", what, code, r.Outcome)
		}
	}
}
