package awsauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/strata-storage/strata/internal/clip"
	"github.com/strata-storage/strata/internal/lazyregexp"
)

// Config sets a Verifier up.
type Config struct {
	// Endpoint is the STS endpoint every request is sent to, and which
	// clients must sign for: http(s)://host[:port].
	Endpoint string
	// Region is the region clients sign for: the endpoint's.
	Region string
	// ServerIDs are the addresses clients reach this server by (in any
	// form ServerID takes): a request must name one of them.
	ServerIDs []string
	// HTTPClient sends the requests to STS; nil means one that gives up
	// after 15 seconds. Redirects are never followed.
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier checks signed GetCallerIdentity requests with STS.
type Verifier struct {
	endpoint *url.URL
	region   string
	ids      []string
	hc       *http.Client
	now      func() time.Time
}

// NewVerifier checks cfg and returns its Verifier.
func NewVerifier(cfg Config) (*Verifier, error) {
	ep, err := endpointURL(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if !regionRE().MatchString(cfg.Region) {
		return nil, fmt.Errorf("STS region %q: want a region name such as us-east-1", clip.Text(cfg.Region))
	}
	if len(cfg.ServerIDs) == 0 {
		return nil, errors.New("no server ID: AWS logins need the address clients reach the server by")
	}
	v := &Verifier{endpoint: ep, region: cfg.Region, now: cfg.Now}
	for _, s := range cfg.ServerIDs {
		id, err := ServerID(s)
		if err != nil {
			return nil, fmt.Errorf("server ID %w", err)
		}
		if !slices.Contains(v.ids, id) {
			v.ids = append(v.ids, id)
		}
	}
	if v.now == nil {
		v.now = time.Now
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	// Copied, so the caller's client keeps its own redirect policy: a
	// redirect from "STS" would send the signed request elsewhere.
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	v.hc = &c
	return v, nil
}

// Endpoint is the STS endpoint clients sign for.
func (v *Verifier) Endpoint() string { return v.endpoint.String() }

// Region is the region clients sign for.
func (v *Verifier) Region() string { return v.region }

// ServerIDs are the server IDs a request may name.
func (v *Verifier) ServerIDs() []string { return slices.Clone(v.ids) }

// Caller is who signed a request, as STS answered.
type Caller struct {
	ARN     string
	Account string
	UserID  string
	// AccessKeyID is the key the request was signed with.
	AccessKeyID string
	// Digest identifies the signed request (a hash of its key and
	// signature), so that it can be used only once; Signed is its
	// X-Amz-Date.
	Digest string
	Signed time.Time
}

var (
	regionRE    = lazyregexp.New(`^[a-z]{2}(-[a-z0-9]+)+$`)
	keyIDRE     = lazyregexp.New(`^[A-Z0-9]{16,128}$`)
	signatureRE = lazyregexp.New(`^[0-9a-f]{64}$`)
	headerRE    = lazyregexp.New(`^[a-z0-9-]+$`)
	nonceRE     = lazyregexp.New(`^[A-Za-z0-9]{16,64}$`)
	stsCodeRE   = lazyregexp.New(`^[A-Za-z.]{1,64}$`)
)

// allowedHeaders are the headers a request may carry, canonicalized: what
// the SigV4 signer sets and what Sign adds. Anything else is refused, so
// nothing the client chose beyond these reaches STS.
var allowedHeaders = map[string]bool{
	"Authorization":                         true,
	"X-Amz-Date":                            true,
	"X-Amz-Security-Token":                  true,
	"Content-Type":                          true,
	"Content-Length":                        true, // checked, not forwarded: the body sets it
	"Host":                                  true, // checked, not forwarded: the endpoint sets it
	http.CanonicalHeaderKey(HeaderServerID): true,
	http.CanonicalHeaderKey(HeaderNonce):    true,
}

// authorization is a parsed SigV4 Authorization header.
type authorization struct {
	keyID, date, region, service string
	signed                       []string
	signature                    string
}

func parseAuthorization(h string) (authorization, error) {
	var a authorization
	rest, ok := strings.CutPrefix(h, algorithm+" ")
	if !ok {
		return a, errors.New("the Authorization header is not " + algorithm)
	}
	seen := map[string]bool{}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || seen[k] {
			return a, errors.New("malformed Authorization header")
		}
		seen[k] = true
		switch k {
		case "Credential":
			f := strings.Split(val, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return a, errors.New("malformed credential scope")
			}
			a.keyID, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			a.signed = strings.Split(val, ";")
		case "Signature":
			a.signature = val
		default:
			return a, fmt.Errorf("unexpected %q in the Authorization header", clip.Text(k))
		}
	}
	if len(seen) != 3 || !keyIDRE().MatchString(a.keyID) || !signatureRE().MatchString(a.signature) {
		return a, errors.New("malformed Authorization header")
	}
	for _, s := range a.signed {
		if !headerRE().MatchString(s) {
			return a, errors.New("malformed SignedHeaders")
		}
	}
	return a, nil
}

// KeyID is the access key ID a request says it was signed with ("" if it
// says none), before anything is verified: what failed logins are counted
// by.
func KeyID(r Request) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, "Authorization") {
			if a, err := parseAuthorization(v); err == nil {
				return a.keyID
			}
		}
	}
	return ""
}

