package ratelimit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/strata-storage/strata/internal/ratelimit"
	"github.com/strata-storage/strata/internal/ratelimit/ratelimittest"
)

var ctx = context.Background()

// A user's requests pass up to the burst (twice the rate), then wait for
// the bucket to refill; the wait told is the time until the next passes.
func TestUserRequests(t *testing.T) {
	clk := ratelimittest.NewClock()
	l := ratelimit.New(ratelimit.Config{User: ratelimit.Limits{Requests: 10}, Clock: clk})
	alice := ratelimit.Subject{UserID: "alice", IP: netip.MustParseAddr("10.0.0.1")}
	for i := range 20 {
		if v := l.Request(ctx, alice, 1); !v.Allowed() {
			t.Fatalf("request %d of the burst refused: %+v", i, v)
		}
	}
	v := l.Request(ctx, alice, 1)
	if v.Allowed() || v.Scope != ratelimit.ScopeUser || v.Wait != 100*time.Millisecond {
		t.Fatalf("over the burst: %+v, want a wait of 100ms for the user", v)
	}
	// Another user has a budget of their own.
	if v := l.Request(ctx, ratelimit.Subject{UserID: "bob"}, 1); !v.Allowed() {
		t.Fatalf("bob refused: %+v", v)
	}
	clk.Advance(v.Wait)
	if v := l.Request(ctx, alice, 1); !v.Allowed() {
		t.Fatalf("refused after the wait it was told: %+v", v)
	}
	if v := l.Request(ctx, alice, 1); v.Allowed() {
		t.Fatal("a refilled token was spent twice")
	}
	// The sustained rate: 10 a second.
	clk.Advance(time.Second)
	n := 0
	for l.Request(ctx, alice, 1).Allowed() {
		n++
	}
	if n != 10 {
		t.Fatalf("%d requests passed after a second, want 10", n)
	}
}

// An expensive request costs more, is charged to no budget when another
// refuses it, and one costing more than the burst still passes when the
// bucket is full (it would otherwise never pass).
func TestCostAndRefund(t *testing.T) {
	clk := ratelimittest.NewClock()
	l := ratelimit.New(ratelimit.Config{User: ratelimit.Limits{Requests: 5}, IPRequests: 100, Clock: clk})
	s := ratelimit.Subject{UserID: "alice", IP: netip.MustParseAddr("192.0.2.7")}
	if v := l.Request(ctx, s, 8); !v.Allowed() {
		t.Fatalf("cost 8 of 10 refused: %+v", v)
	}
	v := l.Request(ctx, s, 8)
	if v.Allowed() || v.Scope != ratelimit.ScopeUser || v.Wait != 1200*time.Millisecond {
		t.Fatalf("second cost 8: %+v, want 1.2s for the user (6 missing at 5/s)", v)
	}
	// The address was not charged for the refused request: its 200 are
	// there but for the 8 spent.
	other := ratelimit.Subject{UserID: "bob", IP: s.IP}
	for range 192 {
		if v := l.Request(ctx, other, 1); !v.Allowed() && v.Scope == ratelimit.ScopeIP {
			t.Fatalf("the address was charged for a refused request: %+v", v)
		}
	}
	clk.Advance(time.Minute)
	if v := l.Request(ctx, s, 1000); !v.Allowed() {
		t.Fatalf("a cost above the burst never passes: %+v", v)
	}
}

// Per address and per token budgets: the address's counts every user
// behind it; a token's only its own requests.
func TestIPAndTokenBudgets(t *testing.T) {
	clk := ratelimittest.NewClock()
	l := ratelimit.New(ratelimit.Config{IPRequests: 1, TokenRequests: 2, Clock: clk})
	ip := netip.MustParseAddr("2001:db8::1")
	for range 2 {
		if v := l.Request(ctx, ratelimit.Subject{IP: ip}, 1); !v.Allowed() {
			t.Fatalf("refused within the address's burst: %+v", v)
		}
	}
	// Another address of the same /64 is the same host.
	if v := l.Request(ctx, ratelimit.Subject{IP: netip.MustParseAddr("2001:db8::ffff")}, 1); v.Allowed() || v.Scope != ratelimit.ScopeIP {
		t.Fatalf("the /64 took a fresh budget: %+v", v)
	}
	if v := l.Request(ctx, ratelimit.Subject{IP: netip.MustParseAddr("2001:db8:0:1::1")}, 1); !v.Allowed() {
		t.Fatalf("another /64 refused: %+v", v)
	}
	tok := ratelimit.Subject{UserID: "u", TokenID: "t1"}
	for range 4 {
		if v := l.Request(ctx, tok, 1); !v.Allowed() {
			t.Fatalf("refused within the token's burst: %+v", v)
		}
	}
	if v := l.Request(ctx, tok, 1); v.Allowed() || v.Scope != ratelimit.ScopeToken {
		t.Fatalf("over the token's burst: %+v", v)
	}
	if v := l.Request(ctx, ratelimit.Subject{UserID: "u", TokenID: "t2"}, 1); !v.Allowed() {
		t.Fatalf("another token of the user refused: %+v", v)
	}
}

