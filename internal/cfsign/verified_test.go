package cfsign_test

// Tests of the verified-link cache (Options.CacheSize). A hit is seen from
// outside by its Result: it shares the Policy of the request that put the
// credential in the cache, where a miss parses a new one.

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/testenv"
)

// twin is a cached verifier and an uncached one with the same keys, options
// and clock.
type twin struct {
	cached, plain *cfsign.Verifier
}

func newTwin(t testing.TB, k *fuzzKeys, o cfsign.Options, size int) twin {
	t.Helper()
	plain, err := cfsign.NewVerifier(k.pubs, o)
	if err != nil {
		t.Fatal(err)
	}
	o.CacheSize = size
	cached, err := cfsign.NewVerifier(k.pubs, o)
	if err != nil {
		t.Fatal(err)
	}
	return twin{cached, plain}
}

// verify verifies r with both verifiers and fails unless they answer alike.
func (tw twin) verify(t testing.TB, r *cfsign.Request) (cfsign.Result, error) {
	t.Helper()
	want, wantErr := tw.plain.Verify(r)
	got, err := tw.cached.Verify(r)
	sameAnswer(t, r, got, err, want, wantErr)
	return got, err
}

// withTarget returns r asking for target (path and query, without the
// signing parameters) with r's signing parameters appended.
func withTarget(r cfsign.Request, target string) cfsign.Request {
	var signing []string
	if _, q, ok := strings.Cut(r.Target, "?"); ok {
		for _, e := range strings.Split(q, "&") {
			if name, _, _ := strings.Cut(e, "="); cfsign.IsReserved(name) {
				signing = append(signing, e)
			}
		}
	}
	if len(signing) > 0 {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + strings.Join(signing, "&")
	}
	r.Target = target
	return r
}

