package backend_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-storage/strata/backend"
	"github.com/strata-storage/strata/backend/blob"
	"github.com/strata-storage/strata/backend/errs"
	"github.com/strata-storage/strata/backend/iam"
	"github.com/strata-storage/strata/backend/meta"
)

type blobInfo = blob.Info

const mib = 1 << 20

func TestUploadSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	content := data(12*mib+12345, 11)
	u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/big.bin"), backend.UploadOptions{
		Size: int64(len(content)), PartSize: 5 * mib, SHA256: sum(content), Fingerprint: "fp",
	})
	if err != nil {
		t.Fatal(err)
	}
	if u.Parts != 3 || u.PartSize != 5*mib {
		t.Fatalf("session %+v", u)
	}
	part := func(n int) []byte {
		lo := (n - 1) * 5 * mib
		return content[lo:min(lo+5*mib, len(content))]
	}
	// Parts 3 and 1 in parallel; nothing is visible yet.
	var wg sync.WaitGroup
	for _, n := range []int{3, 1} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := part(n)
			if _, err := e.b.PutPart(ctx, e.admin, "", u.ID, n, bytes.NewReader(b), int64(len(b)), sum(b)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := e.b.Stat(ctx, e.admin, p("/home/admin/big.bin")); err == nil {
		t.Fatal("file visible before Complete")
	}
	// A status shows what arrived; completing now names the missing part.
	st, err := e.b.GetUpload(ctx, e.admin, "", u.ID)
	if err != nil || len(st.Received) != 2 || st.Received[0].N != 1 || st.Received[1].N != 3 {
		t.Fatalf("status %+v %v", st, err)
	}
	_, err = e.b.CompleteUpload(ctx, e.admin, "", u.ID, nil)
	wantErr(t, err, errs.ErrInvalid)

	// Wrong length and wrong digest are refused and not recorded.
	_, err = e.b.PutPart(ctx, e.admin, "", u.ID, 2, bytes.NewReader(part(2)[:100]), 100, nil)
	wantErr(t, err, errs.ErrLengthMismatch)
	_, err = e.b.PutPart(ctx, e.admin, "", u.ID, 2, bytes.NewReader(part(2)), int64(len(part(2))), sum([]byte("x")))
	wantErr(t, err, errs.ErrDigestMismatch)
	_, err = e.b.PutPart(ctx, e.admin, "", u.ID, 4, bytes.NewReader(nil), 0, nil)
	wantErr(t, err, errs.ErrInvalid)
	if st, _ := e.b.GetUpload(ctx, e.admin, "", u.ID); len(st.Received) != 2 {
		t.Fatalf("a refused part was recorded: %+v", st.Received)
	}
	if _, err := e.b.PutPart(ctx, e.admin, "", u.ID, 2, bytes.NewReader(part(2)), int64(len(part(2))), nil); err != nil {
		t.Fatal(err)
	}
	ent, err := e.b.CompleteUpload(ctx, e.admin, "", u.ID, sum(content))
	if err != nil {
		t.Fatal(err)
	}
	if ent.Size != int64(len(content)) || ent.SHA256 != hex.EncodeToString(sum(content)) {
		t.Fatalf("entry %+v", ent)
	}
	if !bytes.Equal(e.mustRead(e.admin, "/home/admin/big.bin"), content) {
		t.Fatal("content differs")
	}
	got, err := e.read(e.admin, "/home/admin/big.bin", backend.OpenOptions{Offset: 5*mib - 3, Length: 10})
	if err != nil || !bytes.Equal(got, content[5*mib-3:5*mib+7]) {
		t.Fatalf("range across parts: %v", err)
	}
	// The session is gone: it completes once.
	_, err = e.b.CompleteUpload(ctx, e.admin, "", u.ID, nil)
	wantErr(t, err, errs.ErrNotFound)
	if us, err := e.b.ListUploads(ctx, e.admin, ""); err != nil || len(us) != 0 {
		t.Fatalf("open sessions %+v %v", us, err)
	}
}

func TestUploadWrongDigestCommitsNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	content := data(6*mib, 2)
	u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/f"), backend.UploadOptions{Size: int64(len(content)), PartSize: 5 * mib})
	if err != nil {
		t.Fatal(err)
	}
	putParts(t, e, e.admin, u.ID, content[:5*mib], content[5*mib:])
	_, err = e.b.CompleteUpload(ctx, e.admin, "", u.ID, sum([]byte("something else")))
	wantErr(t, err, errs.ErrDigestMismatch)
	if _, err := e.b.Stat(ctx, e.admin, p("/home/admin/f")); err == nil {
		t.Fatal("file visible after a failed Complete")
	}
	if n := e.blobCount(); n != 0 {
		t.Fatalf("%d blobs left", n)
	}
}

func TestUploadEmptyAndSizes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/empty"), backend.UploadOptions{Size: 0})
	if err != nil {
		t.Fatal(err)
	}
	ent, err := e.b.CompleteUpload(ctx, e.admin, "", u.ID, sum(nil))
	if err != nil || ent.Size != 0 {
		t.Fatalf("%+v %v", ent, err)
	}
	for _, ps := range []int64{1 << 20, 5*mib + 1, 6 << 30} {
		_, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/x"), backend.UploadOptions{Size: 100, PartSize: ps})
		wantErr(t, err, errs.ErrInvalid)
	}
	// A huge file gets parts large enough to stay under 10,000.
	u, err = e.b.CreateUpload(ctx, e.admin, p("/home/admin/huge"), backend.UploadOptions{Size: 1 << 40})
	if err != nil || u.Parts > blob.MaxParts {
		t.Fatalf("%+v %v", u, err)
	}
	if err := e.b.AbortUpload(ctx, e.admin, "", u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.b.GetUpload(ctx, e.admin, "", "nonsense")
	wantErr(t, err, errs.ErrNotFound)
}

func TestCollect(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.put(e.admin, "/home/admin/keep", []byte("keep me"))
	// An orphan, as a crash between storing and committing leaves.
	if err := e.blobs.Put(ctx, "orphanblob", bytes.NewReader([]byte("junk")), 4); err != nil {
		t.Fatal(err)
	}
	// An upload session that expires with a part stored.
	u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/abandoned"), backend.UploadOptions{Size: 6 * mib, PartSize: 5 * mib})
	if err != nil {
		t.Fatal(err)
	}
	part := data(5*mib, 1)
	if _, err := e.b.PutPart(ctx, e.admin, "", u.ID, 1, bytes.NewReader(part), int64(len(part)), nil); err != nil {
		t.Fatal(err)
	}
	// Within the grace period nothing goes.
	st, err := e.b.Collect(ctx, time.Hour)
	if err != nil || st.OrphanBlobs != 0 || st.ExpiredUploads != 0 {
		t.Fatalf("%+v %v", st, err)
	}
	e.clock.Add(8 * 24 * time.Hour)
	// The local store dates objects by the real clock; a grace of a
	// nanosecond makes the orphan old enough.
	st, err = e.b.Collect(ctx, time.Nanosecond)
	if err != nil {
		t.Fatal(err)
	}
	if st.OrphanBlobs != 1 || st.ExpiredUploads != 1 {
		t.Fatalf("stats %+v", st)
	}
	if n := e.blobCount(); n != 1 {
		t.Fatalf("%d blobs left, want the one in use", n)
	}
	if string(e.mustRead(e.admin, "/home/admin/keep")) != "keep me" {
		t.Fatal("collector took a live blob")
	}
	_, err = e.b.GetUpload(ctx, e.admin, "", u.ID)
	wantErr(t, err, errs.ErrNotFound)
}

