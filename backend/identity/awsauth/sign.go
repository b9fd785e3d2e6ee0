package awsauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Sign builds the request a client logs in with: sts:GetCallerIdentity at
// endpoint (the server's STS endpoint, which it announces), signed with
// creds for region at time at, naming serverID (ServerID of the address the
// client logs in to) in a signed X-Strata-Server-ID header.
func Sign(ctx context.Context, creds aws.Credentials, endpoint, region, serverID string, at time.Time) (Request, error) {
	if _, err := endpointURL(endpoint); err != nil {
		return Request{}, err
	}
	if region == "" {
		return Request{}, fmt.Errorf("no region to sign for")
	}
	return sign(ctx, creds, http.MethodPost, endpoint, stsBody, region, at, map[string]string{
		"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
		HeaderServerID: serverID,
		HeaderNonce:    rand.Text(),
	})
}

// sign signs any request to STS, as a client could.
func sign(ctx context.Context, creds aws.Credentials, method, target, body, region string, at time.Time, headers map[string]string) (Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, strings.NewReader(body))
	if err != nil {
		return Request{}, err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), stsService, region, at.UTC()); err != nil {
		return Request{}, fmt.Errorf("signing the STS request: %w", err)
	}
	h := make(map[string]string, len(req.Header))
	for k, vs := range req.Header {
		h[k] = strings.Join(vs, ",")
	}
	return Request{Method: method, URL: req.URL.String(), Headers: h, Body: body}, nil
}
