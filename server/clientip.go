package server

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ParseTrustedProxies reads the proxies trusted to name their clients in
// X-Forwarded-For: CIDR prefixes (10.0.0.0/8, fd00::/8) or single
// addresses (192.0.2.10), each item of list possibly a comma-separated
// list itself.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range list {
		for _, s := range strings.Split(item, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			if p, err := netip.ParsePrefix(s); err == nil {
				if p.Addr().Zone() != "" {
					return nil, fmt.Errorf("trusted proxy %q: no zone, please", s)
				}
				bits := p.Bits()
				if p.Addr().Is4In6() {
					// ::ffff:10.0.0.0/104 is 10.0.0.0/8.
					if bits < 96 {
						return nil, fmt.Errorf("trusted proxy %q: an IPv4-mapped prefix needs at least 96 bits", s)
					}
					bits -= 96
				}
				out = append(out, netip.PrefixFrom(p.Addr().Unmap(), bits).Masked())
				continue
			}
			a, err := netip.ParseAddr(s)
			if err != nil || a.Zone() != "" {
				return nil, fmt.Errorf("trusted proxy %q: want an address (192.0.2.10) or a CIDR prefix (10.0.0.0/8, fd00::/8)", s)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out, nil
}

func trusted(a netip.Addr, proxies []netip.Prefix) bool {
	for _, p := range proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedClient is the client of a request that reached us from peer
// with the X-Forwarded-For lines xff: peer itself unless it is a trusted
// proxy; else, going right to left through the addresses the proxies
// appended, the first that is not a trusted proxy (anything left of it
// was written by the client, and can be anything). An entry that is not
// an address stops the walk at the proxy that passed it on.
func forwardedClient(peer netip.Addr, xff []string, proxies []netip.Prefix) netip.Addr {
	if !peer.IsValid() || !trusted(peer, proxies) || len(xff) == 0 {
		return peer
	}
	hops := strings.Split(strings.Join(xff, ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			if ap, perr := netip.ParseAddrPort(strings.TrimSpace(hops[i])); perr == nil {
				a, err = ap.Addr(), nil
			}
		}
		if err != nil || a.Zone() != "" {
			return client
		}
		client = a.Unmap()
		if !trusted(client, proxies) {
			return client
		}
	}
	return client // every hop is a proxy: the leftmost is the client
}

// withClientAddr finds who the client is once, for the limits, the
// authorization's source address and the log.
func (s *Server) withClientAddr(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if in := info(r.Context()); in != nil {
			var peer netip.Addr
			if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
				peer = ap.Addr().Unmap()
			}
			in.client = forwardedClient(peer, r.Header.Values("X-Forwarded-For"), s.cfg.TrustedProxies)
		}
		next.ServeHTTP(w, r)
	})
}
