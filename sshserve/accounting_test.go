package sshserve_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/pkg/sftp"

	"github.com/strata-storage/strata/backend/audit"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/sshserve"
)

// write uploads content to name over c; the error is the first one.
func write(c *sftp.Client, name string, content []byte) error {
	f, err := c.Create(name)
	if err != nil {
		return err
	}
	_, werr := f.Write(content)
	return errors.Join(werr, f.Close())
}

// A quota holds over SFTP as over HTTP: an upload beyond it fails with a
// message that says so and stores nothing, and df (statvfs) tells the
// quota and what is left of it.
func TestSFTPQuota(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	ctx := context.Background()
	c := e.sftp("alice")
	// Without a quota there is no free space to tell: a clean refusal.
	_, err := c.StatVFS("/home/alice")
	var se *sftp.StatusError
	if !errors.As(err, &se) || se.FxCode() != sftp.ErrSSHFxOpUnsupported || !strings.Contains(err.Error(), "no quota") {
		t.Fatalf("statvfs without a quota: %v", err)
	}
	quota := int64(1 << 20)
	if _, err := e.d.Files.SetQuota(ctx, e.admin, "alice", &quota, nil); err != nil {
		t.Fatal(err)
	}
	if err := write(c, "small.bin", random(100<<10)); err != nil {
		t.Fatal(err)
	}
	st, err := c.StatVFS("/home/alice")
	if err != nil {
		t.Fatal(err)
	}
	if st.TotalSpace() != uint64(quota) || st.FreeSpace() != uint64(quota-100<<10) {
		t.Fatalf("statvfs: total %d, free %d; want %d, %d", st.TotalSpace(), st.FreeSpace(), quota, quota-100<<10)
	}
	err = write(c, "big.bin", random(2<<20))
	if !errors.As(err, &se) || !strings.Contains(se.Error(), "quota") {
		t.Fatalf("an upload beyond the quota: %v", err)
	}
	if e.stored("/home/alice/big.bin") != nil {
		t.Fatal("the upload beyond the quota was stored")
	}
}

// What a session does over SFTP is in the audit log as over HTTP, with
// the entry point and the client's address.
func TestSFTPAudit(t *testing.T) {
	e := newEnv(t, sshserve.Config{})
	ctx := context.Background()
	c := e.sftp("alice")
	if err := write(c, "report.txt", []byte("numbers")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open("/home/bob/secret.txt"); !errors.Is(err, os.ErrPermission) && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("open bob's file: %v", err)
	}
	pg, err := e.d.Audit.List(ctx, e.admin, audit.Query{User: "alice", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var put, denied *audit.Record
	for i, r := range pg.Records {
		switch {
		case r.Action == "strata:PutFile" && r.Resource == "/home/alice/report.txt" && r.Decision == "allow":
			put = &pg.Records[i]
		case r.Decision == "deny" && strings.HasPrefix(r.Resource, "/home/bob"):
			denied = &pg.Records[i]
		}
	}
	if put == nil || denied == nil {
		t.Fatalf("the audit log lacks the upload (%v) or the refusal (%v): %+v", put, denied, pg.Records)
	}
	for _, r := range []*audit.Record{put, denied} {
		if r.Via != iam.ViaSFTP || r.SourceIP != "127.0.0.1" || r.User != "alice" {
			t.Errorf("record %+v: want via %s from 127.0.0.1 by alice", *r, iam.ViaSFTP)
		}
	}
}
