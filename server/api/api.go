// Package api holds the wire types of Strata's HTTP API, its stable error
// codes and the header formats both sides must agree on. The server and every
// client (the CLI, the TUI) use these and nothing else from each other.
// docs/api.md describes the API in prose.
package api

import (
	"encoding/json"
	"time"
)

// Error codes: the stable, machine-readable "code" member of every problem
// response. Clients branch on these, never on titles or details.
const (
	CodeInvalidPath      = "invalid_path"
	CodeInvalidRequest   = "invalid_request"
	CodeInvalidJSON      = "invalid_json"
	CodeInvalidRange     = "invalid_range"
	CodeNotFound         = "not_found"
	CodeExists           = "already_exists"
	CodeNotDir           = "not_a_folder"
	CodeIsDir            = "is_a_folder"
	CodeNotEmpty         = "folder_not_empty"
	CodeForbidden        = "forbidden"
	CodeUnauthorized     = "unauthorized"
	CodeDigestMismatch   = "digest_mismatch"
	CodeLengthMismatch   = "length_mismatch"
	CodeTooLarge         = "too_large"
	CodeNoSpace          = "insufficient_storage"
	CodeConflict         = "conflict"
	CodePrecondition     = "precondition_failed"
	CodeIntegrity        = "integrity_error"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeRouteNotFound    = "no_such_route"
	CodeTimeout          = "timeout"
	CodeCanceled         = "canceled"
	CodeUnavailable      = "unavailable"
	CodeInternal         = "internal"
	CodeTooMany          = "too_many"
	// CodeRateLimited: a rate limit refused the request before it did
	// anything; Retry-After says when to send it again.
	CodeRateLimited = "rate_limited"
	// CodeQuotaExceeded: the write would take a home folder past its
	// quota; the problem's "quota" member says which and by how much.
	CodeQuotaExceeded = "quota_exceeded"
	CodeArchived      = "archived"
)

// ProblemType is the prefix of every problem's "type" URI; the code follows.
const ProblemType = "https://strata.dev/problems/"

// Problem is an RFC 9457 problem detail (application/problem+json).
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	Code      string `json:"code"`
	RequestID string `json:"requestId,omitempty"`
	// Quota is set on quota_exceeded, when the server knows the figures.
	Quota *QuotaProblem `json:"quota,omitempty"`
}

// QuotaProblem is what a quota_exceeded problem says: the home folder of
// User uses Used of its Limit of Resource ("bytes" or "files"; bytes
// include what open upload sessions reserved), and the write needed Need
// more.
type QuotaProblem struct {
	User     string `json:"user,omitempty"`
	Resource string `json:"resource"`
	Used     int64  `json:"used"`
	Limit    int64  `json:"limit"`
	Need     int64  `json:"need"`
}

// Usage answers GET /v1/usage and the quota routes: what a user's home
// folder holds against their quota. Bytes count every version of every
// file kept, in the tree and in trash; Reserved is what open upload
// sessions hold on top. A limit of 0 is none. Counted is false for a home
// folder from before quotas whose usage was never counted.
type Usage struct {
	User       string `json:"user"`
	Home       string `json:"home"`
	Bytes      int64  `json:"bytes"`
	Reserved   int64  `json:"reserved"`
	Files      int64  `json:"files"`
	QuotaBytes int64  `json:"quotaBytes"`
	QuotaFiles int64  `json:"quotaFiles"`
	Counted    bool   `json:"counted"`
}

// QuotaRequest is the body of PUT /v1/users/{name}/quota: the limits to
// set (0: none); a member left out keeps its limit.
type QuotaRequest struct {
	Bytes *int64 `json:"bytes,omitempty"`
	Files *int64 `json:"files,omitempty"`
}

// Headers.
const (
	HeaderRequestID     = "X-Request-Id"
	HeaderContentDigest = "Content-Digest"
	HeaderReprDigest    = "Repr-Digest"
	HeaderMTime         = "X-Strata-Mtime"   // RFC 3339 file time sent with a PUT
	HeaderVersion       = "X-Strata-Version" // version number of a downloaded file
	// HeaderCursor is sent with a page of a folder listing (GET /v1/dirs),
	// before the page: the cursor of the next page, empty after the last.
	HeaderCursor = "X-Strata-Cursor"
)

