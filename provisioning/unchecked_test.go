package provisioning_test

import (
	"strings"
	"testing"

	"github.com/strata-storage/strata/provisioning"
)

// TestUnchecked: a plan made without AWS shows the template and the
// parameters of a first deployment, says why the stack was not checked,
// and still names the parameters a creation would lack.
func TestUnchecked(t *testing.T) {
	p, err := provisioning.Unchecked("strata", provisioning.StorageTemplate(), map[string]string{"TableName": "files"}, "no AWS credentials")
	if err != nil {
		t.Fatal(err)
	}
	if p.Action != "create" || p.Unchecked != "no AWS credentials" || p.Status != "" || len(p.Template.Resources) == 0 || p.Problem != "" {
		t.Fatalf("plan %+v", p)
	}
	var b strings.Builder
	if err := p.Print(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stack strata: not checked (no AWS credentials); if it does not exist, it would be created",
		"TableName", "files", "(given)", "AWS::S3::Bucket"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("printed plan lacks %q:\n%s", want, b.String())
		}
	}

	svc := provisioning.ServiceStack("strata")
	p, err = provisioning.Unchecked(svc.Name, svc.Template(), map[string]string{"StorageStack": "strata"}, "no AWS region")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Problem, "Image") {
		t.Fatalf("a service stack without its parameters: problem %q", p.Problem)
	}
}
