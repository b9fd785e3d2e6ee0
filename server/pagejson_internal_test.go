package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/api/apitest"
)

func pageSample(names []string) backend.Page {
	t := time.Date(2024, 5, 1, 12, 30, 45, 123456789, time.UTC)
	pg := backend.Page{Cursor: "ZmlsZS0wMDk5OQ"}
	for i, n := range names {
		e := backend.Entry{Path: "/home/a/" + n, Name: n, Kind: backend.KindFile, ID: "abc", Size: int64(i) << 33,
			ModTime: t.Add(time.Duration(i) * time.Second), Created: t, SHA256: "e3b0", Version: int64(i), State: backend.StateHot}
		switch i % 4 {
		case 1:
			e = backend.Entry{Path: "/home/a/" + n, Name: n, Kind: backend.KindDir, ID: n}
		case 2:
			e.State = backend.StateArchived
			e.Archive = &backend.ArchiveInfo{Class: "GLACIER", Since: t, Days: 3}
		case 3:
			e.ModTime = t.In(time.FixedZone("x", -7*3600-30*60))
			e.ClientDigest = true
			if i%8 == 3 {
				e.ClientDigestBy = n // any string, escapes too
			}
		}
		pg.Entries = append(pg.Entries, e)
	}
	return pg
}

// TestAppendPageAsJSON: a page is written byte for byte as encoding/json
// writes its api.Page.
func TestAppendPageAsJSON(t *testing.T) {
	checkPage(t, pageSample(apitest.AwkwardNames()))
	checkPage(t, backend.Page{Entries: []backend.Entry{}})
	checkPage(t, backend.Page{})
}

func FuzzAppendPage(f *testing.F) {
	for _, n := range apitest.AwkwardNames() {
		f.Add(n, n)
	}
	f.Fuzz(func(t *testing.T, name, cursor string) {
		pg := pageSample([]string{name, name, name, name})
		pg.Cursor = cursor
		checkPage(t, pg)
	})
}

func checkPage(t *testing.T, pg backend.Page) {
	t.Helper()
	ap := api.Page{Entries: make([]api.Entry, len(pg.Entries)), Cursor: pg.Cursor}
	for i, e := range pg.Entries {
		ap.Entries[i] = apiEntry(e)
	}
	want, wantErr := json.Marshal(ap)
	got, err := appendPage(nil, pg)
	if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
		t.Fatalf("appendPage:\n%s (%v)\nencoding/json:\n%s (%v)", got, err, want, wantErr)
	}
}

// TestAppendPageRefusesTimes: a time JSON cannot hold fails the page, as
// it failed encoding/json.
func TestAppendPageRefusesTimes(t *testing.T) {
	pg := pageSample([]string{"x"})
	pg.Entries[0].ModTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := appendPage(nil, pg); err == nil {
		t.Fatal("a time in year 10000 was written")
	}
}

// TestAppendPageAllocations: writing a page allocates nothing per entry
// (encoding/json built an api.Page and encoded it through reflection).
func TestAppendPageAllocations(t *testing.T) {
	names := make([]string, 1000)
	for i := range names {
		names[i] = "file-0000.txt"
	}
	pg := pageSample(names)
	for i := range pg.Entries {
		pg.Entries[i].Archive = nil
	}
	buf := make([]byte, 0, 1<<20)
	if allocs := testing.AllocsPerRun(5, func() { _, _ = appendPage(buf[:0], pg) }); allocs > 0 {
		t.Errorf("a page of 1,000 entries allocates %.0f times", allocs)
	}
}

// flushOrder records a response's flushes and writes, in order.
type flushOrder struct {
	*httptest.ResponseRecorder
	events []string
}

func (w *flushOrder) Flush() {
	w.events = append(w.events, "flush")
	w.ResponseRecorder.Flush()
}

// SetWriteDeadline is what http.ResponseController calls to set one.
func (w *flushOrder) SetWriteDeadline(d time.Time) error {
	w.events = append(w.events, "deadline")
	return nil
}

func (w *flushOrder) Write(p []byte) (int, error) {
	w.events = append(w.events, "write")
	return w.ResponseRecorder.Write(p)
}

// TestWritePageCursorFirst: a page's header, with the next page's cursor,
// is sent before the page is written, so that a client can ask for the
// next page while this one is encoded and sent.
func TestWritePageCursorFirst(t *testing.T) {
	s := NewServer(Deps{}, Config{})
	for _, cur := range []string{"ZmlsZS0wMDk5OQ", ""} {
		pg := pageSample([]string{"a", "b"})
		pg.Cursor = cur
		w := &flushOrder{ResponseRecorder: httptest.NewRecorder()}
		r := httptest.NewRequest(http.MethodGet, "/v1/dirs/home/a", nil)
		if err := s.writePage(w, r, pg); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(w.events, ","); got != "flush,deadline,write" {
			t.Errorf("events %s, want the header flushed before the page is written, with a write deadline (a client that stops reading is dropped)", got)
		}
		if v, ok := w.Header()[api.HeaderCursor]; !ok || len(v) != 1 || v[0] != cur {
			t.Errorf("header %s = %q (present: %v), want %q", api.HeaderCursor, v, ok, cur)
		}
		var got api.Page
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.Cursor != cur || len(got.Entries) != 2 {
			t.Errorf("page %s: %v", w.Body.Bytes(), err)
		}
	}
}

// TestWritePageCutOff: a page that cannot be encoded after its header went
// out cuts the answer off (net/http then closes the connection, and the
// client sees a page that ends early) rather than sending a part of it as
// if whole.
func TestWritePageCutOff(t *testing.T) {
	s := NewServer(Deps{}, Config{})
	pg := pageSample([]string{"x"})
	pg.Entries[0].ModTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	w := httptest.NewRecorder()
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", v)
		}
		if w.Body.Len() != 0 {
			t.Errorf("sent %q of a page that failed", w.Body.String())
		}
	}()
	_ = s.writePage(w, httptest.NewRequest(http.MethodGet, "/v1/dirs/home/a", nil), pg)
}
