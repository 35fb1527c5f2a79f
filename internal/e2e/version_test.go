package e2e_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/testenv"
)

// TestVersionFromVCS builds signet in a fresh git repository holding a copy
// of the source, as a clone would be, and checks that `signet version`
// reports the commit it was built from, then that an uncommitted change
// and a version stamped at link time show. (This checkout may be a git
// worktree, whose .git file the Go toolchain does not read as VCS, and
// the machine may set -buildvcs=false: the test passes -buildvcs=true.)
func TestVersionFromVCS(t *testing.T) {
	for _, tool := range []string{"git", "go"} {
		_, err := exec.LookPath(tool)
		testenv.Need(t, tool, err == nil)
	}
	dir := t.TempDir()
	root := testenv.RepoRoot()
	for _, name := range []string{"go.mod", "go.sum", "cmd", "internal"} {
		copyTree(t, filepath.Join(root, name), filepath.Join(dir, name))
	}
	sh := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
			"GIT_AUTHOR_DATE=2026-01-01T12:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T12:00:00Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	sh("git", "init", "-q")
	sh("git", "add", ".")
	sh("git", "commit", "-q", "-m", "test")
	rev := sh("git", "rev-parse", "HEAD")
	bin := filepath.Join(dir, "signet")
	build := func(extra ...string) {
		t.Helper()
		sh("go", append(append([]string{"build", "-buildvcs=true", "-trimpath"}, extra...), "-o", bin, "./cmd/signet")...)
	}

	build()
	var v struct {
		Version, Revision, Time, Go, Platform string
		Modified                              bool
	}
	if err := json.Unmarshal([]byte(sh(bin, "version", "--json")), &v); err != nil {
		t.Fatal(err)
	}
	if v.Revision != rev || v.Modified || v.Time != "2026-01-01T12:00:00Z" || !strings.HasPrefix(v.Version, "v0.0.0-20260101120000-"+rev[:12]) {
		t.Errorf("signet version --json = %+v; want revision %s, unmodified, commit time 2026-01-01T12:00:00Z and its pseudo-version", v, rev)
	}
	line := sh(bin, "version")
	if want := "signet " + v.Version + " (" + rev[:12] + ", 2026-01-01T12:00:00Z) " + v.Go + " " + v.Platform; line != want {
		t.Errorf("signet version = %q; want %q", line, want)
	}
	if got := sh(bin, "--version"); got != line {
		t.Errorf("signet --version = %q; want %q", got, line)
	}

	// An uncommitted change.
	if err := os.WriteFile(filepath.Join(dir, "cmd", "signet", "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	build()
	if line := sh(bin, "version"); !strings.Contains(line, "+dirty") || !strings.Contains(line, rev[:12]+", 2026-01-01T12:00:00Z, modified)") {
		t.Errorf("signet version after a change = %q; want a +dirty version and \"modified\"", line)
	}

	// A version stamped at link time wins over the derived one.
	build("-ldflags", "-X github.com/signet-dev/signet/internal/version.stamp=v9.8.7")
	if line := sh(bin, "version"); !strings.HasPrefix(line, "signet v9.8.7 ("+rev[:12]) {
		t.Errorf("signet version with a stamp = %q; want v9.8.7 and the revision", line)
	}
}
