// Package nethttp serves an edge.Edge with net/http: it turns each request
// into the facts edge.Decide needs, writes the plan back, and logs one
// access record. It holds no policy of its own; every answer comes from the
// plan.
package nethttp

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/edge"
)

// Options tune the handler.
type Options struct {
	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed. The client IP is then the right-most
	// X-Forwarded-For address that is not itself a trusted proxy, and the
	// scheme the first X-Forwarded-Proto value ("http" or "https"). From any
	// other peer both headers are ignored.
	TrustedProxies []netip.Prefix
	// Logger receives one access record per request (see AccessRecord for
	// the attributes): at Info, or Error for 5xx and failed bodies. Nil
	// means no access log.
	Logger *slog.Logger
	// Observer, if set, is told about every request, for metrics.
	Observer Observer
}

// AccessRecord describes one finished request, as logged: CloudFront-like
// fields, never credentials. URIStem is the raw path without the query, so
// it never holds a signature or policy.
type AccessRecord struct {
	Start     time.Time  // when the request arrived
	ClientIP  netip.Addr // proxy-aware
	Method    string
	Scheme    string        // "http" or "https", proxy-aware
	Protocol  string        // "HTTP/1.1", "HTTP/2.0"
	Host      string        // as received
	URIStem   string        // the raw path, at most maxStem bytes
	Status    int           // as sent
	Bytes     int64         // body bytes written
	TimeTaken time.Duration // from arrival to the last byte written
	// Result, KeyID, Distribution and Behavior are the plan's; Reason is
	// the text of its Reason, "" if none.
	Result, KeyID, Distribution, Behavior, Reason string
}

// Observer is told about each request once its response is written.
// Implementations must be safe for concurrent use and must not keep p.
type Observer interface {
	Observe(p *edge.Plan, rec *AccessRecord)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(p *edge.Plan, rec *AccessRecord)

// Observe calls f.
func (f ObserverFunc) Observe(p *edge.Plan, rec *AccessRecord) { f(p, rec) }

// maxStem bounds the logged path; targets may be 8 KiB.
const maxStem = 1024

// handler is the http.Handler NewHandler returns. It is safe for
// concurrent use.
type handler struct {
	edge    *edge.Edge
	trusted []netip.Prefix
	log     *slog.Logger
	obs     Observer
}

// NewHandler returns an http.Handler that answers every request with e.
// Non-origin-form targets (absolute-form, "*", CONNECT's authority) reach
// the edge as they are and get its 400 for a path not starting with '/'.
func NewHandler(e *edge.Edge, opts Options) http.Handler {
	h := &handler{edge: e, trusted: opts.TrustedProxies, log: opts.Logger, obs: opts.Observer}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ctx := r.Context()
	req := h.request(r)
	plan := h.edge.Decide(ctx, req)

	dst := w.Header()
	for k, v := range plan.Header {
		dst[k] = v
	}
	w.WriteHeader(plan.Status)
	n, err := plan.WriteBody(ctx, w)

	rec := &AccessRecord{
		Start: start, ClientIP: req.ClientIP, Method: req.Method, Scheme: req.Scheme, Protocol: r.Proto,
		Host: req.Host, URIStem: stem(req.Target), Status: plan.Status, Bytes: n, TimeTaken: time.Since(start),
		Result: plan.Result, KeyID: plan.KeyID, Distribution: plan.Distribution, Behavior: plan.Behavior,
	}
	if plan.Reason != nil {
		rec.Reason = plan.Reason.Error()
	}
	h.logRecord(ctx, rec, err != nil)
	if h.obs != nil {
		h.obs.Observe(plan, rec)
	}
	if err != nil && ctx.Err() == nil {
		// The status line has gone out; end the response visibly
		// incomplete rather than cleanly.
		panic(http.ErrAbortHandler)
	}
}

// request gathers the facts of r for the edge.
func (h *handler) request(r *http.Request) *edge.Request {
	req := &edge.Request{
		Method:            r.Method,
		Scheme:            "http",
		Host:              r.Host,
		Target:            r.RequestURI,
		Cookies:           r.Header.Values("Cookie"),
		Range:             r.Header.Get("Range"),
		IfRange:           r.Header.Get("If-Range"),
		IfMatch:           r.Header.Get("If-Match"),
		IfNoneMatch:       r.Header.Get("If-None-Match"),
		IfModifiedSince:   r.Header.Get("If-Modified-Since"),
		IfUnmodifiedSince: r.Header.Get("If-Unmodified-Since"),
	}
	if r.TLS != nil {
		req.Scheme = "https"
	}
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return req // not an IP peer (a test or a unix socket): no client IP
	}
	req.ClientIP = peer.Addr().Unmap().WithZone("")
	if !h.isTrusted(req.ClientIP) {
		return req
	}
	req.ClientIP = h.forwardedFor(req.ClientIP, r.Header.Values("X-Forwarded-For"))
	if proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ","); proto != "" {
		switch p := strings.ToLower(strings.TrimSpace(proto)); p {
		case "http", "https":
			req.Scheme = p
		}
	}
	return req
}

func (h *handler) isTrusted(ip netip.Addr) bool {
	for _, p := range h.trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forwardedFor walks X-Forwarded-For from the right, starting from the
// trusted peer, and returns the first address that is not a trusted proxy.
// Entries further left were written by that untrusted client and are not
// believed. An unparsable entry stops the walk at the last good address;
// a list of only trusted proxies gives its left-most one.
func (h *handler) forwardedFor(peer netip.Addr, values []string) netip.Addr {
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
		if !h.isTrusted(client) {
			return client
		}
	}
	return client
}

// stem is the raw path of a target, cut at maxStem bytes: never the query.
func stem(target string) string {
	path, _ := cfsign.SplitTarget(target)
	if len(path) > maxStem {
		return path[:maxStem] + "..."
	}
	return path
}

func (h *handler) logRecord(ctx context.Context, rec *AccessRecord, failed bool) {
	level := slog.LevelInfo
	if rec.Status >= 500 && rec.Status != edge.StatusClientClosed || failed && rec.Result == edge.ResultOriginError {
		level = slog.LevelError
	}
	if !h.log.Enabled(ctx, level) {
		return
	}
	client := ""
	if rec.ClientIP.IsValid() {
		client = rec.ClientIP.String()
	}
	h.log.LogAttrs(ctx, level, "request",
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
		slog.String("reason", rec.Reason),
	)
}
