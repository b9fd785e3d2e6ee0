package cli

import (
	"net"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestListenURLs(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 43210}
	for listen, want := range map[string][]string{
		"127.0.0.1:0":    {"http://127.0.0.1:43210", "http://localhost:43210", "http://[::1]:43210"},
		"localhost:8420": {"http://localhost:43210", "http://127.0.0.1:43210", "http://[::1]:43210"},
		"[::1]:8420":     {"http://[::1]:43210", "http://localhost:43210", "http://127.0.0.1:43210"},
		"10.0.0.5:8420":  {"http://10.0.0.5:43210"},
		"files.lan:8420": {"http://files.lan:43210"},
		":8420":          nil,
		"0.0.0.0:8420":   nil,
		"[::]:8420":      nil,
		"not an address": nil,
	} {
		if got := listenURLs(listen, addr, "http"); !slices.Equal(got, want) {
			t.Errorf("listenURLs(%q) = %v, want %v", listen, got, want)
		}
	}
	if got := listenURLs("10.0.0.5:443", addr, "https"); !slices.Equal(got, []string{"https://10.0.0.5:43210"}) {
		t.Errorf("over TLS: %v", got)
	}
}

func TestClipName(t *testing.T) {
	long := "login " + strings.Repeat("é", 40)
	got := clipName(long)
	if len(got) > 64 || !utf8.ValidString(got) || !strings.HasPrefix(long, got) {
		t.Fatalf("clipName: %q", got)
	}
	if clipName("login laptop") != "login laptop" {
		t.Fatal("a short name changed")
	}
}
