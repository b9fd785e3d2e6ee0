package keyring_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend/backendtest"
	"github.com/strata-storage/strata/backend/keys"
	"github.com/strata-storage/strata/backend/keys/keyring"
)

func TestConformance(t *testing.T) {
	backendtest.RunKeys(t, func(t *testing.T) keys.Service {
		return open(t, keyPath(t))
	})
}

// The suite again on a keyring with several versions, so that lookups of
// non-current versions and Rewrap across versions are exercised too.
func TestConformanceAfterRotate(t *testing.T) {
	backendtest.RunKeys(t, func(t *testing.T) keys.Service {
		k := open(t, keyPath(t))
		for range 2 {
			if _, err := k.Rotate(t.Context()); err != nil {
				t.Fatalf("Rotate: %v", err)
			}
		}
		return k
	})
}

// Contexts that concatenate to the same bytes without length prefixes are
// still different contexts.
func TestContextBoundaries(t *testing.T) {
	k := open(t, keyPath(t))
	ec := keys.Context{"blob": "b-123", "tenant": "t-7"}
	dk, err := k.GenerateDataKey(t.Context(), ec)
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range []keys.Context{
		{"blobb": "-123", "tenant": "t-7"},
		{"blob": "b-123t", "enant": "t-7"},
		{"blobb-123tenant": "t-7"},
	} {
		if _, err := k.Decrypt(t.Context(), dk.Wrapped, other); !errors.Is(err, keys.ErrDecrypt) {
			t.Errorf("Decrypt with %v: err = %v, want ErrDecrypt", other, err)
		}
	}
}

func TestOpenCreatesOwnerOnlyFile(t *testing.T) {
	path := keyPath(t)
	open(t, path)
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("mode = %04o, want 0600", perm)
		}
	}
	f := readKeyFile(t, path)
	if f.Format != 1 || f.Current != 1 || len(f.Keys) != 1 || f.Keys[0].Version != 1 || len(f.Keys[0].Key) != 32 {
		t.Errorf("new key file: format %d, current %d, %d keys; want format 1, current 1, one 32-byte key version 1",
			f.Format, f.Current, len(f.Keys))
	}
	if f.Keys[0].Created.IsZero() {
		t.Error("new key has no creation time")
	}
	assertOnlyFile(t, path)
}

func TestOpenMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "keyring.json")
	if _, err := keyring.Open(path); err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
}

func TestReopenDecrypts(t *testing.T) {
	path := keyPath(t)
	ec := keys.Context{"blob": "b1"}
	dk, err := open(t, path).GenerateDataKey(t.Context(), ec)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	pt, err := open(t, path).Decrypt(t.Context(), dk.Wrapped, ec)
	if err != nil {
		t.Fatalf("Decrypt after reopen: %v", err)
	}
	if !bytes.Equal(pt, dk.Plaintext) {
		t.Error("Decrypt after reopen returned a different key")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("reopening rewrote the key file")
	}
}

func TestOpenRefusesLooseMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o620, 0o602, 0o644, 0o660, 0o666} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			path := keyPath(t)
			open(t, path)
			// Chmod, unlike a create mode, ignores the umask.
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadFile(path)
			_, err := keyring.Open(path)
			if err == nil {
				t.Fatal("Open accepted the file")
			}
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, fmt.Sprintf("%04o", mode)) {
				t.Errorf("error %q should name the file and its mode", msg)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Error("the refused file was modified")
			}
		})
	}
}

func TestOpenAcceptsReadOnlyFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits")
	}
	path := keyPath(t)
	open(t, path)
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	open(t, path)
}

