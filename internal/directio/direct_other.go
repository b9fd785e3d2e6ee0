//go:build !linux

package directio

import (
	"io"
	"os"
	"sync/atomic"
)

// NewWriter returns f: direct writes are used on Linux only.
func NewWriter(f *os.File, _ int64, _ *atomic.Bool) io.Writer { return f }

// Supported is false: direct writes are used on Linux only.
func Supported(*os.File) bool { return false }
