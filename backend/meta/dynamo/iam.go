package dynamo

import "maps"

// iamActions maps every DynamoDB operation a Store calls to the IAM actions
// it needs on the table. TestIAMActionsCoverCalls (iam_test.go) reads the
// package's source and fails when an operation is called that is missing
// here, or listed here and no longer called; the storage template's server
// role is tested against IAMActions. CreateTable's own calls (CreateTable,
// UpdateTimeToLive, DescribeTable while waiting) are not a server's and are
// left out: the template creates the table.
var iamActions = map[string][]string{
	"DeleteItem":    {"dynamodb:DeleteItem"},
	"DescribeTable": {"dynamodb:DescribeTable"}, // Check
	"GetItem":       {"dynamodb:GetItem"},
	"Query":         {"dynamodb:Query"},
	// TransactWriteItems has no IAM action of its own: each item is
	// authorised as the action it is.
	"TransactWriteItems": {"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"},
	"UpdateItem":         {"dynamodb:UpdateItem"}, // Put and Add: never PutItem
}

// IAMActions returns, for every DynamoDB operation a Store calls, the IAM
// actions that operation needs on the table: what a server's role must
// grant.
func IAMActions() map[string][]string { return maps.Clone(iamActions) }
