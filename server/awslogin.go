package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/backend/identity/awsauth"
	"github.com/strata-storage/strata/server/api"
)

// SetAWSLogin enables login with an AWS identity, verified by v (nil
// disables it). It is called before the server serves.
func (s *Server) SetAWSLogin(v *awsauth.Verifier) { s.aws = v }

func (s *Server) awsLoginOff() *problem {
	return &problem{status: http.StatusNotFound, code: api.CodeNotFound,
		detail: "this server does not take AWS logins: its admin sets them up with strata serve --public-url"}
}

func (s *Server) awsLoginInfo(w http.ResponseWriter, _ *http.Request, _ iam.Principal) error {
	if s.aws == nil {
		return s.awsLoginOff()
	}
	return writeJSON(w, http.StatusOK, api.AWSLoginInfo{STSEndpoint: s.aws.Endpoint(), Region: s.aws.Region(), ServerIDs: s.aws.ServerIDs()})
}

// loginAWS exchanges a signed sts:GetCallerIdentity request for a token of
// the user its signer maps to. Every failure the client could cause is the
// same 401 (the reason goes to the log) and counts as a failed login.
func (s *Server) loginAWS(w http.ResponseWriter, r *http.Request, _ iam.Principal) error {
	if s.aws == nil {
		return s.awsLoginOff()
	}
	var req api.AWSLoginRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	if req.ExpiresIn < 0 || req.ExpiresIn > 100*365*24*3600 {
		return badRequest("expiresIn must be 0 (30 days) or a number of seconds up to 100 years")
	}
	signed := awsauth.Request{Method: req.Method, URL: req.URL, Headers: req.Headers, Body: req.Body}
	ip := clientIP(r)
	// Failures are counted per address and per access key (a name that
	// cannot be a user's).
	key := "aws " + awsauth.KeyID(signed)
	if wait := s.logins.Wait(ip, key); wait > 0 {
		return &problem{status: http.StatusTooManyRequests, code: api.CodeTooMany,
			detail:     "too many failed logins: try again later",
			retryAfter: strconv.Itoa(int(wait.Seconds()) + 1)}
	}
	refused := func(arn string, why error) error {
		s.logins.Failed(ip, key)
		s.log.Info("AWS login refused", "rid", requestID(r.Context()), "ip", ip, "accessKeyId", awsauth.KeyID(signed), "arn", arn, "reason", why)
		return &problem{status: http.StatusUnauthorized, code: api.CodeUnauthorized, detail: "AWS login refused"}
	}
	caller, err := s.aws.Verify(r.Context(), signed)
	switch {
	case errors.Is(err, awsauth.ErrRefused):
		return refused("", err)
	case errors.Is(err, awsauth.ErrUnavailable):
		return &problem{status: http.StatusServiceUnavailable, code: api.CodeUnavailable,
			detail: "STS could not be asked; retry", retryAfter: "2", err: err}
	case err != nil:
		return err
	}
	t, matched, err := s.ids.LoginAWS(r.Context(), identity.AWSLogin{ARN: caller.ARN, Request: caller.Digest,
		Expires: caller.Signed.Add(awsauth.MaxAge + time.Minute), Name: req.Name, TTL: time.Duration(req.ExpiresIn) * time.Second})
	if errors.Is(err, errs.ErrUnauthorized) {
		return refused(caller.ARN, errors.New("no user for this ARN (or the request was used before)"))
	}
	if err != nil {
		return err
	}
	s.logins.Succeeded(key)
	s.log.Info("AWS login", "rid", requestID(r.Context()), "user", t.User, "arn", caller.ARN, "mapping", matched, "token", t.ID)
	return writeJSON(w, http.StatusCreated, api.AWSLoginResult{Token: apiToken(t), ARN: caller.ARN})
}

func (s *Server) listAWSIdentities(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	ids, err := s.ids.AWSIdentities(r.Context(), pr, r.PathValue("name"))
	if err != nil {
		return err
	}
	out := make([]api.AWSIdentity, len(ids))
	for i, id := range ids {
		out[i] = api.AWSIdentity(id)
	}
	return writeJSON(w, http.StatusOK, map[string][]api.AWSIdentity{"identities": out})
}

func (s *Server) addAWSIdentity(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.AWSIdentityRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	id, err := s.ids.AddAWSIdentity(r.Context(), pr, r.PathValue("name"), req.ARN)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, api.AWSIdentity(id))
}

func (s *Server) removeAWSIdentity(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	arn := r.URL.Query().Get("arn")
	if arn == "" {
		return badRequest("give the ARN to remove: ?arn=...")
	}
	if err := s.ids.RemoveAWSIdentity(r.Context(), pr, r.PathValue("name"), arn); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
