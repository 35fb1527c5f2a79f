package cfsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Request holds the facts of one viewer request that verification needs.
type Request struct {
	// Scheme is "https" when the viewer connection is TLS (or a trusted
	// proxy says it was), otherwise "http".
	Scheme string
	// Host is the Host header (or :authority) as received, port included.
	Host string
	// Target is the raw request target in origin form, path and query,
	// exactly as received: no decoding, re-encoding or dot removal (§4.1).
	Target string
	// Cookies are the request's Cookie header values, in order.
	Cookies []string
	// ClientIP is the viewer address, proxy-aware. IPv4-mapped IPv6
	// addresses are treated as IPv4.
	ClientIP netip.Addr
}

// Result describes a verification, as far as it got. Even for a refused
// request it carries the mode and key id, for logs and metrics.
//
// Policy and PolicyBytes may be shared with the Results of other requests
// that carried the same credentials (see Options.CacheSize), so they are
// read-only: a caller must not modify them. The verifier never reads them
// back: its decisions use a private copy, so a caller that broke this rule
// could mislead other callers' logs but never make a request pass or fail.
type Result struct {
	Mode   Mode
	KeyID  string
	Hash   Hash
	Canned bool
	// Policy is the verified policy: for a canned link, the rebuilt
	// resource and the expiry. Nil unless the signature verified.
	Policy *Policy
	// PolicyBytes are the exact bytes the signature covers.
	PolicyBytes []byte
}

// Options tune a Verifier.
type Options struct {
	// Skew widens both time bounds by this much. The default, 0, is what
	// AWS documents; keep clocks in sync with NTP rather than raising it.
	Skew time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// AllowNoResource accepts a custom policy without Resource, which then
	// matches any URL. (signet, §17 #10) Off by default.
	AllowNoResource bool
	// MaxLifetime, when positive, refuses links that stay valid for longer
	// than this from now (a guardrail: it bounds how long a key rotation
	// must wait for links signed with the old key to expire).
	MaxLifetime time.Duration
	// RequireIP refuses links whose policy does not bind a client IP range
	// (all canned links, and custom policies without IpAddress).
	RequireIP bool
	// CacheSize is the number of verified credentials the Verifier
	// remembers; 0 disables the cache, and a negative size is an error.
	//
	// A credential is the key pair id, the hash, the signature and the
	// policy (for a canned link, the policy rebuilt from the request URL
	// and Expires; for a custom policy, the Policy value), the same whether
	// they came in the query or in cookies. Once a credential has passed
	// every check, later requests carrying it skip the signature
	// verification and the policy parsing, and allocate nothing. Every
	// request, hit or miss, is still checked against what depends on it
	// and on the clock: expiry and start (with Skew and Now), MaxLifetime,
	// RequireIP, the client IP against IpAddress, and the request URL
	// against a custom policy's Resource (a canned link's URL is part of
	// its credential). Refusals are never cached. Hits share their
	// Result's Policy and PolicyBytes (see Result).
	//
	// The cache holds at most CacheSize entries, in up to 64 shards with a
	// lock each, evicting by CLOCK (second chance: an entry used since the
	// hand last passed it survives one more pass). Credentials over 8 KiB
	// are not cached; a typical entry takes 0.5 to 2 KiB. Lookups use a
	// hash with a random seed and then compare the whole credential in
	// constant time, so a hash collision can only cause a miss.
	CacheSize int
}

// Verifier checks signed requests against a fixed set of trusted keys, as
// one CloudFront cache behavior with its key groups does. Its methods may be
// called concurrently.
type Verifier struct {
	keys     map[string]crypto.PublicKey
	opts     Options
	verified *verifiedLinks // nil when Options.CacheSize is 0
}

