package awstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Account is the AWS account the test endpoint (moto) puts everything in.
const Account = "123456789012"

// Principal is an AWS identity on the test endpoint: what STS's
// GetCallerIdentity names for its credentials, and the credentials.
type Principal struct {
	ARN   string
	Creds aws.Credentials
}

// IAMUser makes a fresh IAM user (on path, e.g. "/" or "/div/") with an
// access key.
func IAMUser(t testing.TB, path string) Principal {
	t.Helper()
	ctx := context.Background()
	c := iam.NewFromConfig(Config(t))
	u, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(Name("user")), Path: aws.String(path)})
	if err != nil {
		t.Fatal(err)
	}
	k, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: u.User.UserName})
	if err != nil {
		t.Fatal(err)
	}
	return Principal{ARN: aws.ToString(u.User.Arn), Creds: aws.Credentials{
		AccessKeyID: aws.ToString(k.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(k.AccessKey.SecretAccessKey), Source: "awstest"}}
}

// AssumeRole assumes the role arn:aws:iam::<Account>:role/<role> as session
// and returns the session (arn:aws:sts::<Account>:assumed-role/<role>/<session>)
// with its temporary credentials.
func AssumeRole(t testing.TB, role, session string) Principal {
	t.Helper()
	out, err := sts.NewFromConfig(Config(t)).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + Account + ":role/" + role), RoleSessionName: aws.String(session)})
	if err != nil {
		t.Fatal(err)
	}
	cr := out.Credentials
	return Principal{ARN: aws.ToString(out.AssumedRoleUser.Arn), Creds: aws.Credentials{
		AccessKeyID: aws.ToString(cr.AccessKeyId), SecretAccessKey: aws.ToString(cr.SecretAccessKey),
		SessionToken: aws.ToString(cr.SessionToken), Source: "awstest"}}
}