// MaxJSONBody is the largest JSON request body the server reads.
const MaxJSONBody = 1 << 20

// Kind values of Entry.Kind.
const (
	KindFile = "file"
	KindDir  = "dir"
)

// Entry describes a file or folder.
type Entry struct {
	Path    string    `json:"path"`
	Name    string    `json:"name"`
	Kind    string    `json:"kind"`
	ID      string    `json:"id"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	Created time.Time `json:"created"`
	SHA256  string    `json:"sha256,omitempty"`
	// ClientDigest: SHA256 is the word of the client that uploaded the
	// content (a clientDigest session), not the server's computation: the
	// server checked the stored parts against the CRC-32C the client read
	// with it, not the SHA-256. A
	// download is checked against it all the same; do not take it as
	// proof that content you hold is what is stored, unless it is your
	// own client's word: ClientDigestBy is the user ID of the uploader
	// whose client gave it (empty for files completed before Strata kept
	// it).
	ClientDigest   bool   `json:"clientDigest,omitempty"`
	ClientDigestBy string `json:"clientDigestBy,omitempty"`
	Version        int64  `json:"version,omitempty"`
	State          string `json:"state,omitempty"`
	// Archive is where an archived file stands (nil when hot).
	Archive *ArchiveInfo `json:"archive,omitempty"`
}

// IsDir reports whether the entry is a folder.
func (e Entry) IsDir() bool { return e.Kind == KindDir }

// Job states.
const (
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// Job is a long operation (a folder copy) that runs on the server whether
// or not its client waits: POST /v1/copy answers 202 with it when it is not
// done within a few seconds, and GET /v1/jobs/{id} follows it.
type Job struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	State string `json:"state"`
	// Done counts the entries handled so far.
	Done int64  `json:"done"`
	Path string `json:"path,omitempty"`
	// Result is what a done job made; Error why a failed one failed (with
	// the code the operation itself would have answered).
	Result *Entry    `json:"result,omitempty"`
	Error  *JobError `json:"error,omitempty"`
	// Skipped counts the files a folder archive or restore left out, Why
	// says why the last one was.
	Skipped int64     `json:"skipped,omitempty"`
	Why     string    `json:"why,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// JobError is why a job failed.
type JobError struct {
	Code   string `json:"code"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

// Accepted is the answer of an operation that goes on as a job.
type Accepted struct {
	Job Job `json:"job"`
}

// Page is one page of a folder listing; Cursor is empty on the last page.
type Page struct {
	Entries []Entry `json:"entries"`
	Cursor  string  `json:"cursor,omitempty"`
}

// Version describes a kept version of a file.
type Version struct {
	Version int64  `json:"version"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	Author  string `json:"author"`
	// AuthorID is the user ID of who wrote it (empty for versions
	// written before Strata kept it).
	AuthorID string    `json:"authorId,omitempty"`
	Time     time.Time `json:"time"`
	ModTime  time.Time `json:"mtime"`
	Current  bool      `json:"current"`
}

// VersionPage is one page of versions, newest first.
type VersionPage struct {
	Versions []Version `json:"versions"`
	Cursor   string    `json:"cursor,omitempty"`
}

// TrashItem is an entry in the caller's trash.
type TrashItem struct {
	ID      string    `json:"id"`
	Path    string    `json:"path"`
	Name    string    `json:"name"`
	Kind    string    `json:"kind"`
	Size    int64     `json:"size"`
	Deleted time.Time `json:"deleted"`
}

// TrashPage is one page of the trash, newest first.
type TrashPage struct {
	Items  []TrashItem `json:"items"`
	Cursor string      `json:"cursor,omitempty"`
}

// MoveRequest is the body of POST /v1/move.
type MoveRequest struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Overwrite bool   `json:"overwrite,omitempty"`
}

