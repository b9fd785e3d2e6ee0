package iam

import (
	"errors"
	"strings"
	"testing"

	"github.com/strata-storage/strata/backend/errs"
)

// stmt is a one-statement policy around the statement's fields.
func stmt(fields string) string {
	return `{"Version":"2012-10-17","Statement":[{` + fields + `}]}`
}

// cond is a one-statement Allow of GetFile on * under the condition.
func condDoc(condition string) string {
	return stmt(`"Effect":"Allow","Action":"strata:GetFile","Resource":"*","Condition":` + condition)
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		ptr       string
		reason    string
	}{
		{"empty", ``, "", "unexpected end"},
		{"not JSON", `Version: 2012`, "", "invalid character"},
		{"truncated", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow"`, "/Statement/0", "unexpected end"},
		{"trailing comma", stmt(`"Effect":"Allow","Action":"*","Resource":"*",`), "/Statement/0", "invalid character '}'"},
		{"after the document", stmt(`"Effect":"Allow","Action":"*","Resource":"*"`) + `{}`, "", "unexpected data after"},
		{"invalid UTF-8", "{\"Version\":\"2012-10-17\xff\"}", "", "not valid UTF-8"},
		{"too deep", stmt(`"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"strata:Via":[[[[[[[[[[[[["http"]]]]]]]]]]]]]}}`), "/Statement/0/Condition/StringEquals/strata:Via/0/0/0/0/0/0/0/0/0/0/0", "nested deeper"},
		{"not an object", `["Version"]`, "", "is an object, not a list"},
		{"duplicate key", stmt(`"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"`), "/Statement/0/Effect", `duplicate key "Effect"`},
		{"duplicate top key", `{"Version":"2012-10-17","Version":"2012-10-17","Statement":[]}`, "/Version", "duplicate key"},
		{"unknown top field", `{"Version":"2012-10-17","Statment":[]}`, "/Statment", `unknown field "Statment"`},
		{"wrong case top field", `{"version":"2012-10-17","Statement":[]}`, "/version", `did you mean "Version"`},
		{"no version", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, "", "Version is missing"},
		{"old version", `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, "/Version", `"2008-10-17" is not supported`},
		{"unknown version", `{"Version":"2012-10-18","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, "/Version", "unknown version"},
		{"version not a string", `{"Version":2012,"Statement":[]}`, "/Version", "Version is a string"},
		{"no statement", `{"Version":"2012-10-17"}`, "", "Statement is missing"},
		{"empty statement list", `{"Version":"2012-10-17","Statement":[]}`, "/Statement", "Statement is empty"},
		{"statement a string", `{"Version":"2012-10-17","Statement":"x"}`, "/Statement", "not a string"},
		{"statement not an object", `{"Version":"2012-10-17","Statement":[1]}`, "/Statement/0", "a statement is an object"},
		{"empty statement", stmt(``), "/Statement/0", "Effect is missing"},
		{"unknown statement field", stmt(`"Effect":"Allow","Action":"*","Resource":"*","Resources":"*"`), "/Statement/0/Resources", `unknown field "Resources"`},
		{"wrong case statement field", stmt(`"effect":"Allow","Action":"*","Resource":"*"`), "/Statement/0/effect", `did you mean "Effect"`},
		{"principal", stmt(`"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"`), "/Statement/0/Principal", "resource-based policies"},
		{"not principal", stmt(`"Effect":"Allow","NotPrincipal":{"AWS":"x"},"Action":"*","Resource":"*"`), "/Statement/0/NotPrincipal", "resource-based policies"},
		{"bad effect", stmt(`"Effect":"allow","Action":"*","Resource":"*"`), "/Statement/0/Effect", `not "allow"`},
		{"effect not a string", stmt(`"Effect":true,"Action":"*","Resource":"*"`), "/Statement/0/Effect", "not true or false"},
		{"bad sid", stmt(`"Sid":"my sid","Effect":"Allow","Action":"*","Resource":"*"`), "/Statement/0/Sid", "not allowed"},
		{"empty sid", stmt(`"Sid":"","Effect":"Allow","Action":"*","Resource":"*"`), "/Statement/0/Sid", "1 to 128"},
		{"duplicate sid", `{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"*","Resource":"*"}]}`, "/Statement/1/Sid", "duplicate Sid"},
		{"action and not action", stmt(`"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"`), "/Statement/0/NotAction", "not both"},
		{"no action", stmt(`"Effect":"Allow","Resource":"*"`), "/Statement/0", "Action (or NotAction) is missing"},
		{"empty action list", stmt(`"Effect":"Allow","Action":[],"Resource":"*"`), "/Statement/0/Action", "empty list"},
		{"action a number", stmt(`"Effect":"Allow","Action":3,"Resource":"*"`), "/Statement/0/Action", "a string or a list of strings"},
		{"action list of numbers", stmt(`"Effect":"Allow","Action":["strata:GetFile",3],"Resource":"*"`), "/Statement/0/Action/1", "holds strings"},
		{"unknown action", stmt(`"Effect":"Allow","Action":["strata:GetFile","strata:GetFiles"],"Resource":"*"`), "/Statement/0/Action/1", `unknown action "strata:GetFiles"`},
		{"unknown not action", stmt(`"Effect":"Allow","NotAction":"strata:Fly","Resource":"*"`), "/Statement/0/NotAction", `unknown action "strata:Fly"`},
		{"other namespace", stmt(`"Effect":"Allow","Action":"s3:GetObject","Resource":"*"`), "/Statement/0/Action", "strata: namespace"},
		{"other namespace wildcard", stmt(`"Effect":"Allow","Action":"s3:*","Resource":"*"`), "/Statement/0/Action", "strata: namespace"},
		{"wildcard matching nothing", stmt(`"Effect":"Allow","Action":"strata:Fly*","Resource":"*"`), "/Statement/0/Action", "unknown action"},
		{"action without namespace", stmt(`"Effect":"Allow","Action":"GetFile","Resource":"*"`), "/Statement/0/Action", "is not strata:<Name>"},
		{"action bad character", stmt(`"Effect":"Allow","Action":"strata:Get-File","Resource":"*"`), "/Statement/0/Action", `'-' is not allowed`},
		{"action variable", stmt(`"Effect":"Allow","Action":"strata:${strata:username}","Resource":"*"`), "/Statement/0/Action", `'$' is not allowed`},
		{"action empty name", stmt(`"Effect":"Allow","Action":"strata:","Resource":"*"`), "/Statement/0/Action", "no name"},
		{"resource and not resource", stmt(`"Effect":"Allow","Action":"*","Resource":"*","NotResource":"/x"`), "/Statement/0/NotResource", "not both"},
		{"no resource", stmt(`"Effect":"Allow","Action":"*"`), "/Statement/0", "Resource (or NotResource) is missing"},
		{"empty resource", stmt(`"Effect":"Allow","Action":"*","Resource":""`), "/Statement/0/Resource", "empty resource"},
		{"relative resource", stmt(`"Effect":"Allow","Action":"*","Resource":"projects/*"`), "/Statement/0/Resource", "is not *, a path"},
		{"wildcard first resource", stmt(`"Effect":"Allow","Action":"*","Resource":"*.txt"`), "/Statement/0/Resource", "is not *, a path"},
		{"trailing slash", stmt(`"Effect":"Allow","Action":"*","Resource":["/x","/projects/"]`), "/Statement/0/Resource/1", `everything in it "/projects/*"`},
		{"empty name", stmt(`"Effect":"Allow","Action":"*","Resource":"/a//b"`), "/Statement/0/Resource", "empty names"},
		{"dot dot", stmt(`"Effect":"Allow","Action":"*","Resource":"/a/../b/*"`), "/Statement/0/Resource", `no ".." names`},
		{"control character", stmt(`"Effect":"Allow","Action":"*","Resource":"/a\u0001b"`), "/Statement/0/Resource", "control character"},
		{"unknown kind", stmt(`"Effect":"Allow","Action":"*","Resource":"strata:tokens/alice/*"`), "/Statement/0/Resource", "unknown resource kind"},
		{"kind alone", stmt(`"Effect":"Allow","Action":"*","Resource":"strata:user"`), "/Statement/0/Resource", "write strata:user/<name>"},
		{"arn", stmt(`"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::bucket/*"`), "/Statement/0/Resource", "is not *, a path"},
		{"unknown variable", stmt(`"Effect":"Allow","Action":"*","Resource":"/home/${aws:username}/*"`), "/Statement/0/Resource", `unknown policy variable "${aws:username}"`},
		{"unclosed variable", stmt(`"Effect":"Allow","Action":"*","Resource":"/home/${strata:username"`), "/Statement/0/Resource", "unclosed policy variable"},
		{"variable default", stmt(`"Effect":"Allow","Action":"*","Resource":"/home/${strata:username, 'x'}/*"`), "/Statement/0/Resource", "unknown policy variable"},
		{"condition not an object", condDoc(`[]`), "/Statement/0/Condition", "an object of operators"},
		{"empty condition", condDoc(`{}`), "/Statement/0/Condition", "Condition is empty"},
		{"unknown operator", condDoc(`{"StringEqual":{"strata:Via":"http"}}`), "/Statement/0/Condition/StringEqual", `unknown condition operator "StringEqual"`},
		{"operator case", condDoc(`{"stringEquals":{"strata:Via":"http"}}`), "/Statement/0/Condition/stringEquals", `did you mean "StringEquals"`},
		{"unknown qualifier", condDoc(`{"ForEachValue:StringEquals":{"strata:Via":"http"}}`), "/Statement/0/Condition/ForEachValue:StringEquals", "qualifiers are"},
		{"null if exists", condDoc(`{"NullIfExists":{"strata:TokenId":"true"}}`), "/Statement/0/Condition/NullIfExists", "Null takes no IfExists"},
		{"operator without keys", condDoc(`{"StringEquals":{}}`), "/Statement/0/Condition/StringEquals", "names no condition key"},
		{"operator not an object", condDoc(`{"StringEquals":"x"}`), "/Statement/0/Condition/StringEquals", "object of condition keys"},
		{"unknown key", condDoc(`{"StringEquals":{"aws:username":"alice"}}`), "/Statement/0/Condition/StringEquals/aws:username", `unknown condition key "aws:username"`},
		{"key with slash", condDoc(`{"StringEquals":{"strata:a/b~c":"x"}}`), "/Statement/0/Condition/StringEquals/strata:a~1b~0c", "unknown condition key"},
		{"type mismatch", condDoc(`{"NumericLessThan":{"strata:Via":"3"}}`), "/Statement/0/Condition/NumericLessThan/strata:Via", "strata:Via is a string"},
		{"string op on ip", condDoc(`{"StringLike":{"strata:SourceIp":"10.*"}}`), "/Statement/0/Condition/StringLike/strata:SourceIp", "use IpAddress or NotIpAddress"},
		{"empty value list", condDoc(`{"StringEquals":{"strata:Via":[]}}`), "/Statement/0/Condition/StringEquals/strata:Via", "list of values is empty"},
		{"object value", condDoc(`{"StringEquals":{"strata:Via":{"a":"b"}}}`), "/Statement/0/Condition/StringEquals/strata:Via", "not an object"},
		{"null value", condDoc(`{"StringEquals":{"strata:Via":["http",null]}}`), "/Statement/0/Condition/StringEquals/strata:Via/1", "not null"},
		{"unknown via", condDoc(`{"StringEquals":{"strata:Via":"htp"}}`), "/Statement/0/Condition/StringEquals/strata:Via", "not an entry point"},
		{"bad cidr", condDoc(`{"IpAddress":{"strata:SourceIp":["10.0.0.0/8","10.0.0.0/33"]}}`), "/Statement/0/Condition/IpAddress/strata:SourceIp/1", "not a CIDR block"},
		{"bad ip", condDoc(`{"NotIpAddress":{"strata:SourceIp":"10.0.0"}}`), "/Statement/0/Condition/NotIpAddress/strata:SourceIp", "not an IP address"},
		{"bad number", condDoc(`{"NumericLessThan":{"strata:ContentLength":"10MB"}}`), "/Statement/0/Condition/NumericLessThan/strata:ContentLength", "not a number"},
		{"hex number", condDoc(`{"NumericLessThan":{"strata:ContentLength":"0x10"}}`), "/Statement/0/Condition/NumericLessThan/strata:ContentLength", "not a number"},
		{"huge number", condDoc(`{"NumericLessThan":{"strata:ContentLength":1e999}}`), "/Statement/0/Condition/NumericLessThan/strata:ContentLength", "out of range"},
		{"bad date", condDoc(`{"DateLessThan":{"strata:CurrentTime":"2026-13-01"}}`), "/Statement/0/Condition/DateLessThan/strata:CurrentTime", "not a date"},
		{"year alone", condDoc(`{"DateLessThan":{"strata:CurrentTime":"2026"}}`), "/Statement/0/Condition/DateLessThan/strata:CurrentTime", "ambiguous"},
		{"date without zone", condDoc(`{"DateLessThan":{"strata:CurrentTime":"2026-12-01T10:00:00"}}`), "/Statement/0/Condition/DateLessThan/strata:CurrentTime", "not a date"},
		{"bad bool", condDoc(`{"Bool":{"strata:SecureTransport":"yes"}}`), "/Statement/0/Condition/Bool/strata:SecureTransport", "not true or false"},
		{"bad null", condDoc(`{"Null":{"strata:TokenId":"absent"}}`), "/Statement/0/Condition/Null/strata:TokenId", "true: the key is absent"},
		{"condition value variable", condDoc(`{"StringEquals":{"strata:TokenId":"${strata:token}"}}`), "/Statement/0/Condition/StringEquals/strata:TokenId", "unknown policy variable"},
		{"oversized", stmt(`"Sid":"` + strings.Repeat("a", MaxPolicySize) + `","Effect":"Allow","Action":"*","Resource":"*"`), "", "a policy is at most 10240"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("p", []byte(tc.doc))
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("err %v, want a PolicyError", err)
			}
			if !errors.Is(err, ErrMalformedPolicy) || !errors.Is(err, errs.ErrInvalid) {
				t.Errorf("%v does not match ErrMalformedPolicy and errs.ErrInvalid", err)
			}
			if pe.Pointer != tc.ptr || !strings.Contains(pe.Reason, tc.reason) {
				t.Errorf("got %q at %q, want %q at %q", pe.Reason, pe.Pointer, tc.reason, tc.ptr)
			}
			if pe.Line < 1 || pe.Column < 1 || !strings.HasPrefix(err.Error(), "MalformedPolicyDocument: ") {
				t.Errorf("%v", err)
			}
		})
	}
}

