package cfsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
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
}

// Verifier checks signed requests against a fixed set of trusted keys, as
// one CloudFront cache behavior with its key groups does. Its methods may be
// called concurrently.
type Verifier struct {
	keys map[string]crypto.PublicKey
	opts Options
}

// NewVerifier returns a Verifier trusting keys, by key pair id. Every key
// must be RSA (1024, 2048, 4096) or ECDSA P-256, and every id valid.
func NewVerifier(keys map[string]crypto.PublicKey, opts Options) (*Verifier, error) {
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
	return &Verifier{keys: m, opts: opts}, nil
}

// Verify checks one request and returns what it learned. A nil error means
// the request is authorised; otherwise the error is an *Error whose Code is
// the public answer and whose Reason and Detail say why. The steps follow
// §13, from 3 to 11; the caller handles 1 (size, path safety), 2 (behavior)
// and 12 (stripping, logging).
func (v *Verifier) Verify(r *Request) (Result, error) {
	var res Result
	path, query := SplitTarget(r.Target)
	c := ParseCredentials(query, r.Cookies)
	res.Mode, res.KeyID = c.Mode, c.KeyID
	if c.Mode == ModeNone {
		return res, deny(ErrNoCredentials, "")
	}
	if c.Repeated != "" {
		return res, deny(ErrRepeatedParam, c.Repeated)
	}
	if !c.HasKeyID || c.KeyID == "" {
		return res, deny(ErrMissingKeyID, "")
	}
	key, ok := v.keys[c.KeyID]
	if !ok {
		return res, deny(ErrUnknownKey, "key pair id "+safeID(c.KeyID)+" is not trusted here")
	}
	if c.HasExpires == c.HasPolicy {
		if c.HasExpires {
			return res, deny(ErrExpiresAndPolicy, "")
		}
		return res, deny(ErrNoPolicy, "")
	}
	if !c.HasSignature || c.Signature == "" {
		return res, deny(ErrMissingSignature, "")
	}
	var sigBuf [600]byte // RSA-4096 is 512 bytes
	sig, err := AppendDecode(sigBuf[:0], c.Signature)
	if err != nil {
		return res, deny(ErrBadSignatureB64, "")
	}
	switch {
	case !c.HasHashAlg || c.HashAlg == "SHA1":
		res.Hash = SHA1
	case c.HashAlg == "SHA256":
		res.Hash = SHA256
	default:
		// (signet, §17 #6) exactly SHA1 or SHA256.
		return res, deny(ErrUnknownHash, fmt.Sprintf("%.16q", c.HashAlg))
	}

	host := lowerASCII(r.Host)
	stripped := StripQuery(query)
	if c.HasExpires {
		res.Canned = true
		exp, err := parseExpires(c.Expires)
		if err != nil {
			return res, deny(ErrBadExpires, err.Error())
		}
		res.PolicyBytes = appendResource(nil, r.Scheme, host, path, stripped, c.Expires)
		if err := verifySig(key, res.Hash, res.PolicyBytes, sig); err != nil {
			return res, err
		}
		res.Policy = &Policy{Resource: string(resourceOf(res.PolicyBytes)), HasResource: true, Expires: exp}
		if err := v.checkTime(res.Policy); err != nil {
			return res, err
		}
		if v.opts.RequireIP {
			return res, deny(ErrNoIPBinding, "a canned link binds no client IP; this behavior requires one")
		}
		return res, nil
	}

	// Custom policy: verify the signature over the received bytes first,
	// and only then parse them (§5; §17 #14), so unsigned garbage is
	// AccessDenied rather than MalformedPolicy.
	policy, err := Decode(c.Policy)
	if err != nil {
		return res, deny(ErrBadPolicyB64, "")
	}
	res.PolicyBytes = policy
	if err := verifySig(key, res.Hash, policy, sig); err != nil {
		return res, err
	}
	p, err := ParsePolicy(policy)
	if err != nil {
		return res, err
	}
	res.Policy = p
	return res, v.evaluate(p, r.Scheme, host, path, stripped, r.ClientIP)
}

