package backend

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
	"github.com/strata-storage/strata/internal/storepath"
)

// User shares: an owner shares a file or folder of theirs with a user or
// a group, read-only or read-write, under a name; the recipient finds it
// at /shared/<owner>/<name>, a folder that exists only in their view.
// Every operation on a path under /shared is resolved here to the real
// path of the shared entry and decided three times (authorize): the
// share must grant the action at all (its mode), the recipient's
// policies with the share's grant as one more Allow (so their Deny
// statements and a token's session policy bound it), and the owner's
// policies on the real path (a share never gives more than its owner
// has). Every refusal, whether the owner, the share or the grant is
// missing, is the same denial on the path the caller named.
//
// In the metadata store:
//
//	(ushare#<ownerID>, n#<name>)             the share point: entry ID, kind, its path now
//	(ushare#<ownerID>, g#<name>/u:<userID>)  a grant to a user
//	(ushare#<ownerID>, g#<name>/g:<group>)   a grant to a group
//	(shared#u:<userID>, <ownerID>/<name>)    what a user was given (and their groups':
//	(shared#g:<group>, <ownerID>/<name>)     the recipient's index)
//	(shared#u:<userID>, x#<ownerID>/<name>/<grantID>)  a group share the user left
//	(usharepaths, <path>\x01<ownerID>)       the share points by path
//
// A share point names its entry by ID and keeps the entry's path, which a
// move of the entry or of a folder above it rewrites in the same
// transaction (repathShares): so a share follows renames and moves, and a
// share whose entry is in the trash is unavailable until it comes back.

// SharedRoot is the folder under which a user finds what others share
// with them: /shared/<owner>/<name>.
var SharedRoot = storepath.MustParse("/shared")

const (
	pkSharePaths     = "usharepaths"
	sharePointPrefix = "n#"
	shareGrantPrefix = "g#"
	shareLeftPrefix  = "x#"
	// maxRepath bounds the share points one move re-points (three writes
	// each, in the move's transaction).
	maxRepath = 10
	// maxSharesListed bounds the shares one listing of /shared reads.
	maxSharesListed = 1000
)

func sharesPK(ownerID string) string      { return "ushare#" + ownerID }
func sharePointSK(name string) string     { return sharePointPrefix + name }
func shareGrantSK(name, to string) string { return shareGrantPrefix + name + "/" + to }
func recvUserPK(userID string) string     { return "shared#u:" + userID }
func recvGroupPK(group string) string     { return "shared#g:" + group }
func recvSK(ownerID, name string) string  { return ownerID + "/" + name }
func sharePathSK(p string, ownerID string) string {
	return p + "\x01" + ownerID
}
func leftSK(ownerID, name, grantID string) string {
	return shareLeftPrefix + ownerID + "/" + name + "/" + grantID
}

// grantee keys: who a grant is to.
func toUser(id string) string    { return "u:" + id }
func toGroup(name string) string { return "g:" + name }

type sharePointRec struct {
	Entry   string `json:"e"`
	Kind    Kind   `json:"k"`
	Path    string `json:"p"`
	Created int64  `json:"c"`
}

type shareGrantRec struct {
	ID      string `json:"id"`
	User    string `json:"u,omitempty"` // user name, for a grant to a user
	UserID  string `json:"uid,omitempty"`
	Group   string `json:"g,omitempty"`
	GroupC  int64  `json:"gc,omitempty"` // the group's Created
	Write   bool   `json:"w,omitempty"`
	Created int64  `json:"c"`
}

type recvRec struct {
	OwnerID string `json:"oid"`
	Owner   string `json:"o"`
	Name    string `json:"n"`
	Grant   string `json:"gid"`
	GroupC  int64  `json:"gc,omitempty"`
	Write   bool   `json:"w,omitempty"`
	Created int64  `json:"c"`
}

type sharePathRec struct {
	Name string `json:"n"`
}

// ShareOptions say with whom and how a path is shared.
type ShareOptions struct {
	// User or Group (exactly one) is who the share is for.
	User  string
	Group string
	// Write makes the share read-write; otherwise it is read-only.
	Write bool
	// Name is the share's name under /shared/<owner>/; "" is the
	// entry's name (or the name it is shared under already).
	Name string
}

