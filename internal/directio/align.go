package directio

import "unsafe"

// Align is what a direct write's address, length and file offset must be
// multiples of: the logical block size of any disk in use (512 or 4096
// bytes) divides it.
const Align = 4096

// Buffer is a buffer of n bytes whose address is a multiple of Align, as a
// direct write's must be.
func Buffer(n int) []byte {
	b := make([]byte, n+Align)
	off := 0
	if r := int(uintptr(unsafe.Pointer(&b[0])) % Align); r != 0 {
		off = Align - r
	}
	return b[off : off+n : off+n]
}

// aligned reports whether p starts at a multiple of Align.
func aligned(p []byte) bool {
	return len(p) > 0 && uintptr(unsafe.Pointer(&p[0]))%Align == 0
}
