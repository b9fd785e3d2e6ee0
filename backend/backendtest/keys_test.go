package backendtest

import "testing"

func TestKeysFlipPositions(t *testing.T) {
	for _, n := range []int{1, 65, 128, 129, 184, 200, 4096} {
		got := keysFlipPositions(n)
		bits := n * 8
		seen := map[int]bool{}
		for _, b := range got {
			if b < 0 || b >= bits {
				t.Fatalf("n=%d: bit %d out of range", n, b)
			}
			if seen[b] {
				t.Fatalf("n=%d: bit %d twice", n, b)
			}
			seen[b] = true
		}
		if bits <= 1024 && len(got) != bits {
			t.Errorf("n=%d: %d flips, want every one of %d bits", n, len(got), bits)
		}
		if len(got) > 1024 {
			t.Errorf("n=%d: %d flips, want at most 1024", n, len(got))
		}
		// Headers and tags sit at the ends: every bit there is flipped.
		for i := range min(16, bits) {
			if !seen[i] || !seen[bits-1-i] {
				t.Errorf("n=%d: bit %d or %d from the end not flipped", n, i, i)
			}
		}
		// Every bit position within a byte is sampled.
		var pos [8]bool
		for _, b := range got {
			pos[b%8] = true
		}
		if pos != [8]bool{true, true, true, true, true, true, true, true} {
			t.Errorf("n=%d: bit positions sampled %v", n, pos)
		}
		if n > 128 && len(got) < 512 {
			t.Errorf("n=%d: only %d flips", n, len(got))
		}
	}
}
