// Package access holds what every adapter of the edge shares around the
// core's decision: who the viewer is behind trusted proxies, and the access
// record each request leaves, logged and handed to an Observer. Like the
// adapters it holds no policy; it exists so that edge/nethttp and
// edge/fasthttp gather the same facts and log the same lines.
package access

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/edge"
)

// Record describes one finished request, as logged: CloudFront-like fields,
// never credentials. URIStem is the raw path without the query, so it never
// holds a signature or policy.
type Record struct {
	Start     time.Time  // when the request arrived
	ClientIP  netip.Addr // proxy-aware
	Method    string
	Scheme    string        // "http" or "https", proxy-aware
	Protocol  string        // "HTTP/1.1", "HTTP/2.0"
	Host      string        // as received
	URIStem   string        // the raw path, at most MaxStem bytes
	Status    int           // as sent
	Bytes     int64         // body bytes written
	TimeTaken time.Duration // from arrival to the last byte written
	// Result, KeyID, Distribution and Behavior are the plan's, Cache its
	// XCache; Reason is the text of its Reason, "" if none.
	Result, KeyID, Distribution, Behavior, Cache, Reason string
}

// NewRecord returns the record of a request answered by p: the request's
// facts from req, the plan's outcome, and n body bytes written since start.
func NewRecord(start time.Time, req *edge.Request, protocol string, p *edge.Plan, n int64) *Record {
	rec := &Record{
		Start: start, ClientIP: req.ClientIP, Method: req.Method, Scheme: req.Scheme, Protocol: protocol,
		Host: req.Host, URIStem: Stem(req.Target), Status: p.Status, Bytes: n, TimeTaken: time.Since(start),
		Result: p.Result, KeyID: p.KeyID, Distribution: p.Distribution, Behavior: p.Behavior, Cache: p.XCache,
	}
	if p.Reason != nil {
		rec.Reason = p.Reason.Error()
	}
	return rec
}

// Observer is told about each request once its response is written.
// Implementations must be safe for concurrent use and must not keep p.
type Observer interface {
	Observe(p *edge.Plan, rec *Record)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(p *edge.Plan, rec *Record)

// Observe calls f.
func (f ObserverFunc) Observe(p *edge.Plan, rec *Record) { f(p, rec) }

// MaxStem bounds the logged path; targets may be 8 KiB.
const MaxStem = 1024

// Stem is the raw path of target, cut at MaxStem bytes: never the query.
func Stem(target string) string {
	path, _ := cfsign.SplitTarget(target)
	if len(path) > MaxStem {
		return path[:MaxStem] + "..."
	}
	return path
}

// Log writes rec to l as one "request" line: at Info, or at Error for a 5xx
// (other than the 499 of a viewer that left) and for a body the origin
// failed mid-way (failed, with the OriginError result). A nil l logs
// nothing.
func Log(ctx context.Context, l *slog.Logger, rec *Record, failed bool) {
	if l == nil {
		return
	}
	level := slog.LevelInfo
	if rec.Status >= 500 && rec.Status != edge.StatusClientClosed || failed && rec.Result == edge.ResultOriginError {
		level = slog.LevelError
	}
	if !l.Enabled(ctx, level) {
		return
	}
	client := ""
	if rec.ClientIP.IsValid() {
		client = rec.ClientIP.String()
	}
	l.LogAttrs(ctx, level, "request",
		slog.String("client_ip", client),
		slog.String("method", rec.Method),
		slog.String("scheme", rec.Scheme),
		slog.String("protocol", rec.Protocol),
		slog.String("host", rec.Host),
		slog.String("uri_stem", rec.URIStem),
		slog.Int("status", rec.Status),
		slog.Int64("bytes", rec.Bytes),
		slog.Float64("time_taken", rec.TimeTaken.Seconds()),
		slog.String("result", rec.Result),
		slog.String("key_id", rec.KeyID),
		slog.String("distribution", rec.Distribution),
		slog.String("behavior", rec.Behavior),
		slog.String("cache", rec.Cache),
		slog.String("reason", rec.Reason),
	)
}

// Proxies are the peers whose X-Forwarded-For and X-Forwarded-Proto are
// believed. A nil Proxies trusts nobody. Its methods may be called
// concurrently.
type Proxies []netip.Prefix

// Viewer returns the viewer's address and scheme for a request that came
// from peer over scheme ("http" or "https"). From a peer that is not a
// trusted proxy they are peer and scheme, and header is never called. From
// a trusted one, the address is the right-most X-Forwarded-For address that
// is not itself a trusted proxy (entries further left were written by that
// untrusted client and are not believed; an unparsable entry stops the walk
// at the last good address; a list of only trusted proxies gives its
// left-most one), and the scheme the first X-Forwarded-Proto value if it
// is "http" or "https". header returns every value of a request header, in
// order. Addresses are unmapped and lose their zone; an invalid peer (not
// an IP peer, such as a unix socket) gives an invalid address.
func (ps Proxies) Viewer(peer netip.Addr, scheme string, header func(name string) []string) (netip.Addr, string) {
	if !peer.IsValid() {
		return peer, scheme
	}
	client := peer.Unmap().WithZone("")
	if !ps.trusts(client) {
		return client, scheme
	}
	client = ps.forwardedFor(client, header("X-Forwarded-For"))
	var proto string
	if v := header("X-Forwarded-Proto"); len(v) > 0 {
		proto, _, _ = strings.Cut(v[0], ",")
	}
	switch p := strings.ToLower(strings.TrimSpace(proto)); p {
	case "http", "https":
		scheme = p
	}
	return client, scheme
}

func (ps Proxies) trusts(ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forwardedFor walks X-Forwarded-For from the right, starting from the
// trusted peer, and returns the first address that is not a trusted proxy.
func (ps Proxies) forwardedFor(peer netip.Addr, values []string) netip.Addr {
	hops := strings.Split(strings.Join(values, ","), ",")
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		s := strings.TrimSpace(hops[i])
		if s == "" {
			continue
		}
		ip, err := netip.ParseAddr(s)
		if err != nil {
			ap, err := netip.ParseAddrPort(s)
			if err != nil {
				return client
			}
			ip = ap.Addr()
		}
		client = ip.Unmap().WithZone("")
		if !ps.trusts(client) {
			return client
		}
	}
	return client
}
