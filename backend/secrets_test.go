package backend_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/keys/keyring"
	"github.com/strata-storage/strata/backend/meta"
)

func TestSealedSecret(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	made := 0
	gen := func() ([]byte, error) { made++; return []byte("host key #" + string(rune('0'+made))), nil }
	// Servers asking at once all get the one stored first.
	var wg sync.WaitGroup
	got := make([][]byte, 4)
	errList := make([]error, 4)
	var mu sync.Mutex
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errList[i] = e.b.SealedSecret(ctx, "ssh-host-key", func() ([]byte, error) {
				mu.Lock()
				defer mu.Unlock()
				return gen()
			})
		}()
	}
	wg.Wait()
	for i := range got {
		if errList[i] != nil || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("server %d: %q, %v; server 0: %q", i, got[i], errList[i], got[0])
		}
	}
	again, err := e.b.SealedSecret(ctx, "ssh-host-key", func() ([]byte, error) { return nil, errors.New("made twice") })
	if err != nil || !bytes.Equal(again, got[0]) {
		t.Fatalf("read back: %q, %v", again, err)
	}
	// Nothing readable is stored.
	it, err := e.meta.Get(ctx, "config", "secret#ssh-host-key")
	if err != nil || bytes.Contains(it.Value, got[0]) {
		t.Fatalf("stored %q, %v", it.Value, err)
	}
	// Tampering is refused, not replaced.
	it.Value = bytes.Replace(it.Value, []byte(`"s":"`), []byte(`"s":"AAAA`), 1)
	if _, err := e.meta.Put(ctx, it, meta.NoCond); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.SealedSecret(ctx, "ssh-host-key", gen); !errors.Is(err, errs.ErrIntegrity) {
		t.Fatalf("tampered: %v", err)
	}
	// Another key service cannot unwrap it: an error, never a new secret.
	other, err := keyring.Open(t.TempDir() + "/keys.json")
	if err != nil {
		t.Fatal(err)
	}
	b2, err := backend.New(backend.Config{Blobs: e.blobs, Meta: e.meta, Keys: other})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.SealedSecret(ctx, "second", gen); err != nil {
		t.Fatal(err)
	}
	if _, err := b2.SealedSecret(ctx, "second", gen); !errors.Is(err, backend.ErrWrongKeys) {
		t.Fatalf("another key service: %v", err)
	}
}
