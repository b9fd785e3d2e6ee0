package server

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/server/api"
)

func apiUpload(u backend.Upload) api.Upload {
	out := api.Upload{
		ID: u.ID, Path: u.Path, Size: u.Size, PartSize: u.PartSize, Parts: u.Parts,
		SHA256: u.SHA256, Fingerprint: u.Fingerprint, ClientDigest: u.ClientDigest, Created: u.Created, Expires: u.Expires,
		User: u.User,
	}
	if u.Received != nil {
		out.Received = make([]api.UploadPart, len(u.Received))
		for i, p := range u.Received {
			out.Received[i] = api.UploadPart(p)
		}
	}
	return out
}

// hexDigest parses an optional hex SHA-256 from a JSON body.
func hexDigest(field, v string) ([]byte, error) {
	if v == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != 32 {
		return nil, badRequest("%s must be 64 hex digits", field)
	}
	return b, nil
}

func (s *Server) createUpload(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.CreateUploadRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	p, err := parsePathField("path", req.Path)
	if err != nil {
		return err
	}
	sum, err := hexDigest("sha256", req.SHA256)
	if err != nil {
		return err
	}
	if req.Size < 0 {
		return badRequest("size must be 0 or more")
	}
	o := backend.UploadOptions{Size: req.Size, PartSize: req.PartSize, SHA256: sum, Fingerprint: req.Fingerprint, ClientDigest: req.ClientDigest}
	if req.MTime != nil {
		// Checked here too: the zero time would mean "now" to the core.
		if err := backend.CheckMTime(*req.MTime); err != nil {
			return fmt.Errorf("mtime: %w", err)
		}
		o.MTime = *req.MTime
	}
	u, err := s.b.CreateUpload(r.Context(), pr, p, o)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/uploads/"+u.ID)
	return writeJSON(w, http.StatusCreated, apiUpload(u))
}

func (s *Server) listUploads(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	us, err := s.b.ListUploads(r.Context(), pr, owner(r))
	if err != nil {
		return err
	}
	out := make([]api.Upload, len(us))
	for i, u := range us {
		out[i] = apiUpload(u)
	}
	return writeJSON(w, http.StatusOK, map[string][]api.Upload{"uploads": out})
}

func (s *Server) getUpload(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	u, err := s.b.GetUpload(r.Context(), pr, owner(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiUpload(u))
}

func (s *Server) putPart(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		return badRequest("part number must be a positive integer")
	}
	if r.ContentLength < 0 {
		return problemf(http.StatusLengthRequired, api.CodeInvalidRequest, "a part needs a Content-Length")
	}
	sum, err := contentDigest(r)
	if err != nil {
		return err
	}
	crc, err := api.ParseCRC32C(strings.Join(r.Header.Values(api.HeaderContentDigest), ", "))
	if err != nil {
		return badRequest("Content-Digest: %v", err)
	}
	start := time.Now()
	part, err := s.b.PutPartChecked(r.Context(), pr, owner(r), r.PathValue("id"), n, r.Body, r.ContentLength, backend.PartCheck{SHA256: sum, CRC32C: crc})
	if err != nil {
		return err
	}
	s.metrics.bytesIn.WithLabelValues("parts").Add(float64(part.Size))
	s.log.Debug("part stored", "rid", requestID(r.Context()), "n", n, "bytes", part.Size, "ms", time.Since(start).Milliseconds())
	return writeJSON(w, http.StatusOK, api.UploadPart(part))
}

func (s *Server) completeUpload(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.CompleteUploadRequest
	if r.ContentLength != 0 {
		if err := s.readJSON(w, r, &req); err != nil {
			return err
		}
	}
	sum, err := hexDigest("sha256", req.SHA256)
	if err != nil {
		return err
	}
	e, err := s.b.CompleteUploadChecked(r.Context(), pr, owner(r), r.PathValue("id"), backend.CompleteCheck{SHA256: sum, PartCRC32C: req.PartCRC32C})
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(e.SHA256))
	status := http.StatusOK
	if e.Version == 1 {
		status = http.StatusCreated
	}
	return writeJSON(w, status, apiEntry(e))
}

func (s *Server) abortUpload(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	if err := s.b.AbortUpload(r.Context(), pr, owner(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
