package iam

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/internal/clip"
)

// MaxPolicySize is the largest policy document, in bytes as stored
// (whitespace included). AWS counts 6,144 characters without whitespace
// for a managed policy; counting every byte is simpler to predict and
// leaves room for an indented document of the same size.
const MaxPolicySize = 10 * 1024

// PolicyVersion is the one policy language version Strata takes.
// AWS still reads its older "2008-10-17", in which ${...} is plain text;
// it tells new policies not to use it, and every Strata policy is new,
// so Strata refuses it rather than let a variable silently mean itself.
const PolicyVersion = "2012-10-17"

// Effect is what a statement does when it applies.
type Effect string

// The effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// ErrMalformedPolicy is matched (errors.Is) by every error of Parse that
// is about the document, as is errs.ErrInvalid.
var ErrMalformedPolicy = errors.New("MalformedPolicyDocument")

// PolicyError says where a policy document is wrong and why, like IAM's
// MalformedPolicyDocument.
type PolicyError struct {
	// Pointer is the JSON pointer of the element at fault
	// ("/Statement/1/Action/0"), "" for the document itself.
	Pointer string
	// Line and Column (1-based, the column in characters) are where the
	// element starts in the document.
	Line, Column int
	Reason       string
}

func (e *PolicyError) Error() string {
	where := ""
	if e.Pointer != "" {
		where = e.Pointer + ": "
	}
	return fmt.Sprintf("%v: %s%s at line %d, column %d", ErrMalformedPolicy, where, e.Reason, e.Line, e.Column)
}

// Unwrap makes the error match ErrMalformedPolicy and errs.ErrInvalid.
func (e *PolicyError) Unwrap() []error { return []error{ErrMalformedPolicy, errs.ErrInvalid} }

// Policy is a policy document compiled for evaluation: parse it once
// (Parse), evaluate it at every decision (PolicySet.Evaluate). It never
// changes once made, so any number of decisions may share it.
type Policy struct {
	name  string
	stmts []statement
}

// Name is the policy's name, as decisions report it.
func (p *Policy) Name() string { return p.name }

// Statements are references to the policy's statements, in order.
func (p *Policy) Statements() []StatementRef {
	refs := make([]StatementRef, len(p.stmts))
	for i := range p.stmts {
		refs[i] = p.stmts[i].ref
	}
	return refs
}

// StatementRef names a statement, for a decision to say which statement
// decided (as `aws iam simulate-principal-policy` shows the matched
// statements).
type StatementRef struct {
	Policy string `json:"policy"`
	// Sid is the statement's Sid ("" if it has none).
	Sid string `json:"sid,omitempty"`
	// Index is the statement's place in the Statement list, from 0 as in
	// its JSON pointer (/Statement/<Index>).
	Index  int    `json:"index"`
	Effect Effect `json:"effect"`
	// Line and Column are where the statement starts in the document.
	Line   int `json:"line"`
	Column int `json:"column"`
}

// String names the statement: policy "home" statement "HomeFolder", or by
// its index when it has no Sid (policy "home" statement #2).
func (r *StatementRef) String() string {
	if r.Sid != "" {
		return fmt.Sprintf("policy %q statement %q", r.Policy, r.Sid)
	}
	return fmt.Sprintf("policy %q statement #%d", r.Policy, r.Index)
}

// statement is one compiled statement.
type statement struct {
	ref  StatementRef
	deny bool
	// actions is the set the statement applies to (NotAction compiled to
	// its complement among the known actions).
	actions     actionSet
	notResource bool
	resources   []pattern
	conds       []cond
	// reason is the decision's reason when this statement decides, made
	// once here so that a decision allocates nothing.
	reason string
}

// Parse checks and compiles a policy document named name. Every problem
// is a *PolicyError that says where and why.
func Parse(name string, doc []byte) (*Policy, error) {
	p := &parser{doc: doc}
	if len(doc) > MaxPolicySize {
		return nil, p.fail(MaxPolicySize, "", "the document is %d bytes; a policy is at most %d", len(doc), MaxPolicySize)
	}
	root, err := parseJSON(doc)
	if err != nil {
		var je *jsonError
		if errors.As(err, &je) {
			return nil, p.fail(je.off, je.ptr, "%s", je.reason)
		}
		return nil, err
	}
	stmts, err := p.document(root)
	if err != nil {
		return nil, err
	}
	pol := &Policy{name: name, stmts: stmts}
	for i := range pol.stmts {
		s := &pol.stmts[i]
		s.ref.Policy = name
		verb := "allowed by "
		if s.deny {
			verb = "denied by "
		}
		s.reason = verb + s.ref.String()
	}
	return pol, nil
}

// MustParse is Parse for the built-in policies and tests; it panics on
// error.
func MustParse(name, doc string) *Policy {
	p, err := Parse(name, []byte(doc))
	if err != nil {
		panic(err)
	}
	return p
}

