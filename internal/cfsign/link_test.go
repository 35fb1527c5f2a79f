package cfsign_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

// errNotSHA256 is what kmsLike answers a digest other than SHA-256.
var errNotSHA256 = errors.New("kms-like: signs only SHA-256 digests")

// kmsLike is a remote signer as KMS is: its type hides the key, and it
// signs SHA-256 digests only.
type kmsLike struct{ crypto.Signer }

func (k kmsLike) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts.HashFunc() != crypto.SHA256 {
		return nil, errNotSHA256
	}
	return k.Signer.Sign(r, digest, opts)
}

// TestSignLink signs each kind of link (URL or cookies, canned or custom)
// with each kind of key, checks that the verifier accepts it, and that with
// RSA, whose signatures are deterministic, it is byte for byte what the
// four Sign* methods and Cookie.SetCookie give: the CLI and the signing
// API signed through those before SignLink.
func TestSignLink(t *testing.T) {
	const rsaID, ecID = "KRSA2048", "KP256"
	base := "https://" + host
	now := time.Unix(1767200000, 0)
	exp := time.Unix(1767290400, 0)
	v := verifier(t, now, rsaID, "rsa2048", ecID, "p256")
	custom := []byte(`{"Statement":[{"Resource":"` + base + `/videos/x/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}`)
	u := base + "/videos/x/index.m3u8?v=2"
	tests := []struct {
		name     string
		req      cfsign.LinkRequest
		wantPath string // the cookies' Path; "" for a URL
	}{
		{"canned URL", cfsign.LinkRequest{URL: u, Expires: exp}, ""},
		{"custom URL", cfsign.LinkRequest{URL: u, Policy: custom}, ""},
		{"canned cookies", cfsign.LinkRequest{URL: u, Expires: exp, Cookies: true}, "/videos/x/"},
		{"custom cookies", cfsign.LinkRequest{URL: u, Policy: custom, Cookies: true}, "/videos/x/"},
		{"custom cookies, options", cfsign.LinkRequest{URL: u, Policy: custom, Cookies: true,
			Cookie: cfsign.CookieOptions{Domain: host, Path: "/videos/", SameSite: "strict"}}, "/videos/"},
	}
	for _, key := range []struct{ name, id, hash string }{{"rsa2048", rsaID, "sha1"}, {"rsa2048", rsaID, "sha256"}, {"p256", ecID, "sha256"}} {
		s := newSigner(t, key.name, key.id, key.hash)
		for _, tc := range tests {
			t.Run(key.name+"-"+key.hash+"/"+tc.name, func(t *testing.T) {
				link, err := s.SignLink(tc.req)
				if err != nil {
					t.Fatalf("SignLink = %v; want a link", err)
				}
				req := &cfsign.Request{Scheme: "https", Host: host, Target: strings.TrimPrefix(tc.req.URL, base)}
				if tc.req.Cookies {
					if link.URL != "" || len(link.Cookies) == 0 {
						t.Fatalf("SignLink(cookies) = URL %q, %d cookies; want cookies only", link.URL, len(link.Cookies))
					}
					var pairs []string
					for _, c := range link.Cookies {
						if !strings.HasPrefix(c.SetCookie, c.Name+"="+c.Value+"; ") || !strings.Contains(c.SetCookie, "; Path="+tc.wantPath+";") {
							t.Errorf("cookie %s: Set-Cookie %q; want %s=value and Path=%s", c.Name, c.SetCookie, c.Name, tc.wantPath)
						}
						pairs = append(pairs, c.Name+"="+c.Value)
					}
					req.Cookies = []string{strings.Join(pairs, "; ")}
				} else {
					if link.Cookies != nil || !strings.HasPrefix(link.URL, tc.req.URL+"&") {
						t.Fatalf("SignLink(URL) = %q, %d cookies; want %s&...", link.URL, len(link.Cookies), tc.req.URL)
					}
					req.Target = strings.TrimPrefix(link.URL, base)
				}
				res, err := v.Verify(req)
				if err != nil || res.KeyID != key.id || res.Hash != s.Hash() || res.Canned != (tc.req.Policy == nil) {
					t.Errorf("Verify = %+v, %v; want key %s, hash %v, canned %v", res, err, key.id, s.Hash(), tc.req.Policy == nil)
				}
				if key.name == "rsa2048" {
					if want := signApart(t, s, tc.req); !linksEqual(link, want) {
						t.Errorf("SignLink = %+v; want what the Sign* methods give, %+v", link, want)
					}
				}
			})
		}
	}
}

