package ratelimit_test

import (
	"net/netip"
	"runtime"
	"testing"

	"github.com/strata-storage/strata/internal/ratelimit"
)

// The decision of one authenticated request at the defaults: its user's
// bucket (and its address's, with a per-address budget), among many
// users; it must stay well under a microsecond.
func BenchmarkRequest(b *testing.B) {
	for _, c := range []struct {
		name string
		cfg  ratelimit.Config
	}{
		{"user", ratelimit.Config{User: ratelimit.Limits{Requests: 1e9}}},
		{"user+ip+token", ratelimit.Config{User: ratelimit.Limits{Requests: 1e9}, IPRequests: 1e9, TokenRequests: 1e9}},
	} {
		b.Run(c.name, func(b *testing.B) {
			l := ratelimit.New(c.cfg)
			users := make([]ratelimit.Subject, 1000)
			for i := range users {
				users[i] = ratelimit.Subject{UserID: "user" + string(rune('a'+i%26)) + string(rune('a'+i/26)),
					TokenID: "tok" + string(rune(i)), IP: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})}
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if !l.Request(ctx, users[i%len(users)], 1).Allowed() {
						b.Fatal("refused")
					}
					i++
				}
			})
		})
	}
}

// A million distinct client addresses, each sending one request: the
// time of each decision (a new bucket, and an eviction once full) and the
// memory the limiter keeps at the end (bytes/op is per address).
func BenchmarkMillionIPs(b *testing.B) {
	for _, max := range []int{ratelimit.DefaultMaxEntries, 1 << 20} {
		b.Run("max="+itoa(max), func(b *testing.B) {
			var heap float64
			for range b.N {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				l := ratelimit.New(ratelimit.Config{IPRequests: 100, MaxEntries: max})
				for i := range 1_000_000 {
					l.Request(ctx, ratelimit.Subject{IP: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})}, 1)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				heap = float64(after.HeapAlloc) - float64(before.HeapAlloc)
				b.ReportMetric(float64(ratelimit.Entries(l)), "entries")
				runtime.KeepAlive(l)
			}
			b.ReportMetric(heap/(1<<20), "MiB-kept")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ns/decision")
		})
	}
}

func itoa(n int) string {
	s := ""
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}
