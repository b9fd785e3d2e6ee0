package remotetest

import (
	"context"
	"fmt"
	"strings"

	"github.com/strata-storage/strata/tui/remote"
)

// SetQuota sets the limits of the caller's home folder (0: none).
func (f *Fake) SetQuota(bytes, files int64) { f.SetUserQuota(Me, bytes, files) }

// SetUserQuota sets the limits of user's home folder (0: none).
func (f *Fake) SetUserQuota(user string, bytes, files int64) {
	f.mu.Lock()
	if f.quotas == nil {
		f.quotas = map[string][2]int64{}
	}
	f.quotas[user] = [2]int64{bytes, files}
	f.mu.Unlock()
}

// DenyUsage makes UserUsage forbidden (or not), as for an administrator
// whose policies allow strata:ManageUsers but not strata:GetUser.
func (f *Fake) DenyUsage(deny bool) {
	f.mu.Lock()
	f.usageDenied = deny
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
	return f.usageOf(Me), nil
}

// UserUsage is Usage of another user's home folder: an administrator's
// (unless DenyUsage), or the caller's own.
func (f *Fake) UserUsage(ctx context.Context, user string) (remote.Usage, error) {
	if err := f.call(ctx, "UserUsage"); err != nil {
		return remote.Usage{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if user != Me && (!f.isAdmin(Me) || f.usageDenied) {
		return remote.Usage{}, fmt.Errorf("%w: the usage of %s takes strata:GetUser", remote.ErrForbidden, user)
	}
	if _, ok := f.acc.users[user]; !ok {
		return remote.Usage{}, fmt.Errorf("user %s: %w", user, remote.ErrNotFound)
	}
	return f.usageOf(user), nil
}

// usageOf counts user's home folder; f.mu is held.
func (f *Fake) usageOf(user string) remote.Usage {
	home := "/home/" + user
	q := f.quotas[user]
	u := remote.Usage{User: user, Home: home, QuotaBytes: q[0], QuotaFiles: q[1], Counted: true}
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
	return u
}
