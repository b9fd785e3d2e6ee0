package provisioning

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"
)

// Errors of Deploy, to test with errors.Is.
var (
	// ErrRolledBack: the stack's creation failed and was rolled back
	// (ROLLBACK_COMPLETE), or a change set created it and it was never
	// executed (REVIEW_IN_PROGRESS). CloudFormation can only delete such a
	// stack; Deploy does that, and creates it again, only with the
	// RecreateRolledBack option.
	ErrRolledBack = errors.New("stack cannot be updated")
	// ErrBusy: another operation on the stack is in progress.
	ErrBusy = errors.New("stack is busy")
	// ErrFailed: the create, update or delete did not complete; the
	// *StackError says how it ended and why.
	ErrFailed = errors.New("stack operation failed")
	// ErrUnusable: the stack is in a failed state CloudFormation needs a
	// person for (DELETE_FAILED, UPDATE_ROLLBACK_FAILED, ...).
	ErrUnusable = errors.New("stack needs attention")
)

// StackError is a stack operation that ended in failure. It matches
// ErrFailed.
type StackError struct {
	Stack string
	// Status is the stack's status when waiting ended.
	Status string
	// Reasons are the failure reasons of the stack's events, oldest first.
	Reasons []string
	// Hint, when Deploy can tell, says what to do about it.
	Hint string
	// Err is what waiting returned.
	Err error
}

func (e *StackError) Error() string {
	var msg string
	switch {
	case e.Status == "":
		msg = fmt.Sprintf("stack %s: %v", e.Stack, e.Err)
	case strings.HasSuffix(e.Status, "_IN_PROGRESS"):
		msg = fmt.Sprintf("stack %s is still in %s (it goes on in CloudFormation): %v", e.Stack, e.Status, e.Err)
	default:
		msg = fmt.Sprintf("stack %s ended in %s", e.Stack, e.Status)
	}
	if len(e.Reasons) > 0 {
		msg += ": " + strings.Join(e.Reasons, "; ")
	}
	if e.Hint != "" {
		msg += "\n" + e.Hint
	}
	return msg
}

// Unwrap makes a StackError match ErrFailed and what waiting returned.
func (e *StackError) Unwrap() []error { return []error{ErrFailed, e.Err} }

// ParameterError is a deployment refused before it started because of its
// parameters.
type ParameterError struct {
	Stack string
	// Unknown parameters are not declared by the template.
	Unknown []string
	// Missing parameters have no default, no previous value and were not
	// given.
	Missing []string
}

func (e *ParameterError) Error() string {
	var parts []string
	if len(e.Unknown) > 0 {
		parts = append(parts, "unknown parameters "+strings.Join(e.Unknown, ", "))
	}
	if len(e.Missing) > 0 {
		parts = append(parts, "parameters "+strings.Join(e.Missing, ", ")+" need values")
	}
	return fmt.Sprintf("stack %s: %s", e.Stack, strings.Join(parts, "; "))
}

// Option changes how Deploy works.
type Option func(*options)

type options struct {
	recreateRolledBack bool
	timeout            time.Duration
	minDelay, maxDelay time.Duration
	// alwaysUpdate skips the comparison with the deployed template and
	// parameters, so tests can exercise UpdateStack's "No updates are to
	// be performed" answer.
	alwaysUpdate bool
}

func newOptions(opts []Option) options {
	o := options{timeout: 90 * time.Minute, minDelay: 5 * time.Second, maxDelay: 30 * time.Second}
	for _, fn := range opts {
		fn(&o)
	}
	return o
}

// RecreateRolledBack consents to deleting a stack that cannot be updated
// (ROLLBACK_COMPLETE: its creation failed; REVIEW_IN_PROGRESS: created by a
// change set never executed) and creating it again. Such a stack holds no
// resources, except those its template retains on deletion, which stay as
// they are: Deploy names them (from the stack's DELETE_SKIPPED events)
// before it deletes the stack, and if the creation then fails because a
// name is taken, the *StackError's Hint says which of them to delete.
// `strata provision --recreate` passes it.
func RecreateRolledBack() Option { return func(o *options) { o.recreateRolledBack = true } }

