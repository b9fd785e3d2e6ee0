package awsauth

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// ResolveEndpoint is the STS endpoint and signing region a server verifies
// logins with when none is set: what the AWS SDK would call STS at with
// cfg (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL or the shared config's
// endpoint, else the regional endpoint of cfg's region), or the global
// endpoint when cfg has no region.
func ResolveEndpoint(ctx context.Context, cfg aws.Config) (endpoint, region string, err error) {
	region = cfg.Region
	if o := sts.NewFromConfig(cfg).Options(); o.BaseEndpoint != nil && *o.BaseEndpoint != "" {
		if region == "" {
			region = GlobalRegion
		}
		return *o.BaseEndpoint, region, nil
	}
	if region == "" {
		return GlobalEndpoint, GlobalRegion, nil
	}
	ep, err := sts.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, sts.EndpointParameters{Region: aws.String(region)})
	if err != nil {
		return "", "", fmt.Errorf("the STS endpoint of region %s: %w", region, err)
	}
	return ep.URI.String(), region, nil
}
