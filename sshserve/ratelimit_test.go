package sshserve_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/internal/ratelimit"
	"github.com/strata-storage/strata/internal/ratelimit/ratelimittest"
	"github.com/strata-storage/strata/sshserve"
)

// An SFTP client under the same per-user request rate as over HTTP: past
// its burst the API refuses the session's requests with Retry-After, the
// session waits as asked (on the limiter's clock: no test waits in real
// time) and goes on, so every operation succeeds, paced at the rate.
func TestSFTPRateLimited(t *testing.T) {
	clk := ratelimittest.NewClock()
	const rate = 5 // requests a second; the burst is twice as many
	e := newEnvWith(t, daemon.Config{Limits: ratelimit.Config{User: ratelimit.Limits{Requests: rate}, Clock: clk}}, sshserve.Config{})
	c := e.sftp("alice")
	clk.Advance(time.Minute) // a full burst
	clk.ResetSlept()
	start := clk.Now()
	const files = 30
	for i := range files {
		name := fmt.Sprintf("f%02d.txt", i)
		if err := write(c, name, []byte(name)); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
		fi, err := c.Stat(name)
		if err != nil || fi.Size() != int64(len(name)) {
			t.Fatalf("stat %s: %v %v", name, fi, err)
		}
	}
	// At least a request per write and per stat, beyond the burst.
	minWait := time.Duration((2*files-2*rate)/rate) * time.Second
	if slept := clk.Slept(); slept < minWait {
		t.Fatalf("the session waited %v for %d requests at %d a second, want at least %v: not limited", slept, 2*files, rate, minWait)
	}
	if elapsed := clk.Now().Sub(start); elapsed < minWait {
		t.Fatalf("the requests took %v of the limiter's time, want at least %v", elapsed, minWait)
	}
	for i := range files {
		name := fmt.Sprintf("/home/alice/f%02d.txt", i)
		if string(e.stored(name)) != fmt.Sprintf("f%02d.txt", i) {
			t.Fatalf("%s not stored", name)
		}
	}
	// Once the budget refills, a request goes at once.
	clk.Advance(time.Minute)
	clk.ResetSlept()
	if _, err := c.Stat("f00.txt"); err != nil {
		t.Fatal(err)
	}
	if slept := clk.Slept(); slept != 0 {
		t.Fatalf("waited %v with the budget full", slept)
	}
}
