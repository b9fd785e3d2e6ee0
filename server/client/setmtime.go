package client

import (
	"context"
	"net/http"
	"time"

	"github.com/strata-storage/strata/server/api"
)

// SetMTime sets the modification time of the file at path, without
// writing a version (PATCH /v1/files/{path}), and returns the file as it
// now is. Setting a time is idempotent: it is retried like a PUT.
func (c *Client) SetMTime(ctx context.Context, path string, mtime time.Time) (api.Entry, error) {
	u, err := storeURL("/v1/files", path)
	if err != nil {
		return api.Entry{}, err
	}
	mt := mtime.UTC()
	var e api.Entry
	err = c.doJSON(ctx, http.MethodPatch, u, nil, api.FileAttrsRequest{MTime: &mt}, &e)
	return e, err
}
