package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/strata-storage/strata/internal/human"
)

// progress draws one status line for a batch of transfers on a terminal:
// files and bytes done of the total known so far, speed over the last few
// seconds, and an ETA. It draws nothing when the output is not a terminal,
// so pipes and logs stay clean.
type progress struct {
	w       io.Writer
	verb    string
	mu      sync.Mutex
	files   int
	done    int
	total   int64
	bytes   int64
	current string
	start   time.Time
	samples []sample
	stop    chan struct{}
	stopped chan struct{}
	app     *app
}

type sample struct {
	t time.Time
	b int64
}

func (a *app) newProgress(verb string) *progress {
	p := &progress{verb: verb, start: time.Now(), app: a}
	if f, ok := a.env.Stderr.(*os.File); ok && !a.quiet && !a.jsonOut && term.IsTerminal(int(f.Fd())) {
		p.w = f
		p.stop, p.stopped = make(chan struct{}), make(chan struct{})
		go p.loop()
		a.drawing(p)
	}
	return p
}

func (p *progress) loop() {
	defer close(p.stopped)
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.draw()
		}
	}
}

// addFile counts one more file of size bytes into the batch.
func (p *progress) addFile(size int64) {
	p.mu.Lock()
	p.files++
	p.total += size
	p.mu.Unlock()
}

// add reports transferred bytes (negative when a failed attempt is undone).
func (p *progress) add(n int64) {
	p.mu.Lock()
	p.bytes += n
	p.mu.Unlock()
}

func (p *progress) fileDone(name string) {
	p.mu.Lock()
	p.done++
	p.current = name
	p.mu.Unlock()
}

func (p *progress) setCurrent(name string) {
	p.mu.Lock()
	p.current = name
	p.mu.Unlock()
}

// warn runs print, which writes a line to stderr, without breaking the
// status line: it is cleared first and drawn again on the next tick.
func (p *progress) warn(print func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w != nil {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
	print()
}

// speed is bytes per second over the last five seconds.
func (p *progress) speed(now time.Time) float64 {
	p.samples = append(p.samples, sample{now, p.bytes})
	for len(p.samples) > 2 && now.Sub(p.samples[0].t) > 5*time.Second {
		p.samples = p.samples[1:]
	}
	first := p.samples[0]
	dt := now.Sub(first.t).Seconds()
	if dt <= 0 {
		return 0
	}
	return float64(p.bytes-first.b) / dt
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	sp := p.speed(now)
	eta := "--"
	if sp > 0 && p.total >= p.bytes {
		eta = (time.Duration(float64(p.total-p.bytes)/sp) * time.Second).Round(time.Second).String()
	}
	pct := 100.0
	if p.total > 0 {
		pct = 100 * float64(p.bytes) / float64(p.total)
	}
	bar := progressBar(pct, 20)
	line := fmt.Sprintf("%s %s %5.1f%%  %d/%d files  %s/%s  %s/s  ETA %s  %s",
		p.verb, bar, pct, p.done, p.files, human.Bytes(p.bytes), human.Bytes(p.total), human.Bytes(int64(sp)), eta, p.current)
	width := 100
	if f, ok := p.w.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 10 {
			width = w - 1
		}
	}
	if r := []rune(line); len(r) > width {
		line = string(r[:width])
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", line)
}

func progressBar(pct float64, width int) string {
	full := int(pct / 100 * float64(width))
	full = max(0, min(width, full))
	return "[" + strings.Repeat("=", full) + strings.Repeat(" ", width-full) + "]"
}

// finish stops drawing and leaves a final summary line on a terminal.
func (p *progress) finish() {
	if p.w == nil {
		return
	}
	p.app.drawing(nil)
	close(p.stop)
	<-p.stopped
	p.mu.Lock()
	defer p.mu.Unlock()
	el := time.Since(p.start)
	rate := float64(p.bytes) / max(el.Seconds(), 1e-9)
	fmt.Fprintf(p.w, "\r\x1b[K%s %d/%d files, %s in %s (%s/s)\n", p.verb, p.done, p.files, human.Bytes(p.bytes), el.Round(time.Millisecond), human.Bytes(int64(rate)))
}
