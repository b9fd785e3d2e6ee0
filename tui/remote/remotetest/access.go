package remotetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/strata-storage/strata/tui/remote"
)

// Me is the fake's caller.
const Me = "tester"

// The built-in policies and group, as the server names them.
const (
	HomePolicy  = "home"
	AdminPolicy = "admin"
	AdminsGroup = "admins"
)

// access is the fake's users, groups and policies, kept as the server
// keeps them: a user has policies and groups, a group members and
// policies; what a policy is attached to is read off them.
type access struct {
	users    map[string]*fakeUser
	groups   map[string]*fakeGroup
	policies map[string]*fakePolicy
	session  string // the caller's token's session policy
	tokens   int
}

type fakeUser struct {
	created  time.Time
	password bool
	policies []string
}

type fakeGroup struct {
	created  time.Time
	members  []string
	policies []string
}

type fakePolicy struct {
	doc              string
	created, updated time.Time
	builtIn          bool
}

// Short stand-ins for the built-in documents (the fake decides nothing).
const (
	homeDoc = `{"Version":"2012-10-17","Statement":[{"Sid":"HomeContent","Effect":"Allow","Action":"strata:*",` +
		`"Resource":"/home/${strata:username}/*"}]}`
	adminDoc = `{"Version":"2012-10-17","Statement":[{"Sid":"Everything","Effect":"Allow","Action":"*","Resource":"*"},` +
		`{"Sid":"KeepTheRoot","Effect":"Deny","Action":["strata:DeleteFile","strata:MoveFile"],"Resource":"/"}]}`
)

func newAccess(now time.Time) access {
	return access{
		users:  map[string]*fakeUser{Me: {created: now, policies: []string{HomePolicy}}},
		groups: map[string]*fakeGroup{AdminsGroup: {created: now, policies: []string{AdminPolicy}}},
		policies: map[string]*fakePolicy{
			HomePolicy:  {doc: homeDoc, created: now, updated: now, builtIn: true},
			AdminPolicy: {doc: adminDoc, created: now, updated: now, builtIn: true},
		},
	}
}

// SetAdmin puts the caller in the admins group (or takes them out),
// whatever else the group holds.
func (f *Fake) SetAdmin(admin bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := f.acc.groups[AdminsGroup]
	g.members = slices.DeleteFunc(g.members, func(m string) bool { return m == Me })
	if admin {
		g.members = insert(g.members, Me)
	}
}

// PutPolicy stores a policy document directly (test setup).
func (f *Fake) PutPolicy(name, doc string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.acc.policies[name]; ok {
		p.doc, p.updated = doc, f.Now
		return
	}
	f.acc.policies[name] = &fakePolicy{doc: doc, created: f.Now, updated: f.Now}
}

// SetSessionPolicy gives the caller's token a session policy ("" none).
func (f *Fake) SetSessionPolicy(doc string) {
	f.mu.Lock()
	f.acc.session = doc
	f.mu.Unlock()
}

// insert adds s to the sorted list l, once.
func insert(l []string, s string) []string {
	i, found := slices.BinarySearch(l, s)
	if found {
		return l
	}
	return slices.Insert(l, i, s)
}

func remove(l []string, s string) []string {
	return slices.DeleteFunc(l, func(x string) bool { return x == s })
}

// isAdmin reports whether user is in the admins group; f.mu is held.
func (f *Fake) isAdmin(user string) bool {
	return slices.Contains(f.acc.groups[AdminsGroup].members, user)
}

