package server

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/shares"
	"github.com/strata-storage/strata/internal/human"
	"github.com/strata-storage/strata/internal/storepath"
	"github.com/strata-storage/strata/server/web"
)

// The visitors' side of share links: /s/{token}, its pages, downloads,
// zips and drops. Every answer is a page (never problem+json), and carries
// the security headers of secureLink: a strict CSP, no referrer (the
// token is in the URL), no sniffing, no framing.

// linkServer is what serving links needs beyond the server.
type linkServer struct {
	sh    *shares.Service
	pages *web.Pages
	// base is the public URL links are made under ("": the request's).
	base string
}

func newLinkServer(sh *shares.Service, now func() time.Time) linkServer {
	pages, err := web.New()
	if err != nil {
		panic(err) // the embedded templates are part of the binary
	}
	return linkServer{sh: sh, pages: pages}
}

const (
	linkCookie = "strata_link"
	// publicMaxAge is how long a CDN may keep what an open link serves
	// (a revoked link's content may be served that much longer).
	publicMaxAge = 5 * time.Minute
	// dropMaxFiles bounds the files of one drop.
	dropMaxFiles = 100
	// linkPageSize is the entries of one folder page.
	linkPageSize = 200
)

// redactLink is a request path as logged: a link's token is a secret.
func redactLink(p string) string {
	rest, ok := strings.CutPrefix(p, "/s/")
	if !ok {
		return p
	}
	_, after, _ := strings.Cut(rest, "/")
	if after != "" {
		after = "/" + after
	}
	return "/s/[token]" + after
}

// linkSegs reads the path inside a folder link that follows prefix in
// the escaped request path, unescaping each segment alone (an encoded
// slash stays in its name, where it is refused).
func linkSegs(r *http.Request, prefix string) ([]string, error) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), prefix)
	if !ok {
		return nil, nil
	}
	rest = strings.Trim(rest, "/")
	if rest == "" {
		return nil, nil
	}
	segs := strings.Split(rest, "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, fmt.Errorf("%w: bad percent-encoding", errs.ErrNotFound)
		}
		if err := storepath.ValidName(u); err != nil {
			return nil, fmt.Errorf("%w: %w", errs.ErrNotFound, err)
		}
		segs[i] = u
	}
	return segs, nil
}

func linkBase(r *http.Request) string { return "/s/" + url.PathEscape(r.PathValue("token")) }

// escapeSegs is rel as an escaped URL path.
func escapeSegs(rel []string) string {
	out := make([]string, len(rel))
	for i, s := range rel {
		out[i] = url.PathEscape(s)
	}
	return strings.Join(out, "/")
}

