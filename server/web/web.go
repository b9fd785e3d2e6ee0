// Package web renders the pages of share links: html/template pages from
// embedded templates, with their stylesheet inline (and allowed by its
// hash in the pages' Content-Security-Policy, which allows nothing else).
// The pages work without JavaScript and carry none.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/strata-storage/strata/internal/human"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed style.css
var styleCSS string

// Pages renders the share pages.
type Pages struct {
	pages map[string]*template.Template
	csp   string
}

// New parses the templates.
func New() (*Pages, error) {
	p := &Pages{pages: map[string]*template.Template{}}
	for _, name := range []string{"file", "folder", "password", "drop", "message"} {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		p.pages[name] = t
	}
	sum := sha256.Sum256([]byte(styleCSS))
	p.csp = "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"img-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	return p, nil
}

// CSP is the Content-Security-Policy of every page.
func (p *Pages) CSP() string { return p.csp }

// Common is what every page has.
type Common struct {
	Title string
	Owner string
}

// Size formats a byte count for people.
func Size(n int64) string { return human.Bytes(n) }

// Date formats a time for people; ISO for machines.
func Date(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") }

// ISO is t for a <time datetime>.
func ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// File is the page of a file link.
type File struct {
	Name, Note, Size, Mod, ModISO, Expires, ExpiresISO string
	Raw, Inline                                        string
	// Left is the downloads left, "" when they are not counted.
	Left string
	// Preview is "image", "frame" or "".
	Preview string
}

// Crumb is one step of a folder page's path.
type Crumb struct{ Name, Href string }

// Item is one entry of a folder page.
type Item struct {
	Name, Href, Size, Mod, ModISO string
	Dir                           bool
	// Cold is why a file cannot be downloaded now ("archived", "being
	// restored"); "" when it can.
	Cold string
}

// Folder is a page of a folder link's listing.
type Folder struct {
	Name, Note, Zip, Drop, Next string
	Crumbs                      []Crumb
	Entries                     []Item
}

// Password is the form of a password-protected link.
type Password struct{ Action, Error string }

// Drop is the upload page of an upload link.
type Drop struct {
	Owner, Name, Note, Action, Cap string
	Done                           []string
}

// Message is a page that says one thing (an expired link, a refusal).
type Message struct{ Heading, Text, Back string }

// Render writes the page kind ("file", "folder", ...) with data.
func (p *Pages) Render(w io.Writer, kind string, c Common, data any) error {
	t := p.pages[kind]
	if t == nil {
		return fmt.Errorf("web: no page %q", kind)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", flatten(c, data)); err != nil {
		return fmt.Errorf("web: render %s: %w", kind, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// flatten merges the common fields and the page's into one map, for the
// templates to read both at the top level.
func flatten(c Common, data any) map[string]any {
	m := map[string]any{"Title": Shown(c.Title), "Owner": Shown(c.Owner), "CSS": template.CSS(styleCSS)}
	switch d := data.(type) {
	case File:
		d.Name = Shown(d.Name)
		m["Name"], m["Note"], m["Size"], m["Mod"], m["ModISO"] = d.Name, d.Note, d.Size, d.Mod, d.ModISO
		m["Expires"], m["ExpiresISO"], m["Raw"], m["Inline"], m["Preview"], m["Left"] = d.Expires, d.ExpiresISO, d.Raw, d.Inline, d.Preview, d.Left
	case Folder:
		d.Name = Shown(d.Name)
		d.Crumbs = slices.Clone(d.Crumbs)
		for i := range d.Crumbs {
			d.Crumbs[i].Name = Shown(d.Crumbs[i].Name)
		}
		d.Entries = slices.Clone(d.Entries)
		for i := range d.Entries {
			d.Entries[i].Name = Shown(d.Entries[i].Name)
		}
		m["Name"], m["Note"], m["Zip"], m["Drop"], m["Next"], m["Crumbs"], m["Entries"] = d.Name, d.Note, d.Zip, d.Drop, d.Next, d.Crumbs, d.Entries
	case Password:
		m["Action"], m["Error"] = d.Action, d.Error
	case Drop:
		d.Name, d.Owner = Shown(d.Name), Shown(d.Owner)
		d.Done = slices.Clone(d.Done)
		for i := range d.Done {
			d.Done[i] = Shown(d.Done[i])
		}
		m["Owner"], m["Name"], m["Note"], m["Action"], m["Cap"], m["Done"] = d.Owner, d.Name, d.Note, d.Action, d.Cap, d.Done
	case Message:
		m["Heading"], m["Text"], m["Back"] = d.Heading, d.Text, d.Back
	}
	return m
}

// Shown is a name as a page shows it: characters that change the direction
// of the text around them (U+202E RIGHT-TO-LEFT OVERRIDE makes
// "invoice\u202Efdp.exe" read "invoiceexe.pdf") or that are invisible are
// written as \uXXXX, so a visitor sees the name's real end. Letters of
// right-to-left scripts are kept: they need none of these to show.
func Shown(name string) string {
	if !strings.ContainsFunc(name, hidden) {
		return name
	}
	var b strings.Builder
	for _, r := range name {
		if hidden(r) {
			fmt.Fprintf(&b, "\\u%04X", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// hidden: the bidirectional formatting characters and other format (Cf)
// and control characters, except the zero-width joiner and non-joiner,
// which Persian, Indic scripts and emoji sequences need and which cannot
// reorder anything.
func hidden(r rune) bool {
	if r == '\u200C' || r == '\u200D' {
		return false
	}
	return unicode.Is(unicode.Cf, r) || unicode.IsControl(r)
}