func TestManyVersionsPruneAcrossCommits(t *testing.T) {
	e := newEnv(t, keep(2))
	for i := range 30 {
		e.put(e.admin, "/home/admin/f", []byte(fmt.Sprint(i)))
	}
	if n := e.blobCount(); n != 2 {
		t.Fatalf("%d blobs", n)
	}
}

// blockingComplete holds blob.Store.Complete until released.
type blockingComplete struct {
	blob.Store
	entered chan struct{}
	release chan struct{}
}

func (b *blockingComplete) Complete(ctx context.Context, key, id string, parts []blob.Part) error {
	close(b.entered)
	<-b.release
	return b.Store.Complete(ctx, key, id, parts)
}

// A Complete holds its session: an Abort from another server is refused
// while the claim is live, and taken once the claim has not been renewed
// for the lease (its server died).
func TestCompleteClaim(t *testing.T) {
	var bc *blockingComplete
	e := newEnv(t, wrapBlobs(func(s blob.Store) blob.Store {
		bc = &blockingComplete{Store: s, entered: make(chan struct{}), release: make(chan struct{})}
		return bc
	}))
	ctx := context.Background()
	content := data(6*mib, 5)
	u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/f"), backend.UploadOptions{Size: int64(len(content)), PartSize: 5 * mib})
	if err != nil {
		t.Fatal(err)
	}
	uploadParts(t, e.b, e.admin, u.ID, content, []int{1, 2})
	done := make(chan error, 1)
	go func() {
		_, err := e.b.CompleteUpload(ctx, e.admin, "", u.ID, sum(content))
		done <- err
	}()
	<-bc.entered
	clk := &clock{now: e.clock.Now()}
	other, err := backend.New(backend.Config{Blobs: e.blobs, Meta: e.meta, Keys: e.keys, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, other.AbortUpload(ctx, e.admin, "", u.ID), errs.ErrConflict)
	clk.Add(3 * time.Minute) // the claim's lease has run out
	if err := other.AbortUpload(ctx, e.admin, "", u.ID); err != nil {
		t.Fatalf("abort of a session whose Complete died: %v", err)
	}
	close(bc.release)
	if err := <-done; err == nil {
		t.Fatal("the Complete whose session was taken over succeeded")
	}
	if _, err := e.b.Stat(ctx, e.admin, p("/home/admin/f")); err == nil {
		t.Fatal("file visible after its session was aborted")
	}
}

// TestPutPartCRC: every part is recorded with the CRC-32C of its bytes
// and no SHA-256 unless one was given to check; a part with another CRC-32C
// than its sender gave is refused and not recorded.
func TestPutPartCRC(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	content := data(6*mib, 5)
	u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/f"), backend.UploadOptions{Size: int64(len(content)), PartSize: 5 * mib})
	if err != nil {
		t.Fatal(err)
	}
	one, two := content[:5*mib], content[5*mib:]
	crc := func(b []byte) []byte {
		return binary.BigEndian.AppendUint32(nil, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	}
	wrong := crc(two)
	wrong[0] ^= 1
	_, err = e.b.PutPartChecked(ctx, e.admin, "", u.ID, 2, bytes.NewReader(two), int64(len(two)), backend.PartCheck{CRC32C: wrong})
	wantErr(t, err, errs.ErrDigestMismatch)
	if st, _ := e.b.GetUpload(ctx, e.admin, "", u.ID); len(st.Received) != 0 {
		t.Fatalf("a refused part was recorded: %+v", st.Received)
	}
	got1, err := e.b.PutPartChecked(ctx, e.admin, "", u.ID, 1, bytes.NewReader(one), int64(len(one)), backend.PartCheck{CRC32C: crc(one)})
	if err != nil {
		t.Fatal(err)
	}
	got2, err := e.b.PutPart(ctx, e.admin, "", u.ID, 2, bytes.NewReader(two), int64(len(two)), sum(two))
	if err != nil {
		t.Fatal(err)
	}
	want1 := backend.UploadPart{N: 1, Size: 5 * mib, CRC32C: hex.EncodeToString(crc(one))}
	want2 := backend.UploadPart{N: 2, Size: mib, CRC32C: hex.EncodeToString(crc(two)), SHA256: hex.EncodeToString(sum(two))}
	if got1 != want1 || got2 != want2 {
		t.Fatalf("parts %+v %+v, want %+v %+v", got1, got2, want1, want2)
	}
	st, err := e.b.GetUpload(ctx, e.admin, "", u.ID)
	if err != nil || len(st.Received) != 2 || st.Received[0] != want1 || st.Received[1] != want2 {
		t.Fatalf("received %+v %v", st.Received, err)
	}
	if _, err := e.b.CompleteUpload(ctx, e.admin, "", u.ID, sum(content)); err != nil {
		t.Fatal(err)
	}
}

// TestCollectDeletesExpiredRecords: the embedded meta store has no TTL of
// its own, so the collector deletes its expired records (tokens, login
// nonces) once their time has passed, and not before.
func TestCollectDeletesExpiredRecords(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	it := meta.Item{PK: "test", SK: "expiring", Value: []byte("x"), ExpiresAt: e.clock.Now().Add(time.Hour)}
	if _, err := e.meta.Put(ctx, it, meta.NoCond); err != nil {
		t.Fatal(err)
	}
	if st, err := e.b.Collect(ctx, time.Hour); err != nil || st.ExpiredItems != 0 {
		t.Fatalf("before its time: %+v %v", st, err)
	}
	e.clock.Add(2 * time.Hour)
	st, err := e.b.Collect(ctx, time.Hour)
	if err != nil || st.ExpiredItems != 1 {
		t.Fatalf("after its time: %+v %v", st, err)
	}
	if _, err := e.meta.Get(ctx, "test", "expiring"); !errors.Is(err, meta.ErrNotFound) {
		t.Fatalf("the expired record: %v", err)
	}
}

// A session opened with ClientDigest in the uploader's own home is
// completed with the client's SHA-256 and its parts' CRC-32C: the server
// checks the parts against the CRCs and records the digest without hashing
// the file (so a digest that is not the content's is recorded as given: the
// uploader's word); a part that differs from what the client read fails the
// Complete, which leaves the session open for the part to be sent again.
func TestUploadClientDigest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	content := data(11*mib, 7)
	parts := [][]byte{content[:5*mib], content[5*mib : 10*mib], content[10*mib:]}
	u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/f"), backend.UploadOptions{Size: int64(len(content)), PartSize: 5 * mib, ClientDigest: true})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := e.b.GetUpload(ctx, e.admin, "", u.ID); err != nil || !st.ClientDigest {
		t.Fatalf("session %+v %v: not marked ClientDigest", st, err)
	}
	other := data(5*mib, 8) // part 2 as another version of the file has it
	putParts(t, e, e.admin, u.ID, parts[0], other, parts[2])
	claimed := sum([]byte("not what was sent")) // no server hashes it to find out
	for _, c := range []struct {
		check backend.CompleteCheck
		want  error
	}{
		{backend.CompleteCheck{SHA256: claimed, PartCRC32C: crcs(parts[:2]...)}, errs.ErrInvalid}, // too few
		{backend.CompleteCheck{SHA256: claimed, PartCRC32C: []string{"0", "1", "2"}}, errs.ErrInvalid},
		{backend.CompleteCheck{SHA256: claimed, PartCRC32C: crcs(parts...)}, errs.ErrDigestMismatch}, // part 2 differs
	} {
		_, err := e.b.CompleteUploadChecked(ctx, e.admin, "", u.ID, c.check)
		wantErr(t, err, c.want)
	}
	if _, err := e.b.Stat(ctx, e.admin, p("/home/admin/f")); err == nil {
		t.Fatal("file visible after a failed Complete")
	}
	putParts(t, e, e.admin, u.ID, parts[:2]...)
	ent, err := e.b.CompleteUploadChecked(ctx, e.admin, "", u.ID, backend.CompleteCheck{SHA256: claimed, PartCRC32C: crcs(parts...)})
	if err != nil {
		t.Fatal(err)
	}
	if ent.SHA256 != hex.EncodeToString(claimed) || !ent.ClientDigest || ent.ClientDigestBy != e.admin.UserID || e.admin.UserID == "" {
		t.Fatalf("digest %s (client's: %v, by %q) recorded, the client of %q gave %x", ent.SHA256, ent.ClientDigest, ent.ClientDigestBy, e.admin.UserID, claimed)
	}
	// A version says whose its digest is, not the current one's.
	e.put(e.admin, "/home/admin/f", []byte("v2, hashed by the server"))
	if v1, err := e.b.StatVersion(ctx, e.admin, p("/home/admin/f"), 1); err != nil || !v1.ClientDigest || v1.ClientDigestBy != e.admin.UserID {
		t.Fatalf("version 1: %+v %v", v1, err)
	}
	if v2, err := e.b.StatVersion(ctx, e.admin, p("/home/admin/f"), 2); err != nil || v2.ClientDigest || v2.ClientDigestBy != "" {
		t.Fatalf("version 2: %+v %v", v2, err)
	}
	if _, err := e.b.RestoreVersion(ctx, e.admin, p("/home/admin/f"), 1); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e.mustRead(e.admin, "/home/admin/f"), content) {
		t.Fatal("content differs")
	}

	// The digest says it is the client's word wherever the content goes:
	// in a listing, copied or moved into another home.
	e.user("alice")
	if _, _, err := e.b.Copy(ctx, e.admin, p("/home/admin/f"), p("/home/alice/copy"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.b.Move(ctx, e.admin, p("/home/admin/f"), p("/home/alice/moved"), false); err != nil {
		t.Fatal(err)
	}
	if plain := e.put(e.admin, "/home/alice/plain", []byte("x")); plain.ClientDigest {
		t.Fatal("a file the server hashed says its digest is the client's")
	}
	pg, err := e.b.List(ctx, e.admin, p("/home/alice"), "", 0)
	if err != nil || len(pg.Entries) != 3 {
		t.Fatalf("listing %+v: %v", pg.Entries, err)
	}
	for _, en := range pg.Entries {
		st, err := e.b.Stat(ctx, e.admin, p(en.Path))
		if err != nil {
			t.Fatal(err)
		}
		if want := en.Name != "plain"; en.ClientDigest != want || st.ClientDigest != want {
			t.Errorf("%s: ClientDigest %v listed, %v by Stat; want %v", en.Name, en.ClientDigest, st.ClientDigest, want)
		}
		// Still the word of admin's client, whoever holds the file now.
		want := e.admin.UserID
		if en.Name == "plain" {
			want = ""
		}
		if en.ClientDigestBy != want || st.ClientDigestBy != want {
			t.Errorf("%s: ClientDigestBy %q listed, %q by Stat; want %q", en.Name, en.ClientDigestBy, st.ClientDigestBy, want)
		}
	}
}

// A ClientDigest session completed without the parts' CRC-32C (another
// client resuming it) is hashed by the server, reading the file back: a
// false digest is refused. And the client's digest is taken only in the
// uploader's own home, from the uploader: anywhere else, or completed by
// an admin for the user, the server hashes.
func TestUploadClientDigestFallsBackToHashing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := e.user("alice")
	e.put(alice, "/home/alice/x", []byte("x"))
	content := data(6*mib, 10)
	parts := [][]byte{content[:5*mib], content[5*mib:]}
	claimed := sum([]byte("not what was sent"))
	for _, c := range []struct {
		path  string
		crcs  []string
		taken bool
	}{
		{"/home/admin/f", nil, true},
		{"/home/alice/f", crcs(parts...), false}, // the admin in alice's home
	} {
		u, err := e.b.CreateUpload(ctx, e.admin, p(c.path), backend.UploadOptions{Size: int64(len(content)), PartSize: 5 * mib, ClientDigest: true})
		if err != nil {
			t.Fatal(err)
		}
		if u.ClientDigest != c.taken {
			t.Fatalf("%s: ClientDigest %v, want %v", c.path, u.ClientDigest, c.taken)
		}
		putParts(t, e, e.admin, u.ID, parts...)
		_, err = e.b.CompleteUploadChecked(ctx, e.admin, "", u.ID, backend.CompleteCheck{SHA256: claimed, PartCRC32C: c.crcs})
		wantErr(t, err, errs.ErrDigestMismatch)
	}

	// An empty file: nothing to hash, nothing taken on the client's word
	// (not even with an empty list of CRCs).
	u, err := e.b.CreateUpload(ctx, alice, p("/home/alice/empty"), backend.UploadOptions{Size: 0, ClientDigest: true})
	if err != nil || u.ClientDigest {
		t.Fatalf("empty session %+v: %v", u, err)
	}
	_, err = e.b.CompleteUploadChecked(ctx, alice, "", u.ID, backend.CompleteCheck{SHA256: claimed, PartCRC32C: []string{}})
	wantErr(t, err, errs.ErrDigestMismatch)

	// Alice's own session, completed by an admin for her: not her word.
	u, err = e.b.CreateUpload(ctx, alice, p("/home/alice/g"), backend.UploadOptions{Size: int64(len(content)), PartSize: 5 * mib, ClientDigest: true})
	if err != nil || !u.ClientDigest {
		t.Fatalf("session %+v: %v", u, err)
	}
	putParts(t, e, alice, u.ID, parts...)
	_, err = e.b.CompleteUploadChecked(ctx, e.admin, "alice", u.ID, backend.CompleteCheck{SHA256: claimed, PartCRC32C: crcs(parts...)})
	wantErr(t, err, errs.ErrDigestMismatch)
}

