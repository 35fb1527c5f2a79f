package e2e_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	awssign "github.com/aws/aws-sdk-go-v2/feature/cloudfront/sign"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/edge/edgetest"
	"github.com/signet-dev/signet/internal/testenv"
)

// The files of the dir origin, shared by the tests below.
var files = map[string]string{
	"public/hello.txt":     "hello, world\n",
	"videos/x/index.m3u8":  "#EXTM3U\n#EXTINF:4,\nseg-001.ts\n#EXTINF:4,\nseg-002.ts\n",
	"videos/x/seg-001.ts":  strings.Repeat("segment one ", 100),
	"videos/x/seg-002.ts":  strings.Repeat("segment two ", 100),
	"videos/y/seg-001.ts":  "another video",
	"docs/report.pdf":      "%PDF-1.7 not really a pdf",
	"docs/a b+c'd.txt":     "spaces, plus and quote",
	"docs/café/menü.txt":   "unicode path",
	"restricted/plan.txt":  "for the other key group only",
	"range.bin":            "0123456789abcdefghijklmnopqrstuvwxyz",
	"q/search.json":        `{"results":[]}`,
	"nested/deep/file.txt": "deep",
}

// edge is a running signet serve over a dir origin, with its keys.
type edge struct {
	*proc
	main, ec, legacy, other testKey
	dir                     string
}

