package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/strata-storage/strata/internal/jsonlit"
	"github.com/strata-storage/strata/server/api"
)

// decodePage reads a page of a folder listing as encoding/json reads it
// into an api.Page, faster: a listing of a big folder is a hundred pages,
// and decoding them through reflection was most of `strata ls`'s CPU.
// readPage takes the pages the server writes (its keys, in its order,
// without spaces) and leaves anything else to encoding/json, so both read
// every page alike.
//
// The entries are decoded into reuse when it has room for them (the
// entries of a page the caller is done with), into a new slice otherwise.
func decodePage(data string, reuse []api.Entry) (api.Page, error) {
	if p, ok := readPage(data, reuse); ok {
		return p, nil
	}
	var p api.Page
	err := json.NewDecoder(strings.NewReader(data)).Decode(&p)
	return p, err
}

// PageText is a page of a folder listing as the server sent it, read but
// not necessarily decoded yet, or not even read (ListText).
type PageText struct {
	what   string // the request, for errors
	text   string
	cursor string
	page   *api.Page // decoded already: the cursor was not found without it
	// body is the page still to be read (by c), when the server named the
	// cursor before sending it.
	body io.ReadCloser
	c    *Client
}

// newPageText finds the cursor at the end of a page the server wrote
// (after its entries, a base64url string), or decodes the page when it is
// in any other form.
func newPageText(what, text string) (PageText, error) {
	if cur, ok := tailCursor(text); ok {
		return PageText{what: what, text: text, cursor: cur}, nil
	}
	p, err := decodePage(text, nil)
	if err != nil {
		return PageText{}, fmt.Errorf("GET %s: decoding the answer: %w", what, err)
	}
	return PageText{what: what, cursor: p.Cursor, page: &p}, nil
}

// headerCursor is the cursor a server names in a page's header, and
// whether it named one ("" after the last page). A value that is not a
// cursor the server writes is taken as none: the page is then read before
// the next is asked for.
func headerCursor(h http.Header) (string, bool) {
	v, ok := h[http.CanonicalHeaderKey(api.HeaderCursor)]
	if !ok || len(v) != 1 || !isCursor(v[0]) {
		return "", false
	}
	return v[0], true
}

// Cursor is the cursor of the next page, "" after the last.
func (t PageText) Cursor() string { return t.cursor }

// Decode reads the page, once. A page whose cursor is not the one found
// at its end or named in its header (a page in another form than the
// server's) is an error: the next page was asked for with that one.
func (t PageText) Decode() (api.Page, error) { return t.DecodeReusing(nil) }

// DecodeReusing is Decode into the entries of a page the caller is done
// with (their strings and times are overwritten), when they have room: a
// reader of many pages (strata ls) then allocates one slice of entries
// rather than one per page.
func (t PageText) DecodeReusing(entries []api.Entry) (api.Page, error) {
	if t.page != nil {
		return *t.page, nil
	}
	if t.body != nil {
		text, err := t.c.readText(t.what, t.body)
		if err != nil {
			return api.Page{}, err
		}
		t.text = text
	}
	p, err := decodePage(t.text, entries)
	if err == nil && p.Cursor != t.cursor {
		err = errors.New("its cursor is not the one the next page was asked for with")
	}
	if err != nil {
		return api.Page{}, fmt.Errorf("GET %s: decoding the answer: %w", t.what, err)
	}
	return p, nil
}

// tailCursor reads the cursor at the end of a page in the server's form:
// `...],"cursor":"<base64url>"}` or, on the last page, `...]}`, then a line
// end. Inside a JSON string a quote is escaped, so the text it looks for
// is the page's own structure, never part of a name.
func tailCursor(text string) (string, bool) {
	s := strings.TrimSuffix(text, "\n")
	if strings.HasSuffix(s, "]}") {
		return "", true
	}
	const key = `],"cursor":"`
	i := strings.LastIndex(s, key)
	if i < 0 || !strings.HasSuffix(s, `"}`) || i+len(key) > len(s)-2 {
		return "", false
	}
	cur := s[i+len(key) : len(s)-2]
	if !isCursor(cur) {
		return "", false
	}
	return cur, true
}

