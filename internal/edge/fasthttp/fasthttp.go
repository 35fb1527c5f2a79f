// Package fasthttp serves an edge.Edge over plain HTTP/1.1 with
// valyala/fasthttp: signet's high-throughput data plane, chosen per
// listener. Like edge/nethttp it turns each request into the facts
// edge.Decide needs, writes the plan back as it is, streams the body with
// Plan.WriteBody and logs one access record (package access). It holds no
// policy: fasthttp's own Range, ETag, If-*, compression and default
// headers are never used. It serves no TLS and no HTTP/2; edge/nethttp
// serves those.
//
// Where it differs from edge/nethttp, the difference is in the transport:
//
//   - A request fasthttp cannot parse (a target that is neither
//     origin-form, absolute-form, "*" for OPTIONS nor CONNECT's authority, a
//     control byte in the target, a malformed header, headers over
//     Options.MaxHeaderBytes), or whose framing it takes but must not (see
//     checkFraming), never reaches the edge: it gets a short plain-text 400
//     or 431 and the connection closes, as net/http answers such requests
//     itself. It is not logged or observed, as with net/http.
//   - The body's context is cancelled when the viewer closes the connection,
//     as net/http's request context is, by a watcher that peeks at the
//     socket while Plan.WriteBody runs (see watcher). It costs a goroutine
//     and a few system calls per streamed body, about 1.5µs, so bodies
//     under 64 KiB (watchMin) are not watched: they stop at a failed write. It works on TCP
//     and unix connections on Linux and the BSDs; elsewhere, or on other
//     connections, the context is never cancelled and a body stops at the
//     first failed write. Once the viewer has sent bytes of its next
//     (pipelined) request the watch ends, as net/http's background read
//     does, so a pipelining viewer that leaves mid-body is noticed at the
//     next failed write.
//   - Edge.Decide runs unwatched: a viewer that leaves while the origin is
//     asked for the object's metadata, or while Decide opens the body's
//     first read, is noticed only once the body starts, and that origin
//     call runs to its end or its timeout. Watching every request would
//     cost the watch's goroutine and system calls on the hot path too.
//   - The request body is never read: fasthttp streams it
//     (StreamRequestBody) and, after the response, discards up to 256 KiB
//     of it or closes the connection. Trailers of a chunked request body are
//     therefore never mistaken for headers.
//   - An "Expect: 100-continue" request gets its 100 response at once.
package fasthttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	fh "github.com/valyala/fasthttp"

	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/access"
)

// DefaultMaxHeaderBytes is Options.MaxHeaderBytes when it is 0: CloudFront's
// limit, as in signet's config.
const DefaultMaxHeaderBytes = 20480

// headerSlack is what net/http reads beyond MaxHeaderBytes before it
// refuses a request (its initialReadLimitSize).
const headerSlack = 4096

// Options tune the server. The zero value serves with no timeouts, which
// only tests should do.
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
	// ErrorLog receives fasthttp's own error lines (a connection that
	// failed, a listener that stopped) at Debug. Only the line's constant
	// format is logged, never its arguments: they may hold a request
	// target, and so a signature. Nil discards them.
	ErrorLog *slog.Logger

	// ReadTimeout bounds reading one request line and its headers, from its
	// first byte (from the connection's opening for the first request).
	// fasthttp has no separate header timeout, and the edge never reads a
	// request body, so this is net/http's ReadHeaderTimeout. 0 means no
	// limit.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response, from the end of the
	// decision to the last body byte, like net/http's WriteTimeout; 0
	// means no limit, which long downloads need.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a keep-alive
	// connection; 0 means ReadTimeout.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line plus headers as net/http's
	// MaxHeaderBytes does, 4096 bytes of slack included; a larger request
	// gets 431. fasthttp's read buffer (ReadBufferSize) is that size, and
	// each open connection holds one. 0 means DefaultMaxHeaderBytes.
	MaxHeaderBytes int
}

// Server serves an edge over HTTP/1.1 on the listeners given to Serve.
// Its methods may be called concurrently.
type Server struct {
	edge        *edge.Edge
	proxies     access.Proxies
	log         *slog.Logger
	obs         access.Observer
	readTimeout time.Duration
	fast        *fh.Server

	mu     sync.Mutex
	closed bool // Shutdown or Close was called
	lns    map[net.Listener]struct{}
	conns  map[net.Conn]struct{}
}