// signApart signs req with the Sign* method for its kind and formats the
// cookies with Cookie.SetCookie, as the CLI and the signing API did.
func signApart(t *testing.T, s *cfsign.Signer, req cfsign.LinkRequest) cfsign.Link {
	t.Helper()
	var (
		link    cfsign.Link
		cookies []cfsign.Cookie
		err     error
	)
	switch {
	case req.Cookies && req.Policy != nil:
		cookies, err = s.SignCookiesWithPolicy(req.Policy)
	case req.Cookies:
		cookies, err = s.SignCannedCookies(req.URL, req.Expires)
	case req.Policy != nil:
		link.URL, err = s.SignURLWithPolicy(req.URL, req.Policy)
	default:
		link.URL, err = s.SignCanned(req.URL, req.Expires)
	}
	if err != nil {
		t.Fatal(err)
	}
	opts := req.Cookie
	if opts.Path == "" {
		opts.Path = "/videos/x/"
	}
	for _, c := range cookies {
		line, err := c.SetCookie(opts)
		if err != nil {
			t.Fatal(err)
		}
		link.Cookies = append(link.Cookies, cfsign.SignedCookie{Name: c.Name, Value: c.Value, SetCookie: line})
	}
	return link
}

func linksEqual(a, b cfsign.Link) bool {
	if a.URL != b.URL || len(a.Cookies) != len(b.Cookies) {
		return false
	}
	for i := range a.Cookies {
		if a.Cookies[i] != b.Cookies[i] {
			return false
		}
	}
	return true
}

// TestSignLinkRefuses: what the Sign* methods refuse, SignLink refuses,
// and custom cookies need a Resource that covers the URL as custom URLs do.
func TestSignLinkRefuses(t *testing.T) {
	s := newSigner(t, "rsa2048", "KRSA2048", "sha1")
	exp := time.Unix(1767290400, 0)
	policy := func(resource string) []byte {
		return []byte(`{"Statement":[{"Resource":"` + resource + `","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}`)
	}
	noResource := []byte(`{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}`)
	for _, cookies := range []bool{false, true} {
		for _, tc := range []struct {
			name string
			req  cfsign.LinkRequest
		}{
			{"bad URL", cfsign.LinkRequest{URL: "https://H/a", Expires: exp}},
			{"no path", cfsign.LinkRequest{URL: "https://h", Expires: exp}},
			{"after 2038", cfsign.LinkRequest{URL: "https://h/a", Expires: time.Unix(2147483648, 0)}},
			{"policy not covering the URL", cfsign.LinkRequest{URL: "https://h/other/a", Policy: policy("https://h/v/*")}},
			{"policy without Resource", cfsign.LinkRequest{URL: "https://h/v/a", Policy: noResource}},
			{"malformed policy", cfsign.LinkRequest{URL: "https://h/v/a", Policy: []byte(`{"Statement":[]}`)}},
			{"bad URL with a policy", cfsign.LinkRequest{URL: "https://h/v/a#f", Policy: policy("https://h/v/*")}},
		} {
			tc.req.Cookies = cookies
			if link, err := s.SignLink(tc.req); err == nil {
				t.Errorf("SignLink(%s, cookies %v) = %+v; want an error", tc.name, cookies, link)
			}
		}
	}
	bad := cfsign.LinkRequest{URL: "https://h/a", Expires: exp, Cookies: true, Cookie: cfsign.CookieOptions{Path: "/a;b"}}
	if link, err := s.SignLink(bad); err == nil {
		t.Errorf("SignLink(cookie path with ';') = %+v; want an error", link)
	}
	long := cfsign.LinkRequest{URL: "https://h/" + strings.Repeat("a", 4000), Cookies: true, Policy: policy("https://h/" + strings.Repeat("a", 4000))}
	if link, err := s.SignLink(long); err == nil {
		t.Errorf("SignLink(a Set-Cookie line over 4096 bytes) = %d cookies; want an error", len(link.Cookies))
	}
}

// TestSignedCookieJSON: the JSON both `signet sign --json` and the signing
// API print for a cookie.
func TestSignedCookieJSON(t *testing.T) {
	b, err := json.Marshal(cfsign.SignedCookie{Name: "CloudFront-Key-Pair-Id", Value: "K1", SetCookie: "CloudFront-Key-Pair-Id=K1; Path=/"})
	if want := `{"name":"CloudFront-Key-Pair-Id","value":"K1","set_cookie":"CloudFront-Key-Pair-Id=K1; Path=/"}`; err != nil || string(b) != want {
		t.Errorf("json.Marshal(SignedCookie) = %s, %v; want %s", b, err, want)
	}
}

