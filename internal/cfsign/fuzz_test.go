package cfsign_test

// Fuzz targets for every parser and the verifier (STYLE.md, "Fuzz targets").
// Run them with scripts/fuzz.sh. Each target checks cfsign against a small
// reference written here from the wire contract (cloudfront-signing.md),
// without calling the code under test: CloudFront base64 (§3), the rebuilt
// canned resource (§4.1), the signing values of a request (§2, §8), the
// verifier's steps 3 to 9 (§13) with crypto/rsa and crypto/ecdsa doing the
// signature check, and a dynamic-programming glob matcher for patterns (§6).
// The seed corpus is in testdata/fuzz/<Target>/.

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

// ---- CloudFront base64 ----

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"-~8_", "+/8=", "-_8", "-~8", "-~9_", "", "%", "%7", "%7E", "%7e", "%GG", "%2B", "%2D~8_",
		"-%7E8_", "-%7e8%5F", "AAAA", "AA__", "AAA_", "A___", "AA\nAA", "AAAA%0A",
		cfsign.Encode([]byte(workedExamplePolicy)),
		strings.Repeat("QUJD", 300), // over Decode's 1 KiB stack buffer
	} {
		f.Add(s, []byte(s))
	}
	f.Fuzz(func(t *testing.T, s string, raw []byte) {
		got, err := cfsign.Decode(s)
		want, refErr := refDecode(s)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("Decode(%q) error = %v; the §3 reference says %v", s, err, refErr)
		}
		if err == nil {
			if !bytes.Equal(got, want) {
				t.Fatalf("Decode(%q) = %x; want %x", s, got, want)
			}
			pct, _ := percentDecode(s)
			if enc := cfsign.Encode(got); enc != pct {
				t.Fatalf("Encode(Decode(%q)) = %q; want the input percent-decoded, %q", s, enc, pct)
			}
			prefix := []byte("prefix")
			if app, err := cfsign.AppendDecode(prefix, s); err != nil || string(app) != "prefix"+string(got) {
				t.Fatalf("AppendDecode(%q, %q) = %q, %v; want %q", prefix, s, app, err, "prefix"+string(got))
			}
		} else if !errors.Is(err, cfsign.ErrBase64) {
			t.Fatalf("Decode(%q) error = %v; want one matching ErrBase64", s, err)
		}

		enc := cfsign.Encode(raw)
		if want := base64.StdEncoding.EncodedLen(len(raw)); len(enc) != want {
			t.Fatalf("len(Encode(%x)) = %d; want %d", raw, len(enc), want)
		}
		if i := strings.IndexFunc(enc, func(r rune) bool { return !strings.ContainsRune(cfAlphabet, r) }); i >= 0 {
			t.Fatalf("Encode(%x) = %q has %q outside the CloudFront alphabet", raw, enc, enc[i])
		}
		if string(cfsign.AppendEncode([]byte("x"), raw)) != "x"+enc {
			t.Fatalf("AppendEncode(%q, %x) differs from Encode", "x", raw)
		}
		if len(raw) == 0 {
			return // Decode refuses "" on purpose: an empty Signature is MalformedSignature
		}
		back, err := cfsign.Decode(enc)
		if err != nil || !bytes.Equal(back, raw) {
			t.Fatalf("Decode(Encode(%x)) = %x, %v; want the input back", raw, back, err)
		}
	})
}

const cfAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~"

// percentDecode decodes %XX escapes, either hex case, and nothing else (§3
// step 1); ok is false for a '%' without two hex digits.
func percentDecode(s string) (string, bool) {
	if !strings.Contains(s, "%") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), true
}

// refDecode is §3's decoder: percent-decode, refuse bytes outside the
// alphabet, map back to standard base64 and decode strictly.
func refDecode(s string) ([]byte, error) {
	p, ok := percentDecode(s)
	if !ok {
		return nil, errors.New("bad percent escape")
	}
	if p == "" {
		return nil, errors.New("empty")
	}
	for i := 0; i < len(p); i++ {
		if !strings.ContainsRune(cfAlphabet, rune(p[i])) {
			return nil, errors.New("byte outside the alphabet")
		}
	}
	std := strings.NewReplacer("-", "+", "_", "=", "~", "/").Replace(p)
	return base64.StdEncoding.Strict().DecodeString(std)
}

// ---- policies ----

// workedExamplePolicy is §15's canned policy, 136 bytes.
const workedExamplePolicy = `{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/image.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}`