// New returns a server answering every request with e. It listens on
// nothing until Serve.
func New(e *edge.Edge, opts Options) (*Server, error) {
	var errs []error
	if e == nil {
		errs = append(errs, errors.New("fasthttp: no edge"))
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"read timeout", opts.ReadTimeout}, {"write timeout", opts.WriteTimeout}, {"idle timeout", opts.IdleTimeout}} {
		if d.d < 0 {
			errs = append(errs, fmt.Errorf("fasthttp: %s %s is negative", d.name, d.d))
		}
	}
	if opts.MaxHeaderBytes == 0 {
		opts.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if opts.MaxHeaderBytes < 1024 {
		errs = append(errs, fmt.Errorf("fasthttp: max header bytes %d is under 1024", opts.MaxHeaderBytes))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := &Server{
		edge: e, proxies: opts.TrustedProxies, log: opts.Logger, obs: opts.Observer,
		readTimeout: opts.ReadTimeout,
		lns:         make(map[net.Listener]struct{}),
		conns:       make(map[net.Conn]struct{}),
	}
	errorLog := opts.ErrorLog
	if errorLog == nil {
		errorLog = slog.New(slog.DiscardHandler)
	}
	s.fast = &fh.Server{
		Handler:      s.serve,
		ErrorHandler: refuse,
		Logger:       fastLogger{errorLog},
		ConnState:    s.connState,

		ReadTimeout:    opts.ReadTimeout,
		WriteTimeout:   opts.WriteTimeout,
		IdleTimeout:    opts.IdleTimeout,
		ReadBufferSize: opts.MaxHeaderBytes + headerSlack,

		// The plan is the whole header set; the adapter adds only Date.
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		// The edge never reads a request body: stream it rather than
		// buffer it, and never parse it as a form.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		SecureErrorLogMessage:        true,
		CloseOnShutdown:              true,
	}
	return s, nil
}

// Serve accepts connections on ln and serves them until Shutdown or Close,
// then returns http.ErrServerClosed (as net/http's Serve does); otherwise it
// returns the error that stopped it. It closes ln on return.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return http.ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()

	err := s.fast.Serve(ln)
	ln.Close()

	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.lns, ln)
	switch {
	case s.closed:
		return http.ErrServerClosed
	case err == nil: // fasthttp's answer to a listener closed by someone else
		return fmt.Errorf("fasthttp: serve: %w", net.ErrClosed)
	}
	return fmt.Errorf("fasthttp: serve: %w", err)
}

// Shutdown stops the server gracefully: it closes the listeners, closes
// idle connections, and waits for the requests in flight to finish (a
// connection closes after its current response). If ctx ends first it
// returns ctx's error and leaves the remaining connections open, as
// net/http's Shutdown does; call Close then.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for ln := range s.lns {
		ln.Close()
	}
	s.mu.Unlock()
	err := s.fast.ShutdownWithContext(ctx)
	if errors.Is(err, net.ErrClosed) {
		err = nil // fasthttp closing the listeners closed above
	}
	return err
}

// Close stops the server at once: it closes the listeners and every
// connection, which cancels the bodies being written (and so their origin
// reads).
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	return nil
}

// connState tracks the open connections, for Close.
func (s *Server) connState(c net.Conn, state fh.ConnState) {
	switch state {
	case fh.StateNew:
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			c.Close() // accepted as Close ran
			return
		}
		s.conns[c] = struct{}{}
	case fh.StateClosed, fh.StateHijacked:
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.conns, c)
	}
}

// serve answers one request: the facts go to the edge, and its plan comes
// back as status, headers and a body, fixed or streamed.
func (s *Server) serve(ctx *fh.RequestCtx) {
	if err := checkFraming(&ctx.Request.Header); err != nil {
		refuse(ctx, err)
		ctx.SetConnectionClose()
		return
	}
	start := ctx.Time()
	req := s.request(ctx)
	// The body's watcher cancels rctx when the viewer leaves; Decide gets
	// it too, since the origin read of the body starts there.
	rctx, cancel := context.WithCancel(context.Background())
	plan := s.edge.Decide(rctx, req)

	resp := &ctx.Response
	resp.SetStatusCode(plan.Status)
	for k, vs := range plan.Header {
		for _, v := range vs {
			resp.Header.Add(k, v)
		}
	}
	proto := "HTTP/1.1"
	if !ctx.Request.Header.IsHTTP11() {
		proto = string(ctx.Request.Header.Protocol())
	}
	b := &body{s: s, conn: ctx.Conn(), plan: plan, req: req, start: start, proto: proto, ctx: rctx, cancel: cancel}
	if len(plan.Ranges) == 0 {
		// The body, if any, is the plan's fixed text. Content-Length is
		// the plan's; for HEAD fasthttp keeps it and skips the body.
		if plan.Body != nil {
			resp.SetBodyRaw(plan.Body)
		}
		b.finish(int64(len(plan.Body)), nil)
		return
	}
	// fasthttp calls b.WriteTo once the header is out, in this goroutine,
	// with a writer that enforces the length (and passes files to sendfile).
	size := int64(-1) // chunked if the plan had no length, which it always has
	if n, err := strconv.ParseInt(plan.Header.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
		size = n
	}
	b.size = size
	resp.SetBodyStream(b, int(size))
}

