// Package awskms is the keys.Service on AWS KMS: data keys come from
// GenerateDataKey under one symmetric encryption KMS key, are unwrapped with
// Decrypt and moved onto current key material with ReEncrypt. The encryption
// context goes to KMS as given, so KMS binds it to the wrapping and logs it
// in CloudTrail.
//
// # Keys and rotation
//
// New takes the key to wrap under as a key ID, key ARN, alias name
// ("alias/strata") or alias ARN. Data keys are always wrapped under what that
// names now. Two kinds of rotation work:
//
//   - Automatic or on-demand rotation of the KMS key: the key ARN stays, KMS
//     keeps every generation of its material, old wrappings decrypt as they
//     are, and Rewrap (ReEncrypt onto the same key) moves a wrapping onto the
//     newest material.
//   - Manual rotation by repointing an alias to a new key: KMS resolves an
//     alias given as Decrypt's KeyId or ReEncrypt's SourceKeyId to the key it
//     names now and refuses a ciphertext made under the old one
//     (IncorrectKeyException; "These requests fail when the value of the
//     KeyId parameter is an alias that no longer points to the KMS key that
//     performed the cryptographic operation", AWS KMS developer guide,
//     "Rotate keys manually"). So the old key's ARN must be passed to New as
//     a previous key: wrappings made under it then decrypt, and Rewrap moves
//     them onto the key the alias names now (ReEncrypt from the old key to
//     the alias). Once nothing is wrapped under the old key any more, drop it
//     from the list.
//
// The driver never lets a wrapping choose an arbitrary key: Decrypt names
// either the configured key or one of the listed previous keys to KMS, and
// KMS refuses a ciphertext made under any other.
//
// # Wrapped data key
//
//	format (1 byte, 0x4B) | n (1 byte, 1..255) | key ARN (n bytes) |
//	KMS CiphertextBlob (1..6144 bytes, opaque)
//
// The key ARN is the one KMS returned when it made the blob. It tells
// Decrypt which allowed key to name (needed after an alias is repointed) and
// is checked against the ARN KMS reports on every Decrypt and ReEncrypt, so
// changing it makes the wrapping fail like any other tampering.
//
// # Errors
//
// As keys.Service says, a wrapping that cannot be unwrapped is keys.ErrDecrypt
// and a failure to use the service comes back as itself:
//
//   - keys.ErrDecrypt: a locally malformed wrapping or an empty context (no
//     request is sent), InvalidCiphertextException (tampered blob or another
//     context), IncorrectKeyException (made under another key), a key ARN
//     that does not match the key KMS used, and AccessDeniedException when
//     the key is demonstrably usable (below).
//   - keys.ErrInvalid: an empty context for GenerateDataKey, ValidationException.
//   - keys.ErrUnavailable, wrapped alongside the SDK error: what still
//     failed after the client's retries because KMS throttled
//     (ThrottlingException, LimitExceededException, the SDK's other
//     throttling codes, any 503) or could not be reached (a refused or
//     dropped connection, a response cut short, a timeout of the HTTP
//     client). A cancelled or expired ctx of the caller is never
//     ErrUnavailable.
//   - Everything else wraps the SDK error (check it with errors.As and
//     smithy.APIError or the kms/types exceptions): cancellation and
//     deadlines, network errors, ThrottlingException after the retries,
//     AccessDeniedException, NotFoundException, DisabledException,
//     KMSInvalidStateException, KeyUnavailableException and so on. Errors
//     name the key, the action KMS refused ("kms:Decrypt denied") and, for a
//     missing key or alias, the region.
//
// # AccessDeniedException on Decrypt and ReEncrypt
//
// KMS answers AccessDeniedException both when the caller may not use the key
// and when the ciphertext names a key the caller cannot use: for the latter
// AWS says "The ciphertext refers to a customer master key that does not
// exist, does not exist in this region, or you are not allowed to access."
// moto 5.2 says the same whenever the key ID it stores in the first 36 bytes
// of its ciphertext names no key it knows (a flipped bit there) or differs
// from Decrypt's KeyId, where AWS would answer IncorrectKeyException. The
// message text is not a contract, so this driver does not parse it. Instead,
// on such a denial for the configured key it runs the same operation on a
// ciphertext it knows to be good: GenerateDataKey, then Decrypt (or
// ReEncrypt) of that under the same key. If that works, the service, the key
// and this principal's permissions for exactly this operation are fine, and
// the only thing that differs is the caller's ciphertext: keys.ErrDecrypt.
// If the probe is refused too (denied, disabled, missing key), the denial is
// real and comes back as itself; if the probe cannot tell (network,
// throttling, cancellation), the original denial comes back, never
// keys.ErrDecrypt. The verdict is kept in the Service for probeTTL, so a run
// of bad wrappings costs one probe, not one each.
//
// This is stricter than asking DescribeKey whether the key is enabled:
// kms:DescribeKey may well be allowed while kms:Decrypt is denied (by a key
// policy, a grant that was retired, or a condition such as aws:SourceVpce),
// and such a denial must not be reported as bad data. A denial for a
// previous key comes back as itself: the driver may hold only kms:Decrypt
// there, so it cannot make a known-good ciphertext to compare with.
//
// # Where moto differs from AWS
//
//   - moto joins the encryption context's pairs without separators to form
//     its additional authenticated data, so {"blob": "b-1"} and
//     {"blobb": "-1"} unwrap each other's keys there; AWS binds the pairs
//     themselves. Strata always uses the single pair {"blob": <blob ID>}, and
//     a moved pair boundary needs a second key name, so this cannot bite
//     Strata; the conformance suite leaves that case to the keyring.
//   - moto answers AccessDeniedException where AWS answers
//     IncorrectKeyException, and for corrupted key-ID bytes: handled above.
//   - moto's ReEncrypt ignores SourceKeyId and decrypts under whatever key
//     the ciphertext names. Rewrap therefore also insists that KMS reports
//     the configured key or a previous key as the source, which AWS
//     guarantees anyway.
//   - moto's Decrypt and GenerateDataKey do not look at the key state; only
//     Check (DescribeKey) notices a disabled key there.
//
// # Retries and the client
//
// Throttling (ThrottlingException; LimitExceededException) and transient
// failures are retried by the client's retryer, the SDK's standard one
// unless the caller sets another; every call honours its context, so the
// caller's deadline bounds the retries too. A KMS request quota is shared by
// every cryptographic operation of the account in the region, so a fleet of
// servers should keep the standard retryer's token bucket (it stops retrying
// once throttling persists instead of adding load), allow a few more
// attempts than the default three and cap the backoff well below the
// default 20 s:
//
//	cfg, err := config.LoadDefaultConfig(ctx, config.WithRetryer(func() aws.Retryer {
//		return retry.NewStandard(func(o *retry.StandardOptions) {
//			o.MaxAttempts = 5
//			o.MaxBackoff = 5 * time.Second
//		})
//	}))
//	svc, err := awskms.New(kms.NewFromConfig(cfg), "alias/strata")
//
// A batch job that rewraps many keys should use retry.NewAdaptiveMode()
// instead, which also slows its own sending while KMS throttles it.
//
// # Permissions
//
// kms:GenerateDataKey and kms:Decrypt on the configured key; kms:DescribeKey
// for Check; kms:ReEncryptFrom and kms:ReEncryptTo for Rewrap; kms:Decrypt,
// kms:ReEncryptFrom and kms:DescribeKey on previous keys. IAMActions lists
// them per operation.
package awskms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/strata-storage/strata/backend/internal/awserr"
	"github.com/strata-storage/strata/backend/keys"
)

