package sshserve

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/strata-storage/strata/server"
	"github.com/strata-storage/strata/server/client"
)

// inProcessAPI serves the HTTP API to the SSH sessions in this process:
// each session's client dials it over connections within the process that carry the
// session's entry point (strata:Via ssh or sftp) and its client's address,
// so that its requests are authenticated, decided, limited and logged as
// every other client's, and nothing below the API knows they came over
// SSH but the entry point.
type inProcessAPI struct {
	web    string       // the server's HTTP address, for server.EntryPoint.Web
	clock  client.Clock // the clients' (nil: the system's)
	srv    *http.Server
	conns  chan net.Conn
	done   chan struct{}
	once   sync.Once
	served chan struct{}
	// chunks are the in-memory connections' buffers (*[]byte).
	chunks sync.Pool
}

func newInProcessAPI(h http.Handler, web string, clock client.Clock, log *slog.Logger) *inProcessAPI {
	a := &inProcessAPI{web: web, clock: clock, conns: make(chan net.Conn), done: make(chan struct{}), served: make(chan struct{})}
	a.chunks.New = func() any {
		b := make([]byte, 0, memChunk)
		return &b
	}
	a.srv = server.HTTPServer("", h, log)
	a.srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if e, ok := c.(*entryConn); ok {
			return server.WithEntryPoint(ctx, server.EntryPoint{Via: e.via, Secure: true, Web: a.web})
		}
		return ctx
	}
	go func() {
		defer close(a.served)
		_ = a.srv.Serve(a)
	}()
	return a
}

// entryConn is the API's end of a session's connection.
type entryConn struct {
	net.Conn
	via    string
	remote net.Addr
}

func (c *entryConn) RemoteAddr() net.Addr { return c.remote }

// LocalAddr is no socket's: the API must not take the connection for its
// private socket's.
func (c *entryConn) LocalAddr() net.Addr { return pipeAddr{} }

// client is an API client for a session: its token, its entry point, and
// remote (the SSH client's address) as the address its requests come from.
func (a *inProcessAPI) client(token, via string, remote net.Addr) (*client.Client, func()) {
	t := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			mine, theirs := memConnPair(&a.chunks)
			select {
			case a.conns <- &entryConn{Conn: theirs, via: via, remote: remote}:
				return mine, nil
			case <-a.done:
				mine.Close()
				theirs.Close()
				return nil, errors.New("the server is stopping")
			case <-ctx.Done():
				mine.Close()
				theirs.Close()
				return nil, ctx.Err()
			}
		},
		MaxIdleConnsPerHost: 8,
		// A streamed upload asks before it sends (Expect: 100-continue),
		// so that a refusal (a rate limit) leaves it whole to send again.
		// The server answers at once in this process: the wait is a
		// bound for a server too busy to, after which the body goes.
		ExpectContinueTimeout: 5 * time.Second,
		// The pipe is in memory: compression would only cost.
		DisableCompression: true,
	}
	opts := []client.Option{client.WithHTTPClient(&http.Client{Transport: t}), client.WithUserAgent("strata-ssh")}
	if a.clock != nil {
		opts = append(opts, client.WithClock(a.clock))
	}
	c, err := client.New("http://strata.ssh", token, opts...)
	if err != nil {
		panic(err) // the address is a constant
	}
	return c, t.CloseIdleConnections
}

// Accept implements net.Listener for the API's server.
func (a *inProcessAPI) Accept() (net.Conn, error) {
	select {
	case c := <-a.conns:
		return c, nil
	case <-a.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (a *inProcessAPI) Close() error {
	a.once.Do(func() { close(a.done) })
	return nil
}

// Addr implements net.Listener.
func (a *inProcessAPI) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "ssh" }

// shutdown stops serving once the requests in flight are done (or ctx
// ends).
func (a *inProcessAPI) shutdown(ctx context.Context) error {
	err := a.srv.Shutdown(ctx)
	<-a.served
	return err
}
