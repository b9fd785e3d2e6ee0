package client

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/strata-storage/strata/server/api"
)

// Whoami describes the token's user.
func (c *Client) Whoami(ctx context.Context) (api.User, error) {
	var u api.User
	err := c.doJSON(ctx, http.MethodGet, "/v1/whoami", nil, nil, &u)
	return u, err
}

// Ready asks /readyz whether the server and its storage answer.
func (c *Client) Ready(ctx context.Context) error {
	return c.doJSON(ctx, http.MethodGet, "/readyz", nil, nil, nil)
}

// Stat describes the file or folder at path.
func (c *Client) Stat(ctx context.Context, path string) (api.Entry, error) {
	var e api.Entry
	u, err := storeURL("/v1/stat", path)
	if err != nil {
		return api.Entry{}, err
	}
	err = c.doJSON(ctx, http.MethodGet, u, nil, nil, &e)
	return e, err
}

// List returns one page of the folder at path (limit 0: the server's page
// size; cursor "" for the first page).
func (c *Client) List(ctx context.Context, path, cursor string, limit int) (api.Page, error) {
	return c.ListPrefix(ctx, path, "", cursor, limit)
}

// ListPrefix is List of the names that start with prefix only.
func (c *Client) ListPrefix(ctx context.Context, path, prefix, cursor string, limit int) (api.Page, error) {
	t, err := c.ListText(ctx, path, prefix, cursor, limit)
	if err != nil {
		return api.Page{}, err
	}
	return t.Decode()
}

// ListText is ListPrefix without the decoding: the page as the server
// sends it, with the cursor of the next one. A reader of many pages
// (strata ls) asks for the next page with it while it decodes this one,
// so that the server and the client work at once rather than in turn.
// When the server names the cursor in the answer's header
// (api.HeaderCursor), ListText returns once the header is read, and the
// page itself is read by Decode: the server encodes and sends it while
// the next one is asked for. Such a page holds a connection until
// decoded, or until ctx ends.
func (c *Client) ListText(ctx context.Context, path, prefix, cursor string, limit int) (PageText, error) {
	q := url.Values{}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	u, err := storeURL("/v1/dirs", path)
	if err != nil {
		return PageText{}, err
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: u, query: q, retry: true})
	if err != nil {
		return PageText{}, err
	}
	if next, ok := headerCursor(resp.Header); ok {
		// The server named the next page before sending this one: this
		// one is read when decoded, while the next is asked for.
		return PageText{what: u, c: c, body: resp.Body, cursor: next}, nil
	}
	data, err := c.readText(u, resp.Body)
	if err != nil {
		return PageText{}, err
	}
	return newPageText(u, data)
}

// Walk calls fn for every entry of the folder at path, page by page, until
// fn returns an error (which Walk returns).
func (c *Client) Walk(ctx context.Context, path string, fn func(api.Entry) error) error {
	cursor := ""
	for {
		p, err := c.List(ctx, path, cursor, 0)
		if err != nil {
			return err
		}
		for _, e := range p.Entries {
			if err := fn(e); err != nil {
				return err
			}
		}
		if p.Cursor == "" {
			return nil
		}
		cursor = p.Cursor
	}
}

// Mkdir creates a folder; with parents, missing ancestors too and an
// existing folder is fine.
func (c *Client) Mkdir(ctx context.Context, path string, parents bool) (api.Entry, error) {
	var q url.Values
	if parents {
		q = url.Values{"parents": {"true"}}
	}
	var e api.Entry
	u, err := storeURL("/v1/dirs", path)
	if err != nil {
		return api.Entry{}, err
	}
	err = c.doJSON(ctx, http.MethodPut, u, q, nil, &e)
	return e, err
}

// Delete moves the file or folder at path to the trash (a folder with
// content needs recursive).
func (c *Client) Delete(ctx context.Context, path string, recursive bool) (api.TrashItem, error) {
	var q url.Values
	if recursive {
		q = url.Values{"recursive": {"true"}}
	}
	var t api.TrashItem
	u, err := storeURL("/v1/files", path)
	if err != nil {
		return api.TrashItem{}, err
	}
	err = c.doJSON(ctx, http.MethodDelete, u, q, nil, &t)
	return t, err
}

