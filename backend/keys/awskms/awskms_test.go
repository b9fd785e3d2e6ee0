package awskms_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/strata-storage/strata/backend/awstest"
	"github.com/strata-storage/strata/backend/backendtest"
	"github.com/strata-storage/strata/backend/keys"
	"github.com/strata-storage/strata/backend/keys/awskms"
)

func TestConformance(t *testing.T) {
	admin := awstest.KMS(t)
	for _, viaAlias := range []bool{false, true} {
		name := "KeyID"
		if viaAlias {
			name = "Alias"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			backendtest.RunKeys(t, func(t *testing.T) keys.Service {
				keyID, _ := createKey(t, admin)
				if viaAlias {
					keyID = createAlias(t, admin, keyID)
				}
				return newService(t, newClient(t, nil), keyID)
			})
		})
	}
}

func TestCheck(t *testing.T) {
	admin := awstest.KMS(t)
	keyID, keyARN := createKey(t, admin)
	alias := createAlias(t, admin, keyID)
	aliasARN := keyARN[:strings.Index(keyARN, ":key/")+1] + alias

	t.Run("Usable", func(t *testing.T) {
		for _, id := range []string{keyID, keyARN, alias, aliasARN} {
			if err := newService(t, newClient(t, nil), id).Check(t.Context()); err != nil {
				t.Errorf("Check(%q): %v", id, err)
			}
		}
	})

	t.Run("MissingKey", func(t *testing.T) {
		missing := "0b0e0d0c-1111-4222-8333-444455556666"
		err := newService(t, newClient(t, nil), missing).Check(t.Context())
		wantNotFound(t, err, `key "`+missing+`" does not exist in region `+awstest.Region)
	})

	t.Run("MissingAlias", func(t *testing.T) {
		missing := "alias/" + awstest.Name("strata-missing")
		err := newService(t, newClient(t, nil), missing).Check(t.Context())
		wantNotFound(t, err, `alias "`+missing+`" does not exist in region `+awstest.Region)
	})

	t.Run("MissingPreviousKey", func(t *testing.T) {
		gone := "arn:aws:kms:" + awstest.Region + ":123456789012:key/0b0e0d0c-1111-4222-8333-444455556666"
		err := newService(t, newClient(t, nil), keyID, gone).Check(t.Context())
		wantNotFound(t, err, "does not exist in region")
		if err != nil && !strings.Contains(err.Error(), "previous key") {
			t.Errorf("error does not say the missing key is a previous key: %v", err)
		}
	})

	t.Run("DisabledKey", func(t *testing.T) {
		id, arn := createKey(t, admin)
		if _, err := admin.DisableKey(t.Context(), &kms.DisableKeyInput{KeyId: &id}); err != nil {
			t.Fatal(err)
		}
		err := newService(t, newClient(t, nil), id).Check(t.Context())
		if err == nil || !strings.Contains(err.Error(), "is Disabled") || !strings.Contains(err.Error(), arn) {
			t.Errorf("Check of a disabled key: err = %v, want it to say the key (%s) is Disabled", err, arn)
		}
	})

	t.Run("AsymmetricKey", func(t *testing.T) {
		out, err := admin.CreateKey(t.Context(), &kms.CreateKeyInput{
			KeySpec:  types.KeySpecRsa2048,
			KeyUsage: types.KeyUsageTypeEncryptDecrypt,
		})
		if err != nil {
			t.Fatal(err)
		}
		err = newService(t, newClient(t, nil), aws.ToString(out.KeyMetadata.KeyId)).Check(t.Context())
		if err == nil || !strings.Contains(err.Error(), "RSA_2048") || !strings.Contains(err.Error(), "SYMMETRIC_DEFAULT") {
			t.Errorf("Check of an RSA key: err = %v, want it refused as not SYMMETRIC_DEFAULT", err)
		}
	})

	for _, action := range []string{"DescribeKey", "GenerateDataKey", "Decrypt"} {
		t.Run(action+"Denied", func(t *testing.T) {
			f := newFaults()
			f.fail(action, "AccessDeniedException", -1)
			err := newService(t, newClient(t, f), alias).Check(t.Context())
			want := fmt.Sprintf(`awskms: key %q: kms:%s denied`, alias, action)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want it to contain %q", err, want)
			}
			wantCode(t, err, "AccessDeniedException")
		})
	}
}

