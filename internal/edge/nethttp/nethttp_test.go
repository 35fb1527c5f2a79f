package nethttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/edgetest"
	"github.com/signet-dev/signet/internal/edge/nethttp"
	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/testenv"
)

var body = []byte("private bytes\n")

// newEdge serves "doc.txt" behind "/private/*" (signed), "/secure/*"
// (https-only) and "*" (public).
func newEdge(t *testing.T, keys edgetest.Keys) *edge.Edge {
	t.Helper()
	mem := edgetest.NewMem()
	for _, key := range []string{"private/doc.txt", "secure/doc.txt", "doc.txt"} {
		mem.Put(origin.Info{Key: key, ModTime: edgetest.ModTime, ETag: `"d"`}, body)
	}
	e, err := edge.New(edge.Config{
		Now: func() time.Time { return edgetest.Now },
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

// logBuffer collects JSON log lines; safe for concurrent use.
type logBuffer struct{ testenv.Buffer }

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

func get(t *testing.T, client *http.Client, url string, hdr ...string) (*http.Response, []byte) {
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

func TestAccessLogHasNoCredentials(t *testing.T) {
	keys := edgetest.NewKeys(t)
	var logs logBuffer
	srv := httptest.NewServer(nethttp.NewHandler(newEdge(t, keys), nethttp.Options{
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	}))
	defer srv.Close()

	// A signed URL that fails: signed for one path, used on another.
	signed, err := keys.Trusted.SignCanned(srv.URL+"/private/other.txt", edgetest.Now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	_, query := cfsign.SplitTarget(signed)
	resp, got := get(t, srv.Client(), srv.URL+"/private/doc.txt?"+query)
	if resp.StatusCode != 403 || !bytes.Equal(got, cfsign.AccessDenied.XML()) {
		t.Fatalf("tampered URL = %d %q; want 403 AccessDenied", resp.StatusCode, got)
	}
	// Signed cookies that fail: expired.
	cookies, err := keys.Trusted.SignCannedCookies(srv.URL+"/private/doc.txt", edgetest.Now.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for _, c := range cookies {
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	resp, _ = get(t, srv.Client(), srv.URL+"/private/doc.txt", "Cookie", strings.Join(pairs, "; "))
	if resp.StatusCode != 403 {
		t.Fatalf("expired cookies = %d; want 403", resp.StatusCode)
	}
	srv.Close() // waits for the handlers, and so for their log lines

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
		"behavior": "/private/*", "client_ip": "127.0.0.1", "host": strings.TrimPrefix(srv.URL, "http://"),
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

func TestTrustedProxies(t *testing.T) {
	keys := edgetest.NewKeys(t)
	e := newEdge(t, keys)
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			srv := httptest.NewServer(nethttp.NewHandler(e, nethttp.Options{
				TrustedProxies: tc.trusted,
				Logger:         slog.New(slog.NewJSONHandler(&logs, nil)),
			}))
			defer srv.Close()
			resp, _ := get(t, srv.Client(), srv.URL+"/secure/doc.txt", tc.hdr...)
			srv.Close()
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

// TestClientIPCondition checks that a policy's IpAddress condition sees the
// forwarded client only behind a trusted proxy.
func TestClientIPCondition(t *testing.T) {
	keys := edgetest.NewKeys(t)
	e := newEdge(t, keys)
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		status  int
	}{
		{"trusted", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, 200},
		{"untrusted", nil, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(nethttp.NewHandler(e, nethttp.Options{TrustedProxies: tc.trusted}))
			defer srv.Close()
			p := &cfsign.Policy{
				Resource: srv.URL + "/private/*", HasResource: true,
				Expires: edgetest.Now.Add(time.Hour).Unix(), SourceIP: netip.MustParsePrefix("203.0.113.0/24"),
			}
			signed, err := keys.Trusted.SignCustom(srv.URL+"/private/doc.txt", p)
			if err != nil {
				t.Fatal(err)
			}
			resp, got := get(t, srv.Client(), signed, "X-Forwarded-For", "203.0.113.7")
			if resp.StatusCode != tc.status {
				t.Errorf("status = %d %q; want %d", resp.StatusCode, got, tc.status)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	keys := edgetest.NewKeys(t)
	srv := httptest.NewTLSServer(nethttp.NewHandler(newEdge(t, keys), nethttp.Options{}))
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("server URL %q is not https", srv.URL)
	}
	resp, got := get(t, srv.Client(), srv.URL+"/secure/doc.txt")
	if resp.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Errorf("https-only over TLS = %d %q; want 200 %q", resp.StatusCode, got, body)
	}
	// A link signed for https:// verifies over TLS, not over http.
	signed, err := keys.Trusted.SignCanned(srv.URL+"/private/doc.txt", edgetest.Now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	resp, got = get(t, srv.Client(), signed)
	if resp.StatusCode != 200 || !bytes.Equal(got, body) {
		t.Errorf("https link over TLS = %d %q; want 200", resp.StatusCode, got)
	}
	plain := httptest.NewServer(srv.Config.Handler)
	defer plain.Close()
	signed, err = keys.Trusted.SignCanned("https://"+strings.TrimPrefix(plain.URL, "http://")+"/private/doc.txt", edgetest.Now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	_, query := cfsign.SplitTarget(signed)
	resp, got = get(t, plain.Client(), plain.URL+"/private/doc.txt?"+query)
	if resp.StatusCode != 403 || !bytes.Equal(got, cfsign.AccessDenied.XML()) {
		t.Errorf("https link over http = %d %q; want 403 AccessDenied", resp.StatusCode, got)
	}
}

func TestObserver(t *testing.T) {
	keys := edgetest.NewKeys(t)
	var mu sync.Mutex
	var seen []nethttp.AccessRecord
	srv := httptest.NewServer(nethttp.NewHandler(newEdge(t, keys), nethttp.Options{
		Observer: nethttp.ObserverFunc(func(p *edge.Plan, rec *nethttp.AccessRecord) {
			mu.Lock()
			defer mu.Unlock()
			if p.Status != rec.Status || p.Result != rec.Result {
				t.Errorf("record %d %s disagrees with plan %d %s", rec.Status, rec.Result, p.Status, p.Result)
			}
			seen = append(seen, *rec)
		}),
	}))
	defer srv.Close()
	get(t, srv.Client(), srv.URL+"/doc.txt?x=1")
	get(t, srv.Client(), srv.URL+"/private/doc.txt")
	get(t, srv.Client(), srv.URL+"/missing")
	srv.Close()
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
		{"/doc.txt", edge.ResultAllow, 200, int64(len(body))},
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

// failingOpen is an origin whose reads fail after a successful Stat.
type failingOpen struct{ *edgetest.Mem }

func (failingOpen) Open(context.Context, origin.Info, int64, int64) (io.ReadCloser, error) {
	return nil, origin.ErrChanged
}

func TestBodyFailureAborts(t *testing.T) {
	mem := edgetest.NewMem()
	mem.Put(origin.Info{Key: "a.txt", ModTime: edgetest.ModTime, ETag: `"a"`}, body)
	e, err := edge.New(edge.Config{Distributions: []edge.Distribution{{
		Name: "main", Origin: failingOpen{mem}, Behaviors: []edge.Behavior{{PathPattern: "*"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	srv := httptest.NewServer(nethttp.NewHandler(e, nethttp.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}))
	defer srv.Close()
	req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/a.txt", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Errorf("GET with a failing origin read completed cleanly; want the response aborted")
	}
	srv.Close()
	rec := logs.records(t)[0]
	if rec["level"] != "ERROR" || rec["result"] != edge.ResultOriginError || !strings.Contains(rec["reason"].(string), "object changed") {
		t.Errorf("log = %v; want level ERROR, result OriginError, reason object changed", rec)
	}
}
