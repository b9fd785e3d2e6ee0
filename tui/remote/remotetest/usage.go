package remotetest

import (
	"context"
	"strings"

	"github.com/strata-storage/strata/tui/remote"
)

// SetQuota sets the limits of the caller's home folder (0: none).
func (f *Fake) SetQuota(bytes, files int64) {
	f.mu.Lock()
	f.quota = [2]int64{bytes, files}
	f.mu.Unlock()
}

// Usage counts, as the server does, every version of every file under
// the caller's home folder and in the trash.
func (f *Fake) Usage(ctx context.Context) (remote.Usage, error) {
	if err := f.call(ctx, "Usage"); err != nil {
		return remote.Usage{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	home := "/home/" + Me
	u := remote.Usage{User: Me, Home: home, QuotaBytes: f.quota[0], QuotaFiles: f.quota[1], Counted: true}
	count := func(files map[string][]version) {
		for p, vs := range files {
			if !strings.HasPrefix(p, home+"/") {
				continue
			}
			u.Files++
			for _, v := range vs {
				u.Bytes += int64(len(v.data))
			}
		}
	}
	count(f.files)
	for _, t := range f.trash {
		count(t.files)
	}
	return u, nil
}