// ValidPolicyName checks a policy's name as IAM does: 1 to 128 of
// letters, digits and + = , . @ _ -.
func ValidPolicyName(name string) error {
	if name == "" || len(name) > 128 {
		return fmt.Errorf("%w: a policy name is 1 to 128 characters", errs.ErrInvalid)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+=,.@_-", r)) {
			return fmt.Errorf("%w: policy name %q: %q is not allowed (letters, digits and + = , . @ _ -)", errs.ErrInvalid, clip.Text(name), r)
		}
	}
	return nil
}

type parser struct {
	doc []byte
}

func (p *parser) fail(off int, ptr, format string, args ...any) error {
	line, col := lineColumn(p.doc, off)
	return &PolicyError{Pointer: ptr, Line: line, Column: col, Reason: fmt.Sprintf(format, args...)}
}

func (p *parser) document(root *jsonValue) ([]statement, error) {
	if root.kind != jsonObject {
		return nil, p.fail(root.off, "", "a policy document is an object, not %v", root.kind)
	}
	var version, stmts *jsonValue
	for _, m := range root.members {
		ptr := "/" + pointerToken(m.key)
		switch m.key {
		case "Version":
			if m.value.kind != jsonString {
				return nil, p.fail(m.value.off, ptr, "Version is a string, not %v", m.value.kind)
			}
			version = m.value
		case "Id":
			if m.value.kind != jsonString {
				return nil, p.fail(m.value.off, ptr, "Id is a string, not %v", m.value.kind)
			}
		case "Statement":
			stmts = m.value
		default:
			return nil, p.fail(m.keyOff, ptr, "unknown field %q%s (a policy has Version, Id and Statement)", clip.Text(m.key), hint(m.key, "Version", "Id", "Statement"))
		}
	}
	switch {
	case version == nil:
		return nil, p.fail(root.off, "", "Version is missing: write \"Version\": %q", PolicyVersion)
	case version.text == "2008-10-17":
		return nil, p.fail(version.off, "/Version", "version \"2008-10-17\" is not supported (in it ${...} is plain text): write %q", PolicyVersion)
	case version.text != PolicyVersion:
		return nil, p.fail(version.off, "/Version", "unknown version %q: write %q", clip.Text(version.text), PolicyVersion)
	case stmts == nil:
		return nil, p.fail(root.off, "", "Statement is missing")
	}
	// As in AWS, Statement is a list of statements or a single one.
	var list []*jsonValue
	single := false
	switch stmts.kind {
	case jsonArray:
		list = stmts.elems
	case jsonObject:
		list, single = []*jsonValue{stmts}, true
	default:
		return nil, p.fail(stmts.off, "/Statement", "Statement is a list of statements or one statement, not %v", stmts.kind)
	}
	if len(list) == 0 {
		return nil, p.fail(stmts.off, "/Statement", "Statement is empty: a policy has at least one statement")
	}
	out := make([]statement, 0, len(list))
	sids := map[string]bool{}
	for i, v := range list {
		ptr := "/Statement"
		if !single {
			ptr += "/" + strconv.Itoa(i)
		}
		s, err := p.statement(v, ptr, i)
		if err != nil {
			return nil, err
		}
		if s.ref.Sid != "" {
			if sids[s.ref.Sid] {
				return nil, p.fail(v.off, ptr+"/Sid", "duplicate Sid %q: a policy's Sids are unique", s.ref.Sid)
			}
			sids[s.ref.Sid] = true
		}
		out = append(out, s)
	}
	return out, nil
}