func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(workedExamplePolicy), "https://d111111abcdef8.cloudfront.net/image.jpg", int64(1767290400), int64(0), uint32(0), uint8(0), false)
	f.Add([]byte(`{"Statement":{"Resource":"https://h/videos/*","Condition":{"IpAddress":{"AWS:SourceIp":"192.0.2.0/24"},"DateGreaterThan":{"AWS:EpochTime":1767100000},"DateLessThan":{"AWS:EpochTime":1767290400}}}}`),
		"https://h/videos/*", int64(1767290400), int64(1767100000), uint32(0xc0000200), uint8(24), true)
	f.Add([]byte(`{"Statement":[{"Resource":"x","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400000}}}]}`),
		"*", int64(1767290400000), int64(0), uint32(0xc0000207), uint8(32), true)
	f.Fuzz(func(t *testing.T, data []byte, resource string, expires, notBefore int64, ip uint32, bits uint8, hasIP bool) {
		p, err := cfsign.ParsePolicy(data)
		if err != nil {
			if !errors.Is(err, cfsign.ErrBadPolicy) || cfsign.CodeOf(err) != cfsign.MalformedPolicy {
				t.Fatalf("ParsePolicy(%q) error = %v (code %v); want ErrBadPolicy, MalformedPolicy", data, err, cfsign.CodeOf(err))
			}
		} else {
			checkParsedPolicy(t, data, p)
		}

		// Marshal from fuzzed fields, then parse back.
		in := cfsign.Policy{Resource: resource, HasResource: true, Expires: expires, NotBefore: notBefore}
		if hasIP {
			in.SourceIP = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}), int(bits%33))
		}
		b, err := in.Marshal()
		if err != nil {
			return
		}
		out, err := cfsign.ParsePolicy(b)
		if err != nil {
			t.Fatalf("ParsePolicy(Marshal(%+v)) = %v; want it back\npolicy: %s", in, err, b)
		}
		if *out != in {
			t.Fatalf("ParsePolicy(Marshal(%+v)) = %+v; want the input back\npolicy: %s", in, *out, b)
		}
		if in.IsCanned() {
			if want := cfsign.CannedPolicy(resource, expires); !bytes.Equal(b, want) {
				t.Fatalf("Marshal(%+v) = %s; want the canned template %s", in, b, want)
			}
		}
	})
}

// checkParsedPolicy checks an accepted policy: fields in range, and the same
// values as encoding/json reads from the bytes (keys are unique, so its
// last-one-wins rule does not matter).
func checkParsedPolicy(t *testing.T, data []byte, p *cfsign.Policy) {
	t.Helper()
	if p.Expires < 1 || p.Expires > cfsign.MaxEpoch {
		t.Fatalf("ParsePolicy(%q).Expires = %d; want 1..MaxEpoch", data, p.Expires)
	}
	if p.NotBefore != 0 && (p.NotBefore < 1 || p.NotBefore > cfsign.MaxEpoch) {
		t.Fatalf("ParsePolicy(%q).NotBefore = %d; want 0 or 1..MaxEpoch", data, p.NotBefore)
	}
	if ip := p.SourceIP; ip != (netip.Prefix{}) && (!ip.IsValid() || !ip.Addr().Is4() || ip.Bits() > 32) {
		t.Fatalf("ParsePolicy(%q).SourceIP = %v; want an IPv4 prefix or none", data, ip)
	}
	if !p.HasResource && p.Resource != "" {
		t.Fatalf("ParsePolicy(%q) = Resource %q without HasResource", data, p.Resource)
	}
	if !json.Valid(data) {
		t.Fatalf("ParsePolicy(%q) accepted bytes that are not JSON", data)
	}
	var doc struct{ Statement json.RawMessage }
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("ParsePolicy(%q) accepted what encoding/json refuses: %v", data, err)
	}
	type epoch struct {
		T *json.Number `json:"AWS:EpochTime"`
	}
	var st struct {
		Resource  *string
		Condition struct {
			DateLessThan, DateGreaterThan *epoch
			IpAddress                     *struct {
				IP *string `json:"AWS:SourceIp"`
			}
		}
	}
	var list []json.RawMessage
	if json.Unmarshal(doc.Statement, &list) == nil {
		if len(list) != 1 {
			t.Fatalf("ParsePolicy(%q) accepted %d statements", data, len(list))
		}
		doc.Statement = list[0]
	}
	if err := json.Unmarshal(doc.Statement, &st); err != nil {
		t.Fatalf("ParsePolicy(%q) accepted a statement encoding/json refuses: %v", data, err)
	}
	if (st.Resource != nil) != p.HasResource || st.Resource != nil && *st.Resource != p.Resource {
		t.Fatalf("ParsePolicy(%q).Resource = %q (has %v); encoding/json reads %v", data, p.Resource, p.HasResource, st.Resource)
	}
	num := func(e *epoch) int64 {
		if e == nil || e.T == nil {
			return 0
		}
		n, err := e.T.Int64()
		if err != nil {
			t.Fatalf("ParsePolicy(%q) accepted epoch %s", data, *e.T)
		}
		return n
	}
	if got, want := p.Expires, num(st.Condition.DateLessThan); got != want {
		t.Fatalf("ParsePolicy(%q).Expires = %d; encoding/json reads %d", data, got, want)
	}
	if got, want := p.NotBefore, num(st.Condition.DateGreaterThan); got != want {
		t.Fatalf("ParsePolicy(%q).NotBefore = %d; encoding/json reads %d", data, got, want)
	}
	var want netip.Prefix
	if a := st.Condition.IpAddress; a != nil && a.IP != nil {
		want, _ = netip.ParsePrefix(*a.IP)
	}
	if p.SourceIP != want {
		t.Fatalf("ParsePolicy(%q).SourceIP = %v; encoding/json reads %v", data, p.SourceIP, want)
	}
}

// ---- resource patterns ----

