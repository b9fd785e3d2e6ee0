// Package spool bounds the memory that parts of a file held ahead of their
// turn may take: the server's digest of a multipart upload, and the
// client's digest of the file it sends, both hold early parts until the
// bytes before them are hashed.
//
// A part takes its whole size from a Budget before it holds any byte (and
// before its transfer starts, so that nothing waits for memory in the
// middle of a request), and gives it back when its bytes are hashed or
// dropped. Buffers are reused: parts come in a steady stream of one size,
// and reusing their buffers keeps the heap (and the garbage collector's
// work) at the budget.
package spool

import "sync"

// Budget is memory for held parts: Total bytes, of which Left are free.
type Budget struct {
	mu    sync.Mutex
	left  int64
	total int64
	freed chan struct{} // closed (and replaced) whenever memory is given back
	spare [][]byte
}

// New returns a budget of n bytes.
func New(n int64) *Budget {
	return &Budget{left: n, total: n, freed: make(chan struct{})}
}

// Total is the budget's size.
func (s *Budget) Total() int64 { return s.total }

// Left is what is free now.
func (s *Budget) Left() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.left
}

// TryTake reserves n bytes if they are free.
func (s *Budget) TryTake(n int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > s.left {
		return false
	}
	s.left -= n
	return true
}

// Freed is closed the next time memory is given back. Take it before
// TryTake, so that a Give between the two is not missed.
func (s *Budget) Freed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.freed
}

// Give gives back n bytes TryTake reserved.
func (s *Budget) Give(n int64) {
	if n == 0 {
		return
	}
	s.mu.Lock()
	s.left += n
	close(s.freed)
	s.freed = make(chan struct{})
	s.mu.Unlock()
}

// Buffer returns an empty buffer of capacity n or more, reused if it can.
func (s *Budget) Buffer(n int64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, b := range s.spare {
		if int64(cap(b)) >= n {
			s.spare = append(s.spare[:i], s.spare[i+1:]...)
			return b[:0]
		}
	}
	return make([]byte, 0, n)
}

// Recycle keeps a held part's buffer for reuse, within the budget.
func (s *Budget) Recycle(b []byte) {
	if b == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var kept int64
	for _, x := range s.spare {
		kept += int64(cap(x))
	}
	if kept+int64(cap(b)) <= s.total {
		s.spare = append(s.spare, b[:0])
	}
}
