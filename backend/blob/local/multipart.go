package local

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/strata-storage/strata/backend/blob"
)

const (
	keyFile    = "key"
	partsDir   = "parts"
	sealPrefix = "sealed-"
	idBytes    = 16
)

// Begin implements blob.Store. The upload directory is built in tmp/ and
// renamed into uploads/, so an upload exists whole or not at all.
func (s *Store) Begin(ctx context.Context, key string) (string, error) {
	if !blob.ValidKey(key) {
		return "", opError("begin", key, blob.ErrInvalidKey)
	}
	if err := ctx.Err(); err != nil {
		return "", opError("begin", key, err)
	}
	id := randomHex(idBytes)
	stage := s.tempName()
	if err := s.begin(stage, key); err != nil {
		s.root.RemoveAll(stage)
		return "", opError("begin", key, err)
	}
	if err := s.root.Rename(stage, uploadPath(id)); err != nil {
		s.root.RemoveAll(stage)
		return "", opError("begin", key, err)
	}
	if err := s.syncDir(uploadsDir); err != nil {
		return "", opError("begin", key, err)
	}
	return id, nil
}

func (s *Store) begin(stage, key string) error {
	if err := s.root.Mkdir(stage, dirPerm); err != nil {
		return err
	}
	f, err := s.root.OpenFile(filepath.Join(stage, keyFile), os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, key)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := s.root.Mkdir(filepath.Join(stage, partsDir), dirPerm); err != nil {
		return err
	}
	return s.syncDir(stage)
}

// PutPart implements blob.Store. The part is written like a Put and renamed
// into the upload's parts directory, so an acknowledged part survives a crash
// and the upload can go on after a restart. size must be known (>= 0), as S3
// requires; a negative one is ErrSizeMismatch. Uploads of the same part number must not overlap: when they do,
// the parts of all but one may be lost, and Complete rejects their tags.
func (s *Store) PutPart(ctx context.Context, key, uploadID string, n int, r io.Reader, size int64) (blob.Part, error) {
	if !blob.ValidKey(key) {
		return blob.Part{}, opError("put part", key, blob.ErrInvalidKey)
	}
	if n < 1 || n > blob.MaxParts {
		return blob.Part{}, opError("put part", key, fmt.Errorf("%w: part number %d", blob.ErrInvalidPart, n))
	}
	if size < 0 {
		return blob.Part{}, opError("put part", key, fmt.Errorf("%w: part %d: size %d: a part's size must be known", blob.ErrSizeMismatch, n, size))
	}
	if err := ctx.Err(); err != nil {
		return blob.Part{}, opError("put part", key, err)
	}
	if err := s.checkUpload(key, uploadID); err != nil {
		return blob.Part{}, opError("put part", key, err)
	}
	part, err := s.putPart(ctx, uploadID, n, r, size)
	if err != nil {
		return blob.Part{}, opError("put part", key, fmt.Errorf("upload %s part %d: %w", uploadID, n, err))
	}
	return part, nil
}

func (s *Store) putPart(ctx context.Context, id string, n int, r io.Reader, size int64) (blob.Part, error) {
	sum := crc32.New(s.crc)
	tmp, err := s.writeTemp(ctx, r, size, sum)
	if err != nil {
		return blob.Part{}, err
	}
	if err := ctx.Err(); err != nil {
		s.root.Remove(tmp)
		return blob.Part{}, err
	}
	tag := makeTag(size, sum.Sum32())
	name := partName(n, tag)
	dir := filepath.Join(uploadPath(id), partsDir)
	if err := s.root.Rename(tmp, filepath.Join(dir, name)); err != nil {
		s.root.Remove(tmp)
		if errors.Is(err, fs.ErrNotExist) {
			// Aborted or completed since checkUpload, or being completed.
			return blob.Part{}, fmt.Errorf("%w: upload ended", blob.ErrNotFound)
		}
		return blob.Part{}, err
	}
	if err := s.syncDir(dir); err != nil {
		return blob.Part{}, err
	}
	// Only now drop earlier uploads of this part, so that their tags stop
	// being accepted. Their removal needs no fsync: the caller will name the
	// new tag, and Complete discards parts it is not given.
	names, err := s.readDirNames(dir)
	if err != nil {
		return blob.Part{}, err
	}
	same := partName(n, "")
	for _, other := range names {
		if other != name && strings.HasPrefix(other, same) {
			if err := s.root.Remove(filepath.Join(dir, other)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return blob.Part{}, err
			}
		}
	}
	return blob.Part{Number: n, Size: size, Tag: tag}, nil
}

