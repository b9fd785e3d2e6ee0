package provisioning

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"

	"github.com/strata-storage/strata/backend/awstest"
)

// TestUpdateWithNoChangesAnswer sends an update that changes nothing to
// UpdateStack itself, skipping Deploy's own comparison: AWS (and moto, when
// parameters are passed) refuses it with "No updates are to be performed",
// which Deploy must take as success with changed = false.
func TestUpdateWithNoChangesAnswer(t *testing.T) {
	cfn := cloudformation.NewFromConfig(awstest.Config(t))
	ctx := context.Background()
	name := awstest.Name("strata")
	// Every parameter given: moto compares the given ones with all of the
	// stack's, defaults included.
	params := map[string]string{"TableName": name + "-table", "BucketName": ""}
	o := newOptions([]Option{PollInterval(50*time.Millisecond, 200*time.Millisecond), Timeout(time.Minute)})
	first, changed, err := deploy(ctx, cfn, name, StorageTemplate(), params, nil, o)
	if err != nil || !changed {
		t.Fatalf("create: changed %v, err %v", changed, err)
	}
	o.alwaysUpdate = true
	var log bytes.Buffer
	outputs, changed, err := deploy(ctx, cfn, name, StorageTemplate(), params, &log, o)
	if err != nil {
		t.Fatalf("update: %v\n%s", err, log.String())
	}
	if changed {
		t.Errorf("changed = true, want false\n%s", log.String())
	}
	if !strings.Contains(log.String(), "no changes") {
		t.Errorf("no \"no changes\" in:\n%s", log.String())
	}
	if outputs["TableName"] != first["TableName"] || outputs["BucketName"] != first["BucketName"] {
		t.Errorf("outputs = %v, want %v", outputs, first)
	}
}

func TestIsNoUpdates(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&smithy.GenericAPIError{Code: "ValidationError", Message: "No updates are to be performed."}, true},
		{&smithy.GenericAPIError{Code: "ValidationError", Message: "Stack with id x does not exist"}, false},
		{&smithy.GenericAPIError{Code: "Throttling", Message: "No updates are to be performed."}, false},
		{errors.New("No updates are to be performed."), false},
		{nil, false},
	} {
		if got := isNoUpdates(tc.err); got != tc.want {
			t.Errorf("isNoUpdates(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if !isNotExist(&smithy.GenericAPIError{Code: "ValidationError", Message: "Stack with id strata does not exist"}) {
		t.Errorf("isNotExist does not recognise DescribeStacks' answer")
	}
}

func TestUsable(t *testing.T) {
	for status, want := range map[types.StackStatus]error{
		types.StackStatusCreateComplete:         nil,
		types.StackStatusUpdateComplete:         nil,
		types.StackStatusUpdateRollbackComplete: nil,
		types.StackStatusImportComplete:         nil,
		types.StackStatusRollbackComplete:       ErrRolledBack,
		types.StackStatusReviewInProgress:       ErrRolledBack,
		types.StackStatusCreateInProgress:       ErrBusy,
		types.StackStatusUpdateInProgress:       ErrBusy,
		types.StackStatusDeleteFailed:           ErrUnusable,
		types.StackStatusUpdateRollbackFailed:   ErrUnusable,
	} {
		name := "s"
		err := usable(&types.Stack{StackName: &name, StackStatus: status})
		if (want == nil) != (err == nil) || (want != nil && !errors.Is(err, want)) {
			t.Errorf("usable(%s) = %v, want %v", status, err, want)
		}
	}
}

func TestUpdateParams(t *testing.T) {
	tm, err := parseTemplate(ServiceTemplate())
	if err != nil {
		t.Fatal(err)
	}
	previous := map[string]string{
		"Image": "old", "AdminToken": "****", "DesiredCount": "2", "MinTasks": "3", "Gone": "x",
	}
	got := map[string]string{}
	for _, p := range updateParams(tm, map[string]string{"Image": "new"}, previous) {
		v := "previous"
		if p.UsePreviousValue == nil || !*p.UsePreviousValue {
			v = *p.ParameterValue
		}
		got[*p.ParameterKey] = v
	}
	want := map[string]string{
		"Image":      "new",      // given
		"AdminToken": "previous", // a secret: kept
		"MinTasks":   "previous", // not the default: kept
		// DesiredCount is its default: left to it. Gone is no longer declared.
	}
	if len(got) != len(want) {
		t.Errorf("updateParams = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("updateParams[%s] = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}
