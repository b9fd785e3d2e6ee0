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
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-storage/strata/internal/directio"
	"github.com/strata-storage/strata/server/api"
)

func jsonDecoder(r io.Reader) *json.Decoder { return json.NewDecoder(r) }

// CreateUpload opens a resumable upload session.
func (c *Client) CreateUpload(ctx context.Context, req api.CreateUploadRequest) (api.Upload, error) {
	var u api.Upload
	err := c.doJSON(ctx, http.MethodPost, "/v1/uploads", nil, req, &u)
	return u, err
}

// Upload describes a session with the parts received so far.
func (c *Client) Upload(ctx context.Context, id string) (api.Upload, error) {
	var u api.Upload
	err := c.doJSON(ctx, http.MethodGet, "/v1/uploads/"+url.PathEscape(id), c.ownerQuery(nil), nil, &u)
	return u, err
}

// Uploads lists the caller's open sessions.
func (c *Client) Uploads(ctx context.Context) ([]api.Upload, error) {
	var r struct {
		Uploads []api.Upload `json:"uploads"`
	}
	err := c.doJSON(ctx, http.MethodGet, "/v1/uploads", c.ownerQuery(nil), nil, &r)
	return r.Uploads, err
}

// PutPart sends part n (1-based) of a session. r is read from its start on
// every attempt, so retries are safe.
func (c *Client) PutPart(ctx context.Context, id string, n int, r io.ReadSeeker, size int64, progress func(int64)) (api.UploadPart, error) {
	return c.putPart(ctx, id, n, func() (io.Reader, error) {
		if _, err := r.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		return progressReader(r, progress), nil
	}, size)
}

// putPart sends a part whose body body returns afresh for every attempt.
func (c *Client) putPart(ctx context.Context, id string, n int, body func() (io.Reader, error), size int64) (api.UploadPart, error) {
	first, err := body()
	if err != nil {
		return api.UploadPart{}, err
	}
	resp, err := c.do(ctx, request{
		method: http.MethodPut, path: "/v1/uploads/" + url.PathEscape(id) + "/parts/" + strconv.Itoa(n), query: c.ownerQuery(nil),
		header: http.Header{"Content-Type": {"application/octet-stream"}},
		body:   first, size: size, retry: true, rewind: body,
	})
	if err != nil {
		return api.UploadPart{}, err
	}
	defer resp.Body.Close()
	var p api.UploadPart
	if err := decodeJSON(resp.Body, &p); err != nil {
		return api.UploadPart{}, fmt.Errorf("part %d: %w", n, err)
	}
	return p, nil
}

// CompleteUpload joins the parts into the file; req holds the SHA-256 the
// whole file must have and its parts' CRC-32C, each optional (a
// ClientDigest session given both is not hashed by the server).
func (c *Client) CompleteUpload(ctx context.Context, id string, req api.CompleteUploadRequest) (api.Entry, error) {
	var e api.Entry
	err := c.doJSON(ctx, http.MethodPost, "/v1/uploads/"+url.PathEscape(id)+"/complete", c.ownerQuery(nil), req, &e)
	return e, err
}

// AbortUpload ends a session and discards its parts.
func (c *Client) AbortUpload(ctx context.Context, id string) error {
	return c.doJSON(ctx, http.MethodDelete, "/v1/uploads/"+url.PathEscape(id), c.ownerQuery(nil), nil, nil)
}

// UploadOptions tune UploadFile.
type UploadOptions struct {
	// PartSize of the session; 0 lets the server choose.
	PartSize int64
	// Concurrency is the number of parts in flight (default 4).
	Concurrency int
	MTime       time.Time
	// Fingerprint identifies this exact local content (say, its path, size
	// and modification time). When set, an open session of the same path,
	// size and fingerprint is resumed: parts the server already holds, and
	// whose SHA-256 matches the local bytes, are not sent again.
	Fingerprint string
	// Progress is called with byte counts as parts go out; resumed parts
	// are reported once, when they are found.
	Progress func(n int64)
	// OnSession, if set, is called with the session before any part is
	// sent (to show or record it).
	OnSession func(u api.Upload, resumed bool)
}