// Move moves or renames; overwrite replaces an existing file (which goes to
// the trash).
func (c *Client) Move(ctx context.Context, from, to string, overwrite bool) (api.Entry, error) {
	var e api.Entry
	err := c.doJSON(ctx, http.MethodPost, "/v1/move", nil, api.MoveRequest{From: from, To: to, Overwrite: overwrite}, &e)
	return e, err
}

// Copy copies a file or folder on the server (no content is transferred).
func (c *Client) Copy(ctx context.Context, from, to string) (api.Entry, error) {
	var ans struct {
		api.Entry
		Job *api.Job `json:"job"`
	}
	if err := c.doJSON(ctx, http.MethodPost, "/v1/copy", nil, api.CopyRequest{From: from, To: to}, &ans); err != nil {
		return api.Entry{}, err
	}
	if ans.Job == nil {
		return ans.Entry, nil
	}
	return c.FollowJob(ctx, *ans.Job, nil)
}

// FollowJob waits for a job the server runs (a folder copy) to end, asking
// again and again less often, and returns what it made, or the error it
// failed with (matching this package's errors as the operation's own
// would). progress, if not nil, hears how many entries are done.
func (c *Client) FollowJob(ctx context.Context, job api.Job, progress func(done int64)) (api.Entry, error) {
	job, err := c.WaitJob(ctx, job, progress)
	if err != nil {
		return api.Entry{}, err
	}
	if job.Result == nil {
		return api.Entry{}, fmt.Errorf("job %s ended %s with no result", job.ID, job.State)
	}
	return *job.Result, nil
}

// poll calls done, and while it says not yet, waits (longer and longer, up
// to 2 s) and calls again to learn more, until done says so, either fails,
// or ctx ends.
func poll(ctx context.Context, done func() (bool, error), again func() error) error {
	wait := 100 * time.Millisecond
	for {
		ok, err := done()
		if ok || err != nil {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, 2*time.Second)
		if err := again(); err != nil {
			return err
		}
	}
}

// WaitJob waits for a job to end, as FollowJob does, and returns it as it
// ended (for jobs that make no entry: a folder archive).
func (c *Client) WaitJob(ctx context.Context, job api.Job, progress func(done int64)) (api.Job, error) {
	err := poll(ctx, func() (bool, error) {
		if job.State != api.JobRunning {
			return true, nil
		}
		if progress != nil {
			progress(job.Done)
		}
		return false, nil
	}, func() (err error) {
		job, err = c.Job(ctx, job.ID)
		return err
	})
	if err != nil {
		return api.Job{}, err
	}
	if job.Error != nil {
		return job, jobError(job.Error)
	}
	return job, nil
}

// Job describes a job of the caller's.
func (c *Client) Job(ctx context.Context, id string) (api.Job, error) {
	var j api.Job
	err := c.doJSON(ctx, http.MethodGet, "/v1/jobs/"+url.PathEscape(id), c.ownerQuery(nil), nil, &j)
	return j, err
}

// Versions lists one page of a file's versions, newest first.
func (c *Client) Versions(ctx context.Context, path, cursor string) (api.VersionPage, error) {
	var q url.Values
	if cursor != "" {
		q = url.Values{"cursor": {cursor}}
	}
	var vp api.VersionPage
	u, err := storeURL("/v1/versions", path)
	if err != nil {
		return api.VersionPage{}, err
	}
	err = c.doJSON(ctx, http.MethodGet, u, q, nil, &vp)
	return vp, err
}

// RestoreVersion makes an old version current again (as a new version).
func (c *Client) RestoreVersion(ctx context.Context, path string, version int64) (api.Entry, error) {
	var e api.Entry
	u, err := storeURL("/v1/versions", path)
	if err != nil {
		return api.Entry{}, err
	}
	err = c.doJSON(ctx, http.MethodPost, u, nil, api.RestoreVersionRequest{Version: version}, &e)
	return e, err
}

