package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/awstest/awsengines"
	"github.com/strata-storage/strata/backend/embedded"
	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/internal/ratelimit"
	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// linkClock is the fake clock of a link fixture.
type linkClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *linkClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *linkClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// linkFix is a server with share links, admin and alice (a plain user
// with the home policy) and their clients.
type linkFix struct {
	t      *testing.T
	srv    *httptest.Server
	clock  *linkClock
	admin  *client.Client
	alice  *client.Client
	aliceT string
	adminT string
	meta   meta.Store
}

func newLinkFix(t *testing.T, onAWS bool) *linkFix {
	t.Helper()
	clk := &linkClock{now: time.Now().UTC().Truncate(time.Second)}
	bc := backend.Config{Now: clk.Now}
	if onAWS {
		bc.Blobs, bc.Meta, bc.Keys = awsengines.Open(t, "strata-links")
	} else {
		eng, err := embedded.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { eng.Close() })
		bc.Blobs, bc.Meta, bc.Keys = eng.Blobs, eng.Meta, eng.Keys
	}
	c, err := daemon.NewCore(bc, daemon.WithPasswordCost(identity.PasswordCost{MemoryKiB: 1024, Passes: 1}))
	if err != nil {
		t.Fatal(err)
	}
	// Background work (purges) ends before the engines close and the
	// temporary directory goes.
	t.Cleanup(func() { _ = c.Files.Drain(context.Background()) })
	tok, _, err := c.Identity.Bootstrap(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.NewServer(server.Deps{Files: c.Files, Identity: c.Identity, Shares: c.Shares, Audit: c.Audit}, server.Config{Now: clk.Now}))
	t.Cleanup(srv.Close)
	f := &linkFix{t: t, srv: srv, clock: clk, meta: bc.Meta, adminT: tok}
	f.admin = f.client(tok)
	res, err := f.admin.CreateUser(context.Background(), "alice", false, true)
	if err != nil {
		t.Fatal(err)
	}
	f.aliceT = res.Token.Secret
	f.alice = f.client(f.aliceT)
	return f
}

func (f *linkFix) client(tok string) *client.Client {
	c, err := client.New(f.srv.URL, tok)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *linkFix) put(c *client.Client, path, content string) {
	f.t.Helper()
	if _, err := c.Put(context.Background(), path, strings.NewReader(content), int64(len(content)), client.PutOptions{}); err != nil {
		f.t.Fatalf("put %s: %v", path, err)
	}
}

func (f *linkFix) share(c *client.Client, req api.CreateShareRequest) api.Share {
	f.t.Helper()
	sh, err := c.CreateShare(context.Background(), req)
	if err != nil {
		f.t.Fatalf("share %s: %v", req.Path, err)
	}
	return sh
}

// get sends a request to path (used verbatim, escapes and all) with the
// header pairs given.
func (f *linkFix) do(method, path string, body io.Reader, hdr ...string) (*http.Response, []byte) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+"/", body)
	if err != nil {
		f.t.Fatal(err)
	}
	req.URL.Opaque = path
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		f.t.Fatal(err)
	}
	return resp, b
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (f *linkFix) get(path string, hdr ...string) (*http.Response, []byte) {
	f.t.Helper()
	return f.do("GET", path, nil, hdr...)
}

// page parses an HTML page and checks the headers every link page has.
func (f *linkFix) page(resp *http.Response, body []byte, status int) *html.Node {
	f.t.Helper()
	if resp.StatusCode != status {
		f.t.Fatalf("%s: status %d, want %d: %s", resp.Request.URL, resp.StatusCode, status, body)
	}
	h := resp.Header
	if ct := h.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		f.t.Errorf("Content-Type %q", ct)
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "style-src 'sha256-"} {
		if !strings.Contains(csp, want) {
			f.t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "script-src") {
		f.t.Errorf("CSP %q allows scripts or unsafe sources", csp)
	}
	if h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" {
		f.t.Errorf("security headers: %v", h)
	}
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if s := findAll(doc, func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == "script" }); len(s) > 0 {
		f.t.Errorf("the page has %d script elements", len(s))
	}
	if l := attr(first(doc, elem("html")), "lang"); l != "en" {
		f.t.Errorf("html lang %q", l)
	}
	return doc
}

