package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/server/api"
)

// statusClientClosed is nginx's status for a request whose client went away
// before the answer: logged and counted, never seen by anyone.
const statusClientClosed = 499

// problem is an error with its HTTP status and API code.
type problem struct {
	status int
	code   string
	detail string
	err    error // the cause, for the log only
	// retryAfter, when set, is the Retry-After header: seconds the client
	// should wait before it tries again.
	retryAfter string
	// quota is the figures of a quota_exceeded.
	quota *api.QuotaProblem
}

func (p *problem) Error() string { return p.detail }
func (p *problem) Unwrap() error { return p.err }

func problemf(status int, code, format string, args ...any) *problem {
	return &problem{status: status, code: code, detail: fmt.Sprintf(format, args...)}
}

// badRequest is a 400 with code invalid_request.
func badRequest(format string, args ...any) *problem {
	return problemf(http.StatusBadRequest, api.CodeInvalidRequest, format, args...)
}

// errorMap maps the core's errors to statuses and codes, most specific
// first.
var errorMap = []struct {
	err    error
	status int
	code   string
	// detail, when set, replaces the error's own text: those errors carry
	// server-side details (file paths, engine messages) that are for the
	// log, not for clients.
	detail string
	// retryAfter is the Retry-After header of the answer, if any.
	retryAfter string
}{
	{errs.ErrUnauthorized, http.StatusUnauthorized, api.CodeUnauthorized, "", ""},
	{errs.ErrForbidden, http.StatusForbidden, api.CodeForbidden, "", ""},
	{errs.ErrInvalidPath, http.StatusBadRequest, api.CodeInvalidPath, "", ""},
	{errs.ErrInvalidRange, http.StatusRequestedRangeNotSatisfiable, api.CodeInvalidRange, "", ""},
	{errs.ErrDigestMismatch, http.StatusBadRequest, api.CodeDigestMismatch, "", ""},
	{errs.ErrLengthMismatch, http.StatusBadRequest, api.CodeLengthMismatch, "", ""},
	{errs.ErrNotFound, http.StatusNotFound, api.CodeNotFound, "", ""},
	{errs.ErrExists, http.StatusConflict, api.CodeExists, "", ""},
	{errs.ErrNotDir, http.StatusConflict, api.CodeNotDir, "", ""},
	{errs.ErrIsDir, http.StatusConflict, api.CodeIsDir, "", ""},
	{errs.ErrNotEmpty, http.StatusConflict, api.CodeNotEmpty, "", ""},
	{errs.ErrConflict, http.StatusConflict, api.CodeConflict, "", ""},
	{errs.ErrPrecondition, http.StatusPreconditionFailed, api.CodePrecondition, "", ""},
	// A per-user bound: it frees when the client completes or aborts what
	// it holds, at no time the server could promise, so no Retry-After.
	{errs.ErrTooMany, http.StatusTooManyRequests, api.CodeTooMany, "", ""},
	// Over quota: nothing frees by waiting, so no Retry-After; 507 as
	// WebDAV answers a quota.
	{errs.ErrQuotaExceeded, http.StatusInsufficientStorage, api.CodeQuotaExceeded, "", ""},
	{errs.ErrNoSpace, http.StatusInsufficientStorage, api.CodeNoSpace, "the server is out of storage space; nothing was stored", ""},
	// Throttling or an unreachable engine, after the drivers' own retries:
	// the client waits a little and sends the request again.
	{errs.ErrUnavailable, http.StatusServiceUnavailable, api.CodeUnavailable, "storage is busy or unreachable; retry", "2"},
	{errs.ErrIntegrity, http.StatusInternalServerError, api.CodeIntegrity, "stored data failed authentication and was not served; the server log has the details", ""},
	{errs.ErrInvalid, http.StatusBadRequest, api.CodeInvalidRequest, "", ""},
	// The content is in an archive class: nothing was sent, and the
	// detail says how to restore it.
	{errs.ErrArchived, http.StatusConflict, api.CodeArchived, "", ""},
}

// toProblem classifies any error a handler returns.
func toProblem(err error) *problem {
	var p *problem
	if errors.As(err, &p) {
		return p
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &problem{status: http.StatusRequestEntityTooLarge, code: api.CodeTooLarge,
			detail: fmt.Sprintf("request body larger than %d bytes", mbe.Limit), err: err}
	}
	if errs.IsUnavailable(err) && !errors.Is(err, errs.ErrUnavailable) {
		// Surfaced from a driver without passing through the core's own
		// mapping (a lookup, a key unwrap): the same answer.
		err = fmt.Errorf("%w: %w", errs.ErrUnavailable, err)
	}
	for _, m := range errorMap {
		if errors.Is(err, m.err) {
			detail := m.detail
			if detail == "" {
				detail = err.Error()
			}
			p := &problem{status: m.status, code: m.code, detail: detail, err: err, retryAfter: m.retryAfter}
			var qe *errs.QuotaError
			if errors.As(err, &qe) {
				p.detail = qe.Error()
				p.quota = &api.QuotaProblem{User: qe.User, Resource: qe.Resource, Used: qe.Used, Limit: qe.Limit, Need: qe.Need}
			}
			return p
		}
	}
	if errors.Is(err, context.Canceled) {
		// The client went away; nobody will read this answer.
		return &problem{status: statusClientClosed, code: api.CodeCanceled, detail: "request canceled", err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &problem{status: http.StatusServiceUnavailable, code: api.CodeTimeout, detail: "the operation timed out", err: err}
	}
	// Anything else is ours: say little, log everything.
	return &problem{status: http.StatusInternalServerError, code: api.CodeInternal,
		detail: "internal error; the server log has the details under this request ID", err: err}
}

// writeProblem answers with an RFC 9457 problem document.
func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, p *problem) {
	rid := requestID(r.Context())
	if p.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="strata"`)
		if r.ProtoMajor == 1 {
			// Whoever has no token gets nothing more of this connection:
			// no body read, no keep-alive.
			w.Header().Set("Connection", "close")
		}
	}
	if p.status >= 500 && p.status != statusClientClosed {
		s.log.Error("request failed", "rid", rid, "method", r.Method, "path", r.URL.EscapedPath(), "code", p.code, "err", p.err)
	} else if p.err != nil {
		s.log.Debug("request refused", "rid", rid, "code", p.code, "err", p.err)
	}
	if e := setProblem(r.Context()); e != nil {
		*e = p.code
	}
	h := w.Header()
	for _, k := range []string{"Content-Length", "Content-Digest", "Repr-Digest", "ETag", "Last-Modified"} {
		h.Del(k)
	}
	if p.status != http.StatusRequestedRangeNotSatisfiable {
		h.Del("Content-Range")
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	if p.retryAfter != "" {
		h.Set("Retry-After", p.retryAfter)
	}
	w.WriteHeader(p.status)
	if r.Method == http.MethodHead {
		return
	}
	_ = json.NewEncoder(w).Encode(api.Problem{
		Type:      api.ProblemType + p.code,
		Title:     http.StatusText(p.status),
		Status:    p.status,
		Detail:    p.detail,
		Instance:  r.URL.EscapedPath(),
		Code:      p.code,
		RequestID: rid,
		Quota:     p.quota,
	})
}
