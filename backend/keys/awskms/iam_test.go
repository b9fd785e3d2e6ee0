package awskms

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/strata-storage/strata/backend/awstest"
)

// TestIAMActionsCoverCalls reads this package's non-test source and checks
// that iamActions lists exactly the KMS operations it calls: methods of
// *kms.Client, and the operations behind kms.New<Operation>Paginator and
// kms.New<Waiter>Waiter.
func TestIAMActionsCoverCalls(t *testing.T) {
	awstest.CheckIAMActions[*kms.Client](t, iamActions, awstest.IAMScan{Service: "kms", MinCalls: 4})
}