// startDirEdge starts signet with a config of four behaviors:
//
//	/public/*      public
//	/restricted/*  key group "other"
//	/videos/*      key group "main"
//	*              key groups "main" and "legacy"
func startDirEdge(t *testing.T, adapter, extra string) *edge {
	t.Helper()
	e := &edge{
		main:   loadTestKey(t, "rsa2048", ""),
		ec:     loadTestKey(t, "p256", ""),
		legacy: loadTestKey(t, "rsa1024", "APKA9ONS7QCOWEXAMPLE"),
		dir:    t.TempDir(),
	}
	// The "other" group's key: the EC key under another id is enough to
	// show that trust is per behavior, by id.
	e.other = loadTestKey(t, "p256", "KOTHERGROUPKEY1")
	filesDir := filepath.Join(e.dir, "files")
	writeFiles(t, filesDir, files)
	addr, admin := testenv.FreeAddr(t), testenv.FreeAddr(t)
	cfg := fmt.Sprintf(`
listeners:
  - address: %s
    adapter: %s
admin:
  address: %s
  pprof: true
timeouts: {shutdown: 20s}
key_groups:
  main:
    - {id: %s, public_key_file: %s}
    - {id: %s, public_key_file: %s}
  legacy:
    - {id: %s, public_key_file: %s}
  other:
    - {id: %s, public_key_file: %s}
distributions:
  - name: media
    origin:
      type: dir
      dir: {path: %s}
    behaviors:
      - path: /public/*
        public: true
      - path: /restricted/*
        key_groups: [other]
      - path: /videos/*
        key_groups: [main]
      - path: "*"
        key_groups: [main, legacy]
%s`, addr, adapter, admin, e.main.id, e.main.pubFile, e.ec.id, e.ec.pubFile, e.legacy.id, e.legacy.pubFile,
		e.other.id, e.other.pubFile, filesDir, extra)
	cfgFile := filepath.Join(e.dir, "signet.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	e.proc = startSignet(t, addr, admin, nil, "serve", "--config", cfgFile)
	return e
}

// url returns the edge URL for a raw (already encoded) path and query.
func (e *edge) url(target string) string { return e.base + target }

func (e *edge) canned(t *testing.T, k testKey, h cfsign.Hash, target string, expires time.Time) string {
	t.Helper()
	u, err := k.cfSigner(t, h).SignCanned(e.url(target), expires)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func wantXML(t *testing.T, what string, resp *http.Response, body []byte, code cfsign.Code) {
	t.Helper()
	if resp.StatusCode != 403 || string(body) != string(code.XML()) || resp.Header.Get("Content-Type") != "text/xml" {
		t.Errorf("%s: %d %q %s; want 403 text/xml %s", what, resp.StatusCode, resp.Header.Get("Content-Type"), body, code.XML())
	}
	if resp.Header.Get("X-Signet-Reason") != "" {
		t.Errorf("%s: X-Signet-Reason is sent without debug_reason_header", what)
	}
}

func want200(t *testing.T, what string, resp *http.Response, body []byte, content string) {
	t.Helper()
	if resp.StatusCode != 200 || string(body) != content {
		t.Errorf("%s: %d %q; want 200 %q", what, resp.StatusCode, truncate(body), truncate([]byte(content)))
	}
}

func truncate(b []byte) string {
	if len(b) > 120 {
		return string(b[:120]) + "..."
	}
	return string(b)
}

// forEachAdapter runs test against a signet serve whose listener uses each
// HTTP adapter in turn: they share one edge core, and a difference between
// them is a bug.
func forEachAdapter(t *testing.T, test func(t *testing.T, adapter string)) {
	for _, adapter := range []string{"nethttp", "fasthttp"} {
		t.Run(adapter, func(t *testing.T) { test(t, adapter) })
	}
}

// TestReferenceSignedLinks: links signed by the three AWS reference signers
// return 200 with the exact bytes.
func TestReferenceSignedLinks(t *testing.T) { forEachAdapter(t, testReferenceSignedLinks) }

func testReferenceSignedLinks(t *testing.T, adapter string) {
	e := startDirEdge(t, adapter, "")
	exp := time.Now().Add(time.Hour).Unix()
	targets := map[string]string{ // request path -> file
		"/docs/report.pdf":               "docs/report.pdf",
		"/docs/a%20b+c'd.txt":            "docs/a b+c'd.txt",
		"/docs/caf%C3%A9/men%C3%BC.txt":  "docs/café/menü.txt",
		"/q/search.json?q=a%20b&lang=en": "q/search.json",
		"/nested/deep/file.txt":          "nested/deep/file.txt",
		"/videos/x/index.m3u8":           "videos/x/index.m3u8",
	}
	count := map[string]int{}
	check := func(ref, id, signed, file string) {
		resp, body := get(t, signed, "")
		want200(t, ref+" "+id, resp, body, files[file])
		count[ref]++
	}

	// aws-sdk-go-v2, in process: RSA and ECDSA (SHA-1), canned and custom.
	for target, file := range targets {
		for _, k := range []testKey{e.main, e.ec} {
			s := awssign.NewURLSigner(k.id, k.signer)
			u, err := s.Sign(e.url(target), time.Unix(exp, 0))
			if err != nil {
				t.Fatal(err)
			}
			check("aws-sdk-go-v2", target, u, file)
			p := &awssign.Policy{Statements: []awssign.Statement{{
				Resource:  e.base + "/*",
				Condition: awssign.Condition{DateLessThan: awssign.NewAWSEpochTime(time.Unix(exp, 0))},
			}}}
			u, err = s.SignWithPolicy(e.url(target), p)
			if err != nil {
				t.Fatal(err)
			}
			check("aws-sdk-go-v2", target+" custom", u, file)
		}
	}

	// botocore (SHA-1; RSA and ECDSA) and @aws-sdk/cloudfront-signer
	// (SHA-1 and SHA-256), through the interop drivers.
	type variant struct {
		k    testKey
		hash string
	}
	for _, ref := range []struct {
		r        testenv.Reference
		variants []variant
	}{
		{testenv.Botocore(), []variant{{e.main, "sha1"}, {e.ec, "sha1"}, {e.legacy, "sha1"}}},
		{testenv.JS(), []variant{{e.main, "sha1"}, {e.main, "sha256"}, {e.ec, "sha256"}}},
	} {
		var cases []testenv.RefCase
		var want []string
		var wrongBehavior []bool
		for target, file := range targets {
			for i, v := range ref.variants {
				cases = append(cases, testenv.RefCase{ID: fmt.Sprintf("%s-%d", target, i), KeyPEM: string(v.k.pem),
					KeyID: v.k.id, URL: e.url(target), Expires: exp, Hash: v.hash})
				want = append(want, file)
				// The legacy key is trusted by the default behavior only.
				wrongBehavior = append(wrongBehavior, v.k.id == e.legacy.id && strings.HasPrefix(target, "/videos/"))
			}
		}
		for i, r := range ref.r.Sign(t, cases) {
			if r.Error != nil || r.URL == nil {
				t.Errorf("%s %s: %v", ref.r.Name, cases[i].ID, r.Error)
				continue
			}
			if wrongBehavior[i] {
				resp, body := get(t, *r.URL, "")
				wantXML(t, ref.r.Name+" "+cases[i].ID+" on a behavior that does not trust the key", resp, body, cfsign.InvalidKey)
				continue
			}
			check(ref.r.Name, cases[i].ID, *r.URL, want[i])
		}
	}
	t.Logf("links served with the exact bytes: %v", count)
}

// TestRefusals: expired, tampered, missing-key and wrong-behavior links get
// CloudFront's exact XML.
func TestRefusals(t *testing.T) { forEachAdapter(t, testRefusals) }

func testRefusals(t *testing.T, adapter string) {
	e := startDirEdge(t, adapter, "")
	now := time.Now()
	good := e.canned(t, e.main, cfsign.SHA1, "/docs/report.pdf", now.Add(time.Hour))
	resp, body := get(t, good, "")
	want200(t, "good link", resp, body, files["docs/report.pdf"])

	expired := e.canned(t, e.main, cfsign.SHA1, "/docs/report.pdf", now.Add(-time.Second))
	sig := regexp.MustCompile(`Signature=([^&]+)`).FindStringSubmatch(good)[1]
	tampered := strings.Replace(good, sig, "A"+sig[1:], 1)
	if tampered == good {
		tampered = strings.Replace(good, sig, "B"+sig[1:], 1)
	}
	wrongBehavior := e.canned(t, e.main, cfsign.SHA1, "/restricted/plan.txt", now.Add(time.Hour))
	otherKeyHere := e.canned(t, e.other, cfsign.SHA256, "/restricted/plan.txt", now.Add(time.Hour))

	for _, tc := range []struct {
		name string
		url  string
		code cfsign.Code
	}{
		{"expired", expired, cfsign.AccessDenied},
		{"tampered signature", tampered, cfsign.AccessDenied},
		{"parameter added after signing", good + "&page=2", cfsign.AccessDenied},
		{"no credentials", e.url("/docs/report.pdf"), cfsign.MissingKey},
		{"key id removed", strings.Replace(good, "&Key-Pair-Id="+e.main.id, "", 1), cfsign.MissingKey},
		{"wrong behavior (key not trusted there)", wrongBehavior, cfsign.InvalidKey},
		{"standard base64", strings.Replace(good, "Signature=", "Signature=+/", 1), cfsign.MalformedSignature},
		{"milliseconds", strings.Replace(good, "Expires=", "Expires=1000", 1), cfsign.MalformedPolicy},
	} {
		resp, body := get(t, tc.url, "")
		wantXML(t, tc.name, resp, body, tc.code)
	}
	resp, body = get(t, otherKeyHere, "")
	want200(t, "other group's key on its behavior", resp, body, files["restricted/plan.txt"])

	// Public behavior: no signature needed; signing parameters are
	// stripped, never passed on.
	resp, body = get(t, e.url("/public/hello.txt"), "")
	want200(t, "public", resp, body, files["public/hello.txt"])
	resp, body = get(t, e.url("/public/hello.txt?Expires=1&Signature=x&Key-Pair-Id=y"), "")
	want200(t, "public with stray signing parameters", resp, body, files["public/hello.txt"])

	// Path safety: 400 before any verification, never a file outside.
	for _, target := range []string{"/public/../restricted/plan.txt", "/public/%2e%2e/restricted/plan.txt",
		"/public/..%2Frestricted/plan.txt", "/public//hello.txt", "/public/%5c..%5crestricted"} {
		resp, _ := get(t, e.url(target), "")
		if resp.StatusCode != 400 {
			t.Errorf("GET %s = %d; want 400", target, resp.StatusCode)
		}
	}
	resp, _ = get(t, e.url("/public/"+strings.Repeat("a", 9000)), "")
	if resp.StatusCode != 414 {
		t.Errorf("9,000-byte URL = %d; want 414", resp.StatusCode)
	}
	resp, _ = get(t, e.url("/public/"), "")
	if resp.StatusCode != 404 {
		t.Errorf("directory = %d; want 404 (no listings)", resp.StatusCode)
	}
	resp, _ = get(t, e.url("/public/missing.txt"), "")
	if resp.StatusCode != 404 {
		t.Errorf("missing = %d; want 404", resp.StatusCode)
	}
	resp, _ = do(t, http.DefaultClient, "POST", good, "")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") == "" {
		t.Errorf("POST = %d, Allow %q; want 405 with Allow", resp.StatusCode, resp.Header.Get("Allow"))
	}

	// The access log has every request, and no credentials. A request's
	// line is written after its response, so wait for them.
	var logs string
	testenv.Wait(t, "an access log line per request", func() error {
		logs = e.stdout.String()
		if n := strings.Count(logs, "\n"); n < 15 {
			return fmt.Errorf("access log has %d lines; want one per request:\n%s", n, truncate([]byte(logs)))
		}
		for _, want := range []string{`"status":403`, `"key_id":"` + e.main.id + `"`, `"uri_stem":"/docs/report.pdf"`, `"status":405`} {
			if !strings.Contains(logs, want) {
				return fmt.Errorf("access log lacks %s:\n%s", want, truncate([]byte(logs)))
			}
		}
		return nil
	})
	for _, secret := range []string{sig, "Signature=", "Key-Pair-Id=", "Expires="} {
		if strings.Contains(logs, secret) || strings.Contains(e.stderr.String(), secret) {
			t.Errorf("logs contain %q", secret)
		}
	}

	// Metrics on the admin listener.
	resp, body = get(t, e.admin+"/metrics", "")
	if resp.StatusCode != 200 {
		t.Errorf("GET /metrics = %d; want 200", resp.StatusCode)
	}
	for _, want := range []string{
		`signet_requests_total{behavior="*",distribution="media",status="200"}`,
		`signet_denials_total{code="AccessDenied",reason="expired"} 1`,
		`signet_denials_total{code="InvalidKey",reason="unknown_key"} 1`,
		`signet_key_requests_total{key_id="` + e.main.id + `",outcome="allowed"}`,
		`signet_key_last_seen_timestamp_seconds{key_id="` + e.main.id + `"}`,
		`signet_origin_duration_seconds_bucket{distribution="media",op="stat"`,
		`signet_bytes_sent_total{distribution="media"}`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, path := range []string{"/healthz", "/readyz", "/debug/pprof/", "/debug/pprof/heap"} {
		if resp, _ := get(t, e.admin+path, ""); resp.StatusCode != 200 {
			t.Errorf("%s = %d; want 200", path, resp.StatusCode)
		}
	}
}

// TestHLSCookies: one custom-policy wildcard cookie opens every segment under
// a prefix, and nothing outside it.
func TestHLSCookies(t *testing.T) { forEachAdapter(t, testHLSCookies) }

func testHLSCookies(t *testing.T, adapter string) {
	e := startDirEdge(t, adapter, "")
	p := &cfsign.Policy{Resource: e.base + "/videos/x/*", HasResource: true, Expires: time.Now().Add(time.Hour).Unix()}
	policy, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := e.main.cfSigner(t, cfsign.SHA256).SignCookiesWithPolicy(policy)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.Name+"="+c.Value)
	}
	cookie := "theme=dark; " + strings.Join(parts, "; ")
	for _, f := range []string{"videos/x/index.m3u8", "videos/x/seg-001.ts", "videos/x/seg-002.ts"} {
		resp, body := get(t, e.url("/"+f), cookie)
		want200(t, "cookie "+f, resp, body, files[f])
	}
	for _, target := range []string{"/videos/y/seg-001.ts", "/docs/report.pdf", "/videos/x"} {
		resp, body := get(t, e.url(target), cookie)
		wantXML(t, "cookie outside the prefix "+target, resp, body, cfsign.AccessDenied)
	}
	// Query parameters with a reserved name switch to URL mode: cookies
	// are then ignored.
	resp, body := get(t, e.url("/videos/x/seg-001.ts?Key-Pair-Id="+e.main.id), cookie)
	wantXML(t, "reserved name in the query", resp, body, cfsign.MalformedPolicy)
}