// Errors say where, as line and column (characters, not bytes) of the
// element at fault.
func TestParseErrorPosition(t *testing.T) {
	doc := `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": "strata:GetFile", "Resource": "/é/*"},
    {
      "Effect": "Allow",
      "Action": ["strata:ListFolder", "strata:GetFiles"],
      "Resource": "*"
    }
  ]
}`
	_, err := Parse("p", []byte(doc))
	want := `MalformedPolicyDocument: /Statement/1/Action/1: unknown action "strata:GetFiles" at line 7, column 39`
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
	_, err = Parse("p", []byte("{\n \"Version\": \"2012-10-17\",\n \"Statement\": {\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"/é/\"}}"))
	var pe *PolicyError
	if !errors.As(err, &pe) || pe.Pointer != "/Statement/Resource" || pe.Line != 3 || pe.Column != 62 {
		t.Fatalf("single statement: %v", err)
	}
	_, err = Parse("p", []byte("{\"Version\": \"2012-10-17\",\n\"Statement\": [\n  {\"Effect\": \"Allow\",\n   \"Effect\": \"Deny\"}]}"))
	if !errors.As(err, &pe) || pe.Pointer != "/Statement/0/Effect" || pe.Line != 4 || pe.Column != 4 {
		t.Fatalf("duplicate: %v", err)
	}
	_, err = Parse("p", []byte("{\"Version\": \"2012-10-17\",\n  \"Statement\": [}"))
	if !errors.As(err, &pe) || pe.Line != 2 || pe.Column != 17 {
		t.Fatalf("syntax: %v", err)
	}
}