func secureLink(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// cacheControl is what a CDN may do with what the link serves: keep it a
// little while for a link anyone may use as often as they like, nothing
// for one with a password, a download count or an address rule.
func cacheControl(v *shares.Visit, now time.Time) string {
	if v.NeedsPassword() || v.Limited() || v.Restricted() || v.Mode() != shares.ModeRead {
		return "private, no-store"
	}
	age := publicMaxAge
	if exp := v.Expires(); !exp.IsZero() {
		age = min(age, exp.Sub(now))
	}
	if age < time.Second {
		return "private, no-store"
	}
	return "public, max-age=" + strconv.Itoa(int(age/time.Second))
}

// message writes a page that says one thing.
func (s *Server) linkMessage(w http.ResponseWriter, status int, heading, text string) error {
	h := w.Header()
	secureLink(h, s.links.pages.CSP())
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := s.links.pages.Render(w, "message", web.Common{Title: heading}, web.Message{Heading: heading, Text: text}); err != nil {
		return fmt.Errorf("%w: %w", errResponseStarted, err)
	}
	return nil
}

// linkPages is the page of each error a visitor may meet, first match
// first.
var linkPages = []struct {
	errs          []error
	status        int
	heading, text string
}{
	{[]error{shares.ErrUnknown, errs.ErrNotFound, storepath.ErrInvalid, errs.ErrIsDir, errs.ErrNotDir}, http.StatusNotFound,
		"Not found", "There is nothing at this address. Check that the link was copied whole."},
	{[]error{shares.ErrExpired}, http.StatusGone, "This link has expired", "Ask the person who shared it for a new link."},
	{[]error{shares.ErrRevoked}, http.StatusGone, "This link was revoked", "The person who shared it has turned it off."},
	{[]error{shares.ErrExhausted}, http.StatusGone, "Download limit reached",
		"This link has been used as many times as it allows. Ask the person who shared it for a new link."},
	{[]error{shares.ErrTrashed}, http.StatusGone, "This item was deleted",
		"The shared file or folder is in its owner's trash. The link works again if they restore it."},
	{[]error{shares.ErrDeleted}, http.StatusGone, "This item no longer exists", "The shared file or folder was deleted for good."},
	{[]error{shares.ErrAddress}, http.StatusForbidden, "Not available from your network",
		"This link can only be used from the networks its owner allowed."},
	{[]error{shares.ErrMode}, http.StatusForbidden, "Not allowed by this link", "This link does not allow that."},
	{[]error{shares.ErrTooLarge}, http.StatusRequestEntityTooLarge, "Upload refused: file too large",
		"A file was larger than this link takes. Nothing of it was kept."},
	{[]error{errs.ErrNoSpace}, http.StatusInsufficientStorage, "Upload refused: no space",
		"The owner of this folder has no space left for it. Nothing of it was kept."},
	// The link's owner lost access since: the link grants no more.
	{[]error{errs.ErrForbidden}, http.StatusForbidden, "Not available", "The person who shared this no longer has access to it."},
	{[]error{errs.ErrPrecondition, errs.ErrExists}, http.StatusConflict, "Upload refused: name taken",
		"Another file of that name arrived at the same moment. Nothing of yours was kept; send it again."},
	{[]error{errs.ErrLengthMismatch, errs.ErrInvalid}, http.StatusBadRequest, "Upload refused",
		"The upload did not arrive whole. Nothing of it was kept; try again."},
}

// linkError answers err, met while serving a link, with its page.
func (s *Server) linkError(w http.ResponseWriter, r *http.Request, err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	for _, p := range linkPages {
		for _, e := range p.errs {
			if errors.Is(err, e) {
				return s.linkMessage(w, p.status, p.heading, p.text)
			}
		}
	}
	s.log.Error("share link", "rid", requestID(r.Context()), "err", err)
	return s.linkMessage(w, http.StatusInternalServerError, "Something went wrong", "The server could not answer. Try again in a moment.")
}

// visit opens the link of the request for its visitor, or answers why
// not (and returns nil). With unlock, a password-protected link must be
// unlocked by the cookie or by HTTP Basic auth (basic); otherwise its
// form is shown.
func (s *Server) visit(w http.ResponseWriter, r *http.Request, basic bool) (*shares.Visit, error) {
	v, err := s.openLink(w, r)
	if v == nil {
		return nil, err
	}
	if !v.NeedsPassword() {
		return v, nil
	}
	if c, err := r.Cookie(linkCookie); err == nil && v.Unlocked(r.Context(), c.Value) {
		return v, nil
	}
	if _, pw, ok := r.BasicAuth(); ok && basic {
		if wait := s.limits.AuthWait(clientAddr(r), "link "+v.ID()); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			return nil, s.linkMessage(w, http.StatusTooManyRequests, "Too many tries", "Too many wrong passwords. Wait a little before you try again.")
		}
		if v.CheckPassword(pw) {
			return v, nil
		}
		s.limits.AuthFailed(clientAddr(r), "link "+v.ID())
	}
	if basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="Strata share link", charset="UTF-8"`)
		return nil, s.linkMessage(w, http.StatusUnauthorized, "Password required", "Open the link's page to enter its password, or give it as HTTP Basic auth (any user name).")
	}
	return nil, s.passwordPage(w, r, http.StatusUnauthorized, "")
}

// openLink opens the link of the request, or answers why not (and
// returns nil); its password is not checked.
func (s *Server) openLink(w http.ResponseWriter, r *http.Request) (*shares.Visit, error) {
	if s.links.sh == nil {
		return nil, s.linkMessage(w, http.StatusNotFound, "Not found", "This server serves no share links.")
	}
	ip := clientIP(r)
	if wait := s.limits.AuthWait(clientAddr(r), ""); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		return nil, s.linkMessage(w, http.StatusTooManyRequests, "Too many tries", "Wait a little before you try again.")
	}
	addr, _ := netip.ParseAddr(ip)
	// Finding the link is its authentication, before the request is the
	// core's (as a token's is); from then on the link acts through the
	// entry point "share", and its decisions know the request.
	v, err := s.links.sh.Visit(r.Context(), r.PathValue("token"), addr)
	if errors.Is(err, shares.ErrUnknown) {
		s.limits.AuthFailed(clientAddr(r), "")
	}
	if err != nil {
		return nil, s.linkError(w, r, err)
	}
	facts := requestFacts(r)
	facts.Via = iam.ViaShare
	*r = *r.WithContext(iam.WithRequest(r.Context(), facts))
	return v, nil
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	return s.linkPage(w, status, "password", "no-store", web.Common{Title: "Password required"},
		web.Password{Action: linkBase(r) + "/unlock", Error: msg})
}

// linkPage writes a page of a link.
func (s *Server) linkPage(w http.ResponseWriter, status int, kind, cache string, c web.Common, data any) error {
	h := w.Header()
	secureLink(h, s.links.pages.CSP())
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", cache)
	h.Set("Vary", "Cookie")
	w.WriteHeader(status)
	if err := s.links.pages.Render(w, kind, c, data); err != nil {
		return fmt.Errorf("%w: %w", errResponseStarted, err)
	}
	return nil
}

// showLink is GET /s/{token} and /s/{token}/d/{path...}: the link's page.
func (s *Server) showLink(w http.ResponseWriter, r *http.Request, _ iam.Principal) error {
	v, err := s.visit(w, r, false)
	if v == nil {
		return err
	}
	rel, err := linkSegs(r, linkBase(r)+"/d/")
	if err != nil {
		return s.linkError(w, r, err)
	}
	common := web.Common{Title: v.Name(), Owner: v.Owner()}
	cache := cacheControl(v, s.cfg.Now())
	if v.Mode() == shares.ModeUpload {
		return s.dropPage(w, r, v, nil)
	}
	left, err := v.DownloadsLeft(r.Context())
	if err != nil {
		return s.linkError(w, r, err)
	}
	if left == 0 {
		return s.linkError(w, r, shares.ErrExhausted)
	}
	if !v.IsDir() {
		e, err := v.Stat(r.Context(), nil)
		if err != nil {
			return s.linkError(w, r, err)
		}
		if done, err := s.archived(w, e); done {
			return err
		}
		f := web.File{Name: e.Name, Note: v.Note(), Size: web.Size(e.Size), Mod: web.Date(e.ModTime), ModISO: web.ISO(e.ModTime),
			Raw: linkBase(r) + "/raw"}
		if exp := v.Expires(); !exp.IsZero() {
			f.Expires, f.ExpiresISO = web.Date(exp), web.ISO(exp)
		}
		if left > 0 {
			f.Left = human.Count(left)
		}
		if !v.Limited() {
			f.Preview = previewKind(e.Name, e.Size)
			f.Inline = f.Raw + "?inline=1"
		}
		return s.linkPage(w, http.StatusOK, "file", cache, common, f)
	}
	cursor := r.URL.Query().Get("cursor")
	pg, err := v.List(r.Context(), rel, cursor, linkPageSize)
	if err != nil {
		return s.linkError(w, r, err)
	}
	base := linkBase(r)
	f := web.Folder{Name: v.Name(), Note: v.Note(), Zip: base + "/zip"}
	if len(rel) > 0 {
		f.Name = rel[len(rel)-1]
		f.Zip = base + "/zip/" + escapeSegs(rel)
	}
	if v.Mode() == shares.ModeReadUpload && len(rel) == 0 {
		f.Drop = base + "/upload"
	}
	f.Crumbs = append(f.Crumbs, web.Crumb{Name: v.Name(), Href: base})
	for i := range rel {
		f.Crumbs = append(f.Crumbs, web.Crumb{Name: rel[i], Href: base + "/d/" + escapeSegs(rel[:i+1])})
	}
	f.Crumbs[len(f.Crumbs)-1].Href = ""
	for _, e := range pg.Entries {
		sub := escapeSegs(append(rel[:len(rel):len(rel)], e.Name))
		it := web.Item{Name: e.Name, Mod: web.Date(e.ModTime), ModISO: web.ISO(e.ModTime), Dir: e.Kind == backend.KindDir}
		if it.Dir {
			it.Href, it.Size = base+"/d/"+sub, "—"
		} else {
			it.Href, it.Size = base+"/raw/"+sub, web.Size(e.Size)
			switch e.State {
			case backend.StateArchived:
				it.Cold = "archived"
			case backend.StateRestoring:
				it.Cold = "being restored"
			}
		}
		f.Entries = append(f.Entries, it)
	}
	if pg.Cursor != "" {
		next := base
		if len(rel) > 0 {
			next += "/d/" + escapeSegs(rel)
		}
		f.Next = next + "?cursor=" + url.QueryEscape(pg.Cursor)
	}
	return s.linkPage(w, http.StatusOK, "folder", cache, common, f)
}

// archived answers for a file the core says is archived or being
// restored, and says whether it did (done) and how writing the page went.
func (s *Server) archived(w http.ResponseWriter, e backend.Entry) (done bool, err error) {
	switch e.State {
	case backend.StateArchived:
		return true, s.linkMessage(w, http.StatusConflict, "This file is archived", "It is kept in cold storage and cannot be downloaded now. Ask its owner to restore it.")
	case backend.StateRestoring:
		return true, s.linkMessage(w, http.StatusConflict, "This file is being restored", "It is on its way back from cold storage. Try again later.")
	}
	return false, nil
}

// previewKind says how a file page previews name: "image" for raster
// images, "frame" for text and PDF (in a sandboxed frame), "" for none.
func previewKind(name string, size int64) string {
	switch inlineType(name) {
	case "":
		return ""
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return "image"
	}
	if size > 20<<20 {
		return ""
	}
	return "frame"
}

// inlineType is the type a file is served as for a preview: only types a
// browser renders without running anything ("" for any other).
func inlineType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".pdf":
		return "application/pdf"
	case ".txt", ".md", ".log", ".csv", ".json", ".yaml", ".yml", ".go", ".py", ".c", ".h", ".rs", ".sh", ".toml", ".ini", ".conf":
		return "text/plain; charset=utf-8"
	}
	return ""
}

// contentDisposition names a download (RFC 6266): an ASCII fallback and
// the exact name in filename*.
func contentDisposition(kind, name string) string {
	fallback := strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '/' {
			return '_'
		}
		return r
	}, name)
	// The saved file is named as the page shows it: a right-to-left
	// override must not make "abc\u202Etxt.exe" read "abcexe.txt" in a
	// downloads list either.
	return mime.FormatMediaType(kind, map[string]string{"filename": fallback}) + "; filename*=UTF-8''" + url.PathEscape(web.Shown(name))
}

// rawLink is GET and HEAD /s/{token}/raw[/{path...}]: a file's bytes.
func (s *Server) rawLink(w http.ResponseWriter, r *http.Request, _ iam.Principal) error {
	v, err := s.visit(w, r, true)
	if v == nil {
		return err
	}
	rel, err := linkSegs(r, linkBase(r)+"/raw/")
	if err != nil {
		return s.linkError(w, r, err)
	}
	if v.IsDir() && len(rel) == 0 {
		return s.linkMessage(w, http.StatusNotFound, "Not found", "This link is to a folder: download its files one by one, or all of it as a zip.")
	}
	ctx := r.Context()
	e, err := v.Stat(ctx, rel)
	if err != nil {
		return s.linkError(w, r, err)
	}
	if e.Kind == backend.KindDir {
		return s.linkError(w, r, errs.ErrIsDir)
	}
	if done, err := s.archived(w, e); done {
		return err
	}
	h := w.Header()
	inline := r.URL.Query().Get("inline") != "" && inlineType(e.Name) != ""
	if inline {
		// A preview lives in the link page's frame, sandboxed.
		csp := "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
		if !strings.HasPrefix(inlineType(e.Name), "application/pdf") {
			csp += "; sandbox"
		}
		secureLink(h, csp)
		h.Set("X-Frame-Options", "SAMEORIGIN")
		h.Set("Content-Type", inlineType(e.Name))
		h.Set("Content-Disposition", contentDisposition("inline", e.Name))
	} else {
		secureLink(h, "default-src 'none'; frame-ancestors 'none'; sandbox")
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", contentDisposition("attachment", e.Name))
	}
	validators(h, e)
	h.Set("Cache-Control", cacheControl(v, s.cfg.Now()))
	if notModified(w, r, e) {
		return nil
	}
	off, n, partial, err := requestedRange(w, r, e)
	if err != nil {
		return s.linkMessage(w, http.StatusRequestedRangeNotSatisfiable, "Range not satisfiable", err.Error())
	}
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, e.Size))
	}
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return nil
	}
	if err := v.Count(ctx); err != nil {
		clearDownloadHeaders(h)
		return s.linkError(w, r, err)
	}
	// The version stated is the one read: a new version written meanwhile
	// does not change a download under way.
	rd, err := v.Open(ctx, rel, e.Version, off, n)
	if err != nil {
		clearDownloadHeaders(h)
		return s.linkError(w, r, err)
	}
	defer rd.Close()
	w.WriteHeader(status)
	s.sendBody(w, r, rd, v.Root.Path)
	return nil
}

func clearDownloadHeaders(h http.Header) {
	for _, k := range []string{"ETag", "Last-Modified", "Accept-Ranges", "Content-Disposition", "Content-Length", "Content-Range"} {
		h.Del(k)
	}
}

// zipLink is GET /s/{token}/zip[/{path...}]: a folder as a zip, streamed
// as it is read (a page of one folder per level at a time in memory).
func (s *Server) zipLink(w http.ResponseWriter, r *http.Request, _ iam.Principal) error {
	v, err := s.visit(w, r, true)
	if v == nil {
		return err
	}
	if !v.IsDir() {
		return s.linkMessage(w, http.StatusNotFound, "Not found", "This link is to a file: download it as it is.")
	}
	rel, err := linkSegs(r, linkBase(r)+"/zip/")
	if err != nil {
		return s.linkError(w, r, err)
	}
	ctx := r.Context()
	name := v.Name()
	if len(rel) > 0 {
		name = rel[len(rel)-1]
	}
	// Fail before the status line on what can be known before.
	if _, err := v.List(ctx, rel, "", 1); err != nil {
		return s.linkError(w, r, err)
	}
	if err := v.Count(ctx); err != nil {
		return s.linkError(w, r, err)
	}
	h := w.Header()
	secureLink(h, "default-src 'none'; frame-ancestors 'none'; sandbox")
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", contentDisposition("attachment", name+".zip"))
	h.Set("Cache-Control", "private, no-store")
	w.WriteHeader(http.StatusOK)
	iw := &idleWriter{rc: http.NewResponseController(w), w: w, idle: s.cfg.BodyIdleTimeout}
	zw := zip.NewWriter(iw)
	var cold coldFiles
	if err := s.zipFolder(ctx, zw, v, rel, "", &cold); err != nil {
		s.log.Warn("share link zip cut short", "rid", requestID(ctx), "err", err)
		panic(http.ErrAbortHandler)
	}
	if err := cold.note(zw, s.cfg.Now()); err != nil {
		panic(http.ErrAbortHandler)
	}
	if err := zw.Close(); err != nil {
		panic(http.ErrAbortHandler)
	}
	return nil
}

// coldFiles are the archived files a zip left out, named in a note at its
// end (the first maxColdNames of them).
type coldFiles struct {
	n     int
	names []string
}

const maxColdNames = 1000

func (c *coldFiles) add(name string) {
	c.n++
	if len(c.names) < maxColdNames {
		c.names = append(c.names, name)
	}
}

// note writes the list of left-out files into the zip, if any.
func (c *coldFiles) note(zw *zip.Writer, now time.Time) error {
	if c.n == 0 {
		return nil
	}
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: "NOT INCLUDED - archived files.txt", Method: zip.Deflate, Modified: now})
	if err != nil {
		return err
	}
	fmt.Fprintf(fw, "%d archived file(s) are not in this zip: they are kept in cold storage and\r\nmust be restored by their owner before they can be downloaded.\r\n\r\n", c.n)
	for _, name := range c.names {
		fmt.Fprintf(fw, "%s\r\n", name)
	}
	if c.n > len(c.names) {
		fmt.Fprintf(fw, "... and %d more\r\n", c.n-len(c.names))
	}
	return nil
}

// zipFolder writes the folder at rel into zw under prefix, depth first.
// An entry deleted while the zip is made is left out; so is an archived
// file, which cold notes.
func (s *Server) zipFolder(ctx context.Context, zw *zip.Writer, v *shares.Visit, rel []string, prefix string, cold *coldFiles) error {
	if prefix != "" {
		if _, err := zw.CreateHeader(&zip.FileHeader{Name: prefix, Method: zip.Store}); err != nil {
			return err
		}
	}
	buf := make([]byte, 256<<10)
	cursor := ""
	for {
		pg, err := v.List(ctx, rel, cursor, 1000)
		if errors.Is(err, errs.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range pg.Entries {
			sub := append(rel[:len(rel):len(rel)], e.Name)
			if e.Kind == backend.KindDir {
				if err := s.zipFolder(ctx, zw, v, sub, prefix+e.Name+"/", cold); err != nil {
					return err
				}
				continue
			}
			if e.State == backend.StateArchived || e.State == backend.StateRestoring {
				cold.add(prefix + e.Name)
				continue
			}
			rd, err := v.Open(ctx, sub, e.Version, 0, e.Size)
			if errors.Is(err, errs.ErrNotFound) || errors.Is(err, errs.ErrInvalidRange) {
				continue // deleted or replaced meanwhile
			}
			if errors.Is(err, errs.ErrArchived) {
				cold.add(prefix + e.Name) // archived meanwhile
				continue
			}
			if err != nil {
				return err
			}
			fw, err := zw.CreateHeader(&zip.FileHeader{Name: prefix + e.Name, Method: zip.Store, Modified: e.ModTime})
			if err == nil {
				_, err = io.CopyBuffer(fw, rd, buf)
			}
			rd.Close()
			if err != nil {
				return err
			}
		}
		if pg.Cursor == "" {
			return nil
		}
		cursor = pg.Cursor
	}
}

// unlockLink is POST /s/{token}/unlock: the password form's answer. The
// right password sets the unlock cookie and goes back to the page.
func (s *Server) unlockLink(w http.ResponseWriter, r *http.Request, _ iam.Principal) error {
	v, err := s.openLink(w, r)
	if v == nil {
		return err
	}
	if !v.NeedsPassword() {
		http.Redirect(w, r, linkBase(r), http.StatusSeeOther)
		return nil
	}
	if wait := s.limits.AuthWait(clientAddr(r), "link "+v.ID()); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		return s.passwordPage(w, r, http.StatusTooManyRequests, "Too many wrong passwords. Wait a little before you try again.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		return s.passwordPage(w, r, http.StatusBadRequest, "The form could not be read. Try again.")
	}
	val, exp, ok, err := v.Unlock(r.Context(), r.PostForm.Get("password"))
	if err != nil {
		return s.linkError(w, r, err)
	}
	if !ok {
		s.limits.AuthFailed(clientAddr(r), "link "+v.ID())
		return s.passwordPage(w, r, http.StatusUnauthorized, "Wrong password. Try again.")
	}
	http.SetCookie(w, &http.Cookie{
		Name: linkCookie, Value: val, Path: linkBase(r), Expires: exp, MaxAge: int(time.Until(exp) / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || strings.HasPrefix(s.links.base, "https:"),
	})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, linkBase(r), http.StatusSeeOther)
	return nil
}

// dropPage shows the upload form of an upload link, with what was just
// received.
func (s *Server) dropPage(w http.ResponseWriter, r *http.Request, v *shares.Visit, done []string) error {
	d := web.Drop{Owner: v.Owner(), Name: v.Name(), Note: v.Note(), Action: linkBase(r) + "/upload", Done: done}
	if c := v.MaxUploadSize(); c > 0 {
		d.Cap = human.Bytes(c)
	}
	return s.linkPage(w, http.StatusOK, "drop", "private, no-store", web.Common{Title: "Send files to " + v.Owner(), Owner: v.Owner()}, d)
}

// uploadLink is POST /s/{token}/upload: files dropped into a folder
// link, streamed one by one into the core (multipart/form-data, field
// "file").
func (s *Server) uploadLink(w http.ResponseWriter, r *http.Request, _ iam.Principal) error {
	v, err := s.visit(w, r, false)
	if v == nil {
		return err
	}
	if v.Mode() != shares.ModeUpload && v.Mode() != shares.ModeReadUpload {
		return s.linkError(w, r, shares.ErrMode)
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return s.linkMessage(w, http.StatusBadRequest, "Upload refused", "Choose files with the form and send them.")
	}
	var done []string
	for len(done) < dropMaxFiles {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return s.linkError(w, r, fmt.Errorf("%w: %w", errs.ErrLengthMismatch, err))
		}
		if part.FormName() != "file" || part.FileName() == "" {
			part.Close()
			continue
		}
		e, err := v.Upload(r.Context(), part.FileName(), part, -1)
		part.Close()
		if err != nil {
			return s.linkError(w, r, err)
		}
		done = append(done, e.Name)
	}
	if len(done) == 0 {
		return s.linkMessage(w, http.StatusBadRequest, "Upload refused", "No file was sent. Choose files with the form and send them.")
	}
	return s.dropPage(w, r, v, done)
}