// UserShare is a grant of a share as its owner sees it.
type UserShare struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Path  string `json:"path"`
	Kind  Kind   `json:"kind"`
	User  string `json:"user,omitempty"`
	Group string `json:"group,omitempty"`
	Write bool   `json:"write"`
	// Available: the shared entry is in the tree (not in the trash or
	// purged).
	Available bool      `json:"available"`
	Created   time.Time `json:"created"`
}

// ReceivedShare is a share as its recipient sees it.
type ReceivedShare struct {
	Owner string `json:"owner"`
	Name  string `json:"name"`
	// Path is where the recipient finds it: /shared/<owner>/<name>.
	Path  string `json:"path"`
	Write bool   `json:"write"`
	// Groups are the groups it came through ("" for the user directly).
	Groups  []string  `json:"groups,omitempty"`
	Direct  bool      `json:"direct"`
	Created time.Time `json:"created"`
}

// ShareWith shares the file or folder at p, which the principal owns
// (they need strata:ShareWithUsers on it), with a user or a group. Sharing
// again with the same recipient changes the mode.
func (b *Backend) ShareWith(ctx context.Context, pr iam.Principal, p storepath.Path, o ShareOptions) (UserShare, error) {
	if err := b.allowPath(ctx, pr, iam.ShareWithUsers, p); err != nil {
		return UserShare{}, err
	}
	if p.IsRoot() || p.Within(SharedRoot) {
		return UserShare{}, fmt.Errorf("%w: %s cannot be shared (share the owner's own path)", errs.ErrInvalid, p)
	}
	if (o.User == "") == (o.Group == "") {
		return UserShare{}, fmt.Errorf("%w: share with one user or one group", errs.ErrInvalid)
	}
	if o.Name != "" {
		if err := storepath.ValidName(o.Name); err != nil {
			return UserShare{}, fmt.Errorf("%w: share name %q: %w", errs.ErrInvalid, o.Name, err)
		}
	}
	if len(sharePathSK(p.String(), pr.UserID)) > meta.MaxKeyLen {
		return UserShare{}, fmt.Errorf("%w: %s: a path this long cannot be shared", errs.ErrInvalid, p)
	}
	g := shareGrantRec{ID: record.NewID(), Write: o.Write, Created: record.Nanos(b.now())}
	var to string
	if o.User != "" {
		id, err := b.users.UserID(ctx, o.User)
		if err != nil {
			return UserShare{}, err
		}
		if id == pr.UserID {
			return UserShare{}, fmt.Errorf("%w: %s is yours already", errs.ErrInvalid, p)
		}
		g.User, g.UserID, to = o.User, id, toUser(id)
	} else {
		gr, err := b.users.Group(ctx, o.Group)
		if err != nil {
			return UserShare{}, err
		}
		g.Group, g.GroupC, to = gr.Name, gr.Created, toGroup(gr.Name)
	}
	return record.Optimistic(ctx, "share "+p.String(), func() (UserShare, error) {
		return b.shareOnce(ctx, pr, p, o.Name, to, g)
	})
}

