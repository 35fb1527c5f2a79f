package cfsign_test

// Benchmarks for the signing and verifying paths and the parsers they use.
// Compare runs with benchstat; bench/crypto compares the crypto with
// `openssl speed`.

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

var benchAlgs = []string{"rsa2048-sha1", "rsa2048-sha256", "p256-sha1", "p256-sha256"}

// BenchmarkSign signs the §15 URL with a canned policy: policy bytes, hash,
// signature, CloudFront base64 and URL assembly. cfsign never signs
// p256-sha1 (§9), so it has no sub-benchmark here.
func BenchmarkSign(b *testing.B) {
	k := loadFuzzKeys(b)
	exp := time.Unix(expiresAt, 0)
	for _, bc := range []struct {
		name string
		s    *cfsign.Signer
	}{
		{"rsa2048-sha1", k.rsaSHA1},
		{"rsa2048-sha256", k.rsaSHA256},
		{"p256-sha256", k.ecSHA256},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.s.SignCanned(fuzzOrigin+"/image.jpg", exp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify verifies a signed URL end to end, without a verified-link
// cache (every request a miss): a canned one (the §15 URL) and a custom one
// (wildcard resource, start time, IP range), for each key and hash,
// p256-sha1 included because the SDKs emit it, and signed cookies.
func BenchmarkVerify(b *testing.B) {
	k := loadFuzzKeys(b)
	client := netip.MustParseAddr("192.0.2.7")
	custom := &cfsign.Policy{Resource: fuzzOrigin + "/videos/*", HasResource: true, Expires: expiresAt,
		NotBefore: notBefore, SourceIP: netip.MustParsePrefix("192.0.2.0/24")}
	for _, kind := range []struct {
		name, url string
		policy    *cfsign.Policy
	}{
		{"canned", fuzzOrigin + "/image.jpg", nil},
		{"custom", fuzzOrigin + "/videos/a.ts?v=2", custom},
	} {
		for _, alg := range benchAlgs {
			scheme, host, target := splitURL(k.signURL(b, alg, kind.url, kind.policy))
			r := &cfsign.Request{Scheme: scheme, Host: host, Target: target, ClientIP: client}
			b.Run(kind.name+"/"+alg, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := k.v.Verify(r); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	// Signed cookies with a custom wildcard policy, as for HLS.
	r := hitRequests(b, k)[3].req
	b.Run("cookie/p256-sha256", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := k.v.Verify(&r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyCached verifies requests whose credentials are in the
// verified-link cache (Options.CacheSize): the hit path, which still checks
// the time, the client IP and the resource on every request. The custom
// and cookie cases carry a wildcard policy and ask for other URLs than the
// one signed.
func BenchmarkVerifyCached(b *testing.B) {
	k := loadFuzzKeys(b)
	for _, bc := range hitRequests(b, k) {
		v := k.cachedVerifier(b, 1024)
		b.Run(bc.name, func(b *testing.B) {
			if _, err := v.Verify(&bc.req); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(&bc.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	k := loadFuzzKeys(b)
	sigOf := func(alg string) string {
		_, q, _ := strings.Cut(k.signURL(b, alg, fuzzOrigin+"/image.jpg", nil), "Signature=")
		sig, _, _ := strings.Cut(q, "&")
		return sig
	}
	rsaSig := sigOf("rsa2048-sha1")
	for _, bc := range []struct{ name, in string }{
		{"rsa2048-signature", rsaSig},            // 344 characters
		{"p256-signature", sigOf("p256-sha256")}, // 96 characters
		{"policy-136B", cfsign.Encode([]byte(workedExamplePolicy))},
		{"rsa2048-signature-percent-7E", strings.ReplaceAll(rsaSig, "~", "%7E")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.in)))
			for b.Loop() {
				if _, err := cfsign.Decode(bc.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// AppendDecode into a reused buffer, as the verifier decodes Signature.
	b.Run("rsa2048-signature-append", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(rsaSig)))
		buf := make([]byte, 0, 512)
		for b.Loop() {
			if _, err := cfsign.AppendDecode(buf[:0], rsaSig); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkParsePolicy(b *testing.B) {
	for _, bc := range []struct{ name, policy string }{
		{"canned-136B", workedExamplePolicy},
		{"custom-array", `{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/videos/*","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400},"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"},"DateGreaterThan":{"AWS:EpochTime":1767100000}}}]}`},
		{"custom-object-whitespace", "{\n  \"Statement\": {\n    \"Resource\": \"https://d111111abcdef8.cloudfront.net/videos/*\",\n    \"Condition\": {\"DateLessThan\": {\"AWS:EpochTime\": 1767290400}}\n  }\n}\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.policy)))
			data := []byte(bc.policy)
			for b.Loop() {
				if _, err := cfsign.ParsePolicy(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPatternMatch matches a parsed pattern against request parts; the
// adversarial case is the worst shape for a backtracking glob.
func BenchmarkPatternMatch(b *testing.B) {
	const h = "d111111abcdef8.cloudfront.net"
	for _, bc := range []struct {
		name, pattern, host, path, query string
	}{
		{"literal", "https://" + h + "/image.jpg", h, "/image.jpg", ""},
		{"path-wildcard", "https://" + h + "/videos/*", h, "/videos/2026/01/stream/segment-00042.ts", "v=2"},
		{"domain-wildcard", "https://*.cloudfront.net/*", h, "/image.jpg", ""},
		{"query-wildcard", "https://" + h + "/a.jpg?size=*&w=???", h, "/a.jpg", "size=large&w=640"},
		{"adversarial", "https://" + h + "/" + strings.Repeat("*a", 20) + "b", h, "/" + strings.Repeat("a", 1000), ""},
	} {
		p, err := cfsign.ParsePattern(bc.pattern)
		if err != nil {
			b.Fatalf("ParsePattern(%q) = %v", bc.pattern, err)
		}
		want := bc.name != "adversarial"
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if got := p.Match("https", bc.host, bc.path, bc.query); got != want {
					b.Fatalf("Match(%q) = %v; want %v", bc.pattern, got, want)
				}
			}
		})
	}
}
