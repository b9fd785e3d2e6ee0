package provisioning

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// Plan is what deploying a template would do, as DryRun found it.
type Plan struct {
	Stack string `json:"stack"`
	// Status is the stack's current status, "" if it does not exist.
	Status string `json:"status,omitempty"`
	// Action is "create", "update", or "recreate" (delete a stack that
	// cannot be updated and create it again; Deploy needs consent for it).
	Action   string          `json:"action"`
	Template TemplateSummary `json:"template"`
	// Parameters are the values the deployment would use.
	Parameters []PlannedParameter `json:"parameters"`
	// Changes are the change set's resource changes, for an update whose
	// change set could be computed.
	Changes []Change `json:"changes,omitempty"`
	// ChangesNote says why Changes is empty when it is: nothing would
	// change, or the change set could not be computed (and why).
	ChangesNote string `json:"changesNote,omitempty"`
	// Problem is what would stop the deployment (missing or unknown
	// parameters, a busy or failed stack), if anything.
	Problem string `json:"problem,omitempty"`
	// Unchecked says why the stack's state was not read (no AWS
	// credentials, no region), for a plan made by Unchecked: Action is
	// then what would happen if the stack did not exist.
	Unchecked string `json:"unchecked,omitempty"`
}

// PlannedParameter is a parameter value and where it comes from.
type PlannedParameter struct {
	Name string `json:"name"`
	// Value is the value, "****" for a secret, "" when missing.
	Value string `json:"value"`
	// Source is "given", "previous", "default" or "missing".
	Source string `json:"source"`
}

// Change is one resource change of a change set.
type Change struct {
	// Action is Add, Modify, Remove, Import, Dynamic.
	Action    string `json:"action"`
	LogicalID string `json:"logicalId"`
	Type      string `json:"type"`
	// Replacement is True, False or Conditional for a Modify; a
	// replacement creates a new physical resource.
	Replacement string `json:"replacement,omitempty"`
}

// secretMask stands in for secret parameter values.
const secretMask = "****"

// DryRun shows what Deploy would do with the same arguments, changing
// nothing: the template's resources and parameters and, when the stack
// exists, the resource changes of a change set that it creates, reads and
// deletes again. When the change set cannot be computed (an emulator
// without change sets, a template CloudFormation rejects) the plan says so
// in ChangesNote rather than failing.
func DryRun(ctx context.Context, cfn *cloudformation.Client, name string, tmpl []byte, params map[string]string) (*Plan, error) {
	t, err := parseTemplate(tmpl)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", name, err)
	}
	st, err := describeStack(ctx, cfn, name)
	if err != nil {
		return nil, err
	}
	p, previous, err := plan(name, t, tmpl, params, st)
	if err != nil || p.Action != "update" || p.Problem != "" {
		return p, err
	}
	p.Changes, p.ChangesNote = changeSet(ctx, cfn, st, t, tmpl, params, previous)
	return p, nil
}

// Unchecked is the plan of a first deployment, made without asking AWS
// anything (why says what was missing): the template's resources and
// parameters, and what a new stack would lack.
func Unchecked(name string, tmpl []byte, params map[string]string, why string) (*Plan, error) {
	t, err := parseTemplate(tmpl)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", name, err)
	}
	p, _, err := plan(name, t, tmpl, params, nil)
	if err != nil {
		return nil, err
	}
	p.Unchecked = why
	return p, nil
}

// plan is what deploying tmpl over st (nil: no stack) would do, but for
// the change set; previous are the stack's parameter values.
func plan(name string, t *template, tmpl []byte, params map[string]string, st *types.Stack) (*Plan, map[string]string, error) {
	sum, err := Summarize(tmpl)
	if err != nil {
		return nil, nil, err
	}
	p := &Plan{Stack: name, Template: sum, Action: "create"}
	var previous map[string]string
	if st != nil {
		p.Status = string(st.StackStatus)
		p.Action = "update"
		if err := usable(st); errors.Is(err, ErrRolledBack) {
			p.Action = "recreate"
			p.Problem = err.Error()
		} else if err != nil {
			p.Problem = err.Error()
		} else {
			previous = stackParams(st)
		}
	}
	for _, ps := range sum.Parameters {
		pp := PlannedParameter{Name: ps.Name}
		v, given := params[ps.Name]
		_, kept := previous[ps.Name]
		switch {
		case given:
			pp.Value, pp.Source = v, "given"
		case kept:
			pp.Value, pp.Source = previous[ps.Name], "previous"
		case ps.HasDefault:
			pp.Value, pp.Source = ps.Default, "default"
		default:
			pp.Source = "missing"
		}
		if ps.NoEcho && pp.Source != "missing" {
			pp.Value = secretMask
		}
		p.Parameters = append(p.Parameters, pp)
	}
	if err := checkParams(name, t, params, previous, true); err != nil && p.Problem == "" {
		p.Problem = err.Error()
	}
	return p, previous, nil
}

