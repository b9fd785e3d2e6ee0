package remote

import (
	"context"
	"errors"
	"fmt"

	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// Client is a Remote over the HTTP API.
type Client struct {
	c *client.Client
}

var _ Remote = (*Client)(nil)

// NewClient wraps a client.
func NewClient(c *client.Client) *Client { return &Client{c: c} }

// translate maps the client's errors onto this package's sentinels.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, client.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, client.ErrExists):
		return fmt.Errorf("%w: %w", ErrExists, err)
	case errors.Is(err, client.ErrUnavailable):
		return unavailable(err)
	case errors.Is(err, client.ErrForbidden), errors.Is(err, client.ErrUnauthorized):
		return fmt.Errorf("%w: %w", ErrForbidden, err)
	case errors.Is(err, client.ErrNotEmpty):
		return fmt.Errorf("%w: %w", ErrNotEmpty, err)
	case errors.Is(err, client.ErrArchived):
		return fmt.Errorf("%w: %w", ErrArchived, err)
	}
	return err
}

func (r *Client) Server() string { return r.c.Server() }

func (r *Client) Whoami(ctx context.Context) (User, error) {
	u, err := r.c.Whoami(ctx)
	return u, translate(err)
}

func (r *Client) Usage(ctx context.Context) (Usage, error) {
	u, err := r.c.Usage(ctx, "")
	return u, translate(err)
}

func (r *Client) Ping(ctx context.Context) error { return translate(r.c.Ready(ctx)) }

func (r *Client) List(ctx context.Context, dir, cursor string, limit int) (Page, error) {
	p, err := r.c.List(ctx, dir, cursor, limit)
	return p, translate(err)
}

func (r *Client) ListPrefix(ctx context.Context, dir, prefix, cursor string, limit int) (Page, error) {
	p, err := r.c.ListPrefix(ctx, dir, prefix, cursor, limit)
	return p, translate(err)
}

func (r *Client) Stat(ctx context.Context, path string) (Entry, error) {
	e, err := r.c.Stat(ctx, path)
	return e, translate(err)
}

func (r *Client) Mkdir(ctx context.Context, path string) (Entry, error) {
	e, err := r.c.Mkdir(ctx, path, false)
	return e, translate(err)
}

func (r *Client) Move(ctx context.Context, from, to string, overwrite bool) (Entry, error) {
	e, err := r.c.Move(ctx, from, to, overwrite)
	return e, translate(err)
}

func (r *Client) Copy(ctx context.Context, from, to string) (Entry, error) {
	e, err := r.c.Copy(ctx, from, to)
	return e, translate(err)
}

func (r *Client) Delete(ctx context.Context, path string, recursive bool) (TrashItem, error) {
	t, err := r.c.Delete(ctx, path, recursive)
	return t, translate(err)
}

func (r *Client) Trash(ctx context.Context, cursor string) (TrashPage, error) {
	t, err := r.c.Trash(ctx, cursor)
	return t, translate(err)
}

func (r *Client) RestoreTrash(ctx context.Context, id, to string) (Entry, error) {
	e, err := r.c.RestoreTrash(ctx, id, to)
	return e, translate(err)
}

func (r *Client) PurgeTrash(ctx context.Context, id string) error {
	return translate(r.c.PurgeTrash(ctx, id))
}

func (r *Client) Versions(ctx context.Context, path, cursor string) (VersionPage, error) {
	v, err := r.c.Versions(ctx, path, cursor)
	return v, translate(err)
}

func (r *Client) RestoreVersion(ctx context.Context, path string, version int64) (Entry, error) {
	e, err := r.c.RestoreVersion(ctx, path, version)
	return e, translate(err)
}

func (r *Client) Read(ctx context.Context, path string, max int64) ([]byte, error) {
	d, err := r.c.Get(ctx, path, client.GetOptions{Length: max})
	if err != nil {
		return nil, translate(err)
	}
	defer d.Body.Close()
	b, err := ReadAllLimit(d.Body, max)
	return b, translate(err)
}

func (r *Client) Upload(ctx context.Context, local, path string, progress Progress) (Entry, error) {
	e, err := r.c.PutFile(ctx, local, path, client.FileOptions{Progress: progress})
	return e, translate(err)
}

func (r *Client) Download(ctx context.Context, path, local string, progress Progress) (Entry, error) {
	e, err := r.c.DownloadFile(ctx, path, local, client.DownloadOptions{Progress: progress})
	return e, translate(err)
}