// Complete implements blob.Store. Part.Size is not checked: the tag already
// pins the size, and that is the size held to MinPartSize. A Complete that
// fails leaves the upload open. Parts it was not given are discarded only
// once the list has passed every check, so a Complete refused for its list
// leaves every part; one that fails later (an I/O error) may have discarded
// them, but keeps those it was given, so the same list can be retried. It
// must not run concurrently with a PutPart or another Complete of the same
// upload: those then fail (ErrNotFound), though never leave a partial object.
func (s *Store) Complete(ctx context.Context, key, uploadID string, parts []blob.Part) error {
	if !blob.ValidKey(key) {
		return opError("complete", key, blob.ErrInvalidKey)
	}
	if err := ctx.Err(); err != nil {
		return opError("complete", key, err)
	}
	if err := s.checkUpload(key, uploadID); err != nil {
		return opError("complete", key, err)
	}
	names, err := partNames(parts, s.minPartSize)
	if err != nil {
		return opError("complete", key, fmt.Errorf("upload %s: %w", uploadID, err))
	}
	if err := s.complete(ctx, key, uploadID, parts, names); err != nil {
		return opError("complete", key, fmt.Errorf("upload %s: %w", uploadID, err))
	}
	return nil
}

func (s *Store) complete(ctx context.Context, key, id string, parts []blob.Part, names []string) error {
	up := uploadPath(id)
	sealed, err := s.seal(up)
	if err != nil {
		return err
	}
	unseal := func() { s.root.Rename(sealed, filepath.Join(up, partsDir)) }
	have, err := s.readDirNames(sealed)
	if err != nil {
		unseal()
		return err
	}
	uploaded := make(map[string]bool, len(have))
	for _, name := range have {
		uploaded[name] = true
	}
	for i, name := range names {
		if !uploaded[name] {
			unseal()
			return fmt.Errorf("%w: part %d with tag %q was not uploaded, or has been replaced", blob.ErrInvalidPart, parts[i].Number, parts[i].Tag)
		}
		delete(uploaded, name)
	}
	if err := ctx.Err(); err != nil {
		unseal()
		return err
	}
	for name := range uploaded {
		if err := s.root.Remove(filepath.Join(sealed, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			unseal()
			return err
		}
	}
	// The directory becomes the object, and its modification time the
	// object's. Make it the time of Complete: otherwise an object whose parts
	// were written days ago would, before the core has recorded it, look older
	// than the collector's grace period and be removed as unreferenced. (A
	// zero atime is left unchanged.)
	if err := s.root.Chtimes(sealed, time.Time{}, time.Now()); err != nil {
		unseal()
		return err
	}
	// The parts themselves were fsynced before PutPart acknowledged them;
	// this makes the removals and the new time durable.
	if err := s.syncDir(sealed); err != nil {
		unseal()
		return err
	}
	if err := s.install(sealed, objectPath(key)); err != nil {
		unseal()
		return err
	}
	// The object is durable; all that is left of the upload is its key
	// record. If removing it fails, Abort can still remove it later.
	s.root.RemoveAll(up)
	return nil
}

// seal takes the upload's parts directory out of PutPart's reach, so no part
// can be added or replaced while Complete checks and installs it. A sealed
// directory left by a Complete that a crash interrupted is taken over, so a
// retried Complete can finish the upload.
func (s *Store) seal(up string) (string, error) {
	sealed := filepath.Join(up, sealPrefix+randomHex(8))
	err := s.root.Rename(filepath.Join(up, partsDir), sealed)
	if err == nil {
		return sealed, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	names, err := s.readDirNames(up)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	for _, name := range names {
		if strings.HasPrefix(name, sealPrefix) && s.root.Rename(filepath.Join(up, name), sealed) == nil {
			return sealed, nil
		}
	}
	return "", fmt.Errorf("%w: upload ended", blob.ErrNotFound)
}

// Abort implements blob.Store. An upload that belongs to another key is left
// alone, as if unknown.
func (s *Store) Abort(ctx context.Context, key, uploadID string) error {
	if !blob.ValidKey(key) {
		return opError("abort", key, blob.ErrInvalidKey)
	}
	if err := ctx.Err(); err != nil {
		return opError("abort", key, err)
	}
	err := s.checkUpload(key, uploadID)
	if errors.Is(err, blob.ErrNotFound) {
		return nil
	}
	if err != nil {
		return opError("abort", key, err)
	}
	// Renamed away first, so that a PutPart racing the removal fails cleanly
	// instead of writing into a half-removed upload.
	if err := s.removeAside(uploadPath(uploadID)); err != nil {
		return opError("abort", key, fmt.Errorf("upload %s: %w", uploadID, err))
	}
	return nil
}

// checkUpload returns ErrNotFound unless uploadID is an upload that Begin
// started for key.
func (s *Store) checkUpload(key, uploadID string) error {
	if !validUploadID(uploadID) {
		return fmt.Errorf("%w: upload %q", blob.ErrNotFound, uploadID)
	}
	b, err := s.root.ReadFile(filepath.Join(uploadPath(uploadID), keyFile))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: upload %s", blob.ErrNotFound, uploadID)
	}
	if err != nil {
		return err
	}
	if string(b) != key {
		return fmt.Errorf("%w: upload %s is for another key", blob.ErrNotFound, uploadID)
	}
	return nil
}

// validUploadID reports whether id has the form Begin gives IDs, which is
// also what keeps an ID from naming anything outside uploads/.
func validUploadID(id string) bool {
	return len(id) == 2*idBytes && isLowerHex(id)
}

func uploadPath(id string) string {
	return filepath.Join(uploadsDir, id)
}

// partNames checks the parts given to Complete and returns their file names.
// Every part but the last must be at least minPart bytes, by its tag.
func partNames(parts []blob.Part, minPart int64) ([]string, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: no parts", blob.ErrInvalidPart)
	}
	names := make([]string, len(parts))
	prev := 0
	for i, p := range parts {
		if p.Number < 1 || p.Number > blob.MaxParts {
			return nil, fmt.Errorf("%w: part number %d", blob.ErrInvalidPart, p.Number)
		}
		if p.Number <= prev {
			return nil, fmt.Errorf("%w: part %d after part %d: part numbers must ascend", blob.ErrInvalidPart, p.Number, prev)
		}
		size, ok := parseTag(p.Tag)
		if !ok {
			return nil, fmt.Errorf("%w: part %d: malformed tag %q", blob.ErrInvalidPart, p.Number, p.Tag)
		}
		if i < len(parts)-1 && size < minPart {
			return nil, fmt.Errorf("%w: part %d has %d bytes: every part but the last needs at least %d", blob.ErrInvalidPart, p.Number, size, minPart)
		}
		prev = p.Number
		names[i] = partName(p.Number, p.Tag)
	}
	return names, nil
}