// Timeout bounds how long Deploy waits for one stack operation (default 90
// minutes: a CloudFront distribution alone can take a quarter of an hour).
func Timeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// PollInterval sets the shortest and longest pause between two looks at a
// stack while waiting (default 5 and 30 seconds).
func PollInterval(minDelay, maxDelay time.Duration) Option {
	return func(o *options) {
		if minDelay > 0 && maxDelay >= minDelay {
			o.minDelay, o.maxDelay = minDelay, maxDelay
		}
	}
}

// capabilities acknowledges that the templates create IAM resources (the
// service stack's roles, the storage stack's role and instance profile).
func capabilities() []types.Capability {
	return []types.Capability{types.CapabilityCapabilityIam, types.CapabilityCapabilityNamedIam}
}

// Deploy creates the stack name from the JSON template tmpl if it does not
// exist, or else updates it, and waits until CloudFormation is done,
// printing the stack's events to out as they happen. It returns the stack's
// outputs, and whether anything changed.
//
// params are parameter values; a declared parameter that is not given keeps
// its previous value on an update (its default on a create), so a second run
// with fewer parameters changes nothing. An update with nothing to change
// is not an error: changed is false.
//
// A stack whose creation failed (ROLLBACK_COMPLETE) is deleted and created
// again only with the RecreateRolledBack option; without it Deploy returns
// an error matching ErrRolledBack. Failures match ErrFailed (a *StackError
// with the reasons), ErrBusy or ErrUnusable; parameters the template does not
// declare, or required ones missing, are a *ParameterError.
func Deploy(ctx context.Context, cfn *cloudformation.Client, name string, tmpl []byte, params map[string]string, out io.Writer, opts ...Option) (outputs map[string]string, changed bool, err error) {
	return deploy(ctx, cfn, name, tmpl, params, out, newOptions(opts))
}

func deploy(ctx context.Context, cfn *cloudformation.Client, name string, tmpl []byte, params map[string]string, out io.Writer, o options) (map[string]string, bool, error) {
	if out == nil {
		out = io.Discard
	}
	t, err := parseTemplate(tmpl)
	if err != nil {
		return nil, false, fmt.Errorf("stack %s: %w", name, err)
	}
	if err := checkParams(name, t, params, nil, false); err != nil {
		return nil, false, err
	}
	st, err := describeStack(ctx, cfn, name)
	if err != nil {
		return nil, false, err
	}
	var left []retained
	if st != nil {
		if err := usable(st); err != nil {
			if !errors.Is(err, ErrRolledBack) || !o.recreateRolledBack {
				return nil, false, err
			}
			if err := checkParams(name, t, params, nil, true); err != nil {
				return nil, false, err
			}
			left = retainedResources(ctx, cfn, aws.ToString(st.StackId))
			for _, r := range left {
				fmt.Fprintf(out, "stack %s: its failed creation left %s %q (%s) behind (the template retains it); unless it was deleted since, creating the stack again fails on its name\n",
					name, r.Type, r.PhysicalID, r.LogicalID)
			}
			fmt.Fprintf(out, "stack %s: %s; deleting it to create it again\n", name, st.StackStatus)
			if err := deleteStack(ctx, cfn, st, out, o); err != nil {
				return nil, false, err
			}
			st = nil
		}
	}
	if st == nil {
		if err := checkParams(name, t, params, nil, true); err != nil {
			return nil, false, err
		}
		outputs, err := createStack(ctx, cfn, name, t, tmpl, params, out, o)
		if err != nil {
			explainRetained(err, left)
		}
		return outputs, err == nil, err
	}
	return updateStack(ctx, cfn, st, t, tmpl, params, out, o)
}

// StackStatus returns the stack's status ("CREATE_COMPLETE", ...), or "" if
// there is no such stack.
func StackStatus(ctx context.Context, cfn *cloudformation.Client, name string) (string, error) {
	st, err := describeStack(ctx, cfn, name)
	if err != nil || st == nil {
		return "", err
	}
	return string(st.StackStatus), nil
}

// WillCreate reports whether Deploy would create the stack rather than
// update it: it does not exist, or it cannot be updated (see ErrRolledBack)
// and would be created again.
func WillCreate(status string) bool {
	return status == "" || status == string(types.StackStatusRollbackComplete) || status == string(types.StackStatusReviewInProgress)
}

// describeStack returns the stack, or nil if there is none.
func describeStack(ctx context.Context, cfn *cloudformation.Client, name string) (*types.Stack, error) {
	res, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if isNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe stack %s: %w", name, err)
	}
	for i := range res.Stacks {
		if s := &res.Stacks[i]; s.StackStatus != types.StackStatusDeleteComplete {
			return s, nil
		}
	}
	return nil, nil
}

