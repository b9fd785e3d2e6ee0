package iam

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/strata-storage/strata/internal/storepath"
)

// FuzzParse feeds documents to the parser: it never panics, every error
// is a PolicyError at a place inside the document, and what it accepts
// evaluates (without panicking) to decisions that name their statement.
// The seed corpus is testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(HomePolicyDocument))
	f.Add([]byte(AdminPolicyDocument))
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := Parse("fuzz", doc)
		if err != nil {
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("%v is not a PolicyError", err)
			}
			lines := 1 + bytes.Count(doc, []byte{'\n'})
			if pe.Line < 1 || pe.Line > lines || pe.Column < 1 || pe.Reason == "" || !strings.HasPrefix(err.Error(), "MalformedPolicyDocument: ") {
				t.Fatalf("bad error position or text: %+v (%d lines)", pe, lines)
			}
			if pe.Pointer != "" && !strings.HasPrefix(pe.Pointer, "/") {
				t.Fatalf("bad pointer %q", pe.Pointer)
			}
			return
		}
		if len(doc) > MaxPolicySize {
			t.Fatalf("accepted a document of %d bytes", len(doc))
		}
		if len(p.Statements()) == 0 {
			t.Fatal("accepted a policy without statements")
		}
		set := &PolicySet{Identity: []*Policy{p}}
		for _, pr := range []Principal{User("u1", "alice", false, "t1"), {Kind: KindUser, UserID: "u2", Name: "b"}} {
			for _, act := range Actions {
				for _, res := range fuzzResources {
					d := set.Evaluate(pr, act, res, fuzzRequest)
					checkDecision(t, d)
				}
			}
		}
	})
}

var fuzzResources = []Resource{
	PathOf(storepath.Root), PathOf(storepath.MustParse("/home/alice")), PathOf(storepath.MustParse("/home/alice/a/b.txt")),
	PathOf(storepath.MustParse("/projects/x")), TokenOf("alice", ""), TrashOf("bob", "1"), UserNamed("alice"), System("keys"),
}

var fuzzRequest = Request{SourceIP: "203.0.113.7", SecureTransport: true, Time: time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), ContentLength: 1000, HasContentLength: true}

// checkDecision checks what every decision must be: an allow names the
// Allow that allowed; a named statement has the decision's effect.
func checkDecision(t *testing.T, d Decision) {
	t.Helper()
	if d.Reason == "" {
		t.Fatalf("no reason: %+v", d)
	}
	if d.Allowed && (d.Statement == nil || d.Statement.Effect != Allow) {
		t.Fatalf("an allow without its Allow statement: %+v", d)
	}
	if !d.Allowed && d.Statement != nil && d.Statement.Effect != Deny {
		t.Fatalf("a deny by an Allow statement: %+v", d)
	}
	if d.SessionStatement != nil && (!d.Allowed || d.SessionStatement.Effect != Allow) {
		t.Fatalf("a session statement on %+v", d)
	}
}

var (
	denyAll  = MustParse("deny-all", `{"Version":"2012-10-17","Statement":{"Sid":"No","Effect":"Deny","Action":"*","Resource":"*"}}`)
	allowAll = MustParse("allow-all", `{"Version":"2012-10-17","Statement":{"Sid":"Yes","Effect":"Allow","Action":"*","Resource":"*"}}`)
)