// TestVerifyCacheHit checks that a cached credential still gets every check
// that depends on the request or the clock: each step is a hit (it shares
// the first Result's Policy) and answers as an uncached verifier does.
func TestVerifyCacheHit(t *testing.T) {
	k := loadFuzzKeys(t)
	reqs := hitRequests(t, k) // canned p256, canned rsa, custom wildcard, cookies
	canned, custom, cookie := reqs[0].req, reqs[2].req, reqs[3].req
	at := func(unix int64) time.Time { return time.Unix(unix, 0) }
	ip := func(s string) func(*cfsign.Request) {
		return func(r *cfsign.Request) { r.ClientIP = netip.MustParseAddr(s) }
	}
	host := func(h string) func(*cfsign.Request) { return func(r *cfsign.Request) { r.Host = h } }
	scheme := func(s string) func(*cfsign.Request) { return func(r *cfsign.Request) { r.Scheme = s } }
	target := func(tg string) func(*cfsign.Request) {
		return func(r *cfsign.Request) { *r = withTarget(*r, tg) }
	}
	type step struct {
		name string
		at   time.Time
		edit func(*cfsign.Request)
		want error // nil or the reason
	}
	tests := []struct {
		name  string
		req   cfsign.Request
		opts  cfsign.Options
		steps []step
	}{
		{"canned", canned, cfsign.Options{}, []step{
			{"again", verifyAt, nil, nil},
			{"at expiry", at(expiresAt), nil, cfsign.ErrExpired},
			{"one second before expiry", at(expiresAt - 1), nil, nil},
			{"long after expiry", at(expiresAt + 86400), nil, cfsign.ErrExpired},
			{"back in time", verifyAt, nil, nil},
			{"any client", verifyAt, ip("2001:db8::1"), nil},
		}},
		{"canned within skew", canned, cfsign.Options{Skew: 30 * time.Second}, []step{
			{"29s after expiry", at(expiresAt + 29), nil, nil},
			{"30s after expiry", at(expiresAt + 30), nil, cfsign.ErrExpired},
		}},
		{"canned lifetime cap", canned, cfsign.Options{MaxLifetime: time.Hour}, []step{
			// First seen (and cached) 30 minutes before expiry.
			{"again", at(expiresAt - 1800), nil, nil},
			{"earlier, over the cap", at(expiresAt - 3601), nil, cfsign.ErrLifetimeOverCap},
			{"at the cap", at(expiresAt - 3600), nil, nil},
		}},
		{"custom wildcard", custom, cfsign.Options{}, []step{
			{"same URL", verifyAt, nil, nil},
			{"another URL under the wildcard", verifyAt, target("/videos/a/b/c.m3u8"), nil},
			{"with a query", verifyAt, target("/videos/a.ts?v=3&x=1"), nil},
			{"outside the wildcard", verifyAt, target("/private/a.ts"), cfsign.ErrResourceMismatch},
			{"the prefix itself", verifyAt, target("/videos"), cfsign.ErrResourceMismatch},
			{"another host", verifyAt, host("media.example.com"), cfsign.ErrResourceMismatch},
			{"host case ignored", verifyAt, host("D111111ABCDEF8.cloudfront.net"), nil},
			{"over http", verifyAt, scheme("http"), cfsign.ErrResourceMismatch},
			{"client outside the range", verifyAt, ip("192.0.3.7"), cfsign.ErrIPMismatch},
			{"client mapped", verifyAt, ip("::ffff:192.0.2.200"), nil},
			{"client IPv6", verifyAt, ip("2001:db8::7"), cfsign.ErrIPMismatch},
			{"client unknown", verifyAt, func(r *cfsign.Request) { r.ClientIP = netip.Addr{} }, cfsign.ErrIPMismatch},
			{"at the start", at(notBefore), nil, cfsign.ErrNotYetValid},
			{"after the start", at(notBefore + 1), nil, nil},
			{"at expiry", at(expiresAt), nil, cfsign.ErrExpired},
			{"again in time", verifyAt, nil, nil},
		}},
		{"custom require ip", custom, cfsign.Options{RequireIP: true}, []step{
			{"again", verifyAt, nil, nil},
			{"client outside the range", verifyAt, ip("198.51.100.1"), cfsign.ErrIPMismatch},
		}},
		{"cookies", cookie, cfsign.Options{}, []step{
			{"another segment", verifyAt, target("/videos/2026/seg-00043.ts"), nil},
			{"outside the wildcard", verifyAt, target("/other/seg-00043.ts"), cfsign.ErrResourceMismatch},
			{"client outside the range", verifyAt, ip("192.0.3.7"), cfsign.ErrIPMismatch},
			{"expired", at(expiresAt), nil, cfsign.ErrExpired},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first := verifyAt
			if tc.opts.MaxLifetime > 0 {
				first = time.Unix(expiresAt-1800, 0)
			}
			clock := testenv.NewClock(first)
			tc.opts.Now = clock.Now
			tw := newTwin(t, k, tc.opts, 16)
			r := tc.req
			primed, err := tw.verify(t, &r)
			if err != nil {
				t.Fatalf("Verify(%s) = %v; want it to verify and be cached", r.Target, err)
			}
			if n := tw.cached.CacheLen(); n != 1 {
				t.Fatalf("CacheLen() = %d after one verified link; want 1", n)
			}
			for _, st := range tc.steps {
				clock.Set(st.at)
				r := tc.req
				if st.edit != nil {
					st.edit(&r)
				}
				res, err := tw.verify(t, &r)
				if !errors.Is(err, st.want) || (st.want == nil) != (err == nil) {
					t.Errorf("%s: Verify(%s %s %v) = %v; want %v", st.name, r.Host, r.Target, r.ClientIP, err, st.want)
				}
				if res.Policy != primed.Policy {
					t.Errorf("%s: Verify was not a cache hit (Result.Policy %p; the cached one is %p)", st.name, res.Policy, primed.Policy)
				}
			}
			if n := tw.cached.CacheLen(); n != 1 {
				t.Errorf("CacheLen() = %d at the end; want 1", n)
			}
		})
	}
}