// probeTTL is how long a verdict on whether the configured key is usable is
// kept (see the package documentation): long enough that a run of bad
// wrappings costs one probe, short enough that a permission change shows
// within half a minute.
const probeTTL = 30 * time.Second

// Service is a keys.Service backed by AWS KMS. It is safe for concurrent use.
// Create one with New.
type Service struct {
	client   *kms.Client
	keyID    string
	previous []string
	region   string

	// probing serialises probes so that a burst of denials runs one; a
	// channel rather than a mutex so that waiters still honour their ctx.
	probing chan struct{}

	mu       sync.Mutex
	verdicts [numOps]verdict
}

var (
	_ keys.Service  = (*Service)(nil)
	_ keys.Versions = (*Service)(nil)
)

// op is a KMS operation whose AccessDeniedException may need explaining.
type op int

const (
	opDecrypt op = iota
	opReEncrypt
	numOps
)

func (o op) action() string {
	if o == opReEncrypt {
		return "kms:ReEncrypt"
	}
	return "kms:Decrypt"
}

// verdict says whether the configured key was usable for an op when probed.
type verdict struct {
	usable  bool
	expires time.Time
}

// New returns a Service that wraps data keys under keyID: a key ID, key ARN,
// alias name ("alias/strata") or alias ARN. previous lists the key ARNs of
// keys that wrapped data keys before an alias was repointed; wrappings made
// under them still decrypt, and Rewrap moves them onto the key keyID names
// now. New makes no request; call Check at start-up.
//
// Build the client with the SDK's standard configuration (credentials
// chain, AWS_REGION, AWS_ENDPOINT_URL_KMS) and see the package
// documentation for retry settings.
func New(client *kms.Client, keyID string, previous ...string) (*Service, error) {
	if client == nil {
		return nil, errors.New("awskms: no KMS client")
	}
	if keyID == "" || strings.TrimSpace(keyID) != keyID {
		return nil, fmt.Errorf("awskms: invalid key identifier %q: want a key ID, key ARN, alias name (alias/...) or alias ARN", keyID)
	}
	for _, p := range previous {
		if _, ok := parseKeyARN(p); !ok {
			return nil, fmt.Errorf("awskms: previous key %q is not a key ARN (arn:aws:kms:<region>:<account>:key/<key id>): wrappings record the key ARN, so only that identifies the key for certain", p)
		}
	}
	return &Service{
		client:   client,
		keyID:    keyID,
		previous: append([]string(nil), previous...),
		region:   client.Options().Region,
		probing:  make(chan struct{}, 1),
	}, nil
}

