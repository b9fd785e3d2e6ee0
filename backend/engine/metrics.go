package engine

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// countRequests adds strata_aws_requests_total{service, operation}: one per
// API call the engines make (retries of a call are not counted again). It is
// how the benchmarks measure KMS and DynamoDB requests per uploaded file.
func countRequests(cfg *aws.Config, reg prometheus.Registerer) error {
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "strata_aws_requests_total",
		Help: "AWS API calls made by the storage engines, by service and operation.",
	}, []string{"service", "operation"})
	if err := reg.Register(calls); err != nil {
		return err
	}
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("StrataCountRequests",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				calls.WithLabelValues(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)).Inc()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
	return nil
}