// TestAccessDenied checks that a denial the key itself suffers comes back as
// the service error, and that only a denial of one ciphertext while the key
// demonstrably works is ErrDecrypt.
func TestAccessDenied(t *testing.T) {
	admin := awstest.KMS(t)
	ec := keys.Context{"blob": "b-denied"}

	t.Run("DecryptAndDescribeKeyDenied", func(t *testing.T) {
		keyID, _ := createKey(t, admin)
		f := newFaults()
		s := newService(t, newClient(t, f), keyID)
		dk := generate(t, s, ec)
		f.fail("Decrypt", "AccessDeniedException", -1)
		f.fail("DescribeKey", "AccessDeniedException", -1)
		pt, err := s.Decrypt(t.Context(), dk.Wrapped, ec)
		wantDenied(t, err, "kms:Decrypt")
		if pt != nil {
			t.Error("Decrypt returned a key along with the error")
		}
	})

	// DescribeKey alone would call this key healthy; only trying the
	// operation shows it is not.
	t.Run("DecryptDeniedDescribeKeyAllowed", func(t *testing.T) {
		keyID, _ := createKey(t, admin)
		f := newFaults()
		s := newService(t, newClient(t, f), keyID)
		dk := generate(t, s, ec)
		f.fail("Decrypt", "AccessDeniedException", -1)
		_, err := s.Decrypt(t.Context(), dk.Wrapped, ec)
		wantDenied(t, err, "kms:Decrypt")
	})

	t.Run("ReEncryptDenied", func(t *testing.T) {
		keyID, _ := createKey(t, admin)
		f := newFaults()
		s := newService(t, newClient(t, f), keyID)
		dk := generate(t, s, ec)
		f.fail("ReEncrypt", "AccessDeniedException", -1)
		w, _, err := s.Rewrap(t.Context(), dk.Wrapped, ec)
		wantDenied(t, err, "kms:ReEncrypt")
		if w != nil {
			t.Error("Rewrap returned a wrapping along with the error")
		}
	})

	t.Run("ProbeInconclusive", func(t *testing.T) {
		keyID, _ := createKey(t, admin)
		f := newFaults()
		s := newService(t, newClient(t, f), keyID)
		dk := generate(t, s, ec)
		f.fail("Decrypt", "AccessDeniedException", -1)
		f.fail("GenerateDataKey", "KMSInternalException", -1)
		_, err := s.Decrypt(t.Context(), dk.Wrapped, ec)
		wantDenied(t, err, "kms:Decrypt")
		var internal *types.KMSInternalException
		if !errors.As(err, &internal) {
			t.Errorf("err = %v, want it to carry the probe's KMSInternalException too", err)
		}
	})

	t.Run("OneCiphertextDeniedKeyWorks", func(t *testing.T) {
		keyID, _ := createKey(t, admin)
		f := newFaults()
		s := newService(t, newClient(t, f), keyID)
		dk := generate(t, s, ec)

		f.fail("Decrypt", "AccessDeniedException", 1)
		before := f.snapshot()
		if _, err := s.Decrypt(t.Context(), dk.Wrapped, ec); !errors.Is(err, keys.ErrDecrypt) {
			t.Fatalf("err = %v, want ErrDecrypt", err)
		}
		// The denied call, then the probe: GenerateDataKey and Decrypt.
		if got := f.since(before); got != "Decrypt=2 GenerateDataKey=1" {
			t.Errorf("requests for the first denial: %s, want Decrypt=2 GenerateDataKey=1", got)
		}

		f.fail("Decrypt", "AccessDeniedException", 1)
		before = f.snapshot()
		if _, err := s.Decrypt(t.Context(), dk.Wrapped, ec); !errors.Is(err, keys.ErrDecrypt) {
			t.Fatalf("second denial: err = %v, want ErrDecrypt", err)
		}
		if got := f.since(before); got != "Decrypt=1" {
			t.Errorf("requests for the second denial: %s, want Decrypt=1 (verdict cached)", got)
		}

		f.fail("ReEncrypt", "AccessDeniedException", 1)
		if _, _, err := s.Rewrap(t.Context(), dk.Wrapped, ec); !errors.Is(err, keys.ErrDecrypt) {
			t.Errorf("Rewrap: err = %v, want ErrDecrypt", err)
		}
		// The faults are used up: the wrapping itself was always fine.
		if pt, err := s.Decrypt(t.Context(), dk.Wrapped, ec); err != nil || !bytes.Equal(pt, dk.Plaintext) {
			t.Errorf("Decrypt after the faults: err = %v", err)
		}
	})
}

