package server

import (
	"net/http"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/internal/storepath"
	"github.com/strata-storage/strata/server/api"
)

func apiUserShare(u backend.UserShare) api.UserShare {
	return api.UserShare{ID: u.ID, Name: u.Name, Path: u.Path, Kind: string(u.Kind), User: u.User, Group: u.Group,
		Write: u.Write, Available: u.Available, Created: u.Created}
}

func (s *Server) createUserShare(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.UserShareRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	p, err := parsePathField("path", req.Path)
	if err != nil {
		return err
	}
	u, err := s.b.ShareWith(r.Context(), pr, p, backend.ShareOptions{User: req.User, Group: req.Group, Write: req.Write, Name: req.Name})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, apiUserShare(u))
}

func (s *Server) listUserShares(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var only *storepath.Path
	if v := r.URL.Query().Get("path"); v != "" {
		p, err := storepath.Parse(v)
		if err != nil {
			return err
		}
		only = &p
	}
	us, err := s.b.ListUserShares(r.Context(), pr, only)
	if err != nil {
		return err
	}
	out := make([]api.UserShare, len(us))
	for i, u := range us {
		out[i] = apiUserShare(u)
	}
	return writeJSON(w, http.StatusOK, map[string][]api.UserShare{"shares": out})
}

func (s *Server) deleteUserShare(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	q := r.URL.Query()
	p, err := parsePathField("path", q.Get("path"))
	if err != nil {
		return err
	}
	if err := s.b.Unshare(r.Context(), pr, p, q.Get("user"), q.Get("group")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listReceivedShares(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	rs, err := s.b.ReceivedShares(r.Context(), pr)
	if err != nil {
		return err
	}
	out := make([]api.ReceivedShare, len(rs))
	for i, x := range rs {
		out[i] = api.ReceivedShare{Owner: x.Owner, Name: x.Name, Path: x.Path, Write: x.Write, Direct: x.Direct,
			Groups: x.Groups, Created: x.Created}
	}
	return writeJSON(w, http.StatusOK, map[string][]api.ReceivedShare{"shares": out})
}

func (s *Server) leaveShare(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	p, err := parsePathField("path", r.URL.Query().Get("path"))
	if err != nil {
		return err
	}
	if err := s.b.LeaveShare(r.Context(), pr, p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