// putParts sends parts 1, 2, ... of a session.
func putParts(t *testing.T, e *env, pr iam.Principal, id string, parts ...[]byte) {
	t.Helper()
	for n, b := range parts {
		if _, err := e.b.PutPart(context.Background(), pr, "", id, n+1, bytes.NewReader(b), int64(len(b)), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// crcs is the CRC-32C of each of parts, as a client gives them.
func crcs(parts ...[]byte) []string {
	var out []string
	for _, b := range parts {
		out = append(out, fmt.Sprintf("%08x", crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))))
	}
	return out
}

// The parts' CRC-32C are checked at Complete whenever they are given, on a
// session the server hashes too.
func TestUploadPartCRCsChecked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	content := data(6*mib, 9)
	u, err := e.b.CreateUpload(ctx, e.admin, p("/home/admin/f"), backend.UploadOptions{Size: int64(len(content)), PartSize: 5 * mib})
	if err != nil {
		t.Fatal(err)
	}
	putParts(t, e, e.admin, u.ID, content[:5*mib], content[5*mib:])
	cs := crcs(content[:5*mib], content[5*mib:])
	first, second := cs[0], cs[1]
	_, err = e.b.CompleteUploadChecked(ctx, e.admin, "", u.ID, backend.CompleteCheck{PartCRC32C: []string{second, first}})
	wantErr(t, err, errs.ErrDigestMismatch)
	ent, err := e.b.CompleteUploadChecked(ctx, e.admin, "", u.ID, backend.CompleteCheck{SHA256: sum(content), PartCRC32C: []string{first, strings.ToUpper(second)}})
	if err != nil || ent.SHA256 != hex.EncodeToString(sum(content)) {
		t.Fatalf("entry %+v %v", ent, err)
	}
}