// String names the key; it never shows key material.
func (s *Service) String() string {
	return "awskms " + s.keyID
}

// GenerateDataKey returns a fresh AES-256 data key from KMS, wrapped under
// the configured key and bound to ec, which must not be empty. KeyID is the
// ARN of the key that wrapped it.
func (s *Service) GenerateDataKey(ctx context.Context, ec keys.Context) (keys.DataKey, error) {
	if err := ctx.Err(); err != nil {
		return keys.DataKey{}, fmt.Errorf("awskms: generate data key: %w", err)
	}
	if len(ec) == 0 {
		return keys.DataKey{}, fmt.Errorf("awskms: generate data key: empty encryption context: %w", keys.ErrInvalid)
	}
	out, err := s.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(s.keyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: ec,
	})
	if err != nil {
		return keys.DataKey{}, s.callError(ctx, "kms:GenerateDataKey", s.keyID, err)
	}
	if len(out.Plaintext) != keys.DataKeySize {
		clear(out.Plaintext)
		return keys.DataKey{}, fmt.Errorf("awskms: key %q: GenerateDataKey returned a %d-byte data key, want %d", s.keyID, len(out.Plaintext), keys.DataKeySize)
	}
	keyARN := aws.ToString(out.KeyId)
	wrapped, err := encodeWrapped(keyARN, out.CiphertextBlob)
	if err != nil {
		clear(out.Plaintext)
		return keys.DataKey{}, fmt.Errorf("awskms: key %q: GenerateDataKey: %w", s.keyID, err)
	}
	return keys.DataKey{Plaintext: out.Plaintext, Wrapped: wrapped, KeyID: keyARN}, nil
}

// Decrypt unwraps a data key made by GenerateDataKey or Rewrap with the same
// ec, under the configured key or a previous key. See the package
// documentation for which failures are keys.ErrDecrypt.
func (s *Service) Decrypt(ctx context.Context, wrapped []byte, ec keys.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("awskms: decrypt: %w", err)
	}
	w, ok := parseWrapped(wrapped)
	if !ok || len(ec) == 0 {
		// Nothing is wrapped with an empty context: GenerateDataKey refuses it.
		return nil, s.errDecrypt(opDecrypt, "malformed wrapped key or empty context")
	}
	source := s.sourceKey(w.keyARN)
	out, err := s.client.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob:    w.blob,
		KeyId:             aws.String(source),
		EncryptionContext: ec,
	})
	if err != nil {
		return nil, s.unwrapFailed(ctx, opDecrypt, source, w.keyARN, err)
	}
	if !sameKey(aws.ToString(out.KeyId), w.keyARN) || len(out.Plaintext) != keys.DataKeySize {
		clear(out.Plaintext)
		return nil, s.errDecrypt(opDecrypt, "the key ARN in the wrapping is not the key KMS decrypted with")
	}
	return out.Plaintext, nil
}