// TestKeyHashes: the default hash of each kind of key, which hashes each
// allows, and that Check and signing hold to it: a KMS-like remote signer
// allows SHA256 only, and fails to sign SHA1 if asked.
func TestKeyHashes(t *testing.T) {
	rsaKey, ecKey := loadKey(t, "rsa2048").signer, loadKey(t, "p256").signer
	if _, ok := rsaKey.(*rsa.PrivateKey); !ok {
		t.Fatalf("rsa2048 is a %T; want *rsa.PrivateKey", rsaKey)
	}
	if _, ok := ecKey.(*ecdsa.PrivateKey); !ok {
		t.Fatalf("p256 is a %T; want *ecdsa.PrivateKey", ecKey)
	}
	if k := cfsign.NewKey("K1", rsaKey); k.ID != "K1" || k.Signer != rsaKey || k.Hash != cfsign.SHA1 {
		t.Errorf("NewKey(RSA) = %+v; want K1, the key, SHA1", k)
	}
	if k := cfsign.NewKey("K1", ecKey); k.Hash != cfsign.SHA256 {
		t.Errorf("NewKey(ECDSA).Hash = %v; want SHA256", k.Hash)
	}
	tests := []struct {
		name   string
		signer crypto.Signer
		sha1   bool // Allows(SHA1), and Check with Hash SHA1 passes
	}{
		{"local RSA", rsaKey, true},
		{"ECDSA", ecKey, false},
		{"KMS-like RSA", kmsLike{rsaKey}, false},
		{"KMS-like ECDSA", kmsLike{ecKey}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := cfsign.Key{ID: "K1", Signer: tc.signer, Hash: cfsign.SHA256}
			if !k.Allows(cfsign.SHA256) {
				t.Error("Allows(SHA256) = false; want true")
			}
			if got := k.Allows(cfsign.SHA1); got != tc.sha1 {
				t.Errorf("Allows(SHA1) = %v; want %v", got, tc.sha1)
			}
			if err := k.Check(); err != nil {
				t.Errorf("Check(SHA256) = %v; want nil", err)
			}
			s, err := cfsign.NewSigner(k.ID, k.Signer, k.Hash)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.SignLink(cfsign.LinkRequest{URL: "https://h/a", Expires: time.Unix(1767290400, 0)}); err != nil {
				t.Errorf("SignLink(SHA256) = %v; want a link", err)
			}
			k.Hash = cfsign.SHA1
			if err := k.Check(); (err == nil) != tc.sha1 {
				t.Errorf("Check(SHA1) = %v; want an error: %v", err, !tc.sha1)
			}
		})
	}
	// A remote RSA signer asked for SHA1 anyway (NewSigner cannot see it
	// is remote): its own refusal reaches the caller, wrapped.
	s, err := cfsign.NewSigner("K1", kmsLike{rsaKey}, cfsign.SHA1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignLink(cfsign.LinkRequest{URL: "https://h/a", Expires: time.Unix(1767290400, 0)}); !errors.Is(err, errNotSHA256) {
		t.Errorf("SignLink(KMS-like, SHA1) = %v; want the signer's %v", err, errNotSHA256)
	}
	for _, k := range []cfsign.Key{
		{ID: "K1", Hash: cfsign.SHA256},
		{ID: "AKIAIOSFODNN7EXAMPLE", Signer: rsaKey, Hash: cfsign.SHA256},
		{ID: "K1", Signer: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)), Hash: cfsign.SHA256},
	} {
		if err := k.Check(); err == nil {
			t.Errorf("Check(%s, %T) = nil; want an error", k.ID, k.Signer)
		}
	}
}

// TestSplitURL: the one split of an absolute URL, byte for byte.
func TestSplitURL(t *testing.T) {
	tests := []struct {
		in                   string
		scheme, host, target string
		ok                   bool
	}{
		{"https://h/a?b=1", "https", "h", "/a?b=1", true},
		{"https://h?b=1", "https", "h", "?b=1", true},
		{"https://h", "https", "h", "", true},
		{"https://h#f/x", "https", "h", "#f/x", true},
		{"HTTP://[2001:db8::1]:8443/%2e/?x#y", "HTTP", "[2001:db8::1]:8443", "/%2e/?x#y", true},
		{"https://u@h/a", "https", "u@h", "/a", true},
		{"https:///a", "https", "", "/a", true},
		{"ftp://h/a://b", "ftp", "h", "/a://b", true},
		{"h/a", "", "", "", false},
		{"", "", "", "", false},
	}
	for _, tc := range tests {
		scheme, host, target, ok := cfsign.SplitURL(tc.in)
		if scheme != tc.scheme || host != tc.host || target != tc.target || ok != tc.ok {
			t.Errorf("SplitURL(%q) = %q, %q, %q, %v; want %q, %q, %q, %v",
				tc.in, scheme, host, target, ok, tc.scheme, tc.host, tc.target, tc.ok)
		}
	}
}
