package edge

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/origin"
)

// Request holds the facts of one viewer request that Decide needs, as the
// adapter received them. Header fields hold the first value of their header,
// "" when absent.
type Request struct {
	// Method is the request method, such as "GET".
	Method string
	// Scheme is "https" when the viewer connection is TLS (or a trusted
	// proxy says it was), otherwise "http".
	Scheme string
	// Host is the Host header (HTTP/2 :authority) as received.
	Host string
	// Target is the raw request target exactly as received, such as
	// r.RequestURI in net/http: no decoding, re-encoding or dot removal.
	Target string
	// ClientIP is the viewer address, proxy-aware.
	ClientIP netip.Addr
	// Cookies are the Cookie header values, in order.
	Cookies []string

	Range, IfRange, IfMatch, IfNoneMatch, IfModifiedSince, IfUnmodifiedSince string
}

// The values of Plan.Result: a small fixed set, fit for a metrics label.
const (
	// ResultAllow: the request was authorised and answered from the
	// object's metadata or bytes: 200, 204 (OPTIONS), 206, 304, 412, 416.
	ResultAllow = "Allow"
	// ResultRedirect: 301 to https (viewer protocol) or 302 to a presigned
	// URL (redirect mode).
	ResultRedirect = "Redirect"
	// ResultDeny: 403, a signature check failed (CloudFront XML) or the
	// behavior requires https.
	ResultDeny = "Deny"
	// ResultNotFound: 404, no such object or no behavior for the path.
	ResultNotFound = "NotFound"
	// ResultBadRequest: 400, 405, 414 or 421, the request itself is wrong.
	ResultBadRequest = "BadRequest"
	// ResultOriginError: 502 or 504, the origin failed or timed out; also
	// set by WriteBody when the origin fails mid-body.
	ResultOriginError = "OriginError"
	// ResultClientClosed: the viewer went away (its context was cancelled)
	// before the answer was known (status 499, as nginx logs it) or while
	// the body was written.
	ResultClientClosed = "ClientClosed"
)

// StatusClientClosed is the status of a plan whose viewer went away before
// the answer was known. Nobody receives it; it is for logs and metrics.
const StatusClientClosed = 499

// The edge's private reasons for a refusal. Plan.Reason wraps one of them,
// a *cfsign.Error (signature checks), or an origin error.
var (
	ErrTargetTooLong       = errors.New("edge: request target too long")
	ErrUnsafePath          = errors.New("edge: unsafe request path")
	ErrBadHost             = errors.New("edge: malformed Host")
	ErrUnknownHost         = errors.New("edge: no distribution for this host")
	ErrNoBehavior          = errors.New("edge: no behavior matches the path")
	ErrMethodNotAllowed    = errors.New("edge: method not allowed")
	ErrHTTPSRequired       = errors.New("edge: behavior requires https")
	ErrPreconditionFailed  = errors.New("edge: precondition failed")
	ErrRangeNotSatisfiable = errors.New("edge: range not satisfiable")
)

