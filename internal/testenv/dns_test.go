package testenv_test

import (
	"context"
	"net"
	"slices"
	"testing"

	"github.com/signet-dev/signet/internal/testenv"
)

// TestLoopbackDNS: any name's A record is 127.0.0.1, and it has no AAAA
// record, through Go's own DNS client over TCP.
func TestLoopbackDNS(t *testing.T) {
	addr := testenv.LoopbackDNS(t)
	r := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		},
	}
	for _, name := range []string{"media.signet.test", "a.b.example.com"} {
		ips, err := r.LookupIP(t.Context(), "ip4", name)
		if err != nil || !slices.ContainsFunc(ips, func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) }) || len(ips) != 1 {
			t.Errorf("LookupIP(ip4, %q) = %v, %v; want [127.0.0.1]", name, ips, err)
		}
		if ips, err := r.LookupIP(t.Context(), "ip6", name); len(ips) != 0 {
			t.Errorf("LookupIP(ip6, %q) = %v, %v; want none", name, ips, err)
		}
	}
}
