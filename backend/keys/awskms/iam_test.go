package awskms

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

	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// setupFuncs are the functions whose calls are not a server's: none here.
var setupFuncs []string

// waiterOps names the operation each SDK waiter the package uses polls.
var waiterOps = map[string]string{}

// TestIAMActionsCoverCalls reads this package's non-test source and checks
// that iamActions lists exactly the KMS operations it calls outside
// setupFuncs: methods of *kms.Client, and the operations behind
// kms.New<Operation>Paginator and kms.New<Waiter>Waiter.
func TestIAMActionsCoverCalls(t *testing.T) {
	called := sdkCalls(t, reflect.TypeFor[*kms.Client](), "kms")
	if len(called) < 4 {
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
			if !strings.HasPrefix(a, "kms:") || strings.ContainsAny(a, "*?") {
				t.Errorf("%s: action %q", op, a)
			}
		}
	}
}

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
	constructor := regexp.MustCompile(`^New(\w+?)(Paginator|Waiter)$`)
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
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && slices.Contains(setupFuncs, fd.Name.Name) {
				continue
			}
			ast.Inspect(d, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == pkg {
					if m := constructor.FindStringSubmatch(sel.Sel.Name); m != nil {
						op := m[1]
						if m[2] == "Waiter" {
							if op = waiterOps[m[1]]; op == "" {
								t.Errorf("%s: the package uses waiter %s; add the operation it polls to waiterOps", name, sel.Sel.Name)
							}
						}
						seen[op] = true
					}
					return true
				}
				if ops[sel.Sel.Name] {
					seen[sel.Sel.Name] = true
				}
				return true
			})
		}
	}
	var out []string
	for op := range seen {
		if op != "" {
			out = append(out, op)
		}
	}
	sort.Strings(out)
	return out
}