// Decide answers one viewer request with a plan: it does the steps of §13
// and §12 of the signing spec, then HTTP's conditional and range logic. In
// order:
//
//  1. A target over 8192 bytes gets 414. A target holding control bytes or
//     spaces, a path that cfsign.CheckPath refuses (dot segments, %2F, %5C,
//     backslash, NUL, //) or a bad %-escape gets 400.
//  2. The Host chooses the distribution (see Distribution.Hosts); a Host with
//     bytes no host name has gets 400. A host no distribution serves gets
//     421 Misdirected Request: a plain answer that no site lives here,
//     rather than CloudFront's branded 403, which would be confused with a
//     signature failure.
//  3. The first behavior whose pattern matches the raw path applies; none
//     gives 404. A method it does not allow gets 405 with Allow.
//  4. The viewer protocol: https-only answers 403 over http, and
//     redirect-to-https answers 301 to https://host (without the port)
//     with the same target.
//  5. A behavior with a Verifier checks the signed URL or cookies; a
//     failure gets 403 text/xml with CloudFront's exact body.
//  6. OPTIONS, if allowed, gets 204 with Allow.
//  7. The object key is the behavior's OriginPath plus the raw path,
//     percent-decoded once, without its leading '/'. The query, and so
//     every signing parameter, is never part of it. A key that is empty or
//     ends in '/' is a directory: 404, and the origin is not asked.
//  8. Stat: not found gives 404, an invalid key 400, a timeout 504, any
//     other failure 502, and a cancelled viewer ClientClosed; no origin
//     detail reaches the viewer.
//  9. Redirect mode answers 302 to a presigned URL with Cache-Control:
//     no-store. Proxy mode evaluates If-Match, If-Unmodified-Since,
//     If-None-Match, If-Modified-Since, If-Range and Range exactly as
//     http.ServeContent does (see parseRange for the two differences) and
//     plans a 200, 206, 304, 412 or 416.
//
// Refusals (status >= 400) carry a short plain-text body, or the CloudFront
// XML, and Cache-Control: no-store. Responses behind signed links carry
// Cache-Control: private, max-age=N, where N never exceeds the policy's
// remaining lifetime (§12), so a browser cache never outlives the link;
// public behaviors pass the origin's Cache-Control and Expires through.
//
// req must not be nil. Decide is safe for concurrent use; it does not read
// the body or write anything.
func (e *Edge) Decide(ctx context.Context, req *Request) *Plan {
	p := &Plan{Header: make(http.Header)}
	if err := e.decide(ctx, req, p); err != nil {
		e.refuse(ctx, req, p, err)
	}
	if p.edgeCached {
		p.setXCache()
	}
	p.set("X-Content-Type-Options", "nosniff")
	return p
}

// setXCache sets X-Cache, and Plan.XCache, from what the edge cache
// recorded: CloudFront's words, with "from signet". As CloudFront does, any
// refusal says Error, including those decided before the cache was asked.
func (p *Plan) setXCache() {
	o := p.edgeCacheRec.Outcome()
	if p.Status >= 400 {
		o = origin.Error
	}
	if o == origin.NoOutcome {
		return // a redirect or an OPTIONS answer, decided without the cache
	}
	p.XCache = o.String()
	p.set("X-Cache", p.XCache+" from signet")
}

func (e *Edge) decide(ctx context.Context, req *Request, p *Plan) error {
	path, name, err := checkTarget(req.Target)
	if err != nil {
		return err
	}
	host := strings.ToLower(req.Host)
	if !validHost(host) {
		return fmt.Errorf("%w: %.64q", ErrBadHost, req.Host)
	}
	d := e.distribution(host)
	if d == nil {
		return fmt.Errorf("%w: %.64q", ErrUnknownHost, host)
	}
	p.Distribution = d.name
	p.edgeCached = d.edgeCached
	b := d.behavior(path)
	if b == nil {
		return ErrNoBehavior
	}
	p.Behavior = b.name
	if d.edgeCached {
		ctx = origin.WithRecorder(ctx, &p.edgeCacheRec)
	}
	if !b.methods[req.Method] {
		p.set("Allow", b.allow)
		return fmt.Errorf("%w: %.16q (allowed: %s)", ErrMethodNotAllowed, req.Method, b.allow)
	}
	if req.Scheme != "https" {
		switch b.protocol {
		case HTTPSOnly:
			return ErrHTTPSRequired
		case RedirectToHTTPS:
			return redirectHTTPS(p, host, req.Target)
		}
	}
	expires, err := verify(b, req, p)
	if err != nil {
		return err
	}
	if req.Method == http.MethodOptions {
		p.Status, p.Result = http.StatusNoContent, ResultAllow
		p.set("Allow", b.allow)
		return nil
	}
	key := b.prefix + name
	if err := p.stat(ctx, b.origin, key); err != nil {
		return err
	}
	if b.presigner != nil {
		return redirectPresigned(ctx, p, b, p.obj)
	}
	if err := e.planObject(req, p, key, expires); err != nil {
		return err
	}
	return p.openFirst(ctx)
}

