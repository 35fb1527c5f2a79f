package cfsign_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

const host = "d111111abcdef8.cloudfront.net"

func TestBase64(t *testing.T) {
	// §3: bytes FB FF are "+/8=" in standard base64 and "-~8_" here.
	if got := cfsign.Encode([]byte{0xfb, 0xff}); got != "-~8_" {
		t.Errorf("Encode(FB FF) = %q; want %q", got, "-~8_")
	}
	tests := []struct {
		in   string
		want string // hex; "" means an error
	}{
		{"-~8_", "fbff"},
		{"-%7E8_", "fbff"}, // '~' sent as %7E by a form encoder (§17 #1)
		{"-%7e8_", "fbff"},
		{"+/8=", ""},     // standard base64
		{"-_8", ""},      // base64url, no padding (§17 #2)
		{"-~8", ""},      // padding missing
		{"-~8_AA__", ""}, // trailing data
		{"", ""},
		{"-~8_%", ""},
		{"-~8_%7", ""},
		{"-~8_%zz", ""},
		{"-~ 8_", ""},
		{"-~9_", ""}, // non-zero trailing bits
	}
	for _, tc := range tests {
		got, err := cfsign.Decode(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("Decode(%q) = %x; want an error", tc.in, got)
			}
			continue
		}
		if err != nil || hex.EncodeToString(got) != tc.want {
			t.Errorf("Decode(%q) = %x, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

// TestWorkedExample follows §15 step by step.
func TestWorkedExample(t *testing.T) {
	const want = `{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/image.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}`
	p := cfsign.CannedPolicy("https://"+host+"/image.jpg", 1767290400)
	if string(p) != want || len(p) != 136 {
		t.Fatalf("CannedPolicy = %s (%d bytes); want %s (136 bytes)", p, len(p), want)
	}
	if got := sha1.Sum(p); hex.EncodeToString(got[:]) != "44ed2b79fb9f461beaf14a6c778d5ef0e294d28f" {
		t.Errorf("SHA-1 = %x", got)
	}
	if got := sha256.Sum256(p); hex.EncodeToString(got[:]) != "2c04eeea5e268d90c830f296d13f79b996c008406291e6a197cd92b3968423b0" {
		t.Errorf("SHA-256 = %x", got)
	}
	if got := len(cfsign.CannedPolicy("https://"+host+"/image.jpg?size=large", 1767290400)); got != 147 {
		t.Errorf("len(policy with query) = %d; want 147", got)
	}
	const cookie = "eyJTdGF0ZW1lbnQiOlt7IlJlc291cmNlIjoiaHR0cHM6Ly9kMTExMTExYWJjZGVmOC5jbG91ZGZyb250Lm5ldC9pbWFnZS5qcGciLCJDb25kaXRpb24iOnsiRGF0ZUxlc3NUaGFuIjp7IkFXUzpFcG9jaFRpbWUiOjE3NjcyOTA0MDB9fX1dfQ__"
	if got := cfsign.Encode(p); got != cookie {
		t.Errorf("Encode(policy) = %s; want %s", got, cookie)
	}

	s := newSigner(t, "rsa2048", "K2JCJMDEHXQW5F", "sha1")
	u, err := s.SignCanned("https://"+host+"/image.jpg", time.Unix(1767290400, 0))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^https://d111111abcdef8\.cloudfront\.net/image\.jpg\?Expires=1767290400&Signature=([A-Za-z0-9~_-]{344})&Key-Pair-Id=K2JCJMDEHXQW5F$`).FindStringSubmatch(u)
	if m == nil {
		t.Fatalf("SignCanned = %s; want the §15 shape with a 344-character signature", u)
	}
	v := verifier(t, time.Unix(1767290399, 0), "K2JCJMDEHXQW5F", "rsa2048")
	res, err := v.Verify(&cfsign.Request{Scheme: "https", Host: host, Target: strings.TrimPrefix(u, "https://"+host)})
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if string(res.PolicyBytes) != want || !res.Canned || res.Mode != cfsign.ModeURL {
		t.Errorf("Verify result = %+v", res)
	}
}

func TestStripQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Expires=1&Signature=x&Key-Pair-Id=K", ""},
		{"size=large&Expires=1&Signature=x&Key-Pair-Id=K", "size=large"},
		{"Expires=1&Signature=x&Key-Pair-Id=K&size=large", "size=large"},
		{"q=1+2&Expires=1&Signature=x&Key-Pair-Id=K&Hash-Algorithm=SHA256", "q=1+2"},
		{"a=1&Policy&b=2", "a=1&b=2"},                          // a bare reserved name
		{"expires=1&Key-Pair-ID=2", "expires=1&Key-Pair-ID=2"}, // case-sensitive
		{"a=1&&b=2", "a=1&&b=2"},                               // empty elements are kept
		{"Policy=x&&a=1", "&a=1"},
	}
	for _, tc := range tests {
		if got := cfsign.StripQuery(tc.in); got != tc.want {
			t.Errorf("StripQuery(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
	// Only A-Z are lower-cased: not U+212A KELVIN SIGN, not invalid UTF-8.
	for hostIn, want := range map[string]string{"K\u212a": "k\u212a", "A\xff": "a\xff", "MEDIA.Example.COM:8443": "media.example.com:8443"} {
		if got := cfsign.RebuildResource("https", hostIn, "/x"); got != "https://"+want+"/x" {
			t.Errorf("RebuildResource(https, %+q, /x) = %+q; want %+q", hostIn, got, "https://"+want+"/x")
		}
	}
	if got := cfsign.StripTarget("/a.jpg?Expires=1&Signature=x"); got != "/a.jpg" {
		t.Errorf("StripTarget = %q; want /a.jpg", got)
	}
	if got := cfsign.RebuildResource("https", "D111111ABCDEF8.cloudfront.net", "/a%20b.jpg?q=1+2&Expires=1&Signature=x&Key-Pair-Id=K"); got != "https://"+host+"/a%20b.jpg?q=1+2" {
		t.Errorf("RebuildResource = %q", got)
	}
}

func TestPattern(t *testing.T) {
	tests := []struct {
		pattern string
		match   []string
		nomatch []string
	}{
		{"https://h/videos/*", []string{"https://h/videos/a/b.ts", "https://h/videos/x.m3u8?v=2", "https://h/videos/"}, []string{"https://h/videos", "http://h/videos/a"}},
		{"https://h/*game_download.zip*", []string{"https://h/game_download.zip", "https://h/x_game_download.zip?license=yes"}, []string{"https://h/game.zip"}},
		{"https://h/a.jpg", []string{"https://h/a.jpg"}, []string{"https://h/a.jpg?x=1", "https://h/A.jpg", "https://h/a%2Ejpg", "https://h2/a.jpg"}},
		{"https://h/a.jpg?size=*", []string{"https://h/a.jpg?size=large", "https://h/a.jpg?size="}, []string{"https://h/a.jpg", "https://h/a.jpg?w=1&size=l"}},
		{"http*://h/a.jpg", []string{"http://h/a.jpg", "https://h/a.jpg"}, []string{"ftp://h/a.jpg"}},
		{"*", []string{"https://h/a", "http://x.example/b/c?d=e"}, nil},
		{"https://h*", []string{"https://h/a?b", "https://host.example/x", "https://h/"}, []string{"http://h/a"}},
		{"*example.com", []string{"https://example.com/", "http://www.example.com/"}, []string{"https://example.com/a", "https://example.org/"}},
		{"https://h/a?b=?", []string{"https://h/a?b=1"}, []string{"https://h/a?b=12", "https://h/a?b="}},
		{"https://h/a\\?b=1", []string{"https://h/a?b=1"}, []string{"https://h/a?b=2"}}, // the guide's escaped '?' starts the query
		{"https://h/star\\*.txt", []string{"https://h/star*.txt"}, []string{"https://h/starX.txt"}},
		{"https://h/a.jpg?", []string{"https://h/a.jpg"}, []string{"https://h/a.jpg?x"}},
		{"https://h?st/x", []string{"https://host/x"}, []string{"https://hst/x", "https://hoost/x"}},
		{"https://*.example.com/*", []string{"https://a.example.com/x", "https://a.b.example.com/"}, []string{"https://example.com/x"}},
		{"https://h/*/x.ts", []string{"https://h/a/b/x.ts"}, []string{"https://h/a/b/x.ts?q"}},
		{"https://h/**a*b*c", []string{"https://h/xaybzc", "https://h/abc"}, []string{"https://h/acb", "https://h/abc?z"}},
	}
	for _, tc := range tests {
		p, err := cfsign.ParsePattern(tc.pattern)
		if err != nil {
			t.Errorf("ParsePattern(%q) = %v", tc.pattern, err)
			continue
		}
		for _, u := range tc.match {
			if s, h, pa, q := parts(u); !p.Match(s, h, pa, q) {
				t.Errorf("Match(%q, %q) = false; want true", tc.pattern, u)
			}
		}
		for _, u := range tc.nomatch {
			if s, h, pa, q := parts(u); p.Match(s, h, pa, q) {
				t.Errorf("Match(%q, %q) = true; want false", tc.pattern, u)
			}
		}
	}
	for _, bad := range []string{"h/a.jpg", "", "https://h/a\\b", "https://h/a\\", "example.com/*"} {
		if _, err := cfsign.ParsePattern(bad); !errors.Is(err, cfsign.ErrBadPolicy) {
			t.Errorf("ParsePattern(%q) = %v; want ErrBadPolicy", bad, err)
		}
	}
	// Adversarial wildcards stay polynomial.
	p, _ := cfsign.ParsePattern("https://h/" + strings.Repeat("*a", 200) + "b")
	if p.Match("https", "h", "/"+strings.Repeat("a", 5000), "") {
		t.Error("adversarial pattern matched")
	}
}

func parts(u string) (scheme, host, path, query string) {
	scheme, host, target := splitURL(u)
	path, query = cfsign.SplitTarget(target)
	return
}

func TestParsePolicy(t *testing.T) {
	good := []struct {
		in   string
		want cfsign.Policy
	}{
		{`{"Statement":[{"Resource":"https://h/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}`,
			cfsign.Policy{Resource: "https://h/*", HasResource: true, Expires: 1767290400}},
		{`{"Statement":{"Resource":"https://h/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}}`,
			cfsign.Policy{Resource: "https://h/*", HasResource: true, Expires: 1767290400}},
		{" {\n \"Statement\" : [ { \"Condition\" : { \"IpAddress\":{\"AWS:SourceIp\":\"192.0.2.0/24\"}, \"DateGreaterThan\":{\"AWS:EpochTime\":10},\"DateLessThan\":{\"AWS:EpochTime\":20} }, \"Resource\":\"*\" } ] }\n",
			cfsign.Policy{Resource: "*", HasResource: true, Expires: 20, NotBefore: 10, SourceIP: netip.MustParsePrefix("192.0.2.0/24")}},
		{`{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":2147483647}}}]}`,
			cfsign.Policy{Expires: 2147483647}},
	}
	for _, tc := range good {
		p, err := cfsign.ParsePolicy([]byte(tc.in))
		if err != nil {
			t.Errorf("ParsePolicy(%s) = %v", tc.in, err)
			continue
		}
		if *p != tc.want {
			t.Errorf("ParsePolicy(%s) = %+v; want %+v", tc.in, *p, tc.want)
		}
	}
	const c = `"Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}`
	bad := []string{
		``, `null`, `[]`, `{}`,
		`{"Statement":[]}`,
		`{"Statement":[{"Resource":"a",` + c + `},{"Resource":"b",` + c + `}]}`,
		`{"Statement":[{"Resource":"a",` + c + `}],"Extra":1}`,
		`{"Statement":[{"Resource":"a","Effect":"Allow",` + c + `}]}`,
		`{"Statement":[{"Resource":"a","Resource":"b",` + c + `}]}`, // duplicate
		`{"Statement":[{"Resource":"a",` + c + `}],"Statement":[]}`,
		`{"Statement":[{"Resource":["a"],` + c + `}]}`,
		`{"Statement":[{"Resource":"a"}]}`,
		`{"Statement":[{"Resource":"a","Condition":{}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400.0}}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{"DateLessThan":{"AWS:EpochTime":1.7e9}}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{"DateLessThan":{"AWS:EpochTime":"1767290400"}}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400000}}}]}`, // milliseconds
		`{"Statement":[{"Resource":"a","Condition":{"DateLessThan":{"AWS:EpochTime":-1}}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{"DateLessThan":{"AWS:EpochTime":0}}}]}`,
		`{"Statement":[{"Resource":"a","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400,"X":1}}}]}`,
		`{"Statement":[{"Resource":"a",` + c[:len(c)-1] + `,"IpAddress":{"AWS:SourceIp":"2001:db8::/32"}}}]}`,
		`{"Statement":[{"Resource":"a",` + c[:len(c)-1] + `,"IpAddress":{"AWS:SourceIp":"192.0.2.1"}}}]}`,
		`{"Statement":[{"Resource":"a",` + c[:len(c)-1] + `,"NotIpAddress":{"AWS:SourceIp":"192.0.2.0/24"}}}]}`,
		`{"Statement":[{"Resource":"a",` + c + `}]} x`,
		`{"Statement":[{"Resource":"a",` + c[:len(c)-1] + `,"DateGreaterThan":{}}}]}`,
		`{"Statement":[{"Resource":"a",` + c[:len(c)-1] + `,"IpAddress":{}}}]}`,
		`{"Statement":[{"Resource":"a",` + c + `}]}{}`,
	}
	for _, in := range bad {
		_, err := cfsign.ParsePolicy([]byte(in))
		if cfsign.CodeOf(err) != cfsign.MalformedPolicy || !errors.Is(err, cfsign.ErrBadPolicy) {
			t.Errorf("ParsePolicy(%s) = %v; want MalformedPolicy", in, err)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	p := cfsign.Policy{Resource: "https://h/v/*", HasResource: true, Expires: 1767290400, NotBefore: 1767100000, SourceIP: netip.MustParsePrefix("10.0.0.0/8")}
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"Statement":[{"Resource":"https://h/v/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400},"IpAddress":{"AWS:SourceIp":"10.0.0.0/8"},"DateGreaterThan":{"AWS:EpochTime":1767100000}}}]}`
	if string(b) != want {
		t.Errorf("Marshal = %s; want %s", b, want)
	}
	back, err := cfsign.ParsePolicy(b)
	if err != nil || *back != p {
		t.Errorf("ParsePolicy(Marshal(p)) = %+v, %v; want %+v", back, err, p)
	}
	canned := cfsign.Policy{Resource: "https://h/a", HasResource: true, Expires: 5}
	if b, _ := canned.Marshal(); string(b) != string(cfsign.CannedPolicy("https://h/a", 5)) {
		t.Errorf("expiry-only Marshal = %s; want the canned template", b)
	}
	for name, bad := range map[string]cfsign.Policy{
		"no resource":   {Expires: 5},
		"quote":         {Resource: `https://h/"`, HasResource: true, Expires: 5},
		"space":         {Resource: "https://h/a b", HasResource: true, Expires: 5},
		"non-ascii":     {Resource: "https://h/é", HasResource: true, Expires: 5},
		"backslash":     {Resource: `https://h/\*`, HasResource: true, Expires: 5},
		"milliseconds":  {Resource: "https://h/a", HasResource: true, Expires: 1767290400000},
		"start>=expiry": {Resource: "https://h/a", HasResource: true, Expires: 5, NotBefore: 5},
		"ipv6":          {Resource: "https://h/a", HasResource: true, Expires: 5, SourceIP: netip.MustParsePrefix("2001:db8::/32")},
		"bad pattern":   {Resource: "h/a", HasResource: true, Expires: 5},
	} {
		if _, err := bad.Marshal(); err == nil {
			t.Errorf("Marshal(%s) succeeded; want an error", name)
		}
	}
}

// readKeyFile reads a file of testdata/keys.
func readKeyFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "keys", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKeys(t *testing.T) {
	read := func(name string) []byte { return readKeyFile(t, name) }
	rsaPub, err := cfsign.ParsePublicKey(read("rsa2048.pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ecPub, err := cfsign.ParsePublicKey(read("p256.pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]crypto.PublicKey{
		"rsa2048.pem": rsaPub, "rsa2048.pkcs1.pem": rsaPub,
		"p256.pem": ecPub, "p256.sec1.pem": ecPub, "p256.sec1-params.pem": ecPub,
	} {
		k, err := cfsign.ParsePrivateKey(read(file))
		if err != nil {
			t.Errorf("ParsePrivateKey(%s) = %v", file, err)
			continue
		}
		if !k.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(want) {
			t.Errorf("ParsePrivateKey(%s) is not the key of its public PEM", file)
		}
	}
	for file, want := range map[string]string{
		"rsa2048.encrypted.pem": "encrypted",
		"rsa2048.pub.pem":       "public key where a private key",
		"README.md":             "no PEM",
	} {
		if _, err := cfsign.ParsePrivateKey(read(file)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParsePrivateKey(%s) = %v; want an error containing %q", file, err, want)
		}
	}
	if _, err := cfsign.ParsePublicKey(read("rsa2048.pem")); err == nil {
		t.Error("ParsePublicKey(private key) succeeded")
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err := cfsign.CheckPublicKey(p384.Public()); err == nil {
		t.Error("CheckPublicKey(P-384) succeeded")
	}
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := cfsign.NewSigner("K1", edPriv, cfsign.SHA256); err == nil {
		t.Error("NewSigner(ed25519) succeeded")
	}
	if w := cfsign.KeyWarning(loadKey(t, "rsa1024").signer.Public()); w == "" {
		t.Error("KeyWarning(RSA-1024) is empty")
	}
	if got := cfsign.Algorithm(ecPub); got != "ECDSA-P256" {
		t.Errorf("Algorithm(p256) = %q", got)
	}
	id, err := cfsign.KeyID(rsaPub)
	if err != nil || !regexp.MustCompile(`^K[A-Z2-7]{13}$`).MatchString(id) {
		t.Errorf("KeyID = %q, %v; want K + 13 base32 characters", id, err)
	}
	if id2, _ := cfsign.KeyID(rsaPub); id2 != id {
		t.Errorf("KeyID is not stable: %q, %q", id, id2)
	}
	for id, ok := range map[string]bool{
		"K2JCJMDEHXQW5F": true, "APKA9ONS7QCOWEXAMPLE": true, "my-key_1": true,
		"": false, "K2JC JM": false, "K2JCJM\n": false, "AKIAIOSFODNN7EXAMPLE": false, "ASIAIOSFODNN7EXAMPLE": false,
		"-----BEGIN PUBLIC KEY-----": false, strings.Repeat("K", 129): false, "K%41": false,
	} {
		if err := cfsign.CheckKeyID(id); (err == nil) != ok {
			t.Errorf("CheckKeyID(%q) = %v; want ok=%v", id, err, ok)
		}
	}
}

func TestSignerRefuses(t *testing.T) {
	s := newSigner(t, "rsa2048", "K2JCJMDEHXQW5F", "sha1")
	exp := time.Unix(1767290400, 0)
	for _, u := range []string{
		"https://h/a?Expires=1", "https://h/a?x=1&Hash-Algorithm=SHA256", "https://h/a?Key-Pair-Id",
		"https://h/a?", "https://h:443/a", "http://h:80/a", "HTTPS://h/a", "https://H/a",
		"https://h/a#frag", "https://h/a b", "https://h/é", `https://h/"`, `https://h/\`,
		"ftp://h/a", "h/a", "https:///a", "https://*.h/a", "https://h?x=1", "https://h/%zz",
		"https://h/" + strings.Repeat("a", 8200),
		"https://h:/x", "https://h:0443/x", "http://h:080/x", "https://h:99999/x", "https://h:x/x", "https://:8443/x",
		"https://h/a/../b", "https://h/a/./b", "https://h/a/%2e%2E/b", "https://h/a%2Fb", "https://h/a%5cb",
		"https://h/a//b", "https://h/a%00b", "https://h/..", "https://h", "https://h:8443",
	} {
		if got, err := s.SignCanned(u, exp); err == nil {
			t.Errorf("SignCanned(%q) = %q; want an error", u, got)
		}
	}
	if _, err := s.SignCanned("https://h/a", time.Unix(2147483648, 0)); err == nil {
		t.Error("SignCanned after 2038 succeeded")
	}
	// Lower-case extra parameter names are the caller's own and allowed.
	for _, u := range []string{"https://h:8443/a?expires=1", "http://h:443/a", "https://[2001:db8::1]:8443/a", "https://h/a.b/..c/%2E.x/"} {
		if _, err := s.SignCanned(u, exp); err != nil {
			t.Errorf("SignCanned(%q) = %v; want success", u, err)
		}
	}
	p := &cfsign.Policy{Resource: "https://h/v/*", HasResource: true, Expires: exp.Unix()}
	if _, err := s.SignCustom("https://h/other/a.ts", p); err == nil {
		t.Error("SignCustom with a resource not covering the URL succeeded")
	}
	if _, err := s.SignURLWithPolicy("https://h/v/a.ts", []byte(`{"Statement":[]}`)); err == nil {
		t.Error("SignURLWithPolicy(malformed) succeeded")
	}
	if _, err := cfsign.NewSigner("K1", loadKey(t, "p256").signer, cfsign.SHA1); err == nil {
		t.Error("NewSigner(ECDSA, SHA1) succeeded; signet signs EC only with SHA-256")
	}
	if _, err := cfsign.NewSigner("AKIAIOSFODNN7EXAMPLE", loadKey(t, "rsa2048").signer, cfsign.SHA1); err == nil {
		t.Error("NewSigner(IAM key id) succeeded")
	}
}

func TestCookies(t *testing.T) {
	s := newSigner(t, "p256", "K3EC", "sha256")
	cs, err := s.SignCannedCookies("https://"+host+"/a.jpg", time.Unix(1767290400, 0))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, ","); got != "CloudFront-Expires,CloudFront-Signature,CloudFront-Key-Pair-Id,CloudFront-Hash-Algorithm" {
		t.Errorf("cookie names = %s", got)
	}
	line, err := cs[0].SetCookie(cfsign.CookieOptions{Path: "/videos/x/"})
	if want := "CloudFront-Expires=1767290400; Path=/videos/x/; Secure; HttpOnly; SameSite=Lax"; err != nil || line != want {
		t.Errorf("SetCookie = %q, %v; want %q", line, err, want)
	}
	line, _ = cs[2].SetCookie(cfsign.CookieOptions{Domain: "example.com", MaxAge: 60, SameSite: "none"})
	if want := "CloudFront-Key-Pair-Id=K3EC; Domain=example.com; Path=/; Max-Age=60; Secure; HttpOnly; SameSite=None"; line != want {
		t.Errorf("SetCookie = %q; want %q", line, want)
	}
	for _, o := range []cfsign.CookieOptions{{Path: "/a;b"}, {Domain: "a b"}, {SameSite: "sometimes"}, {Path: "rel"}} {
		if _, err := cs[0].SetCookie(o); err == nil {
			t.Errorf("SetCookie(%+v) succeeded", o)
		}
	}
	big := cfsign.Cookie{Name: "CloudFront-Policy", Value: strings.Repeat("A", 4100)}
	if _, err := big.SetCookie(cfsign.CookieOptions{}); err == nil {
		t.Error("SetCookie over 4096 bytes succeeded")
	}
}

// TestVerify walks §13 and §17 with one trusted RSA key and one EC key.
func TestVerify(t *testing.T) {
	const rsaID, ecID = "KRSA2048", "KP256"
	now := time.Unix(1767200000, 0)
	v := verifier(t, now, rsaID, "rsa2048", ecID, "p256")
	rs := newSigner(t, "rsa2048", rsaID, "sha1")
	es := newSigner(t, "p256", ecID, "sha256")
	base := "https://" + host
	exp := time.Unix(1767290400, 0)
	canned := func(s *cfsign.Signer, u string) string {
		out, err := s.SignCanned(u, exp)
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimPrefix(out, base)
	}
	withPolicy := func(s *cfsign.Signer, u, policy string) string {
		// Sign arbitrary bytes, bypassing the signer's checks, to reach
		// the verifier's parse-after-verify step.
		sig, err := s.SignPolicy([]byte(policy))
		if err != nil {
			t.Fatal(err)
		}
		out := u + "?Policy=" + cfsign.Encode([]byte(policy)) + "&Signature=" + sig + "&Key-Pair-Id=" + s.KeyID()
		if s.Hash() == cfsign.SHA256 {
			out += "&Hash-Algorithm=SHA256"
		}
		return strings.TrimPrefix(out, base)
	}
	good := canned(rs, base+"/a.jpg")
	policy := func(cond string) string {
		return `{"Statement":[{"Resource":"` + base + `/v/*","Condition":{` + cond + `}}]}`
	}
	dlt := `"DateLessThan":{"AWS:EpochTime":1767290400}`
	tests := []struct {
		name    string
		req     cfsign.Request
		want    error // nil, or the private reason
		code    cfsign.Code
		options *cfsign.Options
	}{
		{name: "canned ok", req: cfsign.Request{Target: good}},
		{name: "canned ec sha256", req: cfsign.Request{Target: canned(es, base+"/a.jpg")}},
		{name: "host case ignored", req: cfsign.Request{Target: good, Host: strings.ToUpper(host)}},
		{name: "no credentials", req: cfsign.Request{Target: "/a.jpg"}, want: cfsign.ErrNoCredentials, code: cfsign.MissingKey},
		{name: "other cookies only", req: cfsign.Request{Target: "/a.jpg", Cookies: []string{"a=b"}}, want: cfsign.ErrNoCredentials, code: cfsign.MissingKey},
		{name: "key id empty", req: cfsign.Request{Target: setParam(good, "Key-Pair-Id", "")}, want: cfsign.ErrMissingKeyID, code: cfsign.MissingKey},
		{name: "unknown key", req: cfsign.Request{Target: setParam(good, "Key-Pair-Id", "KOTHER")}, want: cfsign.ErrUnknownKey, code: cfsign.InvalidKey},
		{name: "expires and policy", req: cfsign.Request{Target: good + "&Policy=eyJ9"}, want: cfsign.ErrExpiresAndPolicy, code: cfsign.MalformedPolicy},
		{name: "neither expires nor policy", req: cfsign.Request{Target: dropParam(good, "Expires")}, want: cfsign.ErrNoPolicy, code: cfsign.MalformedPolicy},
		{name: "signature missing", req: cfsign.Request{Target: dropParam(good, "Signature")}, want: cfsign.ErrMissingSignature, code: cfsign.MalformedSignature},
		{name: "signature base64url", req: cfsign.Request{Target: setParam(good, "Signature", "ab_cd")}, want: cfsign.ErrBadSignatureB64, code: cfsign.MalformedSignature},
		{name: "signature with %7E", req: cfsign.Request{Target: setParam(good, "Signature", strings.ReplaceAll(param(good, "Signature"), "~", "%7E"))}},
		{name: "hash unknown", req: cfsign.Request{Target: good + "&Hash-Algorithm=sha256"}, want: cfsign.ErrUnknownHash, code: cfsign.AccessDenied},
		{name: "hash SHA1 explicit", req: cfsign.Request{Target: good + "&Hash-Algorithm=SHA1"}},
		{name: "hash wrong", req: cfsign.Request{Target: good + "&Hash-Algorithm=SHA256"}, want: cfsign.ErrBadSignature, code: cfsign.AccessDenied},
		{name: "repeated parameter", req: cfsign.Request{Target: good + "&Key-Pair-Id=" + rsaID}, want: cfsign.ErrRepeatedParam, code: cfsign.AccessDenied},
		{name: "expires leading zero", req: cfsign.Request{Target: setParam(good, "Expires", "01767290400")}, want: cfsign.ErrBadExpires, code: cfsign.MalformedPolicy},
		{name: "expires milliseconds", req: cfsign.Request{Target: setParam(good, "Expires", "1767290400000")}, want: cfsign.ErrBadExpires, code: cfsign.MalformedPolicy},
		{name: "expires sign", req: cfsign.Request{Target: setParam(good, "Expires", "+1767290400")}, want: cfsign.ErrBadExpires, code: cfsign.MalformedPolicy},
		{name: "expires past 2038", req: cfsign.Request{Target: setParam(good, "Expires", "2147483648")}, want: cfsign.ErrBadExpires, code: cfsign.MalformedPolicy},
		{name: "canned other path", req: cfsign.Request{Target: strings.Replace(good, "/a.jpg", "/b.jpg", 1)}, want: cfsign.ErrBadSignature, code: cfsign.AccessDenied},
		{name: "canned over http", req: cfsign.Request{Target: good, Scheme: "http"}, want: cfsign.ErrBadSignature, code: cfsign.AccessDenied},
		{name: "canned at expiry", req: cfsign.Request{Target: good}, want: cfsign.ErrExpired, code: cfsign.AccessDenied,
			options: &cfsign.Options{Now: func() time.Time { return exp }}},
		{name: "canned one second before expiry", req: cfsign.Request{Target: good},
			options: &cfsign.Options{Now: func() time.Time { return exp.Add(-time.Second + time.Millisecond*999) }}},
		{name: "canned within skew", req: cfsign.Request{Target: good},
			options: &cfsign.Options{Skew: 30 * time.Second, Now: func() time.Time { return exp.Add(29 * time.Second) }}},
		{name: "custom ok", req: cfsign.Request{Target: withPolicy(es, base+"/v/a/b.ts", policy(dlt))}},
		{name: "custom other file under prefix", req: cfsign.Request{Target: "/v/c.ts?" + strings.SplitN(withPolicy(es, base+"/v/a/b.ts", policy(dlt)), "?", 2)[1]}},
		{name: "custom outside prefix", req: cfsign.Request{Target: "/w/c.ts?" + strings.SplitN(withPolicy(es, base+"/v/a/b.ts", policy(dlt)), "?", 2)[1]}, want: cfsign.ErrResourceMismatch, code: cfsign.AccessDenied},
		{name: "unsigned garbage policy", req: cfsign.Request{Target: "/v/a?Policy=" + cfsign.Encode([]byte("garbage")) + "&Signature=" + param(good, "Signature") + "&Key-Pair-Id=" + rsaID}, want: cfsign.ErrBadSignature, code: cfsign.AccessDenied},
		{name: "signed malformed policy", req: cfsign.Request{Target: withPolicy(rs, base+"/v/a", `{"Statement":[]}`)}, want: cfsign.ErrBadPolicy, code: cfsign.MalformedPolicy},
		{name: "signed policy bad pattern", req: cfsign.Request{Target: withPolicy(rs, base+"/v/a", `{"Statement":[{"Resource":"x\\\\y","Condition":{`+dlt+`}}]}`)}, want: cfsign.ErrBadPolicy, code: cfsign.MalformedPolicy},
		{name: "policy undecodable", req: cfsign.Request{Target: "/v/a?Policy=%%%&Signature=" + param(good, "Signature") + "&Key-Pair-Id=" + rsaID}, want: cfsign.ErrBadPolicyB64, code: cfsign.MalformedPolicy},
		{name: "no resource", req: cfsign.Request{Target: withPolicy(rs, base+"/v/a", `{"Statement":[{"Condition":{`+dlt+`}}]}`)}, want: cfsign.ErrNoResource, code: cfsign.AccessDenied},
		{name: "no resource allowed", req: cfsign.Request{Target: withPolicy(rs, base+"/v/a", `{"Statement":[{"Condition":{`+dlt+`}}]}`)},
			options: &cfsign.Options{AllowNoResource: true, Now: func() time.Time { return now }}},
		{name: "not yet valid", req: cfsign.Request{Target: withPolicy(rs, base+"/v/a", policy(dlt+`,"DateGreaterThan":{"AWS:EpochTime":1767200000}`))}, want: cfsign.ErrNotYetValid, code: cfsign.AccessDenied},
		{name: "after start", req: cfsign.Request{Target: withPolicy(rs, base+"/v/a", policy(dlt+`,"DateGreaterThan":{"AWS:EpochTime":1767199999}`))}},
		{name: "ip match", req: cfsign.Request{Target: withPolicy(rs, base+"/v/a", policy(dlt+`,"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}`)), ClientIP: netip.MustParseAddr("192.0.2.9")}},
		{name: "ip mapped", req: cfsign.Request{Target: withPolicy(rs, base+"/v/a", policy(dlt+`,"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}`)), ClientIP: netip.MustParseAddr("::ffff:192.0.2.9")}},
		{name: "ip outside", req: cfsign.Request{Target: withPolicy(rs, base+"/v/a", policy(dlt+`,"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}`)), ClientIP: netip.MustParseAddr("192.0.3.9")}, want: cfsign.ErrIPMismatch, code: cfsign.AccessDenied},
		{name: "ipv6 client", req: cfsign.Request{Target: withPolicy(rs, base+"/v/a", policy(dlt+`,"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}`)), ClientIP: netip.MustParseAddr("2001:db8::1")}, want: cfsign.ErrIPMismatch, code: cfsign.AccessDenied},
		{name: "ip unknown", req: cfsign.Request{Target: withPolicy(rs, base+"/v/a", policy(dlt+`,"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}`))}, want: cfsign.ErrIPMismatch, code: cfsign.AccessDenied},
		{name: "lifetime within cap", req: cfsign.Request{Target: good},
			options: &cfsign.Options{MaxLifetime: 26 * time.Hour}}, // 25h06m40s left
		{name: "lifetime over cap", req: cfsign.Request{Target: good}, want: cfsign.ErrLifetimeOverCap, code: cfsign.AccessDenied,
			options: &cfsign.Options{MaxLifetime: 25 * time.Hour}},
		{name: "require ip, canned", req: cfsign.Request{Target: good}, want: cfsign.ErrNoIPBinding, code: cfsign.AccessDenied,
			options: &cfsign.Options{RequireIP: true}},
		{name: "require ip, custom without", req: cfsign.Request{Target: withPolicy(rs, base+"/v/a", policy(dlt))}, want: cfsign.ErrNoIPBinding, code: cfsign.AccessDenied,
			options: &cfsign.Options{RequireIP: true}},
		{name: "require ip, custom with", req: cfsign.Request{Target: withPolicy(rs, base+"/v/a", policy(dlt+`,"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"}`)), ClientIP: netip.MustParseAddr("192.0.2.9")},
			options: &cfsign.Options{RequireIP: true}},
		{name: "canned shape as policy (Go SDK cookie)", req: cfsign.Request{Target: "/a.jpg", Cookies: []string{goCookie(t, rs, base+"/a.jpg")}}},
		{name: "canned shape as policy, other query", req: cfsign.Request{Target: "/a.jpg?x=1", Cookies: []string{goCookie(t, rs, base+"/a.jpg")}}, want: cfsign.ErrResourceMismatch, code: cfsign.AccessDenied},
		{name: "query beats cookies", req: cfsign.Request{Target: "/a.jpg?Hash-Algorithm=SHA1", Cookies: []string{goCookie(t, rs, base+"/a.jpg")}}, want: cfsign.ErrMissingKeyID, code: cfsign.MissingKey},
		{name: "first cookie wins", req: cfsign.Request{Target: "/a.jpg", Cookies: []string{goCookie(t, rs, base+"/a.jpg"), "CloudFront-Key-Pair-Id=KOTHER"}}},
		{name: "first cookie wins, bad first", req: cfsign.Request{Target: "/a.jpg", Cookies: []string{"CloudFront-Key-Pair-Id=KOTHER", goCookie(t, rs, base+"/a.jpg")}}, want: cfsign.ErrUnknownKey, code: cfsign.InvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vv := v
			if tc.options != nil {
				o := *tc.options
				if o.Now == nil {
					o.Now = func() time.Time { return now }
				}
				vv = verifier2(t, o, rsaID, "rsa2048", ecID, "p256")
			}
			r := tc.req
			if r.Scheme == "" {
				r.Scheme = "https"
			}
			if r.Host == "" {
				r.Host = host
			}
			_, err := vv.Verify(&r)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify(%s) = %v; want success", r.Target, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || cfsign.CodeOf(err) != tc.code {
				t.Fatalf("Verify = %v (code %v); want %v (code %v)", err, cfsign.CodeOf(err), tc.want, tc.code)
			}
		})
	}
}

// goCookie returns a Cookie header as the Go SDK's CookieSigner makes it:
// a canned-shaped policy sent as CloudFront-Policy.
func goCookie(t *testing.T, s *cfsign.Signer, u string) string {
	cs, err := s.SignCookiesWithPolicy(cfsign.CannedPolicy(u, 1767290400))
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, c := range cs {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

func TestCodes(t *testing.T) {
	for code, size := range map[cfsign.Code]int{
		cfsign.MissingKey: 146, cfsign.InvalidKey: 106, cfsign.MalformedSignature: 131,
		cfsign.MalformedPolicy: 116, cfsign.AccessDenied: 110,
	} {
		if got := len(code.XML()); got != size {
			t.Errorf("len(%v.XML()) = %d; want %d (§11)", code, got, size)
		}
	}
	if got := string(cfsign.AccessDenied.XML()); got != `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>` {
		t.Errorf("AccessDenied.XML() = %s", got)
	}
	if cfsign.CodeOf(nil) != cfsign.CodeOK || cfsign.CodeOf(errors.New("x")) != cfsign.AccessDenied {
		t.Error("CodeOf(nil or unknown) is wrong")
	}
}

func verifier(t *testing.T, now time.Time, idsAndKeys ...string) *cfsign.Verifier {
	return verifier2(t, cfsign.Options{Now: func() time.Time { return now }}, idsAndKeys...)
}

func verifier2(t *testing.T, o cfsign.Options, idsAndKeys ...string) *cfsign.Verifier {
	keys := map[string]crypto.PublicKey{}
	for i := 0; i < len(idsAndKeys); i += 2 {
		keys[idsAndKeys[i]] = loadKey(t, idsAndKeys[i+1]).signer.Public()
	}
	v, err := cfsign.NewVerifier(keys, o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestEpochMessages(t *testing.T) {
	for _, tc := range []struct {
		n  int64
		ms bool
	}{{1767290400000, true}, {2147483648, false}, {2524608000, false}} {
		p := cfsign.Policy{Resource: "https://h/a", HasResource: true, Expires: tc.n}
		_, err := p.Marshal()
		if err == nil {
			t.Fatalf("Marshal(expires %d) succeeded", tc.n)
		}
		if got := strings.Contains(err.Error(), "milliseconds"); got != tc.ms {
			t.Errorf("Marshal(expires %d) = %v; mentions milliseconds = %v, want %v", tc.n, err, got, tc.ms)
		}
	}
}

// TestLimits holds the 2038 bound's forms together: MaxExpiry is
// MaxEpoch's date, MaxLifetime is MaxEpoch seconds, and CheckExpiry and
// CheckMaxLifetime draw the line exactly there.
func TestLimits(t *testing.T) {
	if got := time.Unix(cfsign.MaxEpoch, 0).UTC().Format(time.RFC3339); got != cfsign.MaxExpiry {
		t.Errorf("MaxEpoch is %s; MaxExpiry says %s", got, cfsign.MaxExpiry)
	}
	if got := time.Unix(0, 0).Add(cfsign.MaxLifetime).Unix(); got != cfsign.MaxEpoch {
		t.Errorf("1970 + MaxLifetime = %d; want MaxEpoch %d", got, cfsign.MaxEpoch)
	}
	for _, tc := range []struct {
		exp  int64
		want string // "" means accepted
	}{
		{1, ""},
		{cfsign.MaxEpoch, ""},
		{cfsign.MaxEpoch + 1, "expiry 2038-01-19T03:14:08Z is after 2038-01-19T03:14:07Z, the latest CloudFront accepts"},
		{1 << 40, "expiry 1099511627776 (Unix seconds) is after 2038-01-19T03:14:07Z"},
	} {
		err := cfsign.CheckExpiry(tc.exp)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckExpiry(%d) = %v; want %q", tc.exp, err, tc.want)
		}
	}
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{time.Second, ""},
		{7 * 24 * time.Hour, ""},
		{365 * 24 * time.Hour, ""},
		{20 * 365 * 24 * time.Hour, ""},
		{cfsign.MaxLifetime, ""},
		{0, "below 1s"},
		{time.Second - 1, "below 1s"},
		{-time.Hour, "below 1s"},
		{cfsign.MaxLifetime + time.Nanosecond, "over 24855d3h14m7s, the longest any link can live (from 1970 to 2038-01-19T03:14:07Z)"},
		{100 * 365 * 24 * time.Hour, "over 24855d3h14m7s"},
	} {
		err := cfsign.CheckMaxLifetime(tc.d)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckMaxLifetime(%v) = %v; want %q", tc.d, err, tc.want)
		}
	}
}

func TestPatternParts(t *testing.T) {
	for _, tc := range []struct {
		pattern, fixed, cookie string
		wild, protoWild        bool
	}{
		{"https://h/videos/x/*", "/videos/x/", "/videos/x/", true, false},
		{"https://h/videos/x/index.m3u8", "/videos/x/index.m3u8", "/videos/x/", false, false},
		{"https://h/a\\*b/c*", "/a*b/c", "/a*b/", true, false},
		{"http*://h/*.mp4", "/", "/", true, true},
		{"*", "/", "/", true, true},
		{"https://h/a?x=*", "/a", "/", false, false},
	} {
		p, err := cfsign.ParsePattern(tc.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q) = %v", tc.pattern, err)
		}
		fixed, wild := p.FixedPath()
		if fixed != tc.fixed || wild != tc.wild || p.CookiePath() != tc.cookie || p.ProtocolWildcard() != tc.protoWild {
			t.Errorf("%q: FixedPath = %q, %v; CookiePath = %q; ProtocolWildcard = %v; want %q, %v, %q, %v",
				tc.pattern, fixed, wild, p.CookiePath(), p.ProtocolWildcard(), tc.fixed, tc.wild, tc.cookie, tc.protoWild)
		}
	}
}

// TestCheckSigner checks the rule that a signing key makes links its edge
// accepts: its id trusted, and under that id its own public key.
func TestCheckSigner(t *testing.T) {
	read := func(name string) []byte { return readKeyFile(t, name) }
	rsaKey, err := cfsign.ParsePrivateKey(read("rsa2048.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := cfsign.ParsePrivateKey(read("p256.pem"))
	if err != nil {
		t.Fatal(err)
	}
	ecPub, err := cfsign.ParsePublicKey(read("p256.pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	trusted := map[string]crypto.PublicKey{"KRSA": rsaKey.Public(), "KEC": ecPub}
	for _, tc := range []struct {
		name string
		id   string
		pub  crypto.PublicKey
		want error // nil, ErrSignerUntrusted or ErrSignerMismatch
	}{
		{"its own key", "KEC", ecKey.Public(), nil},
		{"an RSA key", "KRSA", rsaKey.Public(), nil},
		{"the id alone", "KRSA", nil, nil},
		{"another key under a trusted id", "KEC", rsaKey.Public(), cfsign.ErrSignerMismatch},
		{"untrusted id", "KOTHER", ecKey.Public(), cfsign.ErrSignerUntrusted},
		{"untrusted id alone", "KOTHER", nil, cfsign.ErrSignerUntrusted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cfsign.CheckSigner(tc.id, tc.pub, trusted)
			var se *cfsign.SignerError
			switch {
			case tc.want == nil && err != nil:
				t.Errorf("CheckSigner(%s) = %v; want nil", tc.id, err)
			case tc.want == nil:
			case !errors.Is(err, tc.want) || !errors.As(err, &se) || se.KeyID != tc.id:
				t.Errorf("CheckSigner(%s) = %#v; want a *SignerError for %s matching %v", tc.id, err, tc.id, tc.want)
			case !strings.Contains(err.Error(), `"`+tc.id+`"`) || strings.Contains(err.Error(), "BEGIN"):
				t.Errorf("CheckSigner(%s) = %q; want the id quoted and no key", tc.id, err)
			}
		})
	}
}

// TestErrorTextHoldsNoPolicy checks the two forms of a refusal's detail:
// Error(), which goes to logs, names the failed check without any part of
// the policy (resource pattern, IP range, times, malformed text), while
// Verbose() adds them for whoever holds the link.
func TestErrorTextHoldsNoPolicy(t *testing.T) {
	const id = "KP256"
	now := time.Unix(1767200000, 0)
	s := newSigner(t, "p256", id, "sha256")
	const resource = "https://zq7-marker.example/private/*"
	const ipRange = "198.51.100.213/32"
	sign := func(policy string) string {
		sig, err := s.SignPolicy([]byte(policy))
		if err != nil {
			t.Fatal(err)
		}
		return "/a.jpg?Policy=" + cfsign.Encode([]byte(policy)) + "&Signature=" + sig + "&Key-Pair-Id=" + id + "&Hash-Algorithm=SHA256"
	}
	policy := func(resource, cond string) string {
		return `{"Statement":[{"Resource":"` + resource + `","Condition":{` + cond + `}}]}`
	}
	dlt := `"DateLessThan":{"AWS:EpochTime":1767290400}`
	ip := `,"IpAddress":{"AWS:SourceIp":"` + ipRange + `"}`
	for _, tc := range []struct {
		name     string
		target   string
		opts     cfsign.Options
		want     error
		safe     string   // in Error()
		verbose  string   // in Verbose() only
		policies []string // in neither Error() nor, for these, the safe form
	}{
		{"ip", sign(policy("https://"+host+"/*", dlt+ip)), cfsign.Options{}, cfsign.ErrIPMismatch,
			"client 203.0.113.9 is outside the policy's range", "is not in " + ipRange, []string{"198.51.100.213"}},
		{"resource", sign(policy(resource, dlt)), cfsign.Options{}, cfsign.ErrResourceMismatch,
			"the request's domain and path do not match the policy's resource", "does not match " + resource, []string{"zq7-marker"}},
		{"expired", sign(policy(resource, `"DateLessThan":{"AWS:EpochTime":1767199960}`+ip)), cfsign.Options{}, cfsign.ErrExpired,
			"expired 40s ago", "expired at 2025-12-31T16:52:40Z", []string{"2025-12-31T16:52:40Z", "1767199960", "zq7-marker", "198.51.100.213"}},
		{"not yet valid", sign(policy(resource, dlt+`,"DateGreaterThan":{"AWS:EpochTime":1767200300}`+ip)), cfsign.Options{}, cfsign.ErrNotYetValid,
			"valid in 5m0s", "not valid before 2025-12-31T16:58:20Z", []string{"2025-12-31T16:58:20Z", "1767200300", "zq7-marker"}},
		{"over cap", sign(policy(resource, dlt+ip)), cfsign.Options{MaxLifetime: time.Hour}, cfsign.ErrLifetimeOverCap,
			"valid for 25h6m40s more; this behavior accepts at most 1h0m0s", "valid until 2026-01-01T18:00:00Z", []string{"2026-01-01T18:00:00Z", "zq7-marker"}},
		{"malformed", sign(policy(resource, dlt+`,"IpAddress":{"AWS:SourceIp":"198.51.100.213/33"}`)), cfsign.Options{}, cfsign.ErrBadPolicy,
			"malformed policy", `AWS:SourceIp "198.51.100.213/33" is not a CIDR range`, []string{"198.51.100.213", "SourceIp"}},
		{"bad pattern", sign(policy("zq7-marker.example/x", dlt)), cfsign.Options{}, cfsign.ErrBadPolicy,
			"malformed policy", `"zq7-marker.example/x" has no "://"`, []string{"zq7-marker"}},
		{"canned expires", "/a.jpg?Expires=0171717&Signature=AAAA&Key-Pair-Id=" + id, cfsign.Options{}, cfsign.ErrBadExpires,
			"Expires is not a valid epoch", `"0171717" has a leading zero`, []string{"0171717"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Now = func() time.Time { return now }
			v := verifier2(t, tc.opts, id, "p256")
			_, err := v.Verify(&cfsign.Request{Scheme: "https", Host: host, Target: tc.target, ClientIP: netip.MustParseAddr("203.0.113.9")})
			ce, ok := errors.AsType[*cfsign.Error](err)
			if !ok || !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v; want a *cfsign.Error for %v", err, tc.want)
			}
			if !strings.Contains(ce.Error(), tc.safe) {
				t.Errorf("Error() = %q; want it to say %q", ce.Error(), tc.safe)
			}
			for _, p := range tc.policies {
				if strings.Contains(ce.Error(), p) {
					t.Errorf("Error() = %q holds %q, a part of the policy", ce.Error(), p)
				}
			}
			if !strings.Contains(ce.Verbose(), tc.verbose) {
				t.Errorf("Verbose() = %q; want it to say %q", ce.Verbose(), tc.verbose)
			}
		})
	}
}
