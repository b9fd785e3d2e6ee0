package dynamo

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/strata-storage/strata/backend/awstest"
)

// TestIAMActionsCoverCalls reads this package's non-test source and checks
// that iamActions lists exactly the DynamoDB operations it calls outside
// CreateTable: methods of *dynamodb.Client, and the operations behind
// dynamodb.New<Operation>Paginator and dynamodb.New<Waiter>Waiter.
func TestIAMActionsCoverCalls(t *testing.T) {
	awstest.CheckIAMActions[*dynamodb.Client](t, iamActions, awstest.IAMScan{
		Service:  "dynamodb",
		MinCalls: 5,
		// CreateTable's calls are not a server's: it is for tests and for
		// deployments without the CloudFormation template.
		SetupFuncs: []string{"CreateTable"},
		WaiterOps:  map[string]string{"TableExists": "DescribeTable"},
	})
}
