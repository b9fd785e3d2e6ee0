package server

import (
	"net/http"

	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/server/api"
)

func apiSSHKey(k identity.SSHKey) api.SSHKey { return api.SSHKey(k) }

func (s *Server) listSSHKeys(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	ks, err := s.ids.ListSSHKeys(r.Context(), pr, r.URL.Query().Get("user"))
	if err != nil {
		return err
	}
	out := make([]api.SSHKey, len(ks))
	for i, k := range ks {
		out[i] = apiSSHKey(k)
	}
	return writeJSON(w, http.StatusOK, map[string][]api.SSHKey{"keys": out})
}

func (s *Server) addSSHKey(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.AddSSHKeyRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	k, err := s.ids.AddSSHKey(r.Context(), pr, req.User, []byte(req.Key))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, apiSSHKey(k))
}

func (s *Server) removeSSHKey(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	q := r.URL.Query()
	if q.Get("fingerprint") == "" {
		return badRequest("the fingerprint query parameter names the key (SHA256:..., as GET /v1/keys shows)")
	}
	if err := s.ids.RemoveSSHKey(r.Context(), pr, q.Get("user"), q.Get("fingerprint")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
