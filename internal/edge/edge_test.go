package edge_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/edgetest"
	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/origintest"
)

// recorder is the in-memory origin, which records the keys it is asked for
// and can be told to fail, and can also send short bodies. It is safe for
// concurrent use, but short is set between requests.
type recorder struct {
	*origintest.Mem
	short bool // Open returns one byte less than asked
}

func newRecorder() *recorder { return &recorder{Mem: origintest.NewMem()} }

func (r *recorder) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	if r.short && n > 0 {
		n--
	}
	return r.Mem.Open(ctx, info, off, n)
}

func (r *recorder) put(key, data string) {
	r.PutInfo(origin.Info{Key: key, ModTime: edgetest.ModTime, ETag: `"e"`}, []byte(data))
}

func decide(t testing.TB, e *edge.Edge, method, target string, hdr ...string) *edge.Plan {
	t.Helper()
	req := &edge.Request{Method: method, Scheme: "http", Host: "example.com", Target: target}
	for i := 0; i+1 < len(hdr); i += 2 {
		switch hdr[i] {
		case "Scheme":
			req.Scheme = hdr[i+1]
		case "Host":
			req.Host = hdr[i+1]
		case "Cookie":
			req.Cookies = append(req.Cookies, hdr[i+1])
		case "Range":
			req.Range = hdr[i+1]
		default:
			t.Fatalf("decide: unknown fact %q", hdr[i])
		}
	}
	return e.Decide(t.Context(), req)
}

