package awsauth

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

func TestResolveEndpoint(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		cfg              aws.Config
		endpoint, region string
	}{
		{aws.Config{}, "https://sts.amazonaws.com", "us-east-1"},
		{aws.Config{Region: "eu-west-1"}, "https://sts.eu-west-1.amazonaws.com", "eu-west-1"},
		{aws.Config{Region: "us-east-1"}, "https://sts.us-east-1.amazonaws.com", "us-east-1"},
		{aws.Config{Region: "cn-north-1"}, "https://sts.cn-north-1.amazonaws.com.cn", "cn-north-1"},
		{aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String("http://127.0.0.1:5000")}, "http://127.0.0.1:5000", "eu-west-1"},
		{aws.Config{BaseEndpoint: aws.String("http://127.0.0.1:5000")}, "http://127.0.0.1:5000", "us-east-1"},
	} {
		ep, reg, err := ResolveEndpoint(ctx, c.cfg)
		if err != nil || ep != c.endpoint || reg != c.region {
			t.Errorf("%+v: %s %s %v; want %s %s", c.cfg.Region, ep, reg, err, c.endpoint, c.region)
		}
	}
	// The SDK's own per-service setting.
	t.Setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5001")
	t.Setenv("AWS_REGION", "ap-south-1")
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ep, reg, err := ResolveEndpoint(ctx, cfg); err != nil || ep != "http://127.0.0.1:5001" || reg != "ap-south-1" {
		t.Fatalf("with AWS_ENDPOINT_URL_STS: %s %s %v", ep, reg, err)
	}
}