// isNotExist recognises DescribeStacks' answer for a missing stack: a
// ValidationError, which is also the code of many other mistakes.
func isNotExist(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && strings.Contains(ae.ErrorMessage(), "does not exist")
}

// isNoUpdates recognises UpdateStack's and CreateChangeSet's answer to a
// template and parameters identical to the deployed ones.
func isNoUpdates(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && isNoChangesReason(ae.ErrorMessage())
}

func isNoChangesReason(s string) bool {
	return strings.Contains(s, "No updates are to be performed") || strings.Contains(s, "didn't contain changes")
}

// usable says whether the stack can be updated now.
func usable(st *types.Stack) error {
	name, s := aws.ToString(st.StackName), string(st.StackStatus)
	switch {
	case st.StackStatus == types.StackStatusRollbackComplete:
		return fmt.Errorf("stack %s is in %s: its creation failed and CloudFormation can only delete it (it holds no resources but those it retains); delete it, or let Deploy delete and create it again (strata provision --recreate): %w",
			name, s, ErrRolledBack)
	case st.StackStatus == types.StackStatusReviewInProgress:
		return fmt.Errorf("stack %s is in %s: a change set created it and was never executed; delete it, or let Deploy delete and create it again (strata provision --recreate): %w",
			name, s, ErrRolledBack)
	case strings.HasSuffix(s, "_IN_PROGRESS"):
		return fmt.Errorf("stack %s is in %s: wait for it to finish and try again: %w", name, s, ErrBusy)
	case strings.HasSuffix(s, "_FAILED"):
		return fmt.Errorf("stack %s is in %s (%s): fix it in the CloudFormation console first: %w",
			name, s, aws.ToString(st.StackStatusReason), ErrUnusable)
	}
	return nil
}

// checkParams refuses parameters the template does not declare and, with
// missing, required ones that have no value. previous holds the deployed
// stack's parameter values on an update (nil on a create).
func checkParams(stack string, t *template, params, previous map[string]string, missing bool) error {
	pe := &ParameterError{Stack: stack}
	for k := range params {
		if _, ok := t.Parameters[k]; !ok {
			pe.Unknown = append(pe.Unknown, k)
		}
	}
	for k, p := range t.Parameters {
		if !missing {
			break
		}
		if _, given := params[k]; given {
			continue
		}
		if _, hasDefault := p.defaultValue(); hasDefault {
			continue
		}
		if _, prev := previous[k]; prev {
			continue
		}
		pe.Missing = append(pe.Missing, k)
	}
	if len(pe.Unknown) == 0 && len(pe.Missing) == 0 {
		return nil
	}
	sort.Strings(pe.Unknown)
	sort.Strings(pe.Missing)
	return pe
}

func stackParams(st *types.Stack) map[string]string {
	m := make(map[string]string, len(st.Parameters))
	for _, p := range st.Parameters {
		m[aws.ToString(p.ParameterKey)] = aws.ToString(p.ParameterValue)
	}
	return m
}

// createParams passes what was given; the rest take their defaults.
func createParams(params map[string]string) []types.Parameter {
	keys := sortedKeys(params)
	ps := make([]types.Parameter, 0, len(keys))
	for _, k := range keys {
		ps = append(ps, types.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(params[k])})
	}
	return ps
}

