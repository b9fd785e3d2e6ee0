package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/spf13/cobra"

	"github.com/strata-storage/strata/backend/identity"
	"github.com/strata-storage/strata/internal/awscreds"
	"github.com/strata-storage/strata/internal/lazyregexp"
	"github.com/strata-storage/strata/provisioning"
)

type provisionOpts struct {
	stack       string
	service     bool
	dryRun      bool
	params      []string
	recreate    bool
	awsEndpoint string
	awsRegion   string
	timeout     time.Duration
}

func (a *app) provisionCmd() *cobra.Command {
	var o provisionOpts
	cmd := &cobra.Command{
		Use:   "provision",
		Short: "Create or update Strata's AWS resources with CloudFormation",
		Long: `Create or update the AWS resources Strata runs on, with CloudFormation, and
print the 'strata serve' settings that use them.

The storage stack (named --stack, default "strata") holds the S3 bucket,
the DynamoDB table, the KMS key (alias/<stack>) and the IAM role servers run
as. With --service, the service stack ("<stack>-service") also runs Strata on
ECS Fargate behind an HTTPS load balancer, with CPU auto scaling, CloudFront
for share links and logs in CloudWatch; it needs at least

  --param Image=<image with strata on its PATH>
  --param VpcId=vpc-... --param Subnets=subnet-a,subnet-b --param TaskSubnets=subnet-c,subnet-d
  --param DomainName=files.example.com --param CertificateArn=arn:aws:acm:...

and generates the admin token, which it prints once.

A stack that exists is updated; parameters not given keep their values, so
running the same command twice changes nothing. --dry-run shows what would be
deployed and, for a stack that exists, the changes CloudFormation computes.
A stack whose creation failed can only be deleted: --recreate deletes it and
creates it again.

Credentials and region come from the standard AWS chain (AWS_PROFILE,
AWS_ACCESS_KEY_ID, AWS_REGION, ...); --aws-endpoint points CloudFormation at
an emulator.`,
		Example: `  strata provision
  strata provision --dry-run
  strata provision --service --param Image=123456789012.dkr.ecr.eu-west-1.amazonaws.com/strata:1.0 ...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.provision(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.stack, "stack", provisioning.DefaultStackName, "base name: the storage stack's name, and the service stack's with -service")
	f.BoolVar(&o.service, "service", false, "also deploy the service stack (ECS Fargate, load balancer, CloudFront)")
	f.BoolVar(&o.dryRun, "dry-run", false, "show what would be deployed and changed, and change nothing")
	f.StringArrayVar(&o.params, "param", nil, "template parameter NAME=VALUE (repeatable); each goes to the stack that declares it")
	f.BoolVar(&o.recreate, "recreate", false, "delete and create again a stack whose creation failed (ROLLBACK_COMPLETE)")
	f.StringVar(&o.awsEndpoint, "aws-endpoint", "", "endpoint for CloudFormation: an emulator")
	f.StringVar(&o.awsRegion, "aws-region", "", "AWS region (default: the standard chain, e.g. AWS_REGION)")
	f.DurationVar(&o.timeout, "timeout", 90*time.Minute, "how long to wait for one stack to be created or updated")
	return cmd
}

// provisionStackName is what CloudFormation accepts, short enough for the derived
// names: "<stack>-service", and the table named after the stack (3 to 255
// characters).
var provisionStackName = lazyregexp.New(`^[a-zA-Z][-a-zA-Z0-9]{2,119}$`)

// provisionResult is what --json prints.
type provisionResult struct {
	Storage provisionedStack  `json:"storage"`
	Service *provisionedStack `json:"service,omitempty"`
	Serve   provisionedServe  `json:"serve"`
	// AdminToken is the generated admin token, present only when the
	// service stack was created by this run.
	AdminToken string `json:"adminToken,omitempty"`
}

type provisionedStack struct {
	Stack   string            `json:"stack"`
	Changed bool              `json:"changed"`
	Outputs map[string]string `json:"outputs"`
}

type provisionedServe struct {
	provisioning.ServeSettings
	Command string            `json:"command"`
	Env     map[string]string `json:"env"`
}

func (a *app) provision(ctx context.Context, o provisionOpts) error {
	if !provisionStackName().MatchString(o.stack) {
		return usagef("--stack %q: want 3 to 120 letters, digits and dashes, starting with a letter", o.stack)
	}
	storage, service := provisioning.StorageStack(o.stack), provisioning.ServiceStack(o.stack)
	storageParams, serviceParams, err := splitProvisionParams(o.params, o.service)
	if err != nil {
		return err
	}
	if o.service {
		serviceParams["StorageStack"] = storage.Name
	}
	cfg, err := a.awsConfig(ctx, o.awsRegion, o.awsEndpoint)
	if err != nil {
		return err
	}
	if why, missing := awsMissing(ctx, cfg); missing != nil {
		if !o.dryRun || ctx.Err() != nil {
			return missing
		}
		// What a dry run shows of the templates needs no AWS.
		return a.provisionUnchecked(o, storage, service, storageParams, serviceParams, missing, why)
	}
	cfn := cloudformation.NewFromConfig(cfg)

	// Progress goes to stderr, so stdout (and --json) carries the results.
	var progress io.Writer = a.env.Stderr
	if a.quiet {
		progress = io.Discard
	}
	// A service stack about to be created gets a generated admin token (an
	// update keeps the secret it has), and must have its other required
	// parameters: refused before the storage stack is touched.
	token := ""
	if o.service {
		status, err := provisioning.StackStatus(ctx, cfn, service.Name)
		if err != nil {
			return err
		}
		if provisioning.WillCreate(status) {
			if _, given := serviceParams["AdminToken"]; !given {
				token = identity.NewToken()
				serviceParams["AdminToken"] = token
			}
			if err := requireParams(service, serviceParams); err != nil && !o.dryRun {
				return err
			}
		}
	}

	if o.dryRun {
		return a.provisionDryRun(ctx, cfn, o, storage, service, storageParams, serviceParams, token != "")
	}

	opts := []provisioning.Option{provisioning.Timeout(o.timeout)}
	if o.recreate {
		opts = append(opts, provisioning.RecreateRolledBack())
	}
	outputs, changed, err := provisioning.Deploy(ctx, cfn, storage.Name, storage.Template(), storageParams, progress, opts...)
	if err != nil {
		return provisionErr(err)
	}
	so, err := provisioning.ParseStorageOutputs(outputs)
	if err != nil {
		return err
	}
	serve := so.Serve()
	serve.AWSEndpoint = o.awsEndpoint
	res := provisionResult{
		Storage: provisionedStack{Stack: storage.Name, Changed: changed, Outputs: outputs},
		Serve:   provisionedServe{ServeSettings: serve, Command: serve.Command(), Env: provisionEnvMap(serve.Env())},
	}
	if o.service {
		outputs, changed, err := provisioning.Deploy(ctx, cfn, service.Name, service.Template(), serviceParams, progress, opts...)
		if err != nil {
			return provisionErr(err)
		}
		res.Service = &provisionedStack{Stack: service.Name, Changed: changed, Outputs: outputs}
		if changed && token != "" {
			res.AdminToken = token
		}
	}
	if a.jsonOut {
		return a.printJSON(res)
	}
	return a.printProvisioned(res, so)
}

// splitProvisionParams parses NAME=VALUE parameters and gives each to the stack
// whose template declares it.
func splitProvisionParams(raw []string, service bool) (storage, svc map[string]string, err error) {
	ss, err := provisioning.Summarize(provisioning.StorageTemplate())
	if err != nil {
		return nil, nil, err
	}
	vs, err := provisioning.Summarize(provisioning.ServiceTemplate())
	if err != nil {
		return nil, nil, err
	}
	storage, svc = map[string]string{}, map[string]string{}
	for _, p := range raw {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, nil, usagef("--param %q: want NAME=VALUE", p)
		}
		_, dup1 := storage[k]
		_, dup2 := svc[k]
		switch {
		case dup1 || dup2:
			return nil, nil, usagef("--param %s given twice", k)
		case k == "StorageStack":
			return nil, nil, usagef("--param StorageStack: the service stack always uses the storage stack of --stack")
		case ss.Declares(k):
			storage[k] = v
		case vs.Declares(k) && service:
			svc[k] = v
		case vs.Declares(k):
			return nil, nil, usagef("--param %s is a parameter of the service stack: add --service", k)
		default:
			return nil, nil, usagef("--param %s: no such parameter (storage stack: %s; service stack: %s)",
				k, provisionParamNames(ss), provisionParamNames(vs))
		}
	}
	return storage, svc, nil
}

// requireParams refuses to create stack without a value for each parameter
// that has no default.
func requireParams(stack provisioning.Stack, params map[string]string) error {
	sum, err := provisioning.Summarize(stack.Template())
	if err != nil {
		return err
	}
	var missing []string
	for _, p := range sum.Parameters {
		if _, given := params[p.Name]; !given && !p.HasDefault {
			missing = append(missing, "--param "+p.Name+"=...")
		}
	}
	if len(missing) > 0 {
		return usagef("creating stack %s needs %s", stack.Name, strings.Join(missing, " "))
	}
	return nil
}

func provisionParamNames(s provisioning.TemplateSummary) string {
	var names []string
	for _, p := range s.Parameters {
		if p.Name != "StorageStack" {
			names = append(names, p.Name)
		}
	}
	return strings.Join(names, ", ")
}

// provisionErr makes bad parameters a usage error (exit code 2).
func provisionErr(err error) error {
	var pe *provisioning.ParameterError
	if errors.As(err, &pe) {
		return usagef("%v (give them with --param NAME=VALUE)", pe)
	}
	return err
}

// awsMissing says what cfg lacks to call AWS: a region (a usage error)
// and/or credentials (*awscreds.NoCredentialsError); short is the same in a few
// words. It returns nil when cfg has both.
func awsMissing(ctx context.Context, cfg aws.Config) (short string, err error) {
	credErr := awscreds.Check(ctx, cfg)
	const noRegion = "no AWS region: set AWS_REGION (or --aws-region)"
	switch {
	case credErr != nil && cfg.Region == "":
		return "no AWS region or credentials", usagef("%s; and %s", noRegion, credErr)
	case credErr != nil:
		return "no AWS credentials", credErr
	case cfg.Region == "":
		return "no AWS region", usagef("%s", noRegion)
	}
	return "", nil
}

func (a *app) provisionDryRun(ctx context.Context, cfn *cloudformation.Client, o provisionOpts, storage, service provisioning.Stack,
	storageParams, serviceParams map[string]string, generatedToken bool) error {
	plans := []*provisioning.Plan{}
	p, err := provisioning.DryRun(ctx, cfn, storage.Name, storage.Template(), storageParams)
	if err != nil {
		return err
	}
	plans = append(plans, p)
	if o.service {
		p, err := provisioning.DryRun(ctx, cfn, service.Name, service.Template(), serviceParams)
		if err != nil {
			return err
		}
		plans = append(plans, generatedTokenSource(p, generatedToken))
	}
	return a.printPlans(plans)
}

// provisionUnchecked is a dry run without AWS (missing says why): the
// plans of a first deployment.
func (a *app) provisionUnchecked(o provisionOpts, storage, service provisioning.Stack, storageParams, serviceParams map[string]string,
	missing error, why string) error {
	p, err := provisioning.Unchecked(storage.Name, storage.Template(), storageParams, why)
	if err != nil {
		return err
	}
	plans := []*provisioning.Plan{p}
	if o.service {
		_, given := serviceParams["AdminToken"]
		if !given {
			serviceParams["AdminToken"] = identity.NewToken() // shown masked: what a creation would use
		}
		p, err := provisioning.Unchecked(service.Name, service.Template(), serviceParams, why)
		if err != nil {
			return err
		}
		plans = append(plans, generatedTokenSource(p, !given))
	}
	if !a.quiet {
		fmt.Fprintf(a.env.Stderr, "strata: %v\nThe dry run shows what a first deployment would create; with AWS access it also compares with what is deployed.\n", missing)
	}
	return a.printPlans(plans)
}

// generatedTokenSource marks the service stack's AdminToken as generated
// by this run.
func generatedTokenSource(p *provisioning.Plan, generated bool) *provisioning.Plan {
	for i := range p.Parameters {
		if pp := &p.Parameters[i]; generated && pp.Name == "AdminToken" {
			pp.Source = "generated"
		}
	}
	return p
}

func (a *app) printPlans(plans []*provisioning.Plan) error {
	if a.jsonOut {
		return a.printJSON(map[string]any{"dryRun": true, "plans": plans})
	}
	for i, p := range plans {
		if i > 0 {
			fmt.Fprintln(a.env.Stdout)
		}
		if err := p.Print(a.env.Stdout); err != nil {
			return err
		}
	}
	fmt.Fprintln(a.env.Stdout, "\nDry run: nothing was changed.")
	return nil
}

func (a *app) printProvisioned(res provisionResult, so provisioning.StorageOutputs) error {
	w := a.env.Stdout
	printStack := func(kind string, s provisionedStack) error {
		state := "up to date, no changes"
		if s.Changed {
			state = "deployed"
		}
		fmt.Fprintf(w, "%s stack %s: %s\n", kind, s.Stack, state)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		names := make([]string, 0, len(s.Outputs))
		for k := range s.Outputs {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(tw, "  %s\t%s\n", k, s.Outputs[k])
		}
		return tw.Flush()
	}
	if err := printStack("Storage", res.Storage); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nRun Strata on these engines:\n\n  %s\n\nor with these environment variables:\n\n", res.Serve.Command)
	for _, e := range res.Serve.ServeSettings.Env() {
		fmt.Fprintf(w, "  %s\n", e)
	}
	fmt.Fprintf(w, "\nThe server needs the permissions of the role %s:\n"+
		"run it as that role (an ECS task role, or on EC2 with the instance profile %s).\n", so.RoleArn, so.InstanceProfileArn)
	if res.Service == nil {
		return nil
	}
	fmt.Fprintln(w)
	if err := printStack("Service", *res.Service); err != nil {
		return err
	}
	out := res.Service.Outputs
	fmt.Fprintf(w, "\nPoint %s at %s (a CNAME, or an alias record in Route 53).\n",
		strings.TrimPrefix(out["ServiceUrl"], "https://"), out["LoadBalancerDNSName"])
	if res.AdminToken != "" {
		fmt.Fprintf(w, "\nThe admin token, shown only this once (it is also kept in Secrets Manager as %s):\n\n    %s\n\n"+
			"Log in with: strata login --server %s\n", out["AdminTokenSecretArn"], res.AdminToken, out["ServiceUrl"])
	}
	return nil
}

func provisionEnvMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		m[k] = v
	}
	return m
}