// TestVerifyCacheRefusals checks that refusals are not cached, and that a
// credential one byte away from a cached one is refused with the code an
// uncached verifier gives.
func TestVerifyCacheRefusals(t *testing.T) {
	k := loadFuzzKeys(t)
	reqs := hitRequests(t, k)
	canned, cannedRSA, custom := reqs[0].req, reqs[1].req, reqs[2].req
	client := netip.MustParseAddr("192.0.2.7")

	// A custom policy whose decoded bytes differ from the cached one's in
	// one byte (a digit of DateGreaterThan), signature unchanged.
	policy, err := cfsign.Decode(param(custom.Target, "Policy"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(policy), strconv.Itoa(notBefore))
	policy[i+len(strconv.Itoa(notBefore))-1]++
	otherPolicy := setParam(custom.Target, "Policy", cfsign.Encode(policy))

	// A signature one byte different, still valid CloudFront base64.
	flip := func(sig string) string {
		b := []byte(sig)
		if b[10] == 'A' {
			b[10] = 'B'
		} else {
			b[10] = 'A'
		}
		return string(b)
	}
	// The canned link's Expires plus one: the same signature over other bytes.
	laterExpiry := setParam(canned.Target, "Expires", strconv.Itoa(expiresAt+1))

	ec := func(target string) cfsign.Request { r := canned; r.Target = target; return r }
	cu := func(target string) cfsign.Request { r := custom; r.Target = target; return r }
	tests := []struct {
		name   string
		req    cfsign.Request
		reason error
		code   cfsign.Code
	}{
		{"canned, signature one byte off", ec(setParam(canned.Target, "Signature", flip(param(canned.Target, "Signature")))), cfsign.ErrBadSignature, cfsign.AccessDenied},
		{"canned, signature not base64", ec(setParam(canned.Target, "Signature", "!"+param(canned.Target, "Signature")[1:])), cfsign.ErrBadSignatureB64, cfsign.MalformedSignature},
		{"canned, other Expires", ec(laterExpiry), cfsign.ErrBadSignature, cfsign.AccessDenied},
		{"canned, bad Expires", ec(setParam(canned.Target, "Expires", "0"+strconv.Itoa(expiresAt))), cfsign.ErrBadExpires, cfsign.MalformedPolicy},
		{"canned, path one byte off", ec(strings.Replace(canned.Target, "/image.jpg", "/image.jpeg", 1)), cfsign.ErrBadSignature, cfsign.AccessDenied},
		{"canned, query one byte off", ec(strings.Replace(canned.Target, "size=large", "size=largE", 1)), cfsign.ErrBadSignature, cfsign.AccessDenied},
		{"canned, hash changed", ec(strings.Replace(canned.Target, "&Hash-Algorithm=SHA256", "", 1)), cfsign.ErrBadSignature, cfsign.AccessDenied},
		{"canned, hash unknown", ec(strings.Replace(canned.Target, "Hash-Algorithm=SHA256", "Hash-Algorithm=SHA512", 1)), cfsign.ErrUnknownHash, cfsign.AccessDenied},
		{"canned, other trusted key id", ec(setParam(canned.Target, "Key-Pair-Id", k.rsaID)), cfsign.ErrBadSignature, cfsign.AccessDenied},
		{"canned RSA, signature one byte off", func() cfsign.Request {
			r := cannedRSA
			r.Target = setParam(r.Target, "Signature", flip(param(r.Target, "Signature")))
			return r
		}(), cfsign.ErrBadSignature, cfsign.AccessDenied},
		{"custom, policy one byte off", cu(otherPolicy), cfsign.ErrBadSignature, cfsign.AccessDenied},
		{"custom, policy not base64", cu(setParam(custom.Target, "Policy", "%%"+param(custom.Target, "Policy"))), cfsign.ErrBadPolicyB64, cfsign.MalformedPolicy},
		{"custom, signature one byte off", cu(setParam(custom.Target, "Signature", flip(param(custom.Target, "Signature")))), cfsign.ErrBadSignature, cfsign.AccessDenied},
	}
	tw := newTwin(t, k, cfsign.Options{Now: func() time.Time { return verifyAt }}, 16)
	var cached []*cfsign.Policy
	for _, r := range []cfsign.Request{canned, cannedRSA, custom} {
		res, err := tw.verify(t, &r)
		if err != nil {
			t.Fatalf("Verify(%s) = %v; want it to verify", r.Target, err)
		}
		cached = append(cached, res.Policy)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req
			r.ClientIP = client
			for range 2 { // the second time would be a hit if refusals were cached
				res, err := tw.verify(t, &r)
				if !errors.Is(err, tc.reason) || cfsign.CodeOf(err) != tc.code {
					t.Fatalf("Verify(%s) = %v (%v); want %v (%v)", tc.name, err, cfsign.CodeOf(err), tc.reason, tc.code)
				}
				for _, p := range cached {
					if res.Policy != nil && res.Policy == p {
						t.Fatalf("Verify(%s) answered from a cached sibling's entry", tc.name)
					}
				}
			}
		})
	}
	if n := tw.cached.CacheLen(); n != 3 {
		t.Errorf("CacheLen() = %d after 3 verified links and %d refusals; want 3", n, 2*len(tests))
	}

	// The cached canned link's policy bytes and signature sent as a custom
	// Policy: a valid credential too, but another one (kind custom).
	asCustom := ec(strings.Replace(canned.Target, "Expires="+strconv.Itoa(expiresAt),
		"Policy="+cfsign.Encode(cfsign.CannedPolicy(fuzzOrigin+"/image.jpg?size=large", expiresAt)), 1))
	res, err := tw.verify(t, &asCustom)
	if err != nil || res.Canned || res.Policy == cached[0] {
		t.Errorf("Verify(canned link as a custom policy) = %v, canned %v, shares the canned entry %v; want a custom credential of its own",
			err, res.Canned, res.Policy == cached[0])
	}

	// RequireIP refuses every canned link: nothing is cached.
	tw = newTwin(t, k, cfsign.Options{Now: func() time.Time { return verifyAt }, RequireIP: true}, 16)
	for range 2 {
		r := canned
		if _, err := tw.verify(t, &r); !errors.Is(err, cfsign.ErrNoIPBinding) {
			t.Errorf("Verify(canned, RequireIP) = %v; want ErrNoIPBinding", err)
		}
	}
	if n := tw.cached.CacheLen(); n != 0 {
		t.Errorf("CacheLen() = %d after RequireIP refusals; want 0", n)
	}

	// A link refused for its time is not cached; it is verified in full
	// when it becomes valid, and cached then.
	clock := testenv.NewClock(time.Unix(expiresAt, 0))
	tw = newTwin(t, k, cfsign.Options{Now: clock.Now}, 16)
	r := canned
	first, err := tw.verify(t, &r)
	if !errors.Is(err, cfsign.ErrExpired) {
		t.Fatalf("Verify(at expiry) = %v; want ErrExpired", err)
	}
	if n := tw.cached.CacheLen(); n != 0 {
		t.Fatalf("CacheLen() = %d after a refusal; want 0", n)
	}
	clock.Set(verifyAt)
	second, err := tw.verify(t, &r)
	if err != nil {
		t.Fatalf("Verify(in time) = %v; want it to verify", err)
	}
	if second.Policy == first.Policy || tw.cached.CacheLen() != 1 {
		t.Errorf("Verify(in time) shared the refused request's Policy or was not cached (CacheLen %d)", tw.cached.CacheLen())
	}
}

