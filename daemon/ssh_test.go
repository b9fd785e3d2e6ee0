package daemon_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/engine"
	"github.com/strata-storage/strata/backend/meta/dynamo"
	"github.com/strata-storage/strata/daemon"
	"github.com/strata-storage/strata/sshserve"
)

func hostKey(t *testing.T, spec engine.Spec) []byte {
	t.Helper()
	ctx := context.Background()
	d, err := daemon.Open(ctx, daemon.Config{Engines: spec})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	k, err := d.HostKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sshserve.HostKeyFingerprint(k); err != nil {
		t.Fatalf("not a host key: %v", err)
	}
	return k
}

// On the embedded engines the SSH host key is a file of the data
// directory, made once.
func TestHostKeyInTheDataDirectory(t *testing.T) {
	dir := t.TempDir()
	first := hostKey(t, engine.Spec{DataDir: dir})
	if !bytes.Equal(hostKey(t, engine.Spec{DataDir: dir}), first) {
		t.Fatal("another host key at the next start")
	}
	fi, err := os.Stat(filepath.Join(dir, sshserve.HostKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("host key file: %v, %v", fi, err)
	}
	if bytes.Equal(hostKey(t, engine.Spec{DataDir: t.TempDir()}), first) {
		t.Fatal("two stores, one host key")
	}
}

// On DynamoDB every server of the store shows the same host key, sealed in
// the store, whatever data directory each one has.
func TestHostKeySealedInTheStore(t *testing.T) {
	ep := awstest.Endpoint(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", awstest.Region)
	table := awstest.Name("strata-hostkey")
	if err := dynamo.CreateTable(context.Background(), awstest.DynamoDB(t), table); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(t.TempDir(), "keyring.json") // one key file for both servers
	spec := func() engine.Spec {
		return engine.Spec{DataDir: t.TempDir(), AWSEndpoint: ep, Meta: "dynamodb://" + table, Keys: "file://" + keys}
	}
	first := hostKey(t, spec())
	if !bytes.Equal(hostKey(t, spec()), first) {
		t.Fatal("two servers of one store show two host keys")
	}
}
