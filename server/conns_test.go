package server_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/strata-storage/strata/server"
)

// These tests hold many connections as a hostile client would and show
// that a normal client is still served. They wait on events only; each
// has one generous deadline, so that a server that lets clients starve
// fails the test rather than hangs it.
const connTestDeadline = 30 * time.Second

// countingListener reports each connection the server takes.
type countingListener struct {
	net.Listener
	accepted chan struct{}
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.accepted <- struct{}{}
	}
	return c, err
}

// limitedServer is the fixture's API served as `strata serve` serves it:
// server.HTTPServer on a server.LimitListener with lim.
type limitedServer struct {
	*fixture
	addr     string
	accepted chan struct{}
	// wentIdle has a value each time a connection went idle, once the
	// listener knows.
	wentIdle chan struct{}
}

func newLimitedServer(t *testing.T, maxConns int, opts ...server.LimitOption) *limitedServer {
	t.Helper()
	f := newFixture(t, server.Config{})
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := &countingListener{Listener: raw, accepted: make(chan struct{}, 8192)}
	ll := server.LimitListener(cl, maxConns, opts...)
	srv := server.HTTPServer("", f.srv.Config.Handler, slog.New(slog.DiscardHandler))
	wentIdle := make(chan struct{}, 8192)
	srv.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateIdle {
			wentIdle <- struct{}{}
		}
	}
	ll.Track(srv) // after the listener's own hook, the one above
	go func() { _ = srv.Serve(ll) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &limitedServer{fixture: f, addr: raw.Addr().String(), accepted: cl.accepted, wentIdle: wentIdle}
}

// dialFrom connects from the loopback address ip (all of 127/8 is local
// on Linux), as a distinct client.
func (s *limitedServer) dialFrom(t *testing.T, ip string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: connTestDeadline}
	c, err := d.Dial("tcp", s.addr)
	if err != nil {
		t.Skipf("cannot connect from %s (a loopback alias this system lacks?): %v", ip, err)
	}
	_ = c.SetDeadline(time.Now().Add(connTestDeadline))
	t.Cleanup(func() { c.Close() })
	return c
}

// waitAccepted waits until the server has taken n more connections.
func (s *limitedServer) waitAccepted(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(connTestDeadline)
	for range n {
		select {
		case <-s.accepted:
		case <-deadline:
			t.Fatalf("the server did not take %d connections", n)
		}
	}
}

// normalRequest is what a normal client does, from 127.0.0.1: whoami
// with its token, on a fresh connection. It returns how long it took.
func (s *limitedServer) normalRequest(t *testing.T) time.Duration {
	t.Helper()
	c := &http.Client{Timeout: connTestDeadline, Transport: &http.Transport{DisableKeepAlives: true}}
	req, _ := http.NewRequest("GET", "http://"+s.addr+"/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+s.admin)
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("a normal request was not served: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a normal request: status %d", resp.StatusCode)
	}
	return took
}

// clientIP spreads n connections over loopback addresses from 127.0.0.2,
// per at a time.
func clientIP(i, per int) string { return fmt.Sprintf("127.0.0.%d", 2+i/per) }

// TestHeldBodiesDoNotStarve: 1,024 connections that each send an
// anonymous PUT with Content-Length: 1000 and never the body used to hold
// every connection slot (the server waited for the bodies, with no
// deadline). Each is now answered 401 and closed without its body being
// read, and a normal request is served at once.
func TestHeldBodiesDoNotStarve(t *testing.T) {
	s := newLimitedServer(t, 1024)
	const n = 1024
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = s.dialFrom(t, clientIP(i, server.DefaultMaxConnsPerIP))
		if _, err := io.WriteString(conns[i], "PUT /v1/files/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	s.waitAccepted(t, n)
	took := s.normalRequest(t)
	t.Logf("a normal request took %v with %d connections holding their bodies back", took, n)
	for i, c := range conns {
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
			t.Fatalf("connection %d: status %d, close %v", i, resp.StatusCode, resp.Close)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("connection %d still open after its 401: %v", i, err)
		}
	}
}

