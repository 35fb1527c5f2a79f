package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cli"
	"github.com/signet-dev/signet/internal/testenv"
)

// rfc3339UTC matches an instant as every --json output writes it.
var rfc3339UTC = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

var demoLink = regexp.MustCompile(`http://127\.0\.0\.1:\d+/welcome\.txt\?Expires=\d+&Signature=[A-Za-z0-9_~-]+&Key-Pair-Id=K[A-Z2-7]{13}&Hash-Algorithm=SHA256`)

// serveZeroConfig runs `signet serve` in-process on a free port with a data
// directory, waits for the link printed on stderr, and returns it with
// stdout, stderr and a stop func that cancels the run and returns its exit
// code.
func serveZeroConfig(t *testing.T, dataDir string) (link string, stdout, stderr *testenv.Buffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	stdout, stderr = &testenv.Buffer{}, &testenv.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- cli.Main(ctx, []string{"serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0"}, stdout, stderr)
	}()
	// The banner, on stderr, ends with the command that signs more links.
	testenv.Wait(t, "serve to print a signed link and how to sign more", func() error {
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d\nstderr: %s", code, stderr.String())
		default:
		}
		out := stderr.String()
		if link = demoLink.FindString(out); link == "" || !strings.Contains(out, "signet sign --key") {
			return fmt.Errorf("stdout:\n%s\nstderr:\n%s", stdout.String(), out)
		}
		return nil
	})
	return link, stdout, stderr, func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop after its context ended")
			return -1
		}
	}
}

// serveConfig runs `signet serve --config cfg` in-process until the test
// ends, then cancels the run and waits for it. If the test failed, serve's
// stderr is logged.
func serveConfig(t *testing.T, cfg string) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var stderr testenv.Buffer
	done := make(chan int, 1)
	go func() { done <- cli.Main(ctx, []string{"serve", "--config", cfg}, io.Discard, &stderr) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("serve's stderr:\n%s", stderr.String())
		}
	})
}

func TestServeZeroConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	link, stdout, out, stop := serveZeroConfig(t, dir)
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Hello from signet") {
		t.Errorf("GET printed link = %d %q; want 200 and the welcome file", resp.StatusCode, body)
	}
	if !strings.Contains(out.String(), "signet sign --key "+filepath.Join(dir, "keys", "private_key.pem")) {
		t.Errorf("the signing command is not printed:\n%s", out.String())
	}
	if strings.Contains(out.String(), "PRIVATE KEY") {
		t.Error("the private key was printed")
	}
	if code := stop(); code != 0 {
		t.Errorf("exit code after shutdown = %d; want 0", code)
	}
	// stdout is the access log's alone: one JSON record per request.
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["msg"] != "request" {
			t.Errorf("stdout line %q is not an access record", line)
		}
	}
	keyID := regexp.MustCompile(`Key-Pair-Id=(K[A-Z2-7]{13})`).FindStringSubmatch(link)[1]

	// A second run reuses the key and leaves edited files alone.
	if err := os.WriteFile(filepath.Join(dir, "files", "welcome.txt"), []byte("edited"), 0o644); err != nil {
		t.Fatal(err)
	}
	link2, _, _, stop2 := serveZeroConfig(t, dir)
	defer stop2()
	if !strings.Contains(link2, "Key-Pair-Id="+keyID) {
		t.Errorf("second run signs with another key: %s; want %s", link2, keyID)
	}
	resp, err = http.Get(link2)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "edited" {
		t.Errorf("second run serves %q; want the edited file", body)
	}
}

func TestServeBadConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(cfg, []byte("listeners:\n  - address: 127.0.0.1:0\n    colour: blue\ndistributions: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "serve", "--config", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, cfg+":3: listeners[0].colour") {
		t.Errorf("serve with a bad config: exit %d, stderr %q; want 2 and the problem with its line", r.code, r.stderr)
	}
	noPanic(t, r)
	wantError(t, run(t, "serve", "--config", filepath.Join(dir, "missing.yaml")), "serve", "no such file")
	wantError(t, run(t, "serve", "extra"), "serve", "unexpected argument")
	wantError(t, run(t, "serve", "--config", cfg, "--data-dir", dir), "serve", "--data-dir is for zero-config runs")
}