func FuzzPattern(f *testing.F) {
	add := func(pattern, url string) {
		scheme, rest, _ := strings.Cut(url, "://")
		host, target := rest, "/"
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			host, target = rest[:i], rest[i:]
		}
		path, query, _ := strings.Cut(target, "?")
		f.Add(pattern, scheme, host, path, query)
	}
	// §6's table and rules.
	add("https://h/videos/*", "https://h/videos/a/b.ts")
	add("https://h/videos/*", "https://h/videos")
	add("https://h/*game_download.zip*", "https://h/x_game_download.zip?license=yes")
	add("https://h/a.jpg", "https://h/a.jpg")
	add("https://h/a.jpg", "https://h/a%2Ejpg")
	add("https://h/a.jpg?size=*", "https://h/a.jpg?w=1&size=l")
	add("http*://h/a.jpg", "ftp://h/a.jpg")
	add("*", "https://anything.example/x?y=z")
	add("https://h*", "https://h.attacker.example/x?y")
	add("*example.com", "http://www.example.com/")
	add(`https://h/a\?b=1`, "https://h/a?b=1")
	add(`https://h/a\*b`, "https://h/a*b")
	add("https://h?x/a", "https://hhx/a")
	// Adversarial: the classic exponential cases for backtracking globs.
	add("https://h/"+strings.Repeat("*a", 200)+"b", "https://h/"+strings.Repeat("a", 4000))
	add("https://h/"+strings.Repeat("*", 2000)+"x", "https://h/"+strings.Repeat("y", 4000))
	add("*://"+strings.Repeat("*?", 500)+"/*?"+strings.Repeat("*=", 500)+"!", "https://"+strings.Repeat("?", 3000)+"/?"+strings.Repeat("a=", 2000))
	star, err := cfsign.ParsePattern("*")
	if err != nil {
		f.Fatalf("ParsePattern(%q) = %v", "*", err)
	}
	f.Fuzz(func(t *testing.T, pattern, scheme, host, path, query string) {
		if len(pattern) > 4096 || len(scheme)+len(host)+len(path)+len(query) > 16384 {
			return // keep each input's worst case (O(len(pattern)*len(url))) small
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path // an origin-form path
		}
		if !star.Match(scheme, host, path, query) {
			t.Fatalf("pattern %q does not match %q %q %q %q; '*' alone matches any URL", "*", scheme, host, path, query)
		}
		p, err := cfsign.ParsePattern(pattern)
		if err != nil {
			if !errors.Is(err, cfsign.ErrBadPolicy) {
				t.Fatalf("ParsePattern(%q) error = %v; want one matching ErrBadPolicy", pattern, err)
			}
			return
		}
		if p.String() != pattern {
			t.Fatalf("ParsePattern(%q).String() = %q; want the input", pattern, p.String())
		}
		// No clock here: an exponential matcher never finishes the
		// adversarial seeds above (2^200 steps and more), which the seed
		// run's go test -timeout and the fuzzer's hang detection catch.
		got := p.Match(scheme, host, path, query)
		ps, ds, pths, qs := p.Sections()
		if want := refGlob(ps, scheme) && refGlob(ds, host) && refGlob(pths, path) && refGlob(qs, query); got != want {
			t.Fatalf("ParsePattern(%q).Match(%q, %q, %q, %q) = %v; want %v (sections %q %q %q %q)",
				pattern, scheme, host, path, query, got, want, ps, ds, pths, qs)
		}
		if !p.HasWildcard() {
			// No wildcard: it matches its own sections and nothing else.
			ps, ds, pths, qs = unescape(ps), unescape(ds), unescape(pths), unescape(qs)
			if !p.Match(ps, ds, pths, qs) {
				t.Fatalf("ParsePattern(%q) does not match its own sections %q %q %q %q", pattern, ps, ds, pths, qs)
			}
			if want := scheme == ps && host == ds && path == pths && query == qs; got != want {
				t.Fatalf("ParsePattern(%q).Match(%q, %q, %q, %q) = %v; want %v: a pattern without wildcards matches exactly its sections",
					pattern, scheme, host, path, query, got, want)
			}
		}
		// §6's equivalent spellings must match the same URLs.
		checkSame := func(rule, other string) {
			q, err := cfsign.ParsePattern(other)
			if err != nil {
				t.Fatalf("ParsePattern(%q) = %v, but %q parses (%s)", other, err, pattern, rule)
			}
			if q.Match(scheme, host, path, query) != got {
				t.Fatalf("%q and %q differ on %q %q %q %q (%s)", pattern, other, scheme, host, path, query, rule)
			}
		}
		trailingStar := strings.HasSuffix(pattern, "*") && !strings.HasSuffix(pattern, `\*`)
		if _, rest, ok := strings.Cut(pattern, "://"); !ok {
			checkSame("no protocol means '*://'", "*://"+pattern)
		} else if i := strings.IndexByte(rest, '/'); i < 0 && trailingStar {
			checkSame("a trailing '*' in the domain implies /*?*", pattern+"/*?*")
		} else if i >= 0 && trailingStar && !strings.Contains(rest[i:], "?") {
			checkSame("a trailing '*' in the path implies ?*", pattern+"?*")
		}
	})
}

// globToken is one byte of a pattern section: a literal or a wildcard.
type globToken struct {
	c    byte
	wild bool
}

// lexSection reads a section as Pattern.Sections shows it: `\*` and `\?`
// are literal, a bare '*' or '?' is a wildcard.
func lexSection(s string) []globToken {
	var toks []globToken
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			toks = append(toks, globToken{c: s[i]})
			continue
		}
		toks = append(toks, globToken{c: s[i], wild: s[i] == '*' || s[i] == '?'})
	}
	return toks
}

func unescape(s string) string {
	var b strings.Builder
	for _, tok := range lexSection(s) {
		b.WriteByte(tok.c)
	}
	return b.String()
}

