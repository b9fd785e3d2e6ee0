package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/strata-storage/strata/server/api"
)

// CreateShare makes a share link; the answer carries its URL, shown only
// this once.
func (c *Client) CreateShare(ctx context.Context, req api.CreateShareRequest) (api.Share, error) {
	var s api.Share
	err := c.doJSON(ctx, http.MethodPost, "/v1/shares", nil, req, &s)
	return s, err
}

// ListShares lists one page of the share links of user ("" for one's
// own), only those to path when it is not "".
func (c *Client) ListShares(ctx context.Context, user, path, cursor string, limit int) (api.SharePage, error) {
	q := url.Values{}
	if user != "" {
		q.Set("user", user)
	}
	if path != "" {
		q.Set("path", path)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var p api.SharePage
	err := c.doJSON(ctx, http.MethodGet, "/v1/shares", q, nil, &p)
	return p, err
}

// GetShare describes the share link id of user ("" for one's own).
func (c *Client) GetShare(ctx context.Context, user, id string) (api.Share, error) {
	var s api.Share
	err := c.doJSON(ctx, http.MethodGet, "/v1/shares/"+url.PathEscape(id), userQuery(user), nil, &s)
	return s, err
}

// RevealShare describes the caller's own share link id with its URL
// again (the server keeps the token sealed; links made before it did
// answer ErrInvalid).
func (c *Client) RevealShare(ctx context.Context, id string) (api.Share, error) {
	var s api.Share
	err := c.doJSON(ctx, http.MethodGet, "/v1/shares/"+url.PathEscape(id), url.Values{"reveal": {"1"}}, nil, &s)
	return s, err
}

// RevokeShare ends the share link id of user ("" for one's own).
func (c *Client) RevokeShare(ctx context.Context, user, id string) error {
	return c.doJSON(ctx, http.MethodDelete, "/v1/shares/"+url.PathEscape(id), userQuery(user), nil, nil)
}

func userQuery(user string) url.Values {
	if user == "" {
		return nil
	}
	return url.Values{"user": {user}}
}
