package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-storage/strata/server/api"
)

func randomContent(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestFileHasherAnyOrder: parts read concurrently, in pieces of any size,
// some read twice from their start (a retry), give the file's SHA-256 and
// every part's CRC-32C, with a budget far smaller than the parts read
// ahead.
func TestFileHasherAnyOrder(t *testing.T) {
	const partSize = 64 << 10
	content := randomContent(5*partSize+777, 1)
	want := sha256.Sum256(content)
	var wantCRCs []string
	for off := 0; off < len(content); off += partSize {
		wantCRCs = append(wantCRCs, fmt.Sprintf("%08x", crc32.Checksum(content[off:min(off+partSize, len(content))], castagnoli())))
	}
	for _, budget := range []int64{4 << 10, 1 << 20} {
		fh := newFileHasher(partSize, budget)
		var wg sync.WaitGroup
		for k := int64(0); k*partSize < int64(len(content)); k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(k), 2))
				part := content[k*partSize : min((k+1)*partSize, int64(len(content)))]
				if err := fh.admit(context.Background(), k, int64(len(part))); err != nil {
					t.Error(err)
					return
				}
				for attempt := 0; attempt < 2; attempt++ {
					// The first attempt of odd parts stops halfway.
					end := len(part)
					if attempt == 0 && k%2 == 1 {
						end /= 2
					}
					for pos := 0; pos < end; {
						n := min(1+r.IntN(3000), end-pos)
						if err := fh.write(k*partSize+int64(pos), part[pos:pos+n]); err != nil {
							t.Error(err)
							return
						}
						pos += n
					}
				}
			}()
		}
		wg.Wait()
		got, crcs, ok := fh.sum(int64(len(content)))
		if !ok || !bytes.Equal(got, want[:]) {
			t.Fatalf("budget %d: sum %x, %v; want %x", budget, got, ok, want)
		}
		if fmt.Sprint(crcs) != fmt.Sprint(wantCRCs) {
			t.Fatalf("budget %d: part CRC-32C %v, want %v", budget, crcs, wantCRCs)
		}
		if left := fh.budget.Left(); left != fh.budget.Total() || len(fh.ahead) != 0 {
			t.Fatalf("budget %d: %d bytes still held in %d spools", budget, fh.budget.Total()-left, len(fh.ahead))
		}
	}
}

