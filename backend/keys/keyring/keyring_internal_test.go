package keyring

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/strata-storage/strata/backend/keys"
)

func TestWrappedLayout(t *testing.T) {
	st := twoVersions(t, 7, []byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210fedcba9876543210"))
	w := st.wrap(make([]byte, keys.DataKeySize), keys.Context{"blob": "b"})
	if len(w) != wrappedLen || w[0] != wrapFormat || binary.BigEndian.Uint32(w[1:headerLen]) != 7 {
		t.Fatalf("wrapped = %d bytes, format %#x, version %d; want %d bytes, format %#x, version 7",
			len(w), w[0], binary.BigEndian.Uint32(w[1:headerLen]), wrappedLen, wrapFormat)
	}
}

// The version is authenticated, not only used to pick the key: with both
// versions holding the same key material, relabelling must still fail.
func TestHeaderIsAuthenticated(t *testing.T) {
	same := []byte("0123456789abcdef0123456789abcdef")
	st := twoVersions(t, 1, same, same)
	ec := keys.Context{"blob": "b"}
	pt := bytes.Repeat([]byte{0xab}, keys.DataKeySize)
	w := st.wrap(pt, ec)
	if got, err := st.unwrap(w, ec); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("unwrap of an untouched wrapping: %v", err)
	}
	binary.BigEndian.PutUint32(w[1:headerLen], 2)
	if _, err := st.unwrap(w, ec); !errors.Is(err, keys.ErrDecrypt) {
		t.Errorf("relabelled version: err = %v, want ErrDecrypt", err)
	}
}

// The label keeps a wrapping from verifying as anything else sealed under the
// same master key with the same header and context.
func TestLabelIsAuthenticated(t *testing.T) {
	st := twoVersions(t, 1, []byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210fedcba9876543210"))
	ec := keys.Context{"blob": "b"}
	w := st.wrap(make([]byte, keys.DataKeySize), ec)
	if _, err := st.aeads[1].Open(nil, nil, w[headerLen:], append(w[:headerLen:headerLen], ec.Canonical()...)); err == nil {
		t.Error("wrapping verifies without the label")
	}
}

// twoVersions returns a state whose current version holds k1 and the next
// version k2.
func twoVersions(t *testing.T, current uint32, k1, k2 []byte) *state {
	t.Helper()
	st, err := newState(current, []masterKey{{version: current, key: k1}, {version: current + 1, key: k2}})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
