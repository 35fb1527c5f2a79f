package cli

import (
	"context"
	"fmt"

	"github.com/signet-dev/signet/internal/version"
)

var versionPage = &page{
	summary: "print the version, VCS revision and Go version of this binary",
	usage:   []string{"version [--json]", "--version"},
	about: `Prints the version of this signet binary, as the Go toolchain recorded it at
build time: the module version (a release tag, a pseudo-version made from the
commit, or "(devel)"), the VCS revision and its commit time, whether the tree
had uncommitted changes, and the Go version. A binary built without VCS
information (go build -buildvcs=false, or outside a git checkout) has no
revision.`,
	examples: []string{"version", "version --json"},
}

// VersionCommand is "signet version".
type VersionCommand struct{ Env }

// versionJSON is the --json form of version.
type versionJSON struct {
	Version  string   `json:"version"`
	Revision string   `json:"revision,omitempty"`
	Time     jsonTime `json:"time,omitzero"`
	Modified bool     `json:"modified"`
	Go       string   `json:"go"`
	Platform string   `json:"platform"`
}

// Run prints the version.
func (c *VersionCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("version")
	asJSON := fs.Bool("json", false, `print {"version", "revision", "time", "modified", "go", "platform"}`)
	if err := parseNoArgs(fs, versionPage, &c.Env, args); err != nil {
		return err
	}
	v := version.Get()
	if *asJSON {
		return writeJSON(c.Stdout, versionJSON{Version: v.Version, Revision: v.Revision, Time: jsonTime(v.Time),
			Modified: v.Modified, Go: v.Go, Platform: v.Platform})
	}
	_, err := fmt.Fprintf(c.Stdout, "signet %s\n", v)
	return err
}