// Trash lists one page of the caller's trash, newest first.
func (c *Client) Trash(ctx context.Context, cursor string) (api.TrashPage, error) {
	var q url.Values
	if cursor != "" {
		q = url.Values{"cursor": {cursor}}
	}
	var tp api.TrashPage
	err := c.doJSON(ctx, http.MethodGet, "/v1/trash", c.ownerQuery(q), nil, &tp)
	return tp, err
}

// RestoreTrash puts a trashed entry back where it was, or at to if not "".
func (c *Client) RestoreTrash(ctx context.Context, id, to string) (api.Entry, error) {
	var e api.Entry
	err := c.doJSON(ctx, http.MethodPost, "/v1/trash/"+url.PathEscape(id)+"/restore", c.ownerQuery(nil), api.RestoreTrashRequest{To: to}, &e)
	return e, err
}

// PurgeTrash deletes one trashed entry for good.
func (c *Client) PurgeTrash(ctx context.Context, id string) error {
	return c.doJSON(ctx, http.MethodDelete, "/v1/trash/"+url.PathEscape(id), c.ownerQuery(nil), nil, nil)
}

// EmptyTrash deletes everything in the trash for good.
func (c *Client) EmptyTrash(ctx context.Context) (int, error) {
	var r api.EmptyTrashResult
	err := c.doJSON(ctx, http.MethodDelete, "/v1/trash", c.ownerQuery(nil), nil, &r)
	return r.Purged, err
}

// Users lists users (admins only).
func (c *Client) Users(ctx context.Context) ([]api.User, error) {
	var r struct {
		Users []api.User `json:"users"`
	}
	err := c.doJSON(ctx, http.MethodGet, "/v1/users", nil, nil, &r)
	return r.Users, err
}

// CreateUser adds a user (admins only); with token, the answer carries a
// first token for the new user.
func (c *Client) CreateUser(ctx context.Context, name string, admin, token bool) (api.CreateUserResult, error) {
	var r api.CreateUserResult
	err := c.doJSON(ctx, http.MethodPost, "/v1/users", nil, api.CreateUserRequest{Name: name, Admin: admin, Token: token}, &r)
	return r, err
}

// DeleteUser removes a user and their tokens (admins only).
func (c *Client) DeleteUser(ctx context.Context, name string) error {
	return c.doJSON(ctx, http.MethodDelete, "/v1/users/"+url.PathEscape(name), nil, nil, nil)
}

// Tokens lists the tokens of user ("" for oneself).
func (c *Client) Tokens(ctx context.Context, user string) ([]api.Token, error) {
	var q url.Values
	if user != "" {
		q = url.Values{"user": {user}}
	}
	var r struct {
		Tokens []api.Token `json:"tokens"`
	}
	err := c.doJSON(ctx, http.MethodGet, "/v1/tokens", q, nil, &r)
	return r.Tokens, err
}

// CreateToken makes a token for user ("" for oneself); ttl 0 never expires.
func (c *Client) CreateToken(ctx context.Context, user, name string, ttl time.Duration, policy []byte) (api.Token, error) {
	var t api.Token
	err := c.doJSON(ctx, http.MethodPost, "/v1/tokens", nil, api.CreateTokenRequest{User: user, Name: name, ExpiresIn: int64(ttl / time.Second), Policy: asString(policy)}, &t)
	return t, err
}

// Login exchanges a user's name and password for a new token (named
// name, expiring after ttl; 0: the server's default). The client needs no
// token for it.
func (c *Client) Login(ctx context.Context, user, password, name string, ttl time.Duration) (api.Token, error) {
	var t api.Token
	err := c.doJSON(ctx, http.MethodPost, "/v1/login", nil, api.LoginRequest{User: user, Password: password, Name: name, ExpiresIn: int64(ttl / time.Second)}, &t)
	return t, err
}

