package s3blob

import "maps"

// iamActions maps every S3 operation this package calls to the IAM actions
// it needs. TestIAMActionsCoverCalls (iam_test.go) reads the package's
// source and fails when an operation is called that is missing here, or
// listed here and no longer called; the storage template's server role is
// tested against IAMActions.
//
// Actions whose names start with "s3:ListBucket" are granted on the bucket,
// all others on its objects (bucket ARN + "/*").
var iamActions = map[string][]string{
	"AbortMultipartUpload":    {"s3:AbortMultipartUpload"},
	"CompleteMultipartUpload": {"s3:PutObject"},
	"CopyObject":              {"s3:GetObject", "s3:PutObject"}, // Archive: the object onto itself
	"CreateMultipartUpload":   {"s3:PutObject"},
	"DeleteObject":            {"s3:DeleteObject"},
	"GetObject":               {"s3:GetObject"},
	"HeadBucket":              {"s3:ListBucket"},
	"HeadObject":              {"s3:GetObject"},
	"ListMultipartUploads":    {"s3:ListBucketMultipartUploads"},
	"ListObjectsV2":           {"s3:ListBucket"},
	"ListParts":               {"s3:ListMultipartUploadParts"},
	"PutObject":               {"s3:PutObject"},
	"RestoreObject":           {"s3:RestoreObject"},
	"UploadPart":              {"s3:PutObject"},
	"UploadPartCopy":          {"s3:GetObject", "s3:PutObject"},
}

// IAMActions returns, for every S3 operation a Store calls, the IAM actions
// that operation needs: what a server's role must grant (see iamActions for
// which are granted on the bucket and which on its objects).
func IAMActions() map[string][]string { return maps.Clone(iamActions) }
