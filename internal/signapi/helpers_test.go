package signapi_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/signapi"
	"github.com/signet-dev/signet/internal/testenv"
)

// testNow is the fixture's clock at start; the OpenAPI examples are written
// for it.
var testNow = time.Date(2029, 12, 31, 12, 0, 0, 0, time.UTC)

// Keys are generated once per test binary.
var (
	p256Key = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
)

// countingSigner counts Sign calls; with fail set, it fails them.
type countingSigner struct {
	crypto.Signer
	n    atomic.Int64
	fail atomic.Bool
}

func (c *countingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	c.n.Add(1)
	if c.fail.Load() {
		return nil, errors.New("kms: throttled")
	}
	return c.Signer.Sign(r, d, o)
}

// fixture is an API with four distributions sharing one key source:
//
//	media   https://media.example.com    defaults (7-day cap)
//	strict  https://strict.example.com   RequireIP, 1h cap
//	broad   https://broad.example.com    AllowBroad
//	cached  https://cached.example.com   Quantum 5m, CacheSize 2
type fixture struct {
	t      testing.TB
	h      http.Handler
	store  *signapi.TokenStore
	clock  *testenv.Clock
	logs   *bytes.Buffer
	key    atomic.Pointer[cfsign.Key]
	keyErr atomic.Pointer[error]
	// counter wraps the P-256 key when the fixture counts (the default);
	// the RSA fixture signs with the *rsa.PrivateKey itself.
	counter *countingSigner
	// token may sign media's reports/ and videos/, and all of the other
	// distributions.
	token string
}

type fixtureOptions struct {
	rsa      bool // sign with RSA-2048 (SHA1 by default) instead of P-256
	maxBatch int
	infoLog  bool // log at Info, as in production; the default logs Debug too
}

func newFixture(t testing.TB, opts fixtureOptions) *fixture {
	t.Helper()
	level := slog.LevelDebug
	if opts.infoLog {
		level = slog.LevelInfo
	}
	f := &fixture{t: t, clock: testenv.NewClock(testNow), logs: &bytes.Buffer{}}
	if opts.rsa {
		f.key.Store(&cfsign.Key{ID: "KRSATEST", Signer: rsaKey(), Hash: cfsign.SHA1})
	} else {
		f.counter = &countingSigner{Signer: p256Key()}
		f.key.Store(&cfsign.Key{ID: "KP256TEST", Signer: f.counter, Hash: cfsign.SHA256})
	}
	store, err := openTokenStore(t, filepath.Join(t.TempDir(), "tokens.db"), signapi.StoreOptions{Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.store = store
	t.Cleanup(func() { store.Close() })
	ks := signapi.KeySourceFunc(func(ctx context.Context) (cfsign.Key, error) {
		if err := f.keyErr.Load(); err != nil {
			return cfsign.Key{}, *err
		}
		return *f.key.Load(), nil
	})
	api, err := signapi.New(signapi.Config{
		Distributions: []signapi.Distribution{
			{Name: "media", BaseURL: "https://media.example.com", Key: ks},
			{Name: "strict", BaseURL: "https://strict.example.com", Key: ks, RequireIP: true, MaxLifetime: time.Hour},
			{Name: "broad", BaseURL: "https://broad.example.com", Key: ks, AllowBroad: true},
			{Name: "cached", BaseURL: "https://cached.example.com", Key: ks, Quantum: 5 * time.Minute, CacheSize: 2},
			{Name: "archive", BaseURL: "https://archive.example.com", Key: ks, MaxLifetime: cfsign.MaxLifetime},
		},
		Tokens:   store,
		MaxBatch: opts.maxBatch,
		Now:      f.clock.Now,
		Logger:   slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.h = api.Handler()
	f.token = f.newToken([]signapi.Scope{
		{Distribution: "media", Prefixes: []string{"reports/", "videos/"}},
		{Distribution: "strict", Prefixes: []string{""}},
		{Distribution: "broad", Prefixes: []string{""}},
		{Distribution: "cached", Prefixes: []string{""}},
		{Distribution: "archive", Prefixes: []string{""}},
	}, 0, signapi.Rate{})
	return f
}

// newToken creates a token and returns its secret.
func (f *fixture) newToken(scopes []signapi.Scope, maxLifetime time.Duration, r signapi.Rate) string {
	f.t.Helper()
	_, secret, err := f.store.Create("test", scopes, maxLifetime, r)
	if err != nil {
		f.t.Fatal(err)
	}
	return secret
}

// response is a recorded answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// code returns the error code of an error response, or "".
func (r *response) code() string {
	var e struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func (r *response) message() string {
	var e struct {
		Error struct{ Code, Message string }
	}
	json.Unmarshal(r.body, &e)
	return e.Error.Message
}

// post sends body to path with the token and a JSON content type.
func (f *fixture) post(path, token, body string) *response {
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return f.do(req)
}

func (f *fixture) do(req *http.Request) *response {
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return &response{status: rec.Code, header: rec.Result().Header, body: rec.Body.Bytes()}
}

// urlResult is the answer of /v1/sign/url.
type urlResult struct {
	URL       string `json:"url"`
	ExpiresAt string `json:"expires_at"`
	KeyID     string `json:"key_id"`
}

type cookiesResult struct {
	Cookies []struct {
		Name      string `json:"name"`
		Value     string `json:"value"`
		SetCookie string `json:"set_cookie"`
	} `json:"cookies"`
	ExpiresAt string `json:"expires_at"`
	KeyID     string `json:"key_id"`
}

// decode unmarshals a 200 answer strictly into v.
func decode(t testing.TB, r *response, v any) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status = %d; want 200 (body %s)", r.status, r.body)
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// verifier trusts both test keys and checks at testNow+1s (after a
// not_before of testNow), or at the given time.
func verifier(t testing.TB, at time.Time) *cfsign.Verifier {
	t.Helper()
	v, err := cfsign.NewVerifier(map[string]crypto.PublicKey{
		"KP256TEST": p256Key().Public(),
		"KRSATEST":  rsaKey().Public(),
	}, cfsign.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// verifyURL checks a signed URL as the edge would, from clientIP at at.
func verifyURL(t testing.TB, signed string, at time.Time, clientIP string) (cfsign.Result, error) {
	t.Helper()
	scheme, rest, _ := strings.Cut(signed, "://")
	i := strings.IndexByte(rest, '/')
	req := &cfsign.Request{Scheme: scheme, Host: rest[:i], Target: rest[i:]}
	if clientIP != "" {
		req.ClientIP = mustAddr(t, clientIP)
	}
	return verifier(t, at).Verify(req)
}

// verifyCookies checks signed cookies on a request for target.
func verifyCookies(t testing.TB, c cookiesResult, scheme, host, target string, at time.Time) (cfsign.Result, error) {
	t.Helper()
	var parts []string
	for _, ck := range c.Cookies {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	req := &cfsign.Request{Scheme: scheme, Host: host, Target: target, Cookies: []string{strings.Join(parts, "; ")}}
	return verifier(t, at).Verify(req)
}

func mustAddr(t testing.TB, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