// TestKeysStatus runs serve with an admin listener, opens a link, and reads
// the key's use back with `signet keys status`.
func TestKeysStatus(t *testing.T) {
	dir := t.TempDir()
	k := keygen(t, "ecdsa")
	other := keygen(t, "rsa")
	files := filepath.Join(dir, "files")
	os.MkdirAll(files, 0o755)
	os.WriteFile(filepath.Join(files, "a.txt"), []byte("a"), 0o644)
	addr, admin := testenv.FreeAddr(t), testenv.FreeAddr(t)
	cfg := filepath.Join(dir, "signet.yaml")
	os.WriteFile(cfg, []byte(`
listeners: [{address: `+addr+`}]
admin: {address: `+admin+`}
log: {access_log: false}
key_groups:
  main:
    - {id: `+k.id+`, public_key_file: `+k.pub+`}
    - {id: `+other.id+`, public_key_file: `+other.pub+`}
distributions:
  - name: d
    origin: {type: dir, dir: {path: `+files+`}}
    behaviors:
      - {path: "*", key_groups: [main]}
`), 0o644)
	serveConfig(t, cfg)
	waitHTTP(t, "http://"+admin+"/readyz")

	link := signURL(t, k, "http://"+addr+"/a.txt", "--expires-in", "1h")
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Get(link + "&x=1") // denied: a parameter added after signing
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	r := mustRun(t, "keys", "status", "--admin", "http://"+admin)
	lines := strings.Split(r.stdout, "\n")
	var mine, theirs string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, k.id):
			mine = l
		case strings.HasPrefix(l, other.id):
			theirs = l
		}
	}
	if f := strings.Fields(mine); len(f) < 5 || f[1] != "main" || f[2] != "1" || f[3] != "1" || !strings.Contains(mine, "ago") && !strings.Contains(mine, "now") {
		t.Errorf("keys status line for the used key = %q; want group main, 1 allowed, 1 denied, a last-seen time", mine)
	}
	if !strings.Contains(theirs, "never") {
		t.Errorf("keys status line for the unused key = %q; want never seen", theirs)
	}
	// --admin takes admin.address as the config writes it, or a URL.
	_, port, _ := strings.Cut(admin, ":")
	for _, form := range []string{admin, "http://" + admin + "/", ":" + port, "0.0.0.0:" + port} {
		if r := mustRun(t, "keys", "status", "--admin", form); r.stdout != mustRun(t, "keys", "status", "--admin", admin).stdout {
			t.Errorf("keys status --admin %s printed\n%s; want the same as with %s", form, r.stdout, admin)
		}
	}
	r = mustRun(t, "keys", "status", "--admin", admin, "--json")
	checkJSON(t, "keys status --json", r.stdout)
	out := decodeJSON[struct {
		Keys []struct {
			KeyID     string   `json:"key_id"`
			Groups    []string `json:"groups"`
			Behaviors []string `json:"behaviors"`
			Allowed   int      `json:"allowed"`
			Denied    int      `json:"denied"`
			LastSeen  *string  `json:"last_seen"`
		} `json:"keys"`
	}](t, r.stdout)
	if len(out.Keys) != 2 || out.Keys[0].KeyID == "" {
		t.Fatalf("--json = %s; want both keys", r.stdout)
	}
	for _, k := range out.Keys {
		if k.KeyID == other.id && k.LastSeen != nil || k.KeyID != other.id && (k.LastSeen == nil || !rfc3339UTC.MatchString(*k.LastSeen)) {
			t.Errorf("--json key %s last_seen = %v; want null for the unused key, RFC 3339 UTC for the used one", k.KeyID, k.LastSeen)
		}
	}
	wantError(t, run(t, "keys", "status", "--admin", testenv.FreeAddr(t)), "keys", "reach the admin listener")
	wantError(t, run(t, "keys", "status", "--admin", "ftp://"+admin), "keys", "is not HOST:PORT or an http:// or https:// URL")
	wantError(t, run(t, "keys", "status", "--admin", "localhost"), "keys", "is not HOST:PORT (as admin.address in the config) or a URL")
	wantError(t, run(t, "keys", "rotate"), "keys", "unknown subcommand")
}

// waitHTTP waits until GET url answers 200.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	testenv.Wait(t, "200 from "+url, func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
}
