package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/server/api"
)

// maxSeconds bounds the durations a request gives in seconds (100 years):
// a larger one would overflow a time.Duration.
const maxSeconds = 100 * 365 * 24 * 3600

func (s *Server) whoami(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	u, err := s.ids.Whoami(r.Context(), pr)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiUser(u))
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	us, err := s.ids.ListUsers(r.Context(), pr)
	if err != nil {
		return err
	}
	out := make([]api.User, len(us))
	for i, u := range us {
		out[i] = apiUser(u)
	}
	return writeJSON(w, http.StatusOK, map[string][]api.User{"users": out})
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.CreateUserRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	u, err := s.ids.CreateUser(r.Context(), pr, req.Name, req.Admin)
	if err != nil {
		return err
	}
	out := api.CreateUserResult{User: apiUser(u)}
	if req.Token {
		t, err := s.ids.CreateToken(r.Context(), pr, u.Name, "initial", 0, nil)
		if err != nil {
			return err
		}
		at := apiToken(t)
		out.Token = &at
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	if err := s.ids.DeleteUser(r.Context(), pr, r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	ts, err := s.ids.ListTokens(r.Context(), pr, r.URL.Query().Get("user"))
	if err != nil {
		return err
	}
	out := make([]api.Token, len(ts))
	for i, t := range ts {
		out[i] = apiToken(t)
	}
	return writeJSON(w, http.StatusOK, map[string][]api.Token{"tokens": out})
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.CreateTokenRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	if req.ExpiresIn < 0 || req.ExpiresIn > maxSeconds {
		return badRequest("expiresIn must be 0 (never) or a number of seconds up to 100 years")
	}
	policy, err := document(req.Policy)
	if err != nil {
		return err
	}
	t, err := s.ids.CreateToken(r.Context(), pr, req.User, req.Name, time.Duration(req.ExpiresIn)*time.Second, policy)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, apiToken(t))
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	if err := s.ids.RevokeToken(r.Context(), pr, r.URL.Query().Get("user"), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) collect(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.CollectRequest
	if r.ContentLength != 0 {
		if err := s.readJSON(w, r, &req); err != nil {
			return err
		}
	}
	if req.GraceSeconds < 0 || req.GraceSeconds > maxSeconds {
		return badRequest("graceSeconds must be 0 (the server's) or a number of seconds up to 100 years")
	}
	st, err := s.b.CollectAs(r.Context(), pr, time.Duration(req.GraceSeconds)*time.Second)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.CollectResult(st))
}

func (s *Server) login(w http.ResponseWriter, r *http.Request, _ iam.Principal) error {
	var req api.LoginRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	if req.ExpiresIn < 0 || req.ExpiresIn > 100*365*24*3600 {
		return badRequest("expiresIn must be 0 (30 days) or a number of seconds up to 100 years")
	}
	if p := s.authWait(r, req.User); p != nil {
		return p
	}
	t, err := s.ids.Login(r.Context(), req.User, req.Password, req.Name, time.Duration(req.ExpiresIn)*time.Second)
	if errors.Is(err, errs.ErrUnauthorized) {
		s.limits.AuthFailed(clientAddr(r), req.User)
		return &problem{status: http.StatusUnauthorized, code: api.CodeUnauthorized, detail: "wrong user name or password"}
	}
	if err != nil {
		return err
	}
	s.limits.AuthSucceeded(req.User)
	return writeJSON(w, http.StatusCreated, apiToken(t))
}

func (s *Server) setPassword(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.PasswordRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	if err := s.ids.SetPassword(r.Context(), pr, r.PathValue("name"), req.Current, req.Password); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func apiToken(t identity.Token) api.Token {
	return api.Token{ID: t.ID, User: t.User, Name: t.Name, Created: t.Created, Expires: t.Expires, Secret: t.Secret, SessionPolicy: t.Session}
}

func apiUser(u identity.User) api.User {
	out := api.User{ID: u.ID, Name: u.Name, Admin: u.Admin, Home: u.Home, Created: u.Created, Password: u.Password,
		Groups: u.Groups, Policies: u.Policies, AWSIdentities: u.AWSIdentities, SessionPolicy: u.Session}
	for _, p := range u.Applies {
		out.Applies = append(out.Applies, apiPolicy(p))
	}
	return out
}
