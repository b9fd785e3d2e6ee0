// Package keyring is the local keys.Service: versioned 256-bit master keys in
// one owner-only file, data keys wrapped under the current one with
// AES-256-GCM and the encryption context as additional authenticated data.
//
// # Key file
//
// JSON, mode 0600, written only by atomic replacement:
//
//	{
//	  "format": 1,
//	  "current": 2,
//	  "keys": [
//	    {"version": 1, "created": "2025-01-02T03:04:05Z", "key": "<base64 of 32 bytes>"},
//	    {"version": 2, "created": "2025-06-01T00:00:00Z", "key": "<base64 of 32 bytes>"}
//	  ]
//	}
//
// Old versions stay in the file for as long as any data key is wrapped under
// them; Rotate adds a version, Rewrap moves data keys onto it, and Retire
// removes a version once its user (the core's key rotation job) knows that
// nothing is wrapped under it any more.
//
// # Wrapped data key
//
//	format (1 byte, 0x01) | master key version (4 bytes, big endian) |
//	nonce (12 bytes) | ciphertext (32 bytes) | GCM tag (16 bytes)
//
// The additional authenticated data is a fixed label, the 5 header bytes and
// keys.Context.Canonical(), so changing the header or the context makes
// authentication fail.
//
// A key file belongs to one process at a time (the data dir lock sees to
// that); Rotate and Retire refuse to overwrite a file that changed since it
// was read.
package keyring

import (
	"bytes"
	"cmp"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-storage/strata/backend/keys"
)

const (
	// fileFormat is the version of the key file layout; bump it when the
	// layout changes so that an old binary refuses a file it cannot read.
	fileFormat = 1
	// maxFileSize bounds what Open reads: thousands of versions fit, and a
	// wrong path to a huge file fails instead of eating memory.
	maxFileSize = 1 << 20
	// masterKeySize is AES-256.
	masterKeySize = 32

	// wrapFormat is the first byte of every wrapped key this package makes.
	wrapFormat byte = 0x01
	versionLen      = 4
	headerLen       = 1 + versionLen
	nonceLen        = 12
	tagLen          = 16
	wrappedLen      = headerLen + nonceLen + keys.DataKeySize + tagLen

	// aadLabel keeps a wrapping from authenticating in any other use of
	// the same master key. Fixed length, so it needs no delimiter.
	aadLabel = "strata keyring data key wrap\x00"
)

// Keyring is a keys.Service backed by a local key file. It is safe for
// concurrent use. Create one with Open.
type Keyring struct {
	path string
	// rotateMu serialises Rotate. Readers never take a lock: they load an
	// immutable snapshot from st, which Rotate replaces only once the new
	// key is durable on disk.
	rotateMu sync.Mutex
	st       atomic.Pointer[state]
}

var (
	_ keys.Service  = (*Keyring)(nil)
	_ keys.Versions = (*Keyring)(nil)
	_ keys.Rotator  = (*Keyring)(nil)
	_ keys.Retirer  = (*Keyring)(nil)
)

// state is an immutable snapshot of the keyring.
type state struct {
	current  uint32
	versions []masterKey // ascending by version, as persisted
	aeads    map[uint32]cipher.AEAD
	// fileSum is the SHA-256 of the key file as last read or written, to
	// notice another writer before Rotate overwrites its keys.
	fileSum [sha256.Size]byte
}

type masterKey struct {
	version uint32
	created time.Time
	key     []byte
}

// keyFile is the on-disk JSON document.
type keyFile struct {
	Format  int           `json:"format"`
	Current uint32        `json:"current"`
	Keys    []keyFileItem `json:"keys"`
}

type keyFileItem struct {
	Version uint32    `json:"version"`
	Created time.Time `json:"created"`
	Key     []byte    `json:"key"` // base64, by encoding/json
}

// Open loads the key file at path, or creates it with one new random master
// key (version 1) if it does not exist. The directory must exist.
//
// Creation is atomic: the file appears whole or not at all, even across a
// crash, and two processes racing to create it end up with the same keys.
// An existing file that group or others may read or write is refused, as ssh
// refuses such private keys.
func Open(path string) (*Keyring, error) {
	k, err := load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	return create(path)
}

// String names the key file; it never shows key material.
func (k *Keyring) String() string {
	return "keyring " + k.path
}