func (b *Backend) shareOnce(ctx context.Context, pr iam.Principal, p storepath.Path, name, to string, g shareGrantRec) (UserShare, error) {
	treeVer, err := b.treeVersion(ctx)
	if err != nil {
		return UserShare{}, err
	}
	l, err := b.lookupExisting(ctx, p)
	if err != nil {
		return UserShare{}, err
	}
	pk := sharesPK(pr.UserID)
	idx, _, err := record.Get[sharePathRec](ctx, b.meta, pkSharePaths, sharePathSK(p.String(), pr.UserID))
	switch {
	case err == nil && name != "" && idx.Name != name:
		return UserShare{}, fmt.Errorf("%s: %w: shared as %q already", p, errs.ErrExists, idx.Name)
	case err == nil:
		name = idx.Name
	case !record.IsNotFound(err):
		return UserShare{}, err
	case name == "":
		name = p.Name()
	}
	sp, spIt, err := record.Get[sharePointRec](ctx, b.meta, pk, sharePointSK(name))
	spCond := meta.MustNew
	switch {
	case err == nil && sp.Path != p.String():
		return UserShare{}, fmt.Errorf("%w: you share %s as %q already: choose another name", errs.ErrExists, sp.Path, name)
	case err == nil && sp.Entry != l.rec.ID:
		// The entry shared there went to the trash and another took its
		// place: its grantees must not pass to the new one unasked.
		return UserShare{}, fmt.Errorf("%w: %q shares an earlier entry of %s (in your trash?): remove that share first", errs.ErrExists, name, p)
	case err == nil:
		spCond = meta.AtVersion(spIt.Version)
	case !record.IsNotFound(err):
		return UserShare{}, err
	default:
		sp.Created = g.Created
	}
	sp.Entry, sp.Kind, sp.Path = l.rec.ID, l.rec.Kind, p.String()
	old, gIt, err := record.Get[shareGrantRec](ctx, b.meta, pk, shareGrantSK(name, to))
	gCond := meta.MustNew
	switch {
	case err == nil:
		g.ID, g.Created, gCond = old.ID, old.Created, meta.AtVersion(gIt.Version)
	case !record.IsNotFound(err):
		return UserShare{}, err
	}
	recvPK := recvUserPK(g.UserID)
	if g.Group != "" {
		recvPK = recvGroupPK(g.Group)
	}
	ops := []meta.Op{
		meta.Put(record.Item(pk, sharePointSK(name), sp), spCond),
		meta.Put(record.Item(pkSharePaths, sharePathSK(p.String(), pr.UserID), sharePathRec{Name: name}), meta.NoCond),
		meta.Put(record.Item(pk, shareGrantSK(name, to), g), gCond),
		meta.Put(record.Item(recvPK, recvSK(pr.UserID, name), recvRec{
			OwnerID: pr.UserID, Owner: pr.Name, Name: name, Grant: g.ID, GroupC: g.GroupC, Write: g.Write, Created: g.Created,
		}), meta.NoCond),
		// A move of the entry or of a folder above it reads the index
		// before it commits: rewriting the entry (a file's move
		// conditions on it) and bumping the tree item (a folder's move
		// conditions on it) make a move that did not see this share
		// fail and look again.
		meta.Put(record.Item(dirPK(l.parentID), entrySK(p.Name()), l.rec), meta.AtVersion(l.ver)),
		treeBump(treeVer),
	}
	ops = append(ops, guard(l)...)
	if err := b.meta.Transact(ctx, ops); err != nil {
		return UserShare{}, errs.FromStore("share", err)
	}
	return userShare(name, sp, g, true), nil
}

func userShare(name string, sp sharePointRec, g shareGrantRec, available bool) UserShare {
	return UserShare{
		ID: g.ID, Name: name, Path: sp.Path, Kind: sp.Kind, User: g.User, Group: g.Group, Write: g.Write,
		Available: available, Created: record.FromNanos(g.Created),
	}
}

// Unshare revokes the share of p with a user or a group.
func (b *Backend) Unshare(ctx context.Context, pr iam.Principal, p storepath.Path, user, group string) error {
	if err := b.allowPath(ctx, pr, iam.ShareWithUsers, p); err != nil {
		return err
	}
	if (user == "") == (group == "") {
		return fmt.Errorf("%w: name one user or one group", errs.ErrInvalid)
	}
	idx, _, err := record.Get[sharePathRec](ctx, b.meta, pkSharePaths, sharePathSK(p.String(), pr.UserID))
	if record.IsNotFound(err) {
		return fmt.Errorf("%s: %w: not shared", p, errs.ErrNotFound)
	}
	if err != nil {
		return err
	}
	to := toGroup(group)
	if user != "" {
		id, err := b.users.UserID(ctx, user)
		if err != nil {
			return err
		}
		to = toUser(id)
	}
	return b.dropGrant(ctx, pr.UserID, idx.Name, to)
}

