package remote

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/strata-storage/strata/server/client"
)

// unavailableError says the server cannot be reached, in words for the
// status line and the panes rather than a Go network error ("dial unix
// /home/…/strata.sock: connect: no such file or directory"). The cause
// stays in the chain for errors.Is and As.
type unavailableError struct {
	reason string
	err    error
}

func (e *unavailableError) Error() string   { return "the server cannot be reached: " + e.reason }
func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }

func unavailable(err error) error { return &unavailableError{reason: reason(err), err: err} }

// reason says why a request did not get through.
func reason(err error) string {
	var (
		apiErr  *client.Error
		dnsErr  *net.DNSError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	switch {
	case errors.As(err, &apiErr):
		return apiErr.Error() // the server answered: it says what is wrong
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOENT):
		return "it is not running, or not at this address"
	case errors.As(err, &dnsErr):
		return "unknown host " + dnsErr.Name
	case errors.As(err, &unknown), errors.As(err, &host), errors.As(err, &invalid):
		return "its certificate is not trusted"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "it did not answer in time"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.EPIPE):
		return "the connection was dropped"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "no route to it"
	}
	return "the network failed"
}
