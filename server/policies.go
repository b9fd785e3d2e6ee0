package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/internal/clip"
	"github.com/strata-storage/strata/server/api"
)

func apiPolicy(p identity.PolicyInfo) api.Policy {
	out := api.Policy{Name: p.Name, Created: p.Created, Updated: p.Updated, Users: p.Users, Groups: p.Groups, BuiltIn: p.BuiltIn}
	if p.Document != "" {
		out.Document = json.RawMessage(p.Document)
	}
	return out
}

// document reads a policy document from a request: a JSON object, or a
// JSON string holding one (as IAM's API takes it, which keeps its lines
// and columns for the error messages).
func document(raw json.RawMessage) ([]byte, error) {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest("document: %v", err)
		}
		return []byte(s), nil
	}
	return raw, nil
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	ps, err := s.ids.ListPolicies(r.Context(), pr)
	if err != nil {
		return err
	}
	out := make([]api.Policy, len(ps))
	for i, p := range ps {
		out[i] = apiPolicy(p)
	}
	return writeJSON(w, http.StatusOK, map[string][]api.Policy{"policies": out})
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	p, err := s.ids.GetPolicy(r.Context(), pr, r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiPolicy(p))
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.PolicyRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	doc, err := document(req.Document)
	if err != nil {
		return err
	}
	p, err := s.ids.PutPolicy(r.Context(), pr, req.Name, doc, true)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, apiPolicy(p))
}

func (s *Server) updatePolicy(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.PolicyRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	if req.Name != "" && req.Name != r.PathValue("name") {
		return badRequest("the name in the body differs from the path's")
	}
	doc, err := document(req.Document)
	if err != nil {
		return err
	}
	p, err := s.ids.PutPolicy(r.Context(), pr, r.PathValue("name"), doc, false)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiPolicy(p))
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	if err := s.ids.DeletePolicy(r.Context(), pr, r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) attachPolicy(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.AttachRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.ids.AttachPolicy(r.Context(), pr, r.PathValue("name"), identity.Target{User: req.User, Group: req.Group}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) detachPolicy(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	q := r.URL.Query()
	if err := s.ids.DetachPolicy(r.Context(), pr, r.PathValue("name"), identity.Target{User: q.Get("user"), Group: q.Get("group")}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	gs, err := s.ids.ListGroups(r.Context(), pr)
	if err != nil {
		return err
	}
	out := make([]api.Group, len(gs))
	for i, g := range gs {
		out[i] = api.Group(g)
	}
	return writeJSON(w, http.StatusOK, map[string][]api.Group{"groups": out})
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.GroupRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.ids.CreateGroup(r.Context(), pr, req.Name); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, api.Group{Name: req.Name, Created: time.Now().UTC(), Members: []string{}, Policies: []string{}})
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	if err := s.ids.DeleteGroup(r.Context(), pr, r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	if err := s.ids.AddToGroup(r.Context(), pr, r.PathValue("name"), r.PathValue("user")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	if err := s.ids.RemoveFromGroup(r.Context(), pr, r.PathValue("name"), r.PathValue("user")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) simulate(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.SimulateRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	res, err := iam.ParseResource(req.Resource)
	if err != nil {
		return err
	}
	if !iam.Known(iam.Action(req.Action)) {
		return badRequest("unknown action %q: the actions are listed in docs/access.md", clip.Text(req.Action))
	}
	rq := iam.Request{SourceIP: req.SourceIP, SecureTransport: req.SecureTransport}
	if req.Time != nil {
		rq.Time = *req.Time
	}
	if req.ContentLength != nil {
		rq.ContentLength, rq.HasContentLength = *req.ContentLength, true
	}
	d, err := s.ids.Simulate(r.Context(), pr, req.User, req.Via, iam.Action(req.Action), res, rq)
	if err != nil {
		return err
	}
	out := api.SimulateResult{Decision: "Deny", Reason: d.Reason, Statement: apiStatement(d.Statement), SessionStatement: apiStatement(d.SessionStatement)}
	if d.Allowed {
		out.Decision = "Allow"
	}
	return writeJSON(w, http.StatusOK, out)
}

func apiStatement(st *iam.StatementRef) *api.Statement {
	if st == nil {
		return nil
	}
	return &api.Statement{Policy: st.Policy, Sid: st.Sid, Index: st.Index, Effect: string(st.Effect)}
}
