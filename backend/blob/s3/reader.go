package s3blob

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/internal/awserr"
)

// exactReader yields exactly size bytes of r and fails with
// blob.ErrSizeMismatch if r has fewer or more.
//
// A longer r must fail before the last byte is handed over: a request body
// that reaches its Content-Length is a whole request to S3, which stores it,
// even if the client then notices extra bytes (as net/http does) and reports
// an error. So when a read would complete the size, exactReader first makes
// sure r has nothing more, and if it has, fails without handing over that
// read's bytes, so that the request is cut short and S3 stores nothing.
type exactReader struct {
	r         io.Reader
	size      int64
	remaining int64
	eof       bool  // r was seen to end right after size bytes
	err       error // sticky: once failed, always failed
}

func newExactReader(r io.Reader, size int64) *exactReader {
	return &exactReader{r: r, size: size, remaining: size}
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.remaining == 0 {
		if !e.eof {
			if err := e.atEOF(); err != nil {
				e.err = err
				return 0, err
			}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > e.remaining {
		p = p[:e.remaining]
	}
	n, err := e.r.Read(p)
	e.remaining -= int64(n)
	if e.remaining == 0 && n > 0 {
		if err == io.EOF {
			e.eof = true
		} else if err == nil {
			err = e.atEOF()
		}
		if err != nil && err != io.EOF {
			e.err = err
			return 0, err
		}
		return n, nil
	}
	switch {
	case err == io.EOF:
		e.err = e.short()
		return 0, e.err
	case err != nil:
		e.err = err
		return 0, err
	}
	return n, nil
}

// atEOF checks that r has nothing after the size.
func (e *exactReader) atEOF() error {
	var b [1]byte
	for {
		n, err := e.r.Read(b[:])
		if n > 0 {
			return fmt.Errorf("%w: more than the %d bytes announced", blob.ErrSizeMismatch, e.size)
		}
		if err == io.EOF {
			e.eof = true
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (e *exactReader) short() error {
	return fmt.Errorf("%w: %d bytes, not the %d announced", blob.ErrSizeMismatch, e.size-e.remaining, e.size)
}

// mismatch returns the size mismatch the reader found, if any.
func (e *exactReader) mismatch() error {
	if errors.Is(e.err, blob.ErrSizeMismatch) {
		return e.err
	}
	return nil
}

// failed returns the error the reader failed with, if any: a size mismatch,
// or an error of the underlying reader (the caller's content, not S3).
func (e *exactReader) failed() error { return e.err }

// bodyReader is Get's reader: the response body, failing with an error that
// wraps ctx's once ctx is done. net/http already cuts the body of a
// cancelled request; bodyReader makes the error say so in a way errors.Is
// sees, and fails at once rather than after whatever was buffered.
type bodyReader struct {
	ctx  context.Context
	body io.ReadCloser
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, fmt.Errorf("s3: read: %w", err)
	}
	n, err := b.body.Read(p)
	if err != nil && err != io.EOF {
		if cerr := b.ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w: %w", cerr, err)
		} else if awserr.IsTransportFailure(b.ctx, err) {
			err = fmt.Errorf("%w: %w", blob.ErrUnavailable, err)
		}
		err = fmt.Errorf("s3: read: %w", err)
	}
	return n, err
}

func (b *bodyReader) Close() error { return b.body.Close() }

// emptyBody is what Get returns for a read of nothing, which needs no GET.
type emptyBody struct{ ctx context.Context }

func (b emptyBody) Read([]byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, fmt.Errorf("s3: read: %w", err)
	}
	return 0, io.EOF
}

func (emptyBody) Close() error { return nil }
