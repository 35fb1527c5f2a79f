package http_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/origin"
	httporigin "github.com/signet-dev/signet/internal/origin/http"
	"github.com/signet-dev/signet/internal/origin/origintest"
	"github.com/signet-dev/signet/internal/testenv"
)

const (
	secretHeader = "X-Origin-Secret"
	secret       = "the-edge-shared-secret"
	basePath     = "/base path"
)

// upstream is a test origin server. It refuses any request without the
// secret header, serves its objects under basePath with http.ServeContent
// (Range, If-Match, If-Range), and records the requests it gets. It is the
// contract suite's Fixture.
type upstream struct {
	srv *httptest.Server

	mu       sync.Mutex
	objects  map[string]object
	requests []*http.Request // clones, headers included
	version  int
	// handle, when set, answers instead of the store.
	handle func(w http.ResponseWriter, r *http.Request) bool
}

type object struct {
	data    []byte
	etag    string
	modTime time.Time
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{objects: map[string]object{}}
	u.srv = httptest.NewServer(u)
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.requests = append(u.requests, r.Clone(context.Background()))
	handle := u.handle
	u.mu.Unlock()
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(secretHeader)), []byte(secret)) != 1 {
		http.Error(w, "requests must come through the edge", http.StatusForbidden)
		return
	}
	if handle != nil && handle(w, r) {
		return
	}
	key, ok := strings.CutPrefix(r.URL.Path, basePath+"/")
	u.mu.Lock()
	obj, found := u.objects[key]
	u.mu.Unlock()
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", obj.etag)
	w.Header().Set("Content-Type", "application/octet-stream")
	http.ServeContent(w, r, "", obj.modTime, bytes.NewReader(obj.data))
}

func (u *upstream) Put(key string, data []byte) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.version++
	sum := sha256.Sum256(data)
	u.objects[key] = object{
		data:    bytes.Clone(data),
		etag:    `"` + hex.EncodeToString(sum[:8]) + `"`,
		modTime: time.Date(2025, 1, 1, 0, 0, u.version, 0, time.UTC),
	}
	return nil
}

func (u *upstream) Remove(key string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.objects, key)
	return nil
}

// lastRequest returns the last request the upstream got.
func (u *upstream) lastRequest(t *testing.T) *http.Request {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.requests) == 0 {
		t.Fatal("the upstream got no request")
	}
	return u.requests[len(u.requests)-1]
}

func (u *upstream) setHandler(h func(w http.ResponseWriter, r *http.Request) bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.handle = h
}

func newOrigin(t *testing.T, cfg httporigin.Config) *httporigin.Origin {
	t.Helper()
	o, err := httporigin.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return o
}

func config(u *upstream) httporigin.Config {
	return httporigin.Config{URL: u.srv.URL + "/base%20path/", SecretHeader: secretHeader, Secret: secret}
}

func TestContract(t *testing.T) {
	origintest.Run(t, func(t *testing.T) (origin.Origin, origintest.Fixture) {
		u := newUpstream(t)
		return newOrigin(t, config(u)), u
	})
}

// TestSecretHeader checks that the upstream refuses requests without the
// secret, and that the origin sends it on every request, HEAD and GET,
// and nothing of a viewer's.
func TestSecretHeader(t *testing.T) {
	u := newUpstream(t)
	if err := u.Put("k", []byte("value")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(u.srv.URL + "/base%20path/k")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("GET without the secret header = %d; want 403", resp.StatusCode)
	}

	o := newOrigin(t, config(u))
	info, err := o.Stat(t.Context(), "k")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	rc, err := o.Open(t.Context(), info, 1, 3)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || string(got) != "alu" {
		t.Errorf("Open(1, 3) = %q, %v; want %q", got, err, "alu")
	}
	u.mu.Lock()
	requests := u.requests[1:]
	u.mu.Unlock()
	if len(requests) != 2 {
		t.Fatalf("the upstream got %d requests from the origin; want 2", len(requests))
	}
	for _, r := range requests {
		if got := r.Header.Get(secretHeader); got != secret {
			t.Errorf("%s %s: %s = %q; want the secret", r.Method, r.URL, secretHeader, got)
		}
		for _, h := range []string{"Cookie", "Authorization", "X-Forwarded-For"} {
			if v := r.Header.Get(h); v != "" {
				t.Errorf("%s %s: %s = %q; want none", r.Method, r.URL, h, v)
			}
		}
		if got := r.Header.Get("Accept-Encoding"); got != "identity" {
			t.Errorf("%s %s: Accept-Encoding = %q; want identity", r.Method, r.URL, got)
		}
	}
	get := requests[1]
	if got := get.Header.Get("Range"); got != "bytes=1-3" {
		t.Errorf("GET Range = %q; want bytes=1-3", got)
	}
	if got := get.Header.Get("If-Match"); got != info.ETag {
		t.Errorf("GET If-Match = %q; want %s", got, info.ETag)
	}

	wrong := config(u)
	wrong.Secret = "not-the-secret"
	_, err = newOrigin(t, wrong).Stat(t.Context(), "k")
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat with the wrong secret = %v; want an error not matching fs.ErrNotExist", err)
	} else if strings.Contains(err.Error(), wrong.Secret) {
		t.Errorf("Stat error %q contains the secret", err)
	}
}

