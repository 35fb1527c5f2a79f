package e2e_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/testenv"
)

// TestHTTPOrigin: the edge forwards to an HTTP origin with a secret header,
// so the origin can refuse anything that did not come through the edge.
func TestHTTPOrigin(t *testing.T) {
	const secret = "s3cr3t-from-env"
	var mu sync.Mutex
	var seen []string
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.RawPath+r.URL.Path+" cookie="+r.Header.Get("Cookie"))
		mu.Unlock()
		if r.Header.Get("X-Origin-Secret") != secret {
			http.Error(w, "<Error>origin says no, with internal details</Error>", http.StatusForbidden)
			return
		}
		if r.URL.Path != "/origin-prefix/reports/q3.pdf" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Type", "application/pdf")
		http.ServeContent(w, r, "", time.Unix(1767200000, 0), strings.NewReader("quarterly report bytes"))
	}))
	defer upstream.Close()

	k := loadTestKey(t, "p256", "")
	dir := t.TempDir()
	addr := testenv.FreeAddr(t)
	cfg := fmt.Sprintf(`
listeners: [{address: %s}]
debug_reason_header: true
key_groups:
  main: [{id: %s, public_key_file: %s}]
distributions:
  - name: reports
    origin:
      type: http
      http: {url: %s/origin-prefix, secret_header: X-Origin-Secret, secret: "${ORIGIN_SECRET}"}
    behaviors:
      - path: "*"
        key_groups: [main]
`, addr, k.id, k.pubFile, upstream.URL)
	cfgFile := filepath.Join(dir, "signet.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startSignet(t, addr, "", []string{"ORIGIN_SECRET=" + secret}, "serve", "--config", cfgFile)
	s := k.cfSigner(t, cfsign.SHA256)
	u, err := s.SignCanned(p.base+"/reports/q3.pdf", time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, u, "session=abc")
	want200(t, "through the edge", resp, body, "quarterly report bytes")
	if resp.Header.Get("ETag") != `"v1"` || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Errorf("headers from the origin: ETag %q, Content-Type %q", resp.Header.Get("ETag"), resp.Header.Get("Content-Type"))
	}
	mu.Lock()
	for _, s := range seen {
		if strings.Contains(s, "session=abc") || strings.Contains(s, "Signature") {
			t.Errorf("viewer credentials reached the origin: %s", s)
		}
	}
	mu.Unlock()

	// The origin refuses direct requests, without the header.
	if r, err := http.Get(upstream.URL + "/origin-prefix/reports/q3.pdf"); err != nil || r.StatusCode != 403 {
		t.Errorf("direct origin request = %v, %v; want 403", r.StatusCode, err)
	}
	// A missing object is a plain 404, without origin details.
	u404, _ := s.SignCanned(p.base+"/reports/missing.pdf", time.Now().Add(time.Hour))
	resp, body = get(t, u404, "")
	if resp.StatusCode != 404 || strings.Contains(string(body), "origin") {
		t.Errorf("missing object = %d %q; want 404 without origin details", resp.StatusCode, body)
	}
	// With debug_reason_header, refusals say why; the body stays CloudFront's.
	resp, body = get(t, p.base+"/reports/q3.pdf", "")
	if resp.StatusCode != 403 || resp.Header.Get("X-Signet-Reason") == "" || string(body) != string(cfsign.MissingKey.XML()) {
		t.Errorf("debug refusal = %d, X-Signet-Reason %q, %s", resp.StatusCode, resp.Header.Get("X-Signet-Reason"), body)
	}
}

// TestS3Origin serves a private MinIO bucket: proxy mode streams through the
// edge, redirect mode answers with a short-lived presigned URL that the
// client follows to MinIO, and anonymous access to the bucket is refused
// all along.
func TestS3Origin(t *testing.T) {
	m := testenv.MinIO(t)
	bucket := m.NewBucket(t)
	objects := map[string]string{
		"media/videos/a b.mp4":     strings.Repeat("video bytes ", 1000),
		"media/downloads/tool.zip": "PK\x03\x04 zip bytes",
	}
	for key, body := range objects {
		_, err := m.Client().PutObject(t.Context(), &awss3.PutObjectInput{
			Bucket: &bucket, Key: aws.String(key), Body: strings.NewReader(body),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Anonymous access to the bucket is refused: it stays private.
	anon, err := http.Get(m.Endpoint + "/" + bucket + "/media/downloads/tool.zip")
	if err != nil {
		t.Fatal(err)
	}
	anon.Body.Close()
	if anon.StatusCode != 403 {
		t.Fatalf("anonymous GET of the bucket = %d; want 403", anon.StatusCode)
	}

	k := loadTestKey(t, "rsa2048", "")
	dir := t.TempDir()
	addr := testenv.FreeAddr(t)
	cfg := fmt.Sprintf(`
listeners: [{address: %s}]
key_groups:
  main: [{id: %s, public_key_file: %s}]
distributions:
  - name: bucket
    origin:
      type: s3
      s3:
        bucket: %s
        region: %s
        endpoint: %s
        path_style: true
        prefix: media
        access_key_id: "${S3_KEY}"
        secret_access_key: "${S3_SECRET}"
    behaviors:
      - path: /downloads/*
        key_groups: [main]
        mode: redirect
        redirect_ttl: 2m
      - path: "*"
        key_groups: [main]
`, addr, k.id, k.pubFile, bucket, m.Region, m.Endpoint)
	cfgFile := filepath.Join(dir, "signet.yaml")
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startSignet(t, addr, "", []string{"S3_KEY=" + m.AccessKey, "S3_SECRET=" + m.SecretKey}, "serve", "--config", cfgFile)
	s := k.cfSigner(t, cfsign.SHA1)
	exp := time.Now().Add(time.Hour)

	u, _ := s.SignCanned(p.base+"/videos/a%20b.mp4", exp)
	resp, body := get(t, u, "")
	want200(t, "proxied from MinIO", resp, body, objects["media/videos/a b.mp4"])
	resp, body = get(t, u, "", "Range: bytes=6-10")
	if resp.StatusCode != 206 || string(body) != "bytes" {
		t.Errorf("Range from MinIO = %d %q; want 206 \"bytes\"", resp.StatusCode, body)
	}
	missing, _ := s.SignCanned(p.base+"/videos/none.mp4", exp)
	if resp, _ := get(t, missing, ""); resp.StatusCode != 404 {
		t.Errorf("missing S3 object = %d; want 404", resp.StatusCode)
	}

	// Redirect mode: a 302 to a presigned MinIO URL, then bytes straight
	// from storage.
	u, _ = s.SignCanned(p.base+"/downloads/tool.zip", exp)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ = do(t, noFollow, "GET", u, "")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 302 || !strings.HasPrefix(loc, m.Endpoint+"/"+bucket+"/media/downloads/tool.zip?") || !strings.Contains(loc, "X-Amz-Expires=120") {
		t.Fatalf("redirect mode = %d Location %q; want 302 to a 2-minute presigned MinIO URL", resp.StatusCode, loc)
	}
	resp, body = get(t, u, "") // follows the redirect
	want200(t, "redirect followed to MinIO", resp, body, objects["media/downloads/tool.zip"])
	resp, body = get(t, p.base+"/downloads/tool.zip", "")
	wantXML(t, "redirect mode without a signature", resp, body, cfsign.MissingKey)
}
