// Package version says which build of signet is running, from what the Go
// toolchain records in every binary (runtime/debug.ReadBuildInfo): the main
// module's version, the VCS revision and commit time, whether the tree had
// uncommitted changes, and the Go version. It imports only the standard
// library, so every main can report its version.
package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"time"
)

// stamp, when set at link time, replaces the module version, for builds
// where the toolchain cannot see the VCS (a source tarball, a container
// build without .git, a git worktree):
//
//	go build -ldflags "-X github.com/signet-dev/signet/internal/version.stamp=v1.2.0" ./cmd/signet
var stamp string

// Info describes one build.
type Info struct {
	// Version is the main module's version: a tag such as "v1.2.0", a
	// pseudo-version derived from the commit ("v0.0.0-20260101120000-
	// 4f3c2a1e9b7d"), or "(devel)" when the toolchain knew neither.
	Version string
	// Revision is the commit the binary was built from; "" if unknown.
	Revision string
	// Time is the commit's time (not the build's); zero if unknown.
	Time time.Time
	// Modified reports uncommitted changes in the tree at build time.
	Modified bool
	// Go is the toolchain version, such as "go1.26.0".
	Go string
	// Platform is the running binary's GOOS/GOARCH, such as "linux/amd64".
	Platform string
}

// Get returns the running binary's Info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return FromBuildInfo(bi, stamp)
}

// FromBuildInfo reads an Info from bi (nil when the binary has none) and a
// version stamped at link time ("" for none).
func FromBuildInfo(bi *debug.BuildInfo, stamped string) Info {
	info := Info{Version: "(devel)", Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		if stamped != "" {
			info.Version = stamped
		}
		return info
	}
	if bi.GoVersion != "" {
		info.Go = bi.GoVersion
	}
	if v := bi.Main.Version; v != "" {
		info.Version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				info.Time = t.UTC()
			}
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	if stamped != "" {
		info.Version = stamped
	}
	return info
}

// String is one line: "v1.2.0 (4f3c2a1e9b7d, 2026-01-01T12:00:00Z,
// modified) go1.26.0 linux/amd64"; the parenthesis is left out when the
// revision is unknown.
func (i Info) String() string {
	s := i.Version
	if i.Revision != "" {
		parts := []string{short(i.Revision)}
		if !i.Time.IsZero() {
			parts = append(parts, i.Time.Format(time.RFC3339))
		}
		if i.Modified {
			parts = append(parts, "modified")
		}
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s + " " + i.Go + " " + i.Platform
}

// short is a revision's first 12 characters, as Go's pseudo-versions
// write it.
func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
