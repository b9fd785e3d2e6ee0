package cli

import (
	"fmt"
	"sync"
	"time"

	"github.com/strata-storage/strata/server/client"
)

// waitNotices tells the user on stderr when a request waits before it is
// sent again (a rate limit's Retry-After, a busy server, a network
// error), above the progress line when one is drawn; the same reason at
// most once a second, as parallel transfers often wait together.
type waitNotices struct {
	mu       sync.Mutex
	progress *progress // the status line being drawn, if any
	last     string
	lastAt   time.Time
	// tui, when set, has the file manager's status line show them: the
	// screen is its own.
	tui chan string
}

func (a *app) noticeWait(w client.Wait) {
	if a.quiet {
		return
	}
	what := "no answer from the server"
	switch {
	case w.RateLimited:
		what = "rate limited"
	case w.Answered:
		what = "the server asks to wait"
	}
	msg := fmt.Sprintf("%s (%s); trying again in %s", what, w.Reason, w.For.Round(100*time.Millisecond))
	n := &a.waits
	if n.tui != nil {
		select {
		case n.tui <- msg:
		default: // it has enough to show; the client must not wait on it
		}
		return
	}
	n.mu.Lock()
	now := time.Now()
	if w.Reason == n.last && now.Sub(n.lastAt) < time.Second {
		n.mu.Unlock()
		return
	}
	n.last, n.lastAt = w.Reason, now
	p := n.progress
	n.mu.Unlock()
	print := func() { fmt.Fprintln(a.env.Stderr, "strata: "+msg) }
	if p != nil {
		p.warn(print)
		return
	}
	print()
}

// drawing says which status line notices go above (nil: none).
func (a *app) drawing(p *progress) {
	a.waits.mu.Lock()
	a.waits.progress = p
	a.waits.mu.Unlock()
}