func TestOtherKeyIsErrDecrypt(t *testing.T) {
	admin := awstest.KMS(t)
	idA, arnA := createKey(t, admin)
	idB, _ := createKey(t, admin)
	client := newClient(t, nil)
	sA := newService(t, client, idA)
	sB := newService(t, client, idB)
	ec := keys.Context{"blob": "b-other"}
	dkB := generate(t, sB, ec)

	// A wrapping made under B, and the same blob claiming to be under A.
	blob := dkB.Wrapped[2+int(dkB.Wrapped[1]):]
	forged := append([]byte{dkB.Wrapped[0], byte(len(arnA))}, arnA...)
	forged = append(forged, blob...)

	for name, w := range map[string][]byte{"as made": dkB.Wrapped, "forged key ARN": forged} {
		if pt, err := sA.Decrypt(t.Context(), w, ec); !errors.Is(err, keys.ErrDecrypt) || pt != nil {
			t.Errorf("%s: Decrypt: err = %v, want ErrDecrypt", name, err)
		}
		if nw, _, err := sA.Rewrap(t.Context(), w, ec); !errors.Is(err, keys.ErrDecrypt) || nw != nil {
			t.Errorf("%s: Rewrap: err = %v, want ErrDecrypt", name, err)
		}
	}
}

// TestRotationAliasRepointed rotates manually: the alias moves to a new key,
// the old key is listed as previous, and Rewrap moves wrappings across.
func TestRotationAliasRepointed(t *testing.T) {
	admin := awstest.KMS(t)
	idA, arnA := createKey(t, admin)
	alias := createAlias(t, admin, idA)
	client := newClient(t, nil)
	ec := keys.Context{"blob": "b-rotate"}

	before := newService(t, client, alias)
	dk := generate(t, before, ec)
	if dk.KeyID != arnA {
		t.Fatalf("KeyID = %q, want the ARN of the key behind the alias, %q", dk.KeyID, arnA)
	}

	idB, arnB := createKey(t, admin)
	if _, err := admin.UpdateAlias(t.Context(), &kms.UpdateAliasInput{AliasName: &alias, TargetKeyId: &idB}); err != nil {
		t.Fatal(err)
	}

	// As on AWS, the alias now names B, which did not make this wrapping;
	// the error tells the operator what to do.
	_, err := before.Decrypt(t.Context(), dk.Wrapped, ec)
	if !errors.Is(err, keys.ErrDecrypt) || !strings.Contains(err.Error(), arnA) || !strings.Contains(err.Error(), "previous key") {
		t.Errorf("Decrypt of an old wrapping without the old key listed: err = %v, want ErrDecrypt naming %s and previous keys", err, arnA)
	}

	after := newService(t, client, alias, arnA)
	if err := after.Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	// The current key is the one the alias names now; the previous one
	// follows.
	if cur, all, err := after.KeyIDs(t.Context()); err != nil || cur != arnB || !slices.Equal(all, []string{arnB, arnA}) {
		t.Errorf("KeyIDs = %q, %q, %v; want %q then [%q %q]", cur, all, err, arnB, arnB, arnA)
	}
	if pt, err := after.Decrypt(t.Context(), dk.Wrapped, ec); err != nil || !bytes.Equal(pt, dk.Plaintext) {
		t.Fatalf("Decrypt of the old wrapping with the old key listed: err = %v", err)
	}
	w2, keyID, err := after.Rewrap(t.Context(), dk.Wrapped, ec)
	if err != nil {
		t.Fatalf("Rewrap: %v", err)
	}
	if keyID != arnB {
		t.Errorf("Rewrap key ID = %q, want the new key %q", keyID, arnB)
	}
	// Once rewrapped, the old key is no longer needed.
	for name, s := range map[string]*awskms.Service{"with previous key": after, "without": newService(t, client, alias)} {
		pt, err := s.Decrypt(t.Context(), w2, ec)
		if err != nil || !bytes.Equal(pt, dk.Plaintext) {
			t.Errorf("%s: Decrypt of the rewrapped key: err = %v, same key = %v", name, err, bytes.Equal(pt, dk.Plaintext))
		}
		if _, err := s.Decrypt(t.Context(), w2, keys.Context{"blob": "b-rotatf"}); !errors.Is(err, keys.ErrDecrypt) {
			t.Errorf("%s: Decrypt of the rewrapped key with another context: err = %v, want ErrDecrypt", name, err)
		}
	}
	if got := generate(t, after, ec).KeyID; got != arnB {
		t.Errorf("new data keys are wrapped under %q, want %q", got, arnB)
	}
}

