package provisioning_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/engine"
	"github.com/strata-storage/strata/backend/keys"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/provisioning"
)

// cfnClient is a CloudFormation client on the test endpoint (skips the test
// without one).
func cfnClient(t *testing.T) *cloudformation.Client {
	t.Helper()
	return cloudformation.NewFromConfig(awstest.Config(t))
}

// fastPolls keeps waits short: the emulator completes stack operations at
// once, so only a wrong status would make the tests wait.
var fastPolls = []provisioning.Option{
	provisioning.PollInterval(50*time.Millisecond, 200*time.Millisecond), provisioning.Timeout(time.Minute),
}

// isMoto reports whether the endpoint is moto's server, which answers
// /moto-api/. The tests use it only to tolerate documented gaps of moto's
// CloudFormation (see below), never to skip a check on AWS.
func isMoto(t *testing.T) bool {
	t.Helper()
	resp, err := http.Get(strings.TrimSuffix(awstest.Endpoint(t), "/") + "/moto-api/")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// motoGap reports a result that differs from AWS's: on moto, where why
// explains the known gap, it is logged; anywhere else it fails.
func motoGap(t *testing.T, what, why string, got any) {
	t.Helper()
	if isMoto(t) {
		t.Logf("%s: got %+v; known moto gap: %s", what, got, why)
		return
	}
	t.Errorf("%s: got %+v", what, got)
}

// notApplied is why moto's deployed resources lack some template settings.
const notApplied = "moto's CloudFormation does not apply this property (the template unit tests check it)"

// deployStorage deploys a fresh storage stack and returns its name and
// outputs.
func deployStorage(t *testing.T, ctx context.Context, cfn *cloudformation.Client) (string, map[string]string) {
	t.Helper()
	name := awstest.Name("strata")
	var log bytes.Buffer
	outputs, changed, err := provisioning.Deploy(ctx, cfn, name, provisioning.StorageTemplate(), nil, &log, fastPolls...)
	if err != nil {
		t.Fatalf("Deploy: %v\n%s", err, log.String())
	}
	if !changed {
		t.Errorf("first Deploy: changed = false")
	}
	if !strings.Contains(log.String(), "CREATE_COMPLETE") {
		t.Errorf("progress does not show CREATE_COMPLETE:\n%s", log.String())
	}
	fixMotoKeyPolicy(t, ctx, outputs["KeyArn"])
	return name, outputs
}

// fixMotoKeyPolicy works around a moto 5.2 bug: a key that CloudFormation
// creates keeps its KeyPolicy as a JSON object instead of a string, and
// every later KMS call that checks the policy (DescribeKey, GenerateDataKey,
// ...) fails with a 500. Putting the same policy back as a string repairs
// it. On AWS nothing is done.
func fixMotoKeyPolicy(t *testing.T, ctx context.Context, keyArn string) {
	t.Helper()
	if !isMoto(t) {
		return
	}
	parts := strings.Split(keyArn, ":")
	if len(parts) < 6 {
		t.Fatalf("KeyArn %q is not an ARN", keyArn)
	}
	policy := `{"Version":"2012-10-17","Id":"strata-master-key","Statement":[{"Sid":"AccountAdministersTheKey","Effect":"Allow",` +
		`"Principal":{"AWS":"arn:` + parts[1] + `:iam::` + parts[4] + `:root"},"Action":"kms:*","Resource":"*"}]}`
	if _, err := awstest.KMS(t).PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{
		KeyId: aws.String(keyArn), PolicyName: aws.String("default"), Policy: aws.String(policy),
	}); err != nil {
		t.Fatalf("PutKeyPolicy (moto workaround): %v", err)
	}
}

