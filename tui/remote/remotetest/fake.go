// Package remotetest is an in-memory remote.Remote for the TUI's tests:
// a folder tree with versions and a trash, users, groups and policies,
// deterministic times, optional latency, and a switch that makes it
// unreachable.
package remotetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/strata-storage/strata/tui/remote"
)

// Fake is an in-memory server. Its caller is the user "tester", who is
// not an administrator until SetAdmin.
type Fake struct {
	mu      sync.Mutex
	files   map[string][]version // path -> versions, oldest first
	dirs    map[string]bool
	trash   []trashed
	Latency time.Duration // added to every call
	down    bool
	// Calls counts calls by method name, for tests that check the TUI
	// does not over-fetch.
	Calls map[string]int
	// Now is the clock; it advances one second per write.
	Now time.Time

	acc access // users, groups and policies (access.go)
	// statDenied: paths a policy lets the caller list but not read, whose
	// Stat is forbidden.
	statDenied map[string]bool
	// quotas is the users' limits: bytes, files (usage.go); usageDenied
	// makes reading another user's usage forbidden.
	quotas      map[string][2]int64
	usageDenied bool
	// arch is the archive tier by file path, prices the table served
	// (archive.go).
	arch   map[string]*remote.ArchiveInfo
	prices *remote.ArchivePrices
	sh     shares // share links and user shares (shares.go)
}

type version struct {
	data  []byte
	mtime time.Time
	// clientDigest: the digest is the word of the client of the user
	// with ID digestBy (api.Entry.ClientDigest, ClientDigestBy).
	clientDigest bool
	digestBy     string
}

type trashed struct {
	id    string
	item  remote.TrashItem
	files map[string][]version
	dirs  []string
}

var _ remote.Remote = (*Fake)(nil)

