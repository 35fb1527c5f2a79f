// Package http is the origin that reads objects from an upstream HTTP
// server: Stat is a HEAD request and Open a ranged, conditional GET. Every
// request carries a configured secret header, so the upstream can refuse
// anything that did not come through the edge. Only the key reaches the
// upstream: no viewer header, cookie or credential is ever forwarded.
package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	nethttp "net/http"
	"net/url"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/origin"
)

// DefaultTimeout is how long the upstream may keep the edge waiting, for
// response headers or for any one read of a body, when Config.Timeout is 0.
// It is CloudFront's default origin response timeout.
const DefaultTimeout = 30 * time.Second

// Config describes an upstream.
type Config struct {
	// URL is the base under which keys are looked up, such as
	// "https://origin.internal/prefix": key "a b/c+d" is requested as
	// "/prefix/a%20b/c%2Bd". Its scheme is http or https; it has no query,
	// fragment or user information.
	URL string
	// SecretHeader and Secret, set together, name a header and value sent
	// with every request. Neither is ever logged or put in an error.
	SecretHeader string
	Secret       string
	// Timeout bounds how long the upstream may keep the edge waiting for
	// response headers, or for any one read of a body; it does not limit
	// how long a whole download takes. 0 means DefaultTimeout.
	Timeout time.Duration
	// Client sends the requests; nil means a client of this package's
	// own. The origin uses a copy that never follows redirects (they would
	// carry the secret header elsewhere), so a 3xx is an error. A Client
	// with a Timeout cuts off downloads that take longer.
	Client *nethttp.Client
}

// Origin reads objects from an upstream HTTP server. Its methods are safe
// for concurrent use.
type Origin struct {
	base    string // scheme://host/escaped/base/path/, ending in '/'
	header  string // canonical secret header name, or ""
	secret  string
	timeout time.Duration
	client  *nethttp.Client
}

var _ origin.Origin = (*Origin)(nil)

// reserved are headers the origin sets or the transport owns, which the
// secret header must not replace.
var reserved = map[string]bool{
	"Host": true, "Range": true, "Accept-Encoding": true, "User-Agent": true,
	"Connection": true, "Content-Length": true, "Transfer-Encoding": true,
	"Te": true, "Trailer": true, "Upgrade": true, "Proxy-Connection": true,
}

// New checks cfg and returns an origin for it.
func New(cfg Config) (*Origin, error) {
	var errs []error
	u, err := url.Parse(cfg.URL)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("url: %w", err))
	case u.Scheme != "http" && u.Scheme != "https":
		errs = append(errs, fmt.Errorf("url: scheme %q is not http or https", u.Scheme))
	case u.Host == "":
		errs = append(errs, errors.New("url: no host"))
	case u.User != nil:
		errs = append(errs, errors.New("url: user information is not allowed (use secret_header)"))
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		errs = append(errs, errors.New("url: a query or fragment is not allowed"))
	}
	if (cfg.SecretHeader == "") != (cfg.Secret == "") {
		errs = append(errs, errors.New("secret_header and secret: set both or neither"))
	}
	if err := CheckSecretHeader(cfg.SecretHeader); err != nil {
		errs = append(errs, fmt.Errorf("secret_header: %w", err))
	}
	if strings.ContainsAny(cfg.Secret, "\r\n\x00") {
		errs = append(errs, errors.New("secret: contains a line break or NUL"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout: %v is negative", cfg.Timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("http origin: %w", err)
	}
	o := &Origin{
		base:    u.Scheme + "://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/") + "/",
		header:  nethttp.CanonicalHeaderKey(cfg.SecretHeader),
		secret:  cfg.Secret,
		timeout: cfg.Timeout,
	}
	if o.timeout == 0 {
		o.timeout = DefaultTimeout
	}
	if cfg.Client != nil {
		c := *cfg.Client
		o.client = &c
	} else {
		t := nethttp.DefaultTransport.(*nethttp.Transport).Clone()
		t.MaxIdleConnsPerHost = 64
		o.client = &nethttp.Client{Transport: t}
	}
	o.client.CheckRedirect = func(*nethttp.Request, []*nethttp.Request) error {
		return nethttp.ErrUseLastResponse
	}
	return o, nil
}

// Stat sends HEAD for key. A 404 or 410 gives an error matching
// fs.ErrNotExist. Info takes Size from Content-Length (which the upstream
// must send), ModTime from Last-Modified, and ETag only when the upstream
// sends a strong one: a weak ETag cannot make a range request conditional.
func (o *Origin) Stat(ctx context.Context, key string) (origin.Info, error) {
	if err := origin.CheckKey(key); err != nil {
		return origin.Info{}, err
	}
	ctx, w := origin.NewWatchdog(ctx, o.timeout)
	defer w.Stop()
	resp, err := o.do(ctx, nethttp.MethodHead, key, nil)
	if err != nil {
		return origin.Info{}, err
	}
	resp.Body.Close()
	switch {
	case resp.StatusCode == nethttp.StatusNotFound || resp.StatusCode == nethttp.StatusGone:
		return origin.Info{}, fmt.Errorf("http origin: HEAD %s: status %d: %w", key, resp.StatusCode, fs.ErrNotExist)
	case resp.StatusCode != nethttp.StatusOK:
		return origin.Info{}, statusError("HEAD", key, resp.StatusCode)
	case resp.ContentLength < 0:
		return origin.Info{}, fmt.Errorf("http origin: HEAD %s: no Content-Length", key)
	}
	info := origin.Info{
		Key:          key,
		Size:         resp.ContentLength,
		ETag:         origin.StrongETag(resp.Header.Get("ETag")),
		ContentType:  resp.Header.Get("Content-Type"),
		CacheControl: resp.Header.Get("Cache-Control"),
		Expires:      resp.Header.Get("Expires"),
	}
	if t, err := nethttp.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		info.ModTime = t
	}
	return info, nil
}