// makeTag identifies the bytes of a part: its size and CRC-32C. Equal bytes
// give equal tags, as S3's ETags do.
func makeTag(size int64, crc uint32) string {
	return fmt.Sprintf("%x-%08x", size, crc)
}

// parseTag checks that tag is exactly what makeTag makes, which is also what
// keeps a tag from naming anything but a part file, and returns the size.
func parseTag(tag string) (int64, bool) {
	sizeHex, crcHex, ok := strings.Cut(tag, "-")
	if !ok || len(crcHex) != 8 || !isLowerHex(crcHex) {
		return 0, false
	}
	if sizeHex == "" || len(sizeHex) > 16 || !isLowerHex(sizeHex) || (sizeHex[0] == '0' && sizeHex != "0") {
		return 0, false
	}
	size, err := strconv.ParseInt(sizeHex, 16, 64)
	if err != nil {
		return 0, false
	}
	return size, true
}

// partName is the file name of part n with tag. Five digits sort part
// numbers up to MaxParts in order.
func partName(n int, tag string) string {
	return fmt.Sprintf("p%05d-%s", n, tag)
}

func parsePartName(name string) (n int, size int64, ok bool) {
	if len(name) < 7 || name[0] != 'p' || name[6] != '-' {
		return 0, 0, false
	}
	for _, c := range name[1:6] {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > blob.MaxParts {
		return 0, 0, false
	}
	size, ok = parseTag(name[7:])
	return n, size, ok
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

var _ blob.UploadLister = (*Store)(nil)

// ListUploads calls fn for every pending upload. Started is the time of the
// upload's last change (a part stored), which is what the collector's grace
// period should be measured from.
func (s *Store) ListUploads(ctx context.Context, fn func(blob.PendingUpload) error) error {
	ids, err := s.readDirNames(uploadsDir)
	if err != nil {
		return fmt.Errorf("local: list uploads: %w", err)
	}
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("local: list uploads: %w", err)
		}
		key, err := s.root.ReadFile(filepath.Join(uploadPath(id), keyFile))
		if err != nil || !blob.ValidKey(string(key)) {
			continue // half-made by a Begin that crashed; Sweep-proof but harmless
		}
		fi, err := s.root.Stat(uploadPath(id))
		if err != nil {
			continue
		}
		if err := fn(blob.PendingUpload{Key: string(key), UploadID: id, Started: fi.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}