func TestDeployStorageStack(t *testing.T) {
	cfn := cfnClient(t)
	ctx := context.Background()
	name, outputs := deployStorage(t, ctx, cfn)
	t.Logf("outputs: %v", outputs)

	st, err := provisioning.ParseStorageOutputs(outputs)
	if err != nil {
		t.Fatal(err)
	}
	if st.TableName != name {
		t.Errorf("TableName = %q, want the stack name %q", st.TableName, name)
	}
	if st.KeyAlias != "alias/"+name {
		t.Errorf("KeyAlias = %q, want alias/%s", st.KeyAlias, name)
	}
	if st.Region != awstest.Region {
		t.Errorf("Region = %q, want %q", st.Region, awstest.Region)
	}
	for _, k := range []string{"KeyArn", "RoleArn", "InstanceProfileArn"} {
		if !strings.HasPrefix(outputs[k], "arn:") {
			t.Errorf("%s = %q, want an ARN", k, outputs[k])
		}
	}

	// The bucket.
	if _, err := awstest.S3(t).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(st.BucketName)}); err != nil {
		t.Errorf("HeadBucket(%s): %v", st.BucketName, err)
	}
	enc, err := awstest.S3(t).GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(st.BucketName)})
	if err != nil {
		t.Errorf("GetBucketEncryption: %v", err)
	} else if r := enc.ServerSideEncryptionConfiguration.Rules; len(r) != 1 || r[0].ApplyServerSideEncryptionByDefault == nil ||
		r[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm != "aws:kms" ||
		aws.ToString(r[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != st.KeyArn {
		t.Errorf("bucket encryption = %+v, want aws:kms with %s", r, st.KeyArn)
	}

	// The table.
	ddb := awstest.DynamoDB(t)
	dt, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(st.TableName)})
	if err != nil {
		t.Fatalf("DescribeTable(%s): %v", st.TableName, err)
	}
	ks := dt.Table.KeySchema
	if len(ks) != 2 || aws.ToString(ks[0].AttributeName) != "pk" || ks[0].KeyType != ddbtypes.KeyTypeHash ||
		aws.ToString(ks[1].AttributeName) != "sk" || ks[1].KeyType != ddbtypes.KeyTypeRange {
		t.Errorf("key schema = %+v, want pk HASH, sk RANGE", ks)
	}
	for _, ad := range dt.Table.AttributeDefinitions {
		if ad.AttributeType != ddbtypes.ScalarAttributeTypeS {
			t.Errorf("attribute %s is %s, want S", aws.ToString(ad.AttributeName), ad.AttributeType)
		}
	}
	if dt.Table.BillingModeSummary == nil || dt.Table.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
		t.Errorf("billing mode = %+v, want PAY_PER_REQUEST", dt.Table.BillingModeSummary)
	}
	// moto 5.2 creates tables from CloudFormation without applying
	// TimeToLiveSpecification or PointInTimeRecoverySpecification, and reads
	// SSESpecification's API field name (Enabled) instead of
	// CloudFormation's (SSEEnabled). TestStorageTable checks the template
	// for all three; here moto's gaps are logged, anything else fails.
	if sse := dt.Table.SSEDescription; sse == nil || sse.Status != ddbtypes.SSEStatusEnabled ||
		aws.ToString(sse.KMSMasterKeyArn) != st.KeyArn {
		motoGap(t, "table encryption with the stack's key", notApplied, sse)
	}
	ttl, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(st.TableName)})
	if err != nil {
		t.Errorf("DescribeTimeToLive: %v", err)
	} else if d := ttl.TimeToLiveDescription; d == nil || d.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != "ttl" {
		motoGap(t, "TTL on the attribute ttl", notApplied, d)
	}
	cb, err := ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(st.TableName)})
	if err != nil {
		t.Errorf("DescribeContinuousBackups: %v", err)
	} else if d := cb.ContinuousBackupsDescription; d == nil || d.PointInTimeRecoveryDescription == nil ||
		d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus != ddbtypes.PointInTimeRecoveryStatusEnabled {
		motoGap(t, "point-in-time recovery", notApplied, d.PointInTimeRecoveryDescription)
	}

	// The key and its alias.
	kc := awstest.KMS(t)
	dk, err := kc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(st.KeyArn)})
	if err != nil {
		t.Fatalf("DescribeKey(%s): %v", st.KeyArn, err)
	}
	if !dk.KeyMetadata.Enabled {
		t.Errorf("key %s is not enabled", st.KeyArn)
	}
	da, err := kc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(st.KeyAlias)})
	if err != nil {
		t.Fatalf("DescribeKey(%s): %v", st.KeyAlias, err)
	}
	if aws.ToString(da.KeyMetadata.Arn) != st.KeyArn {
		t.Errorf("%s names %s, want %s", st.KeyAlias, aws.ToString(da.KeyMetadata.Arn), st.KeyArn)
	}
	rot, err := kc.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(st.KeyArn)})
	if err != nil {
		t.Errorf("GetKeyRotationStatus: %v", err)
	} else if !rot.KeyRotationEnabled {
		t.Errorf("key rotation is off")
	}

	// The exports the service stack imports.
	exports := map[string]string{}
	pg := cloudformation.NewListExportsPaginator(cfn, &cloudformation.ListExportsInput{})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListExports: %v", err)
		}
		for _, e := range page.Exports {
			exports[aws.ToString(e.Name)] = aws.ToString(e.Value)
		}
	}
	for k, v := range outputs {
		if got := exports[name+"-"+k]; got != v {
			t.Errorf("export %s-%s = %q, want %q", name, k, got, v)
		}
	}

	// Again: nothing changes.
	var log bytes.Buffer
	again, changed, err := provisioning.Deploy(ctx, cfn, name, provisioning.StorageTemplate(), nil, &log, fastPolls...)
	if err != nil {
		t.Fatalf("second Deploy: %v\n%s", err, log.String())
	}
	if changed {
		t.Errorf("second Deploy: changed = true\n%s", log.String())
	}
	if !strings.Contains(log.String(), "no changes") {
		t.Errorf("second Deploy does not say \"no changes\":\n%s", log.String())
	}
	for k, v := range outputs {
		if again[k] != v {
			t.Errorf("second Deploy: output %s = %q, want %q", k, again[k], v)
		}
	}
}