// UploadFile uploads size bytes of f to path through a resumable session:
// parts go in parallel, each retried on failure, and the server commits the
// file only if every part it holds is what was read for the file's
// SHA-256.
//
// The file is read once: each part's sender hashes what it reads into the
// file's SHA-256 and its part's CRC-32C (fileHasher, which holds parts read
// ahead of their turn within a budget, each admitted before its request
// starts). The server answers each part with the CRC-32C of what it
// stored; once the whole file is read, a part whose CRC-32C differs from
// the one hashed is sent again (its bytes checked against that CRC-32C as
// they are read again), and Complete gives the server the SHA-256, and on
// a session the server granted ClientDigest (the file in one's own home)
// every part's CRC-32C, which it checks instead of hashing the file. A
// resumed session's parts are read the same way, and those the server
// holds are sent again only if their CRC-32C differs. Memory stays bounded
// by the read-ahead budget and Concurrency small buffers.
func (c *Client) UploadFile(ctx context.Context, path string, f io.ReaderAt, size int64, o UploadOptions) (api.Entry, error) {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	u, held, resumed, err := c.openSession(ctx, path, size, o)
	if err != nil {
		return api.Entry{}, err
	}
	if o.OnSession != nil {
		o.OnSession(u, resumed)
	}
	budget := int64(readAheadBudget)
	if c.readAhead > 0 {
		budget = c.readAhead
	}
	fh := newFileHasher(max(u.PartSize, 1), budget)
	fh.waiting = c.admitWaiting

	jobs := make(chan int)
	errc := make(chan error, o.Concurrency)
	stored := make([]string, u.Parts) // the CRC-32C the server holds, by part
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range jobs {
				crc, err := c.uploadPart(ctx, u, n, f, fh, held[n], o.Progress)
				if err != nil {
					errc <- err
					cancel()
					return
				}
				stored[n-1] = crc
			}
		}()
	}
feed:
	for n := 1; n <= u.Parts; n++ {
		select {
		case jobs <- n:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return api.Entry{}, err
	}
	if err := ctx.Err(); err != nil {
		return api.Entry{}, err
	}
	sum, crcs, ok := fh.sum(size)
	if !ok || len(crcs) != u.Parts {
		return api.Entry{}, fmt.Errorf("read local file: %w", io.ErrUnexpectedEOF)
	}
	for n := 1; n <= u.Parts; n++ {
		if stored[n-1] == "" || stored[n-1] == crcs[n-1] {
			continue
		}
		// A part sent in this run was stored wrong once already; a part
		// found held from an earlier run is sent for the first time.
		tries := 1
		if _, ok := held[n]; ok {
			tries = 2
		}
		if err := c.resendPart(ctx, u, n, f, crcs[n-1], tries, o.Progress); err != nil {
			if errors.Is(err, ErrFileChanged) {
				// Its fingerprint is gone with the change: no one will
				// resume it. Give back what it reserves.
				_ = c.AbortUpload(context.WithoutCancel(ctx), u.ID)
			}
			return api.Entry{}, err
		}
	}
	req := api.CompleteUploadRequest{SHA256: hex.EncodeToString(sum)}
	if u.ClientDigest {
		req.PartCRC32C = crcs // binds the digest to the parts the server holds
	}
	return c.CompleteUpload(ctx, u.ID, req)
}

func partSize(u api.Upload, n int) int64 {
	return min(u.PartSize, u.Size-int64(n-1)*u.PartSize)
}