func mustNew(t testing.TB, cfg edge.Config) *edge.Edge {
	t.Helper()
	e, err := edge.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func oneDist(o origin.Origin, behaviors ...edge.Behavior) []edge.Distribution {
	return []edge.Distribution{{Name: "d", Origin: o, Behaviors: behaviors}}
}

func TestNewErrors(t *testing.T) {
	mem := origintest.NewMem()
	star := []edge.Behavior{{PathPattern: "*"}}
	tests := []struct {
		name  string
		dists []edge.Distribution
		want  string
	}{
		{"no distributions", nil, "no distributions"},
		{"no name", []edge.Distribution{{Origin: mem, Behaviors: star}}, "name: a distribution name is 1 to 64 letters"},
		{"name with a space", []edge.Distribution{{Name: "a b", Origin: mem, Behaviors: star}}, "name: a distribution name is 1 to 64 letters"},
		{"name of 65 bytes", []edge.Distribution{{Name: strings.Repeat("a", 65), Origin: mem, Behaviors: star}}, "name: a distribution name is 1 to 64 letters"},
		{"duplicate name", []edge.Distribution{{Name: "a", Origin: mem, Behaviors: star}, {Name: "a", Hosts: []string{"x"}, Origin: mem, Behaviors: star}}, `name: "a" is also the name of distributions[0]`},
		{"no origin", []edge.Distribution{{Name: "a", Behaviors: star}}, "no origin"},
		{"two defaults", []edge.Distribution{{Name: "a", Origin: mem, Behaviors: star}, {Name: "b", Origin: mem, Behaviors: star}}, "hosts: only one distribution may leave hosts empty (any host); distributions[0] does already"},
		{"duplicate host", []edge.Distribution{{Name: "a", Hosts: []string{"x.test"}, Origin: mem, Behaviors: star}, {Name: "b", Hosts: []string{"x.test"}, Origin: mem, Behaviors: star}}, `hosts: "x.test" is also distributions[0].hosts[0]: a host belongs to one distribution`},
		{"host twice", []edge.Distribution{{Name: "a", Hosts: []string{"x.test", "x.test"}, Origin: mem, Behaviors: star}}, `hosts: "x.test" is also distributions[0].hosts[0]`},
		{"upper-case host", []edge.Distribution{{Name: "a", Hosts: []string{"X.test"}, Origin: mem, Behaviors: star}}, "must be lower case"},
		{"host with path", []edge.Distribution{{Name: "a", Hosts: []string{"x.test/a"}, Origin: mem, Behaviors: star}}, "not a host name"},
		{"host without brackets", []edge.Distribution{{Name: "a", Hosts: []string{"::1"}, Origin: mem, Behaviors: star}}, "IPv6 address in brackets"},
		{"no behaviors", oneDist(mem), "no behaviors"},
		{"empty pattern", oneDist(mem, edge.Behavior{}), "path pattern: required"},
		{"long pattern", oneDist(mem, edge.Behavior{PathPattern: "/" + strings.Repeat("a", 255)}), "longer than 255 bytes"},
		{"space in pattern", oneDist(mem, edge.Behavior{PathPattern: "/a b"}), "space or control character"},
		{"pattern without slash", oneDist(mem, edge.Behavior{PathPattern: "a/*"}), "must start with '/'"},
		{"question mark in pattern", oneDist(mem, edge.Behavior{PathPattern: "/a?c"}), "'?' is not a wildcard here"},
		{"duplicate pattern", oneDist(mem, edge.Behavior{PathPattern: "/a/*"}, edge.Behavior{PathPattern: "/a/*"}), "same pattern"},
		{"after default", oneDist(mem, edge.Behavior{PathPattern: "*"}, edge.Behavior{PathPattern: "/a/*"}), `("*") comes first`},
		{"bad method", oneDist(mem, edge.Behavior{PathPattern: "*", AllowedMethods: []string{"GET", "HEAD", "POST"}}), `allowed methods: "POST" is not one of GET, HEAD, OPTIONS`},
		{"no HEAD", oneDist(mem, edge.Behavior{PathPattern: "*", AllowedMethods: []string{"GET"}}), "allowed methods: must include HEAD"},
		{"no GET or HEAD", oneDist(mem, edge.Behavior{PathPattern: "*", AllowedMethods: []string{"OPTIONS"}}), "allowed methods: must include GET and HEAD"},
		{"no methods", oneDist(mem, edge.Behavior{PathPattern: "*", AllowedMethods: []string{}}), "allowed methods: required"},
		{"twice", oneDist(mem, edge.Behavior{PathPattern: "*", AllowedMethods: []string{"GET", "HEAD", "GET"}}), "allowed methods: GET repeats allowed_methods[0]"},
		{"protocol", oneDist(mem, edge.Behavior{PathPattern: "*", ViewerProtocol: "https"}), `viewer protocol: "https" is not one of allow-all, https-only, redirect-to-https`},
		{"origin path slash", oneDist(mem, edge.Behavior{PathPattern: "*", OriginPath: "/media/"}), "origin path"},
		{"origin path empty segment", oneDist(mem, edge.Behavior{PathPattern: "*", OriginPath: "media//x/"}), "origin path"},
		{"origin path dots", oneDist(mem, edge.Behavior{PathPattern: "*", OriginPath: "a/../"}), `".." segment`},
		{"mode", oneDist(mem, edge.Behavior{PathPattern: "*", Mode: "lambda"}), `mode: "lambda" is not one of proxy, redirect`},
		{"redirect without presigner", oneDist(mem, edge.Behavior{PathPattern: "*", Mode: edge.ModeRedirect}), "cannot presign"},
		{"redirect ttl", oneDist(mem, edge.Behavior{PathPattern: "*", Mode: edge.ModeRedirect, RedirectTTL: 8 * 24 * time.Hour, Presigner: edgetest.Presigner{Origin: mem}}), "redirect TTL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := edge.New(edge.Config{Distributions: tc.dists})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New() = %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := edge.New(edge.Config{Distributions: []edge.Distribution{
		{Name: "a", Behaviors: []edge.Behavior{{PathPattern: "*", Mode: "x"}, {PathPattern: "/b", ViewerProtocol: "y"}}},
	}})
	for _, want := range []string{"no origin", `mode: "x"`, `viewer protocol: "y"`, "never matches"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New() = %v; want it to mention %q", err, want)
		}
	}
}

func TestBehaviorPrecedence(t *testing.T) {
	rec := newRecorder()
	e := mustNew(t, edge.Config{Distributions: oneDist(rec,
		edge.Behavior{PathPattern: "/images/*.jpg"},
		edge.Behavior{PathPattern: "/images/*"},
		edge.Behavior{PathPattern: "/*.png"},
		edge.Behavior{PathPattern: "/exact.txt"},
		edge.Behavior{PathPattern: "*"},
	)})
	tests := []struct{ path, want string }{
		{"/images/cat.jpg", "/images/*.jpg"},
		{"/images/deep/cat.jpg", "/images/*.jpg"},
		{"/images/cat.jpg.gif", "/images/*"},
		{"/images/", "/images/*"},
		{"/IMAGES/cat.jpg", "*"},
		{"/abc", "*"},
		{"/x/y.png", "/*.png"},
		{"/images/y.png", "/images/*"},
		{"/exact.txt", "/exact.txt"},
		{"/exact.txt.bak", "*"},
		{"/", "*"},
	}
	for _, tc := range tests {
		p := decide(t, e, "GET", tc.path)
		if p.Behavior != tc.want {
			t.Errorf("Decide(%q).Behavior = %q; want %q", tc.path, p.Behavior, tc.want)
		}
	}
}

