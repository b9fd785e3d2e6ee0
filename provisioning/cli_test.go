package provisioning_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/engine"
	"github.com/strata-storage/strata/cli"
)

// runCLI runs the strata command line in-process with AWS test credentials
// in its environment, and returns the exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := map[string]string{
		"AWS_ACCESS_KEY_ID":     "testing",
		"AWS_SECRET_ACCESS_KEY": "testing",
		"AWS_REGION":            awstest.Region,
		"HOME":                  t.TempDir(),
		"XDG_CONFIG_HOME":       t.TempDir(),
	}
	code := cli.Run(context.Background(), args, cli.Env{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
	})
	return code, stdout.String(), stderr.String()
}

// provisionResult is the part of `strata provision --json` the tests read.
type provisionResult struct {
	Storage struct {
		Stack   string            `json:"stack"`
		Changed bool              `json:"changed"`
		Outputs map[string]string `json:"outputs"`
	} `json:"storage"`
	Serve struct {
		Blob, Meta, Keys, AWSRegion, AWSEndpoint, Command string
		Env                                               map[string]string
	} `json:"serve"`
}

func TestProvisionCommand(t *testing.T) {
	ep := awstest.Endpoint(t)
	if code, _, stderr := runCLI(t, "provision", "--help"); code != 0 {
		// The command is registered in cli.rootCmd by its owner.
		t.Skipf("strata provision is not available (exit %d): %s", code, stderr)
	}
	name := awstest.Name("strata")
	base := []string{"provision", "--stack", name, "--aws-endpoint", ep}

	code, stdout, stderr := runCLI(t, base...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	t.Logf("stdout:\n%s", stdout)
	for _, want := range []string{
		"Storage stack " + name + ": deployed",
		"strata serve --blob s3://" + strings.ToLower(name),
		" --meta dynamodb://" + name + " --keys kms://alias/" + name + " --aws-region " + awstest.Region + " --aws-endpoint " + ep,
		"STRATA_BLOB=s3://", "STRATA_META=dynamodb://" + name, "STRATA_KEYS=kms://alias/" + name,
		"STRATA_AWS_REGION=" + awstest.Region,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if !strings.Contains(stderr, "CREATE_COMPLETE") {
		t.Errorf("stderr shows no progress:\n%s", stderr)
	}

	// Twice: nothing changes, and it says so.
	code, stdout, stderr = runCLI(t, base...)
	if code != 0 || !strings.Contains(stdout, "no changes") || !strings.Contains(stderr, "no changes") {
		t.Errorf("second run: exit %d, want 0 and \"no changes\"\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// --json.
	code, stdout, stderr = runCLI(t, append(base, "--json")...)
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, stderr)
	}
	var res provisionResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, stdout)
	}
	if res.Storage.Stack != name || res.Storage.Changed || res.Storage.Outputs["TableName"] != name ||
		res.Serve.Meta != "dynamodb://"+name || res.Serve.Keys != "kms://alias/"+name || res.Serve.AWSEndpoint != ep ||
		res.Serve.Env["STRATA_BLOB"] != res.Serve.Blob || !strings.HasPrefix(res.Serve.Command, "strata serve ") {
		t.Errorf("--json = %+v", res)
	}

	// --dry-run changes nothing and shows the plan.
	code, stdout, stderr = runCLI(t, append(base, "--dry-run")...)
	if code != 0 || !strings.Contains(stdout, "would be updated") || !strings.Contains(stdout, "AWS::DynamoDB::Table") ||
		!strings.Contains(stdout, "nothing was changed") {
		t.Errorf("--dry-run: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// Bad command lines are usage errors.
	for _, args := range [][]string{
		append(base, "--param", "Nope=1"),
		append(base, "--param", "Image=x"), // a service parameter without --service
		append(base, "--param", "TableName"),
		{"provision", "--stack", "9lives", "--aws-endpoint", ep},
	} {
		if code, _, stderr := runCLI(t, args...); code != cli.ExitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, code, cli.ExitUsage, stderr)
		}
	}

	// The service stack on a new deployment needs its network parameters.
	code, _, stderr = runCLI(t, "provision", "--stack", awstest.Name("strata"), "--service", "--aws-endpoint", ep)
	if code != cli.ExitUsage || !strings.Contains(stderr, "Image") {
		t.Errorf("--service without parameters: exit %d, want %d naming Image: %s", code, cli.ExitUsage, stderr)
	}

	// The printed settings open Strata's engines.
	fixMotoKeyPolicy(t, context.Background(), res.Storage.Outputs["KeyArn"])
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", res.Serve.AWSRegion)
	set, err := engine.Open(context.Background(), engine.Spec{
		Blob: res.Serve.Blob, Meta: res.Serve.Meta, Keys: res.Serve.Keys,
		AWSEndpoint: res.Serve.AWSEndpoint, AWSRegion: res.Serve.AWSRegion,
	})
	if err != nil {
		t.Fatalf("engine.Open with the printed settings: %v", err)
	}
	t.Logf("engines: %s", set.Describe)
	if err := set.Close(); err != nil {
		t.Error(err)
	}
}
