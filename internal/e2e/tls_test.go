package e2e_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/testenv"
)

// selfSigned writes a certificate and key for 127.0.0.1 and returns the
// files and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS: an HTTPS listener from certificate files speaks HTTP/2, a link
// signed for https works there and one signed for http does not, and a
// redirect_to_https listener sends viewers to https while passing ACME
// http-01 challenges to the ACME manager.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
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