func TestRotate(t *testing.T) {
	path := keyPath(t)
	k := open(t, path)
	ec := keys.Context{"blob": "b1"}
	old, err := k.GenerateDataKey(t.Context(), ec)
	if err != nil {
		t.Fatal(err)
	}
	if old.KeyID != "keyring:v1" {
		t.Errorf("KeyID before Rotate = %q, want keyring:v1", old.KeyID)
	}

	id, err := k.Rotate(t.Context())
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if id != "keyring:v2" {
		t.Errorf("Rotate = %q, want keyring:v2", id)
	}
	assertOnlyFile(t, path)
	if runtime.GOOS != "windows" {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("after Rotate: stat err %v, mode %v; want 0600", err, fi.Mode())
		}
	}

	if pt, err := k.Decrypt(t.Context(), old.Wrapped, ec); err != nil || !bytes.Equal(pt, old.Plaintext) {
		t.Errorf("Decrypt of a v1 wrapping after Rotate: err = %v", err)
	}
	if dk, err := k.GenerateDataKey(t.Context(), ec); err != nil || dk.KeyID != "keyring:v2" {
		t.Errorf("GenerateDataKey after Rotate: KeyID %q, err %v; want keyring:v2", dk.KeyID, err)
	}
	moved, movedID, err := k.Rewrap(t.Context(), old.Wrapped, ec)
	if err != nil {
		t.Fatalf("Rewrap: %v", err)
	}
	if movedID != "keyring:v2" {
		t.Errorf("Rewrap key ID = %q, want keyring:v2", movedID)
	}

	f := readKeyFile(t, path)
	if f.Current != 2 || len(f.Keys) != 2 {
		t.Errorf("key file after Rotate: current %d, %d keys; want current 2, 2 keys", f.Current, len(f.Keys))
	}

	// Both wrappings survive a restart.
	k2 := open(t, path)
	for name, w := range map[string][]byte{"rewrapped": moved, "original": old.Wrapped} {
		if pt, err := k2.Decrypt(t.Context(), w, ec); err != nil || !bytes.Equal(pt, old.Plaintext) {
			t.Errorf("Decrypt of %s key after reopen: err = %v", name, err)
		}
	}
	if id, err := k2.Rotate(t.Context()); err != nil || id != "keyring:v3" {
		t.Errorf("Rotate after reopen = %q, %v; want keyring:v3", id, err)
	}
}

