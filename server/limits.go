package server

import (
	"context"
	"net/http"

	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/internal/ratelimit"
	"github.com/strata-storage/strata/server/api"
)

// The routes of a user's own rate limits: read by the user or an admin,
// set and cleared by an admin (strata:ManageLimits).

func (s *Server) getLimits(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	l, id, err := s.ids.GetLimits(r.Context(), pr, r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.userLimits(r.Context(), r.PathValue("name"), id, l))
}

func (s *Server) setLimits(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.LimitsRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	l := identity.Limits{Requests: req.Requests, Bandwidth: req.Bandwidth}
	id, err := s.ids.SetLimits(r.Context(), pr, r.PathValue("name"), l)
	if err != nil {
		return err
	}
	s.limits.Changed(id)
	return writeJSON(w, http.StatusOK, s.userLimits(r.Context(), r.PathValue("name"), id, l))
}

func (s *Server) clearLimits(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	id, err := s.ids.SetLimits(r.Context(), pr, r.PathValue("name"), identity.Limits{})
	if err != nil {
		return err
	}
	s.limits.Changed(id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) userLimits(ctx context.Context, name, id string, own identity.Limits) api.UserLimits {
	def := s.limits.Config().User
	eff := def.Apply(ratelimit.Override{Requests: own.Requests, Bandwidth: own.Bandwidth})
	return api.UserLimits{
		User:      name,
		Own:       api.LimitsRequest{Requests: own.Requests, Bandwidth: own.Bandwidth},
		Effective: api.LimitValues{Requests: eff.Requests, Bandwidth: eff.Bandwidth},
		Defaults:  api.LimitValues{Requests: def.Requests, Bandwidth: def.Bandwidth},
	}
}