func TestDeployUpdatesAChangedTemplate(t *testing.T) {
	cfn := cfnClient(t)
	ctx := context.Background()
	name, outputs := deployStorage(t, ctx, cfn)

	// The same template with one more output: an update.
	tmpl := bytes.Replace(provisioning.StorageTemplate(), []byte(`"Outputs": {`),
		[]byte(`"Outputs": {"Extra": {"Value": {"Ref": "AWS::StackName"}},`), 1)
	var log bytes.Buffer
	got, changed, err := provisioning.Deploy(ctx, cfn, name, tmpl, nil, &log, fastPolls...)
	if err != nil {
		t.Fatalf("Deploy: %v\n%s", err, log.String())
	}
	if !changed || got["Extra"] != name {
		t.Errorf("changed = %v, Extra = %q; want true, %q\n%s", changed, got["Extra"], name, log.String())
	}
	if got["BucketName"] != outputs["BucketName"] || got["KeyArn"] != outputs["KeyArn"] {
		t.Errorf("the update replaced data resources: %v, was %v", got, outputs)
	}
	if !strings.Contains(log.String(), "UPDATE_COMPLETE") {
		t.Errorf("progress does not show UPDATE_COMPLETE:\n%s", log.String())
	}
}

func TestDeployParameters(t *testing.T) {
	cfn := cfnClient(t)
	ctx := context.Background()
	name := awstest.Name("strata")
	_, _, err := provisioning.Deploy(ctx, cfn, name, provisioning.StorageTemplate(), map[string]string{"TabelName": "x"}, nil, fastPolls...)
	var pe *provisioning.ParameterError
	if !errors.As(err, &pe) || len(pe.Unknown) != 1 || pe.Unknown[0] != "TabelName" {
		t.Errorf("unknown parameter: err = %v, want a ParameterError naming TabelName", err)
	}
	_, _, err = provisioning.Deploy(ctx, cfn, name, provisioning.ServiceTemplate(), nil, nil, fastPolls...)
	if !errors.As(err, &pe) || len(pe.Missing) == 0 {
		t.Errorf("service stack without parameters: err = %v, want a ParameterError with missing ones", err)
	} else if got := strings.Join(pe.Missing, ","); got != "AdminToken,CertificateArn,DomainName,Image,Subnets,TaskSubnets,VpcId" {
		t.Errorf("missing = %s", got)
	}
	if st, err := provisioning.StackStatus(ctx, cfn, name); err != nil || st != "" {
		t.Errorf("refused deployments left a stack: %q, %v", st, err)
	}

	// A given table name is used, and a second run without it keeps it.
	table := awstest.Name("strata-table")
	outputs, _, err := provisioning.Deploy(ctx, cfn, name, provisioning.StorageTemplate(), map[string]string{"TableName": table}, nil, fastPolls...)
	if err != nil {
		t.Fatal(err)
	}
	if outputs["TableName"] != table {
		t.Errorf("TableName = %q, want %q", outputs["TableName"], table)
	}
	var log bytes.Buffer
	outputs, changed, err := provisioning.Deploy(ctx, cfn, name, provisioning.StorageTemplate(), nil, &log, fastPolls...)
	if err != nil || changed || outputs["TableName"] != table {
		t.Errorf("second Deploy without TableName: changed %v, TableName %q, err %v; want false, %q, nil\n%s",
			changed, outputs["TableName"], err, table, log.String())
	}
}

