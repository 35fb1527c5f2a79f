package version_test

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/version"
)

func TestFromBuildInfo(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	vcs := []debug.BuildSetting{
		{Key: "-buildmode", Value: "exe"},
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "4f3c2a1e9b7d0c5a6e8f1b2d3c4a5b6c7d8e9f00"},
		{Key: "vcs.time", Value: "2026-01-01T12:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	for _, tc := range []struct {
		name    string
		bi      *debug.BuildInfo
		stamped string
		want    version.Info
		str     string
	}{
		{"release", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.0"}, Settings: vcs[:4]},
			"", version.Info{Version: "v1.2.0", Revision: "4f3c2a1e9b7d0c5a6e8f1b2d3c4a5b6c7d8e9f00", Time: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC), Go: "go1.26.0", Platform: platform},
			"v1.2.0 (4f3c2a1e9b7d, 2026-01-01T12:00:00Z) go1.26.0 " + platform},
		{"dirty pseudo-version", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v0.0.0-20260101120000-4f3c2a1e9b7d+dirty"}, Settings: vcs},
			"", version.Info{Version: "v0.0.0-20260101120000-4f3c2a1e9b7d+dirty", Revision: "4f3c2a1e9b7d0c5a6e8f1b2d3c4a5b6c7d8e9f00", Time: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC), Modified: true, Go: "go1.26.0", Platform: platform},
			"v0.0.0-20260101120000-4f3c2a1e9b7d+dirty (4f3c2a1e9b7d, 2026-01-01T12:00:00Z, modified) go1.26.0 " + platform},
		{"no VCS", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}},
			"", version.Info{Version: "(devel)", Go: "go1.26.0", Platform: platform},
			"(devel) go1.26.0 " + platform},
		{"stamped", &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: vcs[:3]},
			"v1.3.0-rc1", version.Info{Version: "v1.3.0-rc1", Revision: "4f3c2a1e9b7d0c5a6e8f1b2d3c4a5b6c7d8e9f00", Go: "go1.26.0", Platform: platform},
			"v1.3.0-rc1 (4f3c2a1e9b7d) go1.26.0 " + platform},
		{"no build info", nil, "", version.Info{Version: "(devel)", Go: runtime.Version(), Platform: platform},
			"(devel) " + runtime.Version() + " " + platform},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := version.FromBuildInfo(tc.bi, tc.stamped)
			if got != tc.want {
				t.Errorf("FromBuildInfo = %+v; want %+v", got, tc.want)
			}
			if s := got.String(); s != tc.str {
				t.Errorf("String() = %q; want %q", s, tc.str)
			}
		})
	}
}

// TestGet reads the test binary's own build info: it has no module
// version of its own, so it must say "(devel)" rather than nothing.
func TestGet(t *testing.T) {
	v := version.Get()
	if v.Version == "" || v.Go != runtime.Version() {
		t.Errorf("Get() = %+v; want a version and Go %s", v, runtime.Version())
	}
}
