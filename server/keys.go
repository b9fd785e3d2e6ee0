package server

import (
	"net/http"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/server/api"
)

// rotateKeys starts a master key rotation: 202 with the job, which
// GET /v1/jobs/{id} and GET /v1/admin/keys follow.
func (s *Server) rotateKeys(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	job, err := s.b.RotateKeys(r.Context(), pr)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/jobs/"+job.ID)
	return writeJSON(w, http.StatusAccepted, api.Accepted{Job: apiJob(job)})
}

func (s *Server) keyStatus(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	st, err := s.b.KeyStatus(r.Context(), pr)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiKeyStatus(st))
}

func apiKeyStatus(st backend.KeyStatus) api.KeyStatus {
	out := api.KeyStatus{Current: st.Current, Keys: make([]api.KeyUse, len(st.Keys)), Failed: st.Failed,
		MakesKeys: st.MakesKeys, RetiresKeys: st.RetiresKeys}
	for i, k := range st.Keys {
		out.Keys[i] = api.KeyUse(k)
	}
	if !st.ScannedAt.IsZero() {
		out.ScannedAt = &st.ScannedAt
	}
	if rot := st.Rotation; rot != nil {
		out.Rotation = &api.Rotation{Job: apiJob(rot.Job), Running: rot.Running, Target: rot.Target, Pass: rot.Pass,
			Phase: rot.Phase, Prefix: rot.Prefix, Prefixes: rot.Prefixes, Scanned: rot.Scanned, Rewrapped: rot.Rewrapped,
			Failed: rot.Failed, Retired: rot.Retired, Waiting: rot.Waiting, LastError: rot.LastError}
	}
	return out
}
