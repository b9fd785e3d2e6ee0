package jsonlit_test

import (
	"encoding/json"
	"testing"

	"github.com/strata-storage/strata/internal/jsonlit"
)

func TestInt(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"-0", 0, true}, {"17,", 17, true}, {"-42}", -42, true},
		{"9223372036854775807", 9223372036854775807, true}, {"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775808", 0, false}, {"01", 0, false}, {"-", 0, false}, {"", 0, false},
		{"x", 0, false}, {"+1", 0, false}, {"-01", 0, false},
	} {
		n, end, ok := jsonlit.Int(c.in, 0)
		if ok != c.ok || n != c.want {
			t.Errorf("Int(%q) = %d, %v; want %d, %v", c.in, n, ok, c.want, c.ok)
		}
		if ok {
			var v int64
			if err := json.Unmarshal([]byte(c.in[:end]), &v); err != nil || v != n {
				t.Errorf("Int(%q) = %d; encoding/json: %d, %v", c.in, n, v, err)
			}
		}
	}
}
