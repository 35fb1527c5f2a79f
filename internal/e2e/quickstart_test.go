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
	return shBlock(t, "README.md", "Quick start with a config file", 0)
}

// shBlock returns the i-th ```sh block (from 0) of the section of doc (a
// path from the repository's root) under the level-2 heading "## heading".
func shBlock(t *testing.T, doc, heading string, i int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), doc))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("%s has no %q section", doc, "## "+heading)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	m := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(sec, -1)
	if len(m) <= i {
		t.Fatalf("%s's %q section has %d ```sh blocks; want at least %d", doc, heading, len(m), i+1)
	}
	return m[i][1]
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
	copySource(t, dir)
	stdout, stderr, err := runScript(t, dir, script, nil)
	if err != nil {
		t.Fatalf("the README's quick start failed: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	out := stdout
	for _, want := range []string{
		"signet.yaml: ok",
		"hello from signet\n",
		"<Code>MissingKey</Code>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("quick start output lacks %q\nstdout:\n%s\nstderr:\n%s", want, out, stderr)
		}
	}
	if !strings.Contains(stderr, `"msg":"stopped"`) {
		t.Errorf("serve did not stop cleanly at the end of the quick start\nstderr:\n%s", stderr)
	}
}

// copySource copies what building signet needs (the Makefile, the module
// files, cmd and internal) from the repository into dir, so that a script
// run there writes nothing into the source tree.
func copySource(t *testing.T, dir string) {
	t.Helper()
	root := testenv.RepoRoot()
	for _, name := range []string{"Makefile", "go.mod", "go.sum", "cmd", "internal"} {
		copyTree(t, filepath.Join(root, name), filepath.Join(dir, name))
	}
}

// runScript runs script with bash -e -o pipefail in dir, with env as its
// environment (nil: the test's), and at most five minutes. The shell gets a
// process group of its own, killed when the script ends or times out, so a
// server a failed step left in the background stops with it (and cannot
// hold the output pipes open).
func runScript(t *testing.T, dir, script string, env []string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out, errOut testenv.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	return out.String(), errOut.String(), err
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
