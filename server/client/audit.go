package client

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"net/url"

	"github.com/strata-storage/strata/server/api"
)

// AuditQuery selects audit records (every field optional).
type AuditQuery struct {
	User   string
	Action string // a pattern: strata:Delete*
	Path   string
	Since  time.Time
	Limit  int
	Cursor string
}

// Audit reads a page of the audit log, newest first: everyone's for a
// caller who may read it, otherwise the caller's own.
func (c *Client) Audit(ctx context.Context, q AuditQuery) (api.AuditPage, error) {
	v := url.Values{}
	for k, s := range map[string]string{"user": q.User, "action": q.Action, "path": q.Path, "cursor": q.Cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var pg api.AuditPage
	err := c.doJSON(ctx, http.MethodGet, "/v1/audit", v, nil, &pg)
	return pg, err
}