// TestIdleKeepAlivesDoNotStarve: 1,030 keep-alive connections left idle
// after a /healthz used to hold every slot until their idle timeout. While
// all slots are taken, the connection idle the longest now makes room.
func TestIdleKeepAlivesDoNotStarve(t *testing.T) {
	s := newLimitedServer(t, 1024)
	const n, per = 1030, 61
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = s.dialFrom(t, clientIP(i, per))
	}
	// Each sends one request and reads its answer, then stays idle.
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				errs <- err
				return
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				errs <- fmt.Errorf("connection %d: %w", i, err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Close {
				errs <- fmt.Errorf("connection %d: status %d, close %v", i, resp.StatusCode, resp.Close)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	took := s.normalRequest(t)
	t.Logf("a normal request took %v with %d idle keep-alive connections", took, n)
}

// TestConnsPerIP: one address gets at most MaxConnsPerIP connections; a
// further one is closed at once unless one of the address's own is idle,
// which then makes room. Other addresses are served meanwhile.
func TestConnsPerIP(t *testing.T) {
	s := newLimitedServer(t, 100, server.MaxConnsPerIP(4))
	// Four connections of 127.0.0.2 busy sending their headers.
	for range 4 {
		c := s.dialFrom(t, "127.0.0.2")
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	s.waitAccepted(t, 4)
	fifth := s.dialFrom(t, "127.0.0.2")
	_, _ = io.WriteString(fifth, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	// Closed at once: an end of stream, or a reset (the request was
	// never read).
	if b, err := io.ReadAll(fifth); len(b) != 0 || err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("a fifth connection of one address was served: %q, %v", b, err)
	}
	s.normalRequest(t)

	// Four idle keep-alive connections of 127.0.0.3: a fifth one takes the
	// place of the one idle the longest.
	var idle []*bufio.Reader
	for range 4 {
		c := s.dialFrom(t, "127.0.0.3")
		br := bufio.NewReader(c)
		roundTrip(t, c, br, http.StatusOK)
		select {
		case <-s.wentIdle:
		case <-time.After(connTestDeadline):
			t.Fatal("a served keep-alive connection did not go idle")
		}
		idle = append(idle, br)
	}
	c := s.dialFrom(t, "127.0.0.3")
	roundTrip(t, c, bufio.NewReader(c), http.StatusOK)
	if _, err := idle[0].ReadByte(); err != io.EOF {
		t.Fatalf("the connection idle the longest: %v, want it closed", err)
	}
}

func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader, status int) {
	t.Helper()
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

// TestUnreadBodyClosesConnection: whatever answers a request before its
// body is read (a public route that takes none, a refusal) answers at once
// and closes the connection instead of waiting for the body.
func TestUnreadBodyClosesConnection(t *testing.T) {
	s := newLimitedServer(t, 10)
	for _, req := range []string{
		"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n",
		"PUT /v1/files/home/admin/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.admin + "\r\nIf-Match: nonsense\r\nContent-Length: 1000\r\n\r\n",
		"PUT /v1/files/home/admin/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + s.admin + "\r\nTransfer-Encoding: chunked\r\nIf-None-Match: x\r\n\r\n",
		"POST /v1/move HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n",
	} {
		c := s.dialFrom(t, "127.0.0.1")
		br := bufio.NewReader(c)
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%.40q: %v", req, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		if !resp.Close {
			t.Errorf("%.40q: status %d without Connection: close", req, resp.StatusCode)
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("%.40q: connection open after the answer: %v", req, err)
		}
	}
	// A body read to its end keeps the connection.
	c := s.dialFrom(t, "127.0.0.1")
	br := bufio.NewReader(c)
	for range 2 {
		fmt.Fprintf(c, "PUT /v1/files/home/admin/kept HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 5\r\n\r\nhello", s.admin)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode >= 300 || resp.Close {
			t.Fatalf("status %d, close %v", resp.StatusCode, resp.Close)
		}
	}
	if !strings.HasPrefix(s.srv.URL, "http://") {
		t.Fatal(s.srv.URL)
	}
}