// checkTarget checks a request target's length, bytes and path, and
// returns its path and the unescaped name the object key is made of.
func checkTarget(target string) (path, name string, err error) {
	if n := len(target); n > cfsign.MaxURLLength {
		return "", "", fmt.Errorf("%w: %d bytes, over %d", ErrTargetTooLong, n, cfsign.MaxURLLength)
	}
	if i := indexControl(target); i >= 0 {
		return "", "", fmt.Errorf("%w: control byte or space at offset %d", ErrUnsafePath, i)
	}
	path, _ = cfsign.SplitTarget(target)
	if err := cfsign.CheckPath(path); err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrUnsafePath, err)
	}
	name, err = unescape(path[1:])
	if err != nil {
		return "", "", fmt.Errorf("%w: %w", ErrUnsafePath, err)
	}
	return path, name, nil
}

// verify checks the request's signed URL or cookies against b's trusted
// keys and returns the link's expiry; the zero time for a public behavior.
// It records the key pair id in the plan when the behavior trusts it.
func verify(b *behavior, req *Request, p *Plan) (time.Time, error) {
	if b.verifier == nil {
		return time.Time{}, nil
	}
	res, err := b.verifier.Verify(&cfsign.Request{
		Scheme: req.Scheme, Host: req.Host, Target: req.Target,
		Cookies: req.Cookies, ClientIP: req.ClientIP,
	})
	if code := cfsign.CodeOf(err); code != cfsign.MissingKey && code != cfsign.InvalidKey {
		p.KeyID = res.KeyID // a trusted id: safe as a metrics label
	}
	if err != nil {
		return time.Time{}, err
	}
	return res.Policy.ExpiresTime(), nil
}

// stat asks o for the object at key and makes it the plan's object.
func (p *Plan) stat(ctx context.Context, o origin.Origin, key string) error {
	if key == "" || strings.HasSuffix(key, "/") {
		return fmt.Errorf("edge: %q is a directory, not an object: %w", key, fs.ErrNotExist)
	}
	info, err := o.Stat(ctx, key)
	if err != nil {
		return fmt.Errorf("stat %q: %w", key, err)
	}
	if info.Size < 0 {
		return fmt.Errorf("stat %q: origin reported size %d", key, info.Size)
	}
	if info.Key == "" {
		info.Key = key
	}
	p.obj = info
	p.Origin, p.Object = o, &p.obj
	return nil
}

// openFirst opens the origin read of the plan's first range before any
// header is written, so that an origin that fails before its first byte
// gets the viewer a clean 502 or 504 rather than a cut body, and so that
// an edge cache has said whether the bytes were cached (X-Cache) by the
// time the headers go out. WriteBody reads it, or Close releases it.
func (p *Plan) openFirst(ctx context.Context) error {
	if len(p.Ranges) == 0 {
		return nil
	}
	r := p.Ranges[0]
	rc, err := p.Origin.Open(ctx, *p.Object, r.Off, r.Len)
	if err != nil {
		for _, k := range []string{"Etag", "Last-Modified", "Accept-Ranges", "Content-Range"} {
			p.Header.Del(k)
		}
		return fmt.Errorf("open %q at %d: %w", p.Object.Key, r.Off, err)
	}
	p.first = rc
	return nil
}

// indexControl returns the offset of the first control byte, space or DEL
// in s, or -1. Bytes of UTF-8 sequences are all 0x80 or more, so a byte
// loop finds what a rune loop would, faster.
func indexControl(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return i
		}
	}
	return -1
}

// unescape percent-decodes a raw path once. '+' stays '+'.
func unescape(s string) (string, error) {
	if strings.IndexByte(s, '%') < 0 {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
			return "", fmt.Errorf("bad escape %.3q", s[i:])
		}
		b = append(b, byte(unhex(s[i+1])<<4|unhex(s[i+2])))
		i += 2
	}
	return string(b), nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// redirectHTTPS plans the 301 of a redirect-to-https behavior. The port is
// dropped: the https listener's port is not known here, and 443 is the one
// CloudFront uses.
func redirectHTTPS(p *Plan, host, target string) error {
	host = StripPort(host)
	if host == "" {
		return fmt.Errorf("%w: empty, cannot redirect to https", ErrBadHost)
	}
	p.Status, p.Result = http.StatusMovedPermanently, ResultRedirect
	p.set("Location", "https://"+host+target)
	p.set("Content-Length", "0")
	return nil
}

