package edgetest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/access"
	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/origintest"
	"github.com/signet-dev/signet/internal/testenv"
)

// AccessOptions are what the access suite starts an adapter with: the
// settings every adapter takes besides its server's own.
type AccessOptions struct {
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
	Observer       access.Observer
}

// StartAccess serves e through the adapter under test, with opts, on a
// loopback listener and returns its base URL, "http://127.0.0.1:port", and
// stop, which stops the server and returns once every request it took has
// finished and been logged and observed. The server must also stop when the
// test ends; stop may be called before that.
type StartAccess func(t *testing.T, e *edge.Edge, opts AccessOptions) (base string, stop func())

// RunAccess runs the suite of what an adapter adds around the edge's
// decision: the access log (and that it never holds credentials), the
// observer, the viewer's address and scheme behind trusted proxies, and a
// body that fails after the status went out.
func RunAccess(t *testing.T, start StartAccess) {
	t.Run("LogHasNoCredentials", func(t *testing.T) { testLogHasNoCredentials(t, start) })
	t.Run("TrustedProxies", func(t *testing.T) { testTrustedProxies(t, start) })
	t.Run("TrailersAreNotHeaders", func(t *testing.T) { testTrailers(t, start) })
	t.Run("ClientIPCondition", func(t *testing.T) { testClientIPCondition(t, start) })
	t.Run("Observer", func(t *testing.T) { testObserver(t, start) })
	t.Run("BodyFailureAborts", func(t *testing.T) { testBodyFailureAborts(t, start) })
}

// Doc is the body of every object DocEdge serves.
var Doc = []byte("private bytes\n")

