package sshserve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"github.com/strata-storage/strata/server/api"
	"github.com/strata-storage/strata/server/client"
)

// An SFTP upload reaches the API in chunks of blocks, not one chunk per
// write: the server reads more than a write at once, and every byte in
// its place, though the writes came out of order.
func TestUploadGoesInBlocks(t *testing.T) {
	const write, writes = 32 << 10, 64
	var (
		mu      sync.Mutex
		got     bytes.Buffer
		maxRead int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		buf := make([]byte, 4<<20)
		for {
			n, err := r.Body.Read(buf)
			got.Write(buf[:n])
			maxRead = max(maxRead, n)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("reading the upload: %v", err)
				return
			}
		}
		_ = json.NewEncoder(w).Encode(api.Entry{Name: "big.bin", Size: int64(got.Len())})
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, "token")
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, write*writes)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(want)
	w := newUploadWriter(context.Background(), c, "/home/alice/big.bin", false)
	// Eight at a time, in any order, as pkg/sftp's workers hand them on.
	for i := 0; i < writes; i += 8 {
		var wg sync.WaitGroup
		for _, j := range rand.Perm(8) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				off := (i + j) * write
				if _, err := w.WriteAt(want[off:off+write], int64(off)); err != nil {
					t.Errorf("write at %d: %v", off, err)
				}
			}()
		}
		wg.Wait()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("the API got %d bytes, not the %d written in their places", got.Len(), len(want))
	}
	if maxRead <= write {
		t.Fatalf("the API read at most %d bytes at once: the upload went in chunks of a write (%d)", maxRead, write)
	}
}

// An upload the API refuses midway fails the writes after it, with the
// API's reason, and its Close too.
func TestUploadRefusedMidway(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.CopyN(io.Discard, r.Body, uploadBlock)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInsufficientStorage)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "no_space", "message": "over quota"}})
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, "token")
	if err != nil {
		t.Fatal(err)
	}
	w := newUploadWriter(context.Background(), c, "/home/alice/big.bin", false)
	p := make([]byte, 32<<10)
	var werr error
	for off := int64(0); off < 64<<20 && werr == nil; off += int64(len(p)) {
		_, werr = w.WriteAt(p, off)
	}
	if werr == nil {
		t.Fatal("64 MiB written to an upload the API refused after 512 KiB")
	}
	if err := w.Close(); err == nil {
		t.Fatal("an upload the API refused closed without an error")
	}
}