// redirectPresigned plans the 302 of redirect mode.
func redirectPresigned(ctx context.Context, p *Plan, b *behavior, info origin.Info) error {
	u, err := b.presigner.Presign(ctx, info, b.ttl)
	if err != nil {
		return fmt.Errorf("presign %q: %w", info.Key, err)
	}
	if headerValue(u) != u || u == "" {
		return fmt.Errorf("presign %q: origin returned an unusable URL", info.Key)
	}
	p.Status, p.Result = http.StatusFound, ResultRedirect
	p.set("Location", u)
	p.set("Cache-Control", "no-store")
	p.set("Content-Length", "0")
	return nil
}

// refuse turns err into the plan's status, result and fixed body. It is the
// only place that maps errors to statuses (through statusOf) and chooses
// what the viewer sees: the CloudFront XML for signature failures, the
// status text otherwise, never the cause.
func (e *Edge) refuse(ctx context.Context, req *Request, p *Plan, err error) {
	p.Status, p.Result = statusOf(ctx, err)
	p.Reason = err
	h := p.Header
	if ce, ok := errors.AsType[*cfsign.Error](err); ok {
		p.Body = ce.Code.XML()
		p.set("Content-Type", "text/xml")
	} else {
		text := http.StatusText(p.Status)
		if p.Status == StatusClientClosed {
			text = "Client Closed Request"
		}
		p.Body = []byte(text + "\n")
		p.set("Content-Type", "text/plain; charset=utf-8")
	}
	p.set("Content-Length", strconv.Itoa(len(p.Body)))
	p.set("Cache-Control", "no-store")
	h.Del("Expires")
	if e.debug {
		p.set("X-Signet-Reason", debugReason(err))
	}
	if req.Method == http.MethodHead {
		p.Body = nil
	}
	p.Ranges, p.Boundary = nil, ""
}

// statusOf maps a refusal's reason to its status and result.
func statusOf(ctx context.Context, err error) (int, string) {
	_, denied := errors.AsType[*cfsign.Error](err)
	timeout, isTimeout := errors.AsType[interface {
		error
		Timeout() bool
	}](err)
	switch {
	case denied:
		return http.StatusForbidden, ResultDeny
	case errors.Is(err, ErrTargetTooLong):
		return http.StatusRequestURITooLong, ResultBadRequest
	case errors.Is(err, ErrUnsafePath), errors.Is(err, ErrBadHost), errors.Is(err, origin.ErrInvalidKey):
		return http.StatusBadRequest, ResultBadRequest
	case errors.Is(err, ErrUnknownHost):
		return http.StatusMisdirectedRequest, ResultBadRequest
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed, ResultBadRequest
	case errors.Is(err, ErrHTTPSRequired):
		return http.StatusForbidden, ResultDeny
	case errors.Is(err, ErrNoBehavior), errors.Is(err, fs.ErrNotExist):
		return http.StatusNotFound, ResultNotFound
	case errors.Is(err, ErrPreconditionFailed):
		return http.StatusPreconditionFailed, ResultAllow
	case errors.Is(err, ErrRangeNotSatisfiable):
		return http.StatusRequestedRangeNotSatisfiable, ResultAllow
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return StatusClientClosed, ResultClientClosed
	case errors.Is(err, context.DeadlineExceeded), isTimeout && timeout.Timeout():
		return http.StatusGatewayTimeout, ResultOriginError
	}
	return http.StatusBadGateway, ResultOriginError
}

// maxDebugReason bounds the X-Signet-Reason header.
const maxDebugReason = 512

// debugReason renders a reason for the X-Signet-Reason header: control
// bytes become spaces and the text is cut at maxDebugReason bytes. Unlike
// the log, the header shows a signature check's full detail, with the
// policy's resource, IP range and times (cfsign.Error.Verbose): the viewer
// holds the link anyway, and the header is for development only. It never
// holds a signature.
func debugReason(err error) string {
	s := err.Error()
	if ce, ok := errors.AsType[*cfsign.Error](err); ok {
		s = strings.Replace(s, ce.Error(), ce.Verbose(), 1)
	}
	if len(s) > maxDebugReason {
		s = s[:maxDebugReason]
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// headerValue returns s if it can be sent as a header value as is, else "".
func headerValue(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return ""
		}
	}
	return s
}