// AWSLoginInfo says what an AWS login to this server is signed for: its STS
// endpoint and region.
func (c *Client) AWSLoginInfo(ctx context.Context) (api.AWSLoginInfo, error) {
	var i api.AWSLoginInfo
	err := c.doJSON(ctx, http.MethodGet, "/v1/login/aws", nil, nil, &i)
	return i, err
}

// LoginAWS exchanges a signed sts:GetCallerIdentity request for a new
// token of the user its signer maps to. The client needs no token for it.
func (c *Client) LoginAWS(ctx context.Context, req api.AWSLoginRequest) (api.AWSLoginResult, error) {
	var r api.AWSLoginResult
	err := c.doJSON(ctx, http.MethodPost, "/v1/login/aws", nil, req, &r)
	return r, err
}

// AWSIdentities lists the AWS identities that log in as user (admins).
func (c *Client) AWSIdentities(ctx context.Context, user string) ([]api.AWSIdentity, error) {
	var r struct {
		Identities []api.AWSIdentity `json:"identities"`
	}
	err := c.doJSON(ctx, http.MethodGet, "/v1/users/"+url.PathEscape(user)+"/aws-identities", nil, nil, &r)
	return r.Identities, err
}

// AddAWSIdentity maps the AWS identity arn to user (admins).
func (c *Client) AddAWSIdentity(ctx context.Context, user, arn string) (api.AWSIdentity, error) {
	var r api.AWSIdentity
	err := c.doJSON(ctx, http.MethodPost, "/v1/users/"+url.PathEscape(user)+"/aws-identities", nil, api.AWSIdentityRequest{ARN: arn}, &r)
	return r, err
}

// RemoveAWSIdentity removes the mapping of arn to user (admins).
func (c *Client) RemoveAWSIdentity(ctx context.Context, user, arn string) error {
	return c.doJSON(ctx, http.MethodDelete, "/v1/users/"+url.PathEscape(user)+"/aws-identities", url.Values{"arn": {arn}}, nil, nil)
}

// SetPassword sets the password of user ("" for oneself; password "" removes
// it). Changing one's own password needs the current one, if set.
func (c *Client) SetPassword(ctx context.Context, user, current, password string) error {
	if user == "" {
		u, err := c.Whoami(ctx)
		if err != nil {
			return err
		}
		user = u.Name
	}
	return c.doJSON(ctx, http.MethodPut, "/v1/users/"+url.PathEscape(user)+"/password", nil, api.PasswordRequest{Current: current, Password: password}, nil)
}

// RevokeToken deletes a token of user ("" for oneself).
func (c *Client) RevokeToken(ctx context.Context, user, id string) error {
	var q url.Values
	if user != "" {
		q = url.Values{"user": {user}}
	}
	return c.doJSON(ctx, http.MethodDelete, "/v1/tokens/"+url.PathEscape(id), q, nil, nil)
}

// RotateKeys starts a master key rotation (admins only) and returns its
// job, running; WaitKeyRotation follows it.
func (c *Client) RotateKeys(ctx context.Context) (api.Job, error) {
	var ans api.Accepted
	err := c.doJSON(ctx, http.MethodPost, "/v1/admin/keys/rotate", nil, nil, &ans)
	return ans.Job, err
}

// KeyStatus describes the master keys and the latest rotation (admins
// only).
func (c *Client) KeyStatus(ctx context.Context) (api.KeyStatus, error) {
	var st api.KeyStatus
	err := c.doJSON(ctx, http.MethodGet, "/v1/admin/keys", nil, nil, &st)
	return st, err
}

