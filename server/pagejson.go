package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/server/api"
)

// writePage answers a page of a folder listing: the bytes encoding/json
// would write for its api.Page, appended by hand into one buffer. Encoding
// the page through reflection was a quarter of the server's time per page,
// and a listing of a big folder is a hundred of them. The buffer is taken
// from s.pageBufs and given back once written: a fresh one per page (a
// few hundred KiB, zeroed by the runtime) was a tenth of the server's
// time per listing, with the collections and the returning of memory to
// the system it caused.
//
// The next page's cursor goes out first, in the header (api.HeaderCursor),
// sent before the page is encoded: a client can ask for the next page
// while the server still encodes and sends this one, so that a listing of
// many pages is not the sum of each page's reading and encoding. The page
// is then sent without a Content-Length; should it fail to encode (a time
// JSON cannot hold), the answer is cut off, which the client sees as an
// error, since its status went out already.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, pg backend.Page) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set(api.HeaderCursor, pg.Cursor)
	w.WriteHeader(http.StatusOK)
	_ = http.NewResponseController(w).Flush()

	size := 64
	for i := range pg.Entries {
		e := &pg.Entries[i]
		size += 200 + len(e.Path) + len(e.Name) + len(e.ID) + len(e.SHA256)
	}
	buf := s.pageBufs.Get().(*[]byte)
	defer s.putPageBuf(buf)
	b := *buf
	if cap(b) < size {
		b = make([]byte, 0, size)
	}
	b, err := appendPage(b[:0], pg)
	if err != nil {
		s.log.Error("a listing page cannot be written", "rid", requestID(r.Context()), "err", err)
		panic(http.ErrAbortHandler)
	}
	b = append(b, '\n')
	*buf = b
	// Write does not keep b: it is copied or sent before Write returns.
	// A client that stops reading (strata ls paused behind a pager, with
	// pages asked for ahead) is dropped after the idle timeout, as for a
	// download, rather than holding the handler and its buffer.
	iw := &idleWriter{rc: http.NewResponseController(w), w: w, idle: s.cfg.BodyIdleTimeout}
	_, _ = iw.Write(b)
	return nil
}

// maxPooledPage is the largest page buffer kept for the next page: a page
// of long names can be a few MiB, which the pool is not to keep.
const maxPooledPage = 1 << 20

func (s *Server) putPageBuf(buf *[]byte) {
	if cap(*buf) > maxPooledPage {
		*buf = nil
	}
	s.pageBufs.Put(buf)
}

// appendPage appends pg as json.Marshal(api.Page) writes it: the same
// keys in the same order, the same omissions and the same escapes.
func appendPage(b []byte, pg backend.Page) ([]byte, error) {
	b = append(b, `{"entries":[`...)
	for i := range pg.Entries {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendEntry(b, &pg.Entries[i]); err != nil {
			return nil, err
		}
	}
	b = append(b, ']')
	if pg.Cursor != "" {
		b = append(b, `,"cursor":`...)
		b = appendJSONString(b, pg.Cursor)
	}
	return append(b, '}'), nil
}

func appendEntry(b []byte, e *backend.Entry) ([]byte, error) {
	var err error
	b = append(b, `{"path":`...)
	b = appendJSONString(b, e.Path)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, e.Name)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, string(e.Kind))
	b = append(b, `,"id":`...)
	b = appendJSONString(b, e.ID)
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, e.Size, 10)
	b = append(b, `,"mtime":`...)
	if b, err = appendJSONTime(b, e.ModTime); err != nil {
		return nil, err
	}
	b = append(b, `,"created":`...)
	if b, err = appendJSONTime(b, e.Created); err != nil {
		return nil, err
	}
	if e.SHA256 != "" {
		b = append(b, `,"sha256":`...)
		b = appendJSONString(b, e.SHA256)
	}
	if e.ClientDigest {
		b = append(b, `,"clientDigest":true`...)
	}
	if e.ClientDigestBy != "" {
		b = append(b, `,"clientDigestBy":`...)
		b = appendJSONString(b, e.ClientDigestBy)
	}
	if e.Version != 0 {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, e.Version, 10)
	}
	if e.State != "" {
		b = append(b, `,"state":`...)
		b = appendJSONString(b, e.State)
	}
	if e.Archive != nil {
		// Rare (archived files only), and a struct of its own: encoding/json
		// writes it.
		a, err := json.Marshal(apiEntry(*e).Archive)
		if err != nil {
			return nil, err
		}
		b = append(b, `,"archive":`...)
		b = append(b, a...)
	}
	return append(b, '}'), nil
}

// appendJSONTime is time.Time's MarshalJSON, appended: AppendText writes
// the same RFC 3339 text and refuses the same times.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	b, err := t.AppendText(append(b, '"'))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	return append(b, '"'), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json quotes a string by
// default: control characters, the quote and the backslash escaped, and
// <, >, & and U+2028, U+2029 as \u escapes too (safe inside HTML and
// JavaScript); invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
