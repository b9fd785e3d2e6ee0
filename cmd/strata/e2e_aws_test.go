package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/meta/dynamo"
	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// awsEngines makes a fresh bucket, table and key on the test endpoint and
// returns the serve flags that use them, and the environment the server
// needs (credentials and region, as the standard AWS chain reads them).
func awsEngines(t *testing.T) (args, env []string) {
	t.Helper()
	ep := awstest.Endpoint(t)
	ctx := bg()
	bucket, table := awstest.Name("strata-e2e"), awstest.Name("strata-e2e")
	if _, err := awstest.S3(t).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if err := dynamo.CreateTable(ctx, awstest.DynamoDB(t), table); err != nil {
		t.Fatal(err)
	}
	kc := awstest.KMS(t)
	key, err := kc.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecSymmetricDefault})
	if err != nil {
		t.Fatal(err)
	}
	alias := "alias/" + awstest.Name("strata-e2e")
	if _, err := kc.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: key.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	args = []string{"--blob", "s3://" + bucket + "/strata", "--meta", "dynamodb://" + table, "--keys", "kms://" + alias, "--aws-endpoint", ep}
	env = []string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=" + awstest.Region}
	return args, env
}

// TestCLIOnAWS runs the CLI end to end against a server on S3, DynamoDB and
// KMS (moto).
func TestCLIOnAWS(t *testing.T) {
	args, env := awsEngines(t)
	s := startServerEnv(t, t.TempDir(), env, args...)
	if !strings.Contains(s.out.String(), "s3://") {
		t.Fatalf("server does not say it runs on S3:\n%s", s.out)
	}
	u := newUser(t, s, adminToken)
	src := filepath.Join(u.dir, "src")
	files := map[string][]byte{"a.txt": []byte("on aws"), "sub/b.bin": randomBytes(300_000, 1), "big.bin": randomBytes(18<<20+5, 2)}
	for name, b := range files {
		writeFile(t, filepath.Join(src, name), b)
	}
	u.run(0, "put", "-r", "--part-size", "5242880", src, "data/")
	dst := filepath.Join(u.dir, "back")
	u.run(0, "get", "-r", "data/src", dst)
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	u.run(0, "mv", "data/src/a.txt", "data/a.txt")
	u.run(0, "cp", "data/a.txt", "data/a2.txt")
	u.run(0, "rm", "-r", "data/src")
	u.run(0, "trash", "empty", "--yes")
	if got := u.run(0, "cat", "data/a2.txt").stdout; got != "on aws" {
		t.Fatalf("cat %q", got)
	}
	u.run(3, "cat", "data/src/big.bin")
}

