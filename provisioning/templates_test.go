package provisioning_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	s3blob "github.com/strata-storage/strata/backend/blob/s3"
	"github.com/strata-storage/strata/backend/keys/awskms"
	"github.com/strata-storage/strata/backend/meta/dynamo"
	"github.com/strata-storage/strata/provisioning"
)

// obj is a parsed JSON object.
type obj = map[string]any

func parse(t *testing.T, tmpl []byte) obj {
	t.Helper()
	var m obj
	if err := json.Unmarshal(tmpl, &m); err != nil {
		t.Fatalf("template is not JSON: %v", err)
	}
	return m
}

// get walks a path of object keys and array indexes, failing the test when
// a step is missing.
func get(t *testing.T, v any, path ...any) any {
	t.Helper()
	cur := v
	for i, step := range path {
		switch s := step.(type) {
		case string:
			m, ok := cur.(obj)
			if !ok {
				t.Fatalf("%v: not an object at %v", path, path[:i])
			}
			if cur, ok = m[s]; !ok {
				t.Fatalf("%v: no %q", path, s)
			}
		case int:
			a, ok := cur.([]any)
			if !ok || s >= len(a) {
				t.Fatalf("%v: no element %d", path, s)
			}
			cur = a[s]
		}
	}
	return cur
}

func resource(t *testing.T, tmpl obj, id string) obj {
	t.Helper()
	r, ok := get(t, tmpl, "Resources", id).(obj)
	if !ok {
		t.Fatalf("resource %s is not an object", id)
	}
	return r
}

func props(t *testing.T, tmpl obj, id string) obj {
	t.Helper()
	p, _ := resource(t, tmpl, id)["Properties"].(obj)
	return p
}

// strs reads a string or a list of strings.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	return nil
}

func ref(name string) obj         { return obj{"Ref": name} }
func getAtt(res, attr string) obj { return obj{"Fn::GetAtt": []any{res, attr}} }
func sub(s string) obj            { return obj{"Fn::Sub": s} }
func equal(a, b any) bool         { return reflect.DeepEqual(a, b) }
func show(v any) string           { b, _ := json.Marshal(v); return string(b) }
func sorted(s []string) []string  { s = slices.Clone(s); sort.Strings(s); return s }
func mapKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return sorted(ks)
}

func TestTemplatesAreJSON(t *testing.T) {
	for name, tmpl := range map[string][]byte{"storage": provisioning.StorageTemplate(), "service": provisioning.ServiceTemplate()} {
		t.Run(name, func(t *testing.T) {
			m := parse(t, tmpl)
			if m["AWSTemplateFormatVersion"] != "2010-09-09" {
				t.Errorf("AWSTemplateFormatVersion = %v", m["AWSTemplateFormatVersion"])
			}
			if d, _ := m["Description"].(string); d == "" || len(d) > 1024 {
				t.Errorf("Description must be 1 to 1024 characters, is %d", len(d))
			}
			for _, section := range []string{"Parameters", "Resources", "Outputs"} {
				if _, ok := m[section].(obj); !ok {
					t.Errorf("no %s section", section)
				}
			}
		})
	}
	// Callers get copies: changing one changes nothing.
	a := provisioning.StorageTemplate()
	a[0] = 'x'
	if provisioning.StorageTemplate()[0] == 'x' {
		t.Error("StorageTemplate returns shared bytes")
	}
	if !equal(provisioning.StorageStack("s").Template(), provisioning.StorageTemplate()) ||
		!equal(provisioning.ServiceStack("s").Template(), provisioning.ServiceTemplate()) {
		t.Error("Stack.Template does not return its kind's template")
	}
	if got := provisioning.ServiceStack("strata").Name; got != "strata-service" {
		t.Errorf("ServiceStack name = %s", got)
	}
}

func TestResourceTypesAreExpected(t *testing.T) {
	for name, tc := range map[string]struct {
		tmpl  []byte
		allow []string
	}{
		"storage": {provisioning.StorageTemplate(), []string{
			"AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::DynamoDB::Table", "AWS::KMS::Key", "AWS::KMS::Alias",
			"AWS::IAM::Role", "AWS::IAM::InstanceProfile",
		}},
		"service": {provisioning.ServiceTemplate(), []string{
			"AWS::SecretsManager::Secret", "AWS::Logs::LogGroup", "AWS::ECS::Cluster", "AWS::IAM::Role",
			"AWS::ECS::TaskDefinition", "AWS::ECS::Service", "AWS::EC2::SecurityGroup",
			"AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::ElasticLoadBalancingV2::TargetGroup",
			"AWS::ElasticLoadBalancingV2::Listener", "AWS::ApplicationAutoScaling::ScalableTarget",
			"AWS::ApplicationAutoScaling::ScalingPolicy", "AWS::CloudFront::CachePolicy", "AWS::CloudFront::Distribution",
		}},
	} {
		t.Run(name, func(t *testing.T) {
			seen := map[string]bool{}
			for id, r := range get(t, parse(t, tc.tmpl), "Resources").(obj) {
				typ, _ := r.(obj)["Type"].(string)
				seen[typ] = true
				if !slices.Contains(tc.allow, typ) {
					t.Errorf("resource %s has type %q, not in the allow-list", id, typ)
				}
			}
			for _, typ := range tc.allow {
				if !seen[typ] {
					t.Errorf("no resource of type %s", typ)
				}
			}
		})
	}
}