// TestRangesAndConditionals: Range, If-None-Match and If-Modified-Since on a
// signed link, decided by the edge core.
func TestRangesAndConditionals(t *testing.T) { forEachAdapter(t, testRangesAndConditionals) }

func testRangesAndConditionals(t *testing.T, adapter string) {
	e := startDirEdge(t, adapter, "")
	u := e.canned(t, e.ec, cfsign.SHA256, "/range.bin", time.Now().Add(time.Hour))
	full := files["range.bin"]
	resp, body := get(t, u, "", "Range: bytes=2-5")
	if resp.StatusCode != 206 || string(body) != full[2:6] || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 2-5/%d", len(full)) {
		t.Errorf("Range 2-5 = %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
	}
	resp, body = get(t, u, "", "Range: bytes=-4")
	if resp.StatusCode != 206 || string(body) != full[len(full)-4:] {
		t.Errorf("Range -4 = %d %q", resp.StatusCode, body)
	}
	resp, _ = get(t, u, "", "Range: bytes=1000-")
	if resp.StatusCode != 416 {
		t.Errorf("Range past the end = %d; want 416", resp.StatusCode)
	}
	resp, body = get(t, u, "", "Range: bytes=0-1,4-5")
	if resp.StatusCode != 206 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") {
		t.Errorf("multi range = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	} else if parts := edgetest.ReadParts(t, resp.Header.Get("Content-Type"), body); len(parts) != 2 ||
		string(parts[0].Body) != full[0:2] || string(parts[1].Body) != full[4:6] {
		t.Errorf("multi range parts = %q; want bodies %q, %q", parts, full[0:2], full[4:6])
	}
	resp, _ = get(t, u, "")
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" || lm == "" || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("validators: ETag %q, Last-Modified %q, Accept-Ranges %q", etag, lm, resp.Header.Get("Accept-Ranges"))
	}
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "private") || !strings.Contains(cc, "max-age=") {
		t.Errorf("Cache-Control = %q; want private with a max-age within the link's lifetime", cc)
	}
	if resp, _ := get(t, u, "", "If-None-Match: "+etag); resp.StatusCode != 304 {
		t.Errorf("If-None-Match = %d; want 304", resp.StatusCode)
	}
	if resp, _ := get(t, u, "", "If-Modified-Since: "+lm); resp.StatusCode != 304 {
		t.Errorf("If-Modified-Since = %d; want 304", resp.StatusCode)
	}
	resp, body = get(t, u, "", "Range: bytes=0-3", `If-Range: "stale"`)
	if resp.StatusCode != 200 || string(body) != full {
		t.Errorf("If-Range with a stale ETag = %d; want 200 and the whole object", resp.StatusCode)
	}
	resp, body = do(t, http.DefaultClient, "HEAD", u, "")
	if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(full)) {
		t.Errorf("HEAD = %d, %d body bytes, Content-Length %d", resp.StatusCode, len(body), resp.ContentLength)
	}
}

