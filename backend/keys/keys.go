// Package keys defines the key service that hands out data keys, in the shape
// of AWS KMS: a master key never leaves the service; callers get a fresh data
// key in plaintext (to use and forget) and wrapped (to store), bound to an
// encryption context that must be given again to unwrap it.
//
// Implementations live in sub-packages (keyring/, awskms/) and must all pass
// backendtest.RunKeys, which also checks the optional capabilities below
// (Versions, Rotator, Retirer) of a Service that has them. Callers detect a
// capability with a type assertion.
package keys

import (
	"context"
	"errors"
	"sort"
)

// Errors returned by every Service; implementations wrap them.
var (
	// ErrDecrypt: the wrapped key is malformed, was tampered with, names an
	// unknown master key, or the encryption context differs from the one it
	// was made with. Deliberately one error for all of these.
	ErrDecrypt = errors.New("keys: cannot unwrap data key")
	// ErrInvalid: a malformed request (e.g. an empty encryption context).
	ErrInvalid = errors.New("keys: invalid request")
	// ErrUnavailable: the key service is throttling or unreachable; the
	// operation may be retried. Services wrap it (alongside their own
	// error) when a request still failed after the client's retries because
	// the service refused it for load, or the network failed. A caller's own
	// cancellation or deadline is never ErrUnavailable, and it is never
	// ErrDecrypt: it says nothing about the wrapped key.
	ErrUnavailable = errors.New("keys: service unavailable")
	// ErrUnknownKey: a master key ID the service does not know (or no
	// longer: it was retired).
	ErrUnknownKey = errors.New("keys: no such master key")
)

// DataKeySize is the size of every data key in bytes (AES-256).
const DataKeySize = 32

// Context is an encryption context: non-secret key/value pairs bound to a
// wrapped key as additional authenticated data.
type Context map[string]string

// DataKey is a fresh data key.
type DataKey struct {
	// Plaintext is the key itself, DataKeySize bytes. Use, then forget.
	Plaintext []byte
	// Wrapped is the key encrypted under a master key, safe to store.
	Wrapped []byte
	// KeyID names the master key that wrapped it.
	KeyID string
}

// Service wraps and unwraps data keys. Any method may fail with
// ErrUnavailable when the service throttles or cannot be reached; the call
// may be retried.
type Service interface {
	// GenerateDataKey returns a fresh random data key bound to ec, which must
	// not be empty.
	GenerateDataKey(ctx context.Context, ec Context) (DataKey, error)

	// Decrypt unwraps a key made by GenerateDataKey or Rewrap with the same
	// ec. A wrapped key that is malformed, tampered with, or bound to another
	// context is ErrDecrypt; failures to reach the service (cancellation,
	// network, throttling, permissions) come back as themselves, so that a
	// caller can tell an outage from bad data.
	Decrypt(ctx context.Context, wrapped []byte, ec Context) ([]byte, error)

	// Rewrap re-encrypts a wrapped key under the current master key (for
	// rotation) without revealing it, and returns the new wrapping and the
	// master key ID. The data key itself is unchanged, and the old wrapping
	// stays valid as long as its master key is kept.
	Rewrap(ctx context.Context, wrapped []byte, ec Context) (newWrapped []byte, keyID string, err error)
}

// Versions is the optional capability of a Service that can name its master
// keys: what a key rotation moves data keys onto and from, and what a key
// status lists.
type Versions interface {
	// KeyIDs returns the ID of the master key GenerateDataKey and Rewrap
	// wrap under now (current; the KeyID they return), and the IDs of every
	// master key whose wrappings Decrypt accepts (all, current included,
	// oldest first where the service knows an order). The IDs are those
	// DataKey.KeyID and Rewrap report.
	KeyIDs(ctx context.Context) (current string, all []string, err error)
}

// Rotator is the optional capability of a Service that makes its own master
// keys (the local keyring; KMS rotates its keys by itself).
type Rotator interface {
	// Rotate makes a new master key, durably, and makes it current: what
	// GenerateDataKey and Rewrap wrap under from then on. Every key made
	// before stays usable for Decrypt and Rewrap (until retired), so data
	// keys wrapped under them keep working while they are moved across. It
	// returns the new key's ID.
	Rotate(ctx context.Context) (keyID string, err error)
}

// Retirer is the optional capability of a Service that can forget a master
// key.
type Retirer interface {
	// Retire forgets the master key keyID, durably: every wrapping made
	// under it can no longer be unwrapped (ErrDecrypt), by this Service or
	// any opened later. The service cannot know whether data keys are still
	// wrapped under it: that is the caller's to make sure. The current key
	// cannot be retired (ErrInvalid); a key the service does not know, or no
	// longer, is ErrUnknownKey.
	Retire(ctx context.Context, keyID string) error
}

// Canonical encodes ec deterministically (sorted keys, length-prefixed), for
// use as additional authenticated data.
func (ec Context) Canonical() []byte {
	ks := make([]string, 0, len(ec))
	for k := range ec {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	var b []byte
	for _, k := range ks {
		b = appendLP(b, k)
		b = appendLP(b, ec[k])
	}
	return b
}

func appendLP(b []byte, s string) []byte {
	n := uint32(len(s))
	b = append(b, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	return append(b, s...)
}