// Rewrap moves a wrapped data key onto the key the configured identifier
// names now, and onto its newest key material, with ReEncrypt: the data key
// never leaves KMS. It returns the new wrapping and that key's ARN; the old
// wrapping stays valid while its key is enabled (and, if it is not the
// configured key, listed as a previous key).
func (s *Service) Rewrap(ctx context.Context, wrapped []byte, ec keys.Context) ([]byte, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("awskms: rewrap: %w", err)
	}
	w, ok := parseWrapped(wrapped)
	if !ok || len(ec) == 0 {
		return nil, "", s.errDecrypt(opReEncrypt, "malformed wrapped key or empty context")
	}
	source := s.sourceKey(w.keyARN)
	out, err := s.client.ReEncrypt(ctx, &kms.ReEncryptInput{
		CiphertextBlob:               w.blob,
		SourceKeyId:                  aws.String(source),
		SourceEncryptionContext:      ec,
		DestinationKeyId:             aws.String(s.keyID),
		DestinationEncryptionContext: ec,
	})
	if err != nil {
		return nil, "", s.unwrapFailed(ctx, opReEncrypt, source, w.keyARN, err)
	}
	from, to := aws.ToString(out.SourceKeyId), aws.ToString(out.KeyId)
	// AWS refuses a source other than SourceKeyId; moto does not look, so
	// check that the source was one this Service accepts.
	allowed := sameKey(from, to) || s.previousKey(from) != ""
	if !sameKey(from, w.keyARN) || !allowed {
		return nil, "", s.errDecrypt(opReEncrypt, "the key ARN in the wrapping is not an accepted key KMS decrypted with")
	}
	nw, err := encodeWrapped(to, out.CiphertextBlob)
	if err != nil {
		return nil, "", fmt.Errorf("awskms: key %q: ReEncrypt: %w", s.keyID, err)
	}
	return nw, to, nil
}

// KeyIDs returns the ARN of the key the configured identifier names now
// (what GenerateDataKey and Rewrap wrap under) and, after it, the previous
// keys. KMS has no versions to make or forget: a key's automatic rotation
// keeps its ARN (and every generation of its material), and retiring a
// previous key is the operator's (drop it from the list, disable it).
func (s *Service) KeyIDs(ctx context.Context) (string, []string, error) {
	out, err := s.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(s.keyID)})
	if err != nil {
		return "", nil, s.callError(ctx, "kms:DescribeKey", s.keyID, err)
	}
	if out.KeyMetadata == nil || aws.ToString(out.KeyMetadata.Arn) == "" {
		return "", nil, fmt.Errorf("awskms: key %q: DescribeKey returned no key ARN", s.keyID)
	}
	current := aws.ToString(out.KeyMetadata.Arn)
	all := []string{current}
	for _, p := range s.previous {
		if !sameKey(p, current) {
			all = append(all, p)
		}
	}
	return current, all, nil
}

// Check verifies at start-up that the configured key exists, is enabled and
// is a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key, that every previous key exists
// and is enabled, and that this principal can generate and decrypt a data
// key under the configured key. Its errors say what to fix: which key, which
// action was denied, or that the key or alias does not exist in the region.
func (s *Service) Check(ctx context.Context) error {
	if err := s.checkKey(ctx, s.keyID); err != nil {
		return err
	}
	for _, p := range s.previous {
		if err := s.checkKey(ctx, p); err != nil {
			return fmt.Errorf("%w (listed as a previous key)", err)
		}
	}
	if err := s.probe(ctx, opDecrypt); err != nil {
		return err
	}
	s.remember(opDecrypt, true)
	return nil
}

func (s *Service) checkKey(ctx context.Context, keyID string) error {
	out, err := s.client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(keyID)})
	if err != nil {
		return s.callError(ctx, "kms:DescribeKey", keyID, err)
	}
	md := out.KeyMetadata
	if md == nil {
		return fmt.Errorf("awskms: key %q: DescribeKey returned no key metadata", keyID)
	}
	arn := aws.ToString(md.Arn)
	if md.KeyState != types.KeyStateEnabled || !md.Enabled {
		return fmt.Errorf("awskms: key %q (%s) is %s; it must be Enabled", keyID, arn, md.KeyState)
	}
	spec := md.KeySpec
	if spec == "" {
		spec = types.KeySpec(md.CustomerMasterKeySpec)
	}
	usage := md.KeyUsage
	if usage == "" {
		// ENCRYPT_DECRYPT is the default; moto leaves the field out of
		// DescribeKey when CreateKey did not name it (AWS always sets it).
		usage = types.KeyUsageTypeEncryptDecrypt
	}
	if spec != types.KeySpecSymmetricDefault || usage != types.KeyUsageTypeEncryptDecrypt {
		return fmt.Errorf("awskms: key %q (%s) is a %s %s key; Strata needs a %s %s key",
			keyID, arn, spec, md.KeyUsage, types.KeySpecSymmetricDefault, types.KeyUsageTypeEncryptDecrypt)
	}
	return nil
}

