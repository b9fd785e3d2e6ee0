package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"

	"github.com/strata-storage/strata/backend/identity/awsauth"
	"github.com/strata-storage/strata/internal/awscreds"
	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// awsConfig loads the AWS configuration as `strata serve` does, with
// region and endpoint overrides ("" for none), reading credentials and
// region from the command's environment so that it can run in-process.
func (a *app) awsConfig(ctx context.Context, region, endpoint string) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if region == "" {
		region = a.env.Getenv("AWS_REGION")
	}
	if region == "" {
		region = a.env.Getenv("AWS_DEFAULT_REGION")
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return aws.Config{}, usagef("--aws-endpoint %q: want http(s)://host[:port]", endpoint)
		}
		opts = append(opts, config.WithBaseEndpoint(endpoint))
	}
	if id, secret := a.env.Getenv("AWS_ACCESS_KEY_ID"), a.env.Getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(id, secret, a.env.Getenv("AWS_SESSION_TOKEN"))))
	} else if p := a.env.Getenv("AWS_PROFILE"); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	// The SDK's own warnings (e.g. IMDSv1 fallbacks while it looks for
	// credentials) would only repeat what awscreds.Check says.
	opts = append(opts, config.WithLogger(logging.Nop{}))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	var noProfile config.SharedConfigProfileNotExistError
	if errors.As(err, &noProfile) {
		return aws.Config{}, usagef("AWS_PROFILE %q: no such profile in ~/.aws/config or ~/.aws/credentials", noProfile.Profile)
	}
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	return cfg, nil
}

// loginAWS logs in to the server with the caller's AWS identity: it signs
// sts:GetCallerIdentity for the server's STS endpoint, naming the server as
// the client reaches it, and exchanges it for a token. The AWS secret key
// never leaves this process. It returns the token and the ARN STS named.
func (a *app) loginAWS(ctx context.Context, anon *client.Client, name string, ttl time.Duration) (tok, arn string, err error) {
	info, err := anon.AWSLoginInfo(ctx)
	if err != nil {
		return "", "", err
	}
	id, err := awsauth.ServerID(anon.Server())
	if err != nil {
		return "", "", usagef("--server %s: %v", a.server, err)
	}
	if !slices.Contains(info.ServerIDs, id) {
		// It would be refused: a login signed for one address is good
		// at that address only.
		return "", "", usagef("%s takes AWS logins signed for %s only, not for %s: log in with --server %s, or its admin adds %s to strata serve --public-url",
			a.server, strings.Join(info.ServerIDs, ", "), id, info.ServerIDs[0], id)
	}
	cfg, err := a.awsConfig(ctx, "", "")
	if err != nil {
		return "", "", err
	}
	if err := awscreds.Check(ctx, cfg); err != nil {
		return "", "", err
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return "", "", &awscreds.NoCredentialsError{Reason: err.Error()}
	}
	req, err := awsauth.Sign(ctx, creds, info.STSEndpoint, info.Region, id, time.Now())
	if err != nil {
		return "", "", err
	}
	res, err := anon.LoginAWS(ctx, api.AWSLoginRequest{Method: req.Method, URL: req.URL, Headers: req.Headers, Body: req.Body,
		Name: name, ExpiresIn: int64(ttl / time.Second)})
	if errors.Is(err, client.ErrUnauthorized) {
		return "", "", fmt.Errorf("%w: is your AWS identity mapped to a user? An admin maps it with 'strata admin user add-aws-identity USER ARN'; the server's log says why it refused", err)
	}
	if err != nil {
		return "", "", err
	}
	return res.Secret, res.ARN, nil
}

// awsLoginVerifier sets up the verification of AWS logins for strata serve
// listening at addr: nil (with why) when it has no address to be named by.
func (a *app) awsLoginVerifier(ctx context.Context, o serveOpts, addr net.Addr, scheme string) (*awsauth.Verifier, string, error) {
	explicit := len(o.publicURLs) > 0 || o.stsEndpoint != ""
	ids := o.publicURLs
	for _, u := range ids {
		if _, err := awsauth.ServerID(u); err != nil {
			return nil, "", usagef("--public-url %v", err)
		}
	}
	if len(ids) == 0 {
		ids = listenURLs(o.listen, addr, scheme)
	}
	if len(ids) == 0 {
		return nil, "--listen names no host: set --public-url to the address clients use", nil
	}
	endpoint, region := o.stsEndpoint, o.awsRegion
	if endpoint == "" || region == "" {
		cfg, err := a.awsConfig(ctx, o.awsRegion, "")
		if err != nil {
			if explicit {
				return nil, "", fmt.Errorf("AWS logins: %w", err)
			}
			return nil, fmt.Sprintf("no AWS configuration to find the STS endpoint in (%v): set --sts-endpoint", err), nil
		}
		if endpoint == "" {
			if endpoint, region, err = awsauth.ResolveEndpoint(ctx, cfg); err != nil {
				return nil, "", fmt.Errorf("AWS logins: %w", err)
			}
		}
		if region == "" {
			region = cfg.Region
		}
		if region == "" {
			region = awsauth.GlobalRegion
		}
	}
	v, err := awsauth.NewVerifier(awsauth.Config{Endpoint: endpoint, Region: region, ServerIDs: ids})
	if err != nil {
		return nil, "", usagef("AWS logins: %v (--sts-endpoint, --aws-region, --public-url)", err)
	}
	return v, "", nil
}

// listenURLs are the addresses a server listening at addr (--listen
// listen) is reached by, as far as the listen address tells: none when it
// listens on every interface.
func listenURLs(listen string, addr net.Addr, scheme string) []string {
	host, _, err := net.SplitHostPort(listen)
	tcp, ok := addr.(*net.TCPAddr)
	if err != nil || !ok {
		return nil
	}
	port := strconv.Itoa(tcp.Port)
	at := func(h string) string { return scheme + "://" + net.JoinHostPort(h, port) }
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		return nil
	}
	out := []string{at(host)}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() || host == "localhost" {
		for _, alias := range []string{"localhost", "127.0.0.1", "::1"} {
			if alias != host {
				out = append(out, at(alias))
			}
		}
	}
	return out
}