// dropGrant removes the grant of the share name of ownerID to to, and the
// share point with its last grant.
func (b *Backend) dropGrant(ctx context.Context, ownerID, name, to string) error {
	pk := sharesPK(ownerID)
	_, err := record.Optimistic(ctx, "unshare "+name, func() (struct{}, error) {
		sp, spIt, err := record.Get[sharePointRec](ctx, b.meta, pk, sharePointSK(name))
		if err != nil {
			return struct{}{}, errs.FromStore("unshare", err)
		}
		g, gIt, err := record.Get[shareGrantRec](ctx, b.meta, pk, shareGrantSK(name, to))
		if record.IsNotFound(err) {
			return struct{}{}, fmt.Errorf("%s: %w: not shared with them", sp.Path, errs.ErrNotFound)
		}
		if err != nil {
			return struct{}{}, err
		}
		others, err := b.meta.Query(ctx, pk, meta.QueryOpts{Prefix: shareGrantSK(name, ""), Limit: 2})
		if err != nil {
			return struct{}{}, err
		}
		recvPK := recvUserPK(g.UserID)
		if g.Group != "" {
			recvPK = recvGroupPK(g.Group)
		}
		ops := []meta.Op{
			meta.Delete(pk, gIt.SK, meta.AtVersion(gIt.Version)),
			meta.Delete(recvPK, recvSK(ownerID, name), meta.NoCond),
		}
		if len(others.Items) <= 1 {
			ops = append(ops,
				meta.Delete(pk, spIt.SK, meta.AtVersion(spIt.Version)),
				meta.Delete(pkSharePaths, sharePathSK(sp.Path, ownerID), meta.NoCond))
		} else {
			// Two revokes of the last two grants must not both keep the
			// share point.
			ops = append(ops, meta.Put(record.Item(pk, spIt.SK, sp), meta.AtVersion(spIt.Version)))
		}
		return struct{}{}, b.meta.Transact(ctx, ops)
	})
	if err != nil {
		return errs.FromStore("unshare", err)
	}
	return nil
}

// ListUserShares lists the shares the principal made (with p set, those
// of p only), by name.
func (b *Backend) ListUserShares(ctx context.Context, pr iam.Principal, p *storepath.Path) ([]UserShare, error) {
	if err := b.allow(ctx, pr, iam.GetUser, iam.UserNamed(pr.Name)); err != nil {
		return nil, err
	}
	pk := sharesPK(pr.UserID)
	points := map[string]sharePointRec{}
	avail := map[string]bool{}
	out := []UserShare{}
	err := b.eachShareItem(ctx, pk, shareGrantPrefix, func(it meta.Item) error {
		g, err := record.Decode[shareGrantRec](it)
		if err != nil {
			return err
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(it.SK, shareGrantPrefix), "/")
		sp, ok := points[name]
		if !ok {
			if sp, _, err = record.Get[sharePointRec](ctx, b.meta, pk, sharePointSK(name)); err != nil {
				return err
			}
			points[name] = sp
			avail[name] = b.sharePointLive(ctx, sp)
		}
		if p == nil || sp.Path == p.String() {
			out = append(out, userShare(name, sp, g, avail[name]))
		}
		return nil
	})
	return out, err
}

// sharePointLive reports whether the share point's entry is at its path.
func (b *Backend) sharePointLive(ctx context.Context, sp sharePointRec) bool {
	sp2, err := storepath.Parse(sp.Path)
	if err != nil {
		return false
	}
	l, err := b.lookup(ctx, sp2)
	return err == nil && l.exists && l.rec.ID == sp.Entry
}

func (b *Backend) eachShareItem(ctx context.Context, pk, prefix string, fn func(meta.Item) error) error {
	after := ""
	for n := 0; ; {
		pg, err := b.meta.Query(ctx, pk, meta.QueryOpts{Prefix: prefix, After: after})
		if err != nil {
			return err
		}
		for _, it := range pg.Items {
			if n++; n > maxSharesListed {
				return nil
			}
			if err := fn(it); err != nil {
				return err
			}
		}
		if pg.Next == "" {
			return nil
		}
		after = pg.Next
	}
}

// received is a share the principal was given, through one or more
// grants.
type received struct {
	rec    recvRec
	write  bool
	direct bool
	groups []string
	grants []string // the IDs of the group grants
}

