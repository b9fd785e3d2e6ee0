package sshserve_test

import (
	"runtime"
	"testing"

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
