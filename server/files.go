package server

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/internal/storepath"
	"github.com/strata-storage/strata/server/api"
)

// pathParam reads the store path that follows prefix in the request path.
// It splits the escaped path first and unescapes each segment alone, so an
// encoded slash (%2F) stays inside its name (and is refused there) instead of
// becoming a separator.
func pathParam(r *http.Request, prefix string) (storepath.Path, error) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), prefix)
	if !ok {
		return storepath.Path{}, problemf(http.StatusBadRequest, api.CodeInvalidPath, "path must start with %s", prefix)
	}
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return storepath.Root, nil
	}
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		u, err := url.PathUnescape(seg)
		if err != nil {
			return storepath.Path{}, problemf(http.StatusBadRequest, api.CodeInvalidPath, "bad percent-encoding in segment %d", i+1)
		}
		segs[i] = u
	}
	return storepath.FromSegments(segs)
}

// parsePathField parses a path given in a JSON body or query.
func parsePathField(name, v string) (storepath.Path, error) {
	if v == "" {
		return storepath.Path{}, badRequest("%s is required", name)
	}
	return storepath.Parse(v)
}

func boolParam(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "", "0", "false":
		return false, nil
	case "1", "true":
		return true, nil
	default:
		return false, badRequest("%s must be true or false, not %q", name, v)
	}
}

func intParam(r *http.Request, name string, min, max int64) (int64, bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min || n > max {
		return 0, false, badRequest("%s must be an integer from %d to %d", name, min, max)
	}
	return n, true, nil
}

func pageParams(r *http.Request) (cursor string, limit int, err error) {
	n, _, err := intParam(r, "limit", 1, 1000)
	if err != nil {
		return "", 0, err
	}
	return r.URL.Query().Get("cursor"), int(n), nil
}

// contentDigest reads the SHA-256 a request body must have from all its
// Content-Digest lines: they make one dictionary (RFC 9530, RFC 8941), in
// which a second sha-256 member is refused rather than one of them
// ignored.
func contentDigest(r *http.Request) ([]byte, error) {
	sum, err := api.ParseSHA256(strings.Join(r.Header.Values(api.HeaderContentDigest), ", "))
	if err != nil {
		return nil, badRequest("Content-Digest: %v", err)
	}
	return sum, nil
}

// singleHeaders may be sent once at most: a request with two of them could
// mean one thing to a proxy and another to the server.
var singleHeaders = []string{"Authorization", "Content-Type", api.HeaderMTime, "If-Match", "If-Range", "Range"}

func repeatedHeader(r *http.Request) *problem {
	for _, h := range singleHeaders {
		if len(r.Header.Values(h)) > 1 {
			return badRequest("header %s is given more than once", h)
		}
	}
	return nil
}

func etag(sha string) string { return `"` + sha + `"` }

// etagMatches implements the comparison for If-None-Match and If-Range: a
// list of entity tags or "*". Weak tags compare by their opaque part.
func etagMatches(header, sha string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return true
		}
		t = strings.TrimPrefix(t, "W/")
		if t == etag(sha) {
			return true
		}
	}
	return false
}

func apiEntry(e backend.Entry) api.Entry {
	return api.Entry{
		Path: e.Path, Name: e.Name, Kind: string(e.Kind), ID: e.ID, Size: e.Size,
		ModTime: e.ModTime, Created: e.Created, SHA256: e.SHA256, ClientDigest: e.ClientDigest, ClientDigestBy: e.ClientDigestBy, Version: e.Version, State: e.State,
		Archive: (*api.ArchiveInfo)(e.Archive),
	}
}

func (s *Server) putFile(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	p, err := pathParam(r, "/v1/files/")
	if err != nil {
		return err
	}
	digest, err := contentDigest(r)
	if err != nil {
		return err
	}
	var mtime time.Time
	if v := r.Header.Get(api.HeaderMTime); v != "" {
		if mtime, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return badRequest("%s must be an RFC 3339 time", api.HeaderMTime)
		}
		// Checked here too: the zero time would mean "now" to the core.
		if err := backend.CheckMTime(mtime); err != nil {
			return fmt.Errorf("%s: %w", api.HeaderMTime, err)
		}
	}
	o := backend.PutOptions{Size: r.ContentLength, SHA256: digest, MTime: mtime}
	if v := r.Header.Get("If-None-Match"); v != "" {
		if v != "*" {
			return badRequest(`If-None-Match on upload must be "*"`)
		}
		o.IfNoneMatch = true
	}
	if v := r.Header.Get("If-Match"); v != "" {
		t := strings.TrimSpace(v)
		if len(t) != 66 || t[0] != '"' || t[65] != '"' {
			return badRequest("If-Match must be one strong ETag from a previous response")
		}
		o.IfMatch = t[1:65]
	}
	e, err := s.b.Put(r.Context(), pr, p, r.Body, o)
	if err != nil {
		return err
	}
	s.metrics.bytesIn.WithLabelValues("files").Add(float64(e.Size))
	status := http.StatusOK
	if e.Version == 1 {
		status = http.StatusCreated
	}
	w.Header().Set("ETag", etag(e.SHA256))
	return writeJSON(w, status, apiEntry(e))
}