// openSession resumes a matching session or creates one; held has the
// parts the server holds already.
func (c *Client) openSession(ctx context.Context, path string, size int64, o UploadOptions) (api.Upload, map[int]api.UploadPart, bool, error) {
	held := map[int]api.UploadPart{}
	if o.Fingerprint != "" {
		open, err := c.Uploads(ctx)
		if err != nil {
			return api.Upload{}, nil, false, err
		}
		for _, s := range open {
			if s.User != "" || s.Path != path || s.Size != size || s.Fingerprint != o.Fingerprint {
				continue
			}
			u, err := c.Upload(ctx, s.ID)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return api.Upload{}, nil, false, err
			}
			for _, p := range u.Received {
				if p.N >= 1 && p.N <= u.Parts && p.Size == partSize(u, p.N) && p.CRC32C != "" {
					held[p.N] = p
				}
			}
			return u, held, true, nil
		}
	}
	// The file's SHA-256 is computed here, as it is read: the server need
	// not hash it again (api.CreateUploadRequest.ClientDigest).
	req := api.CreateUploadRequest{Path: path, Size: size, PartSize: o.PartSize, Fingerprint: o.Fingerprint, ClientDigest: true}
	if !o.MTime.IsZero() {
		mt := o.MTime.UTC()
		req.MTime = &mt
	}
	u, err := c.CreateUpload(ctx, req)
	if ae := (*Error)(nil); errors.As(err, &ae) && ae.Code == api.CodeInvalidJSON && strings.Contains(ae.Detail, `unknown field "clientDigest"`) {
		// A server from before clientDigest refuses the field it does
		// not know: it hashes every session itself.
		req.ClientDigest = false
		u, err = c.CreateUpload(ctx, req)
	}
	return u, held, false, err
}

// ErrPartMismatch: the server stored other bytes for a part than were
// sent, again after the part was sent once more.
var ErrPartMismatch = errors.New("the server stored other bytes than were sent")

// ErrFileChanged: a part read again to be sent again was not what was
// read the first time, for the file's digest.
var ErrFileChanged = errors.New("the local file changed while it was being uploaded")

// uploadPart reads part n once, into the file's digest and the part's
// CRC-32C (fh), and sends it unless the server holds it already (held). It
// returns the CRC-32C of what the server holds, which UploadFile compares
// with fh's once the file is read.
func (c *Client) uploadPart(ctx context.Context, u api.Upload, n int, f io.ReaderAt, fh *fileHasher, held api.UploadPart, progress func(int64)) (string, error) {
	size := partSize(u, n)
	// Before the request: a part that must wait for memory to be read
	// ahead of its turn waits here, never in the middle of its body.
	if err := fh.admit(ctx, int64(n-1), size); err != nil {
		return "", err
	}
	pr := &partReader{ctx: ctx, fh: fh, f: f, off: int64(n-1) * u.PartSize, size: size}
	if held.CRC32C != "" {
		if err := pr.readAll(); err != nil {
			return "", fmt.Errorf("read local file: %w", err)
		}
		if progress != nil {
			progress(size)
		}
		return held.CRC32C, nil
	}
	p, err := c.sendPart(ctx, u.ID, n, pr, progress)
	return p.CRC32C, err
}

// resendPart sends part n again because the server holds other bytes for
// it than were read for the file's digest, whose CRC-32C is want: the
// bytes read again must have it (else the file changed while it was being
// sent), and so must what the server stores, within tries sends.
func (c *Client) resendPart(ctx context.Context, u api.Upload, n int, f io.ReaderAt, want string, tries int, progress func(int64)) error {
	size := partSize(u, n)
	pr := &partReader{ctx: ctx, f: f, off: int64(n-1) * u.PartSize, size: size, crc: crc32.New(castagnoli())}
	for try := 1; ; try++ {
		if progress != nil {
			progress(-size) // counted (sent or found) already: counted again as it goes
		}
		p, err := c.sendPart(ctx, u.ID, n, pr, progress)
		switch {
		case err != nil:
			return err
		case pr.crcHex() != want:
			return fmt.Errorf("part %d: %w", n, ErrFileChanged)
		case p.CRC32C == "" || p.CRC32C == want:
			return nil
		case try == tries:
			return fmt.Errorf("part %d: %w: crc32c %s, sent %s", n, ErrPartMismatch, p.CRC32C, want)
		}
	}
}

