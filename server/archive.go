package server

import (
	"net/http"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/internal/storepath"
	"github.com/strata-storage/strata/server/api"
)

// archive moves a file's content, or every file's under a folder
// (recursive, as a job), to an archive class.
func (s *Server) archive(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	p, err := pathParam(r, "/v1/archive/")
	if err != nil {
		return err
	}
	var req api.ArchiveRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	class, err := blob.ParseClass(req.Class)
	if err != nil {
		return badRequest("class: %v", err)
	}
	o := backend.ArchiveOptions{Class: class}
	if done, err := s.asTree(w, r, pr, p, req.Recursive, func() (backend.Job, error) {
		return s.b.ArchiveTree(r.Context(), pr, p, o, s.cfg.JobWait)
	}); done || err != nil {
		return err
	}
	e, err := s.b.Archive(r.Context(), pr, p, o)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiEntry(e))
}

// restore asks for a readable copy of an archived file, or of every one
// under a folder (recursive, as a job).
func (s *Server) restore(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	p, err := pathParam(r, "/v1/restore/")
	if err != nil {
		return err
	}
	var req api.RestoreRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	tier, err := blob.ParseTier(req.Tier)
	if err != nil {
		return badRequest("tier: %v", err)
	}
	o := backend.RestoreOptions{Tier: tier, Days: req.Days}
	if done, err := s.asTree(w, r, pr, p, req.Recursive, func() (backend.Job, error) {
		return s.b.RestoreTree(r.Context(), pr, p, o, s.cfg.JobWait)
	}); done || err != nil {
		return err
	}
	res, err := s.b.Restore(r.Context(), pr, p, o)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Started {
		status = http.StatusAccepted
	}
	return writeJSON(w, status, api.RestoreResult{Entry: apiEntry(res.Entry), Started: res.Started, Note: res.Note})
}

// asTree runs start, the folder job of a recursive request on a folder,
// and answers with its job (done true); a request that is not recursive,
// or is about a file, is left to the caller.
func (s *Server) asTree(w http.ResponseWriter, r *http.Request, pr iam.Principal, p storepath.Path, recursive bool, start func() (backend.Job, error)) (done bool, err error) {
	if !recursive {
		return false, nil
	}
	st, err := s.b.Stat(r.Context(), pr, p)
	if err != nil || st.Kind != backend.KindDir {
		return false, err
	}
	job, err := start()
	if err != nil {
		return true, err
	}
	return true, writeJobAnswer(w, job)
}

// writeJobAnswer answers with a job: 202 and its Location while it runs,
// 200 once it ended.
func writeJobAnswer(w http.ResponseWriter, job backend.Job) error {
	if job.State == backend.JobRunning {
		w.Header().Set("Location", "/v1/jobs/"+job.ID)
		return writeJSON(w, http.StatusAccepted, api.Accepted{Job: apiJob(job)})
	}
	return writeJSON(w, http.StatusOK, api.Accepted{Job: apiJob(job)})
}

func (s *Server) listArchiveRules(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	under := pr.Home()
	if v := r.URL.Query().Get("path"); v != "" {
		p, err := parsePathField("path", v)
		if err != nil {
			return err
		}
		under = p
	}
	rules, err := s.b.ArchiveRules(r.Context(), pr, under)
	if err != nil {
		return err
	}
	out := make([]api.ArchiveRule, len(rules))
	for i, rule := range rules {
		out[i] = api.ArchiveRule(rule)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) setArchiveRule(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	p, err := pathParam(r, "/v1/archive-rules/")
	if err != nil {
		return err
	}
	var req api.ArchiveRuleRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	class, err := blob.ParseClass(req.Class)
	if err != nil {
		return badRequest("class: %v", err)
	}
	rule, err := s.b.SetArchiveRule(r.Context(), pr, p, req.AfterDays, class)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.ArchiveRule(rule))
}

func (s *Server) deleteArchiveRule(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	p, err := pathParam(r, "/v1/archive-rules/")
	if err != nil {
		return err
	}
	if err := s.b.DeleteArchiveRule(r.Context(), pr, p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