// CopyRequest is the body of POST /v1/copy.
type CopyRequest struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// FileAttrsRequest is the body of PATCH /v1/files/{path}: the metadata
// to change (MTime is required).
type FileAttrsRequest struct {
	MTime *time.Time `json:"mtime"`
}

// RestoreVersionRequest is the body of POST /v1/versions/{path}.
type RestoreVersionRequest struct {
	Version int64 `json:"version"`
}

// RestoreTrashRequest is the body of POST /v1/trash/{id}/restore; To is
// optional (default: where the entry was).
type RestoreTrashRequest struct {
	To string `json:"to,omitempty"`
}

// EmptyTrashResult answers DELETE /v1/trash.
type EmptyTrashResult struct {
	Purged int `json:"purged"`
}

// CreateUploadRequest is the body of POST /v1/uploads.
type CreateUploadRequest struct {
	Path        string     `json:"path"`
	Size        int64      `json:"size"`
	PartSize    int64      `json:"partSize,omitempty"`
	SHA256      string     `json:"sha256,omitempty"` // hex
	MTime       *time.Time `json:"mtime,omitempty"`
	Fingerprint string     `json:"fingerprint,omitempty"`
	// ClientDigest asks that the server not hash the file: the client
	// gives the file's SHA-256 and every part's CRC-32C at Complete, from
	// its own read of the file. Granted for a file in one's own home only;
	// Upload.ClientDigest says whether it was (docs/api.md, Resumable
	// uploads).
	ClientDigest bool `json:"clientDigest,omitempty"`
}

// Upload describes an upload session.
type Upload struct {
	ID           string       `json:"id"`
	Path         string       `json:"path"`
	Size         int64        `json:"size"`
	PartSize     int64        `json:"partSize"`
	Parts        int          `json:"parts"`
	SHA256       string       `json:"sha256,omitempty"`
	Fingerprint  string       `json:"fingerprint,omitempty"`
	ClientDigest bool         `json:"clientDigest,omitempty"`
	Created      time.Time    `json:"created"`
	Expires      time.Time    `json:"expires"`
	Received     []UploadPart `json:"received,omitempty"`
	// User is who opened the session when it is someone else than the
	// user whose sessions were listed: it reserves in that user's home
	// (through a share, or an admin's), who may abort it. Its path is as
	// its uploader named it.
	User string `json:"user,omitempty"`
}