// evaluate applies a verified custom policy's conditions (§13 step 11).
func (v *Verifier) evaluate(p *Policy, scheme, host, path, query string, client netip.Addr) error {
	if !p.HasResource && !v.opts.AllowNoResource {
		return deny(ErrNoResource, "the policy names no Resource and this behavior does not allow that")
	}
	if err := v.checkTime(p); err != nil {
		return err
	}
	if v.opts.RequireIP && !p.SourceIP.IsValid() {
		return deny(ErrNoIPBinding, "the policy binds no client IP; this behavior requires one")
	}
	if p.SourceIP.IsValid() {
		ip := client.Unmap()
		switch {
		case !ip.IsValid():
			return deny(ErrIPMismatch, "client IP unknown; policy requires "+p.SourceIP.String())
		case !ip.Is4():
			// CloudFront policies are IPv4-only, so an IPv6 viewer
			// can never satisfy an IP condition.
			return deny(ErrIPMismatch, "client "+ip.String()+" is IPv6; policy requires "+p.SourceIP.String())
		case !p.SourceIP.Contains(ip):
			return deny(ErrIPMismatch, "client "+ip.String()+" is not in "+p.SourceIP.String())
		}
	}
	if p.HasResource {
		pat, err := ParsePattern(p.Resource)
		if err != nil {
			return &Error{Code: MalformedPolicy, Reason: ErrBadPolicy, Detail: err.Error()}
		}
		if !pat.Match(scheme, host, path, query) {
			return deny(ErrResourceMismatch, "request "+scheme+"://"+host+path+joinQuery(query)+" does not match "+p.Resource)
		}
	}
	return nil
}

// checkTime applies §7: valid when now < DateLessThan and, with a start,
// now > DateGreaterThan; the skew allowance widens both bounds. With
// MaxLifetime set, it also refuses an expiry further than that from now.
func (v *Verifier) checkTime(p *Policy) error {
	now := v.opts.Now().Unix()
	skew := int64(v.opts.Skew / time.Second)
	if now >= p.Expires+skew {
		return deny(ErrExpired, fmt.Sprintf("expired at %s (%s ago)",
			p.ExpiresTime().Format(time.RFC3339), time.Duration(now-p.Expires)*time.Second))
	}
	if p.NotBefore != 0 && now <= p.NotBefore-skew {
		return deny(ErrNotYetValid, fmt.Sprintf("not valid before %s (in %s)",
			p.NotBeforeTime().Format(time.RFC3339), time.Duration(p.NotBefore-now)*time.Second))
	}
	if max := int64(v.opts.MaxLifetime / time.Second); max > 0 && p.Expires-now > max {
		return deny(ErrLifetimeOverCap, fmt.Sprintf("valid until %s, %s from now; this behavior accepts at most %s",
			p.ExpiresTime().Format(time.RFC3339), time.Duration(p.Expires-now)*time.Second, v.opts.MaxLifetime))
	}
	return nil
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
// scheme://lowercased-host + raw path + remaining query, then the template.
func appendResource(dst []byte, scheme, host, path, query, expires string) []byte {
	dst = append(dst, `{"Statement":[{"Resource":"`...)
	dst = append(dst, scheme...)
	dst = append(dst, "://"...)
	dst = append(dst, host...)
	dst = append(dst, path...)
	if query != "" {
		dst = append(dst, '?')
		dst = append(dst, query...)
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
// invalid UTF-8, letting a host the signer never saw match a resource.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// safeID quotes a received key id for a log line, bounded in length.
func safeID(id string) string {
	if len(id) > 64 {
		return fmt.Sprintf("%q...", id[:64])
	}
	return fmt.Sprintf("%q", id)
}