// The SFTP server's writes reach the channel as whole packets, gathered
// while the channel is busy: a packet's header and its data, written
// apart, go out together.
func TestSFTPConnGathersPackets(t *testing.T) {
	ch := &slowChannel{release: make(chan struct{}), wrote: make(chan []byte, 10)}
	c := newSFTPConn(ch)
	packet := func(id byte, data int) {
		t.Helper()
		hdr := binary.BigEndian.AppendUint32(nil, uint32(1+data))
		hdr = append(hdr, id)
		if _, err := c.Write(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(bytes.Repeat([]byte{id}, data)); err != nil {
			t.Fatal(err)
		}
	}
	packet(1, 100)
	first := <-ch.wrote // the channel now holds it: the rest gathers
	packet(2, 32<<10)
	packet(3, 10)
	if _, err := c.Write([]byte{0, 0}); err != nil { // half a length
		t.Fatal(err)
	}
	close(ch.release)
	second := <-ch.wrote
	if len(first) != 4+1+100 || len(second) != 2*(4+1)+32<<10+10 || second[4] != 2 || second[len(second)-1] != 3 {
		t.Fatalf("the channel got writes of %d and %d bytes, want the first packet alone and the next two whole together", len(first), len(second))
	}
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	if rest := <-ch.wrote; !bytes.Equal(rest, []byte{0, 0}) {
		t.Fatalf("flushed %v, want the torn end as it was", rest)
	}
	if _, err := c.Write([]byte{1}); err == nil {
		t.Fatal("a write after flush went through")
	}
}

// slowChannel holds its first write until released.
type slowChannel struct {
	release chan struct{}
	wrote   chan []byte
	n       int
}

func (s *slowChannel) Read([]byte) (int, error) { return 0, io.EOF }

func (s *slowChannel) Write(p []byte) (int, error) {
	s.wrote <- bytes.Clone(p)
	if s.n++; s.n == 1 {
		<-s.release
	}
	return len(p), nil
}

// A client's packets reach the request server as they came, however
// malformed (an empty one just before an EXTENDED type byte crashed the
// server once), and a limits request before the server's VERSION is the
// request server's to answer.
func TestSFTPConnPassesPacketsOn(t *testing.T) {
	for _, in := range [][]byte{
		{0, 0, 0, 0, fxpExtended, 0, 0},
		{0, 0, 0, 1, fxpExtended},
		{0, 0, 0, 3, fxpExtended, 1},
		limitsRequestPacket(5),
	} {
		c := newSFTPConn(struct {
			io.Reader
			io.Writer
		}{bytes.NewReader(in), io.Discard})
		got, err := io.ReadAll(c)
		if err != nil || !bytes.Equal(got, in) {
			t.Errorf("passed on %x, %v; want %x", got, err, in)
		}
		c.flush()
	}
}

func limitsRequestPacket(id uint32) []byte {
	body := binary.BigEndian.AppendUint32([]byte{fxpExtended}, id)
	body = binary.BigEndian.AppendUint32(body, uint32(len(limitsExtension)))
	body = append(body, limitsExtension...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

func TestKnowsGCM(t *testing.T) {
	for ident, want := range map[string]bool{
		"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u6": true,
		"SSH-2.0-OpenSSH_6.2":                    true,
		"SSH-2.0-OpenSSH_6.1p1":                  false,
		"SSH-2.0-OpenSSH_5.3":                    false,
		"SSH-2.0-OpenSSH_10.0":                   true,
		"SSH-2.0-OpenSSH_for_Windows_8.1":        true,
		"SSH-2.0-OpenSSH_x":                      false,
		"SSH-2.0-PuTTY_Release_0.81":             false,
		"SSH-2.0-Go":                             false,
	} {
		if got := knowsGCM(ident); got != want {
			t.Errorf("knowsGCM(%q) = %v", ident, got)
		}
	}
}

// A setstat of a file's time that comes after the file was closed, while
// it is being stored, is kept: it is set once the file is stored, after
// the time set on the handle before the close (it was acknowledged and
// dropped).
func TestSetstatWhileClosing(t *testing.T) {
	release := make(chan struct{})
	var (
		mu      sync.Mutex
		patched []time.Time
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPut:
			_, _ = io.Copy(io.Discard, r.Body)
			<-release
		case http.MethodPatch:
			var req api.FileAttrsRequest
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.MTime == nil {
				t.Errorf("PATCH %v %v", req, err)
				return
			}
			mu.Lock()
			patched = append(patched, *req.MTime)
			mu.Unlock()
		}
		_ = json.NewEncoder(w).Encode(api.Entry{Name: "f.txt", Size: 5})
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, "token")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const path = "/home/alice/f.txt"
	w := newUploadWriter(ctx, c, path, false)
	fs := &sftpFS{c: c, ctx: ctx, writing: map[string]*uploadWriter{path: w}}
	if _, err := w.WriteAt([]byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	before, after := time.Unix(1_000_000_000, 0).UTC(), time.Unix(1_200_000_000, 0).UTC()
	mtime := sftp.FileAttrFlags{Acmodtime: true}
	if err := fs.setstat(ctx, path, mtime, &sftp.FileStat{Mtime: uint32(before.Unix())}); err != nil {
		t.Fatal(err)
	}
	closed := make(chan error, 1)
	go func() { closed <- w.Close() }()
	for {
		w.mu.Lock()
		c := w.closed
		w.mu.Unlock()
		if c {
			break
		}
		runtime.Gosched()
	}
	set := make(chan error, 1)
	go func() { set <- fs.setstat(ctx, path, mtime, &sftp.FileStat{Mtime: uint32(after.Unix())}) }()
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := <-set; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(patched) == 0 || !patched[len(patched)-1].Equal(after) {
		t.Fatalf("times set %v, want %v last", patched, after)
	}
}

// rangeFiles serves one file's bytes through GET with ranges, as the API
// does, counting the downloads opened.
func rangeFiles(t *testing.T, data []byte) (*client.Client, *int) {
	var mu sync.Mutex
	opened := new(int)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*opened++
		mu.Unlock()
		w.Header().Set(api.HeaderVersion, "1")
		w.Header().Set("ETag", fmt.Sprintf(`"%x"`, sha256.Sum256(data)))
		http.ServeContent(w, r, "f.bin", time.Time{}, bytes.NewReader(data))
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, "token")
	if err != nil {
		t.Fatal(err)
	}
	return c, opened
}

// Reads served from one download, whatever order its requests come in,
// straight into their buffers or from what was read ahead for others;
// a request for bytes handed out already opens the file again.
func TestRangeReaderOrders(t *testing.T) {
	const req = 255 << 10
	data := make([]byte, 40*req+1234)
	_, _ = rand.NewChaCha8([32]byte{2}).Read(data)
	check := func(t *testing.T, r *rangeReader, off int64, opens int, opened *int) {
		t.Helper()
		p := make([]byte, req)
		n, err := r.ReadAt(p, off)
		end := min(off+req, int64(len(data)))
		if err != nil && !(err == io.EOF && end < off+req) {
			t.Fatalf("read at %d: %v", off, err)
		}
		if !bytes.Equal(p[:n], data[off:end]) {
			t.Fatalf("read at %d: %d bytes, not the file's", off, n)
		}
		if *opened != opens {
			t.Fatalf("read at %d: %d downloads opened, want %d", off, *opened, opens)
		}
	}

	t.Run("in order and a little out of it", func(t *testing.T) {
		c, opened := rangeFiles(t, data)
		r := newRangeReader(context.Background(), c, "/f.bin", int64(len(data)))
		defer r.Close()
		for _, i := range []int64{0, 1, 3, 2, 4, 7, 5, 6, 8, 9} {
			check(t, r, i*req, 1, opened)
		}
		// Read ahead for request 3, kept for 2 still.
		check(t, r, 2*req, 1, opened)
		// Requests for bytes read straight into another's buffer: each
		// read by a download of its own.
		check(t, r, 0, 2, opened)
		check(t, r, 1*req, 3, opened)
		// The download goes on where it was.
		check(t, r, 10*req, 3, opened)
		// Partly handed out already, partly not read yet; then one
		// partly read ahead for it.
		check(t, r, 11*req-1000, 4, opened)
		check(t, r, 12*req-1000, 4, opened)
		// Far ahead: opened there.
		check(t, r, 30*req, 5, opened)
		// To the end, a short read at the last.
		for i := int64(31); i*req < int64(len(data)); i++ {
			check(t, r, i*req, 5, opened)
		}
	})

	t.Run("concurrent, as pkg/sftp's workers", func(t *testing.T) {
		c, opened := rangeFiles(t, data)
		r := newRangeReader(context.Background(), c, "/f.bin", int64(len(data)))
		defer r.Close()
		var wg sync.WaitGroup
		for i := 0; i*req < len(data); i += 8 {
			for _, j := range rand.Perm(8) {
				off := int64(i+j) * req
				if off >= int64(len(data)) {
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					p := make([]byte, req)
					n, err := r.ReadAt(p, off)
					if err != nil && err != io.EOF {
						t.Errorf("read at %d: %v", off, err)
						return
					}
					if !bytes.Equal(p[:n], data[off:min(off+req, int64(len(data)))]) {
						t.Errorf("read at %d: not the file's bytes", off)
					}
				}()
			}
			wg.Wait()
		}
		if *opened != 1 {
			t.Errorf("%d downloads opened for requests out of order within a window, want 1", *opened)
		}
	})
}

// Requests that come in swapped pairs (1, 0, 3, 2, ...) keep what the
// early one of each pair read ahead: the reader holds about the window,
// not a chunk of readChunk for every gap.
func TestRangeReaderMemoryBound(t *testing.T) {
	const req = 32 << 10
	data := make([]byte, 16<<20)
	_, _ = rand.NewChaCha8([32]byte{3}).Read(data)
	c, _ := rangeFiles(t, data)
	r := newRangeReader(context.Background(), c, "/f.bin", int64(len(data)))
	defer r.Close()
	p := make([]byte, req)
	most := 0
	for i := 0; i*req < len(data); i += 2 {
		for _, j := range []int{i + 1, i} {
			off := int64(j) * req
			n, err := r.ReadAt(p, off)
			if (err != nil && err != io.EOF) || !bytes.Equal(p[:n], data[off:off+int64(n)]) || n != req {
				t.Fatalf("read at %d: %d bytes, %v", off, n, err)
			}
		}
		held := 0
		for _, k := range r.chunks {
			held += cap(k.b)
		}
		for _, b := range r.free {
			held += cap(b)
		}
		most = max(most, held)
	}
	if limit := readWindow + (maxFreeChunks+1)*readChunk; most > limit {
		t.Fatalf("held %d KiB at most, want at most %d KiB", most>>10, limit>>10)
	}
}
