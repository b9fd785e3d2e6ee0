// Package awscreds tells plainly when the AWS SDK has no credentials to use:
// the engines and the provisioner check them before their first request.
package awscreds

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
)

// NoCredentialsError is an AWS configuration without usable credentials.
type NoCredentialsError struct {
	// Reason is why a configured source (a profile, SSO, a web identity)
	// failed; "" when no source was configured at all.
	Reason string
}

func (e *NoCredentialsError) Error() string {
	how := "give them with AWS_PROFILE (a profile in ~/.aws/config or ~/.aws/credentials), " +
		"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an IAM role provides them (an EC2 instance profile, an ECS task role)"
	if e.Reason != "" {
		return "no usable AWS credentials (" + e.Reason + "): " + how
	}
	return "no AWS credentials: " + how
}

// Check gets cfg's credentials once (the SDK caches them), so
// that missing ones are said plainly, as a *NoCredentialsError, rather than
// by the first request with the credential chain's raw failures.
func Check(ctx context.Context, cfg aws.Config) error {
	if cfg.Credentials == nil {
		return &NoCredentialsError{}
	}
	_, err := cfg.Credentials.Retrieve(ctx)
	if err == nil || ctx.Err() != nil {
		return err
	}
	// The instance metadata service is the chain's last resort: when it
	// fails too, nothing was configured. Any other failure is a source
	// that was configured, and says why.
	var oe *smithy.OperationError
	if errors.As(err, &oe) && oe.Service() == "ec2imds" {
		return &NoCredentialsError{}
	}
	return &NoCredentialsError{Reason: err.Error()}
}
