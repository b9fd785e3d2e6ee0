package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/strata-storage/strata/backend/meta"
)

// A stored value is a fixed header followed by Item.Value:
//
//	[0:8]   version, uint64 big-endian (from the bucket sequence, see nextVersion)
//	[8:16]  N, int64
//	[16:24] ExpiresAt, unix seconds, 0 for none
//
// Seconds because that is all DynamoDB's TTL keeps; both drivers must agree.
const headerLen = 24

// keySep separates pk from sk in a bucket key. meta.ValidateKey forbids NUL
// in keys, and NUL sorts before every other byte, so "dir#1\x00..." keys all
// come before "dir#10\x00..." ones and a partition is one contiguous run.
const keySep = 0x00

var errCorrupt = errors.New("bolt: corrupt item")

type header struct {
	version   int64
	n         int64
	expiresAt time.Time
}

func itemKey(pk, sk string) []byte {
	k := make([]byte, 0, len(pk)+1+len(sk))
	k = append(k, pk...)
	k = append(k, keySep)
	return append(k, sk...)
}

// partitionPrefix is the prefix shared by every key of partition pk, and only
// by them.
func partitionPrefix(pk string) []byte {
	k := make([]byte, 0, len(pk)+1)
	k = append(k, pk...)
	return append(k, keySep)
}

// prefixEnd returns the smallest key greater than every key starting with p,
// or nil if there is none (p is all 0xff).
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// encodeItem returns a fresh buffer; it never aliases value, which may point
// into bbolt's mmap.
func encodeItem(version, n int64, expiresAt time.Time, value []byte) []byte {
	buf := make([]byte, headerLen+len(value))
	binary.BigEndian.PutUint64(buf[0:8], uint64(version))
	binary.BigEndian.PutUint64(buf[8:16], uint64(n))
	var exp int64
	if !expiresAt.IsZero() {
		exp = expiresAt.Unix()
	}
	binary.BigEndian.PutUint64(buf[16:24], uint64(exp))
	copy(buf[headerLen:], value)
	return buf
}

// decodeHeader reads the header of raw; a nil raw (no item) is the zero
// header.
func decodeHeader(raw []byte) (header, error) {
	if raw == nil {
		return header{}, nil
	}
	if len(raw) < headerLen {
		return header{}, fmt.Errorf("%w: %d-byte value", errCorrupt, len(raw))
	}
	h := header{
		version: int64(binary.BigEndian.Uint64(raw[0:8])),
		n:       int64(binary.BigEndian.Uint64(raw[8:16])),
	}
	if exp := int64(binary.BigEndian.Uint64(raw[16:24])); exp != 0 {
		h.expiresAt = time.Unix(exp, 0).UTC()
	}
	return h, nil
}

// loadHeader reads the header of the item at key and whether it exists.
func loadHeader(b *bbolt.Bucket, key []byte) (header, bool, error) {
	raw := b.Get(key)
	h, err := decodeHeader(raw)
	return h, raw != nil, err
}

// decodeItem builds an Item from a stored value, copying Value out of the
// mmap, which is only valid inside the transaction.
func decodeItem(pk, sk string, raw []byte) (meta.Item, error) {
	h, err := decodeHeader(raw)
	if err != nil {
		return meta.Item{}, err
	}
	it := meta.Item{PK: pk, SK: sk, N: h.n, Version: h.version, ExpiresAt: h.expiresAt}
	if v := raw[headerLen:]; len(v) > 0 {
		it.Value = append([]byte(nil), v...)
	}
	return it, nil
}