// WaitKeyRotation waits until the latest key rotation is no longer running
// (whoever started it; one whose server stopped resumes within minutes)
// and returns the key status then. progress, if not nil, hears each status
// on the way. A rotation that failed is an error.
func (c *Client) WaitKeyRotation(ctx context.Context, progress func(api.KeyStatus)) (api.KeyStatus, error) {
	st, err := c.KeyStatus(ctx)
	if err != nil {
		return st, err
	}
	err = poll(ctx, func() (bool, error) {
		if st.Rotation == nil || st.Rotation.Job.State != api.JobRunning {
			return true, nil
		}
		if progress != nil {
			progress(st)
		}
		return false, nil
	}, func() (err error) {
		st, err = c.KeyStatus(ctx)
		return err
	})
	if err == nil && st.Rotation != nil && st.Rotation.Job.Error != nil {
		err = jobError(st.Rotation.Job.Error)
	}
	return st, err
}

// jobError is the error a failed job ended with, as the operation's own
// would be.
func jobError(e *api.JobError) error {
	return &Error{Status: e.Status, Code: e.Code, Title: http.StatusText(e.Status), Detail: e.Detail}
}

// Collect runs the server's garbage collector now (admins only).
func (c *Client) Collect(ctx context.Context, grace time.Duration) (api.CollectResult, error) {
	var r api.CollectResult
	err := c.doJSON(ctx, http.MethodPost, "/v1/admin/collect", nil, api.CollectRequest{GraceSeconds: int64(grace / time.Second)}, &r)
	return r, err
}

// PutOptions tune Put.
type PutOptions struct {
	// SHA256 is sent as Content-Digest; the server refuses content that
	// does not match.
	SHA256 []byte
	MTime  time.Time
	// IfNoneMatch makes the upload fail if the path exists.
	IfNoneMatch bool
	// Progress is called with the number of bytes sent as they go.
	Progress func(n int64)
}

// Put uploads r (size bytes, or -1 if unknown) to path in one request. For
// big files UploadFile is better: it sends parts in parallel and resumes.
// Put is retried only when r is an io.ReadSeeker.
func (c *Client) Put(ctx context.Context, path string, r io.Reader, size int64, o PutOptions) (api.Entry, error) {
	h := http.Header{"Content-Type": {"application/octet-stream"}}
	if o.SHA256 != nil {
		h.Set(api.HeaderContentDigest, api.FormatSHA256(o.SHA256))
	}
	if !o.MTime.IsZero() {
		h.Set(api.HeaderMTime, o.MTime.UTC().Format(time.RFC3339Nano))
	}
	if o.IfNoneMatch {
		h.Set("If-None-Match", "*")
	}
	u, err := storeURL("/v1/files", path)
	if err != nil {
		return api.Entry{}, err
	}
	rq := request{method: http.MethodPut, path: u, header: h, body: progressReader(r, o.Progress), size: size}
	if rs, ok := r.(io.ReadSeeker); ok {
		start, err := rs.Seek(0, io.SeekCurrent)
		if err == nil {
			rq.retry = true
			rq.rewind = func() (io.Reader, error) {
				if _, err := rs.Seek(start, io.SeekStart); err != nil {
					return nil, err
				}
				return progressReader(rs, o.Progress), nil
			}
		}
	}
	if rq.rewind == nil {
		// A stream cannot be sent again once read. The server decides
		// (authentication, policies, rate limits) before it reads a
		// body, and with Expect: 100-continue nothing of it is sent
		// until then: a refusal before that (a rate limit's 429) is
		// retried with the stream untouched.
		h.Set("Expect", "100-continue")
		ub := &untouchedBody{r: rq.body}
		rq.body, rq.rewind = ub, ub.again
	}
	resp, err := c.do(ctx, rq)
	if err != nil {
		return api.Entry{}, err
	}
	defer resp.Body.Close()
	var e api.Entry
	if err := decodeJSON(resp.Body, &e); err != nil {
		return api.Entry{}, fmt.Errorf("PUT %s: %w", path, err)
	}
	return e, nil
}

func decodeJSON(r io.Reader, v any) error {
	return jsonDecoder(io.LimitReader(r, 16<<20)).Decode(v)
}

// GetOptions select what Get reads.
type GetOptions struct {
	// Version reads an old version; 0 is the current one.
	Version int64
	// Offset and Length select a range; Length 0 reads to the end.
	Offset int64
	Length int64
	// IfRange is the SHA-256 (hex) the file must still have for the range
	// to apply; otherwise the whole file comes back (Partial false).
	IfRange string
}

