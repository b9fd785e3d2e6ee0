package server

import (
	"net/http"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/internal/storepath"
	"github.com/strata-storage/strata/server/api"
)

func (s *Server) move(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.MoveRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	from, err := parsePathField("from", req.From)
	if err != nil {
		return err
	}
	to, err := parsePathField("to", req.To)
	if err != nil {
		return err
	}
	e, err := s.b.Move(r.Context(), pr, from, to, req.Overwrite)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiEntry(e))
}

func (s *Server) copy(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.CopyRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	from, err := parsePathField("from", req.From)
	if err != nil {
		return err
	}
	to, err := parsePathField("to", req.To)
	if err != nil {
		return err
	}
	e, job, err := s.b.Copy(r.Context(), pr, from, to, s.cfg.JobWait)
	if err != nil {
		return err
	}
	if job.State == backend.JobRunning {
		w.Header().Set("Location", "/v1/jobs/"+job.ID)
		return writeJSON(w, http.StatusAccepted, api.Accepted{Job: apiJob(job)})
	}
	return writeJSON(w, http.StatusCreated, apiEntry(e))
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	job, err := s.b.GetJob(r.Context(), pr, owner(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiJob(job))
}

func apiJob(j backend.Job) api.Job {
	out := api.Job{ID: j.ID, Kind: j.Kind, State: j.State, Done: j.Done, Path: j.Path, Created: j.Created, Updated: j.Updated,
		Skipped: j.Skipped, Why: j.Why}
	if j.Result != nil {
		e := apiEntry(*j.Result)
		out.Result = &e
	}
	if err := j.Err(); err != nil {
		p := toProblem(err)
		out.Error = &api.JobError{Code: p.code, Status: p.status, Detail: p.detail}
	}
	return out
}

func (s *Server) versions(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	p, err := pathParam(r, "/v1/versions/")
	if err != nil {
		return err
	}
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	vp, err := s.b.Versions(r.Context(), pr, p, cursor, limit)
	if err != nil {
		return err
	}
	out := api.VersionPage{Versions: make([]api.Version, len(vp.Versions)), Cursor: vp.Cursor}
	for i, v := range vp.Versions {
		out.Versions[i] = api.Version(v)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) restoreVersion(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	p, err := pathParam(r, "/v1/versions/")
	if err != nil {
		return err
	}
	var req api.RestoreVersionRequest
	if err := s.readJSON(w, r, &req); err != nil {
		return err
	}
	if req.Version < 1 {
		return badRequest("version must be a version number (1 or more)")
	}
	e, err := s.b.RestoreVersion(r.Context(), pr, p, req.Version)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiEntry(e))
}

func apiTrashItem(t backend.TrashItem) api.TrashItem {
	return api.TrashItem{ID: t.ID, Path: t.Path, Name: t.Name, Kind: string(t.Kind), Size: t.Size, Deleted: t.Deleted}
}

func (s *Server) listTrash(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	tp, err := s.b.ListTrash(r.Context(), pr, owner(r), cursor, limit)
	if err != nil {
		return err
	}
	out := api.TrashPage{Items: make([]api.TrashItem, len(tp.Items)), Cursor: tp.Cursor}
	for i, t := range tp.Items {
		out.Items[i] = apiTrashItem(t)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) restoreTrash(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	var req api.RestoreTrashRequest
	if r.ContentLength != 0 {
		if err := s.readJSON(w, r, &req); err != nil {
			return err
		}
	}
	var to *storepath.Path
	if req.To != "" {
		p, err := storepath.Parse(req.To)
		if err != nil {
			return err
		}
		to = &p
	}
	e, err := s.b.RestoreTrash(r.Context(), pr, owner(r), r.PathValue("id"), to)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, apiEntry(e))
}

func (s *Server) purgeTrash(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	if err := s.b.PurgeTrash(r.Context(), pr, owner(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) emptyTrash(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	n, err := s.b.EmptyTrash(r.Context(), pr, owner(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.EmptyTrashResult{Purged: n})
}

// owner is the user whose trash or upload sessions a request is about:
// ?user=NAME (an admin's view of another user's), or "" for the caller's
// own.
func owner(r *http.Request) string { return r.URL.Query().Get("user") }