// statement is an IAM policy statement, normalised.
type statement struct {
	Effect    string
	Actions   []string
	Resources []any
}

func statements(t *testing.T, doc any) []statement {
	t.Helper()
	var out []statement
	for _, s := range get(t, doc, "Statement").([]any) {
		m := s.(obj)
		for _, k := range []string{"NotAction", "NotResource", "NotPrincipal"} {
			if _, ok := m[k]; ok {
				t.Errorf("statement %v uses %s", show(m), k)
			}
		}
		st := statement{Effect: fmt.Sprint(m["Effect"]), Actions: strs(m["Action"])}
		if rs, ok := m["Resource"].([]any); ok {
			st.Resources = rs
		} else {
			st.Resources = []any{m["Resource"]}
		}
		out = append(out, st)
	}
	return out
}

// serverActions derives what the server role must grant from the drivers'
// own tables of the AWS operations they call (each driver's test keeps its
// table in step with its source): every action with the resource it is
// granted on.
func serverActions() map[string][]any {
	objects, bucket := sub("${Bucket.Arn}/*"), getAtt("Bucket", "Arn")
	want := map[string][]any{}
	add := func(ops map[string][]string, on func(action string) any) {
		for _, actions := range ops {
			for _, a := range actions {
				want[a] = []any{on(a)}
			}
		}
	}
	add(s3blob.IAMActions(), func(a string) any {
		if strings.HasPrefix(a, "s3:ListBucket") { // bucket-level actions
			return bucket
		}
		return objects
	})
	add(dynamo.IAMActions(), func(string) any { return getAtt("Table", "Arn") })
	add(awskms.IAMActions(), func(string) any { return getAtt("Key", "Arn") })
	return want
}

func TestServerRoleGrantsExactlyWhatStrataCalls(t *testing.T) {
	tmpl := parse(t, provisioning.StorageTemplate())
	role := props(t, tmpl, "ServerRole")
	objects := sub("${Bucket.Arn}/*")
	want := serverActions()
	// The derivation itself: a few actions that must be there, and one
	// that must not (every write is an UpdateItem).
	for _, a := range []string{"s3:PutObject", "s3:ListBucketMultipartUploads", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem", "kms:ReEncryptTo"} {
		if _, ok := want[a]; !ok {
			t.Errorf("the drivers' IAM tables do not list %s", a)
		}
	}
	if _, ok := want["dynamodb:PutItem"]; ok {
		t.Errorf("the drivers' IAM tables list dynamodb:PutItem, which no driver calls")
	}
	got := map[string][]any{}
	policies := get(t, role, "Policies").([]any)
	if len(policies) != 1 {
		t.Fatalf("%d inline policies, want 1", len(policies))
	}
	for _, k := range []string{"ManagedPolicyArns", "PermissionsBoundary"} {
		if _, ok := role[k]; ok {
			t.Errorf("the role has %s: its permissions must all be in the one inline policy", k)
		}
	}
	for _, st := range statements(t, get(t, policies[0], "PolicyDocument")) {
		if st.Effect != "Allow" {
			t.Errorf("statement effect %s", st.Effect)
		}
		for _, a := range st.Actions {
			if strings.ContainsAny(a, "*?") {
				t.Errorf("wildcard action %q", a)
			}
			for _, r := range st.Resources {
				if s, ok := r.(string); ok && strings.Contains(s, "*") {
					t.Errorf("wildcard resource %q for %s", s, a)
				}
				if m, ok := r.(obj); ok && strings.Contains(show(m), "*") && !equal(m, objects) {
					t.Errorf("wildcard resource %s for %s: only the bucket's objects may be", show(m), a)
				}
				got[a] = append(got[a], r)
			}
		}
	}
	if !equal(mapKeys(got), mapKeys(want)) {
		t.Errorf("actions = %v\nwant      %v", mapKeys(got), mapKeys(want))
	}
	for a, rs := range want {
		if !equal(got[a], rs) {
			t.Errorf("%s on %s, want %s", a, show(got[a]), show(rs))
		}
	}

	// Who may assume it: ECS tasks (of this account) and EC2 instances.
	var principals []string
	for _, s := range get(t, role, "AssumeRolePolicyDocument", "Statement").([]any) {
		m := s.(obj)
		if m["Effect"] != "Allow" || !equal(strs(m["Action"]), []string{"sts:AssumeRole"}) {
			t.Errorf("trust statement %s", show(m))
		}
		principals = append(principals, strs(get(t, m, "Principal", "Service"))...)
	}
	if !equal(sorted(principals), []string{"ec2.amazonaws.com", "ecs-tasks.amazonaws.com"}) {
		t.Errorf("trusted principals = %v", principals)
	}
	if !equal(get(t, props(t, tmpl, "InstanceProfile"), "Roles"), []any{ref("ServerRole")}) {
		t.Errorf("the instance profile does not hold the server role")
	}
}

