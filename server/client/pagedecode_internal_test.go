package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/api/apitest"
)

// serverPage is a page as the server writes it (json.Marshal of an
// api.Page, which the server's own encoder matches byte for byte); every
// fourth entry is archived when archived is set.
func serverPage(t testing.TB, names []string, cursor string, archived bool) []byte {
	t.Helper()
	tm := time.Date(2024, 5, 1, 12, 30, 45, 123456789, time.UTC)
	p := api.Page{Entries: []api.Entry{}, Cursor: cursor}
	for i, n := range names {
		e := api.Entry{Path: "/home/a/" + n, Name: n, Kind: api.KindFile, ID: "abc", Size: int64(i) << 33,
			ModTime: tm.Add(time.Duration(i) * time.Second), Created: tm, SHA256: "e3b0", Version: int64(i), State: "hot"}
		switch i % 4 {
		case 1:
			e = api.Entry{Path: "/home/a/" + n, Name: n, Kind: api.KindDir, ID: n}
		case 2:
			if archived {
				e.Archive = &api.ArchiveInfo{Class: "GLACIER", Since: tm, Days: 3}
			}
		case 3:
			e.ModTime = tm.In(time.FixedZone("", -7*3600-30*60))
			e.ClientDigest = true
			if i%8 == 3 {
				e.ClientDigestBy = n // any string, escapes too
			}
		}
		p.Entries = append(p.Entries, e)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// checkDecode compares decodePage with encoding/json on data, and says
// whether the fast reader took it.
func checkDecode(t *testing.T, data []byte) bool {
	t.Helper()
	var want api.Page
	wantErr := json.NewDecoder(bytes.NewReader(data)).Decode(&want)
	got, err := decodePage(string(data), nil)
	if (err != nil) != (wantErr != nil) || wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodePage(%q) = %+v, %v\nencoding/json: %+v, %v", data, got, err, want, wantErr)
	}
	fast, ok := readPage(string(data), nil)
	if ok && (wantErr != nil || !reflect.DeepEqual(fast, want)) {
		t.Fatalf("readPage(%q) = %+v\nencoding/json: %+v, %v", data, fast, want, wantErr)
	}
	// Into the entries of a page before: nothing of them is left.
	reused, err := decodePage(string(data), staleEntries())
	if (err != nil) != (wantErr != nil) || wantErr == nil && !reflect.DeepEqual(reused, want) {
		t.Fatalf("decodePage(%q) into used entries = %+v, %v\nencoding/json: %+v, %v", data, reused, err, want, wantErr)
	}
	return ok
}

// staleEntries are the entries of a page decoded before, every field set.
func staleEntries() []api.Entry {
	tm := time.Date(2001, 2, 3, 4, 5, 6, 7, time.FixedZone("", 3600))
	es := make([]api.Entry, 64)
	for i := range es {
		es[i] = api.Entry{Path: "/stale", Name: "stale", Kind: api.KindFile, ID: "stale", Size: 7, ModTime: tm, Created: tm,
			SHA256: "stale", Version: 9, State: "archived", Archive: &api.ArchiveInfo{Class: "GLACIER", Since: tm, Days: 3}}
	}
	return es[:3]
}

func TestDecodePageAsJSON(t *testing.T) {
	// Pages without archived files take the fast way, awkward names too.
	for _, n := range apitest.AwkwardNames() {
		if !checkDecode(t, serverPage(t, []string{n, n, n + "x", n + "y"}, "Y3Vy", false)) {
			t.Errorf("a server's page with %q was left to encoding/json", n)
		}
	}
	checkDecode(t, serverPage(t, apitest.AwkwardNames(), "", true))
	for _, s := range pageSamples() {
		checkDecode(t, []byte(s))
	}
}

func pageSamples() []string {
	return []string{
		`{"entries":[]}`, `{"entries":[]}` + "\n", `{"entries":[{}]}`, `{"entries":null}`, `{}`,
		`{"entries":[]} `, `{"entries":[]}x`, `{"entries":[]}{}`, ` {"entries":[]}`, `{"entries":[],}`,
		`{"entries":[{"name":"a"},]}`, `{"entries":[{"name":"a",}]}`, `{"entries":[{"Name":"a"}]}`,
		`{"entries":[{"name":"a","name":"b"}]}`, `{"entries":[{"name":null}]}`, `{"entries":[{"name":1}]}`,
		`{"entries":[{"size":1.5}]}`, `{"entries":[{"size":1e3}]}`, `{"entries":[{"size":01}]}`,
		`{"entries":[{"size":-0}]}`, `{"entries":[{"size":-}]}`, `{"entries":[{"size":9223372036854775808}]}`,
		`{"entries":[{"size":"1"}]}`, `{"entries":[{"mtime":"2024-05-01T12:00:00Z"}]}`,
		`{"entries":[{"mtime":"2024-05-01 12:00:00"}]}`, `{"entries":[{"mtime":null}]}`,
		`{"entries":[{"mtime":"2024-05-01T12:00:00+25:00"}]}`, `{"entries":[{"name":"a\u0062\"c"}]}`,
		`{"entries":[{"name":"a\qb"}]}`, "{\"entries\":[{\"name\":\"a\tb\"}]}", "{\"entries\":[{\"name\":\"\xff\"}]}",
		`{"entries":[{"other":1}]}`, `{"entries":[],"cursor":"c"}`, `{"entries":[],"cursor":""}`,
		`{"entries":[],"cursor":null}`, `{"cursor":"c","entries":[]}`, `{"entries":[{"name":"a"}`, `{"entries":[`,
		`{"entries":[{"archive":{"class":"GLACIER"}}]}`, ``, `[]`,
	}
}

func FuzzDecodePage(f *testing.F) {
	for _, s := range pageSamples() {
		f.Add([]byte(s))
	}
	f.Add(serverPage(f, apitest.AwkwardNames(), "Y3Vy", true))
	f.Fuzz(func(t *testing.T, data []byte) { checkDecode(t, data) })
}

// TestDecodePageAllocations: a page's strings share one allocation; what
// is left per entry is little (encoding/json made about 8).
func TestDecodePageAllocations(t *testing.T) {
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("file-%05d.txt", i)
	}
	data := string(serverPage(t, names, strings.Repeat("c", 20), false))
	allocs := testing.AllocsPerRun(5, func() {
		if _, ok := readPage(data, nil); !ok {
			t.Fatal("the page was left to encoding/json")
		}
	})
	if per := allocs / 1000; per > 1 {
		t.Errorf("decoding a page allocates %.2f times per entry, want at most 1", per)
	}
}

