package awskms

import (
	"bytes"
	"strings"
	"testing"
)

const testARN = "arn:aws:kms:us-east-1:123456789012:key/0b0e0d0c-1111-4222-8333-444455556666"

func TestWrappedRoundTrip(t *testing.T) {
	blob := bytes.Repeat([]byte{0xA5}, 96)
	w, err := encodeWrapped(testARN, blob)
	if err != nil {
		t.Fatal(err)
	}
	if w[0] != wrapFormat || int(w[1]) != len(testARN) || len(w) != 2+len(testARN)+len(blob) {
		t.Fatalf("unexpected layout: % x", w[:2])
	}
	got, ok := parseWrapped(w)
	if !ok || got.keyARN != testARN || !bytes.Equal(got.blob, blob) {
		t.Fatalf("parseWrapped = %+v, %v", got, ok)
	}
	for name, bad := range map[string]struct {
		arn  string
		blob []byte
	}{
		"no ARN":        {"", blob},
		"long ARN":      {strings.Repeat("a", 256), blob},
		"no blob":       {testARN, nil},
		"oversize blob": {testARN, make([]byte, maxBlobLen+1)},
	} {
		if _, err := encodeWrapped(bad.arn, bad.blob); err == nil {
			t.Errorf("%s: encodeWrapped accepted it", name)
		}
	}
}

func TestSameKey(t *testing.T) {
	const (
		mrkEast = "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
		mrkWest = "arn:aws:kms:us-west-2:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
		mrkElse = "arn:aws:kms:us-west-2:210987654321:key/mrk-1234abcd12ab34cd56ef1234567890ab"
		west    = "arn:aws:kms:us-west-2:123456789012:key/0b0e0d0c-1111-4222-8333-444455556666"
	)
	cases := []struct {
		a, b string
		want bool
	}{
		{testARN, testARN, true},
		{testARN, west, false}, // same ID, other region: different keys unless multi-Region
		{mrkEast, mrkWest, true},
		{mrkEast, mrkElse, false},
		{"", "", false},
		{"alias/x", "alias/x", true},
		{testARN, strings.Replace(testARN, "key/", "alias/", 1), false},
	}
	for _, c := range cases {
		if got := sameKey(c.a, c.b); got != c.want {
			t.Errorf("sameKey(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func FuzzParseWrapped(f *testing.F) {
	w, err := encodeWrapped(testARN, bytes.Repeat([]byte{1}, 96))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(w)
	f.Add([]byte{})
	f.Add([]byte{wrapFormat, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := bytes.Clone(in)
		p, ok := parseWrapped(in)
		if !bytes.Equal(in, orig) {
			t.Fatal("parseWrapped modified its input")
		}
		if !ok {
			return
		}
		again, err := encodeWrapped(p.keyARN, p.blob)
		if err != nil {
			t.Fatalf("parsed %+v does not encode: %v", p, err)
		}
		if !bytes.Equal(again, in) {
			t.Fatal("parse then encode is not the identity")
		}
	})
}
