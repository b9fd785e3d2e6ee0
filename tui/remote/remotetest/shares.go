package remotetest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/strata-storage/strata/tui/remote"
)

// shares is the fake's share links and shares with users and groups.
type shares struct {
	links  []*fakeLink // oldest first
	seq    int
	page   int // links per page
	users  []remote.UserShare
	failAt map[string]error // method -> the error it answers
}

type fakeLink struct {
	link   remote.Link
	token  string
	hidden bool // made before tokens were kept: RevealLink refuses it
}

// SetLinkPage sets how many links a page of Links holds (default 50).
func (f *Fake) SetLinkPage(n int) {
	f.mu.Lock()
	f.sh.page = n
	f.mu.Unlock()
}

// Fail makes method (CreateLink, RevokeLink, ShareWith...) answer err
// (nil: work again).
func (f *Fake) Fail(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sh.failAt == nil {
		f.sh.failAt = map[string]error{}
	}
	f.sh.failAt[method] = err
}

// AddOldLink makes a link as an earlier server did: its URL cannot be
// shown again.
func (f *Fake) AddOldLink(ctx context.Context, req remote.LinkRequest) (remote.Link, error) {
	l, err := f.CreateLink(ctx, req)
	if err != nil {
		return l, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	fl := f.sh.links[len(f.sh.links)-1]
	fl.hidden = true
	fl.link.Revealable = false
	return fl.link, nil
}

// LinkList returns every link made and not revoked (test checks).
func (f *Fake) LinkList() []remote.Link {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]remote.Link, 0, len(f.sh.links))
	for _, l := range f.sh.links {
		out = append(out, f.describeLink(l))
	}
	return out
}