func TestHosts(t *testing.T) {
	mem := origintest.NewMem()
	star := []edge.Behavior{{PathPattern: "*"}}
	dists := []edge.Distribution{
		{Name: "media", Hosts: []string{"media.example", "cdn.example:8443", "[::1]"}, Origin: mem, Behaviors: star},
		{Name: "other", Hosts: []string{"other.example:8080"}, Origin: mem, Behaviors: star},
		{Name: "default", Origin: mem, Behaviors: star},
	}
	e := mustNew(t, edge.Config{Distributions: dists})
	noDefault := mustNew(t, edge.Config{Distributions: dists[:2]})
	tests := []struct {
		host, want, wantNoDefault string
	}{
		{"media.example", "media", "media"},
		{"MEDIA.example", "media", "media"},
		{"media.example:8080", "media", "media"},
		{"cdn.example:8443", "media", "media"},
		{"cdn.example", "default", ""},
		{"cdn.example:443", "default", ""},
		{"[::1]:8080", "media", "media"},
		{"other.example:8080", "other", "other"},
		{"other.example", "default", ""},
		{"", "default", ""},
		{"unknown.example", "default", ""},
	}
	for _, tc := range tests {
		if p := decide(t, e, "GET", "/x", "Host", tc.host); p.Distribution != tc.want {
			t.Errorf("Host %q: distribution %q; want %q", tc.host, p.Distribution, tc.want)
		}
		p := decide(t, noDefault, "GET", "/x", "Host", tc.host)
		if p.Distribution != tc.wantNoDefault {
			t.Errorf("Host %q without default: distribution %q; want %q", tc.host, p.Distribution, tc.wantNoDefault)
		}
		if tc.wantNoDefault == "" && (p.Status != http.StatusMisdirectedRequest || !errors.Is(p.Reason, edge.ErrUnknownHost)) {
			t.Errorf("Host %q without default: %d %v; want 421 ErrUnknownHost", tc.host, p.Status, p.Reason)
		}
	}
	if p := decide(t, e, "GET", "/x", "Host", "a b"); p.Status != 400 || !errors.Is(p.Reason, edge.ErrBadHost) {
		t.Errorf("Host %q: %d %v; want 400 ErrBadHost", "a b", p.Status, p.Reason)
	}
}

func TestStripPort(t *testing.T) {
	for host, want := range map[string]string{
		"example.com":      "example.com",
		"example.com:8080": "example.com",
		"example.com:":     "example.com",
		"[::1]:8443":       "[::1]",
		"[2001:db8::1]:80": "[2001:db8::1]",
		"[::1]":            "[::1]", // no port
		"::1":              "::1",   // not host:port
		"a:b:c":            "a:b:c",
		"[a]:80":           "a",
		"127.0.0.1:80":     "127.0.0.1",
		":80":              "",
		"":                 "",
	} {
		if got := edge.StripPort(host); got != want {
			t.Errorf("StripPort(%q) = %q; want %q", host, got, want)
		}
	}
}