func findAll(n *html.Node, pred func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if pred(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func first(n *html.Node, pred func(*html.Node) bool) *html.Node {
	if all := findAll(n, pred); len(all) > 0 {
		return all[0]
	}
	return nil
}

func elem(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Type == html.ElementNode && n.Data == tag }
}

func withClass(tag, class string) func(*html.Node) bool {
	return func(n *html.Node) bool {
		return elem(tag)(n) && strings.Contains(" "+attr(n, "class")+" ", " "+class+" ")
	}
}

func attr(n *html.Node, key string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	for _, t := range findAll(n, func(n *html.Node) bool { return n.Type == html.TextNode }) {
		b.WriteString(t.Data)
	}
	return strings.TrimSpace(b.String())
}

func linkPath(sh api.Share) string {
	u, _ := url.Parse(sh.URL)
	return u.Path
}

// TestLinkFilePage: a file link's page names the file (markup in its name
// shown as text), links the download, and the download has its
// validators, ranges, a safe Content-Disposition and CDN caching.
func TestLinkFilePage(t *testing.T) {
	f := newLinkFix(t, false)
	name := `<script>alert("x")<script> ‮gnp.txt`
	f.put(f.alice, "/home/alice/"+name, "hello, world")
	sh := f.share(f.alice, api.CreateShareRequest{Path: "/home/alice/" + name, Note: "for <b>you</b>"})
	if !strings.HasPrefix(sh.URL, f.srv.URL+"/s/") || len(sh.Token) < 22 || sh.ID == "" {
		t.Fatalf("share %+v", sh)
	}
	base := linkPath(sh)
	resp, body := f.get(base)
	doc := f.page(resp, body, http.StatusOK)
	// The right-to-left override is shown, not obeyed: the name must not
	// read as ending in "txt.png".
	if got, want := text(first(doc, elem("h1"))), `<script>alert("x")<script> \u202Egnp.txt`; got != want {
		t.Errorf("h1 %q, want the name as text %q", got, want)
	}
	if got := text(first(doc, withClass("p", "note"))); got != "for <b>you</b>" {
		t.Errorf("note %q", got)
	}
	dl := first(doc, withClass("a", "button"))
	if attr(dl, "href") != base+"/raw" || text(dl) != "Download" {
		t.Errorf("download button %q %q", attr(dl, "href"), text(dl))
	}
	if got := resp.Header.Get("Cache-Control"); got != "public, max-age=300" {
		t.Errorf("page Cache-Control %q", got)
	}
	// Text is previewed in a sandboxed frame.
	fr := first(doc, elem("iframe"))
	if fr == nil || attr(fr, "src") != base+"/raw?inline=1" || !hasAttr(fr, "sandbox") {
		t.Errorf("preview frame %v", fr)
	}

	resp, body = f.get(base + "/raw")
	if resp.StatusCode != 200 || string(body) != "hello, world" {
		t.Fatalf("raw: %d %q", resp.StatusCode, body)
	}
	h := resp.Header
	cd := h.Get("Content-Disposition")
	if !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "filename*=UTF-8''"+url.PathEscape(`<script>alert("x")<script> \u202Egnp.txt`)) || strings.ContainsAny(strings.TrimPrefix(cd, "attachment;"), "<>\n") && !strings.Contains(cd, `"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if h.Get("Content-Type") != "application/octet-stream" || h.Get("ETag") == "" || h.Get("Last-Modified") == "" ||
		h.Get("Cache-Control") != "public, max-age=300" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("raw headers %v", h)
	}
	if r, _ := f.get(base+"/raw", "If-None-Match", h.Get("ETag")); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", r.StatusCode)
	}
	r, b := f.get(base+"/raw", "Range", "bytes=7-")
	if r.StatusCode != http.StatusPartialContent || string(b) != "world" || r.Header.Get("Content-Range") != "bytes 7-11/12" {
		t.Errorf("range: %d %q %q", r.StatusCode, b, r.Header.Get("Content-Range"))
	}
	// The preview is served inline as text, sandboxed.
	r, _ = f.get(base + "/raw?inline=1")
	if r.Header.Get("Content-Type") != "text/plain; charset=utf-8" || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "inline") ||
		!strings.Contains(r.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("inline headers %v", r.Header)
	}
	// A file link has nothing under it.
	if r, _ := f.get(base + "/raw/x"); r.StatusCode != http.StatusNotFound {
		t.Errorf("raw/x under a file link: %d", r.StatusCode)
	}
	if info, err := f.alice.GetShare(context.Background(), "", sh.ID); err != nil || info.Downloads != 3 || info.State != "active" || info.Path != "/home/alice/"+name {
		t.Errorf("info %+v %v (three downloads: whole, range, preview)", info, err)
	}
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// TestLinkFollowsEntry: a link follows its file through renames and moves
// of it and of its folders, is gone while the file is in the trash, back
// after a restore, and dead once purged; revoked and expired links say so.
func TestLinkFollowsEntry(t *testing.T) {
	f := newLinkFix(t, false)
	ctx := context.Background()
	f.put(f.alice, "/home/alice/a/b/report.txt", "v1")
	sh := f.share(f.alice, api.CreateShareRequest{Path: "/home/alice/a/b/report.txt"})
	base := linkPath(sh)
	read := func(want string, status int) {
		t.Helper()
		resp, body := f.get(base + "/raw")
		if resp.StatusCode != status || (status == 200 && string(body) != want) {
			t.Fatalf("raw: %d %q, want %d %q", resp.StatusCode, body, status, want)
		}
	}
	read("v1", 200)
	if _, err := f.alice.Move(ctx, "/home/alice/a/b/report.txt", "/home/alice/a/b/final.txt", false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.alice.Move(ctx, "/home/alice/a", "/home/alice/archive", false); err != nil {
		t.Fatal(err)
	}
	f.put(f.alice, "/home/alice/archive/b/final.txt", "v2")
	read("v2", 200)
	doc := f.ok(f.get(base))
	if got := text(first(doc, elem("h1"))); got != "final.txt" {
		t.Errorf("page after rename: %q", got)
	}
	if info, _ := f.alice.GetShare(ctx, "", sh.ID); info.Path != "/home/alice/archive/b/final.txt" {
		t.Errorf("info path %q", info.Path)
	}
	// Something else at the old path is not what the link shows.
	f.put(f.alice, "/home/alice/a/b/report.txt", "impostor")
	read("v2", 200)

	// The folder above it goes to the trash: gone; restored: back.
	ti, err := f.alice.Delete(ctx, "/home/alice/archive", true)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := f.get(base)
	doc = f.page(resp, body, http.StatusGone)
	if got := text(first(doc, elem("h1"))); got != "This item was deleted" {
		t.Errorf("trashed: %q", got)
	}
	read("", http.StatusGone)
	if _, err := f.alice.RestoreTrash(ctx, ti.ID, "/home/alice/back"); err != nil {
		t.Fatal(err)
	}
	read("v2", 200)
	if info, _ := f.alice.GetShare(ctx, "", sh.ID); info.Path != "/home/alice/back/b/final.txt" || info.State != "active" {
		t.Errorf("after restore %+v", info)
	}
	// The file itself trashed and purged: dead.
	ti, err = f.alice.Delete(ctx, "/home/alice/back/b/final.txt", false)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := f.alice.GetShare(ctx, "", sh.ID); info.State != "trashed" {
		t.Errorf("trashed state %q", info.State)
	}
	if err := f.alice.PurgeTrash(ctx, ti.ID); err != nil {
		t.Fatal(err)
	}
	resp, body = f.get(base)
	if got := text(first(f.page(resp, body, http.StatusGone), elem("h1"))); got != "This item no longer exists" {
		t.Errorf("purged: %q", got)
	}

	// Revoked.
	f.put(f.alice, "/home/alice/x.txt", "x")
	sh2 := f.share(f.alice, api.CreateShareRequest{Path: "/home/alice/x.txt", Expires: ptr(f.clock.Now().Add(time.Hour))})
	if err := f.alice.RevokeShare(ctx, "", sh2.ID); err != nil {
		t.Fatal(err)
	}
	resp, body = f.get(linkPath(sh2) + "/raw")
	if got := text(first(f.page(resp, body, http.StatusGone), elem("h1"))); got != "This link was revoked" {
		t.Errorf("revoked: %q", got)
	}
	if _, err := f.alice.GetShare(ctx, "", sh2.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("info of a revoked link: %v", err)
	}
	// Expired, by the clock.
	sh3 := f.share(f.alice, api.CreateShareRequest{Path: "/home/alice/x.txt", Expires: ptr(f.clock.Now().Add(time.Hour))})
	if r, _ := f.get(linkPath(sh3) + "/raw"); r.StatusCode != 200 || r.Header.Get("Cache-Control") != "public, max-age=300" {
		t.Fatalf("before expiry: %d %q", r.StatusCode, r.Header.Get("Cache-Control"))
	}
	f.clock.Add(59*time.Minute + 50*time.Second)
	if r, _ := f.get(linkPath(sh3) + "/raw"); r.Header.Get("Cache-Control") != "public, max-age=10" {
		t.Errorf("caching near expiry %q", r.Header.Get("Cache-Control"))
	}
	f.clock.Add(time.Minute)
	resp, body = f.get(linkPath(sh3))
	if got := text(first(f.page(resp, body, http.StatusGone), elem("h1"))); got != "This link has expired" {
		t.Errorf("expired: %q", got)
	}
}

// flip is tok with its first character changed.
func flip(tok string) string {
	if tok[0] == 'A' {
		return "B" + tok[1:]
	}
	return "A" + tok[1:]
}

// TestLinkGuessing: forged, truncated and unknown tokens get one answer,
// and an address that keeps guessing is slowed down.
func TestLinkGuessing(t *testing.T) {
	f := newLinkFix(t, false)
	f.put(f.alice, "/home/alice/x.txt", "x")
	sh := f.share(f.alice, api.CreateShareRequest{Path: "/home/alice/x.txt"})
	var first404 []byte
	for i, tok := range []string{sh.Token[:len(sh.Token)-1], sh.Token + "A", strings.Repeat("A", len(sh.Token)), "../" + sh.Token, flip(sh.Token)} {
		resp, body := f.get("/s/" + tok)
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("token %d: %d", i, resp.StatusCode)
		}
		body = bytes.ReplaceAll(body, []byte(resp.Header.Get("X-Request-Id")), nil)
		if first404 == nil {
			first404 = body
		} else if !bytes.Equal(body, first404) {
			t.Errorf("token %d: another answer:\n%s\n%s", i, body, first404)
		}
	}
	// Beyond the address's budget of failed authentications, it waits.
	for i := range ratelimit.DefaultAuthFailures {
		f.get("/s/" + strings.Repeat(string(rune('C'+i)), len(sh.Token)))
	}
	resp, _ := f.get("/s/" + strings.Repeat("B", len(sh.Token)))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a guess beyond the budget: %d, want 429 with Retry-After", resp.StatusCode)
	}
	// The guesser is slowed down even with a real token; time heals.
	f.clock.Add(time.Hour)
	if resp, _ := f.get(linkPath(sh)); resp.StatusCode != 200 {
		t.Errorf("after waiting: %d", resp.StatusCode)
	}
}

// TestLinkFolder: a folder link lists its folder in pages with
// breadcrumbs, serves the files in it (and nothing outside it, whatever
// the path says) and the whole folder as a zip.
func TestLinkFolder(t *testing.T) {
	f := newLinkFix(t, false)
	ctx := context.Background()
	f.put(f.alice, "/home/alice/secret.txt", "TOP-SECRET")
	f.put(f.alice, "/home/alice/pub/a.txt", "aaa")
	f.put(f.alice, "/home/alice/pub/sub dir/b&c.txt", "bbb")
	if _, err := f.alice.Mkdir(ctx, "/home/alice/pub/empty", false); err != nil {
		t.Fatal(err)
	}
	sh := f.share(f.alice, api.CreateShareRequest{Path: "/home/alice/pub", Note: "hello"})
	base := linkPath(sh)
	doc := f.ok(f.get(base))
	rows := findAll(first(doc, elem("tbody")), elem("tr"))
	if len(rows) != 3 {
		t.Fatalf("%d rows", len(rows))
	}
	var names, hrefs []string
	for _, r := range rows {
		a := first(r, elem("a"))
		names, hrefs = append(names, text(a)), append(hrefs, attr(a, "href"))
	}
	wantHrefs := []string{base + "/raw/a.txt", base + "/d/empty", base + "/d/sub%20dir"}
	if strings.Join(names, "|") != "a.txt|empty/|sub dir/" || strings.Join(hrefs, "|") != strings.Join(wantHrefs, "|") {
		t.Errorf("rows %q %q", names, hrefs)
	}
	if z := first(doc, withClass("a", "button")); attr(z, "href") != base+"/zip" {
		t.Errorf("zip button %q", attr(z, "href"))
	}
	// A subfolder: breadcrumbs back to the top.
	doc = f.ok(f.get(base + "/d/sub%20dir"))
	crumbs := findAll(first(doc, elem("nav")), elem("li"))
	if len(crumbs) != 2 || attr(first(crumbs[0], elem("a")), "href") != base || text(crumbs[1]) != "sub dir" {
		t.Errorf("crumbs %d", len(crumbs))
	}
	if r, b := f.get(base + "/raw/sub%20dir/b%26c.txt"); r.StatusCode != 200 || string(b) != "bbb" {
		t.Errorf("file in subfolder: %d %q", r.StatusCode, b)
	}
	// Path tricks: nothing outside the folder, ever.
	for _, p := range []string{
		"/raw/..%2Fsecret.txt", "/raw/%2E%2E/secret.txt", "/raw/../secret.txt", "/raw/sub%20dir%2F..%2F..%2Fsecret.txt",
		"/raw/%2e%2e%2fsecret.txt", "/d/..%2F..", "/raw//secret.txt", "/raw/./a.txt", "/raw/a.txt%00", "/zip/..%2F",
		"/../../home/alice/secret.txt", "/raw/%252e%252e/secret.txt",
	} {
		r, b := f.get(base + p)
		if r.StatusCode == 200 || bytes.Contains(b, []byte("TOP-SECRET")) {
			t.Errorf("%s: %d %q", p, r.StatusCode, b)
		}
		if r.StatusCode != http.StatusNotFound || !bytes.Contains(b, []byte("<h1>Not found</h1>")) {
			t.Errorf("%s: %d, want the 404 page", p, r.StatusCode)
		}
	}
	// The zip: every file, with its path, and the empty folder.
	r, b := f.get(base + "/zip")
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/zip" || !strings.Contains(r.Header.Get("Content-Disposition"), `filename=pub.zip`) {
		t.Fatalf("zip: %d %v", r.StatusCode, r.Header)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		c, _ := io.ReadAll(rc)
		rc.Close()
		got[zf.Name] = string(c)
	}
	want := map[string]string{"a.txt": "aaa", "empty/": "", "sub dir/": "", "sub dir/b&c.txt": "bbb"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("zip holds %v, want %v", got, want)
	}
	// Paging: the next page link continues where the first stopped.
	for i := range 205 {
		f.put(f.alice, fmt.Sprintf("/home/alice/many/f%03d", i), "x")
	}
	many := f.share(f.alice, api.CreateShareRequest{Path: "/home/alice/many"})
	doc = f.ok(f.get(linkPath(many)))
	next := attr(first(doc, func(n *html.Node) bool { return elem("a")(n) && attr(n, "rel") == "next" }), "href")
	if n := len(findAll(first(doc, elem("tbody")), elem("tr"))); n != 200 || next == "" {
		t.Fatalf("first page: %d rows, next %q", n, next)
	}
	doc = f.ok(f.get(next))
	rows = findAll(first(doc, elem("tbody")), elem("tr"))
	if len(rows) != 5 || text(first(rows[0], elem("a"))) != "f200" {
		t.Errorf("second page: %d rows", len(rows))
	}
}

// TestLinkPassword: a password-protected link shows a form, sets a
// short-lived cookie for the right password, and takes the password as
// HTTP Basic auth on its downloads; it is never cached by a CDN.
func TestLinkPassword(t *testing.T) {
	f := newLinkFix(t, false)
	f.put(f.alice, "/home/alice/x.txt", "secret-bytes")
	const pw = "open sesame, please"
	sh := f.share(f.alice, api.CreateShareRequest{Path: "/home/alice/x.txt", Password: pw})
	base := linkPath(sh)
	resp, body := f.get(base)
	doc := f.page(resp, body, http.StatusUnauthorized)
	form := first(doc, elem("form"))
	if attr(form, "method") != "post" || attr(form, "action") != base+"/unlock" || attr(first(form, elem("input")), "type") != "password" {
		t.Fatalf("form %v", form)
	}
	if bytes.Contains(body, []byte("secret-bytes")) || bytes.Contains(body, []byte("x.txt")) {
		t.Errorf("the form page tells the file: %s", body)
	}
	post := func(password string) (*http.Response, []byte) {
		return f.do("POST", base+"/unlock", strings.NewReader(url.Values{"password": {password}}.Encode()),
			"Content-Type", "application/x-www-form-urlencoded")
	}
	resp, body = post("wrong")
	doc = f.page(resp, body, http.StatusUnauthorized)
	if got := text(first(doc, withClass("p", "error"))); got != "Wrong password. Try again." {
		t.Errorf("wrong password: %q", got)
	}
	resp, _ = post(pw)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != base {
		t.Fatalf("unlock: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		ck = c
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != base || ck.MaxAge <= 0 || ck.MaxAge > 3600 {
		t.Fatalf("cookie %+v", ck)
	}
	resp, body = f.get(base, "Cookie", ck.Name+"="+ck.Value)
	f.page(resp, body, http.StatusOK)
	if resp.Header.Get("Cache-Control") != "private, no-store" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	// A forged cookie, or one for another link, opens nothing.
	if r, _ := f.get(base, "Cookie", ck.Name+"="+ck.Value+"x"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged cookie: %d", r.StatusCode)
	}
	// curl: Basic auth on raw, any user name.
	r, _ := f.get(base + "/raw")
	if r.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("raw without a password: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	req, _ := http.NewRequest("GET", f.srv.URL+base+"/raw", nil)
	req.SetBasicAuth("anyone", pw)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	if r2.StatusCode != 200 || string(b) != "secret-bytes" || r2.Header.Get("Cache-Control") != "private, no-store" {
		t.Errorf("raw with Basic auth: %d %q %q", r2.StatusCode, b, r2.Header.Get("Cache-Control"))
	}
	// The cookie expires.
	f.clock.Add(61 * time.Minute)
	if r, _ := f.get(base, "Cookie", ck.Name+"="+ck.Value); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("an hour later the cookie still opens: %d", r.StatusCode)
	}
}

// TestLinkDrop: an upload-only link shows a drop form and no listing,
// takes several files into the owner's folder without replacing any,
// refuses files over its cap (keeping nothing of them), and serves no
// downloads; a read-only link takes no uploads.
func TestLinkDrop(t *testing.T) {
	f := newLinkFix(t, false)
	ctx := context.Background()
	f.put(f.alice, "/home/alice/inbox/old.txt", "old")
	sh := f.share(f.alice, api.CreateShareRequest{Path: "/home/alice/inbox", Mode: "upload", MaxUploadSize: 10})
	base := linkPath(sh)
	doc := f.ok(f.get(base))
	form := first(doc, elem("form"))
	if attr(form, "enctype") != "multipart/form-data" || attr(form, "action") != base+"/upload" ||
		!hasAttr(first(form, elem("input")), "multiple") || first(doc, elem("table")) != nil {
		t.Fatalf("drop page form %v", form)
	}
	if bytes.Contains(f.mustBody(f.get(base)), []byte("old.txt")) {
		t.Error("the drop page shows what the folder holds")
	}
	upload := func(files ...string) (*http.Response, []byte) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for i := 0; i+1 < len(files); i += 2 {
			w, _ := mw.CreateFormFile("file", files[i])
			io.WriteString(w, files[i+1])
		}
		mw.Close()
		return f.do("POST", base+"/upload", &buf, "Content-Type", mw.FormDataContentType())
	}
	resp, body := upload("old.txt", "new", "b.txt", "bee")
	doc = f.page(resp, body, http.StatusOK)
	var done []string
	for _, li := range findAll(first(doc, withClass("ul", "done")), elem("li")) {
		done = append(done, text(li))
	}
	if strings.Join(done, "|") != "old (2).txt|b.txt" {
		t.Errorf("received %q", done)
	}
	for p, want := range map[string]string{"/home/alice/inbox/old.txt": "old", "/home/alice/inbox/old (2).txt": "new", "/home/alice/inbox/b.txt": "bee"} {
		if got, err := f.read(f.alice, p); err != nil || got != want {
			t.Errorf("%s: %q %v", p, got, err)
		}
	}
	resp, body = upload("big.bin", "0123456789ABCDEF")
	if got := text(first(f.page(resp, body, http.StatusRequestEntityTooLarge), elem("h1"))); got != "Upload refused: file too large" {
		t.Errorf("oversized: %q", got)
	}
	if _, err := f.alice.Stat(ctx, "/home/alice/inbox/big.bin"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("the oversized upload left %v", err)
	}
	if r, _ := f.get(base + "/raw/old.txt"); r.StatusCode != http.StatusForbidden {
		t.Errorf("download through an upload link: %d", r.StatusCode)
	}
	if r, _ := f.get(base + "/zip"); r.StatusCode != http.StatusForbidden {
		t.Errorf("zip through an upload link: %d", r.StatusCode)
	}
	ro := f.share(f.alice, api.CreateShareRequest{Path: "/home/alice/inbox"})
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	w, _ := mw.CreateFormFile("file", "x.txt")
	io.WriteString(w, "x")
	mw.Close()
	if r, _ := f.do("POST", linkPath(ro)+"/upload", &buf, "Content-Type", mw.FormDataContentType()); r.StatusCode != http.StatusForbidden {
		t.Errorf("upload through a read-only link: %d", r.StatusCode)
	}
	// A file is never an upload link.
	if _, err := f.alice.CreateShare(ctx, api.CreateShareRequest{Path: "/home/alice/inbox/b.txt", Mode: "upload"}); !errors.Is(err, client.ErrInvalid) {
		t.Errorf("upload link to a file: %v", err)
	}
}

func (f *linkFix) mustBody(_ *http.Response, b []byte) []byte { return b }

// ok is page for a 200.
func (f *linkFix) ok(resp *http.Response, body []byte) *html.Node {
	f.t.Helper()
	return f.page(resp, body, http.StatusOK)
}

// read reads a file over the API.
func (f *linkFix) read(c *client.Client, path string) (string, error) {
	d, err := c.Get(context.Background(), path, client.GetOptions{})
	if err != nil {
		return "", err
	}
	defer d.Body.Close()
	b, err := io.ReadAll(d.Body)
	return string(b), err
}

// TestLinkActsAsCreator: a link never grants more than its creator has at
// the time it is used, and only users allowed strata:CreateShare make
// links.
func TestLinkActsAsCreator(t *testing.T) {
	f := newLinkFix(t, false)
	ctx := context.Background()
	f.put(f.alice, "/home/alice/x.txt", "x")
	sh := f.share(f.alice, api.CreateShareRequest{Path: "/home/alice/x.txt"})
	// alice loses read access through links (strata:Via share).
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"strata:GetFile","Resource":"/home/alice/*",
		"Condition":{"StringEquals":{"strata:Via":"share"}}}]}`
	if _, err := f.admin.PutPolicy(ctx, "nolinkreads", []byte(deny), true); err != nil {
		t.Fatal(err)
	}
	if err := f.admin.AttachPolicy(ctx, "nolinkreads", api.AttachRequest{User: "alice"}, true); err != nil {
		t.Fatal(err)
	}
	resp, body := f.get(linkPath(sh) + "/raw")
	if got := text(first(f.page(resp, body, http.StatusForbidden), elem("h1"))); got != "Not available" {
		t.Errorf("link of a creator denied: %q", got)
	}
	// Still hers over the API.
	if _, err := f.read(f.alice, "/home/alice/x.txt"); err != nil {
		t.Fatal(err)
	}
	// No CreateShare, no link.
	noShare := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"strata:CreateShare","Resource":"*"}]}`
	if _, err := f.admin.PutPolicy(ctx, "noshare", []byte(noShare), true); err != nil {
		t.Fatal(err)
	}
	if err := f.admin.AttachPolicy(ctx, "noshare", api.AttachRequest{User: "alice"}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.alice.CreateShare(ctx, api.CreateShareRequest{Path: "/home/alice/x.txt"}); !errors.Is(err, client.ErrForbidden) {
		t.Errorf("share without strata:CreateShare: %v", err)
	}
	// Nor to what is not hers.
	f.put(f.admin, "/home/admin/y.txt", "y")
	bob := f.share(f.admin, api.CreateShareRequest{Path: "/home/admin/y.txt"})
	if _, err := f.alice.GetShare(ctx, "admin", bob.ID); !errors.Is(err, client.ErrForbidden) {
		t.Errorf("alice reads admin's link: %v", err)
	}
	if _, err := f.admin.GetShare(ctx, "alice", sh.ID); err != nil {
		t.Errorf("admin reads alice's link: %v", err)
	}
}

// TestLinkDownloadLimit: 16 downloads at once through a link that allows
// 5: exactly 5 get the file, on both engine sets.
func TestLinkDownloadLimit(t *testing.T) {
	for _, onAWS := range []bool{false, true} {
		t.Run(map[bool]string{false: "embedded", true: "aws"}[onAWS], func(t *testing.T) {
			f := newLinkFix(t, onAWS)
			f.put(f.alice, "/home/alice/x.txt", "limited")
			sh := f.share(f.alice, api.CreateShareRequest{Path: "/home/alice/x.txt", MaxDownloads: 5})
			doc := f.ok(f.get(linkPath(sh)))
			if dd := findAll(first(doc, elem("dl")), elem("dd")); len(dd) < 3 || text(dd[2]) != "5" {
				t.Errorf("downloads left not shown")
			}
			var wg sync.WaitGroup
			codes := make(chan int, 16)
			start := make(chan struct{})
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					resp, err := http.Get(f.srv.URL + linkPath(sh) + "/raw")
					if err != nil {
						t.Error(err)
						return
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode == 200 && string(b) != "limited" {
						t.Errorf("body %q", b)
					}
					codes <- resp.StatusCode
				}()
			}
			close(start)
			wg.Wait()
			close(codes)
			n := map[int]int{}
			for c := range codes {
				n[c]++
			}
			if n[200] != 5 || n[http.StatusGone] != 11 {
				t.Errorf("answers %v, want 5 × 200 and 11 × 410", n)
			}
			info, err := f.alice.GetShare(context.Background(), "", sh.ID)
			if err != nil || info.Downloads != 5 || info.State != "exhausted" {
				t.Errorf("info %+v %v", info, err)
			}
			for _, p := range []string{"/raw", ""} {
				resp, body := f.get(linkPath(sh) + p)
				if got := text(first(f.page(resp, body, http.StatusGone), elem("h1"))); got != "Download limit reached" {
					t.Errorf("exhausted %s: %q", p, got)
				}
			}
		})
	}
}

// TestLinkFolderArchived: an archived file in a shared folder is listed
// without a download link, saying so, and a zip of the folder leaves it
// out and says which it left out, instead of breaking off.
func TestLinkFolderArchived(t *testing.T) {
	f := newLinkFix(t, false)
	ctx := context.Background()
	f.put(f.alice, "/home/alice/pub/hot.txt", "hot")
	f.put(f.alice, "/home/alice/pub/sub/cold.txt", "cold")
	if _, _, err := f.alice.Archive(ctx, "/home/alice/pub/sub/cold.txt", api.ArchiveRequest{Class: "glacier"}); err != nil {
		t.Fatal(err)
	}
	sh := f.share(f.alice, api.CreateShareRequest{Path: "/home/alice/pub"})
	base := linkPath(sh)
	doc := f.ok(f.get(base + "/d/sub"))
	row := first(first(doc, elem("tbody")), elem("tr"))
	if a := first(row, elem("a")); a != nil || !strings.Contains(text(row), "cold.txt (archived)") {
		t.Errorf("the archived file's row: %q, link %v", text(row), a)
	}
	r, b := f.get(base + "/zip")
	if r.StatusCode != 200 {
		t.Fatalf("zip: %d", r.StatusCode)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("zip: %v", err)
	}
	got := map[string]string{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		c, _ := io.ReadAll(rc)
		rc.Close()
		got[zf.Name] = string(c)
	}
	if got["hot.txt"] != "hot" || strings.Contains(got["sub/cold.txt"], "cold") {
		t.Errorf("zip holds %q", got)
	}
	if note := got["NOT INCLUDED - archived files.txt"]; !strings.Contains(note, "sub/cold.txt") || !strings.Contains(note, "1 archived file") {
		t.Errorf("the note: %q", note)
	}
}

// TestLinkFileArchived: a link to an archived file answers one page that
// says so (409), on the page and on /raw, and nothing after it.
func TestLinkFileArchived(t *testing.T) {
	f := newLinkFix(t, false)
	f.put(f.alice, "/home/alice/cold.bin", "cold content")
	if _, _, err := f.alice.Archive(context.Background(), "/home/alice/cold.bin", api.ArchiveRequest{Class: "glacier"}); err != nil {
		t.Fatal(err)
	}
	base := linkPath(f.share(f.alice, api.CreateShareRequest{Path: "/home/alice/cold.bin"}))
	for _, p := range []string{base, base + "/raw"} {
		r, b := f.get(p)
		if r.StatusCode != http.StatusConflict || bytes.Count(b, []byte("<html")) != 1 || !bytes.Contains(b, []byte("This file is archived")) ||
			bytes.Contains(b, []byte("cold content")) || bytes.Contains(b, []byte("Download")) {
			t.Errorf("%s: %d\n%s", p, r.StatusCode, b)
		}
	}
}