// Rotation end to end on the key file: rotate, rewrap, retire the old
// version; the file then holds only the new one, and a reopened keyring
// agrees.
func TestRotateRewrapRetire(t *testing.T) {
	path := keyPath(t)
	k := open(t, path)
	ec := keys.Context{"blob": "b1"}
	old, err := k.GenerateDataKey(t.Context(), ec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	moved, _, err := k.Rewrap(t.Context(), old.Wrapped, ec)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Retire(t.Context(), "keyring:v1"); err != nil {
		t.Fatalf("Retire: %v", err)
	}
	assertOnlyFile(t, path)
	f := readKeyFile(t, path)
	if f.Current != 2 || len(f.Keys) != 1 || f.Keys[0].Version != 2 {
		t.Errorf("key file after Retire: current %d, %d keys; want only version 2", f.Current, len(f.Keys))
	}
	for name, kr := range map[string]*keyring.Keyring{"same": k, "reopened": open(t, path)} {
		if _, err := kr.Decrypt(t.Context(), old.Wrapped, ec); !errors.Is(err, keys.ErrDecrypt) {
			t.Errorf("%s: Decrypt under the retired version: err = %v, want ErrDecrypt", name, err)
		}
		if pt, err := kr.Decrypt(t.Context(), moved, ec); err != nil || !bytes.Equal(pt, old.Plaintext) {
			t.Errorf("%s: Decrypt of the rewrapped key: err = %v", name, err)
		}
		if cur, all, err := kr.KeyIDs(t.Context()); err != nil || cur != "keyring:v2" || len(all) != 1 {
			t.Errorf("%s: KeyIDs = %q, %q, %v; want keyring:v2 alone", name, cur, all, err)
		}
	}
	// Version numbers are never reused: the next one is 3.
	if id, err := k.Rotate(t.Context()); err != nil || id != "keyring:v3" {
		t.Errorf("Rotate after Retire = %q, %v; want keyring:v3", id, err)
	}
	for _, id := range []string{"keyring:v1", "keyring:v01", "keyring:v", "keyring:v-2", "v2", "keyring:v99999999999"} {
		if err := k.Retire(t.Context(), id); !errors.Is(err, keys.ErrUnknownKey) {
			t.Errorf("Retire(%q): err = %v, want ErrUnknownKey", id, err)
		}
	}
	if err := k.Retire(t.Context(), "keyring:v3"); !errors.Is(err, keys.ErrInvalid) {
		t.Errorf("Retire of the current version: err = %v, want ErrInvalid", err)
	}
}

func TestRetireRefusesFileChangedOnDisk(t *testing.T) {
	path := keyPath(t)
	a := open(t, path)
	if _, err := a.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	b := open(t, path)
	if _, err := a.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	// b does not know version 3; writing its view would destroy it.
	if err := b.Retire(t.Context(), "keyring:v1"); err == nil {
		t.Fatal("Retire overwrote a key file another keyring had changed")
	}
	if f := readKeyFile(t, path); f.Current != 3 || len(f.Keys) != 3 {
		t.Errorf("key file: current %d, %d keys; want a's rotations kept", f.Current, len(f.Keys))
	}
}

func TestRotateRefusesFileChangedOnDisk(t *testing.T) {
	path := keyPath(t)
	a := open(t, path)
	b := open(t, path)
	if _, err := a.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	// b's view lacks version 2; writing it would destroy a's new key.
	if _, err := b.Rotate(t.Context()); err == nil {
		t.Fatal("Rotate overwrote a key file another keyring had changed")
	}
	if f := readKeyFile(t, path); f.Current != 2 || len(f.Keys) != 2 {
		t.Errorf("key file: current %d, %d keys; want a's rotation kept", f.Current, len(f.Keys))
	}
}

func TestRotateCancelled(t *testing.T) {
	path := keyPath(t)
	k := open(t, path)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := k.Rotate(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Rotate: err = %v, want context.Canceled", err)
	}
	if f := readKeyFile(t, path); f.Current != 1 {
		t.Errorf("cancelled Rotate changed the file: current %d", f.Current)
	}
}

func TestRotateWhileInUse(t *testing.T) {
	path := keyPath(t)
	k := open(t, path)
	type wrapped struct {
		dk keys.DataKey
		ec keys.Context
	}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		all []wrapped
	)
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				ec := keys.Context{"blob": fmt.Sprintf("%d-%d", g, i)}
				dk, err := k.GenerateDataKey(t.Context(), ec)
				if err != nil {
					t.Error(err)
					return
				}
				if _, _, err := k.Rewrap(t.Context(), dk.Wrapped, ec); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				all = append(all, wrapped{dk, ec})
				mu.Unlock()
			}
		})
	}
	for range 5 {
		if _, err := k.Rotate(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	k2 := open(t, path)
	for _, w := range all {
		if pt, err := k2.Decrypt(t.Context(), w.dk.Wrapped, w.ec); err != nil || !bytes.Equal(pt, w.dk.Plaintext) {
			t.Errorf("key made during rotation (%s): err = %v", w.dk.KeyID, err)
		}
	}
}

func TestOpenRejectsCorruptFile(t *testing.T) {
	// A recognisable key, to check errors never echo key material.
	secret := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	item := func(v int, key string) string {
		return fmt.Sprintf(`{"version":%d,"created":"2025-01-01T00:00:00Z","key":%q}`, v, key)
	}
	valid := `{"format":1,"current":1,"keys":[` + item(1, secret) + `]}`
	for name, content := range map[string]string{
		"empty":             "",
		"not JSON":          "not a key file " + secret,
		"truncated":         valid[:len(valid)-10],
		"trailing data":     valid + `{}`,
		"not an object":     `[` + item(1, secret) + `]`,
		"unknown field":     `{"format":1,"current":1,"keys":[` + item(1, secret) + `],"extra":true}`,
		"no format":         `{"current":1,"keys":[` + item(1, secret) + `]}`,
		"future format":     `{"format":2,"current":1,"keys":[` + item(1, secret) + `]}`,
		"no keys":           `{"format":1,"current":1,"keys":[]}`,
		"bad base64":        `{"format":1,"current":1,"keys":[` + item(1, "!!"+secret) + `]}`,
		"short key":         `{"format":1,"current":1,"keys":[` + item(1, secret[:24]) + `]}`,
		"long key":          `{"format":1,"current":1,"keys":[` + item(1, base64.StdEncoding.EncodeToString(make([]byte, 64))) + `]}`,
		"version zero":      `{"format":1,"current":1,"keys":[` + item(0, secret) + `]}`,
		"negative version":  `{"format":1,"current":1,"keys":[` + item(-1, secret) + `]}`,
		"duplicate version": `{"format":1,"current":1,"keys":[` + item(1, secret) + `,` + item(1, secret) + `]}`,
		"unknown current":   `{"format":1,"current":2,"keys":[` + item(1, secret) + `]}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := keyPath(t)
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := keyring.Open(path)
			if err == nil {
				t.Fatal("Open accepted a corrupt key file")
			}
			msg := err.Error()
			if !strings.Contains(msg, path) {
				t.Errorf("error %q does not name the file", msg)
			}
			if strings.Contains(msg, secret[:16]) {
				t.Errorf("error %q shows key material", msg)
			}
			// A corrupt file must never be mistaken for a missing one.
			if got, _ := os.ReadFile(path); string(got) != content {
				t.Error("Open rewrote the corrupt file")
			}
		})
	}
	// The valid document itself opens, so the cases above fail for their
	// own reason.
	path := keyPath(t)
	if err := os.WriteFile(path, []byte(valid), 0o600); err != nil {
		t.Fatal(err)
	}
	open(t, path)
}

func TestNoKeyMaterialInOutput(t *testing.T) {
	path := keyPath(t)
	k := open(t, path)
	key := readKeyFile(t, path).Keys[0].Key
	out := fmt.Sprintf("%v %+v %#v %s", k, k, k, k)
	for _, leak := range []string{base64.StdEncoding.EncodeToString(key), fmt.Sprint(key), fmt.Sprintf("%x", key)} {
		if strings.Contains(out, leak) {
			t.Fatalf("formatting the keyring shows its master key: %s", out)
		}
	}
}

func FuzzDecrypt(f *testing.F) {
	k := open(f, filepath.Join(f.TempDir(), "keyring.json"))
	ctx := context.Background()
	mk := func(blob string) (keys.DataKey, keys.Context) {
		ec := keys.Context{"blob": blob}
		dk, err := k.GenerateDataKey(ctx, ec)
		if err != nil {
			f.Fatal(err)
		}
		return dk, ec
	}
	dk1, ec1 := mk("b1")
	if _, err := k.Rotate(ctx); err != nil {
		f.Fatal(err)
	}
	dk2, ec2 := mk("b2")
	good := []struct {
		dk keys.DataKey
		ec keys.Context
	}{{dk1, ec1}, {dk2, ec2}}

	for _, g := range good {
		f.Add(g.dk.Wrapped, g.ec["blob"])
		f.Add(g.dk.Wrapped, g.ec["blob"]+"x")
		f.Add(g.dk.Wrapped[:len(g.dk.Wrapped)-1], g.ec["blob"])
		flipped := bytes.Clone(g.dk.Wrapped)
		flipped[len(flipped)/2] ^= 0x80
		f.Add(flipped, g.ec["blob"])
	}
	f.Add(dk1.Wrapped, "b2")
	f.Add([]byte{}, "b1")
	f.Add([]byte{1, 0, 0, 0, 1}, "b1")

	f.Fuzz(func(t *testing.T, w []byte, blob string) {
		ec := keys.Context{"blob": blob}
		var want []byte
		for _, g := range good {
			if bytes.Equal(w, g.dk.Wrapped) && blob == g.ec["blob"] {
				want = g.dk.Plaintext
			}
		}
		pt, err := k.Decrypt(ctx, w, ec)
		if want != nil {
			if err != nil || !bytes.Equal(pt, want) {
				t.Fatalf("Decrypt of an unmodified wrapping: err = %v", err)
			}
		} else if !errors.Is(err, keys.ErrDecrypt) || pt != nil {
			t.Fatalf("Decrypt of a modified wrapping: err = %v, %d bytes", err, len(pt))
		}
		w2, _, err := k.Rewrap(ctx, w, ec)
		if (want != nil) != (err == nil) {
			t.Fatalf("Rewrap: err = %v, unmodified = %v", err, want != nil)
		}
		if err != nil && !errors.Is(err, keys.ErrDecrypt) {
			t.Fatalf("Rewrap: err = %v, want ErrDecrypt", err)
		}
		if want != nil {
			if pt, err := k.Decrypt(ctx, w2, ec); err != nil || !bytes.Equal(pt, want) {
				t.Fatalf("Decrypt after Rewrap: err = %v", err)
			}
		}
	})
}

func keyPath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "keyring.json")
}

func open(t testing.TB, path string) *keyring.Keyring {
	t.Helper()
	k, err := keyring.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return k
}

// keyFile mirrors the documented key file format, so these tests notice
// when it changes.
type keyFile struct {
	Format  int    `json:"format"`
	Current uint32 `json:"current"`
	Keys    []struct {
		Version uint32    `json:"version"`
		Created time.Time `json:"created"`
		Key     []byte    `json:"key"`
	} `json:"keys"`
}

func readKeyFile(t *testing.T, path string) keyFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f keyFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("key file is not JSON: %v", err)
	}
	return f
}

// assertOnlyFile checks that no temporary file was left next to path.
func assertOnlyFile(t *testing.T, path string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(path) {
			t.Errorf("left behind in the key file's directory: %s", e.Name())
		}
	}
}