// GenerateDataKey returns a fresh random data key wrapped under the current
// master key and bound to ec. An empty ec is keys.ErrInvalid.
func (k *Keyring) GenerateDataKey(ctx context.Context, ec keys.Context) (keys.DataKey, error) {
	if err := ctx.Err(); err != nil {
		return keys.DataKey{}, fmt.Errorf("keyring: generate data key: %w", err)
	}
	if len(ec) == 0 {
		return keys.DataKey{}, fmt.Errorf("keyring: generate data key: empty encryption context: %w", keys.ErrInvalid)
	}
	st := k.st.Load()
	pt := make([]byte, keys.DataKeySize)
	rand.Read(pt) // never fails; crashes the program if the OS cannot supply randomness
	return keys.DataKey{Plaintext: pt, Wrapped: st.wrap(pt, ec), KeyID: keyID(st.current)}, nil
}

// Decrypt unwraps a data key made by GenerateDataKey or Rewrap with the same
// ec, under any master key version still in the file. Every failure to
// unwrap is keys.ErrDecrypt, with no detail.
func (k *Keyring) Decrypt(ctx context.Context, wrapped []byte, ec keys.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("keyring: decrypt: %w", err)
	}
	return k.st.Load().unwrap(wrapped, ec)
}

// Rewrap unwraps a data key and wraps it again under the current master key
// with the same ec. It returns the new wrapping and the current key ID.
func (k *Keyring) Rewrap(ctx context.Context, wrapped []byte, ec keys.Context) ([]byte, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("keyring: rewrap: %w", err)
	}
	// One snapshot for both halves, so a concurrent Rotate cannot make the
	// returned key ID disagree with the wrapping.
	st := k.st.Load()
	pt, err := st.unwrap(wrapped, ec)
	if err != nil {
		return nil, "", err
	}
	defer clear(pt)
	return st.wrap(pt, ec), keyID(st.current), nil
}

// Rotate adds a new random master key version, makes it current and writes
// the key file atomically before any data key is wrapped under it. Older
// versions are kept, so existing wrappings still decrypt; Rewrap moves them
// onto the new version. It returns the new key ID.
//
// Rotate refuses to run if the key file changed on disk since this Keyring
// read or wrote it, rather than drop master keys another process added.
func (k *Keyring) Rotate(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("keyring: rotate: %w", err)
	}
	k.rotateMu.Lock()
	defer k.rotateMu.Unlock()

	cur := k.st.Load()
	last := cur.versions[len(cur.versions)-1].version
	if last == math.MaxUint32 {
		return "", fmt.Errorf("keyring: rotate: %s has no master key versions left", k.path)
	}
	versions := slices.Clone(cur.versions)
	versions = append(versions, newMasterKey(last+1))
	next, err := k.replace(cur, last+1, versions)
	if err != nil {
		return "", fmt.Errorf("keyring: rotate: %w", err)
	}
	return keyID(next.current), nil
}

// Retire removes a master key version from the key file (atomically, as
// Rotate writes it): wrappings made under it no longer decrypt. The
// current version cannot be retired (keys.ErrInvalid); an ID that names no
// version in the file is keys.ErrUnknownKey. Like Rotate, it refuses to
// run if the key file changed on disk since it was read.
func (k *Keyring) Retire(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("keyring: retire: %w", err)
	}
	k.rotateMu.Lock()
	defer k.rotateMu.Unlock()

	cur := k.st.Load()
	v, ok := parseKeyID(id)
	i := slices.IndexFunc(cur.versions, func(mk masterKey) bool { return mk.version == v })
	switch {
	case !ok || i < 0:
		return fmt.Errorf("keyring: retire %q: %w", id, keys.ErrUnknownKey)
	case v == cur.current:
		return fmt.Errorf("keyring: retire %q: it is the current master key: %w", id, keys.ErrInvalid)
	}
	if _, err := k.replace(cur, cur.current, slices.Delete(slices.Clone(cur.versions), i, i+1)); err != nil {
		return fmt.Errorf("keyring: retire %q: %w", id, err)
	}
	return nil
}

// KeyIDs returns the current master key's ID and those of every version in
// the file, oldest first.
func (k *Keyring) KeyIDs(ctx context.Context) (string, []string, error) {
	if err := ctx.Err(); err != nil {
		return "", nil, fmt.Errorf("keyring: key IDs: %w", err)
	}
	st := k.st.Load()
	all := make([]string, len(st.versions))
	for i, mk := range st.versions {
		all[i] = keyID(mk.version)
	}
	return keyID(st.current), all, nil
}

