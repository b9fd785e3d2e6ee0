// Package awsauth is login with an AWS identity, as HashiCorp Vault's AWS
// auth method (iam type) and aws-iam-authenticator do it: the client signs
// an sts:GetCallerIdentity request with its own AWS credentials (Sign) and
// hands the signed request to the server, which forwards it to STS and
// learns from STS's answer who signed it (Verifier.Verify). The secret key
// never leaves the client; the server needs no AWS credentials at all.
//
// The server sends the request only to its configured STS endpoint, never
// to an address taken from the request, and only once it has checked that
// the request is exactly GetCallerIdentity, fresh (its X-Amz-Date within
// MaxAge), and signed for this server: the signed X-Strata-Server-ID header
// must name one of the server's IDs, so that a request a client signed to
// log in somewhere else cannot be replayed here.
//
// Which Strata user an AWS identity is, is identity's (the mappings admins
// set); this package only says which ARN signed.
package awsauth

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/strata-storage/strata/internal/clip"
)

// HeaderServerID names the server a signed request is meant for. It must be
// among the request's signed headers.
const HeaderServerID = "X-Strata-Server-ID"

// HeaderNonce carries a random value the client signs along, so that two
// logins with the same credentials in the same second are two requests,
// not one used twice. Optional; when sent it must be signed.
const HeaderNonce = "X-Strata-Login-Nonce"

// MaxAge bounds how far a request's X-Amz-Date may be from the server's
// clock, either way: STS's own limit for a signature.
const MaxAge = 15 * time.Minute

// The one request a client may have STS answer.
const (
	stsService = "sts"
	stsBody    = "Action=GetCallerIdentity&Version=2011-06-15"
	algorithm  = "AWS4-HMAC-SHA256"
	amzDate    = "20060102T150405Z"
	// maxBody bounds the body the server looks at (the one it accepts is
	// 43 bytes).
	maxBody = 1024
)

// GlobalEndpoint is STS's global endpoint, which signs in us-east-1: the
// endpoint when no region is configured.
const (
	GlobalEndpoint = "https://sts.amazonaws.com"
	GlobalRegion   = "us-east-1"
)

// Request is a signed sts:GetCallerIdentity request as a client built it:
// what it hands the server to log in.
type Request struct {
	Method  string
	URL     string
	Headers map[string]string
	Body    string
}

// ErrRefused is a login that failed on what the client sent: anything
// wrong with the request, or STS refusing it. Its text (after the wrapping)
// says why, for the server log; it never carries a secret.
var ErrRefused = errors.New("AWS login refused")

// ErrUnavailable is STS unreachable, throttling or failing: nobody's fault
// the client could fix, so not a failed login.
var ErrUnavailable = errors.New("STS unavailable")

func refusedf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrRefused}, args...)...)
}

// ServerID puts a server address in the one form both sides compare:
// scheme and host in lower case, no default port, no trailing slash. It
// refuses anything but http(s)://host[:port][/path].
func ServerID(addr string) (string, error) {
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("%q: want http(s)://host[:port][/path]", clip.Text(addr))
	}
	scheme := u.Scheme // url.Parse lowercases it
	host := strings.ToLower(u.Host)
	if p := u.Port(); (scheme == "https" && p == "443") || (scheme == "http" && p == "80") {
		host = strings.TrimSuffix(host, ":"+p)
	}
	return scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// endpointURL checks an STS endpoint setting.
func endpointURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("STS endpoint %q: want http(s)://host[:port]", clip.Text(s))
	}
	return u, nil
}