func TestRefusals(t *testing.T) {
	keys := edgetest.NewKeys(t)
	rec := newRecorder()
	rec.put("a.txt", "a")
	e := mustNew(t, edge.Config{Distributions: oneDist(rec,
		edge.Behavior{PathPattern: "/private/*", Verifier: keys.Verifier},
		edge.Behavior{PathPattern: "/secure/*", ViewerProtocol: edge.HTTPSOnly},
		edge.Behavior{PathPattern: "/a.txt"},
	)})
	tests := []struct {
		name, method, target string
		status               int
		result               string
		reason               error
		body                 string
	}{
		{"long target", "GET", "/" + strings.Repeat("x", 8192), 414, edge.ResultBadRequest, edge.ErrTargetTooLong, "Request URI Too Long\n"},
		{"dot dot", "GET", "/private/../a.txt", 400, edge.ResultBadRequest, edge.ErrUnsafePath, "Bad Request\n"},
		{"encoded dot dot", "GET", "/private/%2E%2e/a.txt", 400, edge.ResultBadRequest, edge.ErrUnsafePath, "Bad Request\n"},
		{"encoded slash", "GET", "/private%2fa.txt", 400, edge.ResultBadRequest, edge.ErrUnsafePath, "Bad Request\n"},
		{"bad escape", "GET", "/a%2.txt", 400, edge.ResultBadRequest, edge.ErrUnsafePath, "Bad Request\n"},
		{"space", "GET", "/a .txt", 400, edge.ResultBadRequest, edge.ErrUnsafePath, "Bad Request\n"},
		{"newline in query", "GET", "/a.txt?x=\r\nSet-Cookie:x", 400, edge.ResultBadRequest, edge.ErrUnsafePath, "Bad Request\n"},
		{"not origin-form", "GET", "http://example.com/a.txt", 400, edge.ResultBadRequest, edge.ErrUnsafePath, "Bad Request\n"},
		{"asterisk", "OPTIONS", "*", 400, edge.ResultBadRequest, edge.ErrUnsafePath, "Bad Request\n"},
		{"no behavior", "GET", "/b.txt", 404, edge.ResultNotFound, edge.ErrNoBehavior, "Not Found\n"},
		{"method", "DELETE", "/a.txt", 405, edge.ResultBadRequest, edge.ErrMethodNotAllowed, "Method Not Allowed\n"},
		{"https only", "GET", "/secure/a.txt", 403, edge.ResultDeny, edge.ErrHTTPSRequired, "Forbidden\n"},
		{"unsigned", "GET", "/private/a.txt", 403, edge.ResultDeny, cfsign.ErrNoCredentials, string(cfsign.MissingKey.XML())},
		{"unsigned directory", "GET", "/private/", 403, edge.ResultDeny, cfsign.ErrNoCredentials, string(cfsign.MissingKey.XML())},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := decide(t, e, tc.method, tc.target)
			if p.Status != tc.status || p.Result != tc.result || !errors.Is(p.Reason, tc.reason) {
				t.Errorf("Decide = %d %s %v; want %d %s %v", p.Status, p.Result, p.Reason, tc.status, tc.result, tc.reason)
			}
			if string(p.Body) != tc.body {
				t.Errorf("body = %q; want %q", p.Body, tc.body)
			}
			if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q; want no-store", cc)
			}
			if p.Header.Get("X-Signet-Reason") != "" {
				t.Errorf("X-Signet-Reason set without DebugReason")
			}
			if p.Status == 405 && p.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q; want %q", p.Header.Get("Allow"), "GET, HEAD")
			}
		})
	}
	if got := rec.Asked(); len(got) != 0 {
		t.Errorf("the origin was asked for %q; want no origin call for refused requests", got)
	}
	// HEAD gets the same status and length, without the body.
	p := decide(t, e, "HEAD", "/private/a.txt")
	if p.Status != 403 || p.Body != nil || p.Header.Get("Content-Length") != "146" {
		t.Errorf("HEAD refused: %d, body %q, Content-Length %s; want 403, no body, 146", p.Status, p.Body, p.Header.Get("Content-Length"))
	}
}

