package e2e_test

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"debug/elf"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/testenv"
)

// TestRelease runs `make release` and `make install` as documented in
// docs/operations.md, in a copy of the source tree, and checks what they
// make. Every release binary is an ELF for its platform that is static
// (no PT_INTERP, no dynamic section), stripped (no symbol table, no
// DWARF), built with CGO_ENABLED=0 and -trimpath, and carries the version
// given to make; the one this machine can run reports that version when
// it starts and in `signet version`. SHA256SUMS holds each binary's digest. make install puts
// bin/signet, stamped with the same version, under DESTDIR/PREFIX/bin.
func TestRelease(t *testing.T) {
	for _, tool := range []string{"bash", "make", "go", "sha256sum", "install"} {
		_, err := exec.LookPath(tool)
		testenv.Need(t, tool, err == nil)
	}
	const version = "v9.8.7-e2e.1"
	dir := t.TempDir()
	copySource(t, dir)
	stdout, stderr, err := runScript(t, dir,
		"make release VERSION="+version+"\nmake install VERSION="+version+" DESTDIR=\"$PWD/root\" PREFIX=/opt/signet\n", nil)
	if err != nil {
		t.Fatalf("make release, make install: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}

	sums, err := os.ReadFile(filepath.Join(dir, "bin", "release", "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, platform := range []string{"linux/amd64", "linux/arm64"} {
		goos, goarch, _ := strings.Cut(platform, "/")
		for _, cmd := range []string{"signet", "signet-lambda"} {
			name := cmd + "-" + goos + "-" + goarch
			names = append(names, name)
			t.Run(name, func(t *testing.T) {
				path := filepath.Join(dir, "bin", "release", name)
				checkRelease(t, path, goos, goarch, version)
				if cmd == "signet-lambda" {
					checkSetting(t, path, "-tags", "lambda.norpc")
				}
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(b)
				if line := hex.EncodeToString(sum[:]) + "  " + name + "\n"; !bytes.Contains(sums, []byte(line)) {
					t.Errorf("SHA256SUMS lacks %q:\n%s", line, sums)
				}
			})
		}
	}
	if n := bytes.Count(sums, []byte("\n")); n != len(names) {
		t.Errorf("SHA256SUMS has %d lines; want %d, one per binary (%v):\n%s", n, len(names), names, sums)
	}
	if runtime.GOOS == "linux" && (runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64") {
		reportsVersion(t, filepath.Join(dir, "bin", "release", "signet-linux-"+runtime.GOARCH), version)
	}

	installed := filepath.Join(dir, "root", "opt", "signet", "bin", "signet")
	fi, err := os.Stat(installed)
	if err != nil {
		t.Fatalf("make install DESTDIR=... PREFIX=/opt/signet: %v", err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("installed %s has mode %v; want 0755", installed, fi.Mode().Perm())
	}
	reportsVersion(t, installed, version)
}

// checkRelease checks that the binary at path is a static, stripped ELF
// for goos/goarch, built with CGO_ENABLED=0 and -trimpath, holding version.
func checkRelease(t *testing.T, path, goos, goarch, version string) {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("%s is not an ELF file: %v", path, err)
	}
	defer f.Close()
	machine := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
	if f.Machine != machine || goos != "linux" {
		t.Errorf("%s is for %v; want %s/%s (%v)", path, f.Machine, goos, goarch, machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s has a %v program header; a static binary has none", path, p.Type)
		}
	}
	for _, s := range f.Sections {
		if s.Name == ".dynamic" || s.Name == ".interp" || s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			t.Errorf("%s has a %s section; want static and stripped (-ldflags '-s -w')", path, s.Name)
		}
	}
	checkSetting(t, path, "CGO_ENABLED", "0")
	checkSetting(t, path, "-trimpath", "true")
	checkSetting(t, path, "GOOS", goos)
	checkSetting(t, path, "GOARCH", goarch)
	// -trimpath keeps -ldflags out of the build info, so the stamp is
	// looked for in the binary itself.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(version)) {
		t.Errorf("%s does not hold the version %s", path, version)
	}
}

// checkSetting checks one setting of the build info Go records in the
// binary at path.
func checkSetting(t *testing.T, path, key, want string) {
	t.Helper()
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatalf("%s has no Go build info: %v", path, err)
	}
	for _, s := range bi.Settings {
		if s.Key == key {
			if s.Value != want {
				t.Errorf("%s was built with %s=%s; want %s", path, key, s.Value, want)
			}
			return
		}
	}
	t.Errorf("%s's build info has no %s; want %s", path, key, want)
}

// reportsVersion checks that the signet binary at path prints version in
// `signet version`, and names it in its "starting" record when it runs as
// a zero-config server on a free port.
func reportsVersion(t *testing.T, path, version string) {
	t.Helper()
	out, err := exec.Command(path, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "signet "+version+" ") {
		t.Errorf("%s version = %q, %v; want signet %s ...", path, out, err, version)
	}
	cmd := exec.Command(path, "serve", "--listen", testenv.FreeAddr(t), "--data-dir", t.TempDir())
	var stderr testenv.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	want := regexp.MustCompile(`"msg":"starting","version":"` + regexp.QuoteMeta(version) + `"`)
	testenv.Wait(t, path+" serve's starting record with version "+version, func() error {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("%s serve exited (%v) without a starting record with version %s\nstderr:\n%s", path, err, version, &stderr)
		default:
		}
		if !want.MatchString(stderr.String()) {
			return fmt.Errorf("stderr:\n%s", &stderr)
		}
		return nil
	})
}

// TestSystemdUnit checks packaging/signet.service with systemd's own
// tools, which run without a booted systemd: `systemd-analyze verify`
// must print nothing (it reports unknown keys and bad values, and a
// missing ExecStart binary, so ExecStart points at a built signet here),
// and `systemd-analyze security --offline` must rate the sandbox's
// exposure at 2.0 or less (of 10).
func TestSystemdUnit(t *testing.T) {
	_, err := exec.LookPath("systemd-analyze")
	testenv.Need(t, "systemd-analyze (scripts/install-test-deps.sh)", err == nil)
	unit, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "packaging", "signet.service"))
	if err != nil {
		t.Fatal(err)
	}
	const exec0 = "ExecStart=/usr/local/bin/signet "
	if !bytes.Contains(unit, []byte("\n"+exec0)) {
		t.Fatalf("packaging/signet.service has no %q line; update this test with it", exec0)
	}
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "StateDirectory=signet"} {
		if !bytes.Contains(unit, []byte("\n"+want+"\n")) {
			t.Errorf("packaging/signet.service lacks %s", want)
		}
	}
	path := filepath.Join(t.TempDir(), "signet.service")
	if err := os.WriteFile(path, bytes.Replace(unit, []byte(exec0), []byte("ExecStart="+signetBin+" "), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", "--man=no", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify packaging/signet.service: %v\n%s", err, out)
	}
	out, err = exec.Command("systemd-analyze", "security", "--offline=true", "--threshold=20", "--no-pager", path).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security --offline packaging/signet.service: %v; want an exposure of 2.0 or less\n%s", err, out)
	}
	t.Logf("%s", regexp.MustCompile(`Overall exposure level[^\n]*`).Find(out))
}
