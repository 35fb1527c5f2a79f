package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/testenv"
)

// TestSigningAPIThroughServe creates a token with `signet token create`,
// signs a link through the API mounted on signet serve, opens it at the
// same edge, and revokes the token.
func TestSigningAPIThroughServe(t *testing.T) {
	dir := t.TempDir()
	k := keygen(t, "ecdsa")
	files := filepath.Join(dir, "files")
	os.MkdirAll(filepath.Join(files, "reports"), 0o755)
	os.WriteFile(filepath.Join(files, "reports", "q3.pdf"), []byte("report"), 0o644)
	os.WriteFile(filepath.Join(files, "secret.txt"), []byte("secret"), 0o644)
	addr := testenv.FreeAddr(t)
	cfg := filepath.Join(dir, "signet.yaml")
	os.WriteFile(cfg, []byte(`
data_dir: `+filepath.Join(dir, "data")+`
listeners: [{address: `+addr+`}]
log: {access_log: false}
key_groups:
  main: [{id: `+k.id+`, public_key_file: `+k.pub+`}]
signing_api: {path_prefix: /_signet}
distributions:
  - name: media
    origin: {type: dir, dir: {path: `+files+`}}
    behaviors:
      - {path: "*", key_groups: [main]}
    base_url: http://`+addr+`
    signer: {source: file, key_id: `+k.id+`, private_key_file: `+k.priv+`, max_lifetime: 2h}
`), 0o644)

	// A token before the server starts, another while it runs.
	secret := strings.TrimSpace(mustRun(t, "token", "create", "--config", cfg, "--name", "reports", "--scope", "media:reports/", "--max-lifetime", "1h").stdout)
	if !strings.HasPrefix(secret, "sgt_") {
		t.Fatalf("token create printed %q; want the secret", secret)
	}
	serveConfig(t, cfg)
	waitTCP(t, addr)

	post := func(secret, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", "http://"+addr+"/_signet/v1/sign/url", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set("Authorization", "Bearer "+secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, out := post(secret, `{"distribution":"media","key":"reports/q3.pdf","expires_in":600}`)
	link, _ := out["url"].(string)
	if code != 200 || link == "" || out["key_id"] != k.id {
		t.Fatalf("sign through the API = %d %v", code, out)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "report" {
		t.Errorf("GET the API's link = %d %q; want 200 report", resp.StatusCode, body)
	}
	if code, out := post(secret, `{"distribution":"media","key":"secret.txt","expires_in":600}`); code != 403 {
		t.Errorf("out-of-scope key = %d %v; want 403", code, out)
	}
	if code, out := post(secret, `{"distribution":"media","key":"reports/q3.pdf","expires_in":7200}`); code != 422 {
		t.Errorf("over the token's cap = %d %v; want 422", code, out)
	}
	if code, _ := post("", `{"distribution":"media","key":"reports/q3.pdf","expires_in":600}`); code != 401 {
		t.Errorf("no token = %d; want 401", code)
	}

	list := mustRun(t, "token", "list", "--config", cfg).stdout
	id := strings.Fields(strings.Split(list, "\n")[1])[0]
	if !strings.Contains(list, "media:reports/") || strings.Contains(list, secret) {
		t.Errorf("token list = %q; want the scope and never the secret", list)
	}
	export := mustRun(t, "token", "export", "--config", cfg).stdout
	if !strings.Contains(export, `"sha256"`) || strings.Contains(export, secret) {
		t.Errorf("token export = %q; want hashes, never the secret", export)
	}
	mustRun(t, "token", "revoke", "--config", cfg, id)
	testenv.Wait(t, "the revoked token to be refused", func() error {
		if code, out := post(secret, `{"distribution":"media","key":"reports/q3.pdf","expires_in":600}`); code != 401 {
			return fmt.Errorf("POST /v1/sign/url with the revoked token = %d %v; want 401", code, out)
		}
		return nil
	})

	wantError(t, run(t, "token", "create", "--config", cfg, "--name", "x", "--scope", "other:a/"), "token", `no distribution "other" with a signer`)
	wantError(t, run(t, "token", "create", "--config", cfg, "--scope", "media:"), "token", "--name is required")
	wantError(t, run(t, "token", "list"), "token", "give one of --config FILE and --db FILE")
	wantError(t, run(t, "token", "revoke", "--config", cfg, "nope"), "token", "no such token")
}

// waitTCP waits until an HTTP server answers on addr.
func waitTCP(t *testing.T, addr string) {
	t.Helper()
	testenv.Wait(t, "an HTTP server on "+addr, func() error {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
		}
		return err
	})
}
