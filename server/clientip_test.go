package server

import (
	"net/netip"
	"testing"
)

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies([]string{"10.0.0.0/8, 192.0.2.10", "fd00::/8", "::ffff:198.51.100.0/120", "10.1.2.3/8"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.0.2.10/32", "fd00::/8", "198.51.100.0/24", "10.0.0.0/8"}
	if len(got) != len(want) {
		t.Fatalf("%v, want %v", got, want)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "proxy.example.com", "10.0.0", "fe80::1%eth0", "10.0.0.1/8/8"} {
		if _, err := ParseTrustedProxies([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The client is the rightmost address that is not a trusted proxy;
// nothing a client writes can make it someone else.
func TestForwardedClient(t *testing.T) {
	proxies, _ := ParseTrustedProxies([]string{"10.0.0.0/8", "2001:db8::/32"})
	a := netip.MustParseAddr
	for _, c := range []struct {
		name string
		peer string
		xff  []string
		want string
	}{
		{"no proxy", "198.51.100.7", nil, "198.51.100.7"},
		{"an untrusted peer's header is ignored", "198.51.100.7", []string{"1.2.3.4"}, "198.51.100.7"},
		{"one proxy", "10.0.0.1", []string{"198.51.100.7"}, "198.51.100.7"},
		{"the client's own entries are left of it", "10.0.0.1", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"two proxies", "10.0.0.1", []string{"203.0.113.5, 10.9.9.9"}, "203.0.113.5"},
		{"over several lines", "10.0.0.1", []string{"203.0.113.5", "10.9.9.9"}, "203.0.113.5"},
		{"spoofed proxy left of the client", "10.0.0.1", []string{"10.0.0.2, 203.0.113.5"}, "203.0.113.5"},
		{"only proxies: the leftmost", "10.0.0.1", []string{"10.1.1.1, 10.2.2.2"}, "10.1.1.1"},
		{"a proxy without a header", "10.0.0.1", nil, "10.0.0.1"},
		{"garbage stops at the proxy", "10.0.0.1", []string{"203.0.113.5, not-an-ip"}, "10.0.0.1"},
		{"with a port", "10.0.0.1", []string{"[2001:db9::5]:1234"}, "2001:db9::5"},
		{"IPv6 proxy", "2001:db8::1", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
	} {
		if got := forwardedClient(a(c.peer), c.xff, proxies); got != a(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
	if got := forwardedClient(a("198.51.100.7"), []string{"1.2.3.4"}, nil); got != a("198.51.100.7") {
		t.Errorf("no trusted proxies: %v", got)
	}
}