// sendPart sends the part pr reads, from its start on every attempt, and
// reports its bytes to progress as they go (taking back those of an
// attempt that did not get through).
func (c *Client) sendPart(ctx context.Context, id string, n int, pr *partReader, progress func(int64)) (api.UploadPart, error) {
	var sent int64
	pr.progress = func(k int64) {
		sent += k
		if progress != nil {
			progress(k)
		}
	}
	takeBack := func() {
		if progress != nil && sent > 0 {
			progress(-sent)
		}
		sent = 0
	}
	p, err := c.putPart(ctx, id, n, func() (io.Reader, error) {
		takeBack() // counted again as it is sent again
		return pr.rewind()
	}, pr.size)
	if err != nil {
		takeBack()
		if errors.Is(err, errLocalRead) {
			return api.UploadPart{}, fmt.Errorf("read local file (part %d): %w", n, err)
		}
		return api.UploadPart{}, fmt.Errorf("part %d: %w", n, err)
	}
	return p, nil
}

func castagnoli() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

var errLocalRead = errors.New("local file")

// partReader reads one part of the local file as a request body, feeding
// the file's digest (fh) or the part's own CRC-32C (crc; a part sent
// again), either nil, as it goes; rewind starts it over for another
// attempt.
type partReader struct {
	ctx      context.Context
	fh       *fileHasher
	f        io.ReaderAt
	off      int64 // of the part in the file
	size     int64
	pos      int64 // within the part
	crc      hash.Hash32
	progress func(int64)
}

func (r *partReader) rewind() (io.Reader, error) {
	r.pos = 0
	if r.crc != nil {
		r.crc.Reset()
	}
	return r, nil
}

func (r *partReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if r.pos >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-r.pos)]
	n, err := r.f.ReadAt(p, r.off+r.pos)
	if n > 0 {
		if r.fh != nil {
			if herr := r.fh.write(r.off+r.pos, p[:n]); herr != nil {
				return 0, herr
			}
		}
		if r.crc != nil {
			r.crc.Write(p[:n])
		}
		r.pos += int64(n)
		if r.progress != nil {
			r.progress(int64(n))
		}
	}
	switch {
	case err == io.EOF && r.pos < r.size:
		return n, fmt.Errorf("%w ended after %d of part's %d bytes: %w", errLocalRead, r.pos, r.size, io.ErrUnexpectedEOF)
	case err == io.EOF:
		err = nil
	case err != nil:
		err = fmt.Errorf("%w: %w", errLocalRead, err)
	}
	if err == nil && r.pos == r.size {
		err = io.EOF
	}
	return n, err
}

// readAll reads the whole part without sending it.
func (r *partReader) readAll() error {
	_, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, make([]byte, 256<<10))
	return err
}

func (r *partReader) crcHex() string { return hexCRC(r.crc.Sum32()) }

// hexCRC is a CRC-32C as the API writes it: 8 hex digits.
func hexCRC(c uint32) string { return fmt.Sprintf("%08x", c) }

// DownloadOptions tune DownloadFile.
type DownloadOptions struct {
	Version int64
	// Progress is called with byte counts as they arrive (a resumed
	// download reports the bytes it already had first).
	Progress func(n int64)
}