// Download is an open download. Size, SHA256, Version and ModTime describe
// the whole file; Offset and Length the bytes in Body.
type Download struct {
	Body    io.ReadCloser
	Partial bool
	Offset  int64
	Length  int64
	Size    int64
	SHA256  string
	Version int64
	ModTime time.Time
}

// Get opens a download of the file at path. The caller closes Body.
func (c *Client) Get(ctx context.Context, path string, o GetOptions) (*Download, error) {
	var q url.Values
	if o.Version > 0 {
		q = url.Values{"version": {strconv.FormatInt(o.Version, 10)}}
	}
	h := http.Header{}
	if o.Offset > 0 || o.Length > 0 {
		if o.Length > 0 {
			h.Set("Range", fmt.Sprintf("bytes=%d-%d", o.Offset, o.Offset+o.Length-1))
		} else {
			h.Set("Range", fmt.Sprintf("bytes=%d-", o.Offset))
		}
		if o.IfRange != "" {
			h.Set("If-Range", `"`+o.IfRange+`"`)
		}
	}
	u, err := storeURL("/v1/files", path)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: u, query: q, header: h, retry: true})
	if err != nil {
		return nil, err
	}
	d, err := downloadOf(resp)
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	return d, nil
}

func downloadOf(resp *http.Response) (*Download, error) {
	d := &Download{Body: resp.Body, Length: resp.ContentLength, Partial: resp.StatusCode == http.StatusPartialContent}
	etag := strings.Trim(resp.Header.Get("ETag"), `"`)
	if _, err := hex.DecodeString(etag); err != nil || len(etag) != 64 {
		return nil, fmt.Errorf("the server sent no usable ETag")
	}
	d.SHA256 = etag
	d.Version, _ = strconv.ParseInt(resp.Header.Get(api.HeaderVersion), 10, 64)
	d.ModTime, _ = http.ParseTime(resp.Header.Get("Last-Modified"))
	d.Size = resp.ContentLength
	if d.Partial {
		var first, last, size int64
		if _, err := fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-%d/%d", &first, &last, &size); err != nil {
			return nil, fmt.Errorf("malformed Content-Range %q", resp.Header.Get("Content-Range"))
		}
		d.Offset, d.Size = first, size
	}
	return d, nil
}

// progressReader reports bytes read to fn.
func progressReader(r io.Reader, fn func(int64)) io.Reader {
	if fn == nil || r == nil {
		return r
	}
	return &progress{r: r, fn: fn}
}

type progress struct {
	r  io.Reader
	fn func(int64)
}

func (p *progress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.fn(int64(n))
	}
	return n, err
}

// Policies lists the policies (admins), without their documents.
func (c *Client) Policies(ctx context.Context) ([]api.Policy, error) {
	var r struct {
		Policies []api.Policy `json:"policies"`
	}
	err := c.doJSON(ctx, http.MethodGet, "/v1/policies", nil, nil, &r)
	return r.Policies, err
}

// Policy describes a policy with its document.
func (c *Client) Policy(ctx context.Context, name string) (api.Policy, error) {
	var p api.Policy
	err := c.doJSON(ctx, http.MethodGet, "/v1/policies/"+url.PathEscape(name), nil, nil, &p)
	return p, err
}

// PutPolicy stores a policy document: a new policy (create), or a new
// document for an existing one.
func (c *Client) PutPolicy(ctx context.Context, name string, doc []byte, create bool) (api.Policy, error) {
	var p api.Policy
	var err error
	if create {
		err = c.doJSON(ctx, http.MethodPost, "/v1/policies", nil, api.PolicyRequest{Name: name, Document: asString(doc)}, &p)
	} else {
		err = c.doJSON(ctx, http.MethodPut, "/v1/policies/"+url.PathEscape(name), nil, api.PolicyRequest{Document: asString(doc)}, &p)
	}
	return p, err
}