// sourceKey is the key to name to KMS for a wrapping that says it was made
// under keyARN: that key if it is a listed previous key, otherwise the
// configured one. Either way KMS refuses the ciphertext if it was made under
// another key, so a wrapping cannot pick its key.
func (s *Service) sourceKey(keyARN string) string {
	if p := s.previousKey(keyARN); p != "" {
		return p
	}
	return s.keyID
}

func (s *Service) previousKey(keyARN string) string {
	for _, p := range s.previous {
		if sameKey(p, keyARN) {
			return p
		}
	}
	return ""
}

// unwrapFailed turns a failed Decrypt or ReEncrypt into keys.ErrDecrypt when
// the wrapping is at fault, and into a service error otherwise.
func (s *Service) unwrapFailed(ctx context.Context, o op, source, wrappedARN string, err error) error {
	var (
		invalid   *types.InvalidCiphertextException
		incorrect *types.IncorrectKeyException
	)
	switch {
	case errors.As(err, &invalid):
		return s.errDecrypt(o, "InvalidCiphertextException: the blob is corrupt or bound to another encryption context")
	case errors.As(err, &incorrect):
		return s.errDecrypt(o, s.otherKeyReason(source, wrappedARN, "IncorrectKeyException"))
	case !isAccessDenied(err):
		return s.callError(ctx, o.action(), source, err)
	case source != s.keyID:
		return s.callError(ctx, o.action(), source, err)
	}
	usable, perr := s.keyUsable(ctx, o)
	switch {
	case perr != nil:
		return fmt.Errorf("awskms: key %q: %s denied: %w (probing whether the key itself is usable failed too: %w)", source, o.action(), err, perr)
	case usable:
		return s.errDecrypt(o, s.otherKeyReason(source, wrappedARN, "AccessDeniedException although the key itself works"))
	default:
		return s.callError(ctx, o.action(), source, err)
	}
}

// otherKeyReason explains a ciphertext made under another key, with the one
// hint an operator needs after repointing an alias.
func (s *Service) otherKeyReason(source, wrappedARN, code string) string {
	reason := fmt.Sprintf("%s: the ciphertext was not made under %q", code, source)
	if source == s.keyID && isAlias(s.keyID) {
		reason += fmt.Sprintf(" (the wrapping names %q; if the alias was repointed away from that key, pass its ARN to New as a previous key)", wrappedARN)
	}
	return reason
}

func (s *Service) errDecrypt(o op, reason string) error {
	verb := "decrypt"
	if o == opReEncrypt {
		verb = "rewrap"
	}
	return fmt.Errorf("awskms: %s under key %q: %s: %w", verb, s.keyID, reason, keys.ErrDecrypt)
}

// callError describes a failed KMS call for an operator: the key, and what
// was refused or missing. It wraps err, so callers can still inspect it.
func (s *Service) callError(ctx context.Context, action, keyID string, err error) error {
	var (
		notFound *types.NotFoundException
		disabled *types.DisabledException
		state    *types.KMSInvalidStateException
		usage    *types.InvalidKeyUsageException
	)
	switch {
	case isAccessDenied(err):
		return fmt.Errorf("awskms: key %q: %s denied: %w", keyID, action, err)
	case errors.As(err, &notFound):
		kind := "key"
		if isAlias(keyID) {
			kind = "alias"
		}
		region := s.region
		if region == "" {
			region = "(no region configured)"
		}
		return fmt.Errorf("awskms: %s %q does not exist in region %s: %w", kind, keyID, region, err)
	case errors.As(err, &disabled), errors.As(err, &state):
		return fmt.Errorf("awskms: key %q: %s: the key is disabled or not in a usable state: %w", keyID, action, err)
	case errors.As(err, &usage):
		return fmt.Errorf("awskms: key %q: %s: not a symmetric ENCRYPT_DECRYPT key: %w", keyID, action, err)
	case awserr.Code(err) == "ValidationException":
		return fmt.Errorf("awskms: key %q: %s: %w: %w", keyID, action, keys.ErrInvalid, err)
	case awserr.IsThrottled(err):
		return fmt.Errorf("awskms: key %q: %s: KMS is throttling requests and the client's retryer gave up: %w: %w", keyID, action, keys.ErrUnavailable, err)
	case awserr.IsTransportFailure(ctx, err):
		return fmt.Errorf("awskms: key %q: %s: KMS cannot be reached: %w: %w", keyID, action, keys.ErrUnavailable, err)
	default:
		return fmt.Errorf("awskms: key %q: %s: %w", keyID, action, err)
	}
}