// receivedFrom collects the shares pr was given and has not left, of the
// owner ownerID ("" all) and the name ("" all), by owner and name.
func (b *Backend) receivedFrom(ctx context.Context, pr iam.Principal, ownerID, name string) ([]*received, error) {
	groups, err := b.users.GroupsOf(ctx, pr.UserID)
	if err != nil {
		return nil, err
	}
	prefix := ""
	if ownerID != "" {
		prefix = ownerID + "/"
		if name != "" {
			prefix = recvSK(ownerID, name)
		}
	}
	byKey := map[string]*received{}
	var keys []string
	add := func(group string, gc int64) func(meta.Item) error {
		return func(it meta.Item) error {
			if strings.HasPrefix(it.SK, shareLeftPrefix) || (name != "" && it.SK != prefix) {
				return nil
			}
			r, err := record.Decode[recvRec](it)
			if err != nil {
				return err
			}
			if group != "" && r.GroupC != gc {
				return nil // given to an earlier group of that name
			}
			if group != "" {
				if _, err := b.meta.Get(ctx, recvUserPK(pr.UserID), leftSK(r.OwnerID, r.Name, r.Grant)); err == nil {
					return nil
				} else if !record.IsNotFound(err) {
					return err
				}
			}
			k := it.SK
			rv := byKey[k]
			if rv == nil {
				rv = &received{rec: r}
				byKey[k] = rv
				keys = append(keys, k)
			}
			rv.write = rv.write || r.Write
			if group == "" {
				rv.direct = true
			} else {
				rv.groups = append(rv.groups, group)
				rv.grants = append(rv.grants, r.Grant)
			}
			if r.Created < rv.rec.Created {
				rv.rec.Created = r.Created
			}
			return nil
		}
	}
	if err := b.eachShareItem(ctx, recvUserPK(pr.UserID), prefix, add("", 0)); err != nil {
		return nil, err
	}
	for _, g := range groups {
		if err := b.eachShareItem(ctx, recvGroupPK(g.Name), prefix, add(g.Name, g.Created)); err != nil {
			return nil, err
		}
	}
	sort.Strings(keys)
	out := make([]*received, 0, len(keys))
	// An owner deleted (and a new user of that name) no longer shares.
	owners := map[string]bool{ownerID: ownerID != ""}
	for _, k := range keys {
		r := byKey[k]
		if r.rec.OwnerID == pr.UserID {
			continue
		}
		live, ok := owners[r.rec.OwnerID]
		if !ok {
			id, err := b.users.UserID(ctx, r.rec.Owner)
			if err != nil && !errors.Is(err, errs.ErrNotFound) {
				return nil, err
			}
			live = err == nil && id == r.rec.OwnerID
			owners[r.rec.OwnerID] = live
		}
		if live {
			out = append(out, r)
		}
	}
	return out, nil
}

// ReceivedShares lists the shares others made with the principal,
// directly or through their groups, and that they did not leave.
func (b *Backend) ReceivedShares(ctx context.Context, pr iam.Principal) ([]ReceivedShare, error) {
	if err := b.allow(ctx, pr, iam.GetUser, iam.UserNamed(pr.Name)); err != nil {
		return nil, err
	}
	rs, err := b.receivedFrom(ctx, pr, "", "")
	if err != nil {
		return nil, err
	}
	out := make([]ReceivedShare, 0, len(rs))
	for _, r := range rs {
		v, err := sharedView(r.rec.Owner, r.rec.Name)
		if err != nil {
			continue
		}
		out = append(out, ReceivedShare{
			Owner: r.rec.Owner, Name: r.rec.Name, Path: v.String(), Write: r.write, Groups: r.groups, Direct: r.direct,
			Created: record.FromNanos(r.rec.Created),
		})
	}
	return out, nil
}

func sharedView(owner, name string) (storepath.Path, error) {
	return storepath.FromSegments([]string{SharedRoot.Name(), owner, name})
}

// LeaveShare takes the share at /shared/<owner>/<name> out of the
// principal's view: a share made with them is revoked, and the shares
// made with their groups are left for them alone.
func (b *Backend) LeaveShare(ctx context.Context, pr iam.Principal, v storepath.Path) error {
	t, err := b.authorize(ctx, pr, iam.LeaveShare, v)
	if err != nil {
		return err
	}
	sv := t.share
	if sv == nil || v != sv.view {
		return fmt.Errorf("%w: %s is not a share: leave /shared/<owner>/<name>", errs.ErrInvalid, v)
	}
	if sv.got.direct {
		if err := b.dropGrant(ctx, sv.owner.UserID, sv.name, toUser(pr.UserID)); err != nil && !errors.Is(err, errs.ErrNotFound) {
			return err
		}
	}
	now := record.Nanos(b.now())
	for _, id := range sv.got.grants {
		if _, err := b.meta.Put(ctx, record.Item(recvUserPK(pr.UserID), leftSK(sv.owner.UserID, sv.name, id), struct {
			T int64 `json:"t"`
		}{now}), meta.NoCond); err != nil {
			return errs.FromStore("leave share", err)
		}
	}
	return nil
}

