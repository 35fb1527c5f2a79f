package access_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/access"
)

func TestViewer(t *testing.T) {
	proxies := access.Proxies{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name   string
		peer   string // "" is no IP peer
		scheme string
		hdr    http.Header
		client string // "" is an invalid address
		want   string // scheme
	}{
		{"no ip peer", "", "http", http.Header{"X-Forwarded-For": {"203.0.113.7"}}, "", "http"},
		{"untrusted keeps tls", "203.0.113.9", "https", http.Header{"X-Forwarded-Proto": {"http"}}, "203.0.113.9", "https"},
		{"mapped peer", "::ffff:10.1.2.3", "http", http.Header{"X-Forwarded-For": {"203.0.113.7"}}, "203.0.113.7", "http"},
		{"zoned peer", "fd00::1%eth0", "http", http.Header{"X-Forwarded-For": {"2001:db8::1%lo"}}, "2001:db8::1", "http"},
		{"no header", "10.0.0.1", "https", nil, "10.0.0.1", "https"},
		{"proto downgrade", "10.0.0.1", "https", http.Header{"X-Forwarded-Proto": {" Http "}}, "10.0.0.1", "http"},
		{"empty hops", "10.0.0.1", "http", http.Header{"X-Forwarded-For": {", 203.0.113.7,,"}}, "203.0.113.7", "http"},
		{"bracketed v6 port", "10.0.0.1", "http", http.Header{"X-Forwarded-For": {"[2001:db8::2]:80"}}, "2001:db8::2", "http"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var peer netip.Addr
			if tc.peer != "" {
				peer = netip.MustParseAddr(tc.peer)
			}
			asked := false
			ip, scheme := proxies.Viewer(peer, tc.scheme, func(name string) []string {
				asked = true
				return tc.hdr.Values(name)
			})
			got := ""
			if ip.IsValid() {
				got = ip.String()
			}
			if got != tc.client || scheme != tc.want {
				t.Errorf("Viewer(%s) = %q, %s; want %q, %s", tc.peer, got, scheme, tc.client, tc.want)
			}
			if asked && !strings.HasPrefix(tc.peer, "10.") && !strings.HasPrefix(tc.peer, "::ffff:10.") && !strings.HasPrefix(tc.peer, "fd00:") {
				t.Errorf("Viewer(%s) read the headers of an untrusted peer", tc.peer)
			}
		})
	}
}

func TestStem(t *testing.T) {
	long := "/" + strings.Repeat("a", 2000)
	for _, tc := range []struct{ target, want string }{
		{"/a/b.txt?Signature=x&Policy=y", "/a/b.txt"},
		{"/a%20b", "/a%20b"},
		{long + "?q", long[:access.MaxStem] + "..."},
	} {
		if got := access.Stem(tc.target); got != tc.want {
			t.Errorf("Stem(%.40q) = %.40q; want %.40q", tc.target, got, tc.want)
		}
	}
}

func TestLogLevel(t *testing.T) {
	for _, tc := range []struct {
		status int
		result string
		failed bool
		want   string
	}{
		{200, edge.ResultAllow, false, "INFO"},
		{403, edge.ResultDeny, false, "INFO"},
		{502, edge.ResultOriginError, false, "ERROR"},
		{edge.StatusClientClosed, edge.ResultClientClosed, false, "INFO"},
		{200, edge.ResultOriginError, true, "ERROR"},
		{200, edge.ResultClientClosed, true, "INFO"},
	} {
		var buf bytes.Buffer
		access.Log(t.Context(), slog.New(slog.NewTextHandler(&buf, nil)), &access.Record{Status: tc.status, Result: tc.result}, tc.failed)
		if got := buf.String(); !strings.Contains(got, "level="+tc.want+" msg=request") {
			t.Errorf("Log(%d %s failed=%v) = %q; want level %s", tc.status, tc.result, tc.failed, got, tc.want)
		}
	}
	access.Log(t.Context(), nil, &access.Record{}, false) // no logger: nothing, no panic
}
