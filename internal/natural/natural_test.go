package natural

import (
	"slices"
	"sort"
	"testing"
)

func TestOrder(t *testing.T) {
	want := []string{
		"02", "2", "10", "a", "A1", "a2", "a10", "B", "file", "File.txt", "file01.txt", "file1.txt",
		"file2.txt", "file10.txt", "file99999999999999999999999.txt", "file100000000000000000000000.txt",
		"note1", "note2", "note10", "note10a", "note10b", "x", "é",
	}
	got := slices.Clone(want)
	for i := range got { // reverse, so a stable sort cannot pass by doing nothing
		j := len(got) - 1 - i
		if i < j {
			got[i], got[j] = got[j], got[i]
		}
	}
	sort.SliceStable(got, func(i, j int) bool { return Less(got[i], got[j]) })
	if !slices.Equal(got, want) {
		t.Fatalf("order\n got %q\nwant %q", got, want)
	}
}

func TestCompareIsAnOrder(t *testing.T) {
	names := []string{"", "0", "00", "a", "A", "a0", "a00", "a01", "ab", "aB", "a1b", "a01b", "z9", "z10"}
	for _, a := range names {
		for _, b := range names {
			if Compare(a, b) != -Compare(b, a) {
				t.Errorf("Compare(%q, %q) not antisymmetric", a, b)
			}
			if a != b && Less(a, b) == Less(b, a) {
				t.Errorf("Less(%q, %q) not total", a, b)
			}
			for _, c := range names {
				if Less(a, b) && Less(b, c) && !Less(a, c) {
					t.Errorf("not transitive: %q < %q < %q", a, b, c)
				}
			}
		}
	}
}

func FuzzCompare(f *testing.F) {
	f.Add("note10", "note2")
	f.Add("a01", "a1")
	f.Fuzz(func(t *testing.T, a, b string) {
		if Compare(a, b) != -Compare(b, a) {
			t.Fatalf("Compare(%q, %q) not antisymmetric", a, b)
		}
		if a != b && Less(a, b) == Less(b, a) {
			t.Fatalf("Less(%q, %q) not total", a, b)
		}
	})
}
