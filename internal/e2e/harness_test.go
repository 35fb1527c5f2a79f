// Package e2e_test runs a real `signet serve` process and talks to it over
// HTTP, as a viewer and as an operator would: the binary is built once in
// TestMain, each test writes its own config and data, starts the process on
// free loopback ports and stops it with SIGTERM.
package e2e_test

import (
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/testenv"
)

var signetBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "signet-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	signetBin = filepath.Join(dir, "signet")
	build := exec.Command("go", "build", "-o", signetBin, "./cmd/signet")
	build.Dir = testenv.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build signet: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running `signet serve`.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr *testenv.Buffer
	base           string // http://127.0.0.1:port of the first listener
	admin          string // http://127.0.0.1:port of the admin listener, if any
	done           chan struct{}
	err            error
}

// startSignet runs signet with args and env, waits until addr accepts
// connections (and admin's /readyz answers 200 when admin is set), and
// stops the process at the end of the test.
func startSignet(t *testing.T, addr, admin string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{stdout: &testenv.Buffer{}, stderr: &testenv.Buffer{}, base: "http://" + addr, done: make(chan struct{})}
	if admin != "" {
		p.admin = "http://" + admin
	}
	p.cmd = exec.Command(signetBin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.cmd.Env = append(os.Environ(), env...)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t) })
	testenv.Wait(t, "signet to listen on "+addr, func() error {
		select {
		case <-p.done:
			t.Fatalf("signet exited early: %v\nstderr:\n%s", p.err, p.stderr)
		default:
		}
		if err := ready(addr, p.admin); err != nil {
			return fmt.Errorf("%v\nstderr:\n%s", err, p.stderr)
		}
		return nil
	})
	return p
}

// ready says why signet is not ready yet: addr refuses connections, or
// admin's /readyz (when admin is set) does not answer 200.
func ready(addr, admin string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	c.Close()
	if admin == "" {
		return nil
	}
	resp, err := http.Get(admin + "/readyz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s/readyz = %d", admin, resp.StatusCode)
	}
	return nil
}

// stop sends SIGTERM and waits for the process to exit.
func (p *proc) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
		t.Errorf("signet did not exit within 30s of SIGTERM")
	}
}

// get requests url with optional cookie header and request headers
// ("Name: value") and returns the response with its body read.
func get(t *testing.T, url string, cookie string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	return do(t, http.DefaultClient, "GET", url, cookie, headers...)
}

func do(t *testing.T, c *http.Client, method, url, cookie string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Send the path exactly as signed (net/http would re-encode some
	// paths, such as a raw "'", otherwise). An Opaque without a leading
	// "//" is sent as the origin-form target as it is.
	if i := strings.Index(url, "://"); i >= 0 {
		rest := url[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			req.URL.Opaque = strings.SplitN(rest[j:], "?", 2)[0]
		}
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Set(name, value)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// signViaAPI asks the signing API's POST /v1/sign/url at api (such as
// http://127.0.0.1:8080/_signet) for a link with the bearer token and the
// JSON body, and returns the link and the key id it was signed with. An
// answer other than 200 fails the test.
func signViaAPI(t *testing.T, api, token, body string) (url, keyID string) {
	t.Helper()
	req, _ := http.NewRequest("POST", api+"/v1/sign/url", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r struct {
		URL   string `json:"url"`
		KeyID string `json:"key_id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&r)
	if resp.StatusCode != 200 || err != nil {
		t.Fatalf("POST %s/v1/sign/url %s = %d (%v)", api, body, resp.StatusCode, err)
	}
	return r.URL, r.KeyID
}

// testKey is a committed test-only key of internal/cfsign/testdata/keys.
type testKey struct {
	name, id string
	pem      []byte
	signer   crypto.Signer
	pubFile  string
}

func loadTestKey(t *testing.T, name, id string) testKey {
	t.Helper()
	dir := filepath.Join(testenv.RepoRoot(), "internal", "cfsign", "testdata", "keys")
	pem, err := os.ReadFile(filepath.Join(dir, name+".pem"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := cfsign.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	if id == "" {
		if id, err = cfsign.KeyID(s.Public()); err != nil {
			t.Fatal(err)
		}
	}
	return testKey{name: name, id: id, pem: pem, signer: s, pubFile: filepath.Join(dir, name+".pub.pem")}
}

func (k testKey) cfSigner(t *testing.T, h cfsign.Hash) *cfsign.Signer {
	t.Helper()
	s, err := cfsign.NewSigner(k.id, k.signer, h)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeFiles creates the files (path -> content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// vmHWM returns the peak resident set size of a process, from /proc.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb)
			return kb * 1024
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
