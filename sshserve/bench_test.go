package sshserve_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	gossh "golang.org/x/crypto/ssh"

	"github.com/strata-storage/strata/sshserve"
)

// BenchmarkFileManagerFirstFrame is the time from asking for a shell on a
// logged-in connection to the file manager's first frame with the home
// folder listed; it also reports the heap each open, idle session holds.
func BenchmarkFileManagerFirstFrame(b *testing.B) {
	e := newEnv(b, sshserve.Config{MaxSessionsPerUser: 1 << 20})
	e.put("/home/alice/hello.txt", []byte("hello"))
	cl := e.login("alice")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		tm := openTerminal(b, cl, 100, 30, nil)
		tm.await("hello.txt")
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/float64(b.N), "heap-B/session")
}

// openSSH is OpenSSH's sftp client set up to log in to e as user: the
// arguments before the batch file and the host.
func (e *env) openSSH(b testing.TB, user string) []string {
	b.Helper()
	bin, err := exec.LookPath("sftp")
	if err != nil {
		b.Skip("no OpenSSH sftp client")
	}
	dir := b.TempDir()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	pk, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		b.Fatal(err)
	}
	pub, err := gossh.NewPublicKey(priv.Public())
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.d.Identity.AddSSHKey(context.Background(), e.admin, user, gossh.MarshalAuthorizedKey(pub)); err != nil {
		b.Fatal(err)
	}
	host, port, _ := net.SplitHostPort(e.addr)
	known := fmt.Sprintf("[%s]:%s %s", host, port, gossh.MarshalAuthorizedKey(e.hostK))
	if err := os.WriteFile(filepath.Join(dir, "id"), pem.EncodeToMemory(pk), 0o600); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), []byte(known), 0o600); err != nil {
		b.Fatal(err)
	}
	return []string{bin, "-q", "-P", port, "-i", filepath.Join(dir, "id"), "-o", "IdentitiesOnly=yes",
		"-o", "UserKnownHostsFile=" + filepath.Join(dir, "known_hosts"), "-o", "BatchMode=yes", "-F", "/dev/null",
		"-b", "-", user + "@" + host}
}

// runOpenSSH runs one sftp batch command.
func runOpenSSH(b testing.TB, args []string, batch string) {
	b.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin = strings.NewReader(batch + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("sftp %s: %v\n%s", batch, err, out)
	}
}

// benchSize is the file the SFTP benchmarks move (SFTP_BENCH_MIB MiB,
// 64 by default).
func benchSize() int {
	if n, err := strconv.Atoi(os.Getenv("SFTP_BENCH_MIB")); err == nil && n > 0 {
		return n << 20
	}
	return 64 << 20
}

// BenchmarkOpenSSHUpload is OpenSSH's sftp put of a file into the store,
// the server in this process (so -cpuprofile shows where its time goes).
func BenchmarkOpenSSHUpload(b *testing.B) {
	e := newEnv(b, sshserve.Config{MaxSessionsPerUser: 1 << 20})
	args := e.openSSH(b, "alice")
	src := filepath.Join(b.TempDir(), "big.bin")
	if err := os.WriteFile(src, random(benchSize()), 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(benchSize()))
	b.ResetTimer()
	for range b.N {
		runOpenSSH(b, args, "put "+src+" /home/alice/big.bin")
	}
}

// BenchmarkOpenSSHDownload is OpenSSH's sftp get of a file from the store.
func BenchmarkOpenSSHDownload(b *testing.B) {
	e := newEnv(b, sshserve.Config{MaxSessionsPerUser: 1 << 20})
	args := e.openSSH(b, "alice")
	e.put("/home/alice/big.bin", random(benchSize()))
	dst := filepath.Join(b.TempDir(), "big.bin")
	b.SetBytes(int64(benchSize()))
	b.ResetTimer()
	for range b.N {
		runOpenSSH(b, args, "get /home/alice/big.bin "+dst)
	}
}

// BenchmarkFiftySessions opens 50 file manager sessions at once (on 50
// connections, as 50 people would), waits for every first frame, and
// reports the time until the last one and the heap each open session
// holds. Any session that fails fails the benchmark.
func BenchmarkFiftySessions(b *testing.B) {
	const n = 50
	e := newEnv(b, sshserve.Config{MaxSessionsPerUser: n})
	e.put("/home/alice/hello.txt", []byte("hello"))
	var heap float64
	for range b.N {
		b.StopTimer()
		clients := make([]*gossh.Client, n)
		for i := range clients {
			clients[i] = e.login("alice")
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		var wg sync.WaitGroup
		terms := make([]*terminal, n)
		for i, cl := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				terms[i] = openTerminal(b, cl, 100, 30, nil)
				terms[i].await("hello.txt")
			}()
		}
		wg.Wait()
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap += float64(after.HeapInuse-before.HeapInuse) / n
		for i, tm := range terms {
			tm.keys("q")
			if err := tm.s.Wait(); err != nil {
				b.Fatalf("session %d: %v", i, err)
			}
			clients[i].Close()
		}
	}
	b.ReportMetric(heap/float64(b.N), "heap-B/session")
}
