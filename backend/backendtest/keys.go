package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/strata-storage/strata/backend/keys"
)

// RunKeys checks that a keys.Service keeps the contract written in package
// keys. open is called once per subtest and must return a fresh, usable
// service; it registers its own cleanup on t.
//
// The suite only uses what keys.go promises: no key ID shapes, wrapped key
// formats or sizes, so the local keyring and a KMS client both run it as is.
// The optional capabilities (keys.Versions, keys.Rotator, keys.Retirer) are
// checked on a service that has them and skipped otherwise.
func RunKeys(t *testing.T, open func(t *testing.T) keys.Service) {
	t.Helper()

	t.Run("GenerateDataKeyShape", func(t *testing.T) {
		s := open(t)
		dk := keysGenerate(t, s, keysSampleContext())
		if len(dk.Plaintext) != keys.DataKeySize {
			t.Errorf("len(Plaintext) = %d, want %d", len(dk.Plaintext), keys.DataKeySize)
		}
		if len(dk.Wrapped) == 0 {
			t.Error("Wrapped is empty")
		}
		if bytes.Equal(dk.Wrapped, dk.Plaintext) {
			t.Error("Wrapped equals Plaintext")
		}
		// A wrapping that merely embeds the plaintext would leak the key.
		if bytes.Contains(dk.Wrapped, dk.Plaintext) {
			t.Error("Wrapped contains Plaintext")
		}
		if dk.KeyID == "" {
			t.Error("KeyID is empty")
		}
	})

	t.Run("GenerateDataKeyIsFresh", func(t *testing.T) {
		s := open(t)
		ec := keysSampleContext()
		a := keysGenerate(t, s, ec)
		b := keysGenerate(t, s, ec)
		if bytes.Equal(a.Plaintext, b.Plaintext) {
			t.Error("two calls returned the same plaintext key")
		}
		if bytes.Equal(a.Wrapped, b.Wrapped) {
			t.Error("two calls returned the same wrapped key")
		}
		if bytes.Equal(a.Plaintext, make([]byte, keys.DataKeySize)) {
			t.Error("plaintext key is all zeros")
		}
	})

	t.Run("GenerateDataKeyEmptyContextIsInvalid", func(t *testing.T) {
		s := open(t)
		for name, ec := range map[string]keys.Context{"nil": nil, "empty": {}} {
			dk, err := s.GenerateDataKey(t.Context(), ec)
			if !errors.Is(err, keys.ErrInvalid) {
				t.Errorf("%s context: err = %v, want ErrInvalid", name, err)
			}
			if len(dk.Plaintext) != 0 || len(dk.Wrapped) != 0 {
				t.Errorf("%s context: returned a key along with the error", name)
			}
		}
	})

	t.Run("DecryptSameContext", func(t *testing.T) {
		s := open(t)
		dk := keysGenerate(t, s, keysSampleContext())
		// The context is a map: a different instance, built in a different
		// order, must be the same context.
		same := keys.Context{}
		same["purpose"] = "conformance"
		same["tenant"] = "t-7"
		same["blob"] = "b-123"
		for name, ec := range map[string]keys.Context{
			"fresh map":   keysSampleContext(),
			"other order": same,
		} {
			pt, err := s.Decrypt(t.Context(), dk.Wrapped, ec)
			if err != nil {
				t.Errorf("%s: Decrypt: %v", name, err)
				continue
			}
			if !bytes.Equal(pt, dk.Plaintext) {
				t.Errorf("%s: Decrypt returned a different key", name)
			}
		}
		// Unwrapping twice works: Decrypt consumes nothing.
		if _, err := s.Decrypt(t.Context(), dk.Wrapped, keysSampleContext()); err != nil {
			t.Errorf("second Decrypt: %v", err)
		}
	})

	t.Run("DecryptOtherContextFails", func(t *testing.T) {
		s := open(t)
		dk := keysGenerate(t, s, keysSampleContext())
		for name, ec := range keysOtherContexts() {
			pt, err := s.Decrypt(t.Context(), dk.Wrapped, ec)
			if !errors.Is(err, keys.ErrDecrypt) {
				t.Errorf("%s: err = %v, want ErrDecrypt", name, err)
			}
			if pt != nil {
				t.Errorf("%s: returned %d bytes along with the error", name, len(pt))
			}
		}
	})

	t.Run("DecryptBitFlipFails", func(t *testing.T) {
		s := open(t)
		ec := keysSampleContext()
		dk := keysGenerate(t, s, ec)
		orig := bytes.Clone(dk.Wrapped)
		var failed []int
		for _, bit := range keysFlipPositions(len(orig)) {
			w := bytes.Clone(orig)
			w[bit/8] ^= 1 << (bit % 8)
			pt, err := s.Decrypt(t.Context(), w, ec)
			if !errors.Is(err, keys.ErrDecrypt) || pt != nil {
				failed = append(failed, bit)
				if len(failed) <= 10 {
					t.Errorf("bit %d (byte %d of %d) flipped: err = %v, want ErrDecrypt", bit, bit/8, len(orig), err)
				}
			}
		}
		if len(failed) > 10 {
			t.Errorf("... and %d more flipped bits were accepted", len(failed)-10)
		}
		if !bytes.Equal(dk.Wrapped, orig) {
			t.Error("Decrypt modified the wrapped key it was given")
		}
	})

	t.Run("DecryptTruncatedFails", func(t *testing.T) {
		s := open(t)
		ec := keysSampleContext()
		dk := keysGenerate(t, s, ec)
		w := dk.Wrapped
		cases := map[string][]byte{
			"nil":            nil,
			"empty":          {},
			"first byte":     w[:1],
			"half":           w[:len(w)/2],
			"all but last":   w[:len(w)-1],
			"all but first":  w[1:],
			"one extra byte": append(bytes.Clone(w), 0),
		}
		for name, in := range cases {
			pt, err := s.Decrypt(t.Context(), in, ec)
			if !errors.Is(err, keys.ErrDecrypt) {
				t.Errorf("%s (%d of %d bytes): err = %v, want ErrDecrypt", name, len(in), len(w), err)
			}
			if pt != nil {
				t.Errorf("%s: returned %d bytes along with the error", name, len(pt))
			}
		}
	})

	t.Run("RewrapRoundTrip", func(t *testing.T) {
		s := open(t)
		ec := keysSampleContext()
		dk := keysGenerate(t, s, ec)
		w2, keyID, err := s.Rewrap(t.Context(), dk.Wrapped, ec)
		if err != nil {
			t.Fatalf("Rewrap: %v", err)
		}
		if len(w2) == 0 {
			t.Fatal("Rewrap returned an empty wrapping")
		}
		if keyID == "" {
			t.Error("Rewrap returned an empty key ID")
		}
		if bytes.Contains(w2, dk.Plaintext) {
			t.Error("rewrapped key contains the plaintext")
		}
		pt, err := s.Decrypt(t.Context(), w2, ec)
		if err != nil {
			t.Fatalf("Decrypt of rewrapped key: %v", err)
		}
		if !bytes.Equal(pt, dk.Plaintext) {
			t.Error("rewrapped key decrypts to a different data key")
		}
		// The new wrapping is bound to the same context as the old one.
		for name, other := range keysOtherContexts() {
			if _, err := s.Decrypt(t.Context(), w2, other); !errors.Is(err, keys.ErrDecrypt) {
				t.Errorf("Decrypt of rewrapped key with %s context: err = %v, want ErrDecrypt", name, err)
			}
		}
		// A rewrapped key can itself be rewrapped (rotation happens repeatedly).
		w3, _, err := s.Rewrap(t.Context(), w2, ec)
		if err != nil {
			t.Fatalf("second Rewrap: %v", err)
		}
		if pt, err := s.Decrypt(t.Context(), w3, ec); err != nil || !bytes.Equal(pt, dk.Plaintext) {
			t.Errorf("Decrypt after second Rewrap: err = %v, same key = %v", err, bytes.Equal(pt, dk.Plaintext))
		}
	})

	t.Run("RewrapWrongContextFails", func(t *testing.T) {
		s := open(t)
		dk := keysGenerate(t, s, keysSampleContext())
		for name, ec := range keysOtherContexts() {
			w, _, err := s.Rewrap(t.Context(), dk.Wrapped, ec)
			if !errors.Is(err, keys.ErrDecrypt) {
				t.Errorf("%s: err = %v, want ErrDecrypt", name, err)
			}
			if w != nil {
				t.Errorf("%s: returned a wrapping along with the error", name)
			}
		}
	})

	t.Run("RewrapTamperedFails", func(t *testing.T) {
		s := open(t)
		ec := keysSampleContext()
		dk := keysGenerate(t, s, ec)
		n := len(dk.Wrapped)
		for _, i := range []int{0, n / 2, n - 1} {
			w := bytes.Clone(dk.Wrapped)
			w[i] ^= 0x01
			if _, _, err := s.Rewrap(t.Context(), w, ec); !errors.Is(err, keys.ErrDecrypt) {
				t.Errorf("byte %d of %d flipped: err = %v, want ErrDecrypt", i, n, err)
			}
		}
		if _, _, err := s.Rewrap(t.Context(), nil, ec); !errors.Is(err, keys.ErrDecrypt) {
			t.Errorf("nil wrapped key: err = %v, want ErrDecrypt", err)
		}
	})

	t.Run("ConcurrentUse", func(t *testing.T) {
		s := open(t)
		const goroutines, rounds = 8, 8
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			seen = map[string]bool{}
		)
		for g := range goroutines {
			wg.Go(func() {
				for i := range rounds {
					ec := keys.Context{"blob": fmt.Sprintf("b-%d-%d", g, i), "purpose": "conformance"}
					dk, err := s.GenerateDataKey(t.Context(), ec)
					if err != nil {
						t.Errorf("goroutine %d: GenerateDataKey: %v", g, err)
						return
					}
					mu.Lock()
					dup := seen[string(dk.Plaintext)]
					seen[string(dk.Plaintext)] = true
					mu.Unlock()
					if dup {
						t.Errorf("goroutine %d: data key handed out twice", g)
					}
					pt, err := s.Decrypt(t.Context(), dk.Wrapped, ec)
					if err != nil || !bytes.Equal(pt, dk.Plaintext) {
						t.Errorf("goroutine %d: Decrypt: err = %v, same key = %v", g, err, bytes.Equal(pt, dk.Plaintext))
						return
					}
					w2, _, err := s.Rewrap(t.Context(), dk.Wrapped, ec)
					if err != nil {
						t.Errorf("goroutine %d: Rewrap: %v", g, err)
						return
					}
					pt, err = s.Decrypt(t.Context(), w2, ec)
					if err != nil || !bytes.Equal(pt, dk.Plaintext) {
						t.Errorf("goroutine %d: Decrypt after Rewrap: err = %v, same key = %v", g, err, bytes.Equal(pt, dk.Plaintext))
						return
					}
				}
			})
		}
		wg.Wait()
	})

	t.Run("Versions", func(t *testing.T) {
		s := open(t)
		v, ok := s.(keys.Versions)
		if !ok {
			t.Skip("not a keys.Versions")
		}
		current, all := keysIDs(t, v)
		if current == "" || !slices.Contains(all, current) {
			t.Fatalf("KeyIDs = %q, %q: the current key must be one of all", current, all)
		}
		ec := keysSampleContext()
		dk := keysGenerate(t, s, ec)
		if dk.KeyID != current {
			t.Errorf("GenerateDataKey wrapped under %q, KeyIDs says %q is current", dk.KeyID, current)
		}
		if _, id, err := s.Rewrap(t.Context(), dk.Wrapped, ec); err != nil || id != current {
			t.Errorf("Rewrap = %q, %v; want the current key %q", id, err, current)
		}
	})

	t.Run("RotateRewrapRetire", func(t *testing.T) {
		s := open(t)
		rot, ok := s.(keys.Rotator)
		if !ok {
			t.Skip("not a keys.Rotator")
		}
		ec := keysSampleContext()
		old := keysGenerate(t, s, ec)
		next, err := rot.Rotate(t.Context())
		if err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		if next == "" || next == old.KeyID {
			t.Fatalf("Rotate = %q; want a new key ID (the old one is %q)", next, old.KeyID)
		}
		if v, ok := s.(keys.Versions); ok {
			current, all := keysIDs(t, v)
			if current != next || !slices.Contains(all, old.KeyID) || !slices.Contains(all, next) {
				t.Errorf("KeyIDs after Rotate = %q, %q; want current %q and both keys", current, all, next)
			}
		}
		// Wrappings made before still decrypt; new ones use the new key.
		if pt, err := s.Decrypt(t.Context(), old.Wrapped, ec); err != nil || !bytes.Equal(pt, old.Plaintext) {
			t.Errorf("Decrypt of a wrapping made before Rotate: err = %v", err)
		}
		if dk := keysGenerate(t, s, ec); dk.KeyID != next {
			t.Errorf("GenerateDataKey after Rotate: KeyID %q, want %q", dk.KeyID, next)
		}
		moved, id, err := s.Rewrap(t.Context(), old.Wrapped, ec)
		if err != nil || id != next {
			t.Fatalf("Rewrap after Rotate = %q, %v; want %q", id, err, next)
		}

		ret, ok := s.(keys.Retirer)
		if !ok {
			return
		}
		if err := ret.Retire(t.Context(), next); !errors.Is(err, keys.ErrInvalid) {
			t.Errorf("Retire of the current key: err = %v, want ErrInvalid", err)
		}
		if err := ret.Retire(t.Context(), old.KeyID); err != nil {
			t.Fatalf("Retire: %v", err)
		}
		if pt, err := s.Decrypt(t.Context(), old.Wrapped, ec); !errors.Is(err, keys.ErrDecrypt) || pt != nil {
			t.Errorf("Decrypt under a retired key: err = %v, want ErrDecrypt", err)
		}
		if _, _, err := s.Rewrap(t.Context(), old.Wrapped, ec); !errors.Is(err, keys.ErrDecrypt) {
			t.Errorf("Rewrap from a retired key: err = %v, want ErrDecrypt", err)
		}
		if pt, err := s.Decrypt(t.Context(), moved, ec); err != nil || !bytes.Equal(pt, old.Plaintext) {
			t.Errorf("Decrypt of the rewrapped key after the old one was retired: err = %v", err)
		}
		if v, ok := s.(keys.Versions); ok {
			if _, all := keysIDs(t, v); slices.Contains(all, old.KeyID) {
				t.Errorf("KeyIDs after Retire still lists %q: %q", old.KeyID, all)
			}
		}
		for _, id := range []string{old.KeyID, "no such key", ""} {
			if err := ret.Retire(t.Context(), id); !errors.Is(err, keys.ErrUnknownKey) {
				t.Errorf("Retire(%q): err = %v, want ErrUnknownKey", id, err)
			}
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		s := open(t)
		ec := keysSampleContext()
		dk := keysGenerate(t, s, ec)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.GenerateDataKey(ctx, ec); !errors.Is(err, context.Canceled) {
			t.Errorf("GenerateDataKey: err = %v, want context.Canceled", err)
		}
		if _, err := s.Decrypt(ctx, dk.Wrapped, ec); !errors.Is(err, context.Canceled) {
			t.Errorf("Decrypt: err = %v, want context.Canceled", err)
		}
		if _, _, err := s.Rewrap(ctx, dk.Wrapped, ec); !errors.Is(err, context.Canceled) {
			t.Errorf("Rewrap: err = %v, want context.Canceled", err)
		}
	})
}

