package testenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// PebbleVersion is the version of github.com/letsencrypt/pebble/v2 that
// scripts/install-pebble.sh builds; keep the two equal.
const PebbleVersion = "v2.10.3"

// PebbleBinary returns the Pebble ACME server that tests run: $SIGNET_PEBBLE
// when set, else the one scripts/install-pebble.sh builds under
// ${XDG_CACHE_HOME:-$HOME/.cache}/signet; "" when that is not an
// executable file.
func PebbleBinary() string {
	return cachedBinary("SIGNET_PEBBLE", "pebble-"+PebbleVersion, "pebble")
}

// PebbleOptions say where Pebble's validation authority connects to
// validate challenges: a real CA uses ports 80 and 443.
type PebbleOptions struct {
	HTTPPort int // http-01: GET http://NAME:HTTPPort/.well-known/acme-challenge/TOKEN
	TLSPort  int // tls-alpn-01: a TLS handshake with NAME:TLSPort, ALPN acme-tls/1
}

// A PebbleServer is Pebble, Let's Encrypt's ACME test CA, started for one
// test: its ACME directory and management interface listen on 127.0.0.1
// over HTTPS with a certificate made for the test (CAFile); every name it
// validates resolves to 127.0.0.1 (LoopbackDNS); it validates challenges
// for real (PEBBLE_VA_ALWAYS_VALID is never set), without its random
// pauses; and it is killed when the test ends. Its methods may be called
// concurrently.
type PebbleServer struct {
	// DirectoryURL is the ACME directory, https://127.0.0.1:PORT/dir.
	DirectoryURL string
	// CAFile is a PEM file of the certificate Pebble's HTTPS listeners
	// present: an ACME client must trust it to reach DirectoryURL. It is
	// not the CA that issues certificates (see Root).
	CAFile string

	mgmt   string       // https://127.0.0.1:PORT of the management interface
	client *http.Client // trusts CAFile
	log    *Buffer      // Pebble's stdout and stderr
}

// Pebble starts a fresh Pebble for t, validating challenges on the ports
// opts names, and waits until its directory and management interface
// answer. Without a Pebble binary (see PebbleBinary) the test skips, or
// fails when SIGNET_TEST_REQUIRE is set.
func Pebble(t testing.TB, opts PebbleOptions) *PebbleServer {
	t.Helper()
	bin := PebbleBinary()
	Need(t, "pebble (scripts/install-pebble.sh)", bin != "")
	dir := t.TempDir()
	certFile, keyFile, pool := SelfSigned(t, dir)
	p := &PebbleServer{
		CAFile: certFile,
		client: &http.Client{
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
			Timeout:   10 * time.Second,
		},
	}
	dns := LoopbackDNS(t)
	// The ports are free when picked but could be taken before Pebble
	// binds them; then Pebble exits and another pair is tried.
	var err error
	for range 3 {
		if err = p.start(t, bin, dir, certFile, keyFile, dns, opts); err == nil {
			return p
		}
	}
	t.Fatalf("starting pebble: %v\n%s", err, tail(p.log.String()))
	return nil
}

