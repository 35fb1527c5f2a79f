// Package nethttp serves an edge.Edge with net/http: it turns each request
// into the facts edge.Decide needs, writes the plan back, and logs one
// access record (package access, shared with edge/fasthttp). It holds no
// policy of its own; every answer comes from the plan. Framing closes the
// connections net/http would keep open after an ambiguous HTTP/1.x request.
package nethttp

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/access"
)

// Options tune the handler.
type Options struct {
	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (see access.Proxies.Viewer). From any
	// other peer both headers are ignored.
	TrustedProxies []netip.Prefix
	// Logger receives one access record per request (see access.Log): at
	// Info, or Error for 5xx and failed bodies. Nil means no access log.
	Logger *slog.Logger
	// Observer, if set, is told about every request, for metrics.
	Observer access.Observer
}

// handler is the http.Handler NewHandler returns. It is safe for
// concurrent use.
type handler struct {
	edge    *edge.Edge
	proxies access.Proxies
	log     *slog.Logger
	obs     access.Observer
}

// NewHandler returns an http.Handler that answers every request with e.
// Non-origin-form targets (absolute-form, "*", CONNECT's authority) reach
// the edge as they are and get its 400 for a path not starting with '/'.
// An HTTP/1.x server serves it, like every other handler, through Framing.
func NewHandler(e *edge.Edge, opts Options) http.Handler {
	return &handler{edge: e, proxies: opts.TrustedProxies, log: opts.Logger, obs: opts.Observer}
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

	rec := access.NewRecord(start, req, r.Proto, plan, n)
	access.Log(ctx, h.log, rec, err != nil)
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
	peer, _ := netip.ParseAddrPort(r.RemoteAddr) // invalid when not an IP peer (a test or a unix socket)
	req.ClientIP, req.Scheme = h.proxies.Viewer(peer.Addr(), req.Scheme, r.Header.Values)
	return req
}

// Framing wraps h, the handler of an HTTP/1.x server, so that the
// connection closes after each request whose framing net/http accepts but
// RFC 9112 says must not be trusted for the next request, since a proxy in
// front may have framed it differently (request smuggling):
//
//   - A chunked request. net/http lets Transfer-Encoding override a
//     Content-Length and keeps the connection open, where §6.3 requires
//     closing it; it deletes the Content-Length before any handler runs,
//     so every chunked request closes. The edge reads no request body and
//     viewers do not send chunked ones.
//   - An HTTP/1.0 request. net/http ignores, and deletes, a
//     Transfer-Encoding on HTTP/1.0 and keeps a "Connection: keep-alive"
//     connection open, where §6.1 requires closing it; since the header is
//     gone, every HTTP/1.0 connection closes after its answer.
//
// net/http refuses the other ambiguous framings itself (400, or 501 for a
// transfer coding other than chunked) and closes; HTTP/2 has no such
// framing and is passed through as it is.
func Framing(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && (r.ProtoMinor == 0 || len(r.TransferEncoding) > 0) {
			w.Header().Set("Connection", "close")
		}
		h.ServeHTTP(w, r)
	})
}