// NewVerifier returns a Verifier trusting keys, by key pair id. Every key
// must be RSA (1024, 2048, 4096) or ECDSA P-256, and every id valid.
func NewVerifier(keys map[string]crypto.PublicKey, opts Options) (*Verifier, error) {
	if opts.CacheSize < 0 {
		return nil, fmt.Errorf("cfsign: cache size %d is negative", opts.CacheSize)
	}
	m := make(map[string]crypto.PublicKey, len(keys))
	for id, k := range keys {
		if err := CheckKeyID(id); err != nil {
			return nil, err
		}
		if err := CheckPublicKey(k); err != nil {
			return nil, fmt.Errorf("key %s: %w", id, err)
		}
		m[id] = k
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Verifier{keys: m, opts: opts, verified: newVerifiedLinks(opts.CacheSize)}, nil
}

// CacheLen returns the number of credentials in the verified-link cache
// (0 when it is disabled). It is at most Options.CacheSize.
func (v *Verifier) CacheLen() int { return v.verified.len() }

// keyStack is the size of the stack buffer a request's credential key is
// built in; longer keys (long URLs, RSA-4096) spill to the heap.
const keyStack = 2048

// Verify checks one request and returns what it learned. A nil error means
// the request is authorised; otherwise the error is an *Error whose Code is
// the public answer and whose Reason and Detail say why. The steps follow
// §13, from 3 to 11; the caller handles 1 (size, path safety), 2 (behavior)
// and 12 (stripping, logging). With Options.CacheSize set, a credential
// that verified before skips steps 9 and 10 but not 11.
//
// Verify judges the credential (Verifier.judge), looks its key up in
// the verified-link cache (appendKey), verifies it in full on a miss
// (credential.verify), and on a hit or a miss makes the checks that
// depend on the request and the clock (Verifier.check).
func (v *Verifier) Verify(r *Request) (Result, error) {
	path, query := SplitTarget(r.Target)
	cr := credential{Credentials: ParseCredentials(query, r.Cookies)}
	res := Result{Mode: cr.Mode, KeyID: cr.KeyID}
	if err := v.judge(&cr); err != nil {
		return res, err
	}
	res.Hash, res.Canned = cr.hash, cr.canned()
	var stack [keyStack]byte
	var k []byte
	policyAt := 0
	if cr.held == nil {
		k, policyAt = appendKey(stack[:0], &cr, r, path, query)
		if e := v.verified.get(k); e != nil {
			res.Policy, res.PolicyBytes = &e.policy, e.policyBytes
			return res, v.check(&e.facts, r, path, query)
		}
	}
	e, err := cr.verify(k, policyAt)
	if e != nil {
		res.PolicyBytes = e.policyBytes
	}
	if err != nil {
		return res, err
	}
	res.Policy = &e.policy
	if err := v.check(&e.facts, r, path, query); err != nil {
		return res, err
	}
	v.verified.add(e)
	return res, nil
}

// credential is a request's credential, the values as received and what
// Verify judged of them before the signature (Verifier.judge).
type credential struct {
	Credentials
	key    crypto.PublicKey // the trusted key KeyID names
	hash   Hash
	expiry int64 // a canned link's Expires, parsed
	// held is the refusal of step 7 (hash) or 8 (Expires), if any. They
	// come after step 6 (decoding Signature), and a credential in the
	// verified-link cache passed all three, so it is held until a lookup
	// has missed.
	held error
}

// canned reports whether c is a canned link's (it has Expires; once
// judged, it has no Policy).
func (c *credential) canned() bool { return c.HasExpires }

// judge runs §13's steps 3 to 8 but 6 over the values of c: it returns the
// refusal of steps 3 to 5 at once, sets c's key, hash and expiry, and holds
// the refusal of 7 or 8 in c.held.
func (v *Verifier) judge(c *credential) error {
	switch {
	case c.Mode == ModeNone:
		return deny(ErrNoCredentials, "")
	case c.Repeated != "":
		return deny(ErrRepeatedParam, c.Repeated)
	case !c.HasKeyID || c.KeyID == "":
		return deny(ErrMissingKeyID, "")
	}
	key, ok := v.keys[c.KeyID]
	if !ok {
		return deny(ErrUnknownKey, "key pair id "+safeID(c.KeyID)+" is not trusted here")
	}
	switch {
	case c.HasExpires && c.HasPolicy:
		return deny(ErrExpiresAndPolicy, "")
	case !c.HasExpires && !c.HasPolicy:
		return deny(ErrNoPolicy, "")
	case !c.HasSignature || c.Signature == "":
		return deny(ErrMissingSignature, "")
	}
	c.key = key
	switch {
	case !c.HasHashAlg || c.HashAlg == "SHA1":
		c.hash = SHA1
	case c.HashAlg == "SHA256":
		c.hash = SHA256
	default:
		// (signet, §17 #6) exactly SHA1 or SHA256.
		c.held = deny(ErrUnknownHash, fmt.Sprintf("%.16q", c.HashAlg))
	}
	if c.canned() {
		var err error
		if c.expiry, err = parseExpires(c.Expires); err != nil && c.held == nil {
			c.held = denyPolicy(ErrBadExpires, "", err.Error())
		}
	}
	return nil
}

// verify verifies a credential that the verified-link cache does not hold:
// step 6 (decoding Signature), then the held refusal, then steps 9 (the
// signature) and 10 (parsing the policy). k is the credential's cache key,
// with the policy from policyAt on; it is empty when cr.held is set. The
// link returned, nil until the policy bytes are decoded, is what the cache
// would store; its Policy and facts are set only when the error is nil.
//
// One heap buffer holds the link's copy of k, the decoded signature and
// the policy bytes (which Result shares). The signature is checked over
// these copies, so k, which Verify builds on the stack, never escapes.
func (cr *credential) verify(k []byte, policyAt int) (*verifiedLink, error) {
	policyLen := len(k) - policyAt
	if !cr.canned() {
		policyLen = base64.StdEncoding.DecodedLen(len(cr.Policy))
	}
	buf := make([]byte, len(k), len(k)+base64.StdEncoding.DecodedLen(len(cr.Signature))+policyLen)
	copy(buf, k)
	sig, err := AppendDecode(buf[len(k):], cr.Signature)
	if err != nil {
		return nil, deny(ErrBadSignatureB64, "")
	}
	if cr.held != nil {
		return nil, cr.held
	}
	var policy []byte
	if cr.canned() {
		policy = append(sig[len(sig):], k[policyAt:]...)
	} else if policy, err = AppendDecode(sig[len(sig):], cr.Policy); err != nil {
		// Custom policy: verify the signature over the received bytes
		// first, and only then parse them (§5; §17 #14), so unsigned
		// garbage is AccessDenied rather than MalformedPolicy.
		return nil, deny(ErrBadPolicyB64, "")
	}
	e := &verifiedLink{key: buf[:len(k):len(k)], policyBytes: policy[:len(policy):len(policy)]}
	if err := verifySig(cr.key, cr.hash, e.policyBytes, sig[:len(sig):len(sig)]); err != nil {
		return e, err
	}
	return e, e.readPolicy(cr.canned(), cr.expiry)
}

// readPolicy sets e's Policy and facts from its policy bytes, whose
// signature has verified. A canned link's bytes are the template that
// appendResource filled, with expires in it.
func (e *verifiedLink) readPolicy(canned bool, expires int64) error {
	if canned {
		e.policy = Policy{Resource: string(resourceOf(e.policyBytes)), HasResource: true, Expires: expires}
		e.facts = facts{canned: true, expires: expires}
		return nil
	}
	if err := parsePolicy(e.policyBytes, &e.policy); err != nil {
		return quotesPolicy(err)
	}
	p := &e.policy
	e.facts = facts{expires: p.Expires, notBefore: p.NotBefore, sourceIP: p.SourceIP, hasResource: p.HasResource}
	if p.HasResource {
		e.facts.patternErr = parsePattern(p.Resource, &e.facts.pattern)
	}
	return nil
}

// check makes the checks that depend on the request and the clock (§13 step
// 11), for a credential whose signature holds: on every request, cache hit
// or miss.
func (v *Verifier) check(f *facts, r *Request, path, query string) error {
	if f.canned {
		// The request URL is part of the canned policy, so it matched
		// when the signature did.
		if err := v.checkTime(f.expires, 0); err != nil {
			return err
		}
		if v.opts.RequireIP {
			return deny(ErrNoIPBinding, "a canned link binds no client IP; this behavior requires one")
		}
		return nil
	}
	if !f.hasResource && !v.opts.AllowNoResource {
		return deny(ErrNoResource, "the policy names no Resource and this behavior does not allow that")
	}
	if err := v.checkTime(f.expires, f.notBefore); err != nil {
		return err
	}
	if v.opts.RequireIP && !f.sourceIP.IsValid() {
		return deny(ErrNoIPBinding, "the policy binds no client IP; this behavior requires one")
	}
	if f.sourceIP.IsValid() {
		if err := checkClientIP(f.sourceIP, r.ClientIP); err != nil {
			return err
		}
	}
	if f.hasResource {
		if f.patternErr != nil {
			return quotesPolicy(f.patternErr)
		}
		host, stripped := lowerASCII(r.Host), StripQuery(query)
		if !f.pattern.Match(r.Scheme, host, path, stripped) {
			return denyPolicy(ErrResourceMismatch, mismatched(f.pattern.MatchSections(r.Scheme, host, path, stripped)),
				"request "+r.Scheme+"://"+host+path+joinQuery(stripped)+" does not match "+f.pattern.raw)
		}
	}
	return nil
}

// checkClientIP refuses a client outside a policy's IPv4 range: an unknown
// address, an IPv6 one, or one not in the range. IPv4-mapped IPv6
// addresses count as IPv4.
func checkClientIP(sourceIP netip.Prefix, client netip.Addr) error {
	ip := client.Unmap()
	switch {
	case !ip.IsValid():
		return denyPolicy(ErrIPMismatch, "client IP unknown; the policy requires one in its range",
			"client IP unknown; policy requires "+sourceIP.String())
	case !ip.Is4():
		// CloudFront policies are IPv4-only, so an IPv6 viewer
		// can never satisfy an IP condition.
		return denyPolicy(ErrIPMismatch, "client "+ip.String()+" is IPv6; the policy's range is IPv4",
			"client "+ip.String()+" is IPv6; policy requires "+sourceIP.String())
	case !sourceIP.Contains(ip):
		return denyPolicy(ErrIPMismatch, "client "+ip.String()+" is outside the policy's range",
			"client "+ip.String()+" is not in "+sourceIP.String())
	}
	return nil
}

// checkTime applies §7: valid when now < expires and, with a start
// (notBefore > 0), now > notBefore; the skew allowance widens both bounds.
// With MaxLifetime set, it also refuses an expiry further than that from
// now.
func (v *Verifier) checkTime(expires, notBefore int64) error {
	now := v.opts.Now().Unix()
	skew := int64(v.opts.Skew / time.Second)
	if now >= expires+skew {
		ago := time.Duration(now-expires) * time.Second
		return denyPolicy(ErrExpired, fmt.Sprintf("expired %s ago", ago),
			fmt.Sprintf("expired at %s (%s ago)", epochUTC(expires).Format(time.RFC3339), ago))
	}
	if notBefore != 0 && now <= notBefore-skew {
		in := time.Duration(notBefore-now) * time.Second
		return denyPolicy(ErrNotYetValid, fmt.Sprintf("valid in %s", in),
			fmt.Sprintf("not valid before %s (in %s)", epochUTC(notBefore).Format(time.RFC3339), in))
	}
	if max := int64(v.opts.MaxLifetime / time.Second); max > 0 && expires-now > max {
		left := time.Duration(expires-now) * time.Second
		return denyPolicy(ErrLifetimeOverCap, fmt.Sprintf("valid for %s more; this behavior accepts at most %s", left, v.opts.MaxLifetime),
			fmt.Sprintf("valid until %s, %s from now; this behavior accepts at most %s",
				epochUTC(expires).Format(time.RFC3339), left, v.opts.MaxLifetime))
	}
	return nil
}

func epochUTC(n int64) time.Time { return time.Unix(n, 0).UTC() }

// mismatched says which sections of the resource do not match the
// request ("the request's path does not match the policy's resource"),
// quoting neither.
func mismatched(sections [4]bool) string {
	var bad []string
	for i, ok := range sections {
		if !ok {
			bad = append(bad, sectionNames[i])
		}
	}
	switch len(bad) {
	case 0:
		return "the request does not match the policy's resource"
	case 1:
		return "the request's " + bad[0] + " does not match the policy's resource"
	}
	return "the request's " + strings.Join(bad, " and ") + " do not match the policy's resource"
}

// quotesPolicy turns a policy or pattern parse error, whose text quotes
// the policy, into a refusal whose Error() does not (see Error).
func quotesPolicy(err error) error {
	if e, ok := err.(*Error); ok {
		return &Error{Code: e.Code, Reason: e.Reason, Full: e.Detail}
	}
	return &Error{Code: MalformedPolicy, Reason: ErrBadPolicy, Full: strings.TrimPrefix(err.Error(), ErrBadPolicy.Error()+": ")}
}

func verifySig(key crypto.PublicKey, h Hash, msg, sig []byte) error {
	var buf [32]byte
	d := h.digest(&buf, msg)
	ok := false
	switch k := key.(type) {
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(k, h.crypto(), d, sig) == nil
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(k, d, sig)
	}
	if !ok {
		return deny(ErrBadSignature, "signature does not match the policy with "+h.String())
	}
	return nil
}

// parseExpires validates an Expires value (§7, signet): ASCII digits, no
// sign, no leading zero, in 1..MaxEpoch, so that the string placed in the
// canned template equals the integer.
func parseExpires(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	if len(s) > 12 {
		return 0, fmt.Errorf("%.16q... is too long for an epoch in seconds", s)
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a plain decimal number", s)
		}
		n = n*10 + int64(c-'0')
	}
	if s[0] == '0' {
		return 0, fmt.Errorf("%q has a leading zero", s)
	}
	if err := checkEpoch(n); err != nil {
		return 0, err
	}
	return n, nil
}