// TestEscaping checks the request target each key becomes.
func TestEscaping(t *testing.T) {
	u := newUpstream(t)
	o := newOrigin(t, config(u))
	tests := []struct{ key, want string }{
		{"a b/c+d", "/base%20path/a%20b/c%2Bd"},
		{"x%20y", "/base%20path/x%2520y"},
		{"q?x#y;z", "/base%20path/q%3Fx%23y%3Bz"},
		{"ü/日", "/base%20path/%C3%BC/%E6%97%A5"},
		{"Az09-._~/f", "/base%20path/Az09-._~/f"},
	}
	for _, tc := range tests {
		if _, err := o.Stat(t.Context(), tc.key); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) = %v; want not found", tc.key, err)
		}
		if got := u.lastRequest(t).RequestURI; got != tc.want {
			t.Errorf("Stat(%q) requested %s; want %s", tc.key, got, tc.want)
		}
	}
}

// TestResponses checks how the origin reads upstream answers other than
// a plain success.
func TestResponses(t *testing.T) {
	const leak = "INTERNAL-DETAIL-MUST-NOT-LEAK"
	tests := []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		statErr error // nil: any error but these
		openErr error
		statOK  bool // Stat succeeds instead
	}{
		{"server-error", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, leak, http.StatusInternalServerError)
		}, nil, nil, false},
		{"forbidden", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, leak, http.StatusForbidden)
		}, nil, nil, false},
		{"gone", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, leak, http.StatusGone)
		}, fs.ErrNotExist, origin.ErrChanged, false},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere?"+leak, http.StatusFound)
		}, nil, nil, false},
		{"precondition-failed", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "10")
			w.WriteHeader(http.StatusPreconditionFailed)
		}, nil, origin.ErrChanged, false},
		{"other-etag", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ETag", `"other"`)
			w.Header().Set("Content-Range", "bytes 0-9/10")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(make([]byte, 10))
		}, nil, origin.ErrChanged, false},
		{"other-size", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Range", "bytes 0-9/11")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(make([]byte, 10))
		}, nil, origin.ErrChanged, false},
		{"wrong-range", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Range", "bytes 1-9/10")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(make([]byte, 9))
		}, nil, nil, false},
		{"full-body-of-another-size", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "12")
			w.Write(make([]byte, 12))
		}, nil, origin.ErrChanged, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t)
			u.setHandler(func(w http.ResponseWriter, r *http.Request) bool {
				tc.handler(w, r)
				return true
			})
			o := newOrigin(t, config(u))
			if _, err := o.Stat(t.Context(), "k"); !tc.statOK {
				checkErr(t, "Stat", err, tc.statErr, leak)
			} else if err != nil {
				t.Errorf("Stat: %v", err)
			}
			rc, err := o.Open(t.Context(), origin.Info{Key: "k", Size: 10, ETag: `"e"`}, 0, -1)
			if err == nil {
				rc.Close()
			}
			checkErr(t, "Open", err, tc.openErr, leak)
		})
	}
}

