package edgetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/origintest"
)

// Start serves e through the adapter under test on a loopback listener and
// returns its base URL, "http://127.0.0.1:port". The server must stop when
// the test ends.
type Start func(t *testing.T, e *edge.Edge) string

// Now is the fixed clock of the suite's edge and verifiers.
var Now = time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)

// Keys holds a signer the suite's edge trusts and one it does not.
type Keys struct {
	Trusted, Untrusted *cfsign.Signer
	Verifier           *cfsign.Verifier
}

// NewKeys makes two P-256 signers and a verifier, using the suite's clock,
// that trusts the first.
func NewKeys(t testing.TB) Keys {
	t.Helper()
	signer := func() *cfsign.Signer {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		id, err := cfsign.KeyID(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		s, err := cfsign.NewSigner(id, key, cfsign.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	k := Keys{Trusted: signer(), Untrusted: signer()}
	v, err := cfsign.NewVerifier(map[string]crypto.PublicKey{k.Trusted.KeyID(): k.Trusted.Public()},
		cfsign.Options{Now: func() time.Time { return Now }})
	if err != nil {
		t.Fatal(err)
	}
	k.Verifier = v
	return k
}

// The suite's objects.
var (
	Report    = Pattern(3000, 7)
	Segment   = Pattern(500, 11)
	RangeBody = Pattern(1000, 13)
	ModTime   = time.Date(2029, 12, 31, 23, 59, 59, 0, time.UTC)
)

// Pattern returns n bytes that repeat with period p.
func Pattern(n, p int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%p)
	}
	return b
}

// StreamSize is the size of the large object the suite streams: 1 GiB,
// or 64 MiB with -short.
func StreamSize() int64 {
	if testing.Short() {
		return 64 << 20
	}
	return 1 << 30
}

// fixture is the suite's edge and what its tests need to reach it.
type fixture struct {
	keys   Keys
	edge   *edge.Edge
	stream *streamOrigin
	base   string // http://127.0.0.1:port
	host   string // 127.0.0.1:port
}

func newFixture(t *testing.T) *fixture {
	keys := NewKeys(t)
	mem := origintest.NewMem()
	put := func(key, etag string, data []byte) {
		mem.PutInfo(origin.Info{Key: key, ModTime: ModTime, ETag: etag}, data)
	}
	put("private/report.pdf", `"r1"`, Report)
	put("private/videos/seg1.ts", `"s1"`, Segment)
	put("private/videos/seg2.ts", `"s2"`, Segment)
	put("public/hello.txt", `"h1"`, []byte("Hello, world\n"))
	put("public/a%20b.txt", `"p"`, []byte("a%20b"))
	put("public/a b.txt", `"p"`, []byte("a b"))
	put("range.bin", `"v1"`, RangeBody)
	put("secure/x.txt", `"x"`, []byte("x"))
	put("upgrade/x.txt", `"x"`, []byte("x"))
	put("options/x.txt", `"x"`, []byte("x"))
	put("go/x.txt", `"x"`, []byte("x"))
	f := &fixture{keys: keys, stream: newStreamOrigin(StreamSize())}
	e, err := edge.New(edge.Config{
		Now: func() time.Time { return Now },
		Distributions: []edge.Distribution{
			{
				Name:   "stream",
				Hosts:  []string{"stream.test"},
				Origin: f.stream,
				Behaviors: []edge.Behavior{
					{PathPattern: "*"},
				},
			},
			{
				Name:   "main",
				Origin: mem,
				Behaviors: []edge.Behavior{
					{PathPattern: "/private/*", Verifier: keys.Verifier},
					{PathPattern: "/secure/*", ViewerProtocol: edge.HTTPSOnly},
					{PathPattern: "/upgrade/*", ViewerProtocol: edge.RedirectToHTTPS},
					{PathPattern: "/options/*", AllowedMethods: []string{"GET", "HEAD", "OPTIONS"}},
					{PathPattern: "/go/*", Mode: edge.ModeRedirect, RedirectTTL: time.Minute,
						Presigner: Presigner{Origin: mem, Base: "https://storage.test/"}},
					{PathPattern: "*"},
				},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.edge = e
	return f
}

// Adapter names an adapter under test, for the cases where adapters may
// answer differently: the framing cases, where each one's HTTP/1.1 parser
// decides, and both answers are safe.
type Adapter string

// The edge's adapters.
const (
	NetHTTP  Adapter = "nethttp"
	FastHTTP Adapter = "fasthttp"
)

// Run runs the adapter suite: every HTTP-visible decision of the edge,
// through the adapter that start serves, and how it frames HTTP/1.1
// requests a smuggler would send.
func Run(t *testing.T, adapter Adapter, start Start) {
	f := newFixture(t)
	f.base = start(t, f.edge)
	u, err := url.Parse(f.base)
	if err != nil {
		t.Fatal(err)
	}
	f.host = u.Host
	t.Run("SignedURL", f.testSignedURL)
	t.Run("SignedCookies", f.testSignedCookies)
	t.Run("Denied", f.testDenied)
	t.Run("Ranges", f.testRanges)
	t.Run("Head", f.testHead)
	t.Run("Headers", f.testHeaders)
	t.Run("Methods", f.testMethods)
	t.Run("BadTargets", f.testBadTargets)
	t.Run("NotFound", f.testNotFound)
	t.Run("ViewerProtocol", f.testViewerProtocol)
	t.Run("RedirectMode", f.testRedirectMode)
	t.Run("ClientDisconnect", f.testClientDisconnect)
	t.Run("LargeObject", f.testLargeObject)
	t.Run("Framing", func(t *testing.T) { f.testFraming(t, adapter) })
}

// Response is a response read off the wire.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends one HTTP/1.1 request to base with target written byte for byte
// (Go's client would clean or re-encode it) and reads the whole response.
// hdr holds header name, value pairs; a "Host" pair replaces the default.
func Do(t testing.TB, base, method, target string, hdr ...string) Response {
	t.Helper()
	conn, err := dialRequest(t, base, method, target, hdr...)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %.80s: read response: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %.80s: read body: %v", method, target, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

func dialRequest(t testing.TB, base, method, target string, hdr ...string) (net.Conn, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", method, target)
	host := u.Host
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			host = hdr[i+1]
			continue
		}
		fmt.Fprintf(&b, "%s: %s\r\n", hdr[i], hdr[i+1])
	}
	fmt.Fprintf(&b, "Host: %s\r\nConnection: close\r\n\r\n", host)
	var d net.Dialer
	conn, err := d.DialContext(t.Context(), "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

func (f *fixture) do(t *testing.T, method, target string, hdr ...string) Response {
	t.Helper()
	return Do(t, f.base, method, target, hdr...)
}

// target returns the request target of a signed URL made for this server.
func (f *fixture) target(t *testing.T, signed string) string {
	t.Helper()
	prefix := "http://" + f.host
	if !strings.HasPrefix(signed, prefix) {
		t.Fatalf("signed URL %q is not for %s", signed, prefix)
	}
	return strings.TrimPrefix(signed, prefix)
}

func (f *fixture) signCanned(t *testing.T, s *cfsign.Signer, path string, expires time.Time) string {
	t.Helper()
	signed, err := s.SignCanned("http://"+f.host+path, expires)
	if err != nil {
		t.Fatal(err)
	}
	return f.target(t, signed)
}

func checkResponse(t *testing.T, got Response, status int, body []byte, header ...string) {
	t.Helper()
	if got.Status != status {
		t.Errorf("status = %d; want %d (body %.200q)", got.Status, status, got.Body)
	}
	if body != nil && !bytes.Equal(got.Body, body) {
		t.Errorf("body = %.200q (%d bytes); want %.200q (%d bytes)", got.Body, len(got.Body), body, len(body))
	}
	for i := 0; i+1 < len(header); i += 2 {
		if v := got.Header.Get(header[i]); v != header[i+1] {
			t.Errorf("%s = %q; want %q", header[i], v, header[i+1])
		}
	}
}

func (f *fixture) testSignedURL(t *testing.T) {
	target := f.signCanned(t, f.keys.Trusted, "/private/report.pdf", Now.Add(time.Hour))
	got := f.do(t, "GET", target)
	checkResponse(t, got, 200, Report,
		"Content-Type", "application/pdf",
		"Content-Length", "3000",
		"Etag", `"r1"`,
		"Last-Modified", "Mon, 31 Dec 2029 23:59:59 GMT",
		"Accept-Ranges", "bytes",
		"Cache-Control", "private, max-age=3600")

	// A caller's own query stays part of the signed URL; it is not part
	// of the object key.
	target = f.signCanned(t, f.keys.Trusted, "/private/report.pdf?download=1", Now.Add(time.Minute))
	got = f.do(t, "GET", target)
	checkResponse(t, got, 200, Report, "Cache-Control", "private, max-age=60")
}

func (f *fixture) testSignedCookies(t *testing.T) {
	// The HLS pattern: one wildcard custom policy in cookies opens every
	// segment under a prefix, and nothing outside it.
	policy := &cfsign.Policy{Resource: "http://" + f.host + "/private/videos/*", HasResource: true, Expires: Now.Add(time.Hour).Unix()}
	b, err := policy.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	cookies, err := f.keys.Trusted.SignCookiesWithPolicy(b)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, c := range cookies {
		parts = append(parts, c.Name+"="+c.Value)
	}
	cookie := strings.Join(parts, "; ")
	for _, path := range []string{"/private/videos/seg1.ts", "/private/videos/seg2.ts"} {
		got := f.do(t, "GET", path, "Cookie", cookie)
		checkResponse(t, got, 200, Segment, "Cache-Control", "private, max-age=3600")
	}
	got := f.do(t, "GET", "/private/report.pdf", "Cookie", cookie)
	checkResponse(t, got, 403, cfsign.AccessDenied.XML())
}

func (f *fixture) testDenied(t *testing.T) {
	good := f.signCanned(t, f.keys.Trusted, "/private/report.pdf", Now.Add(time.Hour))
	path, query := cfsign.SplitTarget(good)
	badSig := path + "?" + replaceParam(query, "Signature", "!!!")
	tests := []struct {
		name   string
		target string
		want   cfsign.Code
	}{
		{"no credentials", "/private/report.pdf", cfsign.MissingKey},
		{"empty key id", path + "?" + replaceParam(query, "Key-Pair-Id", ""), cfsign.MissingKey},
		{"untrusted key", f.signCanned(t, f.keys.Untrusted, "/private/report.pdf", Now.Add(time.Hour)), cfsign.InvalidKey},
		{"bad signature encoding", badSig, cfsign.MalformedSignature},
		{"expires and policy", good + "&Policy=e30_", cfsign.MalformedPolicy},
		{"expired", f.signCanned(t, f.keys.Trusted, "/private/report.pdf", Now.Add(-time.Second)), cfsign.AccessDenied},
		{"other path", "/private/videos/seg1.ts?" + query, cfsign.AccessDenied},
		{"tampered expiry", path + "?" + replaceParam(query, "Expires", fmt.Sprint(Now.Add(2*time.Hour).Unix())), cfsign.AccessDenied},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := f.do(t, "GET", tc.target)
			checkResponse(t, got, 403, tc.want.XML(),
				"Content-Type", "text/xml",
				"Cache-Control", "no-store",
				"X-Signet-Reason", "")
		})
	}
}

// replaceParam replaces the value of the query parameter name.
func replaceParam(query, name, value string) string {
	elems := strings.Split(query, "&")
	for i, e := range elems {
		if strings.HasPrefix(e, name+"=") {
			elems[i] = name + "=" + value
		}
	}
	return strings.Join(elems, "&")
}

func (f *fixture) testRanges(t *testing.T) {
	lm := "Mon, 31 Dec 2029 23:59:59 GMT"
	tests := []struct {
		name   string
		hdr    []string
		status int
		body   []byte
		want   []string // header pairs
	}{
		{"single", []string{"Range", "bytes=10-19"}, 206, RangeBody[10:20],
			[]string{"Content-Range", "bytes 10-19/1000", "Content-Length", "10"}},
		{"suffix", []string{"Range", "bytes=-5"}, 206, RangeBody[995:], []string{"Content-Range", "bytes 995-999/1000"}},
		{"past end", []string{"Range", "bytes=5000-"}, 416, nil, []string{"Content-Range", "bytes */1000"}},
		{"not modified", []string{"If-None-Match", `"v1"`}, 304, []byte{}, []string{"Etag", `"v1"`, "Content-Length", ""}},
		{"modified since", []string{"If-Modified-Since", lm}, 304, []byte{}, nil},
		{"if-match fails", []string{"If-Match", `"v0"`}, 412, nil, nil},
		{"unmodified since fails", []string{"If-Unmodified-Since", "Sun, 30 Dec 2029 00:00:00 GMT"}, 412, nil, nil},
		{"if-range stale", []string{"Range", "bytes=0-9", "If-Range", `"v0"`}, 200, RangeBody, nil},
		{"if-range current", []string{"Range", "bytes=0-9", "If-Range", `"v1"`}, 206, RangeBody[:10], nil},
		{"if-range date", []string{"Range", "bytes=0-9", "If-Range", lm}, 206, RangeBody[:10], nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := f.do(t, "GET", "/range.bin", tc.hdr...)
			checkResponse(t, got, tc.status, tc.body, tc.want...)
		})
	}
	t.Run("multipart", func(t *testing.T) {
		got := f.do(t, "GET", "/range.bin", "Range", "bytes=0-4, 100-104")
		checkResponse(t, got, 206, nil)
		parts := ReadParts(t, got.Header.Get("Content-Type"), got.Body)
		want := []Part{
			{ContentRange: "bytes 0-4/1000", ContentType: "application/octet-stream", Body: RangeBody[0:5]},
			{ContentRange: "bytes 100-104/1000", ContentType: "application/octet-stream", Body: RangeBody[100:105]},
		}
		if fmt.Sprint(parts) != fmt.Sprint(want) {
			t.Errorf("parts = %q; want %q", parts, want)
		}
		if cl := got.Header.Get("Content-Length"); cl != fmt.Sprint(len(got.Body)) {
			t.Errorf("Content-Length = %s; want %d, the body's length", cl, len(got.Body))
		}
	})
}

// Part is one part of a multipart/byteranges body.
type Part struct {
	ContentRange, ContentType string
	Body                      []byte
}

// ReadParts parses a multipart/byteranges body.
func ReadParts(t testing.TB, contentType string, body []byte) []Part {
	t.Helper()
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/byteranges" {
		t.Fatalf("Content-Type = %q; want multipart/byteranges (%v)", contentType, err)
	}
	var parts []Part
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		parts = append(parts, Part{p.Header.Get("Content-Range"), p.Header.Get("Content-Type"), b})
	}
}

func (f *fixture) testHead(t *testing.T) {
	for _, hdr := range [][]string{nil, {"Range", "bytes=1-2"}, {"Range", "bytes=1-2,4-5"}} {
		get := f.do(t, "GET", "/range.bin", hdr...)
		head := f.do(t, "HEAD", "/range.bin", hdr...)
		checkResponse(t, head, get.Status, []byte{})
		for _, name := range []string{"Content-Length", "Content-Range", "Etag", "Last-Modified", "Accept-Ranges"} {
			if g, w := head.Header.Get(name), get.Header.Get(name); g != w {
				t.Errorf("HEAD with %q: %s = %q; want %q as for GET", hdr, name, g, w)
			}
		}
	}
	got := f.do(t, "HEAD", "/private/report.pdf")
	checkResponse(t, got, 403, []byte{}, "Content-Length", fmt.Sprint(len(cfsign.MissingKey.XML())))
}

// testHeaders checks that the adapter writes the plan's headers as they
// are: every one of them with its values, and nothing else but Date (and
// Connection, which answers the request's "Connection: close"). The plan
// is the edge's own answer to the same facts.
func (f *fixture) testHeaders(t *testing.T) {
	signed := f.signCanned(t, f.keys.Trusted, "/private/report.pdf", Now.Add(time.Hour))
	tests := []struct {
		method, target string
		hdr            []string
	}{
		{"GET", signed, nil},
		{"HEAD", signed, nil},
		{"GET", "/range.bin", []string{"Range", "bytes=1-2"}},
		{"GET", "/range.bin", []string{"Range", "bytes=1-2,4-5"}},
		{"HEAD", "/range.bin", []string{"Range", "bytes=1-2,4-5"}},
		{"GET", "/range.bin", []string{"Range", "bytes=5000-"}},
		{"GET", "/range.bin", []string{"If-None-Match", `"v1"`}},
		{"GET", "/range.bin", []string{"If-Match", `"v0"`}},
		{"GET", "/private/report.pdf", nil},
		{"HEAD", "/private/report.pdf", nil},
		{"GET", "/missing.txt", nil},
		{"POST", "/range.bin", nil},
		{"OPTIONS", "/options/x.txt", nil},
		{"GET", "/upgrade/x.txt", nil},
		{"GET", "/go/x.txt", nil},
		{"GET", "/public/hello.txt", nil},
	}
	for _, tc := range tests {
		got := f.do(t, tc.method, tc.target, tc.hdr...)
		req := &edge.Request{Method: tc.method, Scheme: "http", Host: f.host, Target: tc.target}
		for i := 0; i+1 < len(tc.hdr); i += 2 {
			switch tc.hdr[i] {
			case "Range":
				req.Range = tc.hdr[i+1]
			case "If-None-Match":
				req.IfNoneMatch = tc.hdr[i+1]
			case "If-Match":
				req.IfMatch = tc.hdr[i+1]
			}
		}
		plan := f.edge.Decide(t.Context(), req)
		name := fmt.Sprintf("%s %.40s %q", tc.method, tc.target, tc.hdr)
		if got.Status != plan.Status {
			t.Errorf("%s: status = %d; want the plan's %d", name, got.Status, plan.Status)
		}
		for k, want := range plan.Header {
			g := got.Header[k]
			const multi = "multipart/byteranges; boundary="
			if k == "Content-Type" && len(g) == 1 && strings.HasPrefix(g[0], multi) && strings.HasPrefix(want[0], multi) {
				g = want // a fresh boundary each time
			}
			if fmt.Sprint(g) != fmt.Sprint(want) {
				t.Errorf("%s: %s = %q; want the plan's %q", name, k, g, want)
			}
		}
		for k, v := range got.Header {
			switch {
			case k == "Date":
				if _, err := http.ParseTime(v[0]); err != nil || len(v) != 1 {
					t.Errorf("%s: Date = %q; want one HTTP date", name, v)
				}
			case k == "Connection" && fmt.Sprint(v) == "[close]":
			case plan.Header[k] == nil:
				t.Errorf("%s: %s = %q; the plan has no such header", name, k, v)
			}
		}
		if got.Header.Get("Date") == "" {
			t.Errorf("%s: no Date", name)
		}
	}
}

func (f *fixture) testMethods(t *testing.T) {
	for _, m := range []string{"POST", "PUT", "DELETE", "OPTIONS", "PATCH"} {
		got := f.do(t, m, "/range.bin")
		checkResponse(t, got, 405, nil, "Allow", "GET, HEAD")
	}
	got := f.do(t, "OPTIONS", "/options/x.txt")
	checkResponse(t, got, 204, []byte{}, "Allow", "GET, HEAD, OPTIONS")
}

func (f *fixture) testBadTargets(t *testing.T) {
	tests := []struct {
		target string
		status int
	}{
		{"/" + strings.Repeat("a", 9000), 414},
		{"/public/hello.txt?" + strings.Repeat("a", 8200), 414},
		{"/public/%2e%2e/private/report.pdf", 400},
		{"/public/%2E%2E/private/report.pdf", 400},
		{"/public/.%2e/private/report.pdf", 400},
		{"/public/../private/report.pdf", 400},
		{"/public/./hello.txt", 400},
		{"/private%2Freport.pdf", 400},
		{"/public%2fhello.txt", 400},
		{"//public/hello.txt", 400},
		{"/public//hello.txt", 400},
		{"/public%5Chello.txt", 400},
		{"/public\\hello.txt", 400},
		{"/public/hello%00.txt", 400},
		{"/public/hello%zz.txt", 400},
		{"/public/hello%2", 400},
		{"http://" + "example.com/public/hello.txt", 400},
		{"*", 400},
		{"?a=1", 400},
		{"/public/hello\x7f.txt", 400},
	}
	for _, tc := range tests {
		got := f.do(t, "GET", tc.target)
		if got.Status != tc.status {
			t.Errorf("GET %.60q = %d; want %d", tc.target, got.Status, tc.status)
		}
		if bytes.Contains(got.Body, []byte("Hello")) {
			t.Errorf("GET %.60q served the object", tc.target)
		}
	}
	if got := f.do(t, "CONNECT", "example.com:443"); got.Status != 400 {
		t.Errorf("CONNECT example.com:443 = %d; want 400", got.Status)
	}
	// The path is percent-decoded once: %2e is '.', and %2520 is the key
	// "a%20b", not "a b".
	got := f.do(t, "GET", "/public/hello%2etxt")
	checkResponse(t, got, 200, []byte("Hello, world\n"))
	got = f.do(t, "GET", "/public/a%2520b.txt")
	checkResponse(t, got, 200, []byte("a%20b"))
}

func (f *fixture) testNotFound(t *testing.T) {
	for _, target := range []string{"/missing.txt", "/", "/public/", "/public/hello.txt/"} {
		got := f.do(t, "GET", target)
		checkResponse(t, got, 404, []byte("Not Found\n"), "Content-Type", "text/plain; charset=utf-8")
	}
	got := f.do(t, "GET", "/public/hello.txt", "Host", "stream.test")
	checkResponse(t, got, 404, []byte("Not Found\n"))
}

func (f *fixture) testViewerProtocol(t *testing.T) {
	got := f.do(t, "GET", "/secure/x.txt")
	checkResponse(t, got, 403, []byte("Forbidden\n"), "Content-Type", "text/plain; charset=utf-8")
	got = f.do(t, "GET", "/upgrade/x.txt?a=1")
	checkResponse(t, got, 301, nil, "Location", "https://127.0.0.1/upgrade/x.txt?a=1")
}

func (f *fixture) testRedirectMode(t *testing.T) {
	got := f.do(t, "GET", "/go/x.txt")
	checkResponse(t, got, 302, nil, "Location", "https://storage.test/go/x.txt?ttl=60", "Cache-Control", "no-store")
	got = f.do(t, "GET", "/go/missing.txt")
	checkResponse(t, got, 404, nil)
}

func (f *fixture) testClientDisconnect(t *testing.T) {
	conn, err := dialRequest(t, f.base, "GET", "/block.bin", "Host", "stream.test")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-f.stream.opened:
	case <-time.After(30 * time.Second):
		t.Fatal("the origin was not opened within 30s of the request")
	}
	conn.Close()
	// The deadline only keeps a broken adapter from hanging the run.
	select {
	case err := <-f.stream.cancelled:
		if err != context.Canceled {
			t.Errorf("origin read ended with %v; want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the origin read was not cancelled after the client left")
	}
}

func (f *fixture) testLargeObject(t *testing.T) {
	size := StreamSize()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse

	req, err := http.NewRequestWithContext(t.Context(), "GET", f.base+"/big.bin", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "stream.test"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != size {
		t.Fatalf("GET big.bin = %d, %d bytes; want 200, %d bytes", resp.StatusCode, resp.ContentLength, size)
	}
	var peak uint64
	buf := make([]byte, 64<<10)
	var off, next int64
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 && !bytes.Equal(buf[:n], patternAt(off, n)) {
			t.Fatalf("bytes at %d differ from the object", off)
		}
		off += int64(n)
		if off >= next {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			next += 64 << 20
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
	}
	if off != size {
		t.Fatalf("read %d bytes; want %d", off, size)
	}
	const limit = 32 << 20
	grew := int64(peak) - int64(base)
	t.Logf("streamed %d MiB; HeapInuse %d KiB before, peak %d KiB", size>>20, base>>10, peak>>10)
	if grew > limit {
		t.Errorf("HeapInuse grew by %d MiB while streaming %d MiB; want under %d MiB", grew>>20, size>>20, limit>>20)
	}
}
