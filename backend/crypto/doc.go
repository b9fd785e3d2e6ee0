// Package crypto seals blobs for storage and reads them back, whole or by
// byte range, using DARE 2.0 as implemented by github.com/minio/sio.
//
// # Sealed format
//
// This is the on-disk format of every blob Strata stores; changing anything
// below makes existing data unreadable.
//
// A blob is the plaintext of one file version, Size bytes, cut into parts of
// PartSize plaintext bytes (PartSize is a multiple of 64 KiB, at least 64 KiB
// and at most 4 GiB). Every part but the last holds exactly PartSize bytes;
// the last holds the remaining 1..PartSize bytes. A 0-byte blob has no parts
// and is stored as 0 bytes. Size and PartSize are kept in metadata (Layout),
// not in the blob.
//
// Part i (0-based) is one independent DARE 2.0 stream with the cipher suite
// AES-256-GCM under the 32-byte part key
//
//	K_i = HMAC-SHA256(dataKey, "part" || BE32(i))
//
// where "part" is the four ASCII bytes 70 61 72 74 and BE32(i) is i as a
// 4-byte big-endian integer. The stream is a sequence of packages; package k
// (0-based within the part) holds plaintext bytes [k*65536, min((k+1)*65536,
// partLen)) of the part, sealed as
//
//	header (16 bytes) || ciphertext (L bytes) || GCM tag (16 bytes)
//
// with the header laid out as
//
//	byte  0     version, 0x20
//	byte  1     cipher suite, 0x00 (AES-256-GCM)
//	bytes 2-3   L-1, little-endian
//	bytes 4-15  the stream nonce: 12 random bytes chosen afresh each time the
//	            part is sealed, the same in every package of the part, except
//	            that the top bit of byte 4 is the final flag, set only on the
//	            part's last package
//
// The GCM nonce of package k is header bytes 4-15 with their last four bytes
// (header bytes 12-15, as a little-endian uint32) XORed with k; the GCM
// additional data is header bytes 0-3. Every package but the last of a part
// is full (L = 65536), so a package adds exactly 32 bytes and
//
//	SealedSize(x)            = x + 32*ceil(x/65536)
//	part i starts at         i * SealedSize(PartSize)
//	package k of part i at   i * SealedSize(PartSize) + k*65568
//
// The sealed blob is the sealed parts concatenated in order, with nothing
// before, between or after them. Because every offset is arithmetic on
// (Size, PartSize), no per-part or per-package index is stored anywhere, and a
// range read can fetch exactly the packages it needs.
//
// # What is detected
//
// Reading through Open authenticates every package it returns bytes from.
// Any changed bit, packages reordered within a part (the sequence number is in
// the nonce), packages or parts moved to another position (other key or
// sequence number), a part cut short or run on (the final flag, checked
// against the layout), a blob shorter than its layout, a store sending more
// bytes than asked for (seen on reading to the end), and a wrong data key all
// fail with ErrTampered.
//
// The layout itself is trusted: it comes from metadata, not from the blob.
// Dropping whole trailing parts from the blob while also shrinking Size in
// metadata, or replacing a part by an earlier sealing of the same part of the
// same blob (a part uploaded twice in a resumable session), yields authentic
// DARE streams under the right keys and is not detectable here; the plaintext
// SHA-256 kept in metadata covers those.
//
// Nonces are random rather than derived because a part may be sealed more
// than once (an upload retried with different bytes), and a repeated
// (key, nonce) pair would break AES-GCM.
package crypto
