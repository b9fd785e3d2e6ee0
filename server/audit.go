package server

import (
	"net/http"
	"time"

	"github.com/strata-storage/strata/backend/audit"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/internal/clip"
	"github.com/strata-storage/strata/server/api"
)

// listAudit is GET /v1/audit: a page of the audit log, newest first.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, pr iam.Principal) error {
	if s.audit == nil {
		return problemf(http.StatusNotFound, api.CodeRouteNotFound, "this server keeps no audit log")
	}
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	aq := audit.Query{User: q.Get("user"), Action: q.Get("action"), Path: q.Get("path"), Limit: limit, Cursor: cursor}
	if v := q.Get("since"); v != "" {
		if aq.Since, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return badRequest("since %q: want an RFC 3339 time", clip.Text(v))
		}
	}
	pg, err := s.audit.List(r.Context(), pr, aq)
	if err != nil {
		return err
	}
	out := api.AuditPage{Records: make([]api.AuditRecord, len(pg.Records)), Cursor: pg.Next, User: pg.User}
	for i, rec := range pg.Records {
		out.Records[i] = apiAuditRecord(rec)
	}
	return writeJSON(w, http.StatusOK, out)
}

func apiAuditRecord(r audit.Record) api.AuditRecord {
	a := api.AuditRecord{Time: r.Time, UserID: r.UserID, User: r.User, TokenID: r.TokenID, SourceIP: r.SourceIP, Via: r.Via,
		Op: r.Op, Action: r.Action, Resource: r.Resource, ResourceID: r.ResourceID, Decision: r.Decision, Policy: r.Policy,
		Sid: r.Sid, Reason: r.Reason, RequestID: r.RequestID, Outcome: r.Outcome}
	for _, st := range r.Also {
		a.Also = append(a.Also, api.AuditStep(st))
	}
	return a
}
