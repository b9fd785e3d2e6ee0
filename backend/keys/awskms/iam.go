package awskms

import "maps"

// iamActions maps every KMS operation a Service calls to the IAM actions it
// needs on the key. TestIAMActionsCoverCalls (iam_test.go) reads the
// package's source and fails when an operation is called that is missing
// here, or listed here and no longer called; the storage template's server
// role is tested against IAMActions.
var iamActions = map[string][]string{
	"Decrypt":         {"kms:Decrypt"},
	"DescribeKey":     {"kms:DescribeKey"}, // Check, KeyIDs
	"GenerateDataKey": {"kms:GenerateDataKey"},
	"ReEncrypt":       {"kms:ReEncryptFrom", "kms:ReEncryptTo"}, // Rewrap
}

// IAMActions returns, for every KMS operation a Service calls, the IAM
// actions that operation needs on the key: what a server's role must grant
// (previous keys need only kms:Decrypt, kms:ReEncryptFrom and
// kms:DescribeKey).
func IAMActions() map[string][]string { return maps.Clone(iamActions) }