func TestDebugReason(t *testing.T) {
	keys := edgetest.NewKeys(t)
	rec := newRecorder()
	rec.put("private/a.txt", "a")
	behaviors := []edge.Behavior{{PathPattern: "*", Verifier: keys.Verifier}}
	signed, err := keys.Trusted.SignCanned("http://example.com/private/a.txt", edgetest.Now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	target := strings.TrimPrefix(signed, "http://example.com")
	_, query := cfsign.SplitTarget(target)
	for _, debug := range []bool{false, true} {
		e := mustNew(t, edge.Config{DebugReason: debug, Distributions: oneDist(rec, behaviors...)})
		p := decide(t, e, "GET", target)
		got := p.Header.Get("X-Signet-Reason")
		if !debug {
			if got != "" {
				t.Errorf("DebugReason off: X-Signet-Reason = %q; want none", got)
			}
			continue
		}
		// The header, unlike the log, shows the policy's own values.
		if want := "link expired: expired at " + edgetest.Now.Add(-time.Minute).UTC().Format(time.RFC3339); !strings.Contains(got, want) {
			t.Errorf("X-Signet-Reason = %q; want %q", got, want)
		}
		for _, elem := range strings.Split(query, "&") {
			if name, value, _ := strings.Cut(elem, "="); name == "Signature" && strings.Contains(got, value) {
				t.Errorf("X-Signet-Reason %q holds the signature", got)
			}
		}
		if p := decide(t, e, "GET", "/../x"); !strings.Contains(p.Header.Get("X-Signet-Reason"), "dot segment") {
			t.Errorf("X-Signet-Reason = %q; want the unsafe path", p.Header.Get("X-Signet-Reason"))
		}
	}
}

func TestObjectKey(t *testing.T) {
	rec := newRecorder()
	e := mustNew(t, edge.Config{Distributions: oneDist(rec,
		edge.Behavior{PathPattern: "/media/*", OriginPath: "bucket/media/"},
		edge.Behavior{PathPattern: "*"},
	)})
	tests := []struct{ target, key string }{
		{"/a.txt", "a.txt"},
		{"/a.txt?Expires=1&Signature=x&Key-Pair-Id=K&x=1", "a.txt"},
		{"/a%20b.txt", "a b.txt"},
		{"/a+b.txt", "a+b.txt"},
		{"/a%2520b.txt", "a%20b.txt"},
		{"/%E2%9C%93.txt", "\u2713.txt"},
		{"/a%3Fb", "a?b"},
		{"/dir/a.txt", "dir/a.txt"},
		{"/media/v/1.ts", "bucket/media/media/v/1.ts"},
		{"/x.%2e", "x.."},
	}
	for _, tc := range tests {
		before := len(rec.Asked())
		p := decide(t, e, "GET", tc.target)
		asked := rec.Asked()[before:]
		if len(asked) != 1 || asked[0] != tc.key {
			t.Errorf("Decide(%q) asked the origin for %q; want [%q]", tc.target, asked, tc.key)
		}
		if p.Status != 404 || !errors.Is(p.Reason, fs.ErrNotExist) {
			t.Errorf("Decide(%q) = %d %v; want 404 for a missing object", tc.target, p.Status, p.Reason)
		}
	}
	// Directories are not objects, and the origin is not asked.
	for _, target := range []string{"/", "/dir/", "/media/"} {
		before := len(rec.Asked())
		if p := decide(t, e, "GET", target); p.Status != 404 || len(rec.Asked()) != before {
			t.Errorf("Decide(%q) = %d after asking %q; want 404 without asking", target, p.Status, rec.Asked()[before:])
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string { return "dial tcp 10.1.2.3:443: i/o timeout" }
func (timeoutErr) Timeout() bool { return true }

func TestOriginErrors(t *testing.T) {
	rec := newRecorder()
	e := mustNew(t, edge.Config{Distributions: oneDist(rec, edge.Behavior{PathPattern: "*"})})
	secret := "s3.internal.example bucket=private-data"
	tests := []struct {
		err    error
		status int
		result string
	}{
		{fs.ErrNotExist, 404, edge.ResultNotFound},
		{origin.ErrInvalidKey, 400, edge.ResultBadRequest},
		{context.DeadlineExceeded, 504, edge.ResultOriginError},
		{os.ErrDeadlineExceeded, 504, edge.ResultOriginError},
		{timeoutErr{}, 504, edge.ResultOriginError},
		{errors.New(secret), 502, edge.ResultOriginError},
		{origin.ErrChanged, 502, edge.ResultOriginError},
		{context.Canceled, 502, edge.ResultOriginError}, // the viewer is still there
	}
	for _, tc := range tests {
		rec.FailStat(tc.err)
		p := decide(t, e, "GET", "/a.txt")
		if p.Status != tc.status || p.Result != tc.result || !errors.Is(p.Reason, tc.err) {
			t.Errorf("Stat error %v: %d %s %v; want %d %s", tc.err, p.Status, p.Result, p.Reason, tc.status, tc.result)
		}
		if strings.Contains(string(p.Body), "s3") || strings.Contains(string(p.Body), "tcp") {
			t.Errorf("Stat error %v: body %q leaks the cause", tc.err, p.Body)
		}
	}
	rec.FailStat(context.Canceled)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	p := e.Decide(ctx, &edge.Request{Method: "GET", Scheme: "http", Target: "/a.txt"})
	if p.Status != edge.StatusClientClosed || p.Result != edge.ResultClientClosed {
		t.Errorf("cancelled viewer: %d %s; want %d %s", p.Status, p.Result, edge.StatusClientClosed, edge.ResultClientClosed)
	}
}

func TestCaching(t *testing.T) {
	keys := edgetest.NewKeys(t)
	rec := newRecorder()
	put := func(key, cc, expires string) {
		rec.PutInfo(origin.Info{Key: key, ModTime: edgetest.ModTime, CacheControl: cc, Expires: expires}, []byte("x"))
	}
	put("private/plain", "", "")
	put("private/short", "public, max-age=30", "Thu, 01 Jan 2099 00:00:00 GMT")
	put("private/long", "max-age=86400", "")
	put("private/nostore", "no-store", "")
	put("public/cc", "public, max-age=600", "Thu, 01 Jan 2099 00:00:00 GMT")
	put("public/plain", "", "")
	e := mustNew(t, edge.Config{Now: func() time.Time { return edgetest.Now }, Distributions: oneDist(rec,
		edge.Behavior{PathPattern: "/private/*", Verifier: keys.Verifier},
		edge.Behavior{PathPattern: "*"},
	)})
	sign := func(path string) string {
		s, err := keys.Trusted.SignCanned("http://example.com"+path, edgetest.Now.Add(90*time.Second+500*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(s, "http://example.com")
	}
	tests := []struct {
		target, cc, expires string
	}{
		{sign("/private/plain"), "private, max-age=90", ""},
		{sign("/private/short"), "private, max-age=30", ""},
		{sign("/private/long"), "private, max-age=90", ""},
		{sign("/private/nostore"), "no-store", ""},
		{"/public/cc", "public, max-age=600", "Thu, 01 Jan 2099 00:00:00 GMT"},
		{"/public/plain", "", ""},
	}
	for _, tc := range tests {
		p := decide(t, e, "GET", tc.target)
		path, _ := cfsign.SplitTarget(tc.target)
		if p.Status != 200 {
			t.Fatalf("GET %s = %d %v; want 200", path, p.Status, p.Reason)
		}
		if cc, ex := p.Header.Get("Cache-Control"), p.Header.Get("Expires"); cc != tc.cc || ex != tc.expires {
			t.Errorf("GET %s: Cache-Control %q, Expires %q; want %q, %q", path, cc, ex, tc.cc, tc.expires)
		}
	}
	// A 304 behind a signed link keeps the private lifetime.
	req := &edge.Request{Method: "GET", Scheme: "http", Host: "example.com", Target: sign("/private/plain"), IfModifiedSince: edgetest.ModTime.Format(http.TimeFormat)}
	if p := e.Decide(t.Context(), req); p.Status != 304 || p.Header.Get("Cache-Control") != "private, max-age=90" {
		t.Errorf("304: %d, Cache-Control %q; want 304, private, max-age=90", p.Status, p.Header.Get("Cache-Control"))
	}
}

func TestContentType(t *testing.T) {
	rec := newRecorder()
	rec.PutInfo(origin.Info{Key: "a.pdf"}, []byte("x"))
	rec.PutInfo(origin.Info{Key: "a.pdf.gz", ContentType: "application/gzip"}, []byte("x"))
	rec.PutInfo(origin.Info{Key: "noext"}, []byte("<html>"))
	rec.PutInfo(origin.Info{Key: "bad.txt", ContentType: "text/html\r\nX-Evil: 1"}, []byte("x"))
	rec.PutInfo(origin.Info{Key: "etag.txt", ETag: "\"a\"\r\nX-Evil: 1"}, []byte("x"))
	e := mustNew(t, edge.Config{Distributions: oneDist(rec, edge.Behavior{PathPattern: "*"})})
	tests := []struct{ target, ctype, etag string }{
		{"/a.pdf", "application/pdf", ""},
		{"/a.pdf.gz", "application/gzip", ""},
		{"/noext", "application/octet-stream", ""},
		{"/bad.txt", "text/plain; charset=utf-8", ""},
		{"/etag.txt", "text/plain; charset=utf-8", ""},
	}
	for _, tc := range tests {
		p := decide(t, e, "GET", tc.target)
		if ct, et := p.Header.Get("Content-Type"), p.Header.Get("Etag"); ct != tc.ctype || et != tc.etag {
			t.Errorf("GET %s: Content-Type %q, ETag %q; want %q, %q", tc.target, ct, et, tc.ctype, tc.etag)
		}
		if p.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", tc.target)
		}
	}
}

func TestRedirectMode(t *testing.T) {
	keys := edgetest.NewKeys(t)
	mem := origintest.NewMem()
	mem.PutInfo(origin.Info{Key: "v/a b.mp4", ModTime: edgetest.ModTime, ETag: `"m"`}, []byte("movie"))
	e := mustNew(t, edge.Config{Distributions: oneDist(mem,
		edge.Behavior{PathPattern: "*", Mode: edge.ModeRedirect, Verifier: keys.Verifier,
			Presigner: edgetest.Presigner{Origin: mem, Base: "https://s3.test/bucket/"}},
	)})
	signed, err := keys.Trusted.SignCanned("http://example.com/v/a%20b.mp4", edgetest.Now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	target := strings.TrimPrefix(signed, "http://example.com")
	for _, method := range []string{"GET", "HEAD"} {
		p := decide(t, e, method, target)
		if p.Status != 302 || p.Result != edge.ResultRedirect || p.KeyID != keys.Trusted.KeyID() {
			t.Errorf("%s: %d %s key %q (%v); want 302 Redirect with the key id", method, p.Status, p.Result, p.KeyID, p.Reason)
		}
		if loc := p.Header.Get("Location"); loc != "https://s3.test/bucket/v/a%20b.mp4?ttl=300" {
			t.Errorf("%s: Location = %q; want the presigned URL with the default 5m TTL", method, loc)
		}
		if p.Header.Get("Cache-Control") != "no-store" || p.Body != nil || len(p.Ranges) != 0 {
			t.Errorf("%s: Cache-Control %q, body %q, ranges %v; want no-store and no body", method, p.Header.Get("Cache-Control"), p.Body, p.Ranges)
		}
	}
	if p := decide(t, e, "GET", "/v/a%20b.mp4"); p.Status != 403 || p.Header.Get("Location") != "" {
		t.Errorf("unsigned: %d, Location %q; want 403 without a redirect", p.Status, p.Header.Get("Location"))
	}
	signed, err = keys.Trusted.SignCanned("http://example.com/v/missing.mp4", edgetest.Now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if p := decide(t, e, "GET", strings.TrimPrefix(signed, "http://example.com")); p.Status != 404 {
		t.Errorf("missing object: %d; want 404", p.Status)
	}
}

func TestOptions(t *testing.T) {
	rec := newRecorder()
	e := mustNew(t, edge.Config{Distributions: oneDist(rec, edge.Behavior{PathPattern: "*", AllowedMethods: []string{"OPTIONS", "HEAD", "GET"}})})
	p := decide(t, e, "OPTIONS", "/a.txt")
	if p.Status != 204 || p.Header.Get("Allow") != "GET, HEAD, OPTIONS" || p.Header.Get("Content-Length") != "" {
		t.Errorf("OPTIONS: %d, Allow %q, Content-Length %q; want 204, GET, HEAD, OPTIONS, none", p.Status, p.Header.Get("Allow"), p.Header.Get("Content-Length"))
	}
	if len(rec.Asked()) != 0 {
		t.Errorf("OPTIONS asked the origin for %q", rec.Asked())
	}
}

func TestViewerProtocol(t *testing.T) {
	rec := newRecorder()
	rec.put("a.txt", "a")
	e := mustNew(t, edge.Config{Distributions: oneDist(rec, edge.Behavior{PathPattern: "*", ViewerProtocol: edge.RedirectToHTTPS})})
	tests := []struct {
		scheme, host string
		status       int
		location     string
	}{
		{"http", "example.com", 301, "https://example.com/a.txt?x=1"},
		{"http", "example.com:8080", 301, "https://example.com/a.txt?x=1"},
		{"http", "[::1]:8080", 301, "https://[::1]/a.txt?x=1"},
		{"http", "", 400, ""},
		{"https", "example.com", 200, ""},
	}
	for _, tc := range tests {
		p := decide(t, e, "GET", "/a.txt?x=1", "Scheme", tc.scheme, "Host", tc.host)
		if p.Status != tc.status || p.Header.Get("Location") != tc.location {
			t.Errorf("%s://%s: %d, Location %q; want %d, %q", tc.scheme, tc.host, p.Status, p.Header.Get("Location"), tc.status, tc.location)
		}
	}
}

// TestOpenFailure checks that an origin whose Open fails before the first
// byte gets the viewer a clean 502 or 504, without the object's headers,
// and that Close releases a read Decide opened.
func TestOpenFailure(t *testing.T) {
	rec := newRecorder()
	rec.put("a.txt", "hello")
	e := mustNew(t, edge.Config{Distributions: oneDist(rec, edge.Behavior{PathPattern: "*"})})
	for _, tc := range []struct {
		err    error
		status int
	}{
		{origin.ErrChanged, 502},
		{context.DeadlineExceeded, 504},
	} {
		rec.FailOpen(tc.err)
		p := decide(t, e, "GET", "/a.txt", "Range", "bytes=1-2")
		if p.Status != tc.status || p.Result != edge.ResultOriginError || !errors.Is(p.Reason, tc.err) {
			t.Errorf("Open error %v: status %d, result %s, reason %v; want %d, OriginError", tc.err, p.Status, p.Result, p.Reason, tc.status)
		}
		for _, k := range []string{"Etag", "Last-Modified", "Content-Range", "Accept-Ranges"} {
			if v := p.Header.Get(k); v != "" {
				t.Errorf("Open error %v: %s: %q; want none", tc.err, k, v)
			}
		}
		if len(p.Ranges) != 0 || string(p.Body) != http.StatusText(tc.status)+"\n" {
			t.Errorf("Open error %v: ranges %v, body %q; want the status text", tc.err, p.Ranges, p.Body)
		}
	}
	rec.FailOpen(nil)

	// A plan dropped before its body: Close releases the read, once.
	p := decide(t, e, "GET", "/a.txt")
	if err := p.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestWriteBodyFailures(t *testing.T) {
	rec := newRecorder()
	rec.put("a.txt", "hello")
	e := mustNew(t, edge.Config{Distributions: oneDist(rec, edge.Behavior{PathPattern: "*"})})

	// The object changes between Decide, which opened the first range,
	// and WriteBody's second range: the first range is of the version
	// Decide saw, the second fails.
	p := decide(t, e, "GET", "/a.txt", "Range", "bytes=0-0,2-3")
	rec.PutInfo(origin.Info{Key: "a.txt", ModTime: edgetest.ModTime, ETag: `"f"`}, []byte("HELLO"))
	var b strings.Builder
	if _, err := p.WriteBody(t.Context(), &b); !errors.Is(err, origin.ErrChanged) || !errors.Is(p.Reason, origin.ErrChanged) || p.Result != edge.ResultOriginError {
		t.Errorf("changed object: WriteBody = %v, reason %v, result %s; want ErrChanged, OriginError", err, p.Reason, p.Result)
	}
	if got := b.String(); !strings.Contains(got, "\r\n\r\nh\r\n") || strings.Contains(got, "LL") {
		t.Errorf("changed object: wrote %q; want the first part of the old version, then nothing", got)
	}
	rec.put("a.txt", "hello")

	// The origin sends fewer bytes than the object has.
	rec.short = true
	p = decide(t, e, "GET", "/a.txt")
	if _, err := p.WriteBody(t.Context(), io.Discard); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short read: WriteBody = %v; want io.ErrUnexpectedEOF", err)
	}
	rec.short = false

	// The viewer leaves.
	p = decide(t, e, "GET", "/a.txt", "Range", "bytes=0-0,2-3")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := p.WriteBody(ctx, io.Discard); err == nil || p.Result != edge.ResultClientClosed {
		t.Errorf("cancelled: WriteBody = %v, result %s; want an error and ClientClosed", err, p.Result)
	}
}

// writerToOrigin serves objects whose readers implement io.WriterTo, as
// the dir origin's and the cache's do, and counts the WriteTo calls.
type writerToOrigin struct {
	*origintest.Mem
	writeTos atomic.Int64
}

func (o *writerToOrigin) Open(ctx context.Context, info origin.Info, off, n int64) (io.ReadCloser, error) {
	rc, err := o.Mem.Open(ctx, info, off, n)
	if err != nil {
		return nil, err
	}
	return &writerToReader{ReadCloser: rc, o: o}, nil
}

type writerToReader struct {
	io.ReadCloser
	o *writerToOrigin
}

func (r *writerToReader) WriteTo(w io.Writer) (int64, error) {
	r.o.writeTos.Add(1)
	return io.Copy(w, struct{ io.Reader }{r.ReadCloser})
}

// countingSink is a writer with ReadFrom, like net/http's ResponseWriter,
// that counts how it is written to.
type countingSink struct {
	writes, readFroms int
	n                 int64
}

func (s *countingSink) Write(b []byte) (int, error) {
	s.writes++
	s.n += int64(len(b))
	return len(b), nil
}

func (s *countingSink) ReadFrom(r io.Reader) (int64, error) {
	s.readFroms++
	n, err := io.Copy(struct{ io.Writer }{s}, r)
	return n, err
}

// TestWriteBodyPaths checks how WriteBody hands bytes to the adapter: a
// small body through a buffer in one Write (so headers and body leave
// together), a large one through the origin reader's WriteTo (which, for
// a file, reaches the connection's sendfile).
func TestWriteBodyPaths(t *testing.T) {
	o := &writerToOrigin{Mem: origintest.NewMem()}
	o.PutInfo(origin.Info{Key: "small.bin", ModTime: edgetest.ModTime, ETag: `"s"`}, bytes.Repeat([]byte("s"), 1024))
	o.PutInfo(origin.Info{Key: "large.bin", ModTime: edgetest.ModTime, ETag: `"l"`}, bytes.Repeat([]byte("l"), 1<<20))
	e := mustNew(t, edge.Config{Distributions: oneDist(o, edge.Behavior{PathPattern: "*"})})
	for _, tc := range []struct {
		target              string
		size                int64
		writeTos, readFroms int64
		writes              int
	}{
		{"/small.bin", 1024, 0, 0, 1},
		{"/large.bin", 1 << 20, 1, 1, -1},
	} {
		before := o.writeTos.Load()
		p := decide(t, e, "GET", tc.target)
		var s countingSink
		if n, err := p.WriteBody(t.Context(), &s); err != nil || n != tc.size || s.n != tc.size {
			t.Fatalf("%s: WriteBody = %d, %v; sink got %d; want %d", tc.target, n, err, s.n, tc.size)
		}
		if got := o.writeTos.Load() - before; got != tc.writeTos || int64(s.readFroms) != tc.readFroms || tc.writes >= 0 && s.writes != tc.writes {
			t.Errorf("%s: WriteTo calls %d, ReadFrom calls %d, Writes %d; want %d, %d, %d (-1: any)", tc.target, got, s.readFroms, s.writes, tc.writeTos, tc.readFroms, tc.writes)
		}
	}
}