// keyUsable reports whether the configured key works for o right now, from
// the cache or by probing. An error means the probe could not tell.
func (s *Service) keyUsable(ctx context.Context, o op) (bool, error) {
	if usable, ok := s.cached(o); ok {
		return usable, nil
	}
	select {
	case s.probing <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.probing }()
	// Another caller may have probed while this one waited.
	if usable, ok := s.cached(o); ok {
		return usable, nil
	}
	err := s.probe(ctx, o)
	switch {
	case err == nil:
		s.remember(o, true)
		return true, nil
	case isKeyRefusal(err):
		s.remember(o, false)
		return false, nil
	default:
		return false, err
	}
}

// probe makes a data key under the configured key and runs o on it, with
// the same context Check uses (so a key policy that admits Check admits the
// probe). The plaintext is discarded.
func (s *Service) probe(ctx context.Context, o op) error {
	gen, err := s.client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(s.keyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: probeContext(),
	})
	if err != nil {
		return s.callError(ctx, "kms:GenerateDataKey", s.keyID, err)
	}
	defer clear(gen.Plaintext)
	switch o {
	case opReEncrypt:
		_, err := s.client.ReEncrypt(ctx, &kms.ReEncryptInput{
			CiphertextBlob:               gen.CiphertextBlob,
			SourceKeyId:                  aws.String(s.keyID),
			SourceEncryptionContext:      probeContext(),
			DestinationKeyId:             aws.String(s.keyID),
			DestinationEncryptionContext: probeContext(),
		})
		if err != nil {
			return s.callError(ctx, o.action(), s.keyID, err)
		}
	default:
		out, err := s.client.Decrypt(ctx, &kms.DecryptInput{
			CiphertextBlob:    gen.CiphertextBlob,
			KeyId:             aws.String(s.keyID),
			EncryptionContext: probeContext(),
		})
		if err != nil {
			return s.callError(ctx, o.action(), s.keyID, err)
		}
		defer clear(out.Plaintext)
		if !bytes.Equal(out.Plaintext, gen.Plaintext) {
			return fmt.Errorf("awskms: key %q: Decrypt did not return the data key GenerateDataKey made", s.keyID)
		}
	}
	return nil
}

// probeContext has the shape of the contexts Strata uses ({"blob": id}), so
// key policies conditioned on context keys treat the probe like real
// traffic. No blob has this ID.
func probeContext() map[string]string {
	return map[string]string{"blob": "strata-kms-check"}
}

func (s *Service) cached(o op) (usable, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.verdicts[o]
	if time.Now().After(v.expires) {
		return false, false
	}
	return v.usable, true
}

func (s *Service) remember(o op, usable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verdicts[o] = verdict{usable: usable, expires: time.Now().Add(probeTTL)}
}

// isKeyRefusal reports whether err is KMS refusing the key itself (as
// opposed to a failure that says nothing about it, like a timeout).
func isKeyRefusal(err error) bool {
	var (
		notFound *types.NotFoundException
		disabled *types.DisabledException
		state    *types.KMSInvalidStateException
		usage    *types.InvalidKeyUsageException
	)
	return isAccessDenied(err) || errors.As(err, &notFound) || errors.As(err, &disabled) ||
		errors.As(err, &state) || errors.As(err, &usage)
}

// isAccessDenied reports an AccessDeniedException. KMS does not model it as
// an error shape, so the SDK has no type for it; the code is the contract.
func isAccessDenied(err error) bool {
	return awserr.Code(err) == "AccessDeniedException"
}