// checked is a request that passed every check before STS.
type checked struct {
	headers http.Header // to forward
	auth    authorization
	signed  time.Time
}

// check refuses anything but a fresh GetCallerIdentity, signed for this
// server and for the configured endpoint. It sends nothing anywhere.
func (v *Verifier) check(r Request) (checked, error) {
	var c checked
	if r.Method != http.MethodPost {
		return c, refusedf("method %q: only POST", clip.Text(r.Method))
	}
	u, err := url.Parse(r.URL)
	if err != nil || u.Scheme != v.endpoint.Scheme || !strings.EqualFold(u.Host, v.endpoint.Host) ||
		strings.TrimRight(u.EscapedPath(), "/") != strings.TrimRight(v.endpoint.EscapedPath(), "/") ||
		u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil {
		// The URL is only ever compared: requests go to the endpoint.
		return c, refusedf("signed for %q, not this server's STS endpoint %s", clip.Text(r.URL), v.endpoint)
	}
	if len(r.Body) > maxBody {
		return c, refusedf("body of %d bytes", len(r.Body))
	}
	if err := checkBody(r.Body); err != nil {
		return c, refusedf("%v", err)
	}
	c.headers = http.Header{}
	var authz string
	present := map[string]bool{}
	for k, val := range r.Headers {
		ck := http.CanonicalHeaderKey(k)
		if !allowedHeaders[ck] {
			return c, refusedf("header %q is not allowed", clip.Text(k))
		}
		if present[ck] {
			return c, refusedf("header %s twice", ck)
		}
		present[ck] = true
		if len(val) > 8192 || strings.ContainsFunc(val, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) {
			return c, refusedf("header %s: bad value", ck)
		}
		switch ck {
		case "Authorization":
			authz = val
		case "Host":
			if !strings.EqualFold(val, v.endpoint.Host) {
				return c, refusedf("Host %q is not this server's STS endpoint", clip.Text(val))
			}
		case "Content-Length":
			if val != fmt.Sprint(len(r.Body)) {
				return c, refusedf("Content-Length %q is not the body's", clip.Text(val))
			}
		case "Content-Type":
			mt, params, err := mime.ParseMediaType(val)
			if err != nil || mt != "application/x-www-form-urlencoded" || len(params) > 1 ||
				(len(params) == 1 && !strings.EqualFold(params["charset"], "utf-8")) {
				return c, refusedf("Content-Type %q: want application/x-www-form-urlencoded", clip.Text(val))
			}
			c.headers.Set(ck, val)
		case http.CanonicalHeaderKey(HeaderNonce):
			if !nonceRE().MatchString(val) {
				return c, refusedf("%s %q: want 16 to 64 letters and digits", HeaderNonce, clip.Text(val))
			}
			c.headers.Set(ck, val)
		default:
			c.headers.Set(ck, val)
		}
	}
	for _, need := range []string{"Authorization", "X-Amz-Date", "Content-Type", http.CanonicalHeaderKey(HeaderServerID)} {
		if !present[need] {
			return c, refusedf("no %s header", need)
		}
	}
	a, err := parseAuthorization(authz)
	if err != nil {
		return c, refusedf("%v", err)
	}
	c.auth = a
	if a.service != stsService || a.region != v.region {
		return c, refusedf("signed for service %q in %q, not sts in %s", clip.Text(a.service), clip.Text(a.region), v.region)
	}
	// Every header that reaches STS is signed, so none can be swapped in
	// by whoever relays the request; and every signed one reaches it.
	signed := map[string]bool{}
	for _, s := range a.signed {
		signed[s] = true
	}
	for _, need := range []string{"host", "x-amz-date", strings.ToLower(HeaderServerID)} {
		if !signed[need] {
			return c, refusedf("%s is not among the signed headers", need)
		}
	}
	for k := range c.headers {
		if !signed[strings.ToLower(k)] {
			return c, refusedf("%s is not signed", k)
		}
	}
	for s := range signed {
		if s != "host" && s != "content-length" && c.headers.Get(s) == "" {
			return c, refusedf("signed header %s is missing", s)
		}
	}
	c.headers.Set("Authorization", authz)
	date := c.headers.Get("X-Amz-Date")
	t, err := time.Parse(amzDate, date)
	if err != nil || !strings.HasPrefix(date, a.date) || len(a.date) != 8 {
		return c, refusedf("X-Amz-Date %q does not match the credential scope", clip.Text(date))
	}
	if age := v.now().Sub(t); age > MaxAge || age < -MaxAge {
		return c, refusedf("signed at %s, more than %s from now", t.Format(time.RFC3339), MaxAge)
	}
	c.signed = t
	id, err := ServerID(c.headers.Get(HeaderServerID))
	if err != nil || !slices.Contains(v.ids, id) {
		return c, refusedf("signed for server %q, which is not this one (%s)", clip.Text(c.headers.Get(HeaderServerID)), strings.Join(v.ids, ", "))
	}
	return c, nil
}

