package local

import "unsafe"

// directAlign is what a direct write's address, length and file offset
// must be multiples of: the logical block size of any disk in use (512 or
// 4096 bytes) divides it.
const directAlign = 4096

// alignedBuffer is a buffer of n bytes whose address is a multiple of
// directAlign, as a direct write's must be.
func alignedBuffer(n int) []byte {
	b := make([]byte, n+directAlign)
	off := 0
	if r := int(uintptr(unsafe.Pointer(&b[0])) % directAlign); r != 0 {
		off = directAlign - r
	}
	return b[off : off+n : off+n]
}

// aligned reports whether p starts at a multiple of directAlign.
func aligned(p []byte) bool {
	return len(p) > 0 && uintptr(unsafe.Pointer(&p[0]))%directAlign == 0
}