// TestZeroConfig: `signet serve` with no config makes its data directory
// and key, and prints a signed link that works, on stderr: stdout is the
// access log's.
func TestZeroConfig(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	addr := testenv.FreeAddr(t)
	p := startSignet(t, addr, "", nil, "serve", "--data-dir", dir, "--listen", addr)
	var link string
	// The banner ends with the signing command, after the link.
	testenv.Wait(t, "a signed link and the signing command on stderr", func() error {
		out := p.stderr.String()
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "http://"+addr+"/welcome.txt?") {
				link = l
			}
		}
		if link == "" || !strings.Contains(out, "signet sign --key") {
			return fmt.Errorf("stderr:\n%s", out)
		}
		return nil
	})
	resp, body := get(t, link, "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Hello from signet") {
		t.Errorf("printed link = %d %q; want 200 and the welcome file", resp.StatusCode, body)
	}
	resp, body = get(t, "http://"+addr+"/welcome.txt", "")
	wantXML(t, "unsigned", resp, body, cfsign.MissingKey)
	info, err := os.Stat(filepath.Join(dir, "keys", "private_key.pem"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("private key: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
	if strings.Contains(p.stdout.String(), "signet:") {
		t.Errorf("the banner went to stdout, the access log's:\n%s", p.stdout)
	}
}

// TestStreamingMemory downloads a 2 GiB object through a signed link and
// reports the peak RSS of the edge process.
func TestStreamingMemory(t *testing.T) { forEachAdapter(t, testStreamingMemory) }

func testStreamingMemory(t *testing.T, adapter string) {
	if testing.Short() {
		t.Skip("streams 2 GiB")
	}
	e := startDirEdge(t, adapter, "")
	const size = 2 << 30
	f, err := os.Create(filepath.Join(e.dir, "files", "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	before := vmHWM(t, e.cmd.Process.Pid)
	u := e.canned(t, e.ec, cfsign.SHA256, "/big.bin", time.Now().Add(time.Hour))
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n != size {
		t.Fatalf("streamed %d bytes, %v; want %d", n, err, size)
	}
	peak := vmHWM(t, e.cmd.Process.Pid)
	t.Logf("peak RSS of signet serve: %.1f MiB before, %.1f MiB after streaming 2 GiB", float64(before)/(1<<20), float64(peak)/(1<<20))
	if peak > 128<<20 {
		t.Errorf("peak RSS %d MiB while streaming 2 GiB; want memory to stay flat (< 128 MiB)", peak>>20)
	}
}

// TestGracefulShutdown: on SIGTERM an in-flight download finishes, and the
// process then exits cleanly.
func TestGracefulShutdown(t *testing.T) { forEachAdapter(t, testGracefulShutdown) }

func testGracefulShutdown(t *testing.T, adapter string) {
	e := startDirEdge(t, adapter, "")
	const size = 64 << 20
	f, err := os.Create(filepath.Join(e.dir, "files", "mid.bin"))
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(size)
	f.Close()
	u := e.canned(t, e.main, cfsign.SHA1, "/mid.bin", time.Now().Add(time.Hour))
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 1<<20)
	n, err := io.ReadFull(resp.Body, buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// Readiness turns off while the download goes on.
	testenv.Wait(t, "/readyz to answer 503 after SIGTERM", func() error {
		r, err := http.Get(e.admin + "/readyz")
		if err != nil {
			return err
		}
		r.Body.Close()
		if r.StatusCode != 503 {
			return fmt.Errorf("GET /readyz = %d", r.StatusCode)
		}
		return nil
	})
	rest, err := io.Copy(io.Discard, resp.Body)
	if err != nil || int64(n)+rest != size {
		t.Fatalf("download after SIGTERM: %d bytes, %v; want %d", int64(n)+rest, err, size)
	}
	select {
	case <-e.done:
	case <-time.After(20 * time.Second):
		t.Fatal("signet did not exit after the download finished")
	}
	if e.err != nil {
		t.Errorf("signet exited with %v after SIGTERM; want 0\n%s", e.err, e.stderr)
	}
}