// shareView is a share as resolved for a request of its recipient.
type shareView struct {
	owner iam.Principal
	name  string
	view  storepath.Path // /shared/<owner>/<name>
	real  storepath.Path // the shared entry's path
	entry string
	got   *received
}

// target is a path an operation acts on, as resolved for the principal:
// the real path, and the share it was reached through (nil: none).
type target struct {
	path  storepath.Path
	share *shareView
	// virtual: /shared or /shared/<owner>, folders of the view only.
	virtual bool
}

// show is e as the principal named it: under /shared when it was reached
// through a share.
func (t target) show(e Entry) Entry {
	if t.share == nil {
		return e
	}
	e.Path = t.share.viewOf(e.Path)
	return e
}

// trashOwner is whose trash an entry deleted through t goes to: the
// owner's of a share, else the principal's own.
func (t target) trashOwner(pr iam.Principal) string {
	if t.share != nil {
		return t.share.owner.UserID
	}
	return pr.UserID
}

// viewOf maps a real path below the share's entry to the recipient's.
func (sv *shareView) viewOf(real string) string {
	if real == sv.real.String() {
		return sv.view.String()
	}
	if rest, ok := strings.CutPrefix(real, sv.real.String()+"/"); ok {
		return sv.view.String() + "/" + rest
	}
	return real
}

// realOf maps a path under the share's view to the real one.
func (sv *shareView) realOf(v storepath.Path) (storepath.Path, error) {
	rest, ok := v.Rel(sv.view)
	if !ok {
		return storepath.Path{}, fmt.Errorf("%s: %w", v, errs.ErrForbidden)
	}
	if rest == "" {
		return sv.real, nil
	}
	return storepath.Parse(sv.real.String() + "/" + rest)
}

// authorize decides whether pr may do act on p, and resolves p: a path
// under /shared to the shared entry's real path (see the top of this
// file); any other path is decided as it is.
func (b *Backend) authorize(ctx context.Context, pr iam.Principal, act iam.Action, p storepath.Path) (target, error) {
	if !p.Within(SharedRoot) {
		return target{path: p}, b.allowPath(ctx, pr, act, p)
	}
	if !pr.Authenticated() {
		return target{}, errs.ErrUnauthorized
	}
	segs := p.Segments()
	if len(segs) <= 2 {
		if act != iam.ListFolder && act != iam.GetFile {
			return target{}, denied(act, p, "the folders of /shared are the view's")
		}
		if err := b.decideGrant(ctx, pr, act, p, iam.Grants().View); err != nil {
			return target{}, err
		}
		return target{path: p, virtual: true}, nil
	}
	if err := b.decideGrant(ctx, pr, act, p, iam.Grants().Any); err != nil {
		return target{}, err
	}
	sv, err := b.resolveShare(ctx, pr, segs[1], segs[2])
	if err != nil {
		if errors.Is(err, errs.ErrNotFound) || errors.Is(err, errs.ErrForbidden) {
			return target{}, denied(act, p, "no such share for the principal")
		}
		return target{}, err
	}
	real, err := sv.realOf(p)
	if err != nil {
		return target{}, err
	}
	if err := b.decideShare(ctx, pr, sv, act, real); err != nil {
		return target{}, err
	}
	l, err := b.lookup(ctx, sv.real)
	if err != nil || !l.exists || l.rec.ID != sv.entry {
		return target{}, fmt.Errorf("%s: %w: the shared entry is not there (in its owner's trash?)", sv.view, errs.ErrNotFound)
	}
	return target{path: real, share: sv}, nil
}

func denied(act iam.Action, p storepath.Path, reason string) error {
	return &iam.DeniedError{Action: act, Resource: iam.PathOf(p), Reason: reason}
}

// decideGrant asks the decision for pr on p with grant as one more Allow.
func (b *Backend) decideGrant(ctx context.Context, pr iam.Principal, act iam.Action, p storepath.Path, grant *iam.Policy) error {
	req := iam.RequestFrom(ctx)
	req.Grant = grant
	return iam.Authorize(iam.WithRequest(ctx, req), b.decider, pr, act, iam.PathOf(p))
}