func TestDeployRecreatesOnlyWithConsent(t *testing.T) {
	cfn := cfnClient(t)
	ctx := context.Background()
	name := awstest.Name("strata")
	// A change set of type CREATE leaves a stack in REVIEW_IN_PROGRESS,
	// which, like ROLLBACK_COMPLETE (which moto never produces), can only be
	// deleted.
	_, err := cfn.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{
		StackName: aws.String(name), ChangeSetName: aws.String("pending"), ChangeSetType: cfntypes.ChangeSetTypeCreate,
		TemplateBody: aws.String(string(provisioning.StorageTemplate())),
		Capabilities: []cfntypes.Capability{cfntypes.CapabilityCapabilityNamedIam},
	})
	if err != nil {
		t.Fatal(err)
	}
	status, err := provisioning.StackStatus(ctx, cfn, name)
	if err != nil || status != string(cfntypes.StackStatusReviewInProgress) {
		t.Fatalf("status = %q, %v; want REVIEW_IN_PROGRESS", status, err)
	}
	if !provisioning.WillCreate(status) {
		t.Errorf("WillCreate(%s) = false", status)
	}

	_, _, err = provisioning.Deploy(ctx, cfn, name, provisioning.StorageTemplate(), nil, nil, fastPolls...)
	if !errors.Is(err, provisioning.ErrRolledBack) {
		t.Fatalf("Deploy without consent: err = %v, want ErrRolledBack", err)
	}
	if !strings.Contains(err.Error(), "--recreate") {
		t.Errorf("the error does not say how to consent: %v", err)
	}

	var log bytes.Buffer
	outputs, changed, err := provisioning.Deploy(ctx, cfn, name, provisioning.StorageTemplate(), nil, &log,
		append(fastPolls, provisioning.RecreateRolledBack())...)
	if err != nil {
		t.Fatalf("Deploy with consent: %v\n%s", err, log.String())
	}
	if !changed || outputs["TableName"] != name {
		t.Errorf("changed = %v, outputs = %v", changed, outputs)
	}
	if !strings.Contains(log.String(), "deleted") {
		t.Errorf("progress does not mention the deletion:\n%s", log.String())
	}
}

