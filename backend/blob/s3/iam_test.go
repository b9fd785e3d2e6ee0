package s3blob

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-storage/strata/backend/awstest"
)

// TestIAMActionsCoverCalls reads this package's non-test source and checks
// that iamActions lists exactly the S3 operations it calls: a method of
// *s3.Client called anywhere, or an operation paginated by
// s3.New<Operation>Paginator.
func TestIAMActionsCoverCalls(t *testing.T) {
	awstest.CheckIAMActions[*s3.Client](t, iamActions, awstest.IAMScan{Service: "s3", MinCalls: 10})
}