func TestStorageBucket(t *testing.T) {
	tmpl := parse(t, provisioning.StorageTemplate())
	b := props(t, tmpl, "Bucket")
	for _, k := range []string{"BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"} {
		if get(t, b, "PublicAccessBlockConfiguration", k) != true {
			t.Errorf("PublicAccessBlockConfiguration.%s is not true", k)
		}
	}
	enc := get(t, b, "BucketEncryption", "ServerSideEncryptionConfiguration", 0).(obj)
	if get(t, enc, "ServerSideEncryptionByDefault", "SSEAlgorithm") != "aws:kms" ||
		!equal(get(t, enc, "ServerSideEncryptionByDefault", "KMSMasterKeyID"), getAtt("Key", "Arn")) ||
		enc["BucketKeyEnabled"] != true {
		t.Errorf("bucket encryption = %s, want SSE-KMS with the stack's key and Bucket Keys", show(enc))
	}
	found := false
	for _, r := range get(t, b, "LifecycleConfiguration", "Rules").([]any) {
		m := r.(obj)
		if m["Status"] == "Enabled" && equal(m["AbortIncompleteMultipartUpload"], obj{"DaysAfterInitiation": float64(7)}) {
			found = true
		}
	}
	if !found {
		t.Errorf("no enabled lifecycle rule aborting incomplete multipart uploads after 7 days")
	}
	if v, ok := b["VersioningConfiguration"]; ok && get(t, v, "Status") == "Enabled" {
		t.Errorf("versioning is on")
	}
	// Kept when the stack is deleted or the bucket replaced, but deleted
	// when the stack's first creation rolls back (it is new and empty), so
	// that a failed first creation leaves nothing to block the next.
	if r := resource(t, tmpl, "Bucket"); r["DeletionPolicy"] != "RetainExceptOnCreate" || r["UpdateReplacePolicy"] != "Retain" {
		t.Errorf("the bucket's DeletionPolicy is %v and UpdateReplacePolicy %v, want RetainExceptOnCreate and Retain", r["DeletionPolicy"], r["UpdateReplacePolicy"])
	}

	bp := props(t, tmpl, "BucketPolicy")
	if !equal(bp["Bucket"], ref("Bucket")) {
		t.Errorf("the bucket policy is on %s", show(bp["Bucket"]))
	}
	var tlsOnly bool
	for _, s := range get(t, bp, "PolicyDocument", "Statement").([]any) {
		m := s.(obj)
		if m["Effect"] == "Deny" && m["Principal"] == "*" && equal(strs(m["Action"]), []string{"s3:*"}) &&
			equal(m["Condition"], obj{"Bool": obj{"aws:SecureTransport": "false"}}) &&
			equal(m["Resource"], []any{getAtt("Bucket", "Arn"), sub("${Bucket.Arn}/*")}) {
			tlsOnly = true
		}
	}
	if !tlsOnly {
		t.Errorf("no statement denying every request without TLS on the bucket and its objects")
	}
}

func TestStorageTable(t *testing.T) {
	tmpl := parse(t, provisioning.StorageTemplate())
	p := props(t, tmpl, "Table")
	checks := map[string][2]any{
		"BillingMode":   {p["BillingMode"], "PAY_PER_REQUEST"},
		"PITR":          {p["PointInTimeRecoverySpecification"], obj{"PointInTimeRecoveryEnabled": true}},
		"TTL":           {p["TimeToLiveSpecification"], obj{"AttributeName": "ttl", "Enabled": true}},
		"SSE":           {p["SSESpecification"], obj{"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": getAtt("Key", "Arn")}},
		"KeySchema":     {p["KeySchema"], []any{obj{"AttributeName": "pk", "KeyType": "HASH"}, obj{"AttributeName": "sk", "KeyType": "RANGE"}}},
		"AttributeDefs": {p["AttributeDefinitions"], []any{obj{"AttributeName": "pk", "AttributeType": "S"}, obj{"AttributeName": "sk", "AttributeType": "S"}}},
		"TableName":     {p["TableName"], obj{"Fn::If": []any{"TableNameGiven", ref("TableName"), ref("AWS::StackName")}}},
	}
	for what, c := range checks {
		if !equal(c[0], c[1]) {
			t.Errorf("%s = %s, want %s", what, show(c[0]), show(c[1]))
		}
	}
	for _, k := range []string{"GlobalSecondaryIndexes", "LocalSecondaryIndexes", "ProvisionedThroughput"} {
		if _, ok := p[k]; ok {
			t.Errorf("the table has %s", k)
		}
	}
	// Retain, not RetainExceptOnCreate: a rollback could not delete a table
	// with deletion protection. Deploy explains a leftover on --recreate.
	if r := resource(t, tmpl, "Table"); r["DeletionPolicy"] != "Retain" || r["UpdateReplacePolicy"] != "Retain" || p["DeletionProtectionEnabled"] != true {
		t.Errorf("the table is not retained and protected")
	}
}