// isCursor reports whether s is of the alphabet of the server's cursors
// (base64url, unpadded); "" is the cursor after the last page.
func isCursor(s string) bool {
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// pageReader walks the text of a page. The strings it reads are
// substrings of it rather than one allocation each.
type pageReader struct {
	s  string
	i  int
	ok bool
}

// readPage parses data when it is an object of "entries" (an array of
// objects of api.Entry's keys, spelt exactly, but "archive") and an
// optional "cursor", in that order, with nothing but a line end after it.
// ok is false for anything else, which encoding/json then decides.
func readPage(data string, reuse []api.Entry) (p api.Page, ok bool) {
	r := &pageReader{s: data, ok: true}
	r.lit(`{"entries":[`)
	// Each entry starts so, and nowhere else can it appear: a quote inside
	// a string is escaped.
	if n := strings.Count(data, `{"path":`); n > 0 && cap(reuse) >= n {
		p.Entries = reuse[:0]
	} else {
		p.Entries = make([]api.Entry, 0, n)
	}
	if r.ok && r.peek(']') {
		r.i++
	} else {
		for r.ok {
			// Decoded in place: an entry is large, and copying it in
			// was a tenth of the decoding.
			p.Entries = append(p.Entries, api.Entry{})
			r.entry(&p.Entries[len(p.Entries)-1])
			if r.peek(',') {
				r.i++
				continue
			}
			r.lit("]")
			break
		}
	}
	if r.peek(',') {
		r.lit(`,"cursor":`)
		p.Cursor = r.str()
	}
	r.lit("}")
	if r.ok && r.s[r.i:] != "" && r.s[r.i:] != "\n" {
		r.ok = false
	}
	return p, r.ok
}

func (r *pageReader) peek(c byte) bool { return r.ok && r.i < len(r.s) && r.s[r.i] == c }

// lit reads the text want.
func (r *pageReader) lit(want string) {
	if !r.ok || len(r.s)-r.i < len(want) || r.s[r.i:r.i+len(want)] != want {
		r.ok = false
		return
	}
	r.i += len(want)
}

// entry reads an entry into e, which is zero.
func (r *pageReader) entry(e *api.Entry) {
	r.lit("{")
	if r.peek('}') {
		r.i++
		return
	}
	for r.ok {
		key := r.str()
		r.lit(":")
		switch key {
		case "path":
			e.Path = r.str()
		case "name":
			e.Name = r.str()
		case "kind":
			e.Kind = r.str()
		case "id":
			e.ID = r.str()
		case "sha256":
			e.SHA256 = r.str()
		case "clientDigest":
			e.ClientDigest = r.boolean()
		case "clientDigestBy":
			e.ClientDigestBy = r.str()
		case "state":
			e.State = r.str()
		case "size":
			e.Size = r.int()
		case "version":
			e.Version = r.int()
		case "mtime":
			e.ModTime = r.time()
		case "created":
			e.Created = r.time()
		default:
			r.ok = false
		}
		if r.peek(',') {
			r.i++
			continue
		}
		r.lit("}")
		break
	}
}

// strEnd is the index after the JSON string at s[i], and whether the string
// is its own text (no escapes, valid UTF-8).
func (r *pageReader) strEnd() (end int, plain bool) {
	if !r.peek('"') {
		r.ok = false
		return r.i, false
	}
	plain, ascii := true, true
	for j := r.i + 1; j < len(r.s); j++ {
		switch c := r.s[j]; {
		case c == '"':
			if !ascii && !utf8.ValidString(r.s[r.i+1:j]) {
				plain = false
			}
			return j + 1, plain
		case c == '\\':
			plain = false
			j++
		case c < 0x20:
			r.ok = false // not JSON; encoding/json says so
			return r.i, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	r.ok = false
	return r.i, false
}

func (r *pageReader) str() string {
	end, plain := r.strEnd()
	if !r.ok {
		return ""
	}
	tok := r.s[r.i:end]
	r.i = end
	if plain {
		return tok[1 : len(tok)-1]
	}
	// Escapes or invalid UTF-8: encoding/json reads the string.
	var v string
	if err := json.Unmarshal([]byte(tok), &v); err != nil {
		r.ok = false
	}
	return v
}

func (r *pageReader) time() (t time.Time) {
	end, _ := r.strEnd()
	if !r.ok {
		return t
	}
	// What encoding/json calls for a time.Time: its UnmarshalJSON, given
	// the quoted text (the conversion copies nothing: it does not keep it).
	if err := t.UnmarshalJSON([]byte(r.s[r.i:end])); err != nil {
		r.ok = false
	}
	r.i = end
	return t
}

// boolean reads true or false (jsonlit.Bool).
func (r *pageReader) boolean() bool {
	if !r.ok {
		return false
	}
	v, end, ok := jsonlit.Bool(r.s, r.i)
	r.i, r.ok = end, ok
	return v
}

// int reads an integer (jsonlit.Int).
func (r *pageReader) int() int64 {
	if !r.ok {
		return 0
	}
	n, end, ok := jsonlit.Int(r.s, r.i)
	r.i, r.ok = end, ok
	return n
}