// checkErr checks that err matches want, or, when want is nil, that it is
// an error matching neither fs.ErrNotExist nor origin.ErrChanged; that it
// does not match origin.ErrUnreachable, since the upstream answered; and
// that it does not carry the upstream's body.
func checkErr(t *testing.T, op string, err, want error, leak string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s succeeded; want an error", op)
		return
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s = %v; want an error matching %v", op, err, want)
	case want == nil && (errors.Is(err, fs.ErrNotExist) || errors.Is(err, origin.ErrChanged)):
		t.Errorf("%s = %v; want an error matching neither fs.ErrNotExist nor origin.ErrChanged", op, err)
	case errors.Is(err, origin.ErrUnreachable):
		t.Errorf("%s = %v; want an error not matching origin.ErrUnreachable (the upstream answered)", op, err)
	}
	if strings.Contains(err.Error(), leak) {
		t.Errorf("%s error %q carries the upstream's body", op, err)
	}
}

// TestIgnoresRange serves an upstream that ignores Range: the origin reads
// the same version past the unwanted bytes.
func TestIgnoresRange(t *testing.T) {
	data := []byte("0123456789")
	u := newUpstream(t)
	u.setHandler(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		if r.Method == http.MethodGet {
			w.Write(data)
		}
		return true
	})
	o := newOrigin(t, config(u))
	info, err := o.Stat(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := o.Open(t.Context(), info, 3, 4)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	if got, err := io.ReadAll(rc); err != nil || string(got) != "3456" {
		t.Errorf("Open(3, 4) = %q, %v; want %q", got, err, "3456")
	}
}

func TestInfo(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		want   origin.Info
	}{
		{"all", map[string]string{
			"ETag": `"abc"`, "Last-Modified": "Wed, 02 Jan 2030 03:04:05 GMT", "Content-Type": "text/plain",
			"Cache-Control": "max-age=60", "Expires": "Thu, 03 Jan 2030 00:00:00 GMT",
		}, origin.Info{
			Key: "k", Size: 5, ETag: `"abc"`, ModTime: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
			ContentType: "text/plain", CacheControl: "max-age=60", Expires: "Thu, 03 Jan 2030 00:00:00 GMT",
		}},
		{"weak-etag", map[string]string{"ETag": `W/"abc"`}, origin.Info{Key: "k", Size: 5}},
		{"unquoted-etag", map[string]string{"ETag": `abc`}, origin.Info{Key: "k", Size: 5}},
		{"bad-date", map[string]string{"Last-Modified": "yesterday"}, origin.Info{Key: "k", Size: 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t)
			u.setHandler(func(w http.ResponseWriter, r *http.Request) bool {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Length", "5")
				return true
			})
			info, err := newOrigin(t, config(u)).Stat(t.Context(), "k")
			if err != nil {
				t.Fatal(err)
			}
			if !info.ModTime.Equal(tc.want.ModTime) {
				t.Errorf("Stat().ModTime = %v; want %v", info.ModTime, tc.want.ModTime)
			}
			info.ModTime = tc.want.ModTime
			if info != tc.want {
				t.Errorf("Stat() = %+v; want %+v", info, tc.want)
			}
		})
	}
}

// TestTimeout points the origin at upstreams that stall before the
// headers and in the middle of a body.
func TestTimeout(t *testing.T) {
	u := newUpstream(t)
	u.setHandler(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == basePath+"/body" && r.Method == http.MethodGet {
			w.Header().Set("ETag", `"e"`)
			w.Header().Set("Content-Range", "bytes 0-99/100")
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusPartialContent)
			w.Write([]byte("first bytes"))
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
		return true
	})
	cfg := config(u)
	cfg.Timeout = 50 * time.Millisecond
	o := newOrigin(t, cfg)
	if _, err := o.Stat(t.Context(), "headers"); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, origin.ErrUnreachable) {
		t.Errorf("Stat from a silent upstream = %v; want an error matching context.DeadlineExceeded and origin.ErrUnreachable", err)
	}
	info := origin.Info{Key: "body", Size: 100, ETag: `"e"`}
	rc, err := o.Open(t.Context(), info, 0, -1)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if !errors.Is(err, context.DeadlineExceeded) || string(got) != "first bytes" {
		t.Errorf("reading a stalled body = %q, %v; want %q and an error matching context.DeadlineExceeded", got, err, "first bytes")
	}
}