func TestDryRun(t *testing.T) {
	cfn := cfnClient(t)
	ctx := context.Background()
	name := awstest.Name("strata")

	p, err := provisioning.DryRun(ctx, cfn, name, provisioning.StorageTemplate(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Action != "create" || p.Problem != "" || len(p.Template.Resources) == 0 {
		t.Errorf("plan for a new stack = %+v", p)
	}
	var text bytes.Buffer
	if err := p.Print(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"would be created", "AWS::S3::Bucket", "AWS::KMS::Key", "BucketName"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("plan does not mention %q:\n%s", want, text.String())
		}
	}
	if st, _ := provisioning.StackStatus(ctx, cfn, name); st != "" {
		t.Fatalf("DryRun created the stack (%s)", st)
	}

	if _, _, err := provisioning.Deploy(ctx, cfn, name, provisioning.StorageTemplate(), nil, nil, fastPolls...); err != nil {
		t.Fatal(err)
	}
	p, err = provisioning.DryRun(ctx, cfn, name, provisioning.StorageTemplate(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("unchanged: %q", p.ChangesNote)
	if p.Action != "update" || len(p.Changes) != 0 || !strings.Contains(p.ChangesNote, "no") {
		t.Errorf("plan for an unchanged stack: action %s, changes %+v, note %q", p.Action, p.Changes, p.ChangesNote)
	}

	// A changed template: the change set names the changed resource.
	changed := bytes.Replace(provisioning.StorageTemplate(), []byte(`"PendingWindowInDays": 30`), []byte(`"PendingWindowInDays": 20`), 1)
	p, err = provisioning.DryRun(ctx, cfn, name, changed, nil)
	if err != nil {
		t.Fatal(err)
	}
	text.Reset()
	_ = p.Print(&text)
	t.Logf("plan:\n%s", text.String())
	if len(p.Changes) != 1 || p.Changes[0].LogicalID != "Key" || p.Changes[0].Action != "Modify" {
		t.Errorf("changes = %+v, note %q: want Modify Key", p.Changes, p.ChangesNote)
	}
	if !strings.Contains(text.String(), "Modify") {
		t.Errorf("the printed plan does not show the change:\n%s", text.String())
	}

	// A changed parameter: the change set names the table.
	p, err = provisioning.DryRun(ctx, cfn, name, provisioning.StorageTemplate(), map[string]string{"TableName": name + "-2"})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range p.Changes {
		found = found || c.LogicalID == "Table"
	}
	if !found {
		motoGap(t, "a change set for a changed parameter", "moto's change sets diff templates only, not parameter values",
			struct{ Changes, Note any }{p.Changes, p.ChangesNote})
	}
	// The dry run leaves no change set behind.
	cs, err := cfn.ListChangeSets(ctx, &cloudformation.ListChangeSetsInput{StackName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range cs.Summaries {
		if strings.HasPrefix(aws.ToString(s.ChangeSetName), "strata-dry-run-") && aws.ToString(s.StackName) == name {
			t.Errorf("change set %s left behind", aws.ToString(s.ChangeSetName))
		}
	}
	if st, _ := provisioning.StackStatus(ctx, cfn, name); st != string(cfntypes.StackStatusCreateComplete) {
		t.Errorf("after dry runs the stack is %s, want CREATE_COMPLETE", st)
	}
}

// TestEngineOpensDeployedStorage opens Strata's engines on a deployed
// storage stack with the settings `strata provision` prints.
func TestEngineOpensDeployedStorage(t *testing.T) {
	cfn := cfnClient(t)
	ctx := context.Background()
	_, outputs := deployStorage(t, ctx, cfn)
	st, err := provisioning.ParseStorageOutputs(outputs)
	if err != nil {
		t.Fatal(err)
	}
	serve := st.Serve()
	serve.AWSEndpoint = awstest.Endpoint(t)
	// engine.Open takes credentials from the standard chain.
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	set, err := engine.Open(ctx, engine.Spec{
		Blob: serve.Blob, Meta: serve.Meta, Keys: serve.Keys, AWSEndpoint: serve.AWSEndpoint, AWSRegion: serve.AWSRegion,
	})
	if err != nil {
		t.Fatalf("engine.Open(%s): %v", serve.Command(), err)
	}
	defer set.Close()
	t.Logf("engines: %s", set.Describe)

	// A round trip through each engine.
	if err := set.Blobs.Put(ctx, "provisioning-test", strings.NewReader("sealed bytes"), 12); err != nil {
		t.Errorf("blob Put: %v", err)
	}
	if _, err := set.Blobs.Stat(ctx, "provisioning-test"); err != nil {
		t.Errorf("blob Stat: %v", err)
	}
	if _, err := set.Meta.Put(ctx, meta.Item{PK: "provisioning", SK: "test", Value: []byte("{}")}, meta.Cond{}); err != nil {
		t.Errorf("meta Put: %v", err)
	} else if it, err := set.Meta.Get(ctx, "provisioning", "test"); err != nil || string(it.Value) != "{}" {
		t.Errorf("meta Get = %q, %v", it.Value, err)
	}
	ec := keys.Context{"blob": "provisioning-test"}
	dk, err := set.Keys.GenerateDataKey(ctx, ec)
	if err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}
	if pt, err := set.Keys.Decrypt(ctx, dk.Wrapped, ec); err != nil || !bytes.Equal(pt, dk.Plaintext) {
		t.Errorf("Decrypt: %v (equal: %v)", err, bytes.Equal(pt, dk.Plaintext))
	}
}