// UploadPart is a received part: its CRC-32C (8 hex digits, of the
// plaintext; absent for parts stored by servers before it was kept), and
// its SHA-256 only if it was sent with one to check.
type UploadPart struct {
	N      int    `json:"n"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	CRC32C string `json:"crc32c,omitempty"`
}

// CompleteUploadRequest is the body of POST /v1/uploads/{id}/complete.
type CompleteUploadRequest struct {
	SHA256 string `json:"sha256,omitempty"` // hex
	// PartCRC32C is every part's CRC-32C in order (8 hex digits each),
	// as the client read the parts; each must be that of the part stored.
	PartCRC32C []string `json:"partCrc32c,omitempty"`
}

// User describes a user.
type User struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Admin   bool      `json:"admin"`
	Home    string    `json:"home"`
	Created time.Time `json:"created"`
	// Password says whether the user can log in with a password.
	Password bool `json:"password"`
	// Groups the user is in; Policies attached to the user directly.
	Groups   []string `json:"groups,omitempty"`
	Policies []string `json:"policies,omitempty"`
	// AWSIdentities are the ARNs that log in as the user (strata login
	// --aws), as an administrator added them.
	AWSIdentities []string `json:"awsIdentities,omitempty"`
	// Applies (whoami only) is every policy that decides for the user,
	// with its document; SessionPolicy the token's, if it has one.
	Applies       []Policy `json:"applies,omitempty"`
	SessionPolicy string   `json:"sessionPolicy,omitempty"`
}

// LoginRequest is the body of POST /v1/login: a user's name and password,
// exchanged for a new token (named Name, expiring after ExpiresIn seconds,
// 0: 30 days).
type LoginRequest struct {
	User      string `json:"user"`
	Password  string `json:"password"`
	Name      string `json:"name,omitempty"`
	ExpiresIn int64  `json:"expiresIn,omitempty"`
}

// AWSLoginInfo answers GET /v1/login/aws: what a client signs its AWS
// login for. The server IDs are for telling a user which address to log in
// to; a client names the address it uses itself, never one of these.
type AWSLoginInfo struct {
	STSEndpoint string   `json:"stsEndpoint"`
	Region      string   `json:"region"`
	ServerIDs   []string `json:"serverIds"`
}

// AWSLoginRequest is the body of POST /v1/login/aws: an
// sts:GetCallerIdentity request signed by the client, exchanged for a new
// token (named Name, expiring after ExpiresIn seconds, 0: 30 days).
type AWSLoginRequest struct {
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      string            `json:"body"`
	Name      string            `json:"name,omitempty"`
	ExpiresIn int64             `json:"expiresIn,omitempty"`
}

// AWSLoginResult answers POST /v1/login/aws: the new token, and the ARN
// STS said signed the request.
type AWSLoginResult struct {
	Token
	ARN string `json:"arn"`
}

// AWSIdentity is an AWS identity (the ARN of an IAM user, of a role for
// all its sessions, or of one role session) that logs in as a user.
type AWSIdentity struct {
	ARN     string    `json:"arn"`
	User    string    `json:"user"`
	Created time.Time `json:"created"`
}

// AWSIdentityRequest is the body of POST /v1/users/{name}/aws-identities.
type AWSIdentityRequest struct {
	ARN string `json:"arn"`
}

// PasswordRequest is the body of PUT /v1/users/{name}/password: the new
// password ("" removes it) and, for one's own, the current one.
type PasswordRequest struct {
	Current  string `json:"current,omitempty"`
	Password string `json:"password"`
}

// CreateUserRequest is the body of POST /v1/users.
type CreateUserRequest struct {
	Name  string `json:"name"`
	Admin bool   `json:"admin,omitempty"`
	// Token asks for a first token for the new user in the answer.
	Token bool `json:"token,omitempty"`
}

// CreateUserResult answers POST /v1/users.
type CreateUserResult struct {
	User  User   `json:"user"`
	Token *Token `json:"token,omitempty"`
}

// Token describes an API token; Secret is set only in the answer that
// created it.
type Token struct {
	ID      string     `json:"id"`
	User    string     `json:"user"`
	Name    string     `json:"name,omitempty"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires,omitempty"`
	Secret  string     `json:"token,omitempty"`
	// SessionPolicy is the token's session policy (a document), which
	// narrows what the token may do; "" for none.
	SessionPolicy string `json:"sessionPolicy,omitempty"`
}

// CreateTokenRequest is the body of POST /v1/tokens. ExpiresIn is in
// seconds; 0 means never.
type CreateTokenRequest struct {
	User      string `json:"user,omitempty"`
	Name      string `json:"name,omitempty"`
	ExpiresIn int64  `json:"expiresIn,omitempty"`
	// Policy is a session policy document (a JSON object): the token may
	// do only what its user's policies and it both allow.
	Policy json.RawMessage `json:"policy,omitempty"`
}

// Policy describes a policy (GET /v1/policies/{name} has its document).
type Policy struct {
	Name     string          `json:"name"`
	Document json.RawMessage `json:"document,omitempty"`
	Created  time.Time       `json:"created"`
	Updated  time.Time       `json:"updated"`
	Users    []string        `json:"users"`
	Groups   []string        `json:"groups"`
	BuiltIn  bool            `json:"builtIn,omitempty"`
}

// PolicyRequest is the body of POST /v1/policies (Name and Document) and
// PUT /v1/policies/{name} (Document). The document is a JSON object, or a
// string holding one (then error positions are its own lines and
// columns).
type PolicyRequest struct {
	Name     string          `json:"name,omitempty"`
	Document json.RawMessage `json:"document"`
}