func (s *Server) getFile(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	p, err := pathParam(r, "/v1/files/")
	if err != nil {
		return err
	}
	version, _, err := intParam(r, "version", 1, 1<<62)
	if err != nil {
		return err
	}
	e, err := s.b.StatVersion(r.Context(), pr, p, version)
	if err != nil {
		return err
	}
	h := w.Header()
	validators(h, e)
	h.Set("Cache-Control", "private, no-cache")
	h.Set(api.HeaderVersion, strconv.FormatInt(e.Version, 10))
	sum, err := hex.DecodeString(e.SHA256)
	if err != nil {
		return fmt.Errorf("stored digest of %s: %w", p, err)
	}
	h.Set(api.HeaderReprDigest, api.FormatSHA256(sum))
	if notModified(w, r, e) {
		return nil
	}
	off, n, partial, err := requestedRange(w, r, e)
	if err != nil {
		return &problem{status: http.StatusRequestedRangeNotSatisfiable, code: api.CodeInvalidRange, detail: err.Error(), err: err}
	}
	h.Set("Content-Type", "application/octet-stream")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, e.Size))
	} else {
		h.Set(api.HeaderContentDigest, api.FormatSHA256(sum))
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return nil
	}
	rd, err := s.b.Open(r.Context(), pr, p, backend.OpenOptions{Version: e.Version, Offset: off, Length: n})
	if err != nil {
		return err
	}
	defer rd.Close()
	w.WriteHeader(status)
	s.sendBody(w, r, rd, p)
	return nil
}

// validators sets what a download of e is validated by.
func validators(h http.Header, e backend.Entry) {
	h.Set("ETag", etag(e.SHA256))
	h.Set("Last-Modified", e.ModTime.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
}

// notModified answers 304 when the client has e already.
func notModified(w http.ResponseWriter, r *http.Request, e backend.Entry) bool {
	if v := strings.Join(r.Header.Values("If-None-Match"), ","); v != "" && etagMatches(v, e.SHA256) {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	return false
}

// requestedRange is the part of e the request asks for: the whole, or its
// Range (when any If-Range still matches). A range that cannot be served
// is an error, with Content-Range set for the 416.
func requestedRange(w http.ResponseWriter, r *http.Request, e backend.Entry) (off, n int64, partial bool, err error) {
	rg := r.Header.Get("Range")
	// If-Range needs a strong match (RFC 9110 13.1.5): a weak tag or a
	// date gets the whole representation.
	if ir := r.Header.Get("If-Range"); rg == "" || (ir != "" && strings.TrimSpace(ir) != etag(e.SHA256)) {
		return 0, e.Size, false, nil
	}
	off, n, err = parseRange(rg, e.Size)
	if err != nil {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", e.Size))
		return 0, 0, false, err
	}
	return off, n, true, nil
}

// sendBody streams a file's content as the body of a response whose
// status line is out.
func (s *Server) sendBody(w http.ResponseWriter, r *http.Request, rd io.Reader, p storepath.Path) {
	buf := make([]byte, 256<<10)
	_, err := io.CopyBuffer(&idleWriter{rc: http.NewResponseController(w), w: w, idle: s.cfg.BodyIdleTimeout}, rd, buf)
	if err != nil {
		if errors.Is(err, errs.ErrIntegrity) {
			s.log.Error("download failed authentication", "rid", requestID(r.Context()), "path", p.String(), "err", err)
		}
		// The status line is out; cutting the connection is the only way
		// to tell the client the body is incomplete.
		panic(http.ErrAbortHandler)
	}
}

func (s *Server) deleteEntry(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	prefix := "/v1/files/"
	if strings.HasPrefix(r.URL.EscapedPath(), "/v1/dirs/") {
		prefix = "/v1/dirs/"
	}
	p, err := pathParam(r, prefix)
	if err != nil {
		return err
	}
	recursive, err := boolParam(r, "recursive")
	if err != nil {
		return err
	}
	ti, err := s.b.Delete(r.Context(), pr, p, recursive)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiTrashItem(ti))
}

func (s *Server) listDir(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	p, err := pathParam(r, "/v1/dirs/")
	if err != nil {
		return err
	}
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	pg, err := s.b.ListPrefix(r.Context(), pr, p, r.URL.Query().Get("prefix"), cursor, limit)
	if err != nil {
		return err
	}
	return s.writePage(w, r, pg)
}

func (s *Server) mkdir(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	p, err := pathParam(r, "/v1/dirs/")
	if err != nil {
		return err
	}
	parents, err := boolParam(r, "parents")
	if err != nil {
		return err
	}
	e, err := s.b.Mkdir(r.Context(), pr, p, parents)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, apiEntry(e))
}

func (s *Server) stat(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	p, err := pathParam(r, "/v1/stat/")
	if err != nil {
		return err
	}
	e, err := s.b.Stat(r.Context(), pr, p)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiEntry(e))
}