// refGlob matches s against a section by dynamic programming over
// (pattern prefix, subject prefix): '*' any run of bytes, '?' one byte.
func refGlob(section, s string) bool {
	prev := make([]bool, len(s)+1) // prev[j]: the tokens so far match s[:j]
	cur := make([]bool, len(s)+1)
	prev[0] = true
	for _, tok := range lexSection(section) {
		switch {
		case tok.wild && tok.c == '*':
			cur[0] = prev[0]
			for j := 1; j <= len(s); j++ {
				cur[j] = prev[j] || cur[j-1]
			}
		default:
			cur[0] = false
			for j := 1; j <= len(s); j++ {
				cur[j] = prev[j-1] && (tok.wild || tok.c == s[j-1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(s)]
}

// ---- the verifier ----

// fuzzKeys is the fuzz and benchmark fixture: the committed test keys, the
// verifier trusting them (clock at verifyAt), and signers.
type fuzzKeys struct {
	v                            *cfsign.Verifier
	cached                       *cfsign.Verifier // as v, with a small verified-link cache
	pubs                         map[string]crypto.PublicKey
	rsaID, ecID                  string
	ec                           *ecdsa.PrivateKey
	rsaSHA1, rsaSHA256, ecSHA256 *cfsign.Signer
}

func loadFuzzKeys(tb testing.TB) *fuzzKeys {
	tb.Helper()
	k := &fuzzKeys{v: trustAll(tb), rsaID: keyID(tb, "rsa2048"), ecID: keyID(tb, "p256"), pubs: map[string]crypto.PublicKey{}}
	for _, name := range []string{"rsa2048", "p256", "rsa1024"} {
		id := keyID(tb, name)
		k.pubs[id] = loadKey(tb, name).signer.Public()
	}
	k.ec = loadKey(tb, "p256").signer.(*ecdsa.PrivateKey)
	k.cached = k.cachedVerifier(tb, 64)
	var err error
	rsaKey := loadKey(tb, "rsa2048").signer
	if k.rsaSHA1, err = cfsign.NewSigner(k.rsaID, rsaKey, cfsign.SHA1); err != nil {
		tb.Fatal(err)
	}
	if k.rsaSHA256, err = cfsign.NewSigner(k.rsaID, rsaKey, cfsign.SHA256); err != nil {
		tb.Fatal(err)
	}
	if k.ecSHA256, err = cfsign.NewSigner(k.ecID, k.ec, cfsign.SHA256); err != nil {
		tb.Fatal(err)
	}
	return k
}

// signECSHA1 signs policy with ECDSA over SHA-1, which the SDKs emit and the
// verifier accepts but cfsign's signer refuses to produce (§9).
func (k *fuzzKeys) signECSHA1(tb testing.TB, policy []byte) string {
	d := sha1.Sum(policy)
	sig, err := ecdsa.SignASN1(rand.Reader, k.ec, d[:])
	if err != nil {
		tb.Fatal(err)
	}
	return cfsign.Encode(sig)
}

// signURL returns rawURL signed with alg ("rsa2048-sha1", "rsa2048-sha256",
// "p256-sha1" or "p256-sha256"): with a canned policy expiring at expiresAt
// when p is nil, else with p. p256-sha1 is assembled here, as the SDKs do.
func (k *fuzzKeys) signURL(tb testing.TB, alg, rawURL string, p *cfsign.Policy) string {
	tb.Helper()
	signers := map[string]*cfsign.Signer{"rsa2048-sha1": k.rsaSHA1, "rsa2048-sha256": k.rsaSHA256, "p256-sha256": k.ecSHA256}
	var (
		u   string
		err error
	)
	if s, ok := signers[alg]; ok {
		if p == nil {
			u, err = s.SignCanned(rawURL, time.Unix(expiresAt, 0))
		} else {
			u, err = s.SignCustom(rawURL, p)
		}
	} else if alg == "p256-sha1" {
		policy, first := cfsign.CannedPolicy(rawURL, expiresAt), "Expires="+strconv.Itoa(expiresAt)
		if p != nil {
			policy, err = p.Marshal()
			first = "Policy=" + cfsign.Encode(policy)
		}
		sep := "?"
		if strings.Contains(rawURL, "?") {
			sep = "&"
		}
		u = rawURL + sep + first + "&Signature=" + k.signECSHA1(tb, policy) + "&Key-Pair-Id=" + k.ecID
	} else {
		tb.Fatalf("signURL: unknown algorithm %q", alg)
	}
	if err != nil {
		tb.Fatalf("signURL(%s, %q): %v", alg, rawURL, err)
	}
	return u
}

// signedRequest is a request that verifies: the start for mutations.
type signedRequest struct {
	name string
	req  cfsign.Request
}

const fuzzOrigin = "https://d111111abcdef8.cloudfront.net"

// signedRequests signs one request of each shape: canned and custom, URL and
// cookies, each key and hash, signing parameters before and after the
// caller's own, both Statement shapes.
func (k *fuzzKeys) signedRequests(tb testing.TB) []signedRequest {
	tb.Helper()
	exp := time.Unix(expiresAt, 0)
	client := netip.MustParseAddr("192.0.2.7")
	urlReq := func(u string) cfsign.Request {
		scheme, host, target := splitURL(u)
		return cfsign.Request{Scheme: scheme, Host: host, Target: target, ClientIP: client}
	}
	mustCookies := func(cs []cfsign.Cookie, err error) []cfsign.Cookie {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		return cs
	}
	cookieReq := func(u string, cs []cfsign.Cookie) cfsign.Request {
		r := urlReq(u)
		var hdr []string
		for _, c := range cs {
			hdr = append(hdr, c.Name+"="+c.Value)
		}
		r.Cookies = []string{"session=abc; " + strings.Join(hdr, "; ")}
		return r
	}
	custom := &cfsign.Policy{Resource: fuzzOrigin + "/videos/*", HasResource: true, Expires: expiresAt,
		NotBefore: notBefore, SourceIP: netip.MustParsePrefix("192.0.2.0/24")}
	customBytes, err := custom.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	// Signing parameters first, the caller's after (AWS allows it, §2).
	moved := k.signURL(tb, "p256-sha256", fuzzOrigin+"/x?a=1&b=2", nil)
	moved = strings.Replace(moved, "?a=1&b=2&", "?", 1) + "&a=1&b=2"
	objectForm := `{"Statement": {"Resource": "` + fuzzOrigin + `/videos/*",` + "\n" +
		` "Condition": {"DateLessThan": {"AWS:EpochTime": ` + strconv.Itoa(expiresAt) + `}}}}`
	objectFormURL, err := k.ecSHA256.SignURLWithPolicy(fuzzOrigin+"/videos/b.ts", []byte(objectForm))
	if err != nil {
		tb.Fatal(err)
	}
	reqs := []signedRequest{
		{"canned/rsa2048-sha1", urlReq(k.signURL(tb, "rsa2048-sha1", fuzzOrigin+"/image.jpg", nil))},
		{"canned/rsa2048-sha256/query", urlReq(k.signURL(tb, "rsa2048-sha256", fuzzOrigin+"/image.jpg?size=large", nil))},
		{"canned/p256-sha256/params-first", urlReq(moved)},
		{"canned/p256-sha1", urlReq(k.signURL(tb, "p256-sha1", fuzzOrigin+"/image.jpg", nil))},
		{"custom/rsa2048-sha1", urlReq(k.signURL(tb, "rsa2048-sha1", fuzzOrigin+"/videos/a.ts?v=2", custom))},
		{"custom/p256-sha1", urlReq(k.signURL(tb, "p256-sha1", fuzzOrigin+"/videos/a.ts?v=2", custom))},
		{"custom/p256-sha256/object-form", urlReq(objectFormURL)},
		{"cookie/custom/p256-sha256", cookieReq(fuzzOrigin+"/videos/a.ts", mustCookies(k.ecSHA256.SignCookiesWithPolicy(customBytes)))},
		{"cookie/canned/rsa2048-sha256", cookieReq(fuzzOrigin+"/image.jpg?size=large", mustCookies(k.rsaSHA256.SignCannedCookies(fuzzOrigin+"/image.jpg?size=large", exp)))},
	}
	for _, sr := range reqs {
		if _, err := k.v.Verify(&sr.req); err != nil {
			tb.Fatalf("%s: Verify(%+v) = %v; want OK", sr.name, sr.req, err)
		}
	}
	return reqs
}

func FuzzVerify(f *testing.F) {
	k := loadFuzzKeys(f)
	signed := k.signedRequests(f)
	for i, sr := range signed {
		var cookie string
		if len(sr.req.Cookies) > 0 {
			cookie = sr.req.Cookies[0]
		}
		ip := sr.req.ClientIP.AsSlice()
		// The request itself, and a mutation of each kind.
		f.Add(sr.req.Scheme, sr.req.Host, sr.req.Target, cookie, ip, uint8(i), uint8(0), uint8(0), uint16(7), byte('A'))
		f.Add(sr.req.Scheme, sr.req.Host, sr.req.Target, cookie, ip, uint8(i), uint8(1), uint8(1), uint16(0), byte('&'))
		f.Add(sr.req.Scheme, sr.req.Host, sr.req.Target, cookie, ip, uint8(i), uint8(2), uint8(2), uint16(3), byte(0))
	}
	f.Fuzz(func(t *testing.T, scheme, host, target, cookie string, clientIP []byte, pick, field, op uint8, pos uint16, b byte) {
		client, _ := netip.AddrFromSlice(clientIP)
		r := &cfsign.Request{Scheme: scheme, Host: host, Target: target, ClientIP: client}
		if cookie != "" {
			r.Cookies = []string{cookie}
		}
		// 1. Any request: the canned resource of §4.1; no panic, a
		// well-formed answer, and the one the spec gives wherever the
		// reference decides it.
		if got, want := cfsign.RebuildResource(scheme, host, target), refResource(scheme, host, target); got != want {
			t.Fatalf("RebuildResource(%q, %q, %q) = %q; want %q (§4.1)", scheme, host, target, got, want)
		}
		k.checkVerify(t, r)

		// 2. Sign then verify: a URL the signer accepts verifies, as a
		// canned URL, a custom URL whose Resource is the URL itself, and
		// canned cookies.
		k.checkRoundTrip(t, scheme+"://"+host+target, client)

		// 3. One edit to one signing value of a valid request never
		// verifies, unless it leaves the decoded values and the rebuilt
		// resource as they were.
		sr := signed[int(pick)%len(signed)]
		m, name, ok := mutate(sr.req, field, op, pos, b)
		if !ok {
			return
		}
		_, err := k.verify(t, &m)
		if err == nil && !readWire(&m).sameAs(readWire(&sr.req)) {
			t.Fatalf("%s with %s edited (op %d at %d, byte %q) verifies; want a refusal\nbefore: %+v\nafter:  %+v",
				sr.name, name, op%3, pos, b, sr.req, m)
		}
		k.checkVerify(t, &m)
	})
}

// verify verifies r with the uncached verifier, and twice with the cached
// one (a miss or a hit, then most likely a hit), and fails unless all three
// answers are the same: the same result and the same error text.
func (k *fuzzKeys) verify(t *testing.T, r *cfsign.Request) (cfsign.Result, error) {
	t.Helper()
	res, err := k.v.Verify(r)
	for range 2 {
		got, gotErr := k.cached.Verify(r)
		sameAnswer(t, r, got, gotErr, res, err)
	}
	return res, err
}

// sameAnswer fails unless a cached verifier's answer (got) equals an
// uncached one's (want).
func sameAnswer(t testing.TB, r *cfsign.Request, got cfsign.Result, gotErr error, want cfsign.Result, wantErr error) {
	t.Helper()
	errText := func(err error) string {
		if err == nil {
			return "<nil>"
		}
		return err.Error()
	}
	if errText(gotErr) != errText(wantErr) || cfsign.CodeOf(gotErr) != cfsign.CodeOf(wantErr) {
		t.Fatalf("cached Verify(%+v) = %v (%v); uncached = %v (%v)", r, gotErr, cfsign.CodeOf(gotErr), wantErr, cfsign.CodeOf(wantErr))
	}
	samePolicy := (got.Policy == nil) == (want.Policy == nil) && (got.Policy == nil || *got.Policy == *want.Policy)
	if got.Mode != want.Mode || got.KeyID != want.KeyID || got.Hash != want.Hash || got.Canned != want.Canned ||
		!samePolicy || !bytes.Equal(got.PolicyBytes, want.PolicyBytes) {
		t.Fatalf("cached Verify(%+v) = %+v (policy %+v); uncached = %+v (policy %+v)", r, got, got.Policy, want, want.Policy)
	}
}

// checkVerify verifies r and checks the answer's shape, and its code against
// the reference where the reference decides.
func (k *fuzzKeys) checkVerify(t *testing.T, r *cfsign.Request) {
	t.Helper()
	res, err := k.verify(t, r)
	code := cfsign.CodeOf(err)
	if code < cfsign.CodeOK || code > cfsign.AccessDenied {
		t.Fatalf("Verify(%+v): CodeOf(%v) = %d; want one of the five codes or OK", r, err, code)
	}
	if err != nil {
		var e *cfsign.Error
		if !errors.As(err, &e) || e.Code != code || e.Reason == nil || code == cfsign.CodeOK {
			t.Fatalf("Verify(%+v) error = %#v; want an *Error with a reason and code %v", r, err, code)
		}
	} else if res.Policy == nil || res.Mode == cfsign.ModeNone || len(res.PolicyBytes) == 0 {
		t.Fatalf("Verify(%+v) = OK with result %+v; want its mode, policy and bytes", r, res)
	}
	want, decided := k.refVerify(r)
	switch {
	case decided && code != want:
		t.Fatalf("Verify(%+v) = %v (%v); want %v", r, code, err, want)
	case !decided && code != cfsign.CodeOK && code != cfsign.MalformedPolicy && code != cfsign.AccessDenied:
		// The signature over a custom policy holds: only parsing (§13
		// step 10) and evaluation (step 11) remain.
		t.Fatalf("Verify(%+v) = %v (%v) with a valid signature; want OK, MalformedPolicy or AccessDenied", r, code, err)
	}
}

func (k *fuzzKeys) checkRoundTrip(t *testing.T, rawURL string, client netip.Addr) {
	t.Helper()
	exp := time.Unix(expiresAt, 0)
	verify := func(how, u string, cookies []string) {
		t.Helper()
		scheme, host, target := splitURL(u)
		r := &cfsign.Request{Scheme: scheme, Host: host, Target: target, Cookies: cookies, ClientIP: client}
		if _, err := k.verify(t, r); err != nil {
			t.Fatalf("%s(%q) = %q, which Verify refuses: %v", how, rawURL, u, err)
		}
	}
	if u, err := k.ecSHA256.SignCanned(rawURL, exp); err == nil {
		verify("SignCanned", u, nil)
	}
	if u, err := k.ecSHA256.SignCustom(rawURL, &cfsign.Policy{Resource: rawURL, HasResource: true, Expires: expiresAt}); err == nil {
		verify("SignCustom", u, nil)
	}
	if cs, err := k.ecSHA256.SignCannedCookies(rawURL, exp); err == nil {
		var hdr []string
		for _, c := range cs {
			hdr = append(hdr, c.Name+"="+c.Value)
		}
		verify("SignCannedCookies", rawURL, []string{strings.Join(hdr, "; ")})
	}
}

var reservedNames = []string{"Signature", "Policy", "Expires", "Key-Pair-Id", "Hash-Algorithm"}

// mutate replaces (op 0), inserts (1) or deletes (2) one byte of one signing
// value that r carries, in its query or its cookie, and names the value.
func mutate(r cfsign.Request, field, op uint8, pos uint16, b byte) (cfsign.Request, string, bool) {
	type span struct {
		name       string
		s          *string
		start, end int
	}
	var spans []span
	if len(r.Cookies) > 0 {
		r.Cookies = []string{r.Cookies[0]}
		hdr := &r.Cookies[0]
		for _, name := range reservedNames {
			if i := strings.Index(*hdr, "CloudFront-"+name+"="); i >= 0 {
				start := i + len("CloudFront-"+name+"=")
				end := strings.IndexByte((*hdr)[start:], ';')
				if end < 0 {
					end = len(*hdr) - start
				}
				spans = append(spans, span{"cookie " + name, hdr, start, start + end})
			}
		}
	} else if q := strings.IndexByte(r.Target, '?'); q >= 0 {
		for start := q + 1; start <= len(r.Target); {
			end := strings.IndexByte(r.Target[start:], '&')
			if end < 0 {
				end = len(r.Target) - start
			}
			name, _, _ := strings.Cut(r.Target[start:start+end], "=")
			if cfsign.IsReserved(name) {
				spans = append(spans, span{name, &r.Target, start + len(name) + 1, start + end})
			}
			start += end + 1
		}
	}
	if len(spans) == 0 {
		return r, "", false
	}
	sp := spans[int(field)%len(spans)]
	s, n := *sp.s, sp.end-sp.start
	switch op % 3 {
	case 0:
		if n == 0 {
			return r, "", false
		}
		i := sp.start + int(pos)%n
		*sp.s = s[:i] + string(b) + s[i+1:]
	case 1:
		i := sp.start + int(pos)%(n+1)
		*sp.s = s[:i] + string(b) + s[i:]
	case 2:
		if n == 0 {
			return r, "", false
		}
		i := sp.start + int(pos)%n
		*sp.s = s[:i] + s[i+1:]
	}
	return r, sp.name, true
}

// wire is what a request says, read from the spec without cfsign: where its
// signing values come from (§13 step 3, §8), the values as received, and the
// canned resource rebuilt from it (§4.1).
type wire struct {
	mode     cfsign.Mode
	repeated bool
	values   map[string]string
	resource string
}

func readWire(r *cfsign.Request) wire {
	w := wire{values: map[string]string{}}
	_, query, _ := strings.Cut(r.Target, "?")
	for _, elem := range splitQuery(query) {
		name, value, _ := strings.Cut(elem, "=")
		if !isReservedName(name) {
			continue
		}
		w.mode = cfsign.ModeURL
		if _, dup := w.values[name]; dup {
			w.repeated = true
			continue
		}
		w.values[name] = value
	}
	if w.mode == cfsign.ModeNone {
		// Cookie pairs: "name=value" split on ';', spaces and tabs
		// trimmed around the name and after the value; the first wins.
		for _, h := range r.Cookies {
			for _, pair := range strings.Split(h, ";") {
				name, value, ok := strings.Cut(strings.TrimLeft(pair, " \t"), "=")
				name, value = strings.TrimRight(name, " \t"), strings.TrimRight(value, " \t")
				short, cf := strings.CutPrefix(name, "CloudFront-")
				if !ok || !cf || !isReservedName(short) {
					continue
				}
				if _, dup := w.values[short]; !dup {
					w.values[short] = value
					w.mode = cfsign.ModeCookie
				}
			}
		}
	}
	w.resource = refResource(r.Scheme, r.Host, r.Target)
	return w
}

// sameAs reports whether two requests carry the same credentials: the same
// mode, key id, Expires and hash, the same decoded Signature and Policy,
// and, for a canned policy, the same rebuilt resource.
func (w wire) sameAs(o wire) bool {
	norm := func(w wire) map[string]string {
		m := maps.Clone(w.values)
		for _, name := range []string{"Signature", "Policy"} {
			if v, ok := m[name]; ok {
				if d, err := refDecode(v); err == nil {
					m[name] = "decoded:" + string(d)
				}
			}
		}
		if _, ok := m["Hash-Algorithm"]; !ok {
			m["Hash-Algorithm"] = "SHA1"
		}
		return m
	}
	if w.mode != o.mode || w.repeated || o.repeated || !maps.Equal(norm(w), norm(o)) {
		return false
	}
	_, canned := w.values["Expires"]
	return !canned || w.resource == o.resource
}

func splitQuery(q string) []string {
	if q == "" {
		return nil
	}
	return strings.Split(q, "&")
}

func isReservedName(name string) bool {
	for _, r := range reservedNames {
		if name == r {
			return true
		}
	}
	return false
}

// refResource rebuilds the canned resource (§4.1): scheme, "://", the host
// lower-cased (ASCII), the raw path, and the query without its signing
// parameters, joined with '&' in order, '?' omitted when nothing remains.
func refResource(scheme, host, target string) string {
	path, query, _ := strings.Cut(target, "?")
	var kept []string
	for _, elem := range splitQuery(query) {
		name, _, _ := strings.Cut(elem, "=")
		if !isReservedName(name) {
			kept = append(kept, elem)
		}
	}
	lower := []byte(host)
	for i, c := range lower {
		if 'A' <= c && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
		}
	}
	u := scheme + "://" + string(lower) + path
	if q := strings.Join(kept, "&"); q != "" {
		u += "?" + q
	}
	return u
}

// refVerify is §13 steps 3 to 9 from the spec, with crypto/rsa and
// crypto/ecdsa checking the signature, and step 11's clock test for a canned
// policy, which holds nothing else. decided is false once the signature over
// a custom policy holds: parsing and evaluating it (steps 10 and 11) are
// FuzzParsePolicy's and FuzzPattern's business.
func (k *fuzzKeys) refVerify(r *cfsign.Request) (code cfsign.Code, decided bool) {
	w := readWire(r)
	value := func(name string) (string, bool) { v, ok := w.values[name]; return v, ok }
	switch {
	case w.mode == cfsign.ModeNone:
		return cfsign.MissingKey, true
	case w.repeated:
		return cfsign.AccessDenied, true
	}
	id, _ := value("Key-Pair-Id")
	if id == "" {
		return cfsign.MissingKey, true
	}
	key, ok := k.pubs[id]
	if !ok {
		return cfsign.InvalidKey, true
	}
	expires, canned := value("Expires")
	policy64, custom := value("Policy")
	if canned == custom {
		return cfsign.MalformedPolicy, true
	}
	sig64, _ := value("Signature")
	sig, err := refDecode(sig64)
	if err != nil {
		return cfsign.MalformedSignature, true
	}
	var h crypto.Hash
	switch alg, ok := value("Hash-Algorithm"); {
	case !ok || alg == "SHA1":
		h = crypto.SHA1
	case alg == "SHA256":
		h = crypto.SHA256
	default:
		return cfsign.AccessDenied, true
	}
	var policy []byte
	var exp int64
	if canned {
		// Expires: ASCII digits, no sign, no leading zero, 1..MaxEpoch (§7).
		exp, err = strconv.ParseInt(expires, 10, 64)
		if err != nil || strings.ContainsAny(expires, "+-") || expires[0] == '0' || exp < 1 || exp > cfsign.MaxEpoch {
			return cfsign.MalformedPolicy, true
		}
		policy = []byte(`{"Statement":[{"Resource":"` + w.resource +
			`","Condition":{"DateLessThan":{"AWS:EpochTime":` + expires + `}}}]}`)
	} else if policy, err = refDecode(policy64); err != nil {
		return cfsign.MalformedPolicy, true
	}
	var digest []byte
	if h == crypto.SHA1 {
		d := sha1.Sum(policy)
		digest = d[:]
	} else {
		d := sha256.Sum256(policy)
		digest = d[:]
	}
	switch key := key.(type) {
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(key, h, digest, sig) == nil
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(key, digest, sig)
	}
	switch {
	case !ok:
		return cfsign.AccessDenied, true
	case !canned:
		return cfsign.CodeOK, false
	case verifyAt.Unix() >= exp:
		return cfsign.AccessDenied, true
	}
	return cfsign.CodeOK, true
}

// cachedVerifier trusts the fixture's keys, with its clock at verifyAt and a
// verified-link cache of size entries.
func (k *fuzzKeys) cachedVerifier(tb testing.TB, size int) *cfsign.Verifier {
	tb.Helper()
	return k.cachedVerifierWith(tb, cfsign.Options{Now: func() time.Time { return verifyAt }}, size)
}

// cachedVerifierWith trusts the fixture's keys with options o and a
// verified-link cache of size entries.
func (k *fuzzKeys) cachedVerifierWith(tb testing.TB, o cfsign.Options, size int) *cfsign.Verifier {
	tb.Helper()
	o.CacheSize = size
	v, err := cfsign.NewVerifier(k.pubs, o)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// hitRequests are the cached-path cases of BenchmarkVerifyCached and
// TestVerifyCachedAllocs: canned links with each key type, and a custom
// wildcard policy in the query and in cookies, used for a URL other than
// the one signed.
func hitRequests(tb testing.TB, k *fuzzKeys) []signedRequest {
	tb.Helper()
	client := netip.MustParseAddr("192.0.2.7")
	custom := &cfsign.Policy{Resource: fuzzOrigin + "/videos/*", HasResource: true, Expires: expiresAt,
		NotBefore: notBefore, SourceIP: netip.MustParsePrefix("192.0.2.0/24")}
	policy, err := custom.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	urlReq := func(u, target string) cfsign.Request {
		scheme, host, signed := splitURL(u)
		if target != "" {
			_, q, _ := strings.Cut(signed, "?")
			signed = target + "?" + q
		}
		return cfsign.Request{Scheme: scheme, Host: host, Target: signed, ClientIP: client}
	}
	cs, err := k.ecSHA256.SignCookiesWithPolicy(policy)
	if err != nil {
		tb.Fatal(err)
	}
	var hdr []string
	for _, c := range cs {
		hdr = append(hdr, c.Name+"="+c.Value)
	}
	_, host, _ := splitURL(fuzzOrigin)
	return []signedRequest{
		{"canned/p256-sha256", urlReq(k.signURL(tb, "p256-sha256", fuzzOrigin+"/image.jpg?size=large", nil), "")},
		{"canned/rsa2048-sha256", urlReq(k.signURL(tb, "rsa2048-sha256", fuzzOrigin+"/image.jpg?size=large", nil), "")},
		{"custom/p256-sha256", urlReq(k.signURL(tb, "p256-sha256", fuzzOrigin+"/videos/a.ts?v=2", custom), "/videos/2026/b.ts")},
		{"cookie/p256-sha256", cfsign.Request{Scheme: "https", Host: host, Target: "/videos/2026/seg-00042.ts?v=2",
			Cookies: []string{"session=abc; " + strings.Join(hdr, "; ")}, ClientIP: client}},
	}
}