// replace writes the key file with versions, current being current, and
// makes that the keyring's state (k.rotateMu held). It refuses to if the
// file changed on disk since cur was read or written.
func (k *Keyring) replace(cur *state, current uint32, versions []masterKey) (*state, error) {
	onDisk, err := os.ReadFile(k.path)
	if err != nil {
		return nil, err
	}
	if sha256.Sum256(onDisk) != cur.fileSum {
		return nil, fmt.Errorf("%s changed on disk since it was opened; reopen it first", k.path)
	}
	next, err := newState(current, versions)
	if err != nil {
		return nil, err
	}
	data, err := next.marshal()
	if err != nil {
		return nil, err
	}
	// Once the write has begun, finish it regardless of any ctx: abandoning
	// it halfway gains nothing and the file is replaced atomically anyway.
	if err := replaceFile(k.path, data); err != nil {
		return nil, err
	}
	next.fileSum = sha256.Sum256(data)
	k.st.Store(next)
	return next, nil
}

// keyID names a master key version for callers, e.g. "keyring:v2".
func keyID(version uint32) string {
	return keyIDPrefix + strconv.FormatUint(uint64(version), 10)
}

const keyIDPrefix = "keyring:v"

// parseKeyID reads what keyID wrote.
func parseKeyID(id string) (uint32, bool) {
	s, ok := strings.CutPrefix(id, keyIDPrefix)
	if !ok || s == "" || s[0] == '0' {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 32)
	return uint32(v), err == nil && v > 0
}

// errDecrypt is the one answer to every failed unwrap: which check failed
// would tell an attacker what to change next.
func errDecrypt() error {
	return fmt.Errorf("keyring: %w", keys.ErrDecrypt)
}

func (s *state) wrap(pt []byte, ec keys.Context) []byte {
	out := make([]byte, headerLen, wrappedLen)
	out[0] = wrapFormat
	binary.BigEndian.PutUint32(out[1:headerLen], s.current)
	// The AEAD draws a fresh random nonce and appends nonce|ciphertext|tag.
	return s.aeads[s.current].Seal(out, nil, pt, additionalData(out[:headerLen], ec))
}

func (s *state) unwrap(w []byte, ec keys.Context) ([]byte, error) {
	// Nothing is ever wrapped with an empty context, and every data key has
	// the same size, so any other length is not ours.
	if len(ec) == 0 || len(w) != wrappedLen || w[0] != wrapFormat {
		return nil, errDecrypt()
	}
	aead, ok := s.aeads[binary.BigEndian.Uint32(w[1:headerLen])]
	if !ok {
		return nil, errDecrypt()
	}
	pt, err := aead.Open(nil, nil, w[headerLen:], additionalData(w[:headerLen], ec))
	if err != nil {
		return nil, errDecrypt()
	}
	return pt, nil
}

func additionalData(header []byte, ec keys.Context) []byte {
	c := ec.Canonical()
	b := make([]byte, 0, len(aadLabel)+len(header)+len(c))
	b = append(b, aadLabel...)
	b = append(b, header...)
	return append(b, c...)
}

func newMasterKey(version uint32) masterKey {
	key := make([]byte, masterKeySize)
	rand.Read(key)
	return masterKey{version: version, created: time.Now().UTC().Truncate(time.Second), key: key}
}

// newState builds the AEADs once per master key; every call then shares them.
func newState(current uint32, versions []masterKey) (*state, error) {
	s := &state{current: current, versions: versions, aeads: make(map[uint32]cipher.AEAD, len(versions))}
	for _, mk := range versions {
		block, err := aes.NewCipher(mk.key)
		if err != nil {
			return nil, fmt.Errorf("master key version %d: %w", mk.version, err)
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, fmt.Errorf("master key version %d: %w", mk.version, err)
		}
		s.aeads[mk.version] = aead
	}
	return s, nil
}

func (s *state) marshal() ([]byte, error) {
	f := keyFile{Format: fileFormat, Current: s.current, Keys: make([]keyFileItem, len(s.versions))}
	for i, mk := range s.versions {
		f.Keys[i] = keyFileItem{Version: mk.version, Created: mk.created, Key: mk.key}
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode key file: %w", err)
	}
	return append(data, '\n'), nil
}