// TestVerifyCacheResultReadOnly checks that a caller modifying a cached
// Result's Policy and PolicyBytes cannot change any later decision.
func TestVerifyCacheResultReadOnly(t *testing.T) {
	k := loadFuzzKeys(t)
	clock := testenv.NewClock(verifyAt)
	v := k.cachedVerifierWith(t, cfsign.Options{Now: clock.Now}, 16)
	for _, sr := range hitRequests(t, k) {
		t.Run(sr.name, func(t *testing.T) {
			clock.Set(verifyAt)
			r := sr.req
			res, err := v.Verify(&r)
			if err != nil {
				t.Fatal(err)
			}
			res.Policy.Expires = cfsign.MaxEpoch
			res.Policy.Resource, res.Policy.HasResource = "*", true
			res.Policy.SourceIP = netip.Prefix{}
			for i := range res.PolicyBytes {
				res.PolicyBytes[i] = 'x'
			}
			clock.Set(time.Unix(expiresAt, 0))
			if _, err := v.Verify(&r); !errors.Is(err, cfsign.ErrExpired) {
				t.Errorf("Verify(at expiry, Result modified) = %v; want ErrExpired", err)
			}
			clock.Set(verifyAt)
			if _, err := v.Verify(&r); err != nil {
				t.Errorf("Verify(in time, Result modified) = %v; want it to verify", err)
			}
			other := withTarget(r, "/private/x")
			if _, err := v.Verify(&other); err == nil {
				t.Errorf("Verify(%s, Result modified) verifies; want a refusal", other.Target)
			}
		})
	}
}

