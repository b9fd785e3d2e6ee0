package client

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestNewRefusesAddressWithoutScheme: "host:port" is a malformed address
// (ErrInvalid) whose message shows both ways of writing it.
func TestNewRefusesAddressWithoutScheme(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:8420", "localhost:8420", "files.example.com", "ftp://x", "unix://relative"} {
		_, err := New(addr, "")
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("New(%q) = %v, want ErrInvalid", addr, err)
		}
	}
	_, err := New("127.0.0.1:8420", "")
	if err == nil || !strings.Contains(err.Error(), "http://127.0.0.1:8420") || !strings.Contains(err.Error(), "https://127.0.0.1:8420") {
		t.Errorf("New(127.0.0.1:8420): %v", err)
	}
}

// TestCertificateProblem: a server whose certificate is not trusted fails
// at once (no retry helps) with ErrCertificate and the x509 reason, not as
// an unreachable server; trusting its CA with WithRootCAs works.
func TestCertificateProblem(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes
	srv.StartTLS()
	defer srv.Close()

	c, err := New(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	err = c.Ready(context.Background())
	if !errors.Is(err, ErrCertificate) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v, want ErrCertificate and not ErrUnavailable", err)
	}
	var ua x509.UnknownAuthorityError
	if !errors.As(CertificateProblem(err), &ua) || !strings.Contains(err.Error(), "x509: certificate signed by unknown authority") ||
		strings.Contains(err.Error(), "cannot reach") {
		t.Fatalf("err = %q", err)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections: a certificate failure was retried", n)
	}

	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c, err = New(srv.URL, "", WithRootCAs(pool))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Ready(context.Background()); err != nil {
		t.Fatalf("with its CA trusted: %v", err)
	}
}

// TestUnreachableSaysWhy: a refused connection names the server and the
// reason, without Go's request wrapping.
func TestUnreachableSaysWhy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := New(addr, "", WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Ready(context.Background())
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("err = %v", err)
	}
	if msg := err.Error(); msg != "cannot reach the server "+addr+": connection refused (is the server running, on this address and port?)" {
		t.Fatalf("message %q", msg)
	}
}

// TestHTTPSToPlainServer: an https:// address of a server without TLS is
// a wrong address (ErrInvalid), said as such, and not retried.
func TestHTTPSToPlainServer(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	addr := strings.Replace(srv.URL, "http://", "https://", 1)
	c, err := New(addr, "")
	if err != nil {
		t.Fatal(err)
	}
	err = c.Ready(context.Background())
	if !errors.Is(err, ErrInvalid) || errors.Is(err, ErrUnavailable) || err.Error() != addr+" does not serve HTTPS: use "+srv.URL {
		t.Fatalf("err = %v", err)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections: retried", n)
	}
}
