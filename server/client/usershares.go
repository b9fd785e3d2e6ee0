package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/strata-storage/strata/server/api"
)

// ShareWith shares a file or folder with a user or a group
// (api.UserShareRequest says how).
func (c *Client) ShareWith(ctx context.Context, req api.UserShareRequest) (api.UserShare, error) {
	var u api.UserShare
	err := c.doJSON(ctx, http.MethodPost, "/v1/usershares", nil, req, &u)
	return u, err
}

// UserShares lists the shares the caller made with users and groups (of
// path only, if not "").
func (c *Client) UserShares(ctx context.Context, path string) ([]api.UserShare, error) {
	q := url.Values{}
	if path != "" {
		q.Set("path", path)
	}
	var r struct {
		Shares []api.UserShare `json:"shares"`
	}
	err := c.doJSON(ctx, http.MethodGet, "/v1/usershares", q, nil, &r)
	return r.Shares, err
}

// Unshare revokes the share of path with a user or a group (one of them).
func (c *Client) Unshare(ctx context.Context, path, user, group string) error {
	q := url.Values{"path": {path}}
	if user != "" {
		q.Set("user", user)
	}
	if group != "" {
		q.Set("group", group)
	}
	return c.doJSON(ctx, http.MethodDelete, "/v1/usershares", q, nil, nil)
}

// ReceivedShares lists the shares others made with the caller.
func (c *Client) ReceivedShares(ctx context.Context) ([]api.ReceivedShare, error) {
	var r struct {
		Shares []api.ReceivedShare `json:"shares"`
	}
	err := c.doJSON(ctx, http.MethodGet, "/v1/shared", nil, nil, &r)
	return r.Shares, err
}

// LeaveShare takes the share at path (/shared/<owner>/<name>) out of the
// caller's view.
func (c *Client) LeaveShare(ctx context.Context, path string) error {
	return c.doJSON(ctx, http.MethodDelete, "/v1/shared", url.Values{"path": {path}}, nil, nil)
}