// updateParams passes what was given and keeps the previous value of every
// other parameter the template still declares, as `aws cloudformation
// deploy` does: an UpdateStack without a parameter would reset it to its
// default (or fail, for one without). A previous value that is the
// template's default is left to the default, which is the same value; moto
// cannot resolve UsePreviousValue for a parameter that was never given.
func updateParams(t *template, params, previous map[string]string) []types.Parameter {
	var ps []types.Parameter
	for _, k := range sortedKeys(t.Parameters) {
		if v, ok := params[k]; ok {
			ps = append(ps, types.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(v)})
			continue
		}
		prev, ok := previous[k]
		if !ok {
			continue
		}
		if def, hasDefault := t.Parameters[k].defaultValue(); hasDefault && def == prev && !t.Parameters[k].noEcho() {
			continue
		}
		ps = append(ps, types.Parameter{ParameterKey: aws.String(k), UsePreviousValue: aws.Bool(true)})
	}
	return ps
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func createStack(ctx context.Context, cfn *cloudformation.Client, name string, t *template, tmpl []byte, params map[string]string, out io.Writer, o options) (map[string]string, error) {
	fmt.Fprintf(out, "stack %s: creating (%d resources)\n", name, len(t.Resources))
	res, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{
		StackName:    aws.String(name),
		TemplateBody: aws.String(string(tmpl)),
		Parameters:   createParams(params),
		Capabilities: capabilities(),
		// Roll back on failure, so that a failed create leaves nothing
		// billed behind; Deploy can then recreate it with consent.
		OnFailure: types.OnFailureRollback,
	})
	if err != nil {
		return nil, fmt.Errorf("create stack %s: %w", name, err)
	}
	id := aws.ToString(res.StackId)
	ev := &eventPrinter{cfn: cfn, stackID: id, out: out}
	w := cloudformation.NewStackCreateCompleteWaiter(cfn, func(wo *cloudformation.StackCreateCompleteWaiterOptions) {
		wo.MinDelay, wo.MaxDelay = o.minDelay, o.maxDelay
		next := wo.Retryable
		wo.Retryable = func(ctx context.Context, in *cloudformation.DescribeStacksInput, dso *cloudformation.DescribeStacksOutput, err error) (bool, error) {
			ev.print(ctx)
			return next(ctx, in, dso, err)
		}
	})
	dso, err := w.WaitForOutput(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(id)}, o.timeout)
	if err != nil {
		return nil, ev.failure(ctx, name, err)
	}
	return finished(name, dso, out)
}

func updateStack(ctx context.Context, cfn *cloudformation.Client, st *types.Stack, t *template, tmpl []byte, params map[string]string, out io.Writer, o options) (map[string]string, bool, error) {
	name, id := aws.ToString(st.StackName), aws.ToString(st.StackId)
	previous := stackParams(st)
	if err := checkParams(name, t, params, previous, true); err != nil {
		return nil, false, err
	}
	if !o.alwaysUpdate && unchanged(ctx, cfn, st, t, tmpl, params, previous) {
		fmt.Fprintf(out, "stack %s: no changes (%s)\n", name, st.StackStatus)
		return outputsOf(st), false, nil
	}
	ev := &eventPrinter{cfn: cfn, stackID: id, out: out}
	ev.prime(ctx)
	fmt.Fprintf(out, "stack %s: updating\n", name)
	_, err := cfn.UpdateStack(ctx, &cloudformation.UpdateStackInput{
		StackName:    aws.String(id),
		TemplateBody: aws.String(string(tmpl)),
		Parameters:   updateParams(t, params, previous),
		Capabilities: capabilities(),
	})
	if isNoUpdates(err) {
		// AWS answers an update that changes nothing with this error.
		fmt.Fprintf(out, "stack %s: no changes (%s)\n", name, st.StackStatus)
		return outputsOf(st), false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("update stack %s: %w", name, err)
	}
	w := cloudformation.NewStackUpdateCompleteWaiter(cfn, func(wo *cloudformation.StackUpdateCompleteWaiterOptions) {
		wo.MinDelay, wo.MaxDelay = o.minDelay, o.maxDelay
		next := wo.Retryable
		wo.Retryable = func(ctx context.Context, in *cloudformation.DescribeStacksInput, dso *cloudformation.DescribeStacksOutput, err error) (bool, error) {
			ev.print(ctx)
			return next(ctx, in, dso, err)
		}
	})
	dso, err := w.WaitForOutput(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(id)}, o.timeout)
	if err != nil {
		return nil, false, ev.failure(ctx, name, err)
	}
	outputs, err := finished(name, dso, out)
	return outputs, err == nil, err
}

