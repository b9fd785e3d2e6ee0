package server

import (
	"net/http"

	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/server/api"
)

// setFileAttrs is PATCH /v1/files/{path}: it changes a file's metadata
// without writing a version, for now its modification time (what a
// synchronizer sets after an upload, to know the file next time).
func (s *Server) setFileAttrs(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	p, err := pathParam(r, "/v1/files/")
	if err != nil {
		return err
	}
	var req api.FileAttrsRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	if req.MTime == nil {
		return badRequest("mtime is required: the file's new modification time (RFC 3339)")
	}
	e, err := s.b.SetMTime(r.Context(), pr, p, *req.MTime)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiEntry(e))
}