func TestStorageKey(t *testing.T) {
	tmpl := parse(t, provisioning.StorageTemplate())
	k := props(t, tmpl, "Key")
	if k["EnableKeyRotation"] != true {
		t.Errorf("key rotation is off")
	}
	if r := resource(t, tmpl, "Key"); r["DeletionPolicy"] != "RetainExceptOnCreate" || r["UpdateReplacePolicy"] != "Retain" {
		t.Errorf("the key is not retained (except when its stack's first creation rolls back): deleting it loses every file")
	}
	sts := statements(t, k["KeyPolicy"])
	if len(sts) != 1 {
		t.Fatalf("key policy has %d statements, want 1", len(sts))
	}
	root := get(t, k, "KeyPolicy", "Statement", 0, "Principal", "AWS")
	if sts[0].Effect != "Allow" || !equal(sts[0].Actions, []string{"kms:*"}) ||
		!equal(root, sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")) {
		t.Errorf("key policy does not let the account administer the key: %s", show(k["KeyPolicy"]))
	}
	a := props(t, tmpl, "KeyAlias")
	if !equal(a["AliasName"], sub("alias/${AWS::StackName}")) || !equal(a["TargetKeyId"], ref("Key")) {
		t.Errorf("alias = %s", show(a))
	}
}

var storageOutputs = []string{"BucketName", "InstanceProfileArn", "KeyAlias", "KeyArn", "Region", "RoleArn", "TableName"}

func TestStorageOutputsAreExported(t *testing.T) {
	outputs := get(t, parse(t, provisioning.StorageTemplate()), "Outputs").(obj)
	if !equal(mapKeys(outputs), storageOutputs) {
		t.Errorf("outputs = %v, want %v", mapKeys(outputs), storageOutputs)
	}
	for name, o := range outputs {
		if got := get(t, o, "Export", "Name"); !equal(got, sub("${AWS::StackName}-"+name)) {
			t.Errorf("output %s is exported as %s", name, show(got))
		}
	}
}

func TestServiceImportsWhatStorageExports(t *testing.T) {
	var imports []string
	walk(parse(t, provisioning.ServiceTemplate()), func(k string, v any) {
		if k != "Fn::ImportValue" {
			return
		}
		s, _ := get(t, v, "Fn::Sub").(string)
		name, ok := strings.CutPrefix(s, "${StorageStack}-")
		if !ok {
			t.Errorf("import %s does not name a storage stack export", show(v))
		}
		imports = append(imports, name)
	})
	if len(imports) == 0 {
		t.Fatal("the service template imports nothing")
	}
	for _, name := range imports {
		if !slices.Contains(storageOutputs, name) {
			t.Errorf("the service imports %s, which the storage stack does not export", name)
		}
	}
}

// walk calls fn for every key and value of every object in v.
func walk(v any, fn func(k string, v any)) {
	switch x := v.(type) {
	case obj:
		for k, e := range x {
			fn(k, e)
			walk(e, fn)
		}
	case []any:
		for _, e := range x {
			walk(e, fn)
		}
	}
}