func TestThrottling(t *testing.T) {
	admin := awstest.KMS(t)
	keyID, _ := createKey(t, admin)
	ec := keys.Context{"blob": "b-throttle"}

	for _, code := range []string{"ThrottlingException", "LimitExceededException"} {
		t.Run(code+"TwiceThenSuccess", func(t *testing.T) {
			f := newFaults()
			s := newService(t, newClient(t, f), keyID)
			f.fail("GenerateDataKey", code, 2)
			dk, err := s.GenerateDataKey(t.Context(), ec)
			if err != nil {
				t.Fatalf("GenerateDataKey: %v", err)
			}
			if n := f.count("GenerateDataKey"); n != 3 {
				t.Errorf("GenerateDataKey requests = %d, want 3 (two throttled, one answered)", n)
			}
			f.fail("Decrypt", code, 2)
			if pt, err := s.Decrypt(t.Context(), dk.Wrapped, ec); err != nil || !bytes.Equal(pt, dk.Plaintext) {
				t.Errorf("Decrypt: err = %v", err)
			}
		})
	}

	t.Run("PersistentThrottlingIsNotErrDecrypt", func(t *testing.T) {
		f := newFaults()
		s := newService(t, newClient(t, f), keyID)
		dk := generate(t, s, ec)
		f.fail("Decrypt", "ThrottlingException", -1)
		_, err := s.Decrypt(t.Context(), dk.Wrapped, ec)
		if errors.Is(err, keys.ErrDecrypt) {
			t.Fatalf("err = %v: throttling reported as bad data", err)
		}
		wantCode(t, err, "ThrottlingException")
		if n := f.count("Decrypt"); n != 3 {
			t.Errorf("Decrypt requests = %d, want 3 (the client's attempts)", n)
		}
		if !errors.Is(err, keys.ErrUnavailable) {
			t.Errorf("err = %v, want keys.ErrUnavailable", err)
		}
	})
}

// TestRequestsPerCall pins the cost of the data path: one KMS request per
// call, so the core's key cache and KMS quotas can be reasoned about.
func TestRequestsPerCall(t *testing.T) {
	admin := awstest.KMS(t)
	keyID, _ := createKey(t, admin)
	alias := createAlias(t, admin, keyID)
	f := newFaults()
	s := newService(t, newClient(t, f), alias)
	ec := keys.Context{"blob": "b-count"}

	before := f.snapshot()
	dk := generate(t, s, ec)
	if got := f.since(before); got != "GenerateDataKey=1" {
		t.Errorf("GenerateDataKey made %s, want GenerateDataKey=1", got)
	}
	before = f.snapshot()
	if _, err := s.Decrypt(t.Context(), dk.Wrapped, ec); err != nil {
		t.Fatal(err)
	}
	if got := f.since(before); got != "Decrypt=1" {
		t.Errorf("Decrypt made %s, want Decrypt=1", got)
	}
	before = f.snapshot()
	if _, _, err := s.Rewrap(t.Context(), dk.Wrapped, ec); err != nil {
		t.Fatal(err)
	}
	if got := f.since(before); got != "ReEncrypt=1" {
		t.Errorf("Rewrap made %s, want ReEncrypt=1", got)
	}
}