// TestVerifyCacheBound verifies many distinct links through small caches:
// the entry count never exceeds the bound, and evicted links still verify.
func TestVerifyCacheBound(t *testing.T) {
	k := loadFuzzKeys(t)
	var links []cfsign.Request
	for i := range 300 {
		scheme, host, target := splitURL(k.signURL(t, "p256-sha256", fuzzOrigin+"/f/"+strconv.Itoa(i), nil))
		links = append(links, cfsign.Request{Scheme: scheme, Host: host, Target: target})
	}
	for _, size := range []int{1, 7, 40, 100, 1000} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			v := k.cachedVerifier(t, size)
			for round := range 2 {
				for i := range links {
					if _, err := v.Verify(&links[i]); err != nil {
						t.Fatalf("round %d: Verify(link %d) = %v; want it to verify", round, i, err)
					}
					if n := v.CacheLen(); n > size {
						t.Fatalf("round %d, link %d: CacheLen() = %d; want at most %d", round, i, n, size)
					}
				}
			}
			if got, want := v.CacheLen(), min(size, len(links)); got != want {
				t.Errorf("CacheLen() = %d after %d distinct links; want %d", got, len(links), want)
			}
		})
	}
}

// TestVerifyCacheDisabled checks CacheSize 0 (no cache) and a negative size.
func TestVerifyCacheDisabled(t *testing.T) {
	k := loadFuzzKeys(t)
	v := k.cachedVerifier(t, 0)
	r := hitRequests(t, k)[0].req
	a, errA := v.Verify(&r)
	b, errB := v.Verify(&r)
	if errA != nil || errB != nil {
		t.Fatalf("Verify = %v, %v; want it to verify twice", errA, errB)
	}
	if a.Policy == b.Policy || v.CacheLen() != 0 {
		t.Errorf("CacheSize 0: two Verify calls share a Policy (%v) or CacheLen() = %d; want no cache", a.Policy == b.Policy, v.CacheLen())
	}
	if _, err := cfsign.NewVerifier(k.pubs, cfsign.Options{CacheSize: -1}); err == nil {
		t.Errorf("NewVerifier(CacheSize -1) = nil error; want one")
	}
}

// TestVerifyCacheConcurrent verifies a mix of good and refused links from
// many goroutines through a cache small enough to evict all the time; run
// it with -race. Each answer must be the one an uncached verifier gives.
func TestVerifyCacheConcurrent(t *testing.T) {
	k := loadFuzzKeys(t)
	type want struct {
		res cfsign.Result
		err error
	}
	var reqs []cfsign.Request
	for _, sr := range hitRequests(t, k) {
		reqs = append(reqs, sr.req, withTarget(sr.req, "/videos/other.ts"))
		wrongIP := sr.req
		wrongIP.ClientIP = netip.MustParseAddr("198.51.100.7")
		reqs = append(reqs, wrongIP)
	}
	for i := range 8 {
		scheme, host, target := splitURL(k.signURL(t, "p256-sha256", fuzzOrigin+"/c/"+strconv.Itoa(i), nil))
		reqs = append(reqs, cfsign.Request{Scheme: scheme, Host: host, Target: target})
	}
	wants := make([]want, len(reqs))
	for i := range reqs {
		res, err := k.v.Verify(&reqs[i])
		wants[i] = want{res, err}
	}
	v := k.cachedVerifier(t, 4)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 300 {
				i := (g*7 + n*13) % len(reqs)
				res, err := v.Verify(&reqs[i])
				sameAnswer(t, &reqs[i], res, err, wants[i].res, wants[i].err)
			}
		})
	}
	wg.Wait()
	if n := v.CacheLen(); n > 4 {
		t.Errorf("CacheLen() = %d; want at most 4", n)
	}
}

// TestVerifyCachedAllocs holds the hit path to zero allocations, for canned
// links (P-256 and RSA), a custom wildcard policy and signed cookies.
func TestVerifyCachedAllocs(t *testing.T) {
	k := loadFuzzKeys(t)
	for _, sr := range hitRequests(t, k) {
		t.Run(sr.name, func(t *testing.T) {
			v := k.cachedVerifier(t, 16)
			r := sr.req
			if _, err := v.Verify(&r); err != nil {
				t.Fatal(err)
			}
			var err error
			allocs := testing.AllocsPerRun(100, func() { _, err = v.Verify(&r) })
			if err != nil {
				t.Fatalf("Verify(cached) = %v; want it to verify", err)
			}
			if allocs != 0 {
				t.Errorf("Verify(cached %s) allocates %v times per call; want 0", sr.name, allocs)
			}
		})
	}
}