var pseudoParameters = []string{
	"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
	"AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

// TestReferencesResolve checks that every Ref, Fn::GetAtt, Fn::Sub
// variable, condition and DependsOn names something the template declares,
// and that every parameter and condition is used.
func TestReferencesResolve(t *testing.T) {
	for name, tmpl := range map[string][]byte{"storage": provisioning.StorageTemplate(), "service": provisioning.ServiceTemplate()} {
		t.Run(name, func(t *testing.T) {
			m := parse(t, tmpl)
			params, _ := m["Parameters"].(obj)
			resources := m["Resources"].(obj)
			conditions, _ := m["Conditions"].(obj)
			used := map[string]bool{}
			isName := func(n string) bool {
				_, p := params[n]
				_, r := resources[n]
				return p || r || slices.Contains(pseudoParameters, n)
			}
			checkRef := func(n, where string) {
				used[n] = true
				if !isName(n) {
					t.Errorf("%s names %q: no such parameter, resource or pseudo-parameter", where, n)
				}
			}
			checkAtt := func(res, where string) {
				if _, ok := resources[res]; !ok {
					t.Errorf("%s names resource %q, which does not exist", where, res)
				}
			}
			walk(m, func(k string, v any) {
				switch k {
				case "Ref":
					s, _ := v.(string)
					checkRef(s, "Ref")
				case "Fn::GetAtt":
					a := strs(v)
					if len(a) == 1 {
						a = strings.SplitN(a[0], ".", 2)
					}
					if len(a) != 2 {
						t.Errorf("Fn::GetAtt %s", show(v))
						return
					}
					checkAtt(a[0], "Fn::GetAtt")
				case "Fn::Sub":
					s, vars := "", obj{}
					switch x := v.(type) {
					case string:
						s = x
					case []any:
						s, _ = x[0].(string)
						vars, _ = x[1].(obj)
					}
					for _, mm := range subVar.FindAllStringSubmatch(s, -1) {
						n := mm[1]
						if strings.HasPrefix(n, "!") {
							continue // a literal ${...}
						}
						if _, ok := vars[n]; ok {
							continue
						}
						if res, _, ok := strings.Cut(n, "."); ok && !strings.HasPrefix(n, "AWS::") {
							checkAtt(res, "Fn::Sub ${"+n+"}")
							continue
						}
						checkRef(n, "Fn::Sub ${"+n+"}")
					}
				case "Fn::If":
					args, _ := v.([]any)
					c := ""
					if len(args) == 3 {
						c, _ = args[0].(string)
					}
					used["condition:"+c] = true
					if _, ok := conditions[c]; !ok {
						t.Errorf("Fn::If names condition %q, which does not exist", c)
					}
				case "Condition":
					if c, ok := v.(string); ok {
						used["condition:"+c] = true
						if _, ok := conditions[c]; !ok {
							t.Errorf("Condition %q does not exist", c)
						}
					}
				}
			})
			for id, r := range resources {
				for _, d := range strs(r.(obj)["DependsOn"]) {
					if _, ok := resources[d]; !ok {
						t.Errorf("%s depends on %q, which does not exist", id, d)
					}
				}
			}
			for p := range params {
				if !used[p] {
					t.Errorf("parameter %s is never used", p)
				}
			}
			for c := range conditions {
				if !used["condition:"+c] {
					t.Errorf("condition %s is never used", c)
				}
			}
		})
	}
}

func TestServiceTemplate(t *testing.T) {
	tmpl := parse(t, provisioning.ServiceTemplate())
	params := get(t, tmpl, "Parameters").(obj)
	for _, p := range []string{"Image", "VpcId", "Subnets", "TaskSubnets", "CertificateArn", "StorageStack", "DesiredCount", "MinTasks", "MaxTasks"} {
		if _, ok := params[p]; !ok {
			t.Errorf("no parameter %s", p)
		}
	}
	if get(t, params, "AdminToken", "NoEcho") != true {
		t.Errorf("AdminToken is not NoEcho")
	}
	if get(t, params, "StorageStack", "Default") != provisioning.DefaultStackName {
		t.Errorf("StorageStack does not default to %s", provisioning.DefaultStackName)
	}

	// The task.
	td := props(t, tmpl, "TaskDefinition")
	if !equal(td["RequiresCompatibilities"], []any{"FARGATE"}) || td["NetworkMode"] != "awsvpc" {
		t.Errorf("the task definition is not for Fargate")
	}
	if !equal(td["TaskRoleArn"], obj{"Fn::ImportValue": sub("${StorageStack}-RoleArn")}) {
		t.Errorf("the task role is %s, want the storage stack's", show(td["TaskRoleArn"]))
	}
	c := get(t, td, "ContainerDefinitions", 0).(obj)
	if cmd := append(strs(c["EntryPoint"]), strs(c["Command"])...); !equal(cmd, []string{"strata", "serve", "--listen", "0.0.0.0:8420", "--ssh", "0.0.0.0:2222"}) {
		t.Errorf("the container runs %v", cmd)
	}
	env := map[string]any{}
	for _, e := range c["Environment"].([]any) {
		env[e.(obj)["Name"].(string)] = e.(obj)["Value"]
	}
	imp := func(out string) obj { return obj{"Fn::ImportValue": sub("${StorageStack}-" + out)} }
	wantEnv := map[string]any{
		"STRATA_BLOB":       obj{"Fn::Sub": []any{"s3://${Bucket}", obj{"Bucket": imp("BucketName")}}},
		"STRATA_META":       obj{"Fn::Sub": []any{"dynamodb://${Table}", obj{"Table": imp("TableName")}}},
		"STRATA_KEYS":       obj{"Fn::Sub": []any{"kms://${Alias}", obj{"Alias": imp("KeyAlias")}}},
		"AWS_REGION":        ref("AWS::Region"),
		"STRATA_LOG_FORMAT": "json",
		// AWS logins are signed for the address clients use.
		"STRATA_PUBLIC_URL": sub("https://${DomainName}"),
		// Share links are made under CloudFront's address.
		"STRATA_SHARE_URL": sub("https://${Distribution.DomainName}"),
		// The file manager shows sftp and scp commands with the address
		// users reach SSH by.
		"STRATA_SSH_PUBLIC": obj{"Fn::If": []any{"HasSshDomainName", sub("${SshDomainName}:${SshPort}"), sub("${SshLoadBalancer.DNSName}:${SshPort}")}},
	}
	if !equal(env, wantEnv) {
		t.Errorf("environment = %s\nwant %s", show(env), show(wantEnv))
	}
	if !equal(c["Secrets"], []any{obj{"Name": "STRATA_ADMIN_TOKEN", "ValueFrom": ref("AdminTokenSecret")}}) {
		t.Errorf("secrets = %s", show(c["Secrets"]))
	}
	if !equal(get(t, c, "LogConfiguration", "Options", "awslogs-group"), ref("LogGroup")) {
		t.Errorf("the container does not log to the log group")
	}
	if get(t, props(t, tmpl, "AdminTokenSecret"), "SecretString") == nil {
		t.Errorf("the secret has no value")
	}

	// The load balancer.
	https, http := props(t, tmpl, "HttpsListener"), props(t, tmpl, "HttpListener")
	if https["Protocol"] != "HTTPS" || https["Port"] != float64(443) ||
		!equal(get(t, https, "Certificates", 0, "CertificateArn"), ref("CertificateArn")) ||
		!equal(get(t, https, "DefaultActions", 0, "TargetGroupArn"), ref("TargetGroup")) {
		t.Errorf("HTTPS listener = %s", show(https))
	}
	redirect := get(t, http, "DefaultActions", 0).(obj)
	if http["Port"] != float64(80) || redirect["Type"] != "redirect" || get(t, redirect, "RedirectConfig", "Protocol") != "HTTPS" {
		t.Errorf("HTTP listener does not redirect to HTTPS: %s", show(http))
	}
	tg := props(t, tmpl, "TargetGroup")
	if tg["HealthCheckPath"] != "/readyz" || tg["Port"] != float64(8420) || tg["TargetType"] != "ip" {
		t.Errorf("target group = %s", show(tg))
	}

	// The service and its scaling.
	svc := props(t, tmpl, "Service")
	if svc["LaunchType"] != "FARGATE" || !equal(svc["DesiredCount"], ref("DesiredCount")) ||
		!equal(get(t, svc, "NetworkConfiguration", "AwsvpcConfiguration", "Subnets"), ref("TaskSubnets")) ||
		!equal(get(t, props(t, tmpl, "LoadBalancer"), "Subnets"), ref("Subnets")) {
		t.Errorf("service = %s", show(svc))
	}
	st := props(t, tmpl, "ScalableTarget")
	if !equal(st["MinCapacity"], ref("MinTasks")) || !equal(st["MaxCapacity"], ref("MaxTasks")) {
		t.Errorf("scalable target = %s", show(st))
	}
	sp := props(t, tmpl, "CpuScalingPolicy")
	if sp["PolicyType"] != "TargetTrackingScaling" ||
		get(t, sp, "TargetTrackingScalingPolicyConfiguration", "PredefinedMetricSpecification", "PredefinedMetricType") != "ECSServiceAverageCPUUtilization" {
		t.Errorf("scaling policy = %s", show(sp))
	}

	// CloudFront: share downloads through it, authenticated paths never cached.
	const cachingDisabled = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
	dc := get(t, props(t, tmpl, "Distribution"), "DistributionConfig").(obj)
	origin := get(t, dc, "Origins", 0).(obj)
	if !equal(origin["DomainName"], ref("DomainName")) || get(t, origin, "CustomOriginConfig", "OriginProtocolPolicy") != "https-only" {
		t.Errorf("origin = %s, want the service's domain over HTTPS", show(origin))
	}
	if get(t, dc, "DefaultCacheBehavior", "CachePolicyId") != cachingDisabled {
		t.Errorf("the default behaviour caches")
	}
	behaviors := map[string]obj{}
	for _, b := range get(t, dc, "CacheBehaviors").([]any) {
		behaviors[b.(obj)["PathPattern"].(string)] = b.(obj)
	}
	if b, ok := behaviors["/s/*"]; !ok || !equal(b["CachePolicyId"], ref("SharesCachePolicy")) || b["TargetOriginId"] != origin["Id"] {
		t.Errorf("no /s/* behaviour with the shares cache policy: %s", show(behaviors))
	}
	// The API is reached at ServiceUrl (the load balancer): CloudFront would
	// not pass Authorization on under CachingDisabled, so no behaviour may
	// invite clients to call it through CloudFront.
	for pattern := range behaviors {
		if pattern != "/s/*" {
			t.Errorf("CloudFront has a behaviour for %s: only share links (/s/*) go through it", pattern)
		}
	}
	if !equal(get(t, tmpl, "Outputs", "ServiceUrl", "Value"), sub("https://${DomainName}")) {
		t.Errorf("ServiceUrl = %s, want the load balancer's DomainName", show(get(t, tmpl, "Outputs", "ServiceUrl", "Value")))
	}
	// ALB: a long completion must not be cut before its answer starts.
	attrs := map[string]any{}
	for _, a := range get(t, props(t, tmpl, "LoadBalancer"), "LoadBalancerAttributes").([]any) {
		attrs[a.(obj)["Key"].(string)] = a.(obj)["Value"]
	}
	if attrs["idle_timeout.timeout_seconds"] != "900" {
		t.Errorf("load balancer idle timeout %v, want 900 seconds", attrs["idle_timeout.timeout_seconds"])
	}
	cp := get(t, props(t, tmpl, "SharesCachePolicy"), "CachePolicyConfig").(obj)
	// CloudFront refuses cache policy names over 128 characters, and
	// stack names alone may have 128: the name must not grow with them.
	wantName := obj{"Fn::Join": []any{"", []any{"strata-shares-", obj{"Fn::Select": []any{float64(2), obj{"Fn::Split": []any{"/", ref("AWS::StackId")}}}}}}}
	if !equal(cp["Name"], wantName) {
		t.Errorf("cache policy name %s, want strata-shares- and the stack ID's UUID", show(cp["Name"]))
	}
	if n := len("strata-shares-") + len("1c2fa620-982a-11e3-aff7-50e2416294e0"); n > 128 {
		t.Errorf("cache policy name of %d characters", n)
	}
	if cp["DefaultTTL"] != float64(0) || get(t, cp, "ParametersInCacheKeyAndForwardedToOrigin", "HeadersConfig", "HeaderBehavior") != "whitelist" ||
		!equal(get(t, cp, "ParametersInCacheKeyAndForwardedToOrigin", "HeadersConfig", "Headers"), []any{"Authorization"}) {
		t.Errorf("shares cache policy = %s: want nothing cached unless the server says so, Authorization (a password link's Basic auth) passed on, no Host header", show(cp))
	}
}

// TestServiceSSH: the service stack serves SSH (the file manager, sftp,
// scp) through a Network Load Balancer's TCP listener on SshPort, to the
// tasks' --ssh port, health-checked on /readyz, with security group rules
// that let exactly that traffic through.
func TestServiceSSH(t *testing.T) {
	tmpl := parse(t, provisioning.ServiceTemplate())
	const sshPort = float64(2222) // the tasks' --ssh port
	if get(t, tmpl, "Parameters", "SshPort", "Default") != float64(22) {
		t.Errorf("SshPort does not default to 22")
	}

	lb := props(t, tmpl, "SshLoadBalancer")
	if lb["Type"] != "network" || lb["Scheme"] != "internet-facing" || !equal(lb["Subnets"], ref("Subnets")) ||
		!equal(lb["SecurityGroups"], []any{ref("SshLoadBalancerSecurityGroup")}) {
		t.Errorf("SSH load balancer = %s, want an internet-facing network load balancer in Subnets with its security group", show(lb))
	}
	ln := props(t, tmpl, "SshListener")
	if !equal(ln["LoadBalancerArn"], ref("SshLoadBalancer")) || ln["Protocol"] != "TCP" || !equal(ln["Port"], ref("SshPort")) ||
		get(t, ln, "DefaultActions", 0, "Type") != "forward" || !equal(get(t, ln, "DefaultActions", 0, "TargetGroupArn"), ref("SshTargetGroup")) {
		t.Errorf("SSH listener = %s, want TCP on SshPort forwarding to SshTargetGroup", show(ln))
	}
	tg := props(t, tmpl, "SshTargetGroup")
	if tg["Protocol"] != "TCP" || tg["Port"] != sshPort || tg["TargetType"] != "ip" || !equal(tg["VpcId"], ref("VpcId")) {
		t.Errorf("SSH target group = %s, want TCP to the tasks' port %v", show(tg), sshPort)
	}
	if tg["HealthCheckProtocol"] != "HTTP" || tg["HealthCheckPort"] != "8420" || tg["HealthCheckPath"] != "/readyz" {
		t.Errorf("SSH target group health check = %s, want /readyz on 8420", show(tg))
	}
	attrs := map[string]any{}
	for _, a := range tg["TargetGroupAttributes"].([]any) {
		attrs[a.(obj)["Key"].(string)] = a.(obj)["Value"]
	}
	// Password logins are limited per client address: the tasks must see it.
	if attrs["preserve_client_ip.enabled"] != "true" || attrs["deregistration_delay.connection_termination.enabled"] != "true" {
		t.Errorf("SSH target group attributes = %s", show(attrs))
	}

	// The tasks serve SSH on the port the target group sends to, and the
	// service registers them there.
	c := get(t, props(t, tmpl, "TaskDefinition"), "ContainerDefinitions", 0).(obj)
	cmd := strs(c["Command"])
	if i := slices.Index(cmd, "--ssh"); i < 0 || i+1 >= len(cmd) || cmd[i+1] != "0.0.0.0:2222" {
		t.Errorf("the container runs %v, without --ssh 0.0.0.0:2222", cmd)
	}
	if !slices.ContainsFunc(c["PortMappings"].([]any), func(m any) bool { return m.(obj)["ContainerPort"] == sshPort }) {
		t.Errorf("port mappings %s lack %v", show(c["PortMappings"]), sshPort)
	}
	svc := resource(t, tmpl, "Service")
	if !slices.Contains(strs(svc["DependsOn"]), "SshListener") {
		t.Errorf("the service does not wait for the SSH listener: %s", show(svc["DependsOn"]))
	}
	if !slices.ContainsFunc(get(t, svc, "Properties", "LoadBalancers").([]any), func(m any) bool {
		return m.(obj)["ContainerPort"] == sshPort && equal(m.(obj)["TargetGroupArn"], ref("SshTargetGroup"))
	}) {
		t.Errorf("the service does not register its tasks' SSH port with SshTargetGroup: %s", show(get(t, svc, "Properties", "LoadBalancers")))
	}

	// Security groups: SshCidr reaches the load balancer on SshPort; the
	// load balancer reaches the tasks on 2222 (SSH) and 8420 (health).
	if !equal(get(t, props(t, tmpl, "SshLoadBalancerSecurityGroup"), "SecurityGroupIngress"), []any{
		obj{"IpProtocol": "tcp", "FromPort": ref("SshPort"), "ToPort": ref("SshPort"), "CidrIp": ref("SshCidr")},
	}) {
		t.Errorf("SSH load balancer ingress = %s", show(get(t, props(t, tmpl, "SshLoadBalancerSecurityGroup"), "SecurityGroupIngress")))
	}
	ingress := get(t, props(t, tmpl, "TaskSecurityGroup"), "SecurityGroupIngress").([]any)
	for _, port := range []float64{sshPort, 8420} {
		want := obj{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "SourceSecurityGroupId": ref("SshLoadBalancerSecurityGroup")}
		if !slices.ContainsFunc(ingress, func(r any) bool { return equal(r, want) }) {
			t.Errorf("tasks' ingress %s lacks %s", show(ingress), show(want))
		}
	}
	for _, r := range ingress {
		if _, open := r.(obj)["CidrIp"]; open {
			t.Errorf("tasks are reachable from %s, not only from the load balancers", show(r))
		}
	}
	for _, out := range []string{"SshLoadBalancerDNSName", "SshCommand"} {
		if get(t, tmpl, "Outputs", out, "Value") == nil {
			t.Errorf("no output %s", out)
		}
	}
}

func TestSummarize(t *testing.T) {
	s, err := provisioning.Summarize(provisioning.StorageTemplate())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range s.Parameters {
		if !p.HasDefault {
			t.Errorf("storage parameter %s is required; none may be", p.Name)
		}
	}
	if len(s.Resources) != 7 || !equal(s.Outputs, storageOutputs) {
		t.Errorf("summary = %+v", s)
	}
	s, err = provisioning.Summarize(provisioning.ServiceTemplate())
	if err != nil {
		t.Fatal(err)
	}
	var required []string
	for _, p := range s.Parameters {
		if !p.HasDefault {
			required = append(required, p.Name)
		}
		if p.Name == "DesiredCount" && p.Default != "2" {
			t.Errorf("DesiredCount default = %q, want \"2\"", p.Default)
		}
		if p.Name == "AdminToken" && !p.NoEcho {
			t.Errorf("AdminToken is not NoEcho in the summary")
		}
	}
	if !equal(required, []string{"AdminToken", "CertificateArn", "DomainName", "Image", "Subnets", "TaskSubnets", "VpcId"}) {
		t.Errorf("required service parameters = %v", required)
	}
	if !s.Declares("Image") || s.Declares("Nope") {
		t.Errorf("Declares is wrong")
	}
	if _, err := provisioning.Summarize([]byte("Resources:\n  A: {}")); err == nil {
		t.Errorf("Summarize accepts YAML")
	}
}

func TestServeSettings(t *testing.T) {
	if _, err := provisioning.ParseStorageOutputs(map[string]string{"BucketName": "b"}); err == nil {
		t.Errorf("incomplete outputs accepted")
	}
	st, err := provisioning.ParseStorageOutputs(map[string]string{
		"BucketName": "strata-bucket-1", "TableName": "strata", "KeyArn": "arn:aws:kms:eu-west-1:1:key/k",
		"KeyAlias": "alias/strata", "RoleArn": "arn:r", "InstanceProfileArn": "arn:i", "Region": "eu-west-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	s := st.Serve()
	if got, want := s.Command(), "strata serve --blob s3://strata-bucket-1 --meta dynamodb://strata --keys kms://alias/strata --aws-region eu-west-1"; got != want {
		t.Errorf("Command = %s\nwant      %s", got, want)
	}
	if got := s.Env(); !equal(got, []string{"STRATA_BLOB=s3://strata-bucket-1", "STRATA_META=dynamodb://strata", "STRATA_KEYS=kms://alias/strata", "STRATA_AWS_REGION=eu-west-1"}) {
		t.Errorf("Env = %v", got)
	}
}