// TestFileHasherWaitEndsWithContext: a sender waiting to be admitted
// gives up when its context ends.
func TestFileHasherWaitEndsWithContext(t *testing.T) {
	fh := newFileHasher(1<<10, 1<<10)
	waiting := make(chan int64, 1)
	fh.waiting = func(k int64) { waiting <- k }
	ctx, cancel := context.WithCancel(context.Background())
	if err := fh.admit(ctx, 1, 1<<10); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- fh.admit(ctx, 2, 1<<10) }()
	if k := <-waiting; k != 2 {
		t.Fatalf("part %d waits", k)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestFileHasherAdmitsBeforeTheBody: a part ahead of its turn is admitted
// (its memory reserved) before any of its bytes come, or waits to be; its
// bytes then never wait. No memory is taken for a part before it is
// admitted, nor beyond the budget.
func TestFileHasherAdmitsBeforeTheBody(t *testing.T) {
	const partSize = 1 << 10
	content := randomContent(4*partSize, 5)
	part := func(k int64) []byte { return content[k*partSize : (k+1)*partSize] }
	fh := newFileHasher(partSize, 2*partSize)
	ctx := context.Background()
	held := func() (n int64) {
		fh.mu.Lock()
		defer fh.mu.Unlock()
		for _, hp := range fh.ahead {
			n += int64(cap(hp.data))
		}
		return n
	}
	for k := int64(1); k <= 2; k++ {
		if err := fh.admit(ctx, k, partSize); err != nil {
			t.Fatal(err)
		}
	}
	if n := held(); n != 0 {
		t.Fatalf("%d bytes allocated before any byte came", n)
	}
	waiting := make(chan int64, 1)
	fh.waiting = func(k int64) { waiting <- k }
	admitted := make(chan error)
	go func() { admitted <- fh.admit(ctx, 3, partSize) }()
	if k := <-waiting; k != 3 {
		t.Fatalf("part %d waits, want 3", k)
	}
	if err := fh.write(3*partSize, part(3)[:10]); !errors.Is(err, errNotAdmitted) {
		t.Fatalf("bytes of a part not admitted: %v", err)
	}
	// Parts 1 and 2 are held whole, in halves, without waiting (a write
	// ahead of its turn never waits: this goroutine would hang).
	for k := int64(1); k <= 2; k++ {
		for _, half := range [][2]int{{0, partSize / 2}, {partSize / 2, partSize}} {
			if err := fh.write(k*partSize+int64(half[0]), part(k)[half[0]:half[1]]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := held(); n > fh.budget.Total() || fh.budget.Left() != 0 {
		t.Fatalf("%d bytes held, %d of the budget left", n, fh.budget.Left())
	}
	select {
	case err := <-admitted:
		t.Fatalf("part 3 admitted while the budget is full: %v", err)
	default:
	}
	if err := fh.write(0, part(0)); err != nil {
		t.Fatal(err)
	}
	if err := <-admitted; err != nil {
		t.Fatal(err)
	}
	if err := fh.write(3*partSize, part(3)); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(content)
	if got, _, ok := fh.sum(int64(len(content))); !ok || !bytes.Equal(got, want[:]) {
		t.Fatalf("sum %x, %v", got, ok)
	}
	if fh.budget.Left() != fh.budget.Total() || held() != 0 {
		t.Fatalf("memory still held: %d of %d left", fh.budget.Left(), fh.budget.Total())
	}
}

// fakeUploads is a server of resumable uploads that keeps parts in memory.
// corrupt says, per attempt of a part, whether to store it with a bit
// flipped (as a broken disk or proxy would).
type fakeUploads struct {
	mu        sync.Mutex
	size      int64
	partSize  int64
	parts     map[int][]byte
	puts      map[int]int // attempts per part
	corrupt   func(n, attempt int) bool
	sum       string   // what Complete was asked to check
	crcs      []string // and the parts' CRC-32C it was given
	completes int
	// clientDigest: the session was asked for with clientDigest, and
	// granted (the fake grants it).
	clientDigest bool
	// old: a server from before clientDigest, which refuses the field.
	old     bool
	aborted bool
}

func (f *fakeUploads) upload() api.Upload {
	u := api.Upload{ID: "up1", Path: "/home/admin/f", Size: f.size, PartSize: f.partSize,
		Parts: int((f.size + f.partSize - 1) / f.partSize), Fingerprint: "fp", ClientDigest: f.clientDigest}
	for n, b := range f.parts {
		u.Received = append(u.Received, api.UploadPart{N: n, Size: int64(len(b)), CRC32C: crcHex(b)})
	}
	return u
}

func crcHex(b []byte) string {
	return fmt.Sprintf("%08x", crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}

func (f *fakeUploads) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	reply := func(v any) { _ = json.NewEncoder(w).Encode(v) }
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/uploads":
		if f.parts == nil {
			reply(map[string][]api.Upload{"uploads": {}})
			return
		}
		reply(map[string][]api.Upload{"uploads": {f.upload()}})
	case r.Method == http.MethodPost && r.URL.Path == "/v1/uploads":
		var req api.CreateUploadRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		if f.old && req.ClientDigest {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusBadRequest)
			reply(map[string]string{"code": api.CodeInvalidJSON, "detail": `invalid JSON body: unknown field "clientDigest"`})
			return
		}
		f.clientDigest = req.ClientDigest
		f.parts = map[int][]byte{}
		w.WriteHeader(http.StatusCreated)
		reply(f.upload())
	case r.Method == http.MethodGet && r.URL.Path == "/v1/uploads/up1":
		reply(f.upload())
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/v1/uploads/up1/parts/"):
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/v1/uploads/up1/parts/"))
		var b bytes.Buffer
		if _, err := b.ReadFrom(r.Body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.puts[n]++
		data := b.Bytes()
		if f.corrupt != nil && f.corrupt(n, f.puts[n]) {
			data[len(data)/2] ^= 1
		}
		f.parts[n] = data
		reply(api.UploadPart{N: n, Size: int64(len(data)), CRC32C: crcHex(data)})
	case r.Method == http.MethodPost && r.URL.Path == "/v1/uploads/up1/complete":
		f.completes++
		var req api.CompleteUploadRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		h := sha256.New()
		for n := 1; n <= f.upload().Parts; n++ {
			h.Write(f.parts[n])
		}
		f.sum = req.SHA256
		f.crcs = req.PartCRC32C
		if f.clientDigest && req.PartCRC32C == nil {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusBadRequest)
			reply(map[string]string{"code": api.CodeInvalidRequest, "detail": "no partCrc32c"})
			return
		}
		for n := 1; n <= f.upload().Parts && req.PartCRC32C != nil; n++ {
			if len(req.PartCRC32C) != f.upload().Parts || req.PartCRC32C[n-1] != crcHex(f.parts[n]) {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusBadRequest)
				reply(map[string]string{"code": api.CodeDigestMismatch, "detail": "part " + strconv.Itoa(n)})
				return
			}
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != req.SHA256 {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusBadRequest)
			reply(map[string]string{"code": api.CodeDigestMismatch, "detail": "file has sha-256 " + got})
			return
		}
		reply(api.Entry{Path: "/home/admin/f", Kind: api.KindFile, Size: f.size, SHA256: req.SHA256})
	case r.Method == http.MethodDelete && r.URL.Path == "/v1/uploads/up1":
		f.aborted = true
		w.WriteHeader(http.StatusNoContent)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// countingReaderAt counts the bytes read from it.
type countingReaderAt struct {
	r *bytes.Reader
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

func newFakeUploads(t *testing.T, f *fakeUploads) *Client {
	t.Helper()
	f.puts = map[int]int{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "t", WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestUploadFileReadsOnceAndResendsAWrongPart: the file is read once for
// sending and hashing; a part the server answers with another CRC-32C
// than was sent (it stored other bytes) is sent again, and the upload
// completes with the file's digest.
func TestUploadFileReadsOnceAndResendsAWrongPart(t *testing.T) {
	const partSize = 256 << 10
	content := randomContent(5*partSize+1000, 3)
	f := &fakeUploads{size: int64(len(content)), partSize: partSize,
		corrupt: func(n, attempt int) bool { return n == 2 && attempt == 1 }}
	c := newFakeUploads(t, f)
	src := &countingReaderAt{r: bytes.NewReader(content)}
	var progress atomic.Int64
	e, err := c.UploadFile(context.Background(), "/home/admin/f", src, int64(len(content)),
		UploadOptions{Concurrency: 3, Progress: func(n int64) { progress.Add(n) }})
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(content)
	if e.SHA256 != hex.EncodeToString(want[:]) || f.sum != e.SHA256 {
		t.Fatalf("entry %+v, sum %s", e, f.sum)
	}
	if f.puts[2] != 2 || f.puts[1] != 1 || f.puts[3] != 1 {
		t.Fatalf("attempts per part: %v", f.puts)
	}
	if !f.clientDigest || len(f.crcs) != 6 || f.crcs[1] != crcHex(content[partSize:2*partSize]) {
		t.Fatalf("session asked for with clientDigest %v; Complete named the parts' CRC-32C %v", f.clientDigest, f.crcs)
	}
	// Once for everything, and part 2 once more to send it again.
	if got := src.n.Load(); got != int64(len(content))+partSize {
		t.Fatalf("read %d bytes of a %d-byte file", got, len(content))
	}
	if progress.Load() != int64(len(content)) {
		t.Fatalf("progress %d, want %d", progress.Load(), len(content))
	}

	// A part wrong twice in a row fails the upload.
	f = &fakeUploads{size: int64(len(content)), partSize: partSize, corrupt: func(n, _ int) bool { return n == 4 }}
	c = newFakeUploads(t, f)
	_, err = c.UploadFile(context.Background(), "/home/admin/f", bytes.NewReader(content), int64(len(content)), UploadOptions{})
	if err == nil || !strings.Contains(err.Error(), "part 4") || !errors.Is(err, ErrPartMismatch) || f.puts[4] != 2 {
		t.Fatalf("err = %v after %d sends of part 4", err, f.puts[4])
	}

	// A server from before clientDigest: the session is asked for again
	// without it, and completed with the digest alone.
	f = &fakeUploads{size: int64(len(content)), partSize: partSize, old: true}
	c = newFakeUploads(t, f)
	if _, err = c.UploadFile(context.Background(), "/home/admin/f", bytes.NewReader(content), int64(len(content)), UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	if f.clientDigest || f.crcs != nil || f.sum != hex.EncodeToString(want[:]) {
		t.Fatalf("old server: clientDigest %v, CRCs %v, sum %s", f.clientDigest, f.crcs, f.sum)
	}
}

// changingReaderAt returns other bytes for offsets from change on once
// the file has been read to its end once (the file was written to
// meanwhile).
type changingReaderAt struct {
	content []byte
	change  int64
	readEnd atomic.Bool
}

func (c *changingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := bytes.NewReader(c.content).ReadAt(p, off)
	if c.readEnd.Load() {
		for i := range p[:n] {
			if off+int64(i) >= c.change {
				p[i] ^= 0xff
			}
		}
	}
	if off+int64(n) == int64(len(c.content)) {
		c.readEnd.Store(true)
	}
	return n, err
}

// TestUploadFileChangedWhileSent: a part sent again (the server stored it
// wrong) is read again; if the file has changed meanwhile the upload fails
// with ErrFileChanged and is never completed, rather than committing a
// file whose parts are not what its digest is of.
func TestUploadFileChangedWhileSent(t *testing.T) {
	const partSize = 256 << 10
	content := randomContent(3*partSize+10, 5)
	f := &fakeUploads{size: int64(len(content)), partSize: partSize,
		corrupt: func(n, attempt int) bool { return n == 2 && attempt == 1 }}
	c := newFakeUploads(t, f)
	_, err := c.UploadFile(context.Background(), "/home/admin/f", &changingReaderAt{content: content, change: partSize + 5},
		int64(len(content)), UploadOptions{Concurrency: 1})
	if !errors.Is(err, ErrFileChanged) || !strings.Contains(err.Error(), "part 2") {
		t.Fatalf("err = %v, want part 2 and %v", err, ErrFileChanged)
	}
	if f.completes != 0 || !f.aborted {
		t.Fatalf("Complete called %d times; session aborted: %v", f.completes, f.aborted)
	}
}

// TestUploadFileResumesByCRC: resuming, the parts the server holds with
// the CRC-32C of the local bytes are not sent again; a held part of other
// bytes is.
func TestUploadFileResumesByCRC(t *testing.T) {
	const partSize = 256 << 10
	content := randomContent(4*partSize+5, 4)
	stale := bytes.Clone(content[partSize : 2*partSize])
	stale[7] ^= 0x80
	f := &fakeUploads{size: int64(len(content)), partSize: partSize,
		parts: map[int][]byte{1: bytes.Clone(content[:partSize]), 2: stale, 4: bytes.Clone(content[3*partSize : 4*partSize])}}
	c := newFakeUploads(t, f)
	resumed := false
	e, err := c.UploadFile(context.Background(), "/home/admin/f", bytes.NewReader(content), int64(len(content)),
		UploadOptions{Fingerprint: "fp", OnSession: func(_ api.Upload, r bool) { resumed = r }})
	if err != nil || !resumed {
		t.Fatalf("resume: %v (resumed %v)", err, resumed)
	}
	want := sha256.Sum256(content)
	if e.SHA256 != hex.EncodeToString(want[:]) {
		t.Fatalf("entry %+v", e)
	}
	if f.puts[1] != 0 || f.puts[4] != 0 || f.puts[2] != 1 || f.puts[3] != 1 || f.puts[5] != 1 {
		t.Fatalf("parts sent: %v; want 2, 3 and 5 once", f.puts)
	}

	// A stale held part is sent for the first time at the end: it gets
	// two tries, as a part sent in the run does; the progress counts each
	// byte once in the end, and never goes below nothing.
	for _, c := range []struct {
		wrong int // sends of part 2 stored wrong
		ok    bool
	}{{1, true}, {2, false}} {
		f := &fakeUploads{size: int64(len(content)), partSize: partSize,
			parts:   map[int][]byte{1: bytes.Clone(content[:partSize]), 2: bytes.Clone(stale)},
			corrupt: func(n, attempt int) bool { return n == 2 && attempt <= c.wrong }}
		cl := newFakeUploads(t, f)
		var mu sync.Mutex
		var total, least int64
		_, err := cl.UploadFile(context.Background(), "/home/admin/f", bytes.NewReader(content), int64(len(content)),
			UploadOptions{Fingerprint: "fp", Progress: func(n int64) {
				mu.Lock()
				total += n
				least = min(least, total)
				mu.Unlock()
			}})
		if (err == nil) != c.ok || f.puts[2] != 2 || least < 0 || (c.ok && total != int64(len(content))) {
			t.Fatalf("%d wrong: err %v after %d sends of part 2; progress %d (least %d) of %d", c.wrong, err, f.puts[2], total, least, len(content))
		}
		if !c.ok && !errors.Is(err, ErrPartMismatch) {
			t.Fatalf("%d wrong: %v", c.wrong, err)
		}
	}
}

// TestUploadSendsInLargeWrites: a part's bytes are read from the file, and
// written to the connection, sendBufSize at a time, not net/http's 32 KiB.
func TestUploadSendsInLargeWrites(t *testing.T) {
	const partSize = 1 << 20
	content := randomContent(4*partSize, 6)
	f := &fakeUploads{size: int64(len(content)), partSize: partSize}
	c := newFakeUploads(t, f)
	src := &callCountingReaderAt{r: bytes.NewReader(content)}
	if _, err := c.UploadFile(context.Background(), "/home/admin/f", src, int64(len(content)), UploadOptions{Concurrency: 2}); err != nil {
		t.Fatal(err)
	}
	// Per part: a first read filling what is left of the buffer behind
	// the request's headers, then sendBufSize at a time.
	if most := 4 * (partSize/sendBufSize + 2); int(src.calls.Load()) > most {
		t.Fatalf("%d reads of the file for %d parts of %d bytes, want at most %d", src.calls.Load(), 4, partSize, most)
	}
}

type callCountingReaderAt struct {
	r     *bytes.Reader
	calls atomic.Int64
}

func (c *callCountingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.calls.Add(1)
	return c.r.ReadAt(p, off)
}

// gatedReaderAt reads the first part's bytes only once open is closed:
// the first part is slow to read (or to send).
type gatedReaderAt struct {
	r        *bytes.Reader
	partSize int64
	open     chan struct{}
}

func (g *gatedReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < g.partSize {
		<-g.open
	}
	return g.r.ReadAt(p, off)
}

// TestUploadFileWaitsBeforeTheBody: while the first part is slow, the
// parts read ahead fill the read-ahead budget, and the next one waits for
// it before its request starts, never inside its body (where the server's
// body timeout would cut it short and the part be sent again). Once the
// first part goes through, everything does, each part sent once.
func TestUploadFileWaitsBeforeTheBody(t *testing.T) {
	const partSize = 64 << 10
	content := randomContent(5*partSize, 6)
	f := &fakeUploads{size: int64(len(content)), partSize: partSize}
	f.puts = map[int]int{}
	var mu sync.Mutex
	started := map[int]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/v1/uploads/up1/parts/")); err == nil && r.Method == http.MethodPut {
			mu.Lock()
			started[n] = true
			mu.Unlock()
		}
		f.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "t", WithRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	c.readAhead = 2 * partSize
	waiting := make(chan int64, 1)
	c.admitWaiting = func(k int64) {
		select {
		case waiting <- k:
		default:
		}
	}
	src := &gatedReaderAt{r: bytes.NewReader(content), partSize: partSize, open: make(chan struct{})}
	done := make(chan error)
	go func() {
		_, err := c.UploadFile(context.Background(), "/home/admin/f", src, int64(len(content)), UploadOptions{Concurrency: 4})
		done <- err
	}()
	k := <-waiting // two of parts 2, 3 and 4 are admitted, the third waits
	mu.Lock()
	inBody := started[int(k)+1]
	mu.Unlock()
	if inBody {
		t.Errorf("part %d waits for memory after its request started", k+1)
	}
	close(src.open)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(content)
	if f.sum != hex.EncodeToString(want[:]) {
		t.Fatalf("sum %s", f.sum)
	}
	for n := 1; n <= 5; n++ {
		if f.puts[n] != 1 {
			t.Errorf("part %d sent %d times", n, f.puts[n])
		}
	}
}

// gatedHash is a SHA-256 whose Write signals that it started, then waits
// for its gate.
type gatedHash struct {
	hash.Hash
	started chan struct{}
	gate    chan struct{}
}

func (g gatedHash) Write(p []byte) (int, error) {
	g.started <- struct{}{}
	<-g.gate
	return g.Hash.Write(p)
}

// TestFileHasherHashesOutsideTheLock: while one sender hashes, the others
// go on: a sender holding its part ahead of its turn, and a sender asking
// for its part to be admitted, neither waits for the digest.
func TestFileHasherHashesOutsideTheLock(t *testing.T) {
	const partSize = 1 << 10
	content := randomContent(3*partSize, 9)
	part := func(k int64) []byte { return content[k*partSize : (k+1)*partSize] }
	fh := newFileHasher(partSize, 2*partSize)
	g := gatedHash{Hash: sha256.New(), started: make(chan struct{}), gate: make(chan struct{})}
	fh.h = g
	ctx := context.Background()
	if err := fh.admit(ctx, 1, partSize); err != nil {
		t.Fatal(err)
	}
	hashed := make(chan error, 1)
	go func() { hashed <- fh.write(0, part(0)) }()
	<-g.started // part 0 is being hashed, and waits

	done := make(chan error, 1)
	go func() {
		if err := fh.write(partSize, part(1)); err != nil {
			done <- err
			return
		}
		done <- fh.admit(ctx, 2, partSize)
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a sender waited for another's hashing")
	}
	go func() {
		for range g.started {
			g.gate <- struct{}{}
		}
	}()
	g.gate <- struct{}{}
	if err := <-hashed; err != nil {
		t.Fatal(err)
	}
	if err := fh.write(2*partSize, part(2)); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(content)
	got, _, ok := fh.sum(int64(len(content)))
	close(g.started)
	if !ok || !bytes.Equal(got, want[:]) {
		t.Fatalf("sum %x, %v", got, ok)
	}
}

// yieldingHash yields inside Write, to widen the window in which one
// sender hashes outside the lock.
type yieldingHash struct{ hash.Hash }

func (y yieldingHash) Write(p []byte) (int, error) {
	runtime.Gosched()
	return y.Hash.Write(p)
}

// TestFileHasherRandomSenders: workers take parts in order (as
// UploadFile's), each part read in random pieces, over several attempts
// each stopping anywhere and starting again at the part's start, with a
// digest that yields; random part sizes, counts, budgets and workers.
// The digest, every part's CRC-32C and the budget come out right whatever
// the interleaving.
func TestFileHasherRandomSenders(t *testing.T) {
	const base = 7
	for iter := 0; iter < 60; iter++ {
		r0 := rand.New(rand.NewPCG(uint64(iter), base))
		partSize := int64(1 + r0.IntN(5000))
		nParts := 1 + r0.IntN(40)
		size := int64(nParts-1)*partSize + 1 + r0.Int64N(partSize)
		content := randomContent(int(size), uint64(iter))
		want := sha256.Sum256(content)
		var wantCRCs []string
		for off := int64(0); off < size; off += partSize {
			wantCRCs = append(wantCRCs, fmt.Sprintf("%08x", crc32.Checksum(content[off:min(off+partSize, size)], castagnoli())))
		}
		budget := partSize * int64(1+r0.IntN(4))
		if r0.IntN(3) == 0 {
			budget = partSize + r0.Int64N(partSize)
		}
		fh := newFileHasher(partSize, budget)
		fh.h = yieldingHash{sha256.New()}
		workers := 1 + r0.IntN(8)
		jobs := make(chan int64)
		var wg sync.WaitGroup
		var failed atomic.Bool
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
			parts:
				for k := range jobs {
					r := rand.New(rand.NewPCG(uint64(k), uint64(iter+base)))
					part := content[k*partSize : min((k+1)*partSize, size)]
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					err := fh.admit(ctx, k, int64(len(part)))
					cancel()
					if err != nil {
						t.Errorf("iter %d part %d admit: %v", iter, k, err)
						failed.Store(true)
						continue
					}
					attempts := 1 + r.IntN(4)
					for a := 0; a < attempts; a++ {
						end := len(part)
						if a < attempts-1 {
							end = r.IntN(len(part) + 1)
						}
						for pos := 0; pos < end; {
							n := min(1+r.IntN(int(partSize)/3+2), end-pos)
							buf := append([]byte(nil), part[pos:pos+n]...)
							if err := fh.write(k*partSize+int64(pos), buf); err != nil {
								t.Errorf("iter %d part %d: %v", iter, k, err)
								failed.Store(true)
								continue parts // and take the other parts, for the loop sending them
							}
							// The caller's buffer is reused at once.
							for i := range buf {
								buf[i] = 0xAA
							}
							pos += n
							if r.IntN(4) == 0 {
								runtime.Gosched()
							}
						}
					}
				}
			}()
		}
		for k := int64(0); k < int64(nParts); k++ {
			jobs <- k
		}
		close(jobs)
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("iter %d: hung\n%s", iter, buf[:n])
		}
		if failed.Load() {
			t.FailNow()
		}
		got, crcs, ok := fh.sum(size)
		if !ok || !bytes.Equal(got, want[:]) {
			t.Fatalf("iter %d (part %d, parts %d, budget %d, workers %d): sum %x %v want %x", iter, partSize, nParts, budget, workers, got, ok, want)
		}
		if fmt.Sprint(crcs) != fmt.Sprint(wantCRCs) {
			t.Fatalf("iter %d: crcs %v want %v", iter, crcs, wantCRCs)
		}
		if fh.budget.Left() != fh.budget.Total() || len(fh.ahead) != 0 || fh.busy || fh.hashed != size {
			t.Fatalf("iter %d: left %d/%d ahead %d busy %v hashed %d", iter, fh.budget.Left(), fh.budget.Total(), len(fh.ahead), fh.busy, fh.hashed)
		}
	}
}
