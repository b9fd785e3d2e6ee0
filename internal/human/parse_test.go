package human

import "testing"

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "1048576": 1 << 20, "10MiB": 10 << 20, "10 MiB": 10 << 20, "10m": 10 << 20, "1.5GB": 1_500_000_000,
		"512k": 512 << 10, "64KiB": 64 << 10, "2T": 2 << 40, "7b": 7, "1kb": 1000, " 3 gib ": 3 << 30,
	} {
		got, err := ParseBytes(in)
		if err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "MiB", "-1", "1.2.3", "10 parsecs", "1e3", "99999999999TB", "ten"} {
		if got, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", bad, got)
		}
	}
}
