package sources

import (
	"context"
	"fmt"
	"path"

	"github.com/strata-storage/strata/tui/filelist"
	"github.com/strata-storage/strata/tui/remote"
)

// strata lists folders of a Strata server.
type strata struct{ r remote.Remote }

// Remote is the Strata server behind r: paths are slash-separated from
// "/", and the server's own cursor and page size pass straight through
// (it pages by name, as filelist.Source requires).
func Remote(r remote.Remote) filelist.Source { return strata{r: r} }

// Title implements filelist.Source.
func (s strata) Title() string { return "Strata" }

// Root implements filelist.Source.
func (s strata) Root() string { return "/" }

// Join implements filelist.Source.
func (s strata) Join(dir, name string) string { return path.Join(dir, name) }

// Parent implements filelist.Source; the parent of "/" is "/".
func (s strata) Parent(dir string) string { return path.Dir(path.Clean("/" + dir)) }

// Page implements filelist.Source.
func (s strata) Page(ctx context.Context, dir, cursor string, limit int) (filelist.PageResult, error) {
	pg, err := s.r.List(ctx, dir, cursor, limit)
	if err != nil {
		return filelist.PageResult{}, fmt.Errorf("list %s: %w", dir, err)
	}
	res := filelist.PageResult{Items: make([]filelist.Item, 0, len(pg.Entries)), Cursor: pg.Cursor}
	for _, e := range pg.Entries {
		p := e.Path
		if p == "" {
			p = path.Join(dir, e.Name)
		}
		it := filelist.Item{
			Name: e.Name, Path: p, Dir: e.IsDir(), Size: e.Size, ModTime: e.ModTime,
			Created: e.Created, SHA256: e.SHA256, ClientDigest: e.ClientDigest, Version: e.Version, State: e.State, ID: e.ID,
		}
		if a := e.Archive; a != nil {
			it.Class = a.Class
			switch e.State {
			case remote.StateRestoring:
				it.Until = a.Expected
			case remote.StateRestored:
				it.Until = a.Until
			}
		}
		res.Items = append(res.Items, it)
	}
	return res, nil
}
