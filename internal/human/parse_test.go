package human

import (
	"errors"
	"testing"
)

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1500": 1500, "10K": 10240, "10 KiB": 10240, "10kb": 10000, "1.5G": 3 << 29,
		"2TB": 2e12, "512 B": 512, " 3M ": 3 << 20, "1.7B": 1,
	} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "G", "-1", "1.2.3G", "10X", "1e3", "9999999P", "ten"} {
		if _, err := ParseBytes(in); !errors.Is(err, ErrSize) {
			t.Errorf("ParseBytes(%q): %v, want ErrSize", in, err)
		}
	}
}