// WriteVerified writes the body of d, a whole file's download, to w as it
// comes, and checks that it is the file's size and SHA-256 once it ends:
// w has then had every byte, and an error wrapping ErrDigestMismatch says
// they were not the file's. The SHA-256 runs on a goroutine of its own
// beside the writes.
func (d *Download) WriteVerified(w io.Writer) (int64, error) {
	if d.Partial {
		return 0, errors.New("client: WriteVerified of a part of a file: its SHA-256 is of the whole file")
	}
	h := sha256.New()
	n, err := streamHashed(w, h, d.Body)
	if err != nil {
		return n, err
	}
	if n != d.Size {
		return n, fmt.Errorf("got %d of %d bytes", n, d.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != d.SHA256 {
		return n, fmt.Errorf("%w: got sha-256 %s, the server says %s", ErrDigestMismatch, got, d.SHA256)
	}
	return n, nil
}

// PartialSuffix names the file a download is written to until it is
// complete and verified; it stays behind when a download is interrupted,
// and the next DownloadFile of the same content continues from it.
const PartialSuffix = ".strata-part"

// DownloadFile downloads the file at path to the local file dest. It writes
// to a partial file next to dest, resumes one left by an interrupted
// download of the same content (matched by SHA-256), verifies the SHA-256
// of the result, and only then renames it to dest and sets its time.
func (c *Client) DownloadFile(ctx context.Context, path, dest string, o DownloadOptions) (api.Entry, error) {
	var st api.Entry
	var err error
	if o.Version == 0 {
		st, err = c.Stat(ctx, path)
		if err != nil {
			return api.Entry{}, err
		}
		if st.IsDir() {
			return api.Entry{}, fmt.Errorf("%s: %w", path, ErrIsDir)
		}
	}
	// Resume only from bytes of the same content: the partial file's name
	// carries the digest it belongs to.
	partial := func(sum string) string {
		return filepath.Join(filepath.Dir(dest), "."+filepath.Base(dest)+"."+sum[:16]+PartialSuffix)
	}
	var have int64
	var f *os.File
	h := sha256.New()
	if st.SHA256 != "" {
		if f, err = os.OpenFile(partial(st.SHA256), os.O_RDWR, 0); err == nil {
			if have, err = resumeFrom(f, h, st.Size); err != nil {
				f.Close()
				f, have = nil, 0
				h.Reset()
			}
		}
	}
	d, err := c.Get(ctx, path, GetOptions{Version: o.Version, Offset: have, IfRange: st.SHA256})
	if errors.Is(err, ErrRange) && have == st.Size && f != nil {
		// The partial file is already whole.
		d = &Download{Body: io.NopCloser(bytes.NewReader(nil)), Partial: true, Offset: have, Size: st.Size, SHA256: st.SHA256, Version: st.Version, ModTime: st.ModTime}
		err = nil
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		return api.Entry{}, err
	}
	defer d.Body.Close()
	if !d.Partial || d.Offset != have {
		// Not a continuation (the file changed, or there was nothing to
		// continue): start over in the partial file of this content.
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
		have = 0
		h.Reset()
		if f, err = os.OpenFile(partial(d.SHA256), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666); err != nil {
			return api.Entry{}, err
		}
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	if _, err := f.Seek(have, io.SeekStart); err != nil {
		return api.Entry{}, err
	}
	if o.Progress != nil && have > 0 {
		o.Progress(have)
	}
	// Around the page cache where the file system makes that a plain block
	// write (directio): written through it, a GiB cost the client 0.7–3.0
	// CPU-seconds in the kernel on the machine measured, more than its
	// SHA-256 (docs/performance.md); else with the disk's writing started
	// as the stretches come (writebackWriter).
	var w io.Writer = &writebackWriter{f: f, off: have, started: have}
	if directio.Supported(f) {
		w = directio.NewWriter(f, have, new(atomic.Bool))
	}
	n, err := copyHashed(w, h, progressReader(d.Body, o.Progress), d.Length)
	if err != nil {
		return api.Entry{}, fmt.Errorf("download %s: %w (the partial file is kept; run again to resume)", path, err)
	}
	if have+n != d.Size {
		return api.Entry{}, fmt.Errorf("download %s: got %d of %d bytes (the partial file is kept; run again to resume)", path, have+n, d.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != d.SHA256 {
		name := f.Name()
		f.Close()
		f = nil
		os.Remove(name)
		return api.Entry{}, fmt.Errorf("download %s: %w: got sha-256 %s, the server says %s", path, ErrDigestMismatch, got, d.SHA256)
	}
	if err := f.Sync(); err != nil {
		return api.Entry{}, err
	}
	name := f.Name()
	if err := f.Close(); err != nil {
		return api.Entry{}, err
	}
	f = nil
	if err := os.Rename(name, dest); err != nil {
		return api.Entry{}, err
	}
	mtime := d.ModTime // whole seconds, from Last-Modified
	if st.SHA256 == d.SHA256 && !st.ModTime.IsZero() {
		mtime = st.ModTime
	}
	if !mtime.IsZero() {
		_ = os.Chtimes(dest, mtime, mtime)
	}
	if st.Path == "" {
		st = api.Entry{Path: path, Kind: api.KindFile, Size: d.Size, SHA256: d.SHA256, Version: d.Version, ModTime: d.ModTime}
	}
	return st, nil
}

// resumeFrom hashes into h the bytes of the partial file f that a download
// of size bytes continues from: its whole blocks only (directio.Align), so
// that the bytes still to come are written around the page cache; an
// interrupted download may have stopped anywhere. The rest is left in
// place, to be overwritten with the same bytes: cutting it off could cut a
// file that another download of the same content is about to rename.
func resumeFrom(f *os.File, h hash.Hash, size int64) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if fi.Size() > size {
		return 0, fmt.Errorf("partial file %s has %d bytes, more than the %d of the file", f.Name(), fi.Size(), size)
	}
	have := fi.Size() &^ (directio.Align - 1)
	n, err := io.CopyN(h, f, have)
	if err != nil {
		return n, fmt.Errorf("partial file %s: %w", f.Name(), err)
	}
	return n, nil
}

// SmallFile is the size up to which PutFile sends a file in one request;
// bigger files go through a resumable session with parts in parallel.
const SmallFile = 16 << 20

// FileOptions tune PutFile.
type FileOptions struct {
	// PartSize and Concurrency are as in UploadOptions (for big files;
	// Concurrency is the parts in flight).
	PartSize    int64
	Concurrency int
	Progress    func(n int64)
	OnSession   func(u api.Upload, resumed bool)
}

// Fingerprint identifies the content of a local file for resuming its
// upload: its absolute path, size and modification time. Any client that
// uploads the same file computes the same fingerprint, so an upload begun
// by one (the CLI) resumes in another (the TUI).
func Fingerprint(absPath string, size int64, mtime time.Time) string {
	fp := sha256.Sum256([]byte(absPath + "\x00" + strconv.FormatInt(size, 10) + "\x00" + strconv.FormatInt(mtime.UnixNano(), 10)))
	return hex.EncodeToString(fp[:16])
}

// PutFile uploads a local file to path, keeping its modification time:
// small files in one request with their SHA-256, big ones through a
// resumable session (UploadFile) that resumes an interrupted upload of the
// same file.
func (c *Client) PutFile(ctx context.Context, local, path string, o FileOptions) (api.Entry, error) {
	f, err := os.Open(local)
	if err != nil {
		return api.Entry{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return api.Entry{}, err
	}
	if !info.Mode().IsRegular() {
		return api.Entry{}, fmt.Errorf("%s is not a regular file", local)
	}
	size := info.Size()
	if size <= SmallFile {
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return api.Entry{}, err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return api.Entry{}, err
		}
		var sent int64
		e, err := c.Put(ctx, path, f, size, PutOptions{SHA256: h.Sum(nil), MTime: info.ModTime(),
			Progress: func(n int64) {
				sent += n
				if o.Progress != nil {
					o.Progress(n)
				}
			}})
		if err != nil && o.Progress != nil {
			o.Progress(-sent)
		}
		return e, err
	}
	abs, err := filepath.Abs(local)
	if err != nil {
		return api.Entry{}, err
	}
	return c.UploadFile(ctx, path, f, size, UploadOptions{
		PartSize: o.PartSize, Concurrency: o.Concurrency, MTime: info.ModTime(),
		Fingerprint: Fingerprint(abs, size, info.ModTime()), Progress: o.Progress, OnSession: o.OnSession,
	})
}
