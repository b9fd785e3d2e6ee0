// Package version says which build of strata is running, the same way in
// every place that reports it: `strata version`, the server's metrics
// (strata_build_info) and log, and the clients' User-Agent.
package version

import "runtime/debug"

// String is the running binary's version, from its build information.
func String() string {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(bi)
}

// fromBuildInfo is the module version when the build recorded one (a tag,
// or the pseudo-version `go build` derives from the checkout, with
// "+dirty" for uncommitted changes); else "devel-<revision>[-dirty]" from
// the version control settings; else "devel" (`go run`, or a build with
// -buildvcs=false, records neither).
func fromBuildInfo(bi *debug.BuildInfo) string {
	if bi == nil {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	v := "devel-" + rev[:min(len(rev), 12)]
	if dirty {
		v += "-dirty"
	}
	return v
}
