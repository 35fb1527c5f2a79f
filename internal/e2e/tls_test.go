package e2e_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/testenv"
)

// TestTLS: an HTTPS listener from certificate files speaks HTTP/2, a link
// signed for https works there and one signed for http does not, and a
// redirect_to_https listener sends viewers to https while passing ACME
// http-01 challenges to the ACME manager.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := testenv.SelfSigned(t, dir)
	writeFiles(t, filepath.Join(dir, "files"), map[string]string{"a.txt": "over TLS"})
	k := loadTestKey(t, "p256", "")
	tlsAddr, plainAddr, acmeAddr := testenv.FreeAddr(t), testenv.FreeAddr(t), testenv.FreeAddr(t)
	cfg := fmt.Sprintf(`
listeners:
  - address: %s
    tls: {cert_file: %s, key_file: %s}
  - address: %s
    redirect_to_https: true
  - address: %s
    acme:
      hosts: [media.example.test]
      directory_url: https://127.0.0.1:1/directory
key_groups:
  main: [{id: %s, public_key_file: %s}]
distributions:
  - name: tls
    origin: {type: dir, dir: {path: %s}}
    behaviors:
      - path: "*"
        key_groups: [main]
        viewer_protocol: https-only
`, tlsAddr, certFile, keyFile, plainAddr, acmeAddr, k.id, k.pubFile, filepath.Join(dir, "files"))
	cfgFile := filepath.Join(dir, "signet.yaml")
	os.WriteFile(cfgFile, []byte(cfg), 0o644)
	startSignet(t, tlsAddr, "", nil, "serve", "--config", cfgFile)

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	s := k.cfSigner(t, cfsign.SHA256)
	u, err := s.SignCanned("https://"+tlsAddr+"/a.txt", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, client, "GET", u, "")
	if resp.StatusCode != 200 || string(body) != "over TLS" || resp.Proto != "HTTP/2.0" {
		t.Errorf("https link over TLS = %d %q %s; want 200 over HTTP/2.0", resp.StatusCode, body, resp.Proto)
	}
	// A link signed for http:// names another resource: refused over TLS.
	httpLink, _ := s.SignCanned("http://"+tlsAddr+"/a.txt", time.Now().Add(time.Hour))
	resp, body = do(t, client, "GET", strings.Replace(httpLink, "http://", "https://", 1), "")
	wantXML(t, "http link over https", resp, body, cfsign.AccessDenied)

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ = do(t, noFollow, "GET", "http://"+plainAddr+"/a.txt?x=1", "")
	if loc := resp.Header.Get("Location"); resp.StatusCode != 301 || loc != "https://127.0.0.1/a.txt?x=1" {
		t.Errorf("redirect listener = %d Location %q; want 301 to https://127.0.0.1/a.txt?x=1", resp.StatusCode, loc)
	}
	resp, _ = do(t, noFollow, "GET", "http://"+plainAddr+"/.well-known/acme-challenge/token", "")
	if resp.StatusCode == 301 {
		t.Errorf("ACME http-01 challenge was redirected; want it answered by the ACME manager")
	}
}