// parse decodes and checks a key file. Its errors describe structure only,
// never content, since the content is key material.
func parse(data []byte) (*state, error) {
	var f keyFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON document")
	}
	if f.Format != fileFormat {
		return nil, fmt.Errorf("format %d is not supported (want %d)", f.Format, fileFormat)
	}
	if len(f.Keys) == 0 {
		return nil, errors.New("no master keys")
	}
	versions := make([]masterKey, 0, len(f.Keys))
	seen := make(map[uint32]bool, len(f.Keys))
	for i, it := range f.Keys {
		switch {
		case it.Version == 0:
			return nil, fmt.Errorf("keys[%d]: version must be 1 or more", i)
		case seen[it.Version]:
			return nil, fmt.Errorf("keys[%d]: version %d appears twice", i, it.Version)
		case len(it.Key) != masterKeySize:
			return nil, fmt.Errorf("keys[%d]: version %d: key is %d bytes, want %d", i, it.Version, len(it.Key), masterKeySize)
		}
		seen[it.Version] = true
		versions = append(versions, masterKey{version: it.Version, created: it.Created, key: it.Key})
	}
	if !seen[f.Current] {
		return nil, fmt.Errorf("current version %d is not among the keys", f.Current)
	}
	slices.SortFunc(versions, func(a, b masterKey) int { return cmp.Compare(a.version, b.version) })
	return newState(f.Current, versions)
}

func load(path string) (*Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	defer f.Close()
	// Check the mode of the file actually opened, not of whatever the path
	// names a moment later.
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keyring: %s is not a regular file", path)
	}
	if err := checkMode(path, fi.Mode()); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("keyring: read %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("keyring: %s is not a key file: larger than %d bytes", path, maxFileSize)
	}
	st, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("keyring: %s is not a valid key file: %w", path, err)
	}
	st.fileSum = sha256.Sum256(data)
	k := &Keyring{path: path}
	k.st.Store(st)
	return k, nil
}

// checkMode refuses a key file that anyone but its owner may read or write.
func checkMode(path string, mode fs.FileMode) error {
	if runtime.GOOS == "windows" {
		return nil // Unix permission bits mean nothing there; ACLs guard the file.
	}
	if perm := mode.Perm(); perm&0o077 != 0 {
		return fmt.Errorf("keyring: %s has mode %04o, which lets group or others at the master keys; "+
			"it must be 0600 or stricter (chmod 600 %s)", path, perm, path)
	}
	return nil
}

func create(path string) (*Keyring, error) {
	st, err := newState(1, []masterKey{newMasterKey(1)})
	if err != nil {
		return nil, fmt.Errorf("keyring: create %s: %w", path, err)
	}
	data, err := st.marshal()
	if err != nil {
		return nil, fmt.Errorf("keyring: create %s: %w", path, err)
	}
	tmp, err := writeTemp(path, data)
	if err != nil {
		return nil, fmt.Errorf("keyring: create %s: %w", path, err)
	}
	// Link, unlike rename, never replaces: if another process created the
	// file meanwhile, its keys may already be in use and must win.
	err = os.Link(tmp, path)
	if errors.Is(err, errors.ErrUnsupported) || errors.Is(err, fs.ErrPermission) {
		// Filesystems without hard links: rename is still atomic, it
		// only loses the race above.
		err = os.Rename(tmp, path)
	}
	os.Remove(tmp)
	if errors.Is(err, fs.ErrExist) {
		return load(path)
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: create %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("keyring: create %s: %w", path, err)
	}
	st.fileSum = sha256.Sum256(data)
	k := &Keyring{path: path}
	k.st.Store(st)
	return k, nil
}

// replaceFile atomically replaces path with data: a crash leaves either the
// old file or the new one, whole.
func replaceFile(path string, data []byte) error {
	tmp, err := writeTemp(path, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeTemp writes data to a new 0600 file next to path, synced to disk, and
// returns its name. The same directory keeps the later rename atomic.
func writeTemp(path string, data []byte) (name string, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	// CreateTemp already uses 0600; say so explicitly in case that changes.
	if err := f.Chmod(0o600); err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		return "", err
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return f.Name(), nil
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for sync there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