// DeletePolicy deletes a policy nothing is attached to.
func (c *Client) DeletePolicy(ctx context.Context, name string) error {
	return c.doJSON(ctx, http.MethodDelete, "/v1/policies/"+url.PathEscape(name), nil, nil, nil)
}

// AttachPolicy attaches a policy to a user or a group (or, with attach
// false, detaches it).
func (c *Client) AttachPolicy(ctx context.Context, name string, to api.AttachRequest, attach bool) error {
	p := "/v1/policies/" + url.PathEscape(name) + "/attachments"
	if attach {
		return c.doJSON(ctx, http.MethodPost, p, nil, to, nil)
	}
	q := url.Values{}
	if to.User != "" {
		q.Set("user", to.User)
	}
	if to.Group != "" {
		q.Set("group", to.Group)
	}
	return c.doJSON(ctx, http.MethodDelete, p, q, nil, nil)
}

// Simulate asks whether a user would be allowed an action on a resource.
func (c *Client) Simulate(ctx context.Context, req api.SimulateRequest) (api.SimulateResult, error) {
	var r api.SimulateResult
	err := c.doJSON(ctx, http.MethodPost, "/v1/simulate", nil, req, &r)
	return r, err
}

// Groups lists the groups with their members and policies.
func (c *Client) Groups(ctx context.Context) ([]api.Group, error) {
	var r struct {
		Groups []api.Group `json:"groups"`
	}
	err := c.doJSON(ctx, http.MethodGet, "/v1/groups", nil, nil, &r)
	return r.Groups, err
}

// CreateGroup makes an empty group.
func (c *Client) CreateGroup(ctx context.Context, name string) error {
	return c.doJSON(ctx, http.MethodPost, "/v1/groups", nil, api.GroupRequest{Name: name}, nil)
}

// DeleteGroup deletes a group with no members and no policies.
func (c *Client) DeleteGroup(ctx context.Context, name string) error {
	return c.doJSON(ctx, http.MethodDelete, "/v1/groups/"+url.PathEscape(name), nil, nil, nil)
}

// GroupMember puts a user in a group (in) or takes them out.
func (c *Client) GroupMember(ctx context.Context, group, user string, in bool) error {
	method := http.MethodDelete
	if in {
		method = http.MethodPut
	}
	return c.doJSON(ctx, method, "/v1/groups/"+url.PathEscape(group)+"/members/"+url.PathEscape(user), nil, nil, nil)
}

// asString sends a policy document as a JSON string, byte for byte, so
// that the server's errors point at its own lines and columns (nil: none).
func asString(doc []byte) json.RawMessage {
	if doc == nil {
		return nil
	}
	b, _ := json.Marshal(string(doc))
	return b
}

// UserLimits reads the rate limits of user: their own and those that
// apply (a user may read their own; admins anyone's).
func (c *Client) UserLimits(ctx context.Context, user string) (api.UserLimits, error) {
	var r api.UserLimits
	err := c.doJSON(ctx, http.MethodGet, "/v1/users/"+url.PathEscape(user)+"/limits", nil, nil, &r)
	return r, err
}

// SetUserLimits replaces the user's own rate limits (admins): nil members
// keep the server's default, 0 lifts that limit.
func (c *Client) SetUserLimits(ctx context.Context, user string, l api.LimitsRequest) (api.UserLimits, error) {
	var r api.UserLimits
	err := c.doJSON(ctx, http.MethodPut, "/v1/users/"+url.PathEscape(user)+"/limits", nil, l, &r)
	return r, err
}

// ClearUserLimits drops the user's own rate limits: the defaults apply
// (admins).
func (c *Client) ClearUserLimits(ctx context.Context, user string) error {
	return c.doJSON(ctx, http.MethodDelete, "/v1/users/"+url.PathEscape(user)+"/limits", nil, nil, nil)
}