// request gathers the facts of ctx's request for the edge.
func (s *Server) request(ctx *fh.RequestCtx) *edge.Request {
	h := &ctx.Request.Header
	req := &edge.Request{
		Method:            method(h.Method()),
		Host:              string(h.Host()),
		Target:            string(h.RequestURI()), // as received: fasthttp refuses a target not starting with '/' but absolute-form, "*" or CONNECT's
		Range:             peek(h, fh.HeaderRange),
		IfRange:           peek(h, fh.HeaderIfRange),
		IfMatch:           peek(h, fh.HeaderIfMatch),
		IfNoneMatch:       peek(h, fh.HeaderIfNoneMatch),
		IfModifiedSince:   peek(h, fh.HeaderIfModifiedSince),
		IfUnmodifiedSince: peek(h, fh.HeaderIfUnmodifiedSince),
	}
	// Before anything asks fasthttp for cookies, the Cookie headers are
	// still the raw values as received, in order.
	req.Cookies = values(h, fh.HeaderCookie)
	var peer netip.Addr
	if a, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		peer = a.AddrPort().Addr()
	}
	req.ClientIP, req.Scheme = s.proxies.Viewer(peer, "http", func(name string) []string { return values(h, name) })
	return req
}

// peek is the first value of the header key, "" when absent.
func peek(h *fh.RequestHeader, key string) string {
	if v := h.Peek(key); len(v) > 0 {
		return string(v)
	}
	return ""
}

// values are all the values of the header key, in order; nil when absent.
func values(h *fh.RequestHeader, key string) []string {
	vs := h.PeekAll(key)
	if len(vs) == 0 {
		return nil
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// method returns the method as a string, without allocating for the
// common ones.
func method(b []byte) string {
	switch string(b) {
	case "GET":
		return "GET"
	case "HEAD":
		return "HEAD"
	case "OPTIONS":
		return "OPTIONS"
	case "POST":
		return "POST"
	}
	return string(b)
}

// body is the response body of a plan with origin ranges: fasthttp writes
// it with WriteTo, which runs Plan.WriteBody under a watch of the
// connection, and closes it once the response is written or abandoned.
// Either way the request is logged once.
type body struct {
	s      *Server
	conn   net.Conn
	plan   *edge.Plan
	req    *edge.Request
	start  time.Time
	proto  string
	ctx    context.Context // the request's, given to Decide
	cancel context.CancelFunc
	size   int64 // Content-Length, or -1
	done   bool
}

// watchMin is the smallest body that is watched. A smaller one is written
// in a few socket writes, so a watch would cost more than it could save:
// a viewer that leaves is noticed at a failed write, and an origin that
// stalls is bounded by its timeout.
const watchMin = 64 << 10

var _ fh.BodyWriterTo = (*body)(nil)

// errRead is what Read returns: fasthttp reads a body through WriteTo.
var errRead = errors.New("fasthttp: the edge's body is written by WriteTo, not read")

func (b *body) Read([]byte) (int, error) { return 0, errRead }

// SupportsBodyWriteTo tells fasthttp to use WriteTo.
func (b *body) SupportsBodyWriteTo() bool { return true }

// WriteTo writes the plan's body to w with a context that the viewer's
// leaving cancels. An error ends the response incomplete: fasthttp closes
// the connection.
func (b *body) WriteTo(w io.Writer) (int64, error) {
	var wt *watcher
	if b.size < 0 || b.size >= watchMin {
		wt = watch(b.conn, b.cancel)
	}
	n, err := b.plan.WriteBody(b.ctx, w)
	if wt != nil {
		wt.stop(b.s.readTimeout)
	}
	b.finish(n, err)
	return n, err
}

// Close ends a body fasthttp did not write, as when writing the header
// failed: the origin read Decide opened is released.
func (b *body) Close() error {
	b.plan.Close()
	b.finish(0, nil)
	return nil
}

// finish logs and observes the request once, with n body bytes written,
// and ends its context.
func (b *body) finish(n int64, err error) {
	if b.done {
		return
	}
	b.done = true
	rec := access.NewRecord(b.start, b.req, b.proto, b.plan, n)
	access.Log(b.ctx, b.s.log, rec, err != nil)
	if b.s.obs != nil {
		b.s.obs.Observe(b.plan, rec)
	}
	b.cancel()
}

// refuse answers a request fasthttp could not read: 431 for headers over
// the limit, 408 for a read timeout, 400 for anything else, as net/http
// answers such requests itself. The edge never sees them.
func refuse(ctx *fh.RequestCtx, err error) {
	status := http.StatusBadRequest
	var small *fh.ErrSmallBuffer
	var ne net.Error
	switch {
	case errors.As(err, &small):
		status = http.StatusRequestHeaderFieldsTooLarge
	case errors.As(err, &ne) && ne.Timeout():
		status = http.StatusRequestTimeout
	}
	ctx.Response.Header.Set("Cache-Control", "no-store")
	ctx.Response.Header.SetContentType("text/plain; charset=utf-8")
	ctx.SetStatusCode(status)
	ctx.SetBodyString(http.StatusText(status) + "\n")
}

// fastLogger is fasthttp's Logger: its lines go to Debug as their constant
// format only (see Options.ErrorLog).
type fastLogger struct{ l *slog.Logger }

func (f fastLogger) Printf(format string, _ ...any) {
	f.l.Debug("fasthttp error", "format", format)
}