// keysSampleContext returns a fresh map each call so that no test can pass by
// comparing map identity.
func keysSampleContext() keys.Context {
	return keys.Context{"blob": "b-123", "tenant": "t-7", "purpose": "conformance"}
}

// keysOtherContexts are contexts that differ from keysSampleContext in one way each.
// All values are non-empty so that KMS accepts them as requests.
func keysOtherContexts() map[string]keys.Context {
	return map[string]keys.Context{
		"changed value":  {"blob": "b-124", "tenant": "t-7", "purpose": "conformance"},
		"changed key":    {"Blob": "b-123", "tenant": "t-7", "purpose": "conformance"},
		"extra pair":     {"blob": "b-123", "tenant": "t-7", "purpose": "conformance", "x": "y"},
		"missing pair":   {"blob": "b-123", "tenant": "t-7"},
		"swapped values": {"blob": "t-7", "tenant": "b-123", "purpose": "conformance"},
		// Not here: a pair boundary moved ({"blobb": "-123", ...}). The
		// contract rejects it, but moto's KMS concatenates the pairs without
		// delimiters and accepts it, so the keyring tests that case itself.
		"empty": {},
		"nil":   nil,
	}
}

// keysFlipPositions returns the bit indexes to flip in an n-byte wrapped key:
// every bit when that is cheap, otherwise every bit of the first and last two
// bytes (headers and tags live there) plus an even spread over the rest, so
// that a service behind a network stays quick to test.
func keysFlipPositions(n int) []int {
	const maxFlips = 1024
	bits := n * 8
	if bits <= maxFlips {
		out := make([]int, bits)
		for i := range out {
			out[i] = i
		}
		return out
	}
	seen := make(map[int]bool, maxFlips)
	var out []int
	add := func(b int) {
		if !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	for i := range 16 {
		add(i)
		add(bits - 1 - i)
	}
	// Spread over the middle bytes, the bit index cycling so that every
	// position within a byte is sampled somewhere.
	rest := maxFlips - len(out)
	for i := range rest {
		byteIdx := 2 + i*(n-4)/rest
		add(byteIdx*8 + i%8)
	}
	return out
}

// generate calls GenerateDataKey and stops the test if it fails.
func keysIDs(t *testing.T, v keys.Versions) (string, []string) {
	t.Helper()
	current, all, err := v.KeyIDs(t.Context())
	if err != nil {
		t.Fatalf("KeyIDs: %v", err)
	}
	return current, all
}

func keysGenerate(t *testing.T, s keys.Service, ec keys.Context) keys.DataKey {
	t.Helper()
	dk, err := s.GenerateDataKey(t.Context(), ec)
	if err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}
	return dk
}
