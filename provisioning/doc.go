// Package provisioning holds the CloudFormation templates that run Strata on
// AWS, and the code that deploys them.
//
// There are two stacks. The storage stack (templates/storage.json, usually
// named "strata") holds what Strata's data lives in and must outlive any
// server: the S3 bucket, the DynamoDB table, the KMS key with its alias, and
// the IAM role (with an instance profile) that servers run as. It exports its
// outputs as "<stack>-<OutputName>". The service stack
// (templates/service.json, usually "strata-service") runs `strata serve` on
// ECS Fargate behind an Application Load Balancer, with CPU auto scaling, a
// CloudFront distribution for share links and CloudWatch logs, and reaches
// the storage stack's resources through those exports.
//
// Deploy creates or updates a stack and waits for it; DryRun shows what a
// deployment would do without doing it. `strata provision` drives both.
//
// The templates are JSON, not YAML, so that the tests can read them with the
// standard library alone.
package provisioning