// TestManyServersOneStore runs two servers on the same AWS engines: what one
// writes the other lists and serves, a resumable upload started on one
// completes on the other, and concurrent writes to one path through both
// leave consistent versions.
func TestManyServersOneStore(t *testing.T) {
	args, env := awsEngines(t)
	s1 := startServerEnv(t, t.TempDir(), env, append(args, "--keep-versions", "100")...)
	s2 := startServerEnv(t, t.TempDir(), env, append(args, "--keep-versions", "100")...)
	c1, c2 := s1.client(t, adminToken), s2.client(t, adminToken)

	content := randomBytes(700_000, 3)
	if _, err := c1.Put(bg(), "/home/admin/shared.bin", bytes.NewReader(content), int64(len(content)), client.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	page, err := c2.List(bg(), "/home/admin", "", 0)
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Name != "shared.bin" {
		t.Fatalf("listing on the other server: %+v %v", page, err)
	}
	if got := readAll(t, c2, "/home/admin/shared.bin"); !bytes.Equal(got, content) {
		t.Fatal("content read through the other server differs")
	}

	// A session begun on one server, parts sent to both, completed on the other.
	big := randomBytes(11<<20, 4)
	u, err := c1.CreateUpload(bg(), api.CreateUploadRequest{Path: "/home/admin/split.bin", Size: int64(len(big)), PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for n, c := range []*client.Client{c1, c2, c1} {
		lo := n * (5 << 20)
		part := big[lo:min(lo+(5<<20), len(big))]
		if _, err := c.PutPart(bg(), u.ID, n+1, bytes.NewReader(part), int64(len(part)), nil); err != nil {
			t.Fatalf("part %d: %v", n+1, err)
		}
	}
	sum := sha256.Sum256(big)
	if _, err := c2.CompleteUpload(bg(), u.ID, api.CompleteUploadRequest{SHA256: hex.EncodeToString(sum[:])}); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c1, "/home/admin/split.bin"); !bytes.Equal(got, big) {
		t.Fatal("upload completed on the other server reads back wrong")
	}
	// The same with the client giving the digest: that the server hashes
	// nothing is in the session's record, which every server reads.
	u, err = c2.CreateUpload(bg(), api.CreateUploadRequest{Path: "/home/admin/split2.bin", Size: int64(len(big)), PartSize: 5 << 20, ClientDigest: true})
	if err != nil || !u.ClientDigest {
		t.Fatalf("session %+v: %v", u, err)
	}
	var crcs []string
	for n, c := range []*client.Client{c2, c1, c2} {
		lo := n * (5 << 20)
		part := big[lo:min(lo+(5<<20), len(big))]
		if _, err := c.PutPart(bg(), u.ID, n+1, bytes.NewReader(part), int64(len(part)), nil); err != nil {
			t.Fatalf("part %d: %v", n+1, err)
		}
		crcs = append(crcs, fmt.Sprintf("%08x", crc32.Checksum(part, crc32.MakeTable(crc32.Castagnoli))))
	}
	swapped := []string{crcs[1], crcs[0], crcs[2]}
	if _, err := c1.CompleteUpload(bg(), u.ID, api.CompleteUploadRequest{SHA256: hex.EncodeToString(sum[:]), PartCRC32C: swapped}); !errors.Is(err, client.ErrDigestMismatch) {
		t.Fatalf("Complete with parts' CRC-32C swapped: %v", err)
	}
	if _, err := c1.CompleteUpload(bg(), u.ID, api.CompleteUploadRequest{SHA256: hex.EncodeToString(sum[:]), PartCRC32C: crcs}); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, c2, "/home/admin/split2.bin"); !bytes.Equal(got, big) {
		t.Fatal("client-digest upload completed on the other server reads back wrong")
	}

	// Concurrent writers on both servers to one path.
	const each = 6
	var wg sync.WaitGroup
	written := make(chan string, 2*each)
	for i, c := range []*client.Client{c1, c2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				b := []byte(fmt.Sprintf("server %d write %d", i+1, j))
				if _, err := c.Put(bg(), "/home/admin/contended", bytes.NewReader(b), int64(len(b)), client.PutOptions{}); err != nil {
					t.Error(err)
					return
				}
				written <- string(b)
			}
		}()
	}
	wg.Wait()
	close(written)
	want := map[string]bool{}
	for w := range written {
		want[w] = true
	}
	st, err := c1.Stat(bg(), "/home/admin/contended")
	if err != nil || st.Version != 2*each {
		t.Fatalf("version %d after %d writes: %v", st.Version, 2*each, err)
	}
	vp, err := c2.Versions(bg(), "/home/admin/contended", "")
	if err != nil || len(vp.Versions) != 2*each {
		t.Fatalf("%d versions: %v", len(vp.Versions), err)
	}
	for _, v := range vp.Versions {
		d, err := c1.Get(bg(), "/home/admin/contended", client.GetOptions{Version: v.Version})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(d.Body)
		d.Body.Close()
		if !want[string(b)] {
			t.Fatalf("version %d holds %q, which nobody wrote", v.Version, b)
		}
		delete(want, string(b))
	}
	if len(want) != 0 {
		t.Fatalf("writes lost: %v", want)
	}
}

