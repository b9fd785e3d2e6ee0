package backend

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/keys"
	"github.com/strata-storage/strata/backend/meta"
	"github.com/strata-storage/strata/backend/record"
)

// A sealed secret is a small secret of the servers themselves (the SSH
// host key) kept in the metadata store, so that every server of a store
// behind one address has the same one. It is sealed like content: AES-256-GCM
// under a fresh data key of the key service, bound to its name.

// Sealed is a small secret sealed under a fresh data key of the key
// service, bound to a name (Seal): the item at (config, secret#<name>),
// and a share link's token inside the link's record.
type Sealed struct {
	Wrapped []byte `json:"wk"`
	KeyID   string `json:"kid"`
	Sealed  []byte `json:"s"` // nonce || ciphertext || tag
	Created int64  `json:"c"`
}

func secretSK(name string) string { return "secret#" + name }

func secretContext(name string) keys.Context {
	return keys.Context{"purpose": "strata-secret", "name": name}
}

// SealedSecret returns the secret called name, made by gen and stored
// sealed the first time it is asked for: of servers that ask at once, the
// first to store one wins and the others read it. A secret that no longer
// unwraps (the key service changed) is an error, never silently replaced.
func (b *Backend) SealedSecret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error) {
	for range 3 {
		s, _, err := record.Get[Sealed](ctx, b.meta, pkConfig, secretSK(name))
		if err == nil {
			return b.Unseal(ctx, name, s)
		}
		if !record.IsNotFound(err) {
			return nil, fmt.Errorf("secret %s: %w", name, err)
		}
		plain, err := gen()
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", name, err)
		}
		rec, err := b.Seal(ctx, name, plain)
		if err != nil {
			return nil, err
		}
		_, err = b.meta.Put(ctx, record.Item(pkConfig, secretSK(name), rec), meta.MustNew)
		if err == nil {
			return plain, nil
		}
		clear(plain)
		if !record.IsConflict(err) {
			return nil, fmt.Errorf("secret %s: %w", name, err)
		}
		// Another server stored one first: read theirs.
	}
	return nil, fmt.Errorf("secret %s: %w", name, meta.ErrConflict)
}

// Seal seals plain for name (what it is, which Unseal must be given
// again): a record that holds it shows nothing of it without the key
// service.
func (b *Backend) Seal(ctx context.Context, name string, plain []byte) (Sealed, error) {
	dk, hold, err := b.newDataKey(ctx, secretContext(name))
	if err != nil {
		return Sealed{}, fmt.Errorf("secret %s: %w", name, err)
	}
	defer hold.release()
	defer clear(dk.Plaintext)
	aead, err := secretAEAD(dk.Plaintext)
	if err != nil {
		return Sealed{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return Sealed{}, err
	}
	return Sealed{Wrapped: dk.Wrapped, KeyID: dk.KeyID, Sealed: aead.Seal(nonce, nonce, plain, []byte(name)), Created: record.Nanos(b.now())}, nil
}

// Unseal opens what Seal sealed for name.
func (b *Backend) Unseal(ctx context.Context, name string, s Sealed) ([]byte, error) {
	k, err := b.keys.Decrypt(ctx, s.Wrapped, secretContext(name))
	if errors.Is(err, keys.ErrDecrypt) {
		return nil, fmt.Errorf("secret %s: %w (sealed under master key %s)", name, ErrWrongKeys, s.KeyID)
	}
	if err != nil {
		return nil, fmt.Errorf("secret %s: key service: %w", name, err)
	}
	defer clear(k)
	aead, err := secretAEAD(k)
	if err != nil {
		return nil, err
	}
	n := aead.NonceSize()
	if len(s.Sealed) < n {
		return nil, fmt.Errorf("secret %s: %w", name, errs.ErrIntegrity)
	}
	plain, err := aead.Open(nil, s.Sealed[:n], s.Sealed[n:], []byte(name))
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, errs.ErrIntegrity)
	}
	return plain, nil
}

func secretAEAD(key []byte) (cipher.AEAD, error) {
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}