// FuzzEvaluate checks the evaluation's laws on fuzzed policies and
// requests: an explicit Deny wins over any Allow; a session policy only
// narrows; allowing everything more changes nothing but implicit denies;
// and the pattern matcher agrees with a regular expression built from
// the same pattern (and case folding with strings.EqualFold). The seed
// corpus is testdata/fuzz/FuzzEvaluate.
func FuzzEvaluate(f *testing.F) {
	f.Add(HomePolicyDocument, "", "alice", uint8(1), uint8(0), "/home/alice/x", "", "203.0.113.7", int64(10), true)
	f.Fuzz(func(t *testing.T, identity, session, name string, act, kind uint8, path, id, ip string, length int64, tls bool) {
		checkPatternAgainstRegexp(t, path, id, name)

		idp, err := Parse("identity", []byte(identity))
		if err != nil {
			return
		}
		var sp *Policy
		if session != "" {
			if sp, err = Parse("session", []byte(session)); err != nil {
				return
			}
		}
		pr := Principal{Kind: KindUser, UserID: "id-" + name, Name: name, TokenID: id, Via: ViaHTTP}
		if !pr.Authenticated() {
			return
		}
		action := Actions[int(act)%len(Actions)]
		var res Resource
		switch k := kind % 7; k {
		case 0:
			p, err := storepath.Parse(path)
			if err != nil {
				return
			}
			res = PathOf(p)
		case 6:
			res = System(id)
		default:
			res = Resource{Kind: resourceKinds[k-1], Owner: path, ID: id}
		}
		req := Request{SourceIP: ip, SecureTransport: tls, Time: time.Unix(length, 0), ContentLength: length, HasContentLength: length%2 == 0}

		alone := (&PolicySet{Identity: []*Policy{idp}}).Evaluate(pr, action, res, req)
		checkDecision(t, alone)
		withSession := (&PolicySet{Identity: []*Policy{idp}, Session: sp}).Evaluate(pr, action, res, req)
		checkDecision(t, withSession)
		if withSession.Allowed && !alone.Allowed {
			t.Fatalf("the session policy widened: %+v, alone %+v", withSession, alone)
		}
		if sp == nil && withSession != alone {
			t.Fatalf("not deterministic: %+v, then %+v", alone, withSession)
		}
		if d := (&PolicySet{Identity: []*Policy{allowAll, idp}, Session: sp}).Evaluate(pr, action, res, req); d.ExplicitDeny() != withSession.ExplicitDeny() {
			t.Fatalf("allowing more changed an explicit deny: %+v, before %+v", d, withSession)
		}
		if d := (&PolicySet{Identity: []*Policy{idp, denyAll}, Session: sp}).Evaluate(pr, action, res, req); d.Allowed || !d.ExplicitDeny() {
			t.Fatalf("a Deny of everything did not deny: %+v", d)
		}
		if d := (&PolicySet{Identity: []*Policy{allowAll}, Session: idp}).Evaluate(pr, action, res, req); d.Allowed != alone.Allowed {
			t.Fatalf("as a session policy under allow-all: %+v, as identity %+v", d, alone)
		}
	})
}

// checkPatternAgainstRegexp compiles pat as a resource pattern (and as a
// literal) and checks its matching of subject against a reference.
func checkPatternAgainstRegexp(t *testing.T, pat, subject, name string) {
	// A policy's patterns are valid UTF-8 (the document is), as are
	// user names; the regexp package refuses anything else.
	if !utf8.ValidString(pat) || !utf8.ValidString(name) {
		return
	}
	v := &vars{username: name, userid: "id-" + name}
	p, err := compilePattern(pat, true)
	if err != nil {
		return
	}
	var re strings.Builder
	re.WriteString(`(?s)^`)
	var lit strings.Builder
	for _, tok := range p.toks {
		switch tok.kind {
		case tokLiteral:
			re.WriteString(regexp.QuoteMeta(tok.lit))
		case tokStar:
			re.WriteString(`.*`)
		case tokOne:
			re.WriteString(`.`)
		default:
			re.WriteString(regexp.QuoteMeta(v.value(tok.kind)))
		}
	}
	re.WriteString(`$`)
	want := regexp.MustCompile(re.String()).MatchString(subject)
	if got := p.match(subject, v, false); got != want {
		t.Fatalf("pattern %q on %q: %v, the regexp %s says %v", pat, subject, got, re.String(), want)
	}

	lp, err := compilePattern(pat, false)
	if err != nil {
		t.Fatalf("%q compiles with wildcards but not without: %v", pat, err)
	}
	for _, tok := range lp.toks {
		switch tok.kind {
		case tokLiteral:
			lit.WriteString(tok.lit)
		case tokStar, tokOne:
			t.Fatalf("a wildcard token in a literal pattern %q", pat)
		default:
			lit.WriteString(v.value(tok.kind))
		}
	}
	if got, want := lp.match(subject, v, false), lit.String() == subject; got != want {
		t.Fatalf("literal %q on %q: %v, want %v", pat, subject, got, want)
	}
	if got, want := lp.match(subject, v, true), strings.EqualFold(lit.String(), subject); got != want {
		t.Fatalf("folded %q on %q: %v, want %v", pat, subject, got, want)
	}
}