// changeSet computes an update's resource changes with a change set, and
// deletes it again. Failures become the note: a dry run still shows the
// summary.
func changeSet(ctx context.Context, cfn *cloudformation.Client, st *types.Stack, t *template, tmpl []byte, params, previous map[string]string) ([]Change, string) {
	// By name: moto finds an UPDATE change set's stack by name only (AWS
	// takes either).
	id := aws.ToString(st.StackName)
	var b [6]byte
	_, _ = rand.Read(b[:])
	csName := "strata-dry-run-" + hex.EncodeToString(b[:])
	res, err := cfn.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{
		StackName:     aws.String(id),
		ChangeSetName: aws.String(csName),
		ChangeSetType: types.ChangeSetTypeUpdate,
		TemplateBody:  aws.String(string(tmpl)),
		Parameters:    updateParams(t, params, previous),
		Capabilities:  capabilities(),
		Description:   aws.String("strata provision --dry-run; deleted right after it is read"),
	})
	if isNoUpdates(err) {
		return nil, "no changes"
	}
	if err != nil {
		return nil, fmt.Sprintf("changes unknown: could not create a change set: %v", err)
	}
	csID := res.Id
	defer func() {
		// Even when ctx was cancelled: a change set left behind would
		// clutter the stack.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = cfn.DeleteChangeSet(dctx, &cloudformation.DeleteChangeSetInput{ChangeSetName: csID, StackName: aws.String(id)})
	}()
	w := cloudformation.NewChangeSetCreateCompleteWaiter(cfn, func(o *cloudformation.ChangeSetCreateCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 2*time.Second, 10*time.Second
	})
	waitErr := w.Wait(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: csID, StackName: aws.String(id)}, 5*time.Minute)

	var changes []Change
	var token *string
	for {
		d, err := cfn.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: csID, StackName: aws.String(id), NextToken: token})
		if err != nil {
			return nil, fmt.Sprintf("changes unknown: could not read the change set: %v", err)
		}
		if d.Status == types.ChangeSetStatusFailed {
			reason := aws.ToString(d.StatusReason)
			if isNoChangesReason(reason) {
				return nil, "no changes"
			}
			return nil, "changes unknown: the change set failed: " + reason
		}
		if waitErr != nil {
			return nil, fmt.Sprintf("changes unknown: the change set did not complete (%s): %v", d.Status, waitErr)
		}
		for _, c := range d.Changes {
			rc := c.ResourceChange
			if rc == nil {
				continue
			}
			changes = append(changes, Change{
				Action: string(rc.Action), LogicalID: aws.ToString(rc.LogicalResourceId),
				Type: aws.ToString(rc.ResourceType), Replacement: string(rc.Replacement),
			})
		}
		if token = d.NextToken; token == nil || *token == "" {
			break
		}
	}
	if len(changes) == 0 {
		return nil, "no resource changes"
	}
	return changes, ""
}

// Print writes the plan for a person.
func (p *Plan) Print(w io.Writer) error {
	var b strings.Builder
	switch {
	case p.Unchecked != "":
		fmt.Fprintf(&b, "stack %s: not checked (%s); if it does not exist, it would be created\n", p.Stack, p.Unchecked)
	case p.Action == "create":
		fmt.Fprintf(&b, "stack %s: does not exist; would be created\n", p.Stack)
	case p.Action == "recreate":
		fmt.Fprintf(&b, "stack %s: %s; would be deleted and created again (only with --recreate)\n", p.Stack, p.Status)
	default:
		fmt.Fprintf(&b, "stack %s: %s; would be updated\n", p.Stack, p.Status)
	}
	if p.Problem != "" {
		fmt.Fprintf(&b, "  problem: %s\n", p.Problem)
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\n  Parameters:\n")
	for _, pp := range p.Parameters {
		v := pp.Value
		if pp.Source == "missing" {
			v = "(none)"
		} else if v == "" {
			v = `""`
		}
		fmt.Fprintf(tw, "    %s\t%s\t(%s)\n", pp.Name, v, pp.Source)
	}
	fmt.Fprintf(tw, "\n  Resources (%d):\n", len(p.Template.Resources))
	for _, r := range p.Template.Resources {
		fmt.Fprintf(tw, "    %s\t%s\n", r.LogicalID, r.Type)
	}
	if p.Action == "update" && p.Problem == "" {
		fmt.Fprintf(tw, "\n  Changes:\n")
		for _, c := range p.Changes {
			fmt.Fprintf(tw, "    %s\t%s\t%s", c.Action, c.LogicalID, c.Type)
			if c.Replacement == "True" || c.Replacement == "Conditional" {
				fmt.Fprintf(tw, "\treplacement: %s", c.Replacement)
			}
			fmt.Fprintln(tw)
		}
		if p.ChangesNote != "" {
			fmt.Fprintf(tw, "    %s\n", p.ChangesNote)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}