// unchanged reports whether the deployed stack already has this template
// (compared as JSON values, so formatting does not count) and these
// parameter values. When it cannot tell — a secret parameter is given, a
// parameter resolves from SSM, the deployed template is unreadable — it says
// no, and UpdateStack decides.
func unchanged(ctx context.Context, cfn *cloudformation.Client, st *types.Stack, t *template, tmpl []byte, params, previous map[string]string) bool {
	for k, p := range t.Parameters {
		want, given := params[k]
		if given && p.noEcho() {
			return false // CloudFormation shows only ****
		}
		if strings.HasPrefix(p.Type, "AWS::SSM::") {
			return false // resolved anew on every update
		}
		have, deployed := previous[k]
		switch {
		case given:
			if !deployed || have != want {
				return false
			}
		case deployed:
			// Kept: UsePreviousValue.
		default:
			return false
		}
	}
	for k := range previous {
		if _, ok := t.Parameters[k]; !ok {
			return false
		}
	}
	res, err := cfn.GetTemplate(ctx, &cloudformation.GetTemplateInput{
		StackName: st.StackId, TemplateStage: types.TemplateStageOriginal,
	})
	if err != nil {
		return false
	}
	var deployedTmpl, newTmpl any
	if json.Unmarshal([]byte(aws.ToString(res.TemplateBody)), &deployedTmpl) != nil || json.Unmarshal(tmpl, &newTmpl) != nil {
		return false
	}
	return reflect.DeepEqual(deployedTmpl, newTmpl)
}

func deleteStack(ctx context.Context, cfn *cloudformation.Client, st *types.Stack, out io.Writer, o options) error {
	name, id := aws.ToString(st.StackName), aws.ToString(st.StackId)
	ev := &eventPrinter{cfn: cfn, stackID: id, out: out}
	ev.prime(ctx)
	if _, err := cfn.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String(id)}); err != nil {
		return fmt.Errorf("delete stack %s: %w", name, err)
	}
	w := cloudformation.NewStackDeleteCompleteWaiter(cfn, func(wo *cloudformation.StackDeleteCompleteWaiterOptions) {
		wo.MinDelay, wo.MaxDelay = o.minDelay, o.maxDelay
		next := wo.Retryable
		wo.Retryable = func(ctx context.Context, in *cloudformation.DescribeStacksInput, dso *cloudformation.DescribeStacksOutput, err error) (bool, error) {
			ev.print(ctx)
			return next(ctx, in, dso, err)
		}
	})
	// By ID: a deleted stack is still described by its ID, as
	// DELETE_COMPLETE, whereas its name no longer resolves.
	if err := w.Wait(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(id)}, o.timeout); err != nil {
		return ev.failure(ctx, name, err)
	}
	fmt.Fprintf(out, "stack %s: deleted\n", name)
	return nil
}

func finished(name string, dso *cloudformation.DescribeStacksOutput, out io.Writer) (map[string]string, error) {
	if dso == nil || len(dso.Stacks) == 0 {
		return nil, fmt.Errorf("stack %s: not found after the operation", name)
	}
	st := &dso.Stacks[0]
	fmt.Fprintf(out, "stack %s: %s\n", name, st.StackStatus)
	return outputsOf(st), nil
}

func outputsOf(st *types.Stack) map[string]string {
	m := make(map[string]string, len(st.Outputs))
	for _, o := range st.Outputs {
		m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return m
}

// eventPrinter prints a stack's new events, oldest first, each time it is
// asked, and remembers the reasons of failures.
type eventPrinter struct {
	cfn     *cloudformation.Client
	stackID string
	out     io.Writer
	seen    map[string]bool
	reasons []string
}

// prime marks the latest events as seen, so that only the coming
// operation's are printed. One page is enough: reading stops at the first
// event seen, and a long-lived stack has thousands.
func (p *eventPrinter) prime(ctx context.Context) {
	p.collect(ctx, false, 1)
}

// print prints the events not printed yet. Progress is best effort: an
// error here is not the operation's, and the waiter reports that one.
func (p *eventPrinter) print(ctx context.Context) {
	p.collect(ctx, true, 0)
}

// collect reads events newer than those seen, at most maxPages pages (0:
// no limit), and prints them if show.
func (p *eventPrinter) collect(ctx context.Context, show bool, maxPages int) {
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	var fresh []types.StackEvent
	pg := cloudformation.NewDescribeStackEventsPaginator(p.cfn, &cloudformation.DescribeStackEventsInput{StackName: aws.String(p.stackID)})
pages:
	for n := 0; pg.HasMorePages() && (maxPages == 0 || n < maxPages); n++ {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return
		}
		// Newest first: stop at the first event already seen.
		for _, e := range page.StackEvents {
			id := aws.ToString(e.EventId)
			if p.seen[id] {
				break pages
			}
			fresh = append(fresh, e)
		}
	}
	for i := len(fresh) - 1; i >= 0; i-- {
		e := fresh[i]
		p.seen[aws.ToString(e.EventId)] = true
		if !show {
			continue
		}
		reason := aws.ToString(e.ResourceStatusReason)
		status := string(e.ResourceStatus)
		if strings.HasSuffix(status, "_FAILED") && reason != "" && !strings.Contains(reason, "Resource creation cancelled") {
			p.reasons = append(p.reasons, aws.ToString(e.LogicalResourceId)+": "+reason)
		}
		ts := ""
		if e.Timestamp != nil {
			ts = e.Timestamp.Local().Format("15:04:05")
		}
		line := fmt.Sprintf("  %s  %-28s %-40s %s", ts, status, aws.ToString(e.ResourceType), aws.ToString(e.LogicalResourceId))
		if reason != "" {
			line += "  " + reason
		}
		fmt.Fprintln(p.out, strings.TrimRight(line, " "))
	}
}

