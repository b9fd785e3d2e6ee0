package provisioning_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/strata-storage/strata/provisioning"
)

// fakeCFN is a CloudFormation endpoint with one stack whose first creation
// rolled back and retained its table (as storage.json's DeletionPolicy
// Retain does), and whose creation again fails because the table's name is
// taken. moto never rolls a creation back, hence the fake.
type fakeCFN struct {
	mu      sync.Mutex
	name    string
	id      string // the current stack's ID, "" when there is none
	status  string
	events  map[string][]string // stack ID -> <member> elements, newest first
	deleted map[string]bool     // IDs of deleted stacks
	calls   []string
}

func newFakeCFN(name string) *fakeCFN {
	f := &fakeCFN{name: name, events: map[string][]string{}, deleted: map[string]bool{}}
	f.id = "arn:aws:cloudformation:us-east-1:123456789012:stack/" + name + "/first"
	f.status = "ROLLBACK_COMPLETE"
	f.event(f.id, "Table", "AWS::DynamoDB::Table", name, "CREATE_COMPLETE", "")
	f.event(f.id, "Key", "AWS::KMS::Key", "k-1", "CREATE_FAILED", "Resource creation cancelled")
	f.event(f.id, "Table", "AWS::DynamoDB::Table", name, "DELETE_SKIPPED", "")
	f.event(f.id, "Key", "AWS::KMS::Key", "k-1", "DELETE_COMPLETE", "")
	return f
}

func (f *fakeCFN) event(id, logical, typ, physical, status, reason string) {
	n := len(f.events[id])
	m := fmt.Sprintf(`<member><EventId>%s-%d</EventId><StackId>%s</StackId><StackName>%s</StackName><LogicalResourceId>%s</LogicalResourceId>`+
		`<PhysicalResourceId>%s</PhysicalResourceId><ResourceType>%s</ResourceType><Timestamp>2026-01-01T00:00:%02dZ</Timestamp>`+
		`<ResourceStatus>%s</ResourceStatus><ResourceStatusReason>%s</ResourceStatusReason></member>`,
		id, n, id, f.name, logical, physical, typ, n, status, reason)
	f.events[id] = append([]string{m}, f.events[id]...)
}

func (f *fakeCFN) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	action, stack := r.Form.Get("Action"), r.Form.Get("StackName")
	f.calls = append(f.calls, action)
	reply := func(body string) {
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<%sResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></%sResponse>`,
			action, action, body, action, action)
	}
	fail := func(code, msg string) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>r</RequestId></ErrorResponse>`, code, msg)
	}
	// lookup resolves a name or ID to a stack ID and status.
	lookup := func() (string, string, bool) {
		switch {
		case f.id != "" && (stack == f.name || stack == f.id):
			return f.id, f.status, true
		case f.deleted[stack]:
			return stack, "DELETE_COMPLETE", true
		}
		return "", "", false
	}
	switch action {
	case "DescribeStacks":
		id, status, ok := lookup()
		if !ok {
			fail("ValidationError", "Stack with id "+stack+" does not exist")
			return
		}
		reply(fmt.Sprintf(`<Stacks><member><StackName>%s</StackName><StackId>%s</StackId><StackStatus>%s</StackStatus><CreationTime>2026-01-01T00:00:00Z</CreationTime></member></Stacks>`, f.name, id, status))
	case "DescribeStackEvents":
		id, _, ok := lookup()
		if !ok {
			fail("ValidationError", "Stack with id "+stack+" does not exist")
			return
		}
		reply("<StackEvents>" + strings.Join(f.events[id], "") + "</StackEvents>")
	case "DeleteStack":
		f.deleted[f.id] = true
		f.event(f.id, f.name, "AWS::CloudFormation::Stack", f.id, "DELETE_COMPLETE", "")
		f.id, f.status = "", ""
		reply("")
	case "CreateStack":
		f.id = "arn:aws:cloudformation:us-east-1:123456789012:stack/" + f.name + "/second"
		f.status = "ROLLBACK_COMPLETE"
		f.event(f.id, "Table", "AWS::DynamoDB::Table", f.name, "CREATE_FAILED",
			"Resource handler returned message: \"Resource of type 'AWS::DynamoDB::Table' with identifier '"+f.name+"' already exists.\" (HandlerErrorCode: AlreadyExists)")
		f.event(f.id, "Bucket", "AWS::S3::Bucket", "b-1", "DELETE_COMPLETE", "")
		reply("<StackId>" + f.id + "</StackId>")
	default:
		fail("InvalidAction", action)
	}
}

// TestRecreateExplainsRetainedTable: --recreate of a stack whose first
// creation left its (named) table behind says so before it deletes the
// stack, and, when the creation then fails on the name, says which
// resource holds it and how to clear it.
func TestRecreateExplainsRetainedTable(t *testing.T) {
	const name = "strata-test"
	fake := newFakeCFN(name)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cfn := cloudformation.New(cloudformation.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts := []provisioning.Option{provisioning.PollInterval(10*time.Millisecond, 20*time.Millisecond), provisioning.Timeout(time.Minute)}

	_, _, err := provisioning.Deploy(ctx, cfn, name, provisioning.StorageTemplate(), nil, nil, opts...)
	if !errors.Is(err, provisioning.ErrRolledBack) {
		t.Fatalf("Deploy without --recreate: %v, want ErrRolledBack", err)
	}

	var log bytes.Buffer
	_, _, err = provisioning.Deploy(ctx, cfn, name, provisioning.StorageTemplate(), nil, &log, append(opts, provisioning.RecreateRolledBack())...)
	t.Logf("progress:\n%s\nerror: %v", log.String(), err)
	if want := `left AWS::DynamoDB::Table "` + name + `" (Table) behind`; !strings.Contains(log.String(), want) {
		t.Errorf("progress does not say %q", want)
	}
	if strings.Contains(log.String(), `AWS::KMS::Key "k-1" (Key) behind`) {
		t.Errorf("progress names the key, which the rollback deleted")
	}
	var se *provisioning.StackError
	if !errors.As(err, &se) || !errors.Is(err, provisioning.ErrFailed) {
		t.Fatalf("re-creation on a taken name: %v, want a StackError", err)
	}
	for _, want := range []string{
		"left behind", `AWS::DynamoDB::Table "` + name + `" (Table)`,
		"aws dynamodb update-table --table-name " + name + " --no-deletion-protection-enabled",
		"--param TableName=", "--recreate",
	} {
		if !strings.Contains(se.Hint, want) || !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
}
