package e2e_test

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/testenv"
)

// quickStart returns the shell block under the README's "Quick start with a
// config file" heading, as a newcomer would paste it.
func quickStart(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## Quick start with a config file\n")
	if !ok {
		t.Fatal(`README.md has no "## Quick start with a config file" section`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindStringSubmatch(sec)
	if m == nil {
		t.Fatal("the README's quick start has no ```sh block")
	}
	return m[1]
}

// TestReadmeQuickStart runs the README's quick start, line for line, in a
// copy of the source tree, as a newcomer would: make build, keygen, the
// config, validate, serve in the background, sign, and curl. The only change
// is the port: 127.0.0.1:8080 becomes a free one, so the test cannot collide
// with a signet the developer is running.
func TestReadmeQuickStart(t *testing.T) {
	for _, tool := range []string{"bash", "make", "curl"} {
		_, err := exec.LookPath(tool)
		testenv.Need(t, tool, err == nil)
	}
	script := quickStart(t)
	for _, want := range []string{"make build", "keygen", "config validate --files", "serve --config", "sign ", "curl "} {
		if !strings.Contains(script, want) {
			t.Fatalf("the quick start no longer runs %q; update this test with the README\n%s", want, script)
		}
	}
	addr := testenv.FreeAddr(t)
	script = strings.ReplaceAll(script, "127.0.0.1:8080", addr)

	dir := t.TempDir()
	root := testenv.RepoRoot()
	for _, name := range []string{"Makefile", "go.mod", "go.sum", "cmd", "internal"} {
		copyTree(t, filepath.Join(root, name), filepath.Join(dir, name))
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script)
	cmd.Dir = dir
	// Its own process group, so that a serve left running by a failed step
	// is stopped with the shell (and cannot hold the output pipes open).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var stdout, stderr testenv.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Fatalf("the README's quick start failed: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	out := stdout.String()
	for _, want := range []string{
		"signet.yaml: ok",
		"hello from signet\n",
		"<Code>MissingKey</Code>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("quick start output lacks %q\nstdout:\n%s\nstderr:\n%s", want, out, &stderr)
		}
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Errorf("serve did not stop cleanly at the end of the quick start\nstderr:\n%s", &stderr)
	}
}

// copyTree copies the regular files and directories under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o644)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
}
