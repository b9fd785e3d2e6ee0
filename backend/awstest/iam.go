package awstest

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
)

// IAMScan says where CheckIAMActions looks for a driver's SDK calls.
type IAMScan struct {
	// Service is the name the driver's source calls the SDK's service
	// package by ("s3", "dynamodb", "kms"), which is also the prefix of its
	// IAM actions ("s3:GetObject").
	Service string
	// MinCalls is the fewest operations the driver calls: finding fewer
	// means the scan is broken.
	MinCalls int
	// SetupFuncs are the driver's functions whose calls are not a server's
	// (creating a table, say), and are left out.
	SetupFuncs []string
	// WaiterOps names the operation each SDK waiter the driver uses polls
	// ("TableExists": "DescribeTable").
	WaiterOps map[string]string
}

// CheckIAMActions reads the non-test source of the package under test (the
// Go files of the current directory) and checks that iamActions, its map
// from SDK operation to the IAM actions the operation needs, lists exactly
// the operations it calls outside scan.SetupFuncs: the methods of client
// type C (a *Client of the SDK's service package) called anywhere, and the
// operations behind <Service>.New<Operation>Paginator and
// <Service>.New<Waiter>Waiter. Every action must be one of the service's,
// without wildcards.
func CheckIAMActions[C any](t *testing.T, iamActions map[string][]string, scan IAMScan) {
	t.Helper()
	called := sdkCalls(t, reflect.TypeFor[C](), scan)
	if len(called) < scan.MinCalls {
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
			if !strings.HasPrefix(a, scan.Service+":") || strings.ContainsAny(a, "*?") {
				t.Errorf("%s: action %q", op, a)
			}
		}
	}
}

// sdkCalls returns, sorted, the operations of client type ct (its methods
// other than Options) that the non-test files of the current directory
// call outside scan.SetupFuncs, and those paginated or waited for with the
// constructors of package scan.Service.
func sdkCalls(t *testing.T, ct reflect.Type, scan IAMScan) []string {
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
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && slices.Contains(scan.SetupFuncs, fd.Name.Name) {
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
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == scan.Service {
					if m := constructor.FindStringSubmatch(sel.Sel.Name); m != nil {
						op := m[1]
						if m[2] == "Waiter" {
							if op = scan.WaiterOps[m[1]]; op == "" {
								t.Errorf("%s: the package uses waiter %s; add the operation it polls to WaiterOps", name, sel.Sel.Name)
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