// checkBody requires exactly GetCallerIdentity: two parameters, each once,
// in plain characters (nothing STS could decode differently).
func checkBody(body string) error {
	if strings.ContainsFunc(body, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '=' || r == '&' || r == '-')
	}) {
		return errors.New("the body is not a plain GetCallerIdentity request")
	}
	q, err := url.ParseQuery(body)
	if err != nil || len(q) != 2 || len(q["Action"]) != 1 || len(q["Version"]) != 1 {
		return errors.New("the body is not a GetCallerIdentity request")
	}
	if q.Get("Action") != "GetCallerIdentity" || q.Get("Version") != "2011-06-15" {
		return fmt.Errorf("action %q (version %q): only GetCallerIdentity", clip.Text(q.Get("Action")), clip.Text(q.Get("Version")))
	}
	return nil
}

// Verify checks r and has STS say who signed it. A request refused here or
// by STS is ErrRefused; STS out of reach is ErrUnavailable.
func (v *Verifier) Verify(ctx context.Context, r Request) (Caller, error) {
	c, err := v.check(r)
	if err != nil {
		return Caller{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.endpoint.String(), strings.NewReader(r.Body))
	if err != nil {
		return Caller{}, err
	}
	req.Host = v.endpoint.Host
	req.Header = c.headers
	resp, err := v.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Caller{}, ctx.Err()
		}
		return Caller{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Caller{}, fmt.Errorf("%w: reading its answer: %w", ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return Caller{}, stsError(resp.StatusCode, body)
	}
	var ans struct {
		Result struct {
			Arn     string `xml:"Arn"`
			UserID  string `xml:"UserId"`
			Account string `xml:"Account"`
		} `xml:"GetCallerIdentityResult"`
	}
	if err := xml.Unmarshal(body, &ans); err != nil || ans.Result.Arn == "" {
		return Caller{}, fmt.Errorf("%w: STS answered 200 without a caller identity", ErrUnavailable)
	}
	// The signature alone does not name the key (SigV4 signs with the
	// secret only): two keys could sign alike.
	sum := sha256.Sum256([]byte(c.auth.keyID + "/" + c.auth.signature))
	return Caller{ARN: ans.Result.Arn, Account: ans.Result.Account, UserID: ans.Result.UserID,
		AccessKeyID: c.auth.keyID, Digest: hex.EncodeToString(sum[:]), Signed: c.signed}, nil
}

// stsError classifies STS's refusal by its error code only: its message
// may quote the canonical request, signed session token included.
func stsError(status int, body []byte) error {
	var e struct {
		Error struct {
			Code string `xml:"Code"`
		} `xml:"Error"`
	}
	_ = xml.Unmarshal(body, &e)
	code := e.Error.Code
	if !stsCodeRE().MatchString(code) {
		code = "?"
	}
	switch {
	case status >= 500, status == http.StatusTooManyRequests, strings.Contains(code, "Throttl"), code == "RequestLimitExceeded":
		return fmt.Errorf("%w: STS answered %d (%s)", ErrUnavailable, status, code)
	}
	return refusedf("STS answered %d (%s)", status, code)
}