// AttachRequest names what a policy is attached to: a user or a group.
type AttachRequest struct {
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`
}

// Group describes a group.
type Group struct {
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	Members  []string  `json:"members"`
	Policies []string  `json:"policies"`
}

// GroupRequest is the body of POST /v1/groups.
type GroupRequest struct {
	Name string `json:"name"`
}

// SimulateRequest is the body of POST /v1/simulate: would user be allowed
// action on resource (a path, or strata:<kind>/...), in a request with
// these condition keys?
type SimulateRequest struct {
	User     string `json:"user"`
	Action   string `json:"action"`
	Resource string `json:"resource"`
	// SourceIP, SecureTransport, Time, Via and ContentLength set the
	// condition keys of the same names (defaults: none, false, now, http,
	// none).
	SourceIP        string     `json:"sourceIp,omitempty"`
	SecureTransport bool       `json:"secureTransport,omitempty"`
	Time            *time.Time `json:"time,omitempty"`
	Via             string     `json:"via,omitempty"`
	ContentLength   *int64     `json:"contentLength,omitempty"`
}

// SimulateResult answers POST /v1/simulate: "Allow" or "Deny", and the
// statement that decided (none for an implicit deny).
type SimulateResult struct {
	Decision  string     `json:"decision"`
	Reason    string     `json:"reason"`
	Statement *Statement `json:"statement,omitempty"`
	// SessionStatement is a session policy's Allow that also let it
	// through (simulate has no session policy; reserved).
	SessionStatement *Statement `json:"sessionStatement,omitempty"`
}

// Statement names a statement of a policy.
type Statement struct {
	Policy string `json:"policy"`
	Sid    string `json:"sid,omitempty"`
	Index  int    `json:"index"`
	Effect string `json:"effect"`
}

// CollectResult answers POST /v1/admin/collect.
type CollectResult struct {
	ExpiredUploads int   `json:"expiredUploads"`
	StaleSessions  int   `json:"staleSessions"`
	Purges         int   `json:"purges"`
	OrphanBlobs    int   `json:"orphanBlobs"`
	OrphanBytes    int64 `json:"orphanBytes"`
	ScannedBlobs   int   `json:"scannedBlobs"`
	StrayUploads   int   `json:"strayUploads"`
	AbandonedJobs  int   `json:"abandonedJobs"`
	ExpiredItems   int   `json:"expiredItems"`
}

// CollectRequest is the body of POST /v1/admin/collect. GraceSeconds 0 uses
// the server's default.
type CollectRequest struct {
	GraceSeconds int64 `json:"graceSeconds,omitempty"`
}

// KeyStatus answers GET /v1/admin/keys: the master keys, how many data keys
// each wraps, and the latest key rotation.
type KeyStatus struct {
	// Current is the master key new data keys are wrapped under.
	Current string   `json:"current"`
	Keys    []KeyUse `json:"keys"`
	// ScannedAt is when the last complete scan of a rotation ended; the
	// counts are as of then. Absent before the first rotation.
	ScannedAt *time.Time `json:"scannedAt,omitempty"`
	// Failed counts the data keys that scan could not unwrap.
	Failed int64 `json:"failed,omitempty"`
	// MakesKeys: a rotation makes a new master key (the local key file);
	// otherwise (KMS) it moves data keys onto the key configured now.
	MakesKeys bool `json:"makesKeys"`
	// RetiresKeys: a rotation retires the old keys nothing uses any more;
	// otherwise (KMS) that is the operator's.
	RetiresKeys bool      `json:"retiresKeys"`
	Rotation    *Rotation `json:"rotation,omitempty"`
}

// KeyUse is one master key.
type KeyUse struct {
	ID      string `json:"id"`
	Current bool   `json:"current"`
	// Known: the key service has the key. A key only the scan knows of
	// was dropped while data keys were still wrapped under it.
	Known bool `json:"known"`
	// DataKeys is how many data keys the last scan found under the key.
	DataKeys int64 `json:"dataKeys"`
	// InFlight counts the writes on the answering server that hold a data
	// key wrapped under the key now.
	InFlight int `json:"inFlight,omitempty"`
}

// Rotation is a key rotation's progress.
type Rotation struct {
	Job Job `json:"job"`
	// Running: a server works on it now. A rotation whose state is running
	// but that no server runs resumes at its server's next start (or on
	// another server within minutes).
	Running bool   `json:"running"`
	Target  string `json:"target"`
	// Pass counts the passes over the store (another follows when an old
	// key could not be retired yet); Phase is blobs, uploads, canary,
	// retire or waiting (for writes in flight under an old key).
	Pass      int      `json:"pass"`
	Phase     string   `json:"phase"`
	Prefix    int      `json:"prefix"`
	Prefixes  int      `json:"prefixes"`
	Scanned   int64    `json:"scanned"`
	Rewrapped int64    `json:"rewrapped"`
	Failed    int64    `json:"failed,omitempty"`
	Retired   []string `json:"retired,omitempty"`
	Waiting   []string `json:"waiting,omitempty"`
	// LastError is why a running rotation last stopped (it resumes).
	LastError string `json:"lastError,omitempty"`
}

// AuditRecord is one entry of the audit log (docs/audit.md).
type AuditRecord struct {
	Time       time.Time   `json:"time"`
	UserID     string      `json:"userId,omitempty"`
	User       string      `json:"user,omitempty"`
	TokenID    string      `json:"tokenId,omitempty"`
	SourceIP   string      `json:"sourceIp,omitempty"`
	Via        string      `json:"via,omitempty"`
	Op         string      `json:"op,omitempty"`
	Action     string      `json:"action,omitempty"`
	Resource   string      `json:"resource,omitempty"`
	ResourceID string      `json:"resourceId,omitempty"`
	Decision   string      `json:"decision,omitempty"`
	Policy     string      `json:"policy,omitempty"`
	Sid        string      `json:"sid,omitempty"`
	Reason     string      `json:"reason,omitempty"`
	RequestID  string      `json:"requestId,omitempty"`
	Outcome    string      `json:"outcome"`
	Also       []AuditStep `json:"also,omitempty"`
}

// AuditStep is another decision of a recorded request.
type AuditStep struct {
	Action   string `json:"action"`
	Resource string `json:"resource"`
	Decision string `json:"decision"`
	Policy   string `json:"policy,omitempty"`
	Sid      string `json:"sid,omitempty"`
}

// AuditPage is one page of GET /v1/audit, newest first. A page may hold
// fewer records than asked for (none, even) while Cursor says more may
// follow.
type AuditPage struct {
	Records []AuditRecord `json:"records"`
	Cursor  string        `json:"cursor,omitempty"`
	// User is whose records were listed ("" everyone's).
	User string `json:"user,omitempty"`
}

// UserShareRequest shares a file or folder with a user or a group
// (exactly one): POST /v1/usershares.
type UserShareRequest struct {
	Path  string `json:"path"`
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`
	Write bool   `json:"write,omitempty"`
	// Name is the share's name under /shared/<owner>/ ("": the entry's).
	Name string `json:"name,omitempty"`
}

// UserShare is a share with a user or a group, as its owner sees it.
type UserShare struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Path  string `json:"path"`
	Kind  string `json:"kind"`
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`
	Write bool   `json:"write"`
	// Available: the shared entry is in the tree (not in the trash).
	Available bool      `json:"available"`
	Created   time.Time `json:"created"`
}

// ReceivedShare is a share as its recipient sees it.
type ReceivedShare struct {
	Owner string `json:"owner"`
	Name  string `json:"name"`
	// Path is where the recipient finds it: /shared/<owner>/<name>.
	Path  string `json:"path"`
	Write bool   `json:"write"`
	// Direct: shared with the user; Groups: through these groups.
	Direct  bool      `json:"direct"`
	Groups  []string  `json:"groups,omitempty"`
	Created time.Time `json:"created"`
}
