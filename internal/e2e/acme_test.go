package e2e_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/testenv"
)

// TestACME has a real `signet serve` obtain its certificate from Pebble,
// Let's Encrypt's ACME test CA, which validates the challenge for real,
// once through each challenge type signet answers, and then serve a signed
// link over HTTPS with that certificate to a client that trusts only
// Pebble's root.
//
// autocert always tries tls-alpn-01 first and falls back to http-01 only
// when a redirect_to_https listener answers it. So the tls-alpn-01 run has
// no such listener, and Pebble's http-01 port is a sink that must see no
// connection; the http-01 run has one, and Pebble's tls-alpn-01 port is a
// sink that refuses the first attempt (and must see it), as when only
// port 80 reaches the server.
func TestACME(t *testing.T) {
	for _, challenge := range []string{"tls-alpn-01", "http-01"} {
		t.Run(challenge, func(t *testing.T) { testACME(t, challenge) })
	}
}

func testACME(t *testing.T, challenge string) {
	const host = "media.signet.test"
	dir := t.TempDir()
	writeFiles(t, filepath.Join(dir, "files"), map[string]string{"a.txt": "over ACME"})
	k := loadTestKey(t, "p256", "")
	tlsAddr := testenv.FreeAddr(t)
	sink := newConnSink(t)

	listeners := fmt.Sprintf("  - address: %s\n", tlsAddr)
	opts := testenv.PebbleOptions{TLSPort: testenv.PortOf(t, tlsAddr), HTTPPort: sink.port}
	if challenge == "http-01" {
		plainAddr := testenv.FreeAddr(t)
		listeners = fmt.Sprintf("  - address: %s\n    redirect_to_https: true\n", plainAddr) + listeners
		opts = testenv.PebbleOptions{TLSPort: sink.port, HTTPPort: testenv.PortOf(t, plainAddr)}
	}
	pebble := testenv.Pebble(t, opts)
	cfg := fmt.Sprintf(`
data_dir: %s
log: {level: debug}
listeners:
%s    acme:
      hosts: [%s]
      directory_url: %s
      ca_roots_file: %s
key_groups:
  main: [{id: %s, public_key_file: %s}]
distributions:
  - name: acme
    origin: {type: dir, dir: {path: %s}}
    behaviors:
      - path: "*"
        key_groups: [main]
        viewer_protocol: https-only
`, filepath.Join(dir, "data"), listeners, host, pebble.DirectoryURL, pebble.CAFile,
		k.id, k.pubFile, filepath.Join(dir, "files"))
	cfgFile := filepath.Join(dir, "signet.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startSignet(t, tlsAddr, "", nil, "serve", "--config", cfgFile)

	root := pebble.Root(t)
	roots := x509.NewCertPool()
	roots.AddCert(root)
	client := &http.Client{
		Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: roots},
			// host resolves to signet's listener, here only.
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, tlsAddr)
			},
			ForceAttemptHTTP2: true,
		},
		// The first handshake waits while signet orders the certificate
		// and Pebble validates the challenge: a few seconds.
		Timeout: 2 * time.Minute,
	}
	link, err := k.cfSigner(t, cfsign.SHA256).SignCanned(
		fmt.Sprintf("https://%s:%d/a.txt", host, testenv.PortOf(t, tlsAddr)), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(link)
	if err != nil {
		t.Fatalf("GET the signed link over TLS: %v\npebble:\n%s\nsignet:\n%s", err, pebble.Log(), p.stderr)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || string(body) != "over ACME" {
		t.Errorf("signed link over TLS = %d %q; want 200 %q", resp.StatusCode, body, "over ACME")
	}

	// The certificate presented is the one Pebble issued for host, under
	// its intermediate and root.
	leaf := resp.TLS.PeerCertificates[0]
	if !slices.Equal(leaf.DNSNames, []string{host}) {
		t.Errorf("certificate names = %q; want [%q]", leaf.DNSNames, host)
	}
	inter := pebble.Intermediate(t)
	if err := leaf.CheckSignatureFrom(inter); err != nil || !bytes.Equal(leaf.RawIssuer, inter.RawSubject) {
		t.Errorf("certificate issued by %q (signature check: %v); want Pebble's intermediate %q", leaf.Issuer, err, inter.Subject)
	}
	if chain := resp.TLS.VerifiedChains[0]; !chain[len(chain)-1].Equal(root) {
		t.Errorf("verified chain ends at %q; want Pebble's root %q", chain[len(chain)-1].Subject, root.Subject)
	}
	if status, der := pebble.Issued(t, leaf.SerialNumber); status != "Valid" || !bytes.Equal(der, leaf.Raw) {
		t.Errorf("Pebble's record of serial %x = %q, same certificate %v; want Valid, true", leaf.SerialNumber, status, bytes.Equal(der, leaf.Raw))
	}

	// Which challenge was validated.
	t.Logf("issued through %s; connections to Pebble's other challenge port: %d", challenge, sink.count())
	const httpAttempt = "Attempting to validate w/ HTTP: http://" + host
	switch challenge {
	case "tls-alpn-01":
		if n := sink.count(); n != 0 || strings.Contains(pebble.Log(), httpAttempt) {
			t.Errorf("Pebble tried http-01 (%d connections to its http-01 port); want tls-alpn-01 only\n%s", n, pebble.Log())
		}
	case "http-01":
		if !strings.Contains(pebble.Log(), httpAttempt) {
			t.Errorf("Pebble's log has no %q; want the http-01 validation\n%s", httpAttempt, pebble.Log())
		}
		// tls-alpn-01 was tried first, at the sink, and failed there.
		testenv.Wait(t, "autocert's first attempt at Pebble's tls-alpn-01 port", func() error {
			if sink.count() == 0 {
				return errors.New("no connection to that port")
			}
			return nil
		})
	}
}

// connSink accepts connections on 127.0.0.1 and closes each at once,
// counting them: a port where a challenge fails, and a witness of whether
// the CA tried it.
type connSink struct {
	port int
	n    atomic.Int64
}

func newConnSink(t *testing.T) *connSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &connSink{port: ln.Addr().(*net.TCPAddr).Port}
	done := make(chan struct{})
	go func() { // owned by the cleanup, which closes ln and waits
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.n.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return s
}

func (s *connSink) count() int64 { return s.n.Load() }