func readAll(t *testing.T, c *client.Client, path string) []byte {
	t.Helper()
	d, err := c.Get(bg(), path, client.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Body.Close()
	b, err := io.ReadAll(d.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestServeStopsOnMissingResources: a server pointed at a bucket, table or
// key that does not exist stops at once and names it.
func TestServeStopsOnMissingResources(t *testing.T) {
	args, env := awsEngines(t)
	for i, missing := range []string{"s3://no-such-bucket-strata", "dynamodb://no-such-table", "kms://alias/no-such-key"} {
		bad := append([]string(nil), args...)
		bad[2*(i)+1] = missing
		name := strings.SplitN(strings.TrimPrefix(strings.SplitN(missing, "://", 2)[1], "alias/"), "/", 2)[0]
		r := runCLI(t, append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...), t.TempDir(), nil,
			append([]string{"serve", "--listen", "127.0.0.1:0", "--data", t.TempDir()}, bad...)...)
		if r.code == 0 || !strings.Contains(r.stderr, name) {
			t.Fatalf("%s: exit %d, stderr %q", missing, r.code, r.stderr)
		}
	}
}

// TestProvisionThenServe deploys the storage stack with `strata provision`
// and runs `strata serve` on the settings it prints, end to end.
func TestProvisionThenServe(t *testing.T) {
	ep := awstest.Endpoint(t)
	awsEnv := []string{"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=" + awstest.Region}
	env := append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, awsEnv...)
	stack := awstest.Name("e2e")
	r := runCLI(t, env, t.TempDir(), nil, "provision", "--stack", stack, "--aws-endpoint", ep, "--json")
	if r.code != 0 {
		t.Fatalf("provision: %+v", r)
	}
	var out struct {
		Storage struct {
			Outputs map[string]string `json:"outputs"`
		} `json:"storage"`
		Serve struct {
			Env map[string]string `json:"env"`
		} `json:"serve"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("provision --json: %v\n%s", err, r.stdout)
	}
	// moto 5.2 stores a key policy that CloudFormation sets as an object,
	// and then fails every KMS call on that key; AWS does not. Put the same
	// policy back as text.
	arn := out.Storage.Outputs["KeyArn"]
	acct := strings.Split(arn, ":")[4]
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"}]}`
	if _, err := awstest.KMS(t).PutKeyPolicy(bg(), &kms.PutKeyPolicyInput{KeyId: aws.String(arn), PolicyName: aws.String("default"), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	serveEnv := append([]string(nil), awsEnv...)
	for k, v := range out.Serve.Env {
		serveEnv = append(serveEnv, k+"="+v)
	}
	s := startServerEnv(t, t.TempDir(), serveEnv)
	u := newUser(t, s, adminToken)
	writeFile(t, filepath.Join(u.dir, "f.txt"), []byte("provisioned"))
	u.run(0, "put", filepath.Join(u.dir, "f.txt"), "f.txt")
	if got := u.run(0, "cat", "f.txt").stdout; got != "provisioned" {
		t.Fatalf("cat %q", got)
	}
	// Running provision again changes nothing.
	r = runCLI(t, env, t.TempDir(), nil, "provision", "--stack", stack, "--aws-endpoint", ep)
	if r.code != 0 || !strings.Contains(r.stderr+r.stdout, "no changes") {
		t.Fatalf("second provision: %+v", r)
	}
}

// TestAWSLoginCLI logs in with `strata login --aws` through the real
// binaries, on moto's STS: an IAM user and a session of a role, each mapped
// to a user by an admin, get a profile to work with; an unmapped identity,
// no credentials, and an address the server does not answer to as its own
// are refused, each saying why.
func TestAWSLoginCLI(t *testing.T) {
	ep := awstest.Endpoint(t)
	s := startServerEnv(t, t.TempDir(), []string{"AWS_REGION=" + awstest.Region}, "--sts-endpoint", ep, "--log-level", "info")
	admin := newUser(t, s, adminToken)
	admin.run(0, "admin", "user", "add", "--no-token", "alice")
	admin.run(0, "admin", "user", "add", "--no-token", "bob")
	key := awstest.IAMUser(t, "/eng/")
	role := awstest.Name("role")
	session := awstest.AssumeRole(t, role, "laptop")
	stranger := awstest.IAMUser(t, "/")
	admin.run(0, "admin", "user", "add-aws-identity", "alice", key.ARN)
	admin.run(0, "admin", "user", "add-aws-identity", "bob", "arn:aws:iam::"+awstest.Account+":role/"+role)
	if r := admin.run(0, "admin", "user", "aws-identities", "alice"); !strings.Contains(r.stdout, key.ARN) {
		t.Fatalf("alice's AWS identities: %s", r.stdout)
	}
	if r := admin.run(5, "admin", "user", "add-aws-identity", "bob", key.ARN); !strings.Contains(r.stderr, "another user") {
		t.Fatalf("mapping alice's identity to bob too: %+v", r)
	}
	admin.run(2, "admin", "user", "add-aws-identity", "bob", "arn:aws:iam::"+awstest.Account+":user/*")

	// env is a fresh machine with p's AWS credentials (none: no
	// credentials at all).
	env := func(p *awstest.Principal) []string {
		home := t.TempDir()
		e := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "AWS_EC2_METADATA_DISABLED=true",
			"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none")}
		if p != nil {
			e = append(e, "AWS_ACCESS_KEY_ID="+p.Creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+p.Creds.SecretAccessKey)
			if p.Creds.SessionToken != "" {
				e = append(e, "AWS_SESSION_TOKEN="+p.Creds.SessionToken)
			}
		}
		return e
	}
	for _, c := range []struct {
		p      awstest.Principal
		user   string
		server string
	}{{key, "alice", s.addr}, {session, "bob", strings.Replace(s.addr, "127.0.0.1", "localhost", 1)}} {
		e := env(&c.p)
		home := strings.TrimPrefix(e[1], "HOME=")
		r := runCLI(t, e, home, nil, "login", "--aws", "--server", c.server)
		if r.code != 0 || !strings.Contains(r.stderr, "as "+c.user+" with AWS identity "+c.p.ARN) {
			t.Fatalf("login --aws as %s: %+v", c.p.ARN, r)
		}
		// The profile works with the AWS credentials gone.
		if r := runCLI(t, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}, home, nil, "mkdir", "from-aws"); r.code != 0 {
			t.Fatalf("mkdir with the profile of an AWS login: %+v", r)
		}
	}
	for _, home := range []string{"/home/alice", "/home/bob"} {
		if r := admin.run(0, "ls", home); !strings.Contains(r.stdout, "from-aws") {
			t.Fatalf("what the AWS login made in %s: %s", home, r.stdout)
		}
	}

	e := env(&stranger)
	r := runCLI(t, e, t.TempDir(), nil, "login", "--aws", "--server", s.addr)
	if r.code != 4 || !strings.Contains(r.stderr, "add-aws-identity") {
		t.Fatalf("an unmapped identity: %+v", r)
	}
	r = runCLI(t, append(env(nil), "STRATA_JSON=1"), t.TempDir(), nil, "login", "--aws", "--server", s.addr)
	if r.code != 4 || !strings.Contains(r.stderr, `"no_aws_credentials"`) {
		t.Fatalf("no AWS credentials: %+v", r)
	}
	if !strings.Contains(s.out.String(), "AWS login refused") || strings.Contains(s.out.String(), stranger.Creds.SecretAccessKey) {
		t.Fatalf("the server's log of the refusal:\n%s", s.out)
	}

	// A server known by another address takes logins signed for that one
	// only: the client says where to log in instead.
	other := startServerEnv(t, t.TempDir(), []string{"AWS_REGION=" + awstest.Region}, "--sts-endpoint", ep,
		"--public-url", "https://files.example.com")
	r = runCLI(t, env(&key), t.TempDir(), nil, "login", "--aws", "--server", other.addr)
	if r.code != 2 || !strings.Contains(r.stderr, "--server https://files.example.com") {
		t.Fatalf("login at an address that is not the server's: %+v", r)
	}
}
