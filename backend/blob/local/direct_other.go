//go:build !linux

package local

import (
	"io"
	"os"
	"sync/atomic"
)

// newDirectWriter returns f: direct writes are used on Linux only.
func newDirectWriter(f *os.File, _ *atomic.Bool) io.Writer { return f }

// directFileSystem is false: direct writes are used on Linux only.
func directFileSystem(*os.File) bool { return false }