// BenchmarkDecodePage is the client's side of a page of 1,000 entries:
// decodePage beside encoding/json.
func BenchmarkDecodePage(b *testing.B) {
	names := make([]string, 1000)
	for i := range names {
		names[i] = fmt.Sprintf("file-%05d.txt", i)
	}
	data := serverPage(b, names, "Y3Vy", false)
	text := string(data)
	b.Run("decodePage", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodePage(text, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var p api.Page
			if err := json.NewDecoder(bytes.NewReader(data)).Decode(&p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestPageTextCursor: the cursor found at the end of a page is the one
// decoding it gives, or decoding fails rather than the listing going on
// from another place.
func TestPageTextCursor(t *testing.T) {
	for _, cur := range []string{"Y3Vy", "", "ZmlsZS0wMDk5OQ", "a-_9Z"} {
		data := string(serverPage(t, apitest.AwkwardNames()[:4], cur, false))
		if got, ok := tailCursor(data); !ok || got != cur {
			t.Errorf("tailCursor of a server's page with cursor %q = %q, %v", cur, got, ok)
		}
		checkPageText(t, data)
	}
	for _, c := range []struct {
		data, cursor string
		fails        bool
	}{
		{`{"entries":[],"cursor":"a\u0062"}`, "ab", false}, // found by decoding
		{`{"entries":[] ,"cursor":"ab"}`, "ab", false},
		{`{"cursor":"ab","entries":[]}`, "", true}, // looks last, is not
		{`{"entries":[],"cursor":"ab","cursor":"cd"}`, "cd", false},
		{`{"entries":[],"Cursor":"ab"}`, "ab", false},
		{`{"entries":[{"name":"],\"cursor\":\"x"}]}`, "", false},
	} {
		pt, err := newPageText("test", c.data)
		if err != nil {
			t.Fatalf("%s: %v", c.data, err)
		}
		if pt.Cursor() != c.cursor {
			t.Errorf("%s: cursor %q, want %q", c.data, pt.Cursor(), c.cursor)
		}
		if _, err := pt.Decode(); (err != nil) != c.fails {
			t.Errorf("%s: Decode: %v", c.data, err)
		}
		checkPageText(t, c.data)
	}
}

// checkPageText: what a PageText decodes to is what encoding/json reads,
// with the cursor the next page was asked for.
func checkPageText(t *testing.T, data string) {
	t.Helper()
	var want api.Page
	wantErr := json.NewDecoder(strings.NewReader(data)).Decode(&want)
	pt, err := newPageText("test", data)
	if err != nil {
		if wantErr == nil {
			t.Fatalf("newPageText(%q): %v; encoding/json reads it", data, err)
		}
		return
	}
	got, err := pt.Decode()
	if err != nil {
		return // refused: nothing of it is shown
	}
	if wantErr != nil || !reflect.DeepEqual(got, want) || got.Cursor != pt.Cursor() {
		t.Fatalf("PageText(%q) = %+v (cursor %q); encoding/json: %+v, %v", data, got, pt.Cursor(), want, wantErr)
	}
}

func FuzzPageText(f *testing.F) {
	for _, s := range pageSamples() {
		f.Add(s)
	}
	f.Add(string(serverPage(f, apitest.AwkwardNames(), "Y3Vy", true)))
	f.Fuzz(checkPageText)
}