func (p *parser) statement(v *jsonValue, ptr string, index int) (statement, error) {
	if v.kind != jsonObject {
		return statement{}, p.fail(v.off, ptr, "a statement is an object, not %v", v.kind)
	}
	line, col := lineColumn(p.doc, v.off)
	s := statement{ref: StatementRef{Index: index, Line: line, Column: col}}
	var effect, action, notAction, resource, notResource, condition *jsonMember
	for i := range v.members {
		m := &v.members[i]
		mptr := ptr + "/" + pointerToken(m.key)
		switch m.key {
		case "Sid":
			if m.value.kind != jsonString {
				return s, p.fail(m.value.off, mptr, "Sid is a string, not %v", m.value.kind)
			}
			if err := validSid(m.value.text); err != nil {
				return s, p.fail(m.value.off, mptr, "%v", err)
			}
			s.ref.Sid = m.value.text
		case "Effect":
			effect = m
		case "Action":
			action = m
		case "NotAction":
			notAction = m
		case "Resource":
			resource = m
		case "NotResource":
			notResource = m
		case "Condition":
			condition = m
		case "Principal", "NotPrincipal":
			return s, p.fail(m.keyOff, mptr, "%s is for resource-based policies: an identity policy applies to the users and groups it is attached to (and a session policy to its token)", m.key)
		default:
			return s, p.fail(m.keyOff, mptr, "unknown field %q%s (a statement has Sid, Effect, Action or NotAction, Resource or NotResource, and Condition)",
				clip.Text(m.key), hint(m.key, "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"))
		}
	}
	if effect == nil {
		return s, p.fail(v.off, ptr, "Effect is missing: Allow or Deny")
	}
	switch eptr := ptr + "/Effect"; {
	case effect.value.kind != jsonString:
		return s, p.fail(effect.value.off, eptr, "Effect is \"Allow\" or \"Deny\", not %v", effect.value.kind)
	case effect.value.text == string(Allow):
		s.ref.Effect = Allow
	case effect.value.text == string(Deny):
		s.ref.Effect, s.deny = Deny, true
	default:
		return s, p.fail(effect.value.off, eptr, "Effect is \"Allow\" or \"Deny\", not %q", clip.Text(effect.value.text))
	}

	am, negated, err := p.either(v, ptr, "Action", action, notAction)
	if err != nil {
		return s, err
	}
	if s.actions, err = p.actions(am, ptr+"/"+am.key); err != nil {
		return s, err
	}
	if negated {
		s.actions = s.actions.complement()
	}
	rm, negated, err := p.either(v, ptr, "Resource", resource, notResource)
	if err != nil {
		return s, err
	}
	if s.resources, err = p.resources(rm, ptr+"/"+rm.key); err != nil {
		return s, err
	}
	s.notResource = negated

	if condition != nil {
		if s.conds, err = p.conditions(condition.value, ptr+"/Condition"); err != nil {
			return s, err
		}
	}
	return s, nil
}

// either returns the one of an element and its Not form that the
// statement v has (negated: the Not form), refusing both and neither.
func (p *parser) either(v *jsonValue, ptr, name string, elem, notElem *jsonMember) (m *jsonMember, negated bool, err error) {
	switch {
	case elem != nil && notElem != nil:
		return nil, false, p.fail(notElem.keyOff, ptr+"/Not"+name, "a statement has %s or Not%s, not both", name, name)
	case elem != nil:
		return elem, false, nil
	case notElem != nil:
		return notElem, true, nil
	}
	return nil, false, p.fail(v.off, ptr, "%s (or Not%s) is missing", name, name)
}

// validSid checks a Sid as IAM does: letters and digits.
func validSid(sid string) error {
	if sid == "" || len(sid) > 128 {
		return errors.New("a Sid is 1 to 128 letters and digits")
	}
	for _, r := range sid {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Errorf("Sid %q: %q is not allowed (letters and digits)", clip.Text(sid), r)
		}
	}
	return nil
}

// strItem is one string of a string-or-list element, with where it is.
type strItem struct {
	s   string
	off int
	ptr string
}

// stringList reads an element that is a string or a non-empty list of
// strings, as AWS allows for Action and Resource.
func (p *parser) stringList(v *jsonValue, ptr, what string) ([]strItem, error) {
	switch v.kind {
	case jsonString:
		return []strItem{{v.text, v.off, ptr}}, nil
	case jsonArray:
		if len(v.elems) == 0 {
			return nil, p.fail(v.off, ptr, "%s is an empty list", what)
		}
		out := make([]strItem, len(v.elems))
		for i, e := range v.elems {
			eptr := ptr + "/" + strconv.Itoa(i)
			if e.kind != jsonString {
				return nil, p.fail(e.off, eptr, "%s holds strings, not %v", what, e.kind)
			}
			out[i] = strItem{e.text, e.off, eptr}
		}
		return out, nil
	}
	return nil, p.fail(v.off, ptr, "%s is a string or a list of strings, not %v", what, v.kind)
}

func (p *parser) actions(m *jsonMember, ptr string) (actionSet, error) {
	items, err := p.stringList(m.value, ptr, m.key)
	if err != nil {
		return nil, err
	}
	set := newActionSet()
	for _, it := range items {
		if err := set.addPattern(it.s); err != nil {
			return nil, p.fail(it.off, it.ptr, "%v", err)
		}
	}
	return set, nil
}

func (p *parser) resources(m *jsonMember, ptr string) ([]pattern, error) {
	items, err := p.stringList(m.value, ptr, m.key)
	if err != nil {
		return nil, err
	}
	out := make([]pattern, len(items))
	for i, it := range items {
		pat, err := compileResource(it.s)
		if err != nil {
			return nil, p.fail(it.off, it.ptr, "%v", err)
		}
		out[i] = pat
	}
	return out, nil
}

// hint suggests the known name that differs from name only in case.
func hint(name string, known ...string) string {
	for _, k := range known {
		if strings.EqualFold(k, name) {
			return fmt.Sprintf(" (names are case-sensitive: did you mean %q?)", k)
		}
	}
	return ""
}
