package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/signet-dev/signet/internal/origin"
	"github.com/signet-dev/signet/internal/origin/origintest"
	"github.com/signet-dev/signet/internal/origin/s3"
	"github.com/signet-dev/signet/internal/testenv"
)

// bucket writes objects with the SDK, under the origin's prefix.
type bucket struct {
	ctx    context.Context
	client *awss3.Client
	name   string
	prefix string
}

func (b bucket) Put(key string, data []byte) error {
	_, err := b.client.PutObject(b.ctx, &awss3.PutObjectInput{
		Bucket: aws.String(b.name), Key: aws.String(b.prefix + key), Body: bytes.NewReader(data),
	})
	return err
}

func (b bucket) Remove(key string) error {
	_, err := b.client.DeleteObject(b.ctx, &awss3.DeleteObjectInput{
		Bucket: aws.String(b.name), Key: aws.String(b.prefix + key),
	})
	return err
}

func config(m *testenv.MinIOServer, name string) s3.Config {
	return s3.Config{
		Bucket: name, Region: m.Region, Endpoint: m.Endpoint, PathStyle: true,
		AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey,
	}
}

func newOrigin(t *testing.T, cfg s3.Config) *s3.Origin {
	t.Helper()
	o, err := s3.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return o
}

func TestContract(t *testing.T) {
	m := testenv.MinIO(t)
	for _, prefix := range []string{"", "pre fix+/sub"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			origintest.Run(t, func(t *testing.T) (origin.Origin, origintest.Fixture) {
				name := m.NewBucket(t)
				cfg := config(m, name)
				cfg.Prefix = prefix
				b := bucket{ctx: t.Context(), client: m.Client(), name: name}
				if prefix != "" {
					b.prefix = prefix + "/"
				}
				return newOrigin(t, cfg), b
			})
		})
	}
}

// TestPrivate proves the bucket stays private: a request without a
// signature is refused, while the origin reads the object and a presigned
// URL it hands out works until tampered with.
func TestPrivate(t *testing.T) {
	m := testenv.MinIO(t)
	name := m.NewBucket(t)
	data := []byte("private bytes")
	if err := (bucket{ctx: t.Context(), client: m.Client(), name: name}).Put("dir/private.txt", data); err != nil {
		t.Fatal(err)
	}
	o := newOrigin(t, config(m, name))

	objectURL := m.Endpoint + "/" + name + "/dir/private.txt"
	for _, u := range []string{objectURL, m.Endpoint + "/" + name + "/", m.Endpoint + "/" + name + "?list-type=2"} {
		if status, body := get(t, u); status != http.StatusForbidden {
			t.Errorf("anonymous GET %s = %d %q; want 403", u, status, body)
		}
	}

	info, err := o.Stat(t.Context(), "dir/private.txt")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	rc, err := o.Open(t.Context(), info, 0, -1)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Open read %q, %v; want %q", got, err, data)
	}

	signed, err := o.Presign(t.Context(), info, 5*time.Minute)
	if err != nil {
		t.Fatalf("Presign: %v", err)
	}
	if status, body := get(t, signed); status != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("GET presigned URL = %d %q; want 200 %q", status, body, data)
	}
	u, err := url.Parse(signed)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	sig := []byte(q.Get("X-Amz-Signature"))
	sig[0] ^= 1
	q.Set("X-Amz-Signature", string(sig))
	u.RawQuery = q.Encode()
	if status, _ := get(t, u.String()); status != http.StatusForbidden {
		t.Errorf("GET presigned URL with a flipped signature bit = %d; want 403", status)
	}
}

