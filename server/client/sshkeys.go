package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/strata-storage/strata/server/api"
)

// SSHKeys lists the SSH public keys of user ("" for oneself).
func (c *Client) SSHKeys(ctx context.Context, user string) ([]api.SSHKey, error) {
	var q url.Values
	if user != "" {
		q = url.Values{"user": {user}}
	}
	var r struct {
		Keys []api.SSHKey `json:"keys"`
	}
	err := c.doJSON(ctx, http.MethodGet, "/v1/keys", q, nil, &r)
	return r.Keys, err
}

// AddSSHKey gives user ("" for oneself) an OpenSSH public key to log in
// over SSH with.
func (c *Client) AddSSHKey(ctx context.Context, user, key string) (api.SSHKey, error) {
	var k api.SSHKey
	err := c.doJSON(ctx, http.MethodPost, "/v1/keys", nil, api.AddSSHKeyRequest{User: user, Key: key}, &k)
	return k, err
}

// RemoveSSHKey removes the SSH key of user ("" for oneself) with the
// fingerprint fp (SHA256:...).
func (c *Client) RemoveSSHKey(ctx context.Context, user, fp string) error {
	q := url.Values{"fingerprint": {fp}}
	if user != "" {
		q.Set("user", user)
	}
	return c.doJSON(ctx, http.MethodDelete, "/v1/keys", q, nil, nil)
}