// A user's own limits replace the defaults, read again after OverrideTTL
// or at once after Changed; a failed read keeps what was there.
func TestOverrides(t *testing.T) {
	clk := ratelimittest.NewClock()
	var reads int
	own := map[string]ratelimit.Override{}
	var fail error
	l := ratelimit.New(ratelimit.Config{User: ratelimit.Limits{Requests: 100}, Clock: clk,
		Overrides: func(_ context.Context, id string) (ratelimit.Override, error) {
			reads++
			return own[id], fail
		}})
	one, unlimited := 1.0, 0.0
	own["alice"] = ratelimit.Override{Requests: &one}
	alice := ratelimit.Subject{UserID: "alice"}
	passed := 0
	for range 10 {
		if l.Request(ctx, alice, 1).Allowed() {
			passed++
		}
	}
	if passed != 2 || reads != 1 {
		t.Fatalf("%d passed with a limit of 1/s (burst 2), %d reads; want 2 and 1", passed, reads)
	}
	if got := l.Limits(ctx, "alice"); got.Requests != 1 {
		t.Fatalf("Limits: %+v", got)
	}
	own["alice"] = ratelimit.Override{Requests: &unlimited}
	if l.Request(ctx, alice, 1).Allowed() {
		t.Fatal("the change applied before OverrideTTL without Changed")
	}
	l.Changed("alice")
	for i := range 1000 {
		if v := l.Request(ctx, alice, 1); !v.Allowed() {
			t.Fatalf("request %d refused with no limit: %+v", i, v)
		}
	}
	own["alice"] = ratelimit.Override{}
	clk.Advance(ratelimit.OverrideTTL)
	fail = errors.New("store down")
	for range 300 {
		if !l.Request(ctx, alice, 1).Allowed() {
			t.Fatal("a failed read of the limits changed them")
		}
	}
	fail = nil
	clk.Advance(ratelimit.OverrideTTL)
	passed = 0
	for range 300 {
		if l.Request(ctx, alice, 1).Allowed() {
			passed++
		}
	}
	if passed != 200 {
		t.Fatalf("%d passed back on the default of 100/s, want the burst of 200", passed)
	}
}

// However many addresses come, the buckets kept stay bounded; entries
// idle long enough to have refilled go first, so an address still
// counting is kept while idle ones come and go.
func TestEviction(t *testing.T) {
	clk := ratelimittest.NewClock()
	l := ratelimit.New(ratelimit.Config{IPRequests: 1, MaxEntries: 640, Clock: clk})
	for i := range 100_000 {
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		l.Request(ctx, ratelimit.Subject{IP: ip}, 1)
		if i%101 != 0 {
			continue
		}
		if n := ratelimit.Entries(l); n > 640 {
			t.Fatalf("%d entries after %d addresses, bound 640", n, i+1)
		}
	}
	if n := ratelimit.Entries(l); n < 600 {
		t.Fatalf("only %d entries kept of 640", n)
	}
	busy := netip.MustParseAddr("198.51.100.1")
	for i := range 2000 {
		// Every other entry is idle (refilled in 2 s) by now.
		clk.Advance(3 * time.Second)
		l.Request(ctx, ratelimit.Subject{IP: busy}, 1)
		for j := range 16 {
			l.Request(ctx, ratelimit.Subject{IP: netip.AddrFrom4([4]byte{172, 16, byte(i >> 4), byte(i<<4 | j)})}, 1)
		}
		if !ratelimit.HasIP(l, busy) {
			t.Fatalf("the busy address was evicted at step %d while idle ones were kept", i)
		}
	}
}