// start writes a config with new ports, runs Pebble and waits until it
// answers; on error the process is gone.
func (p *PebbleServer) start(t testing.TB, bin, dir, certFile, keyFile, dns string, opts PebbleOptions) error {
	acmeAddr, mgmtAddr := FreeAddr(t), FreeAddr(t)
	p.DirectoryURL = "https://" + acmeAddr + "/dir"
	p.mgmt = "https://" + mgmtAddr
	var cfg struct {
		Pebble map[string]any `json:"pebble"`
	}
	cfg.Pebble = map[string]any{
		"listenAddress":           acmeAddr,
		"managementListenAddress": mgmtAddr,
		"certificate":             certFile,
		"privateKey":              keyFile,
		"httpPort":                opts.HTTPPort,
		"tlsPort":                 opts.TLSPort,
		"ocspResponderURL":        "",
		"keyAlgorithm":            "ecdsa", // its CA keys: quicker to make than RSA
		// The Retry-After Pebble sends while an authorization or order
		// is pending, in seconds: the client's polling interval.
		"retryAfter": map[string]int{"authz": 1, "order": 1},
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	cfgFile := filepath.Join(dir, "pebble.json")
	if err := os.WriteFile(cfgFile, data, 0o600); err != nil {
		return err
	}

	p.log = &Buffer{}
	cmd := exec.Command(bin, "-config", cfgFile, "-dnsserver", dns)
	// A clean environment: nothing of the developer's PEBBLE_* settings
	// (PEBBLE_VA_ALWAYS_VALID above all: every challenge is validated).
	// No random pause before validating, and no nonce refused on purpose,
	// so an issuance takes about a second and does not vary by chance.
	cmd.Env = []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	proc, err := startProcess(cmd)
	if err != nil {
		return err
	}

	deadline := time.Now().Add(30 * time.Second)
	for !p.answers(t.Context()) {
		select {
		case <-proc.exited:
			return fmt.Errorf("pebble exited before it was ready: %v", proc.err)
		case <-t.Context().Done():
			proc.kill()
			return t.Context().Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			proc.kill()
			return fmt.Errorf("pebble's directory %s and management interface %s did not both answer 200 within 30s", p.DirectoryURL, p.mgmt)
		}
	}
	t.Cleanup(proc.kill)
	return nil
}

// answers reports whether the directory and the root certificate are
// served.
func (p *PebbleServer) answers(ctx context.Context) bool {
	for _, u := range []string{p.DirectoryURL, p.mgmt + "/roots/0"} {
		if _, err := p.get(ctx, u); err != nil {
			return false
		}
	}
	return true
}

// get returns the body of a 200 answer to a GET of u.
func (p *PebbleServer) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return body, nil
}

// Log returns what Pebble has logged so far.
func (p *PebbleServer) Log() string { return p.log.String() }

// Root returns the root certificate Pebble issues under, from its
// management interface. Pebble makes a new one each time it starts.
func (p *PebbleServer) Root(t testing.TB) *x509.Certificate {
	t.Helper()
	return p.cert(t, "/roots/0")
}

// Intermediate returns the certificate that signs the certificates Pebble
// issues, from its management interface.
func (p *PebbleServer) Intermediate(t testing.TB) *x509.Certificate {
	t.Helper()
	return p.cert(t, "/intermediates/0")
}

func (p *PebbleServer) cert(t testing.TB, path string) *x509.Certificate {
	t.Helper()
	body, err := p.get(t.Context(), p.mgmt+path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(body)
	if b == nil || b.Type != "CERTIFICATE" {
		t.Fatalf("GET %s%s: no PEM certificate in %q", p.mgmt, path, body)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatalf("GET %s%s: %v", p.mgmt, path, err)
	}
	return c
}

// Issued returns Pebble's record of the certificate with the given serial
// number, from its management interface: its status ("Valid" or
// "Revoked") and its DER bytes. A certificate Pebble did not issue gives
// "", nil.
func (p *PebbleServer) Issued(t testing.TB, serial *big.Int) (status string, der []byte) {
	t.Helper()
	u := p.mgmt + "/cert-status-by-serial/" + serial.Text(16)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", nil
	}
	var rec struct{ Status, Certificate string }
	if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v", u, resp.Status, err)
	}
	b, _ := pem.Decode([]byte(rec.Certificate))
	if b == nil {
		t.Fatalf("GET %s: no PEM certificate in %q", u, rec.Certificate)
	}
	return rec.Status, b.Bytes
}

// PortOf returns the port of a "host:port" address such as FreeAddr's.
func PortOf(t testing.TB, addr string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if _, err := fmt.Sscan(port, &n); err != nil {
		t.Fatalf("port of %q: %v", addr, err)
	}
	return n
}
