// Package bookmarks keeps the file manager's bookmarks: a letter names a
// folder, separately for the local disk and for each Strata server. They
// live in one JSON file (0600, replaced atomically):
//
//	{"version": 1,
//	 "local":  {"d": "/home/ann/Documents"},
//	 "strata": {"https://files.example.com": {"p": "/home/ann/photos"}}}
package bookmarks

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"

	"github.com/strata-storage/strata/internal/atomicfile"
)

const version = 1

// Place says whose folders a bookmark names: the local disk (Server "") or
// a Strata server, by its address.
type Place struct {
	Remote bool
	Server string
}

// Mark is one bookmark.
type Mark struct {
	Key  string // one letter or digit
	Path string
}

type file struct {
	Version int                          `json:"version"`
	Local   map[string]string            `json:"local,omitempty"`
	Strata  map[string]map[string]string `json:"strata,omitempty"`
}

// Store is the bookmarks, in memory and in their file. It is safe for
// concurrent use: Save may run in a command while the UI reads.
type Store struct {
	path string

	mu   sync.Mutex
	data file
	gen  int // bumped by each change
	err  error

	saveMu sync.Mutex
	saved  int // the gen last written
}

// Load reads the bookmarks file at path; a missing file is no bookmarks,
// and path "" keeps them in memory only. A file that cannot be read is an
// error, and the Store then refuses to write over it.
func Load(path string) (*Store, error) {
	s := &Store{path: path, data: file{Version: version}}
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		s.err = fmt.Errorf("bookmarks: %w", err)
		return s, s.err
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		s.err = fmt.Errorf("bookmarks %s: %w (fix or remove it)", path, err)
		return s, s.err
	}
	if f.Version != version {
		s.err = fmt.Errorf("bookmarks %s: unknown version %d", path, f.Version)
		return s, s.err
	}
	s.data = f
	return s, nil
}

// ValidKey reports whether k can name a bookmark: one ASCII letter or
// digit.
func ValidKey(k string) bool {
	if len(k) != 1 {
		return false
	}
	c := k[0]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// marks is the map of place p, created when create; s.mu is held.
func (s *Store) marks(p Place, create bool) map[string]string {
	if !p.Remote {
		if s.data.Local == nil && create {
			s.data.Local = map[string]string{}
		}
		return s.data.Local
	}
	if s.data.Strata == nil && create {
		s.data.Strata = map[string]map[string]string{}
	}
	m := s.data.Strata[p.Server]
	if m == nil && create {
		m = map[string]string{}
		s.data.Strata[p.Server] = m
	}
	return m
}

// Get returns the folder bookmarked as key at p.
func (s *Store) Get(p Place, key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir, ok := s.marks(p, false)[key]
	return dir, ok
}

// List returns the bookmarks of p, by key.
func (s *Store) List(p Place) []Mark {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.marks(p, false)
	out := make([]Mark, 0, len(m))
	for k, v := range m {
		out = append(out, Mark{Key: k, Path: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Set bookmarks dir as key at p, in memory; Save writes it.
func (s *Store) Set(p Place, key, dir string) error {
	if !ValidKey(key) {
		return fmt.Errorf("a bookmark is named by a letter or a digit, not %q", key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.marks(p, true)[key] = dir
	s.gen++
	return nil
}

// Save writes the bookmarks to their file if they changed since the last
// Save; it may block on the disk (run it in a command). Saves running at
// once write in turn, and a save that finds a newer one done writes
// nothing.
func (s *Store) Save() error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	gen, err := s.gen, s.err
	b, jerr := json.MarshalIndent(s.data, "", "  ")
	s.mu.Unlock()
	switch {
	case s.path == "" || gen == s.saved:
		return nil
	case err != nil:
		return fmt.Errorf("not saved: %w", err)
	case jerr != nil:
		return jerr
	}
	if err := atomicfile.Write(s.path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save bookmarks: %w", err)
	}
	s.saved = gen
	return nil
}
