package server

import (
	"net/http"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/server/api"
)

func (s *Server) getUsage(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	u, err := s.b.GetUsage(r.Context(), pr, r.URL.Query().Get("user"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiUsage(u))
}

func (s *Server) setQuota(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.QuotaRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	if req.Bytes == nil && req.Files == nil {
		return badRequest("give bytes, files or both (0: no limit)")
	}
	u, err := s.b.SetQuota(r.Context(), pr, r.PathValue("name"), req.Bytes, req.Files)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiUsage(u))
}

func (s *Server) recountUsage(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	u, err := s.b.RecountUsage(r.Context(), pr, r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiUsage(u))
}

func apiUsage(u backend.Usage) api.Usage {
	return api.Usage{
		User: u.User, Home: u.Home, Bytes: u.Bytes, Reserved: u.Reserved, Files: u.Files,
		QuotaBytes: u.Quota.Bytes, QuotaFiles: u.Quota.Files, Counted: u.Counted,
	}
}