func (r *Client) DownloadVersion(ctx context.Context, path string, version int64, local string, progress Progress) (Entry, error) {
	e, err := r.c.DownloadFile(ctx, path, local, client.DownloadOptions{Version: version, Progress: progress})
	return e, translate(err)
}

func (r *Client) Users(ctx context.Context) ([]User, error) {
	us, err := r.c.Users(ctx)
	return us, translate(err)
}

func (r *Client) UserUsage(ctx context.Context, user string) (Usage, error) {
	u, err := r.c.Usage(ctx, user)
	return u, translate(err)
}

func (r *Client) CreateUser(ctx context.Context, name string, admin bool) (NewUser, error) {
	nu, err := r.c.CreateUser(ctx, name, admin, true)
	return nu, translate(err)
}

func (r *Client) Groups(ctx context.Context) ([]Group, error) {
	gs, err := r.c.Groups(ctx)
	return gs, translate(err)
}

func (r *Client) CreateGroup(ctx context.Context, name string) error {
	return translate(r.c.CreateGroup(ctx, name))
}

func (r *Client) DeleteGroup(ctx context.Context, name string) error {
	return translate(r.c.DeleteGroup(ctx, name))
}

func (r *Client) GroupMember(ctx context.Context, group, user string, in bool) error {
	return translate(r.c.GroupMember(ctx, group, user, in))
}

func (r *Client) Policies(ctx context.Context) ([]Policy, error) {
	ps, err := r.c.Policies(ctx)
	return ps, translate(err)
}

func (r *Client) Policy(ctx context.Context, name string) (Policy, error) {
	p, err := r.c.Policy(ctx, name)
	return p, translate(err)
}

func (r *Client) AttachPolicy(ctx context.Context, name string, to Target, attach bool) error {
	return translate(r.c.AttachPolicy(ctx, name, to, attach))
}

func (r *Client) ArchivePrices(ctx context.Context) (ArchivePrices, error) {
	p, err := r.c.ArchivePrices(ctx)
	return p, translate(err)
}

func (r *Client) Archive(ctx context.Context, path, class string, recursive bool) (ArchiveResult, error) {
	e, job, err := r.c.Archive(ctx, path, api.ArchiveRequest{Class: class, Recursive: recursive})
	if err != nil {
		return ArchiveResult{}, translate(err)
	}
	return r.followed(ctx, ArchiveResult{Entry: e}, job)
}

func (r *Client) Restore(ctx context.Context, path, tier string, days int, recursive bool) (ArchiveResult, error) {
	res, job, err := r.c.Restore(ctx, path, api.RestoreRequest{Tier: tier, Days: days, Recursive: recursive})
	if err != nil {
		return ArchiveResult{}, translate(err)
	}
	return r.followed(ctx, ArchiveResult{Entry: res.Entry, Started: res.Started, Note: res.Note}, job)
}

// followed waits for a folder's job to end.
func (r *Client) followed(ctx context.Context, res ArchiveResult, job *api.Job) (ArchiveResult, error) {
	if job == nil {
		return res, nil
	}
	j, err := r.c.WaitJob(ctx, *job, nil)
	if err != nil {
		return ArchiveResult{}, translate(err)
	}
	if j.State == api.JobFailed && j.Error != nil {
		return ArchiveResult{Job: &j}, fmt.Errorf("%s", j.Error.Detail)
	}
	return ArchiveResult{Job: &j}, nil
}

func (r *Client) Links(ctx context.Context, cursor string) (LinkPage, error) {
	p, err := r.c.ListShares(ctx, "", "", cursor, 0)
	return p, translate(err)
}

func (r *Client) CreateLink(ctx context.Context, req LinkRequest) (Link, error) {
	l, err := r.c.CreateShare(ctx, req)
	return l, translate(err)
}

func (r *Client) RevealLink(ctx context.Context, id string) (Link, error) {
	l, err := r.c.RevealShare(ctx, id)
	return l, translate(err)
}

func (r *Client) RevokeLink(ctx context.Context, id string) error {
	return translate(r.c.RevokeShare(ctx, "", id))
}

func (r *Client) UserShares(ctx context.Context) ([]UserShare, error) {
	us, err := r.c.UserShares(ctx, "")
	return us, translate(err)
}

func (r *Client) ShareWith(ctx context.Context, req ShareRequest) (UserShare, error) {
	u, err := r.c.ShareWith(ctx, req)
	return u, translate(err)
}

func (r *Client) Unshare(ctx context.Context, path, user, group string) error {
	return translate(r.c.Unshare(ctx, path, user, group))
}
