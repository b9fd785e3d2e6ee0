package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	for _, c := range []struct {
		name     string
		version  string
		settings []debug.BuildSetting
		want     string
	}{
		{"tagged", "v1.2.3", nil, "v1.2.3"},
		{"go build in a checkout", "v0.0.0-20261205052322-988018edcab1+dirty", vcs("988018edcab1626fb7474827331435cd2ea78d42", "true"), "v0.0.0-20261205052322-988018edcab1+dirty"},
		{"revision only", "(devel)", vcs("988018edcab1626fb7474827331435cd2ea78d42", "false"), "devel-988018edcab1"},
		{"revision, uncommitted changes", "(devel)", vcs("988018edcab1626fb7474827331435cd2ea78d42", "true"), "devel-988018edcab1-dirty"},
		{"short revision", "(devel)", vcs("abc", "false"), "devel-abc"},
		{"go run", "(devel)", nil, "devel"},
		{"no module version", "", nil, "devel"},
	} {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/strata-storage/strata", Version: c.version}, Settings: c.settings}
		if got := fromBuildInfo(bi); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if got := fromBuildInfo(nil); got != "devel" {
		t.Errorf("no build info: %q", got)
	}
	if String() == "" {
		t.Error("String is empty")
	}
}