// decideShare decides act on the real path real, below the share sv, for
// its recipient pr: the share's mode, pr's policies with the grant on the
// path as pr sees it, and the owner's policies on the real path. A
// denial names only pr's path.
func (b *Backend) decideShare(ctx context.Context, pr iam.Principal, sv *shareView, act iam.Action, real storepath.Path) error {
	v, err := storepath.Parse(sv.viewOf(real.String()))
	if err != nil || !v.Within(SharedRoot) {
		return fmt.Errorf("%s: %w", real, errs.ErrForbidden)
	}
	grant := iam.Grants().For(sv.got.write, real == sv.real)
	if !grant.Allows(act) {
		return denied(act, v, "the share does not grant it")
	}
	if err := b.decideGrant(ctx, pr, act, v, grant); err != nil {
		return err
	}
	if err := b.allowPath(ctx, sv.owner, act, real); err != nil {
		if iam.IsDenied(err) {
			return denied(act, v, "the owner's policies do not allow it")
		}
		return err
	}
	return nil
}

// resolveShare finds the share owner/name of pr.
func (b *Backend) resolveShare(ctx context.Context, pr iam.Principal, owner, name string) (*shareView, error) {
	ownerID, err := b.users.UserID(ctx, owner)
	if err != nil {
		return nil, err
	}
	rs, err := b.receivedFrom(ctx, pr, ownerID, name)
	if err != nil {
		return nil, err
	}
	if len(rs) != 1 {
		return nil, fmt.Errorf("share %s/%s: %w", owner, name, errs.ErrNotFound)
	}
	sp, _, err := record.Get[sharePointRec](ctx, b.meta, sharesPK(ownerID), sharePointSK(name))
	if err != nil {
		return nil, errs.FromStore("share", err)
	}
	real, err := storepath.Parse(sp.Path)
	if err != nil {
		return nil, fmt.Errorf("backend: corrupt share point %s: %w", name, err)
	}
	view, err := sharedView(owner, name)
	if err != nil {
		return nil, err
	}
	// The owner acts through the same entry point, under their own
	// policies (never a token's session policy: the share is theirs, not
	// a token's).
	op := iam.User(ownerID, owner, false, "")
	op.Via = pr.Via
	return &shareView{owner: op, name: name, view: view, real: real, entry: sp.Entry, got: rs[0]}, nil
}

// listShared lists /shared (the owners who share with pr) or
// /shared/<owner> (what they share), both folders of the view.
func (b *Backend) listShared(ctx context.Context, pr iam.Principal, p storepath.Path) (Page, error) {
	segs := p.Segments()
	ownerID := ""
	if len(segs) == 2 {
		id, err := b.users.UserID(ctx, segs[1])
		if err != nil {
			return Page{}, denied(iam.ListFolder, p, "no such owner")
		}
		ownerID = id
	}
	rs, err := b.receivedFrom(ctx, pr, ownerID, "")
	if err != nil {
		return Page{}, err
	}
	if len(segs) == 2 && len(rs) == 0 {
		return Page{}, denied(iam.ListFolder, p, "no share of that owner")
	}
	out := Page{Entries: []Entry{}}
	seen := map[string]bool{}
	for _, r := range rs {
		if len(segs) == 1 {
			if seen[r.rec.Owner] {
				continue
			}
			seen[r.rec.Owner] = true
			op, err := p.Join(r.rec.Owner)
			if err != nil {
				continue
			}
			out.Entries = append(out.Entries, Entry{Path: op.String(), Name: r.rec.Owner, Kind: KindDir, ID: "shared-" + r.rec.OwnerID})
			continue
		}
		sp, _, err := record.Get[sharePointRec](ctx, b.meta, sharesPK(ownerID), sharePointSK(r.rec.Name))
		if err != nil {
			continue
		}
		real, err := storepath.Parse(sp.Path)
		if err != nil {
			continue
		}
		l, err := b.lookup(ctx, real)
		if err != nil || !l.exists || l.rec.ID != sp.Entry {
			continue // in the owner's trash: back when it is restored
		}
		v, err := p.Join(r.rec.Name)
		if err != nil {
			continue
		}
		out.Entries = append(out.Entries, b.entry(v, l.rec))
	}
	sort.Slice(out.Entries, func(i, j int) bool { return out.Entries[i].Name < out.Entries[j].Name })
	return out, nil
}