// groupsOf lists the groups user is in; f.mu is held.
func (f *Fake) groupsOf(user string) []string {
	var out []string
	for name, g := range f.acc.groups {
		if slices.Contains(g.members, user) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// user describes name; f.mu is held.
func (f *Fake) user(name string) remote.User {
	u := f.acc.users[name]
	id := "u1"
	if name != Me {
		id = "u-" + name
	}
	return remote.User{ID: id, Name: name, Admin: f.isAdmin(name), Home: "/home/" + name, Created: u.created,
		Password: u.password, Groups: f.groupsOf(name), Policies: slices.Clone(u.policies)}
}

// admin starts an administrator's call: it fails when the caller is not
// one (or the server cannot be reached). It returns with f.mu held.
func (f *Fake) admin(ctx context.Context, name string) error {
	if err := f.call(ctx, name); err != nil {
		return err
	}
	f.mu.Lock()
	if !f.isAdmin(Me) {
		f.mu.Unlock()
		return fmt.Errorf("%w: %s takes an administrator", remote.ErrForbidden, name)
	}
	return nil
}

func (f *Fake) Whoami(ctx context.Context) (remote.User, error) {
	if err := f.call(ctx, "Whoami"); err != nil {
		return remote.User{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.user(Me)
	names := slices.Clone(u.Policies)
	for _, g := range u.Groups {
		names = append(names, f.acc.groups[g].policies...)
	}
	slices.Sort(names)
	for _, n := range slices.Compact(names) {
		p := f.acc.policies[n]
		u.Applies = append(u.Applies, remote.Policy{Name: n, Document: json.RawMessage(p.doc), Created: p.created,
			Updated: p.updated, BuiltIn: p.builtIn})
	}
	u.SessionPolicy = f.acc.session
	return u, nil
}

func (f *Fake) Users(ctx context.Context) ([]remote.User, error) {
	if err := f.admin(ctx, "Users"); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	out := []remote.User{}
	for _, name := range sortedKeys(f.acc.users) {
		out = append(out, f.user(name))
	}
	return out, nil
}

// validName refuses what the server would (roughly: the fake needs only
// to refuse something).
func validName(kind, name string) error {
	if name == "" || strings.ContainsAny(name, "/ \t\n") {
		return fmt.Errorf("%s name %q: use letters, digits, '.', '_' and '-'", kind, name)
	}
	return nil
}

func (f *Fake) CreateUser(ctx context.Context, name string, admin bool) (remote.NewUser, error) {
	if err := f.admin(ctx, "CreateUser"); err != nil {
		return remote.NewUser{}, err
	}
	defer f.mu.Unlock()
	if err := validName("user", name); err != nil {
		return remote.NewUser{}, err
	}
	if _, ok := f.acc.users[name]; ok {
		return remote.NewUser{}, fmt.Errorf("user %s: %w", name, remote.ErrExists)
	}
	f.Now = f.Now.Add(time.Second)
	f.acc.users[name] = &fakeUser{created: f.Now, policies: []string{HomePolicy}}
	if admin {
		g := f.acc.groups[AdminsGroup]
		g.members = insert(g.members, name)
	}
	f.acc.tokens++
	t := remote.Token{ID: fmt.Sprintf("k%03d", f.acc.tokens), User: name, Name: "initial", Created: f.Now,
		Secret: fmt.Sprintf("strata_fake%03d%s", f.acc.tokens, strings.Repeat("x", 32))}
	return remote.NewUser{User: f.user(name), Token: &t}, nil
}

func (f *Fake) Groups(ctx context.Context) ([]remote.Group, error) {
	if err := f.admin(ctx, "Groups"); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	out := []remote.Group{}
	for _, name := range sortedKeys(f.acc.groups) {
		g := f.acc.groups[name]
		out = append(out, remote.Group{Name: name, Created: g.created, Members: append([]string{}, g.members...),
			Policies: append([]string{}, g.policies...)})
	}
	return out, nil
}

func (f *Fake) CreateGroup(ctx context.Context, name string) error {
	if err := f.admin(ctx, "CreateGroup"); err != nil {
		return err
	}
	defer f.mu.Unlock()
	if err := validName("group", name); err != nil {
		return err
	}
	if _, ok := f.acc.groups[name]; ok {
		return fmt.Errorf("group %s: %w", name, remote.ErrExists)
	}
	f.Now = f.Now.Add(time.Second)
	f.acc.groups[name] = &fakeGroup{created: f.Now}
	return nil
}

func (f *Fake) DeleteGroup(ctx context.Context, name string) error {
	if err := f.admin(ctx, "DeleteGroup"); err != nil {
		return err
	}
	defer f.mu.Unlock()
	g, ok := f.acc.groups[name]
	switch {
	case !ok:
		return fmt.Errorf("group %s: %w", name, remote.ErrNotFound)
	case name == AdminsGroup:
		return errors.New("in use: the admins group is built in")
	case len(g.members)+len(g.policies) > 0:
		return fmt.Errorf("in use: group %s has %d members and %d policies: remove them first", name, len(g.members), len(g.policies))
	}
	delete(f.acc.groups, name)
	return nil
}

func (f *Fake) GroupMember(ctx context.Context, group, user string, in bool) error {
	if err := f.admin(ctx, "GroupMember"); err != nil {
		return err
	}
	defer f.mu.Unlock()
	g, ok := f.acc.groups[group]
	if !ok {
		return fmt.Errorf("group %s: %w", group, remote.ErrNotFound)
	}
	if _, ok := f.acc.users[user]; !ok {
		return fmt.Errorf("user %s: %w", user, remote.ErrNotFound)
	}
	if in {
		g.members = insert(g.members, user)
		return nil
	}
	if group == AdminsGroup && len(remove(slices.Clone(g.members), user)) == 0 {
		return errors.New("in use: the last admin stays an admin (make another admin first)")
	}
	g.members = remove(g.members, user)
	return nil
}

// describe says what policy name is attached to; f.mu is held.
func (f *Fake) describe(name string, p *fakePolicy) remote.Policy {
	out := remote.Policy{Name: name, Created: p.created, Updated: p.updated, BuiltIn: p.builtIn, Users: []string{}, Groups: []string{}}
	for _, u := range sortedKeys(f.acc.users) {
		if slices.Contains(f.acc.users[u].policies, name) {
			out.Users = append(out.Users, u)
		}
	}
	for _, g := range sortedKeys(f.acc.groups) {
		if slices.Contains(f.acc.groups[g].policies, name) {
			out.Groups = append(out.Groups, g)
		}
	}
	return out
}

func (f *Fake) Policies(ctx context.Context) ([]remote.Policy, error) {
	if err := f.admin(ctx, "Policies"); err != nil {
		return nil, err
	}
	defer f.mu.Unlock()
	out := []remote.Policy{}
	for _, name := range sortedKeys(f.acc.policies) {
		out = append(out, f.describe(name, f.acc.policies[name]))
	}
	return out, nil
}

func (f *Fake) Policy(ctx context.Context, name string) (remote.Policy, error) {
	if err := f.admin(ctx, "Policy"); err != nil {
		return remote.Policy{}, err
	}
	defer f.mu.Unlock()
	p, ok := f.acc.policies[name]
	if !ok {
		return remote.Policy{}, fmt.Errorf("policy %s: %w", name, remote.ErrNotFound)
	}
	out := f.describe(name, p)
	out.Document = json.RawMessage(p.doc)
	return out, nil
}

func (f *Fake) AttachPolicy(ctx context.Context, name string, to remote.Target, attach bool) error {
	if err := f.admin(ctx, "AttachPolicy"); err != nil {
		return err
	}
	defer f.mu.Unlock()
	if _, ok := f.acc.policies[name]; !ok {
		return fmt.Errorf("policy %s: %w", name, remote.ErrNotFound)
	}
	var list *[]string
	switch {
	case to.User != "" && to.Group == "":
		u, ok := f.acc.users[to.User]
		if !ok {
			return fmt.Errorf("user %s: %w", to.User, remote.ErrNotFound)
		}
		list = &u.policies
	case to.Group != "" && to.User == "":
		g, ok := f.acc.groups[to.Group]
		if !ok {
			return fmt.Errorf("group %s: %w", to.Group, remote.ErrNotFound)
		}
		if !attach && name == AdminPolicy && to.Group == AdminsGroup {
			return errors.New("in use: the admins group keeps the admin policy (it would leave no admin)")
		}
		list = &g.policies
	default:
		return errors.New("name a user or a group")
	}
	if attach {
		*list = insert(*list, name)
	} else {
		*list = remove(*list, name)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