// failure builds the error of a wait that did not succeed.
func (p *eventPrinter) failure(ctx context.Context, name string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("stack %s: stopped waiting (the operation goes on in CloudFormation): %w", name, ctx.Err())
	}
	p.print(ctx)
	se := &StackError{Stack: name, Reasons: p.reasons, Err: err}
	if res, derr := p.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(p.stackID)}); derr == nil && len(res.Stacks) > 0 {
		se.Status = string(res.Stacks[0].StackStatus)
		if r := aws.ToString(res.Stacks[0].StackStatusReason); r != "" && len(se.Reasons) == 0 {
			se.Reasons = []string{r}
		}
	}
	return se
}

// retained is a resource that a stack's rolled-back creation kept, because
// its DeletionPolicy retains it: CloudFormation reports it DELETE_SKIPPED.
// Such a resource outlives the stack, and if it has a fixed name (the
// storage stack's table is named after the stack), creating the stack
// again fails on that name.
type retained struct {
	Type, LogicalID, PhysicalID string
}

// retainedResources lists what the stack's events say was retained when it
// was rolled back or deleted. It is best effort: on an error it returns what
// it found.
func retainedResources(ctx context.Context, cfn *cloudformation.Client, stackID string) []retained {
	var out []retained
	seen := map[string]bool{}
	pg := cloudformation.NewDescribeStackEventsPaginator(cfn, &cloudformation.DescribeStackEventsInput{StackName: aws.String(stackID)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			break
		}
		for _, e := range page.StackEvents {
			id, phys := aws.ToString(e.LogicalResourceId), aws.ToString(e.PhysicalResourceId)
			if e.ResourceStatus != types.ResourceStatusDeleteSkipped || phys == "" || seen[id] {
				continue
			}
			seen[id] = true
			out = append(out, retained{Type: aws.ToString(e.ResourceType), LogicalID: id, PhysicalID: phys})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}

// explainRetained gives a failed re-creation whose resources failed on
// names that are taken ("already exists") a hint naming what the earlier
// failed creation left behind, and how to clear it.
func explainRetained(err error, left []retained) {
	var se *StackError
	if len(left) == 0 || !errors.As(err, &se) {
		return
	}
	taken := false
	for _, r := range se.Reasons {
		if strings.Contains(strings.ToLower(r), "already exists") {
			taken = true
		}
	}
	if !taken {
		return
	}
	var b strings.Builder
	b.WriteString("The names are taken by what the earlier failed creation of this stack left behind (its template retains them, as they may hold data):")
	for _, r := range left {
		fmt.Fprintf(&b, "\n  %s %q (%s)", r.Type, r.PhysicalID, r.LogicalID)
		switch r.Type {
		case "AWS::DynamoDB::Table":
			fmt.Fprintf(&b, ": delete it with aws dynamodb update-table --table-name %s --no-deletion-protection-enabled && aws dynamodb delete-table --table-name %s, or pass another --param TableName=...", r.PhysicalID, r.PhysicalID)
		case "AWS::S3::Bucket":
			fmt.Fprintf(&b, ": delete it with aws s3 rb s3://%s --force, or pass another --param BucketName=...", r.PhysicalID)
		case "AWS::KMS::Key":
			fmt.Fprintf(&b, ": schedule its deletion with aws kms schedule-key-deletion --key-id %s", r.PhysicalID)
		}
	}
	b.WriteString("\nIf they hold nothing you need, delete them and run again with --recreate.")
	se.Hint = b.String()
}
