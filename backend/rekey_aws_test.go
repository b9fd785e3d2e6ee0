package backend_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/keys"
	"github.com/strata-storage/strata/backend/keys/awskms"
)

// A rotation on KMS (moto): the alias is repointed to a new key and the
// old one listed as previous; rotate moves every data key onto the new
// key, and the status shows the previous key unused. Everything then reads
// without the previous key.
func TestRotateKeysOnKMS(t *testing.T) {
	ctx := context.Background()
	kc := awstest.KMS(t)
	newKey := func() string {
		out, err := kc.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecSymmetricDefault})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.KeyMetadata.Arn)
	}
	arnA := newKey()
	alias := "alias/" + awstest.Name("strata-rotate")
	if _, err := kc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(arnA)}); err != nil {
		t.Fatal(err)
	}
	service := func(previous ...string) keys.Service {
		s, err := awskms.New(kc, alias, previous...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var cfg backend.Config
	e := newAWSEnv(t, noKeyCache(), func(c *backend.Config) { c.Keys = service() }, func(c *backend.Config) { cfg = *c })
	if err := e.b.CheckKeys(ctx); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for i := range 12 {
		path := fmt.Sprintf("/data/f%02d", i)
		files[path] = data(100+i, uint64(i))
		e.put(e.admin, path, files[path])
	}

	// The operator rotates by hand: a new key behind the alias, the old
	// one listed as previous.
	arnB := newKey()
	if _, err := kc.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(arnB)}); err != nil {
		t.Fatal(err)
	}
	cfg.Keys = service(arnA)
	b2, err := backend.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.b = b2
	st := e.keyStatus()
	if st.Current != arnB || st.MakesKeys || st.RetiresKeys || !st.ScannedAt.IsZero() {
		t.Errorf("status before: %+v", st)
	}
	job := e.rotate()
	if job.State != backend.JobDone {
		t.Fatalf("job: %+v", job)
	}
	st = e.keyStatus()
	want := []backend.KeyUse{{ID: arnB, Current: true, Known: true, DataKeys: 13}, {ID: arnA, Known: true}}
	if !slices.Equal(st.Keys, want) || st.ScannedAt.IsZero() || st.Rotation.Pass != 1 || st.Rotation.Rewrapped != 13 || len(st.Rotation.Retired) != 0 {
		t.Errorf("status after: keys %+v (want %+v), rotation %+v", st.Keys, want, st.Rotation)
	}

	// The previous key can go: nothing needs it.
	cfg.Keys = service()
	b3, err := backend.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.b = b3
	if err := b3.CheckKeys(ctx); err != nil {
		t.Errorf("CheckKeys without the previous key: %v", err)
	}
	for path, want := range files {
		if got := e.mustRead(e.admin, path); !bytes.Equal(got, want) {
			t.Errorf("%s reads back different without the previous key", path)
		}
	}
}
