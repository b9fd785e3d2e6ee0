package web

import (
	"bytes"
	"strings"
	"testing"
)

// A folder page names an archived file without a download link, and says
// why; names that would turn the text around are shown escaped.
func TestFolderPageColdAndBidi(t *testing.T) {
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err = p.Render(&buf, "folder", Common{Title: "proj"}, Folder{Name: "proj", Zip: "/s/t/zip", Entries: []Item{
		{Name: "cold.bin", Href: "/s/t/raw/cold.bin", Size: "1 B", Cold: "archived"},
		{Name: "invoice\u202Efdp.exe", Href: "/s/t/raw/x", Size: "1 B"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, `href="/s/t/raw/cold.bin"`) || !strings.Contains(page, "cold.bin</span> <span class=\"muted\">(archived)</span>") {
		t.Errorf("the archived file:\n%s", page)
	}
	if strings.ContainsRune(page, '\u202E') || !strings.Contains(page, `invoice\u202Efdp.exe`) {
		t.Errorf("the override is not shown escaped:\n%s", page)
	}
}

func TestShown(t *testing.T) {
	for in, want := range map[string]string{
		"plain.txt":         "plain.txt",
		"שלום.txt":          "שלום.txt", // a right-to-left script needs no escape
		"a\u200Bb":          `a\u200Bb`,
		"x\u2066y\u2069":    `x\u2066y\u2069`,
		"tab\there":         `tab\u0009here`,
		"bell\x07":          `bell\u0007`,
		"\u202Dforced.txt":  `\u202Dforced.txt`,
		"emoji 👍 stays.txt": "emoji 👍 stays.txt",
		"می‌خواهم":          "می‌خواهم", // the non-joiner Persian needs
		"👩‍💻":               "👩‍💻",
	} {
		if got := Shown(in); got != want {
			t.Errorf("Shown(%q) = %q, want %q", in, got, want)
		}
	}
}
