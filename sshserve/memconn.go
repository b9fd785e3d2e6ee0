package sshserve

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// memConn is one end of an in-memory connection between a session's API
// client and the API, with a buffer each way. A socket pair took a system
// call for every read and write and copied every byte through the kernel;
// net.Pipe has no buffer, so every write waits for the reader. Here a
// write copies into the buffer and returns unless it is full, and a read
// takes what is there.
type memConn struct {
	in, out  *memPipe // what this end reads, and what it writes
	readDL   *deadline
	writeDL  *deadline
	done     chan struct{}
	doneOnce sync.Once
}

var _ net.Conn = (*memConn)(nil)

// memPipeLimit is what a direction holds before writes wait: room for a
// few of the largest writes (a download's 256 KiB) so that each goes in
// whole.
const memPipeLimit = 1 << 20

// memChunk is the unit a pipe holds bytes in; chunks come from and go back
// to a pool, so an idle connection holds none.
const memChunk = 64 << 10

// memPipe is one direction of a memConn.
type memPipe struct {
	pool *sync.Pool

	mu      sync.Mutex
	chunks  [][]byte // held bytes: chunks[0][off:], then the others
	off     int
	held    int
	rclosed bool          // the reading end is closed: writes fail
	wclosed bool          // the writing end is closed: reads end at EOF
	changed chan struct{} // closed, and replaced, on every change
}

// memConnPair is two connected ends; chunks come from pool (of *[]byte
// with a capacity of memChunk).
func memConnPair(pool *sync.Pool) (*memConn, *memConn) {
	a := &memPipe{pool: pool, changed: make(chan struct{})}
	b := &memPipe{pool: pool, changed: make(chan struct{})}
	end := func(in, out *memPipe) *memConn {
		return &memConn{in: in, out: out, readDL: newDeadline(), writeDL: newDeadline(), done: make(chan struct{})}
	}
	return end(a, b), end(b, a)
}

// notify wakes whoever waits on the pipe. The caller holds mu.
func (p *memPipe) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (c *memConn) Read(b []byte) (int, error) {
	p := c.in
	for {
		if c.closed() {
			return 0, net.ErrClosed
		}
		if c.readDL.expired() {
			return 0, os.ErrDeadlineExceeded
		}
		p.mu.Lock()
		if p.held > 0 {
			n := 0
			for n < len(b) && p.held > 0 {
				k := copy(b[n:], p.chunks[0][p.off:])
				n += k
				p.off += k
				p.held -= k
				if p.off == len(p.chunks[0]) {
					buf := p.chunks[0][:0]
					p.pool.Put(&buf)
					p.chunks[0] = nil
					p.chunks = p.chunks[1:]
					p.off = 0
				}
			}
			p.notify()
			p.mu.Unlock()
			return n, nil
		}
		if p.wclosed {
			p.mu.Unlock()
			if len(b) == 0 {
				return 0, nil
			}
			return 0, io.EOF
		}
		changed := p.changed
		p.mu.Unlock()
		if len(b) == 0 {
			return 0, nil
		}
		select {
		case <-changed:
		case <-c.readDL.wait():
		case <-c.done:
		}
	}
}

func (c *memConn) Write(b []byte) (int, error) {
	p := c.out
	n := 0
	for {
		if c.closed() {
			return n, net.ErrClosed
		}
		if c.writeDL.expired() {
			return n, os.ErrDeadlineExceeded
		}
		p.mu.Lock()
		if p.rclosed {
			p.mu.Unlock()
			return n, io.ErrClosedPipe
		}
		for n < len(b) && p.held < memPipeLimit {
			last := len(p.chunks) - 1
			if last < 0 || len(p.chunks[last]) == cap(p.chunks[last]) {
				p.chunks = append(p.chunks, (*p.pool.Get().(*[]byte))[:0])
				last++
			}
			ch := p.chunks[last]
			k := copy(ch[len(ch):cap(ch)], b[n:min(len(b), n+memPipeLimit-p.held)])
			p.chunks[last] = ch[:len(ch)+k]
			n += k
			p.held += k
		}
		if n > 0 {
			p.notify()
		}
		if n == len(b) {
			p.mu.Unlock()
			return n, nil
		}
		changed := p.changed
		p.mu.Unlock()
		select {
		case <-changed:
		case <-c.writeDL.wait():
		case <-c.done:
		}
	}
}

func (c *memConn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Close closes this end: the other reads what was written, then EOF, and
// its writes fail.
func (c *memConn) Close() error {
	first := false
	c.doneOnce.Do(func() {
		first = true
		close(c.done)
	})
	if !first {
		return net.ErrClosed
	}
	c.out.mu.Lock()
	c.out.wclosed = true
	c.out.notify()
	c.out.mu.Unlock()
	c.in.mu.Lock()
	c.in.rclosed = true
	for _, ch := range c.in.chunks {
		buf := ch[:0]
		c.in.pool.Put(&buf)
	}
	c.in.chunks, c.in.off, c.in.held = nil, 0, 0
	c.in.notify()
	c.in.mu.Unlock()
	return nil
}

func (c *memConn) LocalAddr() net.Addr  { return pipeAddr{} }
func (c *memConn) RemoteAddr() net.Addr { return pipeAddr{} }

func (c *memConn) SetDeadline(t time.Time) error {
	c.readDL.set(t)
	c.writeDL.set(t)
	return nil
}

func (c *memConn) SetReadDeadline(t time.Time) error  { c.readDL.set(t); return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { c.writeDL.set(t); return nil }

// deadline is a settable point in time with a channel closed when it
// passes (net/http aborts a blocked read by setting one in the past).
type deadline struct {
	mu     sync.Mutex
	timer  *time.Timer
	passed chan struct{}
}

func newDeadline() *deadline { return &deadline{passed: make(chan struct{})} }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.passed // the timer fired: wait for it to close the channel
	}
	d.timer = nil
	closed := isClosed(d.passed)
	if t.IsZero() {
		if closed {
			d.passed = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if closed {
			d.passed = make(chan struct{})
		}
		ch := d.passed
		d.timer = time.AfterFunc(dur, func() { close(ch) })
		return
	}
	if !closed {
		close(d.passed)
	}
}

func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.passed
}

func (d *deadline) expired() bool { return isClosed(d.wait()) }

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