func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func TestPresignTTL(t *testing.T) {
	o := newOrigin(t, s3.Config{
		Bucket: "b", Region: "eu-west-1", Endpoint: "http://127.0.0.1:1", PathStyle: true,
		AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret-example",
	})
	info := origin.Info{Key: "a b+c.txt", Size: 1}
	tests := []struct {
		ttl  time.Duration
		want string // X-Amz-Expires
	}{
		{5 * time.Minute, "300"},
		{s3.MaxPresignTTL, "604800"},
		{30 * 24 * time.Hour, "604800"},
	}
	for _, tc := range tests {
		signed, err := o.Presign(t.Context(), info, tc.ttl)
		if err != nil {
			t.Fatalf("Presign(%v): %v", tc.ttl, err)
		}
		u, err := url.Parse(signed)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.Query().Get("X-Amz-Expires"); got != tc.want {
			t.Errorf("Presign(%v): X-Amz-Expires = %s; want %s", tc.ttl, got, tc.want)
		}
		if got, want := u.EscapedPath(), "/b/a%20b%2Bc.txt"; got != want {
			t.Errorf("Presign(%v): path %s; want %s", tc.ttl, got, want)
		}
	}
	for _, ttl := range []time.Duration{0, -time.Second} {
		if _, err := o.Presign(t.Context(), info, ttl); err == nil {
			t.Errorf("Presign(%v) succeeded; want an error", ttl)
		}
	}
	if _, err := o.Presign(t.Context(), origin.Info{Key: "../x"}, time.Minute); !errors.Is(err, origin.ErrInvalidKey) {
		t.Errorf("Presign(../x) = %v; want an error matching origin.ErrInvalidKey", err)
	}
}

func TestMetadata(t *testing.T) {
	m := testenv.MinIO(t)
	name := m.NewBucket(t)
	_, err := m.Client().PutObject(t.Context(), &awss3.PutObjectInput{
		Bucket:       aws.String(name),
		Key:          aws.String("page.html"),
		Body:         strings.NewReader("<p>hi</p>"),
		ContentType:  aws.String("text/html; charset=utf-8"),
		CacheControl: aws.String("max-age=60"),
		Expires:      aws.Time(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)),
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := newOrigin(t, config(m, name)).Stat(t.Context(), "page.html")
	if err != nil {
		t.Fatal(err)
	}
	want := origin.Info{
		Key: "page.html", Size: 9, ModTime: info.ModTime, ETag: info.ETag,
		ContentType: "text/html; charset=utf-8", CacheControl: "max-age=60",
		Expires: "Wed, 02 Jan 2030 03:04:05 GMT",
	}
	if info != want {
		t.Errorf("Stat = %+v; want %+v", info, want)
	}
	if info.ModTime.IsZero() || info.ETag == "" {
		t.Errorf("Stat = ModTime %v, ETag %q; want both set", info.ModTime, info.ETag)
	}
}

// TestUnavailable checks that failures other than a missing key do not
// look like one, and that no error carries the secret key.
func TestUnavailable(t *testing.T) {
	m := testenv.MinIO(t)
	name := m.NewBucket(t)
	if err := (bucket{ctx: t.Context(), client: m.Client(), name: name}).Put("k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	wrong := config(m, name)
	wrong.SecretAccessKey = "wrong-secret-must-not-leak"
	_, err := newOrigin(t, wrong).Stat(t.Context(), "k")
	if err == nil || errors.Is(err, fs.ErrNotExist) || errors.Is(err, origin.ErrUnreachable) {
		t.Errorf("Stat with a wrong secret key = %v; want an error matching neither fs.ErrNotExist nor origin.ErrUnreachable", err)
	} else if strings.Contains(err.Error(), wrong.SecretAccessKey) {
		t.Errorf("Stat error %q contains the secret key", err)
	}

	o := newOrigin(t, config(m, name))
	info, err := o.Stat(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	m.Stop(t)
	if _, err := o.Stat(t.Context(), "k"); !errors.Is(err, origin.ErrUnreachable) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat with MinIO down = %v; want an error matching origin.ErrUnreachable, not fs.ErrNotExist", err)
	}
	if _, err := o.Open(t.Context(), info, 0, -1); !errors.Is(err, origin.ErrUnreachable) || errors.Is(err, origin.ErrChanged) {
		t.Errorf("Open with MinIO down = %v; want an error matching origin.ErrUnreachable, not origin.ErrChanged", err)
	}
	m.Start(t)
	if _, err := o.Stat(t.Context(), "k"); err != nil {
		t.Errorf("Stat after MinIO is back: %v", err)
	}
}

// TestTimeout points the origin at a server that never answers.
func TestTimeout(t *testing.T) {
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer stall.Close()
	o := newOrigin(t, s3.Config{
		Bucket: "b", Region: "us-east-1", Endpoint: stall.URL, PathStyle: true,
		AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret-example", Timeout: 50 * time.Millisecond,
	})
	if _, err := o.Stat(t.Context(), "k"); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, origin.ErrUnreachable) {
		t.Errorf("Stat from a silent server = %v; want an error matching context.DeadlineExceeded and origin.ErrUnreachable", err)
	}
	if _, err := o.Open(t.Context(), origin.Info{Key: "k", Size: 10, ETag: `"e"`}, 0, -1); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, origin.ErrUnreachable) {
		t.Errorf("Open from a silent server = %v; want an error matching context.DeadlineExceeded and origin.ErrUnreachable", err)
	}
}