// Failed authentications: AuthFailures a minute free per address, then
// doubling waits that start no sooner than the budget allows; per name
// FreeNameFailures, then doubling; a success clears the name's.
func TestAuthFailures(t *testing.T) {
	clk := ratelimittest.NewClock()
	l := ratelimit.New(ratelimit.Config{AuthFailures: 6, Clock: clk})
	ip := netip.MustParseAddr("203.0.113.9")
	for i := range 6 {
		if w := l.AuthWait(ip, ""); w != 0 {
			t.Fatalf("failure %d waits %v within the budget", i, w)
		}
		l.AuthFailed(ip, "")
	}
	l.AuthFailed(ip, "")
	// The budget has the next failure in 10 s (6 a minute), more than
	// the first backoff of 1 s.
	if w := l.AuthWait(ip, ""); w != 10*time.Second {
		t.Fatalf("first wait beyond the budget %v, want 10s", w)
	}
	for range 6 {
		l.AuthFailed(ip, "")
	}
	if w := l.AuthWait(ip, ""); w != 64*time.Second {
		t.Fatalf("after 7 strikes %v, want 64s", w)
	}
	for range 30 {
		l.AuthFailed(ip, "")
	}
	if w := l.AuthWait(ip, ""); w != ratelimit.MaxAuthWait {
		t.Fatalf("not capped: %v", w)
	}
	if w := l.AuthWait(netip.MustParseAddr("203.0.113.10"), ""); w != 0 {
		t.Fatalf("another address waits %v", w)
	}
	// Quiet until the budget refills: free again.
	clk.Advance(ratelimit.MaxAuthWait + time.Minute)
	l.AuthFailed(ip, "")
	if w := l.AuthWait(ip, ""); w != 0 {
		t.Fatalf("waits %v after a quiet spell", w)
	}

	// Names: from many addresses.
	for i := range ratelimit.FreeNameFailures {
		l.AuthFailed(netip.AddrFrom4([4]byte{10, 1, 0, byte(i)}), "alice")
	}
	if w := l.AuthWait(netip.MustParseAddr("10.9.9.9"), "alice"); w != 0 {
		t.Fatalf("waits %v within the free failures of a name", w)
	}
	l.AuthFailed(netip.MustParseAddr("10.2.0.1"), "alice")
	l.AuthFailed(netip.MustParseAddr("10.2.0.2"), "alice")
	if w := l.AuthWait(netip.MustParseAddr("10.9.9.9"), "alice"); w != 2*time.Second {
		t.Fatalf("name wait %v, want 2s", w)
	}
	l.AuthSucceeded("alice")
	if w := l.AuthWait(netip.MustParseAddr("10.9.9.9"), "alice"); w != 0 {
		t.Fatalf("alice waits %v after a success", w)
	}
	// A name's failures are forgotten an hour after the last.
	for range 5 {
		l.AuthFailed(netip.Addr{}, "bob")
	}
	clk.Advance(2 * time.Hour)
	l.AuthFailed(netip.Addr{}, "bob")
	if w := l.AuthWait(netip.Addr{}, "bob"); w != 0 {
		t.Fatalf("bob's old failures still count: %v", w)
	}

	// With no address budget, only names slow down.
	l = ratelimit.New(ratelimit.Config{AuthFailures: -1, Clock: clk})
	for range 100 {
		l.AuthFailed(ip, "")
	}
	if w := l.AuthWait(ip, ""); w != 0 {
		t.Fatalf("no budget set, yet the address waits %v", w)
	}
}

// Bodies are paced at the user's bandwidth, streaming, both ways; users
// without a limit are not touched.
func TestBandwidth(t *testing.T) {
	clk := ratelimittest.NewClock()
	const bw = 64 << 10
	l := ratelimit.New(ratelimit.Config{User: ratelimit.Limits{Bandwidth: bw}, Clock: clk})
	th := l.Throttle(ctx, "alice")
	data := bytes.Repeat([]byte("x"), 10*bw)
	var out bytes.Buffer
	if _, err := io.Copy(&out, th.Reader(ctx, bytes.NewReader(data))); err != nil {
		t.Fatal(err)
	}
	// The first second's worth is the burst; the other nine take nine
	// seconds.
	if !bytes.Equal(out.Bytes(), data) || clk.Slept() != 9*time.Second {
		t.Fatalf("read %d bytes in %v of waits, want %d in 9s", out.Len(), clk.Slept(), len(data))
	}
	// Writing shares the same budget: it is empty now.
	clk.ResetSlept()
	out.Reset()
	w := l.Throttle(ctx, "alice").Writer(ctx, &out)
	if n, err := w.Write(data[:3*bw]); err != nil || n != 3*bw {
		t.Fatalf("write: %d, %v", n, err)
	}
	if clk.Slept() != 3*time.Second {
		t.Fatalf("writes waited %v, want 3s", clk.Slept())
	}
	// A canceled transfer stops waiting.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := th.Writer(cctx, io.Discard).Write(data); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled write: %v", err)
	}
	// No limit: no throttle at all.
	l = ratelimit.New(ratelimit.Config{Clock: clk})
	if th := l.Throttle(ctx, "alice"); th != nil || th.Reader(ctx, bytes.NewReader(nil)) == nil {
		t.Fatalf("a throttle with no limit: %v", th)
	}
}

func ExampleLimiter_Request() {
	l := ratelimit.New(ratelimit.Config{User: ratelimit.Limits{Requests: 1}, Clock: ratelimittest.NewClock()})
	s := ratelimit.Subject{UserID: "alice"}
	for range 3 {
		if v := l.Request(context.Background(), s, 1); v.Allowed() {
			fmt.Println("go ahead")
		} else {
			fmt.Println("wait", v.Wait, "for the", v.Scope)
		}
	}
	// Output:
	// go ahead
	// go ahead
	// wait 1s for the user
}
