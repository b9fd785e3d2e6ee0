package s3blob

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestIAMActionsCoverCalls reads this package's non-test source and checks
// that iamActions lists exactly the S3 operations it calls: a method of
// *s3.Client called anywhere, or an operation paginated by
// s3.New<Operation>Paginator.
func TestIAMActionsCoverCalls(t *testing.T) {
	called := sdkCalls(t, reflect.TypeFor[*s3.Client](), "s3")
	if len(called) < 10 {
		t.Fatalf("found only %v: the source scan is broken", called)
	}
	for _, op := range called {
		if _, ok := iamActions[op]; !ok {
			t.Errorf("the package calls %s, which iamActions does not list: add the IAM actions it needs (and grant them in provisioning/templates/storage.json)", op)
		}
	}
	for op, actions := range iamActions {
		if !slices.Contains(called, op) {
			t.Errorf("iamActions lists %s, which the package no longer calls", op)
		}
		for _, a := range actions {
			if !strings.HasPrefix(a, "s3:") || strings.ContainsAny(a, "*?") {
				t.Errorf("%s: action %q", op, a)
			}
		}
	}
}

// sdkCalls returns the operations of client type ct (methods other than
// Options) that the package's non-test files call, and those paginated with
// pkg.New<Operation>Paginator.
func sdkCalls(t *testing.T, ct reflect.Type, pkg string) []string {
	t.Helper()
	ops := map[string]bool{}
	for i := range ct.NumMethod() {
		if name := ct.Method(i).Name; name != "Options" {
			ops[name] = true
		}
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	paginator := regexp.MustCompile(`^New(\w+)Paginator$`)
	seen := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == pkg {
				if m := paginator.FindStringSubmatch(sel.Sel.Name); m != nil {
					seen[m[1]] = true
				}
				return true
			}
			if ops[sel.Sel.Name] {
				seen[sel.Sel.Name] = true
			}
			return true
		})
	}
	var out []string
	for op := range seen {
		out = append(out, op)
	}
	sort.Strings(out)
	return out
}