// Usage is what the home folder of user ("" for oneself) holds against
// their quota.
func (c *Client) Usage(ctx context.Context, user string) (api.Usage, error) {
	var q url.Values
	if user != "" {
		q = url.Values{"user": {user}}
	}
	var u api.Usage
	err := c.doJSON(ctx, http.MethodGet, "/v1/usage", q, nil, &u)
	return u, err
}

// SetQuota sets the limits of user's home folder (0: none; nil keeps
// the limit set) and returns its usage.
func (c *Client) SetQuota(ctx context.Context, user string, bytes, files *int64) (api.Usage, error) {
	var u api.Usage
	err := c.doJSON(ctx, http.MethodPut, "/v1/users/"+url.PathEscape(user)+"/quota", nil, api.QuotaRequest{Bytes: bytes, Files: files}, &u)
	return u, err
}

// RecountUsage counts again what user's home folder holds.
func (c *Client) RecountUsage(ctx context.Context, user string) (api.Usage, error) {
	var u api.Usage
	err := c.doJSON(ctx, http.MethodPost, "/v1/users/"+url.PathEscape(user)+"/quota/recount", nil, nil, &u)
	return u, err
}

// Archive moves the content of the file at path to an archive class; with
// req.Recursive on a folder it answers the job archiving its files
// instead (follow it with WaitJob).
func (c *Client) Archive(ctx context.Context, path string, req api.ArchiveRequest) (api.Entry, *api.Job, error) {
	var ans struct {
		api.Entry
		Job *api.Job `json:"job"`
	}
	u, err := storeURL("/v1/archive", path)
	if err != nil {
		return api.Entry{}, nil, err
	}
	if err := c.doJSON(ctx, http.MethodPost, u, nil, req, &ans); err != nil {
		return api.Entry{}, nil, err
	}
	return ans.Entry, ans.Job, nil
}

// Restore asks for a readable copy of the archived file at path; with
// req.Recursive on a folder it answers the job asking for its files'.
func (c *Client) Restore(ctx context.Context, path string, req api.RestoreRequest) (api.RestoreResult, *api.Job, error) {
	var ans struct {
		api.RestoreResult
		Job *api.Job `json:"job"`
	}
	u, err := storeURL("/v1/restore", path)
	if err != nil {
		return api.RestoreResult{}, nil, err
	}
	if err := c.doJSON(ctx, http.MethodPost, u, nil, req, &ans); err != nil {
		return api.RestoreResult{}, nil, err
	}
	return ans.RestoreResult, ans.Job, nil
}

// ArchivePrices is the server's price table for archive and restore
// estimates.
func (c *Client) ArchivePrices(ctx context.Context) (api.ArchivePrices, error) {
	var p api.ArchivePrices
	err := c.doJSON(ctx, http.MethodGet, "/v1/archive-prices", nil, nil, &p)
	return p, err
}

// ArchiveRules lists the archive rules on the folder under (the caller's
// home for "") and below it.
func (c *Client) ArchiveRules(ctx context.Context, under string) ([]api.ArchiveRule, error) {
	var rules []api.ArchiveRule
	var q url.Values
	if under != "" {
		q = url.Values{"path": {under}}
	}
	err := c.doJSON(ctx, http.MethodGet, "/v1/archive-rules", q, nil, &rules)
	return rules, err
}

// SetArchiveRule sets the archive rule of the folder at path.
func (c *Client) SetArchiveRule(ctx context.Context, path string, req api.ArchiveRuleRequest) (api.ArchiveRule, error) {
	var rule api.ArchiveRule
	u, err := storeURL("/v1/archive-rules", path)
	if err != nil {
		return rule, err
	}
	err = c.doJSON(ctx, http.MethodPut, u, nil, req, &rule)
	return rule, err
}

// DeleteArchiveRule removes the archive rule of the folder at path.
func (c *Client) DeleteArchiveRule(ctx context.Context, path string) error {
	u, err := storeURL("/v1/archive-rules", path)
	if err != nil {
		return err
	}
	return c.doJSON(ctx, http.MethodDelete, u, nil, nil, nil)
}