// TestRefused points the origin at a port where nothing listens.
func TestRefused(t *testing.T) {
	o := newOrigin(t, httporigin.Config{URL: "http://" + testenv.FreeAddr(t)})
	_, err := o.Stat(t.Context(), "k")
	if !errors.Is(err, syscall.ECONNREFUSED) || !errors.Is(err, origin.ErrUnreachable) {
		t.Errorf("Stat from a refusing upstream = %v; want an error matching ECONNREFUSED and origin.ErrUnreachable", err)
	}
	_, err = o.Open(t.Context(), origin.Info{Key: "k", Size: 10, ETag: `"e"`}, 0, -1)
	if !errors.Is(err, syscall.ECONNREFUSED) || !errors.Is(err, origin.ErrUnreachable) {
		t.Errorf("Open from a refusing upstream = %v; want an error matching ECONNREFUSED and origin.ErrUnreachable", err)
	}
}

func TestNew(t *testing.T) {
	valid := httporigin.Config{URL: "https://origin.internal/prefix", SecretHeader: "X-Secret", Secret: "s"}
	tests := []struct {
		name   string
		modify func(*httporigin.Config)
		want   string // in the error; "" for success
	}{
		{"valid", func(*httporigin.Config) {}, ""},
		{"no-secret", func(c *httporigin.Config) { c.SecretHeader, c.Secret = "", "" }, ""},
		{"http", func(c *httporigin.Config) { c.URL = "http://127.0.0.1:8081" }, ""},
		{"with-client", func(c *httporigin.Config) { c.Client = &http.Client{} }, ""},
		{"bad-url", func(c *httporigin.Config) { c.URL = "http://[::1" }, "url"},
		{"scheme", func(c *httporigin.Config) { c.URL = "ftp://origin.internal" }, "scheme"},
		{"relative", func(c *httporigin.Config) { c.URL = "/prefix" }, "url"},
		{"userinfo", func(c *httporigin.Config) { c.URL = "https://u:p@origin.internal" }, "user information"},
		{"query", func(c *httporigin.Config) { c.URL = "https://origin.internal/?a=b" }, "query"},
		{"header-alone", func(c *httporigin.Config) { c.Secret = "" }, "set both"},
		{"secret-alone", func(c *httporigin.Config) { c.SecretHeader = "" }, "set both"},
		{"bad-header", func(c *httporigin.Config) { c.SecretHeader = "X Secret" }, "header name"},
		{"reserved-header", func(c *httporigin.Config) { c.SecretHeader = "range" }, "sets itself"},
		{"conditional-header", func(c *httporigin.Config) { c.SecretHeader = "If-None-Match" }, "sets itself"},
		{"secret-newline", func(c *httporigin.Config) { c.Secret = "a\r\nInjected: 1" }, "line break"},
		{"negative-timeout", func(c *httporigin.Config) { c.Timeout = -1 }, "timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := valid
			tc.modify(&cfg)
			_, err := httporigin.New(cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("New(%+v) = %v; want success", cfg, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("New(%+v) = %v; want an error about %q", cfg, err, tc.want)
			}
		})
	}
}

// TestClientNotModified checks that the origin refuses redirects without
// changing the Client it was given.
func TestClientNotModified(t *testing.T) {
	c := &http.Client{}
	cfg := httporigin.Config{URL: "http://127.0.0.1:1", Client: c}
	newOrigin(t, cfg)
	if c.CheckRedirect != nil {
		t.Error("New set CheckRedirect on the caller's Client; want it left alone")
	}
}

// TestNoRedirect checks that a redirect is not followed: it would carry
// the secret header to wherever the upstream points.
func TestNoRedirect(t *testing.T) {
	var trapped sync.Mutex
	var hits int
	trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		trapped.Lock()
		hits++
		trapped.Unlock()
	}))
	defer trap.Close()
	u := newUpstream(t)
	u.setHandler(func(w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, trap.URL+"/k", http.StatusFound)
		return true
	})
	o := newOrigin(t, config(u))
	if _, err := o.Stat(t.Context(), "k"); err == nil {
		t.Error("Stat of a redirect succeeded; want an error")
	}
	if rc, err := o.Open(t.Context(), origin.Info{Key: "k", Size: 1}, 0, -1); err == nil {
		rc.Close()
		t.Error("Open of a redirect succeeded; want an error")
	}
	trapped.Lock()
	defer trapped.Unlock()
	if hits != 0 {
		t.Errorf("the redirect target got %d requests; want 0", hits)
	}
}