// What AWS accepts, Strata accepts: a single statement for the list, a
// string for a one-item list, numbers and booleans as condition values,
// action names in any case, an Id, and a document of exactly the size
// limit.
func TestParseAccepts(t *testing.T) {
	for _, doc := range []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"strata:GetFile","Resource":"/x"}}`,
		`{"Version":"2012-10-17","Id":"readers","Statement":[{"Sid":"R1","Effect":"Deny","NotAction":["strata:GetFile"],"NotResource":["/x","/y/*"]}]}`,
		stmt(`"Effect":"Allow","Action":["strata:getfile","STRATA:LISTFOLDER","strata:List*","strata:???File"],"Resource":"*"`),
		condDoc(`{"NumericLessThanEquals":{"strata:ContentLength":1048576},"Bool":{"strata:SecureTransport":true},"DateLessThan":{"strata:CurrentTime":1893456000}}`),
		condDoc(`{"ForAnyValue:StringLikeIfExists":{"STRATA:VIA":["ss*"]},"Null":{"strata:TokenId":false},"StringEqualsIgnoreCase":{"strata:Via":"HTTP"}}`),
		condDoc(`{"IpAddress":{"strata:SourceIp":["203.0.113.0/24","2001:db8::/32","198.51.100.7","::ffff:10.0.0.0/104"]}}`),
		condDoc(`{"DateGreaterThan":{"strata:CurrentTime":["2026-01","2026-01-02","2026-01-02T03:04Z","2026-01-02T03:04:05+01:00","2026-01-02T03:04:05.123Z"]}}`),
		stmt(`"Effect":"Allow","Action":"*","Resource":["/","/a b/*","/home/${strata:username}","strata:*","strata:t*","strata:system/keys","/literal/${*}/${?}/${$}"]`),
		stmt(`"Effect":"Allow","Action":"*","Resource":"*","Sid":"` + strings.Repeat("a", 128) + `"`),
	} {
		if _, err := Parse("p", []byte(doc)); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
	pad := MaxPolicySize - len(stmt(`"Effect":"Allow","Action":"*","Resource":"*"`))
	doc := stmt(`"Effect":"Allow","Action":"*","Resource":"*"`) + strings.Repeat(" ", pad)
	if _, err := Parse("p", []byte(doc)); err != nil || len(doc) != MaxPolicySize {
		t.Errorf("a document of %d bytes: %v", len(doc), err)
	}
	if _, err := Parse("p", []byte(doc+" ")); err == nil {
		t.Errorf("a document of %d bytes accepted", len(doc)+1)
	}
}

func TestValidPolicyName(t *testing.T) {
	for name, ok := range map[string]bool{
		"home": true, "read-only.projects_2026@team+x=y,z": true, strings.Repeat("a", 128): true,
		"": false, strings.Repeat("a", 129): false, "a b": false, "a/b": false, "é": false,
	} {
		if err := ValidPolicyName(name); (err == nil) != ok {
			t.Errorf("%q: %v", name, err)
		}
	}
}