// TestLocalRefusals needs no KMS: malformed input is refused before any
// request is sent.
func TestLocalRefusals(t *testing.T) {
	calls := 0
	client := kms.New(kms.Options{
		Region:      awstest.Region,
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		HTTPClient: &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			calls++
			return nil, errors.New("no request should be sent")
		})},
	})
	s := newService(t, client, "alias/strata")
	ec := keys.Context{"blob": "b-local"}
	arn := "arn:aws:kms:us-east-1:123456789012:key/0b0e0d0c-1111-4222-8333-444455556666"
	header := append([]byte{0x4B, byte(len(arn))}, arn...)

	for name, w := range map[string][]byte{
		"nil":             nil,
		"empty":           {},
		"format only":     {0x4B},
		"zero ARN length": {0x4B, 0, 1, 2, 3},
		"no blob":         header,
		"ARN cut short":   header[:20],
		"keyring format":  append([]byte{0x01, 0, 0, 0, 1}, make([]byte, 60)...),
		"blob too long":   append(bytes.Clone(header), make([]byte, 6145)...),
	} {
		if pt, err := s.Decrypt(t.Context(), w, ec); !errors.Is(err, keys.ErrDecrypt) || pt != nil {
			t.Errorf("%s: Decrypt: err = %v, want ErrDecrypt", name, err)
		}
		if nw, _, err := s.Rewrap(t.Context(), w, ec); !errors.Is(err, keys.ErrDecrypt) || nw != nil {
			t.Errorf("%s: Rewrap: err = %v, want ErrDecrypt", name, err)
		}
	}
	good := append(bytes.Clone(header), make([]byte, 96)...)
	for name, ec := range map[string]keys.Context{"nil": nil, "empty": {}} {
		if _, err := s.Decrypt(t.Context(), good, ec); !errors.Is(err, keys.ErrDecrypt) {
			t.Errorf("%s context: Decrypt: err = %v, want ErrDecrypt", name, err)
		}
		if _, err := s.GenerateDataKey(t.Context(), ec); !errors.Is(err, keys.ErrInvalid) {
			t.Errorf("%s context: GenerateDataKey: err = %v, want ErrInvalid", name, err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Decrypt(ctx, nil, ec); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Decrypt: err = %v, want context.Canceled first", err)
	}
	if calls != 0 {
		t.Errorf("%d requests sent, want none", calls)
	}
}

func TestNew(t *testing.T) {
	client := kms.New(kms.Options{Region: awstest.Region})
	cases := []struct {
		name     string
		client   *kms.Client
		keyID    string
		previous []string
		ok       bool
	}{
		{"alias", client, "alias/strata", nil, true},
		{"with previous key", client, "alias/strata", []string{"arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"}, true},
		{"no client", nil, "alias/strata", nil, false},
		{"no key", client, "", nil, false},
		{"padded key", client, " alias/strata", nil, false},
		{"previous key not an ARN", client, "alias/strata", []string{"alias/old"}, false},
		{"previous key an alias ARN", client, "alias/strata", []string{"arn:aws:kms:us-east-1:123456789012:alias/old"}, false},
	}
	for _, c := range cases {
		s, err := awskms.New(c.client, c.keyID, c.previous...)
		if (err == nil) != c.ok {
			t.Errorf("%s: err = %v, want ok = %v", c.name, err, c.ok)
		}
		if err == nil && s.String() != "awskms "+c.keyID {
			t.Errorf("%s: String() = %q", c.name, s.String())
		}
	}
}

// newClient is a KMS client on the test endpoint whose retries wait only a
// millisecond, optionally sending its requests through rt.
func newClient(t *testing.T, rt http.RoundTripper) *kms.Client {
	t.Helper()
	return kms.NewFromConfig(awstest.Config(t), func(o *kms.Options) {
		if rt != nil {
			o.HTTPClient = &http.Client{Transport: rt}
		}
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 3
			so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) {
				return time.Millisecond, nil
			})
		})
	})
}

