// Package localtree is the one rule for what of a local folder tree an
// upload takes, in the CLI (strata put -r) and in the file manager:
//
//   - symbolic links are followed, to files and to folders;
//   - a folder reached again inside itself (through a link to one of its
//     parents, or a bind mount) is a cycle: it is skipped, not followed;
//   - broken links, and anything neither a regular file nor a folder
//     (sockets, pipes, devices), are skipped.
//
// Skipped entries are returned with the reason, for the caller to report;
// nothing is left out silently. Folders are identified by device and inode
// (or, where the system has none, by their real path), so the cycle check
// works whatever path leads to a folder.
package localtree

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Why an entry is skipped; Entry.Skip wraps one of these (or is the error
// that made the entry unreadable).
var (
	ErrBrokenLink = errors.New("broken symbolic link")
	ErrCycle      = errors.New("folder inside itself (a link cycle): not followed")
	ErrSpecial    = errors.New("not a regular file or folder")
)

// DirID identifies a folder on this machine.
type DirID struct {
	Dev  uint64 `json:"dev,omitempty"`
	Ino  uint64 `json:"ino,omitempty"`
	Path string `json:"path,omitempty"` // the real path, where there are no inode numbers
}

// Entry is one file or folder as an upload sees it.
type Entry struct {
	Name string
	Path string // the path it was found at (through the link, if it is one)
	// Info describes what the entry leads to (a link's target); nil when
	// Skip says it could not be read.
	Info fs.FileInfo
	Link bool  // reached through a symbolic link
	ID   DirID // a folder's identity
	// Skip is why the upload leaves it out; nil for a file or folder it
	// takes.
	Skip error
}

// IsDir reports whether e is a folder the upload goes into.
func (e Entry) IsDir() bool { return e.Skip == nil && e.Info.IsDir() }

// Stat describes the root of an upload, following links. A root that does
// not exist is an error; a broken link, or one that is neither a file nor
// a folder, is an Entry with Skip set, as inside a folder.
func Stat(path string) (Entry, error) {
	li, err := os.Lstat(path)
	if err != nil {
		return Entry{}, err
	}
	fi, err := os.Stat(path)
	if err != nil && li.Mode()&fs.ModeSymlink != 0 {
		e := Entry{Name: filepath.Base(path), Path: path, Link: true}
		if errors.Is(err, syscall.ELOOP) {
			e.Skip = fmt.Errorf("%w: the link leads to itself", ErrCycle)
		} else {
			target, _ := os.Readlink(path)
			e.Skip = fmt.Errorf("%w (to %s)", ErrBrokenLink, target)
		}
		return e, nil
	}
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Name: filepath.Base(path), Path: path, Info: fi, Link: li.Mode()&fs.ModeSymlink != 0}
	switch {
	case fi.IsDir():
		e.ID = dirID(path, fi)
	case !fi.Mode().IsRegular():
		e.Skip = ErrSpecial
	}
	return e, nil
}

// ReadDir lists the folder dir in name order; parents are the identities
// of the folders from the upload's root down to dir itself, for the cycle
// check. Only failing to read dir itself is an error.
func ReadDir(dir string, parents []DirID) ([]Entry, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(des))
	for _, d := range des {
		out = append(out, classify(dir, d, parents))
	}
	return out, nil
}

func classify(dir string, d fs.DirEntry, parents []DirID) Entry {
	e := Entry{Name: d.Name(), Path: filepath.Join(dir, d.Name()), Link: d.Type()&fs.ModeSymlink != 0}
	var err error
	if e.Link {
		e.Info, err = os.Stat(e.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			target, _ := os.Readlink(e.Path)
			e.Skip = fmt.Errorf("%w (to %s)", ErrBrokenLink, target)
			return e
		case errors.Is(err, syscall.ELOOP):
			e.Skip = fmt.Errorf("%w: the link leads to itself", ErrCycle)
			return e
		}
	} else {
		e.Info, err = d.Info()
	}
	if err != nil {
		e.Info, e.Skip = nil, err // unreadable, or gone since the listing
		return e
	}
	switch {
	case e.Info.IsDir():
		e.ID = dirID(e.Path, e.Info)
		for _, p := range parents {
			if p == e.ID {
				e.Skip = ErrCycle
				break
			}
		}
	case !e.Info.Mode().IsRegular():
		e.Skip = ErrSpecial
	}
	return e
}

// dirID identifies the folder at path, described by fi.
func dirID(path string, fi fs.FileInfo) DirID {
	if id, ok := sysID(fi); ok {
		return id
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		real = path
	}
	if abs, err := filepath.Abs(real); err == nil {
		real = abs
	}
	return DirID{Path: real}
}

// Walk visits root and, for a folder, everything under it, depth first in
// name order, one folder's listing at a time (nothing else is held).
// fn gets each entry's path relative to root ("." for root) and the
// entry, skipped ones included; an error from fn stops the walk.
func Walk(root string, fn func(rel string, e Entry) error) error {
	e, err := Stat(root)
	if err != nil {
		return err
	}
	if err := fn(".", e); err != nil || !e.IsDir() {
		return err
	}
	return walk(root, ".", []DirID{e.ID}, fn)
}

func walk(dir, rel string, parents []DirID, fn func(string, Entry) error) error {
	es, err := ReadDir(dir, parents)
	if err != nil {
		return err
	}
	for _, e := range es {
		r := filepath.Join(rel, e.Name)
		if err := fn(r, e); err != nil {
			return err
		}
		if e.IsDir() {
			// A copy per level: siblings must not see each other.
			if err := walk(e.Path, r, append(parents[:len(parents):len(parents)], e.ID), fn); err != nil {
				return err
			}
		}
	}
	return nil
}