// appendResource builds the canned policy for a request (§4.1):
// scheme://lowercased-host + raw path + the query without its signing
// parameters, then the template. It allocates only to grow dst.
func appendResource(dst []byte, scheme, host, path, query, expires string) []byte {
	dst = append(dst, `{"Statement":[{"Resource":"`...)
	dst = append(dst, scheme...)
	dst = append(dst, "://"...)
	dst = appendLowerASCII(dst, host)
	dst = append(dst, path...)
	if query != "" {
		n := len(dst)
		if dst = appendStripped(append(dst, '?'), query); len(dst) == n+1 {
			dst = dst[:n] // nothing left: no '?'
		}
	}
	dst = append(dst, `","Condition":{"DateLessThan":{"AWS:EpochTime":`...)
	dst = append(dst, expires...)
	return append(dst, `}}}]}`...)
}

// resourceOf extracts the resource from canned policy bytes built by
// appendResource.
func resourceOf(policy []byte) []byte {
	const head = `{"Statement":[{"Resource":"`
	const tail = `","Condition":{"DateLessThan":{"AWS:EpochTime":`
	b := policy[len(head):]
	return b[:strings.LastIndex(string(b), tail)]
}

// RebuildResource returns the canned resource for a request's facts (§4.1).
func RebuildResource(scheme, host, target string) string {
	path, query := SplitTarget(target)
	return scheme + "://" + lowerASCII(host) + path + joinQuery(StripQuery(query))
}

func joinQuery(q string) string {
	if q == "" {
		return ""
	}
	return "?" + q
}

// lowerASCII lower-cases the bytes A-Z and nothing else: strings.ToLower
// would also fold non-ASCII letters (U+212A KELVIN SIGN to 'k') and rewrite
// invalid UTF-8, letting a host the signer never saw match a resource. It
// allocates only when s has an upper-case letter.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return string(appendLowerASCII(nil, s))
		}
	}
	return s
}

// appendLowerASCII appends s to dst with A-Z lower-cased (see lowerASCII).
func appendLowerASCII(dst []byte, s string) []byte {
	n := len(dst)
	dst = append(dst, s...)
	for i := n; i < len(dst); i++ {
		if c := dst[i]; 'A' <= c && c <= 'Z' {
			dst[i] = c + 'a' - 'A'
		}
	}
	return dst
}

// safeID quotes a received key id for a log line, bounded in length.
func safeID(id string) string {
	if len(id) > 64 {
		return fmt.Sprintf("%q...", id[:64])
	}
	return fmt.Sprintf("%q", id)
}