func newService(t *testing.T, client *kms.Client, keyID string, previous ...string) *awskms.Service {
	t.Helper()
	s, err := awskms.New(client, keyID, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// createKey makes a fresh symmetric key and returns its ID and ARN.
func createKey(t *testing.T, admin *kms.Client) (string, string) {
	t.Helper()
	out, err := admin.CreateKey(t.Context(), &kms.CreateKeyInput{
		KeySpec:     types.KeySpecSymmetricDefault,
		KeyUsage:    types.KeyUsageTypeEncryptDecrypt,
		Description: aws.String("strata awskms test " + t.Name()),
	})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	id := aws.ToString(out.KeyMetadata.KeyId)
	t.Cleanup(func() {
		_, _ = admin.ScheduleKeyDeletion(context.Background(), &kms.ScheduleKeyDeletionInput{KeyId: &id, PendingWindowInDays: aws.Int32(7)})
	})
	return id, aws.ToString(out.KeyMetadata.Arn)
}

func createAlias(t *testing.T, admin *kms.Client, keyID string) string {
	t.Helper()
	name := "alias/" + awstest.Name("strata-test")
	if _, err := admin.CreateAlias(t.Context(), &kms.CreateAliasInput{AliasName: &name, TargetKeyId: &keyID}); err != nil {
		t.Fatalf("CreateAlias: %v", err)
	}
	t.Cleanup(func() {
		_, _ = admin.DeleteAlias(context.Background(), &kms.DeleteAliasInput{AliasName: &name})
	})
	return name
}

func generate(t *testing.T, s keys.Service, ec keys.Context) keys.DataKey {
	t.Helper()
	dk, err := s.GenerateDataKey(t.Context(), ec)
	if err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}
	return dk
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Errorf("err = %v, want a %s", err, code)
	}
}

func wantDenied(t *testing.T, err error, action string) {
	t.Helper()
	if errors.Is(err, keys.ErrDecrypt) {
		t.Fatalf("err = %v: a denied key reported as bad data", err)
	}
	wantCode(t, err, "AccessDeniedException")
	if err != nil && !strings.Contains(err.Error(), action+" denied") {
		t.Errorf("err = %v, want it to name %s", err, action)
	}
}

func wantNotFound(t *testing.T, err error, msg string) {
	t.Helper()
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("err = %v, want a NotFoundException", err)
	}
	if err != nil && !strings.Contains(err.Error(), msg) {
		t.Errorf("err = %v, want it to contain %q", err, msg)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// faults is an http.RoundTripper in front of the test endpoint that counts
// requests per KMS operation and answers chosen operations with an error
// of KMS's JSON shape instead of forwarding them.
type faults struct {
	base  http.RoundTripper
	mu    sync.Mutex
	rules map[string]*faultRule
	calls map[string]int
}

type faultRule struct {
	code string
	left int // answers still to inject; negative: always
}

func newFaults() *faults {
	return &faults{
		base:  http.DefaultTransport.(*http.Transport).Clone(),
		rules: map[string]*faultRule{},
		calls: map[string]int{},
	}
}

// fail makes the next n requests for op (every one, if n < 0) fail with code.
func (f *faults) fail(op, code string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules[op] = &faultRule{code: code, left: n}
}

func (f *faults) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *faults) snapshot() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := make(map[string]int, len(f.calls))
	for k, v := range f.calls {
		m[k] = v
	}
	return m
}

// since lists the requests made after snapshot s, e.g. "Decrypt=2 GenerateDataKey=1".
func (f *faults) since(s map[string]int) string {
	now := f.snapshot()
	var parts []string
	for _, op := range []string{"DescribeKey", "Decrypt", "GenerateDataKey", "ReEncrypt"} {
		if d := now[op] - s[op]; d != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", op, d))
		}
	}
	for op := range now {
		switch op {
		case "DescribeKey", "Decrypt", "GenerateDataKey", "ReEncrypt":
		default:
			if d := now[op] - s[op]; d != 0 {
				parts = append(parts, fmt.Sprintf("%s=%d", op, d))
			}
		}
	}
	return strings.Join(parts, " ")
}

func (f *faults) RoundTrip(r *http.Request) (*http.Response, error) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
	f.mu.Lock()
	f.calls[op]++
	rule := f.rules[op]
	inject := rule != nil && rule.left != 0
	if inject && rule.left > 0 {
		rule.left--
	}
	f.mu.Unlock()
	if !inject {
		return f.base.RoundTrip(r)
	}
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	body := fmt.Sprintf(`{"__type":%q,"message":"injected by the test"}`, rule.code)
	status := http.StatusBadRequest
	if rule.code == "KMSInternalException" {
		status = http.StatusInternalServerError
	}
	return &http.Response{
		Status:        http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amzn-Requestid": {"injected"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}, nil
}
