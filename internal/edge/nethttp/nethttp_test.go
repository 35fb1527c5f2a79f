package nethttp_test

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/edgetest"
	"github.com/signet-dev/signet/internal/edge/nethttp"
)

func TestSuite(t *testing.T) {
	edgetest.Run(t, edgetest.NetHTTP, func(t *testing.T, e *edge.Edge) string {
		srv := httptest.NewServer(nethttp.Framing(nethttp.NewHandler(e, nethttp.Options{})))
		t.Cleanup(srv.Close)
		return srv.URL
	})
}

func TestAccessSuite(t *testing.T) {
	edgetest.RunAccess(t, func(t *testing.T, e *edge.Edge, o edgetest.AccessOptions) (string, func()) {
		srv := httptest.NewServer(nethttp.Framing(nethttp.NewHandler(e, nethttp.Options{
			TrustedProxies: o.TrustedProxies, Logger: o.Logger, Observer: o.Observer,
		})))
		t.Cleanup(srv.Close)
		return srv.URL, srv.Close // Close waits for the handlers, and so for their log lines
	})
}

func TestTLS(t *testing.T) {
	keys := edgetest.NewKeys(t)
	srv := httptest.NewTLSServer(nethttp.NewHandler(edgetest.DocEdge(t, keys), nethttp.Options{}))
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("server URL %q is not https", srv.URL)
	}
	resp, got := edgetest.Get(t, srv.Client(), srv.URL+"/secure/doc.txt")
	if resp.StatusCode != 200 || !bytes.Equal(got, edgetest.Doc) {
		t.Errorf("https-only over TLS = %d %q; want 200 %q", resp.StatusCode, got, edgetest.Doc)
	}
	// A link signed for https:// verifies over TLS, not over http.
	signed, err := keys.Trusted.SignCanned(srv.URL+"/private/doc.txt", edgetest.Now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	resp, got = edgetest.Get(t, srv.Client(), signed)
	if resp.StatusCode != 200 || !bytes.Equal(got, edgetest.Doc) {
		t.Errorf("https link over TLS = %d %q; want 200", resp.StatusCode, got)
	}
	plain := httptest.NewServer(srv.Config.Handler)
	defer plain.Close()
	signed, err = keys.Trusted.SignCanned("https://"+strings.TrimPrefix(plain.URL, "http://")+"/private/doc.txt", edgetest.Now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	_, query := cfsign.SplitTarget(signed)
	resp, got = edgetest.Get(t, plain.Client(), plain.URL+"/private/doc.txt?"+query)
	if resp.StatusCode != 403 || !bytes.Equal(got, cfsign.AccessDenied.XML()) {
		t.Errorf("https link over http = %d %q; want 403 AccessDenied", resp.StatusCode, got)
	}
}