// TestRefused points the origin at a port where nothing listens: every
// call fails with the refusal, not with the context the origin cancels
// when it is done with a request.
func TestRefused(t *testing.T) {
	o := newOrigin(t, s3.Config{
		Bucket: "b", Region: "us-east-1", Endpoint: "http://" + testenv.FreeAddr(t), PathStyle: true,
		AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret-example",
	})
	info := origin.Info{Key: "k", Size: 10, ETag: `"e"`}
	calls := map[string]func() error{
		"Stat": func() error { _, err := o.Stat(t.Context(), "k"); return err },
		"Get":  func() error { _, _, err := o.Get(t.Context(), "k", 5); return err },
		"Open": func() error { _, err := o.Open(t.Context(), info, 0, -1); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			if !errors.Is(err, syscall.ECONNREFUSED) || !errors.Is(err, origin.ErrUnreachable) || errors.Is(err, context.Canceled) {
				t.Errorf("%s from a refusing endpoint = %v; want an error matching ECONNREFUSED and origin.ErrUnreachable, not context.Canceled", name, err)
			}
		})
	}
}

func TestNew(t *testing.T) {
	const secret = "value-of-the-secret-key"
	valid := s3.Config{Bucket: "b", Region: "us-east-1", AccessKeyID: "id", SecretAccessKey: secret}
	tests := []struct {
		name   string
		modify func(*s3.Config)
		want   string // in the error; "" for success
	}{
		{"valid", func(*s3.Config) {}, ""},
		{"endpoint-without-region", func(c *s3.Config) { c.Region, c.Endpoint = "", "http://127.0.0.1:9000" }, ""},
		{"prefix-slashes", func(c *s3.Config) { c.Prefix = "/a/b/" }, ""},
		{"no-bucket", func(c *s3.Config) { c.Bucket = "" }, "bucket"},
		{"no-secret", func(c *s3.Config) { c.SecretAccessKey = "" }, "access_key_id"},
		{"no-key-id", func(c *s3.Config) { c.AccessKeyID = "" }, "access_key_id"},
		{"token-alone", func(c *s3.Config) { c.AccessKeyID, c.SecretAccessKey, c.SessionToken = "", "", "t" }, "access_key_id"},
		{"bad-prefix", func(c *s3.Config) { c.Prefix = "a/../b" }, "prefix"},
		{"negative-timeout", func(c *s3.Config) { c.Timeout = -time.Second }, "timeout"},
	}
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			tc.modify(&cfg)
			_, err := s3.New(t.Context(), cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("New(%+v) = %v; want success", cfg, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("New(%+v) = %v; want an error about %s", cfg, err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("New error %q contains the secret key", err)
			}
		})
	}
}