// Open sends a GET for the range with If-Match and If-Range set to
// info.ETag when there is one, and streams the body. A 412, 404, 410 or
// 416, or a response whose ETag or total size differs from info's, gives an
// error matching origin.ErrChanged. An upstream that ignores Range and
// answers 200 with the same version is read past the bytes before off.
func (o *Origin) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	n, err := origin.CheckOpen(ctx, info, off, n)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nethttp.NoBody, nil
	}
	h := nethttp.Header{"Range": {fmt.Sprintf("bytes=%d-%d", off, off+n-1)}}
	if info.ETag != "" {
		h["If-Match"] = []string{info.ETag}
		h["If-Range"] = []string{info.ETag}
	}
	ctx, w := origin.NewWatchdog(ctx, o.timeout)
	resp, err := o.do(ctx, nethttp.MethodGet, info.Key, h)
	if err != nil {
		w.Stop()
		return nil, err
	}
	body := w.Body(ctx, resp.Body)
	if err := o.check(resp, info, off, n); err != nil {
		body.Close()
		return nil, err
	}
	if resp.StatusCode == nethttp.StatusOK && off > 0 {
		if _, err := io.CopyN(io.Discard, body, off); err != nil {
			body.Close()
			return nil, fmt.Errorf("http origin: GET %s: skipping to %d: %w", info.Key, off, err)
		}
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(body, n), body}, nil
}

// check decides whether resp, the answer to a GET for n bytes at off, holds
// those bytes of the version info describes.
func (o *Origin) check(resp *nethttp.Response, info origin.Info, off, n int64) error {
	key := info.Key
	switch resp.StatusCode {
	case nethttp.StatusPartialContent, nethttp.StatusOK:
	case nethttp.StatusPreconditionFailed, nethttp.StatusNotFound, nethttp.StatusGone,
		nethttp.StatusRequestedRangeNotSatisfiable:
		return fmt.Errorf("http origin: GET %s: status %d: %w", key, resp.StatusCode, origin.ErrChanged)
	default:
		return statusError("GET", key, resp.StatusCode)
	}
	// With If-Match sent, a missing ETag is taken as a match.
	if etag := resp.Header.Get("ETag"); etag != "" && info.ETag != "" && etag != info.ETag {
		return fmt.Errorf("http origin: GET %s: ETag %s, not %s: %w", key, etag, info.ETag, origin.ErrChanged)
	}
	if resp.StatusCode == nethttp.StatusOK {
		if resp.ContentLength >= 0 && resp.ContentLength != info.Size {
			return fmt.Errorf("http origin: GET %s: %d bytes, not %d: %w", key, resp.ContentLength, info.Size, origin.ErrChanged)
		}
		return nil
	}
	first, last, size, ok := origin.ParseContentRange(resp.Header.Get("Content-Range"))
	switch {
	case !ok:
		return fmt.Errorf("http origin: GET %s: bad Content-Range %q", key, resp.Header.Get("Content-Range"))
	case size >= 0 && size != info.Size:
		return fmt.Errorf("http origin: GET %s: object of %d bytes, not %d: %w", key, size, info.Size, origin.ErrChanged)
	case first != off || last != off+n-1:
		return fmt.Errorf("http origin: GET %s: got bytes %d-%d, asked for %d-%d", key, first, last, off, off+n-1)
	}
	return nil
}

// do sends one request for key with the secret header and h, under ctx, a
// watchdog's context. Only transport errors are returned, and they match
// origin.ErrUnreachable unless the caller cancelled; a status is the
// caller's to judge.
func (o *Origin) do(ctx context.Context, method, key string, h nethttp.Header) (*nethttp.Response, error) {
	req, err := nethttp.NewRequestWithContext(ctx, method, o.base+escapeKey(key), nil)
	if err != nil {
		return nil, fmt.Errorf("http origin: %s %s: %w", method, key, err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	// Ask for the bytes as stored: with gzip the transport would
	// decompress them, and ranges and lengths would not match.
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "signet")
	if o.header != "" {
		req.Header.Set(o.header, o.secret)
	}
	resp, err := o.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			err = context.Cause(ctx) // the caller's, or the watchdog's timeout
		} else {
			err = fmt.Errorf("%w: %w", origin.ErrUnreachable, err)
		}
		return nil, fmt.Errorf("http origin: %s %s: %w", method, key, err)
	}
	return resp, nil
}

// statusError reports a status the origin does not expect, without the
// upstream's body or headers, which are never relayed.
func statusError(method, key string, status int) error {
	return fmt.Errorf("http origin: %s %s: unexpected status %d", method, key, status)
}

// escapeKey percent-encodes every byte of key except the unreserved ones
// (RFC 3986: letters, digits, '-', '.', '_', '~') and the '/' between
// segments, so that no upstream can read a '+' as a space, nor a '%',
// '?', '#' or ';' as syntax.
func escapeKey(key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(key) * 3 / 2)
	for i := range len(key) {
		c := key[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// isToken reports whether s is a valid header name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
