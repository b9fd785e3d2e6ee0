package awskms

import (
	"errors"
	"strings"
)

const (
	// wrapFormat is the first byte of every wrapping this package makes:
	// 'K' for KMS, layout 1. A different layout gets a different byte, so
	// an old binary refuses a wrapping it cannot read instead of sending
	// it to KMS, and a keyring wrapping (first byte 0x01) handed to this
	// driver by mistake is refused locally.
	wrapFormat byte = 0x4B

	// maxARNLen is what the one-byte length can say. Real key ARNs are
	// under 100 bytes (the longest partition and region names plus an
	// mrk- key ID).
	maxARNLen = 255

	// maxBlobLen is the largest CiphertextBlob the KMS API accepts.
	maxBlobLen = 6144
)

// wrapping is a parsed wrapped data key. blob aliases the caller's slice:
// nothing here or in the SDK writes to it.
type wrapping struct {
	// keyARN is the key ARN that KMS said made blob. It is not
	// authenticated by this package; KMS vouches for it on every use (see
	// Service.Decrypt).
	keyARN string
	blob   []byte
}

func encodeWrapped(keyARN string, blob []byte) ([]byte, error) {
	switch {
	case keyARN == "":
		return nil, errors.New("KMS returned no key ARN")
	case len(keyARN) > maxARNLen:
		return nil, errors.New("KMS returned a key ARN longer than 255 bytes")
	case len(blob) == 0 || len(blob) > maxBlobLen:
		return nil, errors.New("KMS returned a ciphertext blob of an impossible size")
	}
	out := make([]byte, 0, 2+len(keyARN)+len(blob))
	out = append(out, wrapFormat, byte(len(keyARN)))
	out = append(out, keyARN...)
	return append(out, blob...), nil
}

// parseWrapped splits w, or says it cannot have come from encodeWrapped.
func parseWrapped(w []byte) (wrapping, bool) {
	if len(w) < 2 || w[0] != wrapFormat {
		return wrapping{}, false
	}
	n := int(w[1])
	rest := w[2:]
	if n == 0 || len(rest) <= n || len(rest)-n > maxBlobLen {
		return wrapping{}, false
	}
	return wrapping{keyARN: string(rest[:n]), blob: rest[n:]}, true
}

// keyARN is a parsed key ARN: arn:<partition>:kms:<region>:<account>:key/<id>.
type keyARN struct {
	partition, region, account, id string
}

func parseKeyARN(s string) (keyARN, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "kms" || parts[3] == "" || parts[4] == "" {
		return keyARN{}, false
	}
	id, ok := strings.CutPrefix(parts[5], "key/")
	if !ok || id == "" || strings.ContainsAny(id, "/: ") {
		return keyARN{}, false
	}
	return keyARN{partition: parts[1], region: parts[3], account: parts[4], id: id}, true
}

// sameKey reports whether two key ARNs name the same KMS key. The replicas
// of a multi-Region key (key ID mrk-...) share key material and decrypt
// each other's ciphertexts, but KMS names the replica of the region it
// answers from, so for those the region does not count.
func sameKey(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	ka, okA := parseKeyARN(a)
	kb, okB := parseKeyARN(b)
	return okA && okB && strings.HasPrefix(ka.id, "mrk-") &&
		ka.partition == kb.partition && ka.account == kb.account && ka.id == kb.id
}

// isAlias reports whether a key identifier names an alias rather than a key.
func isAlias(keyID string) bool {
	return strings.HasPrefix(keyID, "alias/") || strings.Contains(keyID, ":alias/")
}
