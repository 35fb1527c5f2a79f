// Package testenv finds the real components integration tests run against
// (the AWS reference signers, MinIO, moto and Pebble) and applies
// SIGNET_TEST_REQUIRE: a test that needs a missing component skips on a
// developer machine but fails in CI, so CI cannot go green by skipping.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Need skips the test when what is unavailable, or fails it if
// SIGNET_TEST_REQUIRE is set.
func Need(t testing.TB, what string, available bool) {
	t.Helper()
	if available {
		return
	}
	if os.Getenv("SIGNET_TEST_REQUIRE") != "" {
		t.Fatalf("%s is required but unavailable (run scripts/install-test-deps.sh)", what)
	}
	t.Skipf("%s unavailable (run scripts/install-test-deps.sh; set SIGNET_TEST_REQUIRE to fail instead)", what)
}

// RepoRoot returns the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var python struct {
	once sync.Once
	path string
}

// Python returns the interpreter that runs interop/botocore_sign.py: the
// first of $SIGNET_PYTHON, python3 and /usr/bin/python3 that imports both
// botocore and cryptography (the order scripts/install-test-deps.sh checks),
// or "" if none does.
func Python() string {
	python.once.Do(func() {
		for _, py := range []string{os.Getenv("SIGNET_PYTHON"), "python3", "/usr/bin/python3"} {
			if py == "" {
				continue
			}
			if exec.Command(py, "-c", "import botocore, cryptography").Run() == nil {
				python.path = py
				return
			}
		}
	})
	return python.path
}

// Node returns the node binary if it is on PATH and the JS reference
// signer's modules are installed in interop/js, or "".
func Node() string {
	node, err := exec.LookPath("node")
	if err != nil {
		return ""
	}
	if _, err := os.Stat(filepath.Join(RepoRoot(), "interop", "js", "node_modules", "@aws-sdk", "cloudfront-signer")); err != nil {
		return ""
	}
	return node
}
