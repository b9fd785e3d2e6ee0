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

func TestBool(t *testing.T) {
	for _, c := range []struct {
		in       string
		want, ok bool
		end      int
	}{
		{"true", true, true, 4}, {"false,", false, true, 5}, {"true}", true, true, 4},
		{"tru", false, false, 0}, {"True", false, false, 0}, {"1", false, false, 0}, {"", false, false, 0}, {"null", false, false, 0},
	} {
		v, end, ok := jsonlit.Bool(c.in, 0)
		if v != c.want || ok != c.ok || end != c.end {
			t.Errorf("Bool(%q) = %v, %d, %v; want %v, %d, %v", c.in, v, end, ok, c.want, c.end, c.ok)
		}
	}
}