// DocEdge serves "doc.txt" behind "/private/*" (signed by keys.Trusted),
// "/secure/*" (https-only) and "*" (public), from the default distribution
// "main".
func DocEdge(t testing.TB, keys Keys) *edge.Edge {
	t.Helper()
	mem := origintest.NewMem()
	for _, key := range []string{"private/doc.txt", "secure/doc.txt", "doc.txt"} {
		mem.PutInfo(origin.Info{Key: key, ModTime: ModTime, ETag: `"d"`}, Doc)
	}
	e, err := edge.New(edge.Config{
		Now: func() time.Time { return Now },
		Distributions: []edge.Distribution{{
			Name:   "main",
			Origin: mem,
			Behaviors: []edge.Behavior{
				{PathPattern: "/private/*", Verifier: keys.Verifier},
				{PathPattern: "/secure/*", ViewerProtocol: edge.HTTPSOnly},
				{PathPattern: "*"},
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Get sends a GET for url with client, adding the header name, value pairs
// of hdr, and reads the whole response.
func Get(t testing.TB, client *http.Client, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// logBuffer collects JSON log lines; safe for concurrent use.
type logBuffer struct{ testenv.Buffer }

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(b, nil)) }

// records decodes the log lines.
func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for line := range strings.Lines(b.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		recs = append(recs, m)
	}
	return recs
}

// client returns a client of its own, whose idle connections close when
// the test ends.
func client(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func testLogHasNoCredentials(t *testing.T, start StartAccess) {
	keys := NewKeys(t)
	var logs logBuffer
	base, stop := start(t, DocEdge(t, keys), AccessOptions{Logger: logs.logger()})
	c := client(t)

	// A signed URL that fails: signed for one path, used on another.
	signed, err := keys.Trusted.SignCanned(base+"/private/other.txt", Now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	_, query := cfsign.SplitTarget(signed)
	resp, got := Get(t, c, base+"/private/doc.txt?"+query)
	if resp.StatusCode != 403 || !bytes.Equal(got, cfsign.AccessDenied.XML()) {
		t.Fatalf("tampered URL = %d %q; want 403 AccessDenied", resp.StatusCode, got)
	}
	// Signed cookies that fail: expired.
	cookies, err := keys.Trusted.SignCannedCookies(base+"/private/doc.txt", Now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for _, c := range cookies {
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	resp, _ = Get(t, c, base+"/private/doc.txt", "Cookie", strings.Join(pairs, "; "))
	if resp.StatusCode != 403 {
		t.Fatalf("expired cookies = %d; want 403", resp.StatusCode)
	}
	stop() // waits for the requests, and so for their log lines

	log := logs.String()
	var secrets []string
	for _, elem := range strings.Split(query, "&") {
		name, value, _ := strings.Cut(elem, "=")
		if name == "Signature" || name == "Expires" {
			secrets = append(secrets, value)
		}
	}
	for _, c := range cookies {
		if c.Name != "CloudFront-Key-Pair-Id" && c.Name != "CloudFront-Hash-Algorithm" {
			secrets = append(secrets, c.Value)
		}
	}
	secrets = append(secrets, "Signature", "Policy", "Expires=", "CloudFront-")
	for _, s := range secrets {
		if strings.Contains(log, s) {
			t.Errorf("access log contains %.40q:\n%s", s, log)
		}
	}

	recs := logs.records(t)
	if len(recs) != 2 {
		t.Fatalf("got %d log records; want 2:\n%s", len(recs), log)
	}
	want := map[string]any{
		"msg": "request", "level": "INFO", "method": "GET", "uri_stem": "/private/doc.txt",
		"status": 403.0, "result": "Deny", "key_id": keys.Trusted.KeyID(), "distribution": "main",
		"behavior": "/private/*", "client_ip": "127.0.0.1", "host": strings.TrimPrefix(base, "http://"),
		"protocol": "HTTP/1.1", "scheme": "http",
	}
	for _, rec := range recs {
		for k, v := range want {
			if rec[k] != v {
				t.Errorf("log %s = %v; want %v", k, rec[k], v)
			}
		}
		for _, k := range []string{"time", "bytes", "time_taken", "reason"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("log record has no %s: %v", k, rec)
			}
		}
	}
	if r := recs[0]["reason"]; !strings.Contains(r.(string), "signature does not verify") {
		t.Errorf("reason = %q; want the signature failure (canned: the rebuilt resource differs)", r)
	}
	if r := recs[1]["reason"]; !strings.Contains(r.(string), "expired") {
		t.Errorf("reason = %q; want the expiry", r)
	}
	if b := recs[0]["bytes"]; b != float64(len(cfsign.AccessDenied.XML())) {
		t.Errorf("bytes = %v; want %d", b, len(cfsign.AccessDenied.XML()))
	}
}

func testTrustedProxies(t *testing.T, start StartAccess) {
	keys := NewKeys(t)
	e := DocEdge(t, keys)
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	private := netip.MustParsePrefix("10.0.0.0/8")
	tests := []struct {
		name    string
		trusted []netip.Prefix
		hdr     []string
		client  string // logged client_ip
		scheme  string // logged scheme
	}{
		{"no proxies", nil, []string{"X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "https"}, "127.0.0.1", "http"},
		{"untrusted peer", []netip.Prefix{private}, []string{"X-Forwarded-For", "203.0.113.7"}, "127.0.0.1", "http"},
		{"one hop", []netip.Prefix{loopback}, []string{"X-Forwarded-For", "203.0.113.7", "X-Forwarded-Proto", "https"}, "203.0.113.7", "https"},
		{"spoofed left", []netip.Prefix{loopback}, []string{"X-Forwarded-For", "203.0.113.7, 198.51.100.9"}, "198.51.100.9", "http"},
		{"trusted chain", []netip.Prefix{loopback, private}, []string{"X-Forwarded-For", "203.0.113.7,10.0.0.2", "X-Forwarded-For", "10.0.0.1"}, "203.0.113.7", "http"},
		{"all trusted", []netip.Prefix{loopback, private}, []string{"X-Forwarded-For", "10.0.0.2, 10.0.0.1"}, "10.0.0.2", "http"},
		{"garbage", []netip.Prefix{loopback, private}, []string{"X-Forwarded-For", "203.0.113.7, junk, 10.0.0.1"}, "10.0.0.1", "http"},
		{"port and mapped", []netip.Prefix{loopback}, []string{"X-Forwarded-For", "[::ffff:203.0.113.7]:4711"}, "203.0.113.7", "http"},
		{"bad proto", []netip.Prefix{loopback}, []string{"X-Forwarded-Proto", "ftp"}, "127.0.0.1", "http"},
		{"first proto", []netip.Prefix{loopback}, []string{"X-Forwarded-Proto", "HTTPS, http"}, "127.0.0.1", "https"},
		{"second proto header", []netip.Prefix{loopback}, []string{"X-Forwarded-Proto", "http", "X-Forwarded-Proto", "https"}, "127.0.0.1", "http"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			base, stop := start(t, e, AccessOptions{TrustedProxies: tc.trusted, Logger: logs.logger()})
			resp, _ := Get(t, client(t), base+"/secure/doc.txt", tc.hdr...)
			stop()
			rec := logs.records(t)[0]
			if rec["client_ip"] != tc.client || rec["scheme"] != tc.scheme {
				t.Errorf("client_ip, scheme = %v, %v; want %s, %s", rec["client_ip"], rec["scheme"], tc.client, tc.scheme)
			}
			// https-only: the scheme the proxy reports decides.
			if want := map[string]int{"http": 403, "https": 200}[tc.scheme]; resp.StatusCode != want {
				t.Errorf("https-only status = %d; want %d", resp.StatusCode, want)
			}
		})
	}
}

// testTrailers sends the forwarding headers again as trailers of a chunked
// request body: a trusted proxy vouches for the header section only, so
// the trailers must change nothing. (They are not declared in a Trailer
// header: fasthttp refuses a request that declares these.)
func testTrailers(t *testing.T, start StartAccess) {
	var logs logBuffer
	base, stop := start(t, DocEdge(t, NewKeys(t)), AccessOptions{
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Logger:         logs.logger(),
	})
	var d net.Dialer
	conn, err := d.DialContext(t.Context(), "tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /secure/doc.txt HTTP/1.1\r\nHost: "+strings.TrimPrefix(base, "http://")+"\r\n"+
		"X-Forwarded-For: 203.0.113.7\r\nTransfer-Encoding: chunked\r\n"+
		"Connection: close\r\n\r\n"+
		"1\r\nx\r\n0\r\nX-Forwarded-For: 198.51.100.1\r\nX-Forwarded-Proto: https\r\n\r\n")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	stop()
	if resp.StatusCode != 403 {
		t.Errorf("https-only with an https trailer = %d; want 403", resp.StatusCode)
	}
	recs := logs.records(t)
	if len(recs) != 1 || recs[0]["client_ip"] != "203.0.113.7" || recs[0]["scheme"] != "http" {
		t.Errorf("log = %v; want one record with client_ip 203.0.113.7, scheme http", recs)
	}
}

// testClientIPCondition checks that a policy's IpAddress condition sees the
// forwarded client only behind a trusted proxy.
func testClientIPCondition(t *testing.T, start StartAccess) {
	keys := NewKeys(t)
	e := DocEdge(t, keys)
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		status  int
	}{
		{"trusted", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, 200},
		{"untrusted", nil, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, _ := start(t, e, AccessOptions{TrustedProxies: tc.trusted})
			p := &cfsign.Policy{
				Resource: base + "/private/*", HasResource: true,
				Expires: Now.Add(time.Hour).Unix(), SourceIP: netip.MustParsePrefix("203.0.113.0/24"),
			}
			signed, err := keys.Trusted.SignCustom(base+"/private/doc.txt", p)
			if err != nil {
				t.Fatal(err)
			}
			resp, got := Get(t, client(t), signed, "X-Forwarded-For", "203.0.113.7")
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d %q; want %d", resp.StatusCode, got, tc.status)
			}
		})
	}
}

func testObserver(t *testing.T, start StartAccess) {
	keys := NewKeys(t)
	var mu sync.Mutex
	var seen []access.Record
	base, stop := start(t, DocEdge(t, keys), AccessOptions{
		Observer: access.ObserverFunc(func(p *edge.Plan, rec *access.Record) {
			mu.Lock()
			defer mu.Unlock()
			if p.Status != rec.Status || p.Result != rec.Result {
				t.Errorf("record %d %s disagrees with plan %d %s", rec.Status, rec.Result, p.Status, p.Result)
			}
			seen = append(seen, *rec)
		}),
	})
	c := client(t)
	Get(t, c, base+"/doc.txt?x=1")
	Get(t, c, base+"/private/doc.txt")
	Get(t, c, base+"/missing")
	stop()
	type row struct {
		stem, result string
		status       int
		bytes        int64
	}
	var got []row
	for _, r := range seen {
		got = append(got, row{r.URIStem, r.Result, r.Status, r.Bytes})
	}
	want := []row{
		{"/doc.txt", edge.ResultAllow, 200, int64(len(Doc))},
		{"/private/doc.txt", edge.ResultDeny, 403, int64(len(cfsign.MissingKey.XML()))},
		{"/missing", edge.ResultNotFound, 404, int64(len("Not Found\n"))},
	}
	if len(got) != len(want) {
		t.Fatalf("observed %v; want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("observed[%d] = %v; want %v", i, got[i], want[i])
		}
	}
}

// failingRead is an origin whose reads fail after their first bytes, once
// the status has gone out.
type failingRead struct{ *origintest.Mem }

func (failingRead) Open(context.Context, origin.Info, int64, int64) (io.ReadCloser, error) {
	return io.NopCloser(io.MultiReader(strings.NewReader("partial"), iotest.ErrReader(origin.ErrChanged))), nil
}

func testBodyFailureAborts(t *testing.T, start StartAccess) {
	mem := origintest.NewMem()
	mem.PutInfo(origin.Info{Key: "a.txt", ModTime: ModTime, ETag: `"a"`}, Doc)
	e, err := edge.New(edge.Config{Distributions: []edge.Distribution{{
		Name: "main", Origin: failingRead{mem}, Behaviors: []edge.Behavior{{PathPattern: "*"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	base, stop := start(t, e, AccessOptions{Logger: logs.logger()})
	req, err := http.NewRequestWithContext(t.Context(), "GET", base+"/a.txt", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client(t).Do(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Errorf("GET with a failing origin read completed cleanly; want the response aborted")
	}
	stop()
	rec := logs.records(t)[0]
	if rec["level"] != "ERROR" || rec["result"] != edge.ResultOriginError || !strings.Contains(rec["reason"].(string), "object changed") {
		t.Errorf("log = %v; want level ERROR, result OriginError, reason object changed", rec)
	}
}