// New returns an empty server with /home/tester.
func New() *Fake {
	f := &Fake{files: map[string][]version{}, dirs: map[string]bool{"/": true}, Calls: map[string]int{}, arch: map[string]*remote.ArchiveInfo{},
		Now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	f.MkdirAll("/home/tester")
	f.acc = newAccess(f.Now)
	return f
}

// DenyStat makes Stat of p forbidden while listing it still works, as
// for a folder a policy allows strata:ListFolder on but not strata:GetFile.
func (f *Fake) DenyStat(p string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.statDenied == nil {
		f.statDenied = map[string]bool{}
	}
	f.statDenied[p] = true
}

// SetDown makes every call fail as unreachable (or not).
func (f *Fake) SetDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

// MkdirAll creates folders directly (test setup).
func (f *Fake) MkdirAll(p string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for q := p; q != "/" && q != "."; q = path.Dir(q) {
		f.dirs[q] = true
	}
}

// PutFile stores a file directly (test setup), creating its folders.
func (f *Fake) PutFile(p string, data []byte) {
	f.MkdirAll(path.Dir(p))
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Now = f.Now.Add(time.Second)
	f.files[p] = append(f.files[p], version{data: append([]byte(nil), data...), mtime: f.Now})
	delete(f.arch, p)
}

// MarkClientDigest has the current version of the file at p say that its
// digest is the word of the client of the user with ID by, or of some
// client when by is empty (api.Entry.ClientDigest, ClientDigestBy).
func (f *Fake) MarkClientDigest(p, by string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if vs := f.files[p]; len(vs) > 0 {
		vs[len(vs)-1].clientDigest, vs[len(vs)-1].digestBy = true, by
	}
}

// Content returns a file's current bytes (test checks).
func (f *Fake) Content(p string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs, ok := f.files[p]
	if !ok {
		return nil, false
	}
	return vs[len(vs)-1].data, true
}

func (f *Fake) call(ctx context.Context, name string) error {
	f.mu.Lock()
	f.Calls[name]++
	lat, down := f.Latency, f.down
	f.mu.Unlock()
	if lat > 0 {
		select {
		case <-time.After(lat):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if down {
		return fmt.Errorf("%w: connection refused", remote.ErrUnavailable)
	}
	return nil
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// entry describes p; f.mu is held.
func (f *Fake) entry(p string) (remote.Entry, bool) {
	if vs, ok := f.files[p]; ok {
		v := vs[len(vs)-1]
		e := remote.Entry{Path: p, Name: path.Base(p), Kind: "file", ID: "f" + sum([]byte(p))[:8], Size: int64(len(v.data)),
			ModTime: v.mtime, Created: vs[0].mtime, SHA256: sum(v.data), ClientDigest: v.clientDigest, ClientDigestBy: v.digestBy, Version: int64(len(vs)), State: f.archState(f.arch[p])}
		if a := f.arch[p]; a != nil {
			c := *a
			e.Archive = &c
		}
		return e, true
	}
	if f.dirs[p] {
		name := path.Base(p)
		if p == "/" {
			name = ""
		}
		return remote.Entry{Path: p, Name: name, Kind: "dir", ID: "d" + sum([]byte(p))[:8], ModTime: f.Now, Created: f.Now}, true
	}
	return remote.Entry{}, false
}

func (f *Fake) Server() string { return "fake://strata" }

func (f *Fake) Ping(ctx context.Context) error { return f.call(ctx, "Ping") }

// children lists the names in dir, sorted; f.mu is held.
func (f *Fake) children(dir string) []string {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	seen := map[string]bool{}
	for p := range f.files {
		if strings.HasPrefix(p, prefix) && !strings.Contains(p[len(prefix):], "/") {
			seen[p[len(prefix):]] = true
		}
	}
	for p := range f.dirs {
		if p != "/" && strings.HasPrefix(p, prefix) && !strings.Contains(p[len(prefix):], "/") {
			seen[p[len(prefix):]] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (f *Fake) List(ctx context.Context, dir, cursor string, limit int) (remote.Page, error) {
	return f.list(ctx, "List", dir, "", cursor, limit)
}

func (f *Fake) ListPrefix(ctx context.Context, dir, prefix, cursor string, limit int) (remote.Page, error) {
	return f.list(ctx, "ListPrefix", dir, prefix, cursor, limit)
}

func (f *Fake) list(ctx context.Context, call, dir, prefix, cursor string, limit int) (remote.Page, error) {
	if err := f.call(ctx, call); err != nil {
		return remote.Page{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.dirs[dir] {
		if _, isFile := f.files[dir]; isFile {
			return remote.Page{}, fmt.Errorf("%s: not a folder", dir)
		}
		return remote.Page{}, fmt.Errorf("%s: %w", dir, remote.ErrNotFound)
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var names []string
	for _, n := range f.children(dir) {
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	i := sort.SearchStrings(names, cursor)
	if cursor != "" && i < len(names) && names[i] == cursor {
		i++
	}
	var pg remote.Page
	pg.Entries = []remote.Entry{}
	for ; i < len(names) && len(pg.Entries) < limit; i++ {
		e, _ := f.entry(path.Join(dir, names[i]))
		pg.Entries = append(pg.Entries, e)
	}
	if i < len(names) {
		pg.Cursor = names[i-1]
	}
	return pg, nil
}

func (f *Fake) Stat(ctx context.Context, p string) (remote.Entry, error) {
	if err := f.call(ctx, "Stat"); err != nil {
		return remote.Entry{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.statDenied[p] {
		return remote.Entry{}, fmt.Errorf("strata:GetFile on %s: %w", p, remote.ErrForbidden)
	}
	if e, ok := f.entry(p); ok {
		return e, nil
	}
	return remote.Entry{}, fmt.Errorf("%s: %w", p, remote.ErrNotFound)
}

func (f *Fake) Mkdir(ctx context.Context, p string) (remote.Entry, error) {
	if err := f.call(ctx, "Mkdir"); err != nil {
		return remote.Entry{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.entry(p); ok {
		return remote.Entry{}, fmt.Errorf("%s: %w", p, remote.ErrExists)
	}
	if !f.dirs[path.Dir(p)] {
		return remote.Entry{}, fmt.Errorf("%s: %w", path.Dir(p), remote.ErrNotFound)
	}
	f.dirs[p] = true
	e, _ := f.entry(p)
	return e, nil
}

// subtree returns the files and folders at or under p; f.mu is held.
func (f *Fake) subtree(p string) (files []string, dirs []string) {
	for q := range f.files {
		if q == p || strings.HasPrefix(q, p+"/") {
			files = append(files, q)
		}
	}
	for q := range f.dirs {
		if q == p || strings.HasPrefix(q, p+"/") {
			dirs = append(dirs, q)
		}
	}
	return files, dirs
}

func (f *Fake) Move(ctx context.Context, from, to string, overwrite bool) (remote.Entry, error) {
	if err := f.call(ctx, "Move"); err != nil {
		return remote.Entry{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.entry(from); !ok {
		return remote.Entry{}, fmt.Errorf("%s: %w", from, remote.ErrNotFound)
	}
	if _, ok := f.entry(to); ok && !overwrite {
		return remote.Entry{}, fmt.Errorf("%s: %w", to, remote.ErrExists)
	}
	files, dirs := f.subtree(from)
	for _, q := range files {
		f.files[to+strings.TrimPrefix(q, from)] = f.files[q]
		delete(f.files, q)
		if a, ok := f.arch[q]; ok {
			f.arch[to+strings.TrimPrefix(q, from)] = a
			delete(f.arch, q)
		}
	}
	for _, q := range dirs {
		delete(f.dirs, q)
		f.dirs[to+strings.TrimPrefix(q, from)] = true
	}
	e, _ := f.entry(to)
	return e, nil
}

func (f *Fake) Copy(ctx context.Context, from, to string) (remote.Entry, error) {
	if err := f.call(ctx, "Copy"); err != nil {
		return remote.Entry{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.entry(from); !ok {
		return remote.Entry{}, fmt.Errorf("%s: %w", from, remote.ErrNotFound)
	}
	files, dirs := f.subtree(from)
	for _, q := range files {
		vs := f.files[q]
		f.files[to+strings.TrimPrefix(q, from)] = []version{vs[len(vs)-1]}
		if a, ok := f.arch[q]; ok {
			c := *a
			f.arch[to+strings.TrimPrefix(q, from)] = &c
		}
	}
	for _, q := range dirs {
		f.dirs[to+strings.TrimPrefix(q, from)] = true
	}
	e, _ := f.entry(to)
	return e, nil
}

func (f *Fake) Delete(ctx context.Context, p string, recursive bool) (remote.TrashItem, error) {
	if err := f.call(ctx, "Delete"); err != nil {
		return remote.TrashItem{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entry(p)
	if !ok {
		return remote.TrashItem{}, fmt.Errorf("%s: %w", p, remote.ErrNotFound)
	}
	files, dirs := f.subtree(p)
	if e.Kind == "dir" && !recursive && len(files)+len(dirs) > 1 {
		return remote.TrashItem{}, fmt.Errorf("%s: %w", p, remote.ErrNotEmpty)
	}
	t := trashed{id: fmt.Sprintf("t%03d", len(f.trash)+1), files: map[string][]version{}}
	for _, q := range files {
		t.files[q] = f.files[q]
		delete(f.files, q)
	}
	for _, q := range dirs {
		t.dirs = append(t.dirs, q)
		delete(f.dirs, q)
	}
	f.Now = f.Now.Add(time.Second)
	t.item = remote.TrashItem{ID: t.id, Path: p, Name: path.Base(p), Kind: e.Kind, Size: e.Size, Deleted: f.Now}
	f.trash = append(f.trash, t)
	return t.item, nil
}

func (f *Fake) Trash(ctx context.Context, cursor string) (remote.TrashPage, error) {
	if err := f.call(ctx, "Trash"); err != nil {
		return remote.TrashPage{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	tp := remote.TrashPage{Items: []remote.TrashItem{}}
	for i := len(f.trash) - 1; i >= 0; i-- {
		tp.Items = append(tp.Items, f.trash[i].item)
	}
	return tp, nil
}

func (f *Fake) RestoreTrash(ctx context.Context, id, to string) (remote.Entry, error) {
	if err := f.call(ctx, "RestoreTrash"); err != nil {
		return remote.Entry{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, t := range f.trash {
		if t.id != id {
			continue
		}
		dst := t.item.Path
		if to != "" {
			dst = to
		}
		if _, ok := f.entry(dst); ok {
			return remote.Entry{}, fmt.Errorf("%s: %w", dst, remote.ErrExists)
		}
		if !f.dirs[path.Dir(dst)] {
			return remote.Entry{}, fmt.Errorf("%s: %w", path.Dir(dst), remote.ErrNotFound)
		}
		// Restoring elsewhere moves the whole subtree under the new name.
		moved := func(q string) string { return dst + strings.TrimPrefix(q, t.item.Path) }
		for q, vs := range t.files {
			f.files[moved(q)] = vs
		}
		for _, q := range t.dirs {
			f.dirs[moved(q)] = true
		}
		f.trash = append(f.trash[:i], f.trash[i+1:]...)
		e, _ := f.entry(dst)
		return e, nil
	}
	return remote.Entry{}, fmt.Errorf("trash %s: %w", id, remote.ErrNotFound)
}

// TrashItems is what the trash holds, newest first.
func (f *Fake) TrashItems() []remote.TrashItem {
	f.mu.Lock()
	defer f.mu.Unlock()
	var items []remote.TrashItem
	for i := len(f.trash) - 1; i >= 0; i-- {
		items = append(items, f.trash[i].item)
	}
	return items
}

func (f *Fake) PurgeTrash(ctx context.Context, id string) error {
	if err := f.call(ctx, "PurgeTrash"); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, t := range f.trash {
		if t.id == id {
			f.trash = append(f.trash[:i], f.trash[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("trash %s: %w", id, remote.ErrNotFound)
}

func (f *Fake) Versions(ctx context.Context, p, cursor string) (remote.VersionPage, error) {
	if err := f.call(ctx, "Versions"); err != nil {
		return remote.VersionPage{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	vs, ok := f.files[p]
	if !ok {
		return remote.VersionPage{}, fmt.Errorf("%s: %w", p, remote.ErrNotFound)
	}
	vp := remote.VersionPage{Versions: []remote.Version{}}
	for i := len(vs) - 1; i >= 0; i-- {
		vp.Versions = append(vp.Versions, remote.Version{Version: int64(i + 1), Size: int64(len(vs[i].data)),
			SHA256: sum(vs[i].data), Author: "tester", Time: vs[i].mtime, ModTime: vs[i].mtime, Current: i == len(vs)-1})
	}
	return vp, nil
}

func (f *Fake) RestoreVersion(ctx context.Context, p string, v int64) (remote.Entry, error) {
	if err := f.call(ctx, "RestoreVersion"); err != nil {
		return remote.Entry{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	vs, ok := f.files[p]
	if !ok || v < 1 || int(v) > len(vs) {
		return remote.Entry{}, fmt.Errorf("%s version %d: %w", p, v, remote.ErrNotFound)
	}
	f.Now = f.Now.Add(time.Second)
	f.files[p] = append(vs, version{data: vs[v-1].data, mtime: f.Now})
	e, _ := f.entry(p)
	return e, nil
}

func (f *Fake) Read(ctx context.Context, p string, max int64) ([]byte, error) {
	if err := f.call(ctx, "Read"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	vs, ok := f.files[p]
	if !ok {
		return nil, fmt.Errorf("%s: %w", p, remote.ErrNotFound)
	}
	if err := f.readable(p); err != nil {
		return nil, err
	}
	d := vs[len(vs)-1].data
	return append([]byte(nil), d[:min(int64(len(d)), max)]...), nil
}

func (f *Fake) Upload(ctx context.Context, local, p string, progress remote.Progress) (remote.Entry, error) {
	if err := f.call(ctx, "Upload"); err != nil {
		return remote.Entry{}, err
	}
	data, err := os.ReadFile(local)
	if err != nil {
		return remote.Entry{}, err
	}
	if progress != nil {
		progress(int64(len(data)))
	}
	f.PutFile(p, data)
	f.mu.Lock()
	defer f.mu.Unlock()
	e, _ := f.entry(p)
	return e, nil
}

func (f *Fake) Download(ctx context.Context, p, local string, progress remote.Progress) (remote.Entry, error) {
	return f.download(ctx, "Download", p, 0, local, progress)
}

func (f *Fake) DownloadVersion(ctx context.Context, p string, v int64, local string, progress remote.Progress) (remote.Entry, error) {
	return f.download(ctx, "DownloadVersion", p, v, local, progress)
}

// download writes version v of p (0: the current one) to local.
func (f *Fake) download(ctx context.Context, call, p string, v int64, local string, progress remote.Progress) (remote.Entry, error) {
	if err := f.call(ctx, call); err != nil {
		return remote.Entry{}, err
	}
	f.mu.Lock()
	vs, ok := f.files[p]
	var e remote.Entry
	var unreadable error
	if ok {
		e, _ = f.entry(p)
		if v == 0 {
			unreadable = f.readable(p)
		}
	}
	f.mu.Unlock()
	if unreadable != nil {
		return remote.Entry{}, unreadable
	}
	if !ok || v < 0 || int(v) > len(vs) {
		return remote.Entry{}, fmt.Errorf("%s: %w", p, remote.ErrNotFound)
	}
	if v == 0 {
		v = int64(len(vs))
	}
	data := vs[v-1].data
	e.Size, e.SHA256, e.Version = int64(len(data)), sum(data), v
	if err := os.WriteFile(local, data, 0o644); err != nil {
		return remote.Entry{}, err
	}
	if progress != nil {
		progress(int64(len(data)))
	}
	return e, nil
}