func (f *Fake) shareCall(ctx context.Context, name string) error {
	if err := f.call(ctx, name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sh.failAt[name]
}

// describeLink is l as it is now: where its entry is and its state.
func (f *Fake) describeLink(l *fakeLink) remote.Link {
	out := l.link
	out.Token, out.URL = "", ""
	out.State = "active"
	out.Path = ""
	for p := range f.files {
		if e, _ := f.entry(p); e.ID == l.link.EntryID {
			out.Path = p
		}
	}
	for p := range f.dirs {
		if e, _ := f.entry(p); e.ID == l.link.EntryID {
			out.Path = p
		}
	}
	switch {
	case out.Expires != nil && !f.Now.Before(*out.Expires):
		out.State = "expired"
	case out.MaxDownloads > 0 && out.Downloads >= out.MaxDownloads:
		out.State = "exhausted"
	case out.Path == "":
		out.State = "deleted"
	}
	return out
}

func (f *Fake) Links(ctx context.Context, cursor string) (remote.LinkPage, error) {
	if err := f.shareCall(ctx, "Links"); err != nil {
		return remote.LinkPage{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	start := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil {
			return remote.LinkPage{}, fmt.Errorf("bad cursor %q", cursor)
		}
		start = n
	}
	size := f.sh.page
	if size <= 0 {
		size = 50
	}
	pg := remote.LinkPage{Shares: []remote.Link{}}
	end := min(start+size, len(f.sh.links))
	for _, l := range f.sh.links[min(start, end):end] {
		pg.Shares = append(pg.Shares, f.describeLink(l))
	}
	if end < len(f.sh.links) {
		pg.Cursor = strconv.Itoa(end)
	}
	return pg, nil
}

func (f *Fake) CreateLink(ctx context.Context, req remote.LinkRequest) (remote.Link, error) {
	if err := f.shareCall(ctx, "CreateLink"); err != nil {
		return remote.Link{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entry(req.Path)
	if !ok {
		return remote.Link{}, fmt.Errorf("%w: %s", remote.ErrNotFound, req.Path)
	}
	mode := req.Mode
	if mode == "" {
		mode = "read"
	}
	if mode != "read" && !e.IsDir() {
		return remote.Link{}, fmt.Errorf("invalid request: only a folder takes uploads")
	}
	if req.Expires != nil && !req.Expires.After(f.Now) {
		return remote.Link{}, fmt.Errorf("invalid request: the expiry is not in the future")
	}
	f.sh.seq++
	tok := fmt.Sprintf("tok%029d", f.sh.seq)
	l := remote.Link{ID: fmt.Sprintf("L%025d", f.sh.seq), Owner: Me, EntryID: e.ID, Kind: e.Kind, Path: e.Path, Name: e.Name,
		Mode: mode, Created: f.Now, Expires: req.Expires, Password: req.Password != "", MaxDownloads: req.MaxDownloads,
		MaxUploadSize: req.MaxUploadSize, AllowIP: req.AllowIP, Note: req.Note, State: "active", Revealable: true}
	f.sh.links = append(f.sh.links, &fakeLink{link: l, token: tok})
	l.Token, l.URL = tok, "https://strata.example/s/"+tok
	return l, nil
}

func (f *Fake) RevealLink(ctx context.Context, id string) (remote.Link, error) {
	if err := f.shareCall(ctx, "RevealLink"); err != nil {
		return remote.Link{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.sh.links {
		if l.link.ID == id {
			if l.hidden {
				return remote.Link{}, fmt.Errorf("invalid request: this link was made before links' addresses were kept, so it cannot be shown again: make a new one")
			}
			out := f.describeLink(l)
			out.Token, out.URL = l.token, "https://strata.example/s/"+l.token
			return out, nil
		}
	}
	return remote.Link{}, fmt.Errorf("%w: link %s", remote.ErrNotFound, id)
}

func (f *Fake) RevokeLink(ctx context.Context, id string) error {
	if err := f.shareCall(ctx, "RevokeLink"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, l := range f.sh.links {
		if l.link.ID == id {
			f.sh.links = slices.Delete(f.sh.links, i, i+1)
			return nil
		}
	}
	return fmt.Errorf("%w: link %s", remote.ErrNotFound, id)
}

func (f *Fake) UserShares(ctx context.Context) ([]remote.UserShare, error) {
	if err := f.shareCall(ctx, "UserShares"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sh.users), nil
}

func (f *Fake) ShareWith(ctx context.Context, req remote.ShareRequest) (remote.UserShare, error) {
	if err := f.shareCall(ctx, "ShareWith"); err != nil {
		return remote.UserShare{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entry(req.Path)
	if !ok {
		return remote.UserShare{}, fmt.Errorf("%w: %s", remote.ErrNotFound, req.Path)
	}
	if (req.User == "") == (req.Group == "") {
		return remote.UserShare{}, fmt.Errorf("invalid request: a user or a group")
	}
	if req.User != "" && f.acc.users[req.User] == nil {
		return remote.UserShare{}, fmt.Errorf("%w: user %s", remote.ErrNotFound, req.User)
	}
	if req.Group != "" && f.acc.groups[req.Group] == nil {
		return remote.UserShare{}, fmt.Errorf("%w: group %s", remote.ErrNotFound, req.Group)
	}
	for _, u := range f.sh.users {
		if u.Path == req.Path && u.User == req.User && u.Group == req.Group {
			return remote.UserShare{}, fmt.Errorf("%w: %s is already shared with them", remote.ErrExists, req.Path)
		}
	}
	f.sh.seq++
	u := remote.UserShare{ID: fmt.Sprintf("U%025d", f.sh.seq), Name: e.Name, Path: e.Path, Kind: e.Kind, User: req.User,
		Group: req.Group, Write: req.Write, Available: true, Created: f.Now}
	f.sh.users = append(f.sh.users, u)
	return u, nil
}

func (f *Fake) Unshare(ctx context.Context, p, user, group string) error {
	if err := f.shareCall(ctx, "Unshare"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, u := range f.sh.users {
		if u.Path == p && u.User == user && u.Group == group {
			f.sh.users = slices.Delete(f.sh.users, i, i+1)
			return nil
		}
	}
	return fmt.Errorf("%w: no share of %s with %s%s", remote.ErrNotFound, p, user, group)
}

// AddDownloads counts n downloads through the link id (test setup).
func (f *Fake) AddDownloads(id string, n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, l := range f.sh.links {
		if l.link.ID == id {
			l.link.Downloads += n
		}
	}
}

// Advance moves the fake's clock (expiries).
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.Now = f.Now.Add(d)
	f.mu.Unlock()
}

// CallCount is Calls[name], read under the fake's lock: the app calls
// from its commands while a test reads.
func (f *Fake) CallCount(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Calls[name]
}