// statShared describes /shared or /shared/<owner>.
func (b *Backend) statShared(ctx context.Context, pr iam.Principal, p storepath.Path) (Entry, error) {
	if len(p.Segments()) == 2 {
		if _, err := b.listShared(ctx, pr, p); err != nil {
			return Entry{}, denied(iam.GetFile, p, "no share of that owner")
		}
	}
	return Entry{Path: p.String(), Name: p.Name(), Kind: KindDir, ID: "shared"}, nil
}

// repathShares are the writes that move the share points at or below from
// to the same place below to, for a move's transaction.
func (b *Backend) repathShares(ctx context.Context, from, to storepath.Path) ([]meta.Op, error) {
	var hits []meta.Item
	for _, prefix := range []string{from.String() + "\x01", from.String() + "/"} {
		pg, err := b.meta.Query(ctx, pkSharePaths, meta.QueryOpts{Prefix: prefix, Limit: maxRepath + 1})
		if err != nil {
			return nil, err
		}
		hits = append(hits, pg.Items...)
	}
	if len(hits) > maxRepath {
		return nil, fmt.Errorf("%w: %s holds more than %d shared entries: a move re-points at most %d; revoke some shares first",
			errs.ErrInvalid, from, maxRepath, maxRepath)
	}
	var ops []meta.Op
	for _, it := range hits {
		old, ownerID, ok := strings.Cut(it.SK, "\x01")
		if !ok {
			continue
		}
		idx, err := record.Decode[sharePathRec](it)
		if err != nil {
			return nil, err
		}
		rest := strings.TrimPrefix(old, from.String())
		np := to.String() + rest
		sp, spIt, err := record.Get[sharePointRec](ctx, b.meta, sharesPK(ownerID), sharePointSK(idx.Name))
		if record.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if len(sharePathSK(np, ownerID)) > meta.MaxKeyLen {
			return nil, fmt.Errorf("%w: %s would be too long a path for the share of it", errs.ErrInvalid, np)
		}
		sp.Path = np
		ops = append(ops,
			meta.Delete(it.PK, it.SK, meta.AtVersion(it.Version)),
			meta.Put(record.Item(pkSharePaths, sharePathSK(np, ownerID), idx), meta.MustNew),
			meta.Put(record.Item(spIt.PK, spIt.SK, sp), meta.AtVersion(spIt.Version)))
	}
	return ops, nil
}

// allowAt decides act on real, a path below the target t was resolved to
// (an entry of a folder being copied), as t was decided: through its
// share if it has one.
func (b *Backend) allowAt(ctx context.Context, pr iam.Principal, t target, act iam.Action, real storepath.Path) error {
	if t.share == nil {
		return b.allowPath(ctx, pr, act, real)
	}
	return b.decideShare(ctx, pr, t.share, act, real)
}

// viewError is an error of an operation through a share, its message
// naming the recipient's paths, never the owner's.
type viewError struct {
	msg string
	err error
}

func (e *viewError) Error() string { return e.msg }
func (e *viewError) Unwrap() error { return e.err }

// fail is err as the principal should read it.
func (t target) fail(err error) error {
	if err == nil || t.share == nil {
		return err
	}
	msg := strings.ReplaceAll(err.Error(), t.share.real.String(), t.share.view.String())
	if msg == err.Error() {
		return err
	}
	return &viewError{msg: msg, err: err}
}

// repathRestored re-points, for an entry restored from the trash to
// target rather than where it was (orig), the shares of it and of what it
// holds, as a move would have. Only while nothing else is at orig: shares
// of a live entry there are that entry's.
func (b *Backend) repathRestored(ctx context.Context, orig string, target storepath.Path) ([]meta.Op, error) {
	op, err := storepath.Parse(orig)
	if err != nil {
		return nil, nil
	}
	l, err := b.lookup(ctx, op)
	switch {
	case errors.Is(err, errs.ErrNotFound) || errors.Is(err, errs.ErrNotDir) || (err == nil && !l.exists):
		return b.repathShares(ctx, op, target)
	case err != nil:
		return nil, err
	}
	return nil, nil
}
