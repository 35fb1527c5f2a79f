package signapi

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signet-dev/signet/internal/cfsign"
)

// result is what sign returns: exactly one of url and cookies is set.
type result struct {
	url     *urlResponse
	cookies *cookiesResponse
}

// sign checks one request against the token and the distribution's
// guardrails, then signs it, or answers it from the signed-link cache. The
// cheap checks come first, so a refused request never reaches the key
// source.
func (a *API) sign(ctx context.Context, tok Token, req *signRequest, cookies bool) (*result, error) {
	d, rawURL, err := a.target(req)
	if err != nil {
		return nil, err
	}
	now := a.now().Unix()
	p, pat, err := readPolicy(req, rawURL, now)
	if err != nil {
		return nil, err
	}
	if err := checkScope(tok, d, rawURL, pat); err != nil {
		return nil, err
	}
	if err := checkGuardrails(tok, d, &p, pat, now); err != nil {
		return nil, err
	}
	custom := pat != nil || p.SourceIP.IsValid() || p.NotBefore != 0
	keyID, link, cached, err := signLink(ctx, d, req.Hash, &p, rawURL, custom, cookies)
	if err != nil {
		return nil, err
	}
	if a.log.Enabled(ctx, slog.LevelDebug) {
		a.log.DebugContext(ctx, "link signed", "distribution", d.Name, "key_id", keyID, "token_id", tok.ID,
			"path", pathOf(rawURL), "expires_at", p.Expires, "cookies", cookies, "cached", cached)
	}
	expiresAt := time.Unix(p.Expires, 0).UTC().Format(time.RFC3339)
	if cookies {
		return &result{cookies: &cookiesResponse{Cookies: link.Cookies, ExpiresAt: expiresAt, KeyID: keyID}}, nil
	}
	return &result{url: &urlResponse{URL: link.URL, ExpiresAt: expiresAt, KeyID: keyID}}, nil
}

// readPolicy reads the request's policy for rawURL: its resource (rawURL
// unless the request gives one, which must cover it), client IP, expiry
// (exactly as asked, before quantisation) and start time. pat is the
// request's resource parsed, nil when it gives none.
func readPolicy(req *signRequest, rawURL string, now int64) (p cfsign.Policy, pat *cfsign.Pattern, err error) {
	p = cfsign.Policy{Resource: rawURL, HasResource: true}
	if req.Resource != "" {
		// The causes name the problem, never the pattern: no log line
		// carries any part of a policy (docs/operations.md).
		if pat, err = cfsign.ParsePattern(req.Resource); err != nil {
			return p, nil, fail(codeInvalidResource, "resource is not a valid pattern")
		}
		if err := cfsign.CheckCovers(req.Resource, rawURL); err != nil {
			return p, nil, fail(codeInvalidResource, "resource does not cover the url")
		}
		p.Resource = req.Resource
	}
	if req.IP != "" {
		if p.SourceIP, err = parseIP(req.IP); err != nil {
			return p, nil, err
		}
	}
	if p.Expires, err = expiry(req, now); err != nil {
		return p, nil, err
	}
	if !isNull(req.NotBefore) {
		if p.NotBefore, err = parseInstant("not_before", req.NotBefore); err != nil {
			return p, nil, err
		}
		if p.NotBefore < 1 {
			return p, nil, fail(codeInvalidTime, "not_before %d is not after 1970", p.NotBefore)
		}
	}
	return p, pat, nil
}

// checkGuardrails applies the distribution's guardrails to p, in the
// order the package comment gives: the lifetime cap, RequireIP and
// over-broad resources. It then quantises p's expiry and checks that the
// start time is still before it.
func checkGuardrails(tok Token, d *dist, p *cfsign.Policy, pat *cfsign.Pattern, now int64) error {
	maxLife := d.MaxLifetime
	if tok.MaxLifetime > 0 && tok.MaxLifetime < maxLife {
		maxLife = tok.MaxLifetime
	}
	limit := int64(maxLife / time.Second)
	if p.Expires-now > limit {
		return &apiError{
			code:    codeLifetime,
			message: fmt.Sprintf("the lifetime exceeds the maximum of %d seconds for this token and distribution", limit),
			cause:   fmt.Errorf("lifetime %ds, cap %ds (token %v, distribution %v)", p.Expires-now, limit, tok.MaxLifetime, d.MaxLifetime),
		}
	}
	if d.RequireIP && !p.SourceIP.IsValid() {
		return fail(codeIPRequired, "distribution %s requires ip", d.Name)
	}
	if pat != nil && !d.AllowBroad {
		if why := overBroad(pat); why != "" {
			return fail(codeOverBroad, "resource has a %s", why)
		}
	}
	p.Expires = quantise(p.Expires, now, d.Quantum, limit)
	if p.NotBefore != 0 && p.NotBefore >= p.Expires {
		return fail(codeInvalidNotBefore, "not_before %d, expiry %d", p.NotBefore, p.Expires)
	}
	return nil
}

// signLink signs p for rawURL (as a custom policy, or a canned one) with
// the distribution's current key, as a URL or as cookies, or finds the
// link in the signed-link cache. It returns the key id the link names.
func signLink(ctx context.Context, d *dist, hash string, p *cfsign.Policy, rawURL string, custom, cookies bool) (keyID string, link cfsign.Link, cached bool, err error) {
	signer, err := newSigner(ctx, d, hash)
	if err != nil {
		return "", link, false, err
	}
	req := cfsign.LinkRequest{URL: rawURL, Expires: time.Unix(p.Expires, 0), Cookies: cookies}
	if custom {
		if req.Policy, err = p.Marshal(); err != nil {
			return "", link, false, fail(codeInvalidResource, "%w", err)
		}
	}
	var cacheKey string
	if d.links != nil {
		policy := req.Policy
		if policy == nil {
			policy = cfsign.CannedPolicy(rawURL, p.Expires)
		}
		cacheKey = strings.Join([]string{strconv.FormatBool(cookies), signer.KeyID(), signer.Hash().String(), rawURL, string(policy)}, "\x00")
		if hit, ok := d.links.get(cacheKey); ok {
			return signer.KeyID(), hit, true, nil
		}
	}
	if link, err = signer.SignLink(req); err != nil {
		if errors.Is(err, errSigner) {
			return "", link, false, fmt.Errorf("sign for %s: %w", d.Name, err)
		}
		return "", link, false, fail(codeTooLong, "%w", err)
	}
	if d.links != nil {
		link = d.links.add(cacheKey, link)
	}
	return signer.KeyID(), link, false, nil
}

// newSigner returns a signer of the distribution's current key, with the
// hash the request asks for or else the key's own. Its errors, and those of
// its crypto.Signer, match errSigner, except a hash the key does not sign.
func newSigner(ctx context.Context, d *dist, want string) (*cfsign.Signer, error) {
	key, err := d.Key.Key(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: key source of %s: %w", errSigner, d.Name, err)
	}
	hash, err := pickHash(want, key)
	if err != nil {
		return nil, err
	}
	signer, err := cfsign.NewSigner(key.ID, markedSigner{key.Signer}, hash)
	if err != nil {
		return nil, fmt.Errorf("%w: key of %s: %w", errSigner, d.Name, err)
	}
	return signer, nil
}

// target finds the distribution and the URL to sign: url as given, or the
// distribution's BaseURL with the key appended.
func (a *API) target(req *signRequest) (*dist, string, error) {
	byURL := req.URL != ""
	if byURL == (req.Distribution != "" || req.Key != "") || (!byURL && (req.Distribution == "" || req.Key == "")) {
		return nil, "", fail(codeInvalidTarget, "url %t, distribution %t, key %t", byURL, req.Distribution != "", req.Key != "")
	}
	if byURL {
		if err := cfsign.CheckURL(req.URL); err != nil {
			return nil, "", fail(codeInvalidURL, "%w", err)
		}
		scheme, host, target, _ := cfsign.SplitURL(req.URL)
		if !strings.HasPrefix(target, "/") {
			// "https://h" would be signed as is, but browsers request
			// "https://h/", so the link could never verify.
			return nil, "", fail(codeInvalidURL, "url has no path")
		}
		d := a.origins[scheme+"://"+host]
		if d == nil {
			return nil, "", fail(codeUnknownDist, "no distribution for %s://%s", scheme, host)
		}
		return d, req.URL, nil
	}
	d := a.dists[req.Distribution]
	if d == nil {
		return nil, "", fail(codeUnknownDist, "no distribution %.60q", req.Distribution)
	}
	u, err := keyURL(d.BaseURL, req.Key)
	if err != nil {
		return nil, "", err
	}
	return d, u, nil
}

// keyURL appends an object key to base, each segment percent-encoded with
// url.PathEscape: everything but A-Z a-z 0-9 - . _ ~ $ & + : = @ is
// escaped, a superset of what browsers escape, so they send the bytes
// unchanged and the edge decodes them back to the key.
func keyURL(base, key string) (string, error) {
	if !utf8.ValidString(key) {
		return "", fail(codeInvalidKey, "key is not UTF-8")
	}
	if strings.HasPrefix(key, "/") {
		return "", fail(codeInvalidKey, "key starts with '/'")
	}
	segs := strings.Split(key, "/")
	for i, s := range segs {
		switch {
		case s == "." || s == "..":
			return "", fail(codeInvalidKey, "key has a dot segment")
		case s == "" && i < len(segs)-1:
			return "", fail(codeInvalidKey, "key has an empty segment")
		}
		segs[i] = url.PathEscape(s)
	}
	u := base + "/" + strings.Join(segs, "/")
	if err := cfsign.CheckURL(u); err != nil {
		return "", fail(codeInvalidKey, "%w", err)
	}
	return u, nil
}

// pathOf returns the raw path of a URL that cfsign.CheckURL accepted.
func pathOf(rawURL string) string {
	_, _, target, _ := cfsign.SplitURL(rawURL)
	path, _ := cfsign.SplitTarget(target)
	return path
}

// afterMaxExpiry is invalid_expiry's message for an expiry CloudFront
// would refuse, which a lifetime cap reaching past 2038 lets through.
const afterMaxExpiry = "the expiry is after " + cfsign.MaxExpiry + ", the latest CloudFront accepts"

// expiry reads expires_in or expires_at (exactly one) as Unix seconds,
// after now and accepted by cfsign.CheckExpiry.
func expiry(req *signRequest, now int64) (int64, error) {
	in, at := !isNull(req.ExpiresIn), !isNull(req.ExpiresAt)
	if in == at {
		return 0, fail(codeInvalidExpiry, "expires_in given %t, expires_at given %t", in, at)
	}
	var exp int64
	if in {
		n, err := parseSeconds(req.ExpiresIn)
		if err != nil {
			return 0, err
		}
		if n <= 0 || n > cfsign.MaxEpoch {
			return 0, fail(codeInvalidExpiry, "expires_in %d is not in 1..%d", n, cfsign.MaxEpoch)
		}
		exp = now + n
	} else {
		var err error
		if exp, err = parseInstant("expires_at", req.ExpiresAt); err != nil {
			return 0, err
		}
		if exp <= now {
			return 0, fail(codeInvalidExpiry, "expires_at %d is not after now %d", exp, now)
		}
	}
	if err := cfsign.CheckExpiry(exp); err != nil {
		return 0, &apiError{code: codeInvalidExpiry, message: afterMaxExpiry, cause: err}
	}
	return exp, nil
}

// quantise rounds exp up to a multiple of q (in Unix time), so that every
// request for the same resource in one bucket gets the same expiry. When
// rounding up would exceed the lifetime cap, it rounds down instead, if
// that is still in the future; otherwise exp is kept as is.
func quantise(exp, now int64, q time.Duration, limit int64) int64 {
	qs := int64(q / time.Second)
	if qs <= 0 {
		return exp
	}
	up := (exp + qs - 1) / qs * qs
	if up-now <= limit && up <= cfsign.MaxEpoch {
		return up
	}
	if down := exp / qs * qs; down > now {
		return down
	}
	return exp
}

// parseIP reads ip: an IPv4 address (which gets /32, as botocore, the JS
// SDK and the AWS CLI do, §5) or an IPv4 CIDR range without host bits.
// An IPv4-mapped IPv6 address counts as IPv4.
func parseIP(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		pfx, err := netip.ParsePrefix(s)
		switch {
		case err != nil:
			return pfx, fail(codeInvalidIP, "ip is not a CIDR range")
		case !pfx.Addr().Is4():
			return pfx, fail(codeInvalidIP, "ip is not IPv4")
		case pfx.Masked() != pfx:
			return pfx, fail(codeInvalidIP, "ip has host bits set")
		}
		return pfx, nil
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fail(codeInvalidIP, "ip is not an address or a CIDR range")
	}
	if addr = addr.Unmap(); !addr.Is4() {
		return netip.Prefix{}, fail(codeInvalidIP, "ip is not IPv4")
	}
	return netip.PrefixFrom(addr, 32), nil
}

// pickHash returns the hash a request asks for, or the key's. A key signs
// its own default, which its source chose, and any hash it allows
// (cfsign.Key.Allows: SHA256 always, SHA1 with an in-process RSA key).
func pickHash(want string, key cfsign.Key) (cfsign.Hash, error) {
	if want == "" {
		return key.Hash, nil
	}
	h, err := cfsign.ParseHash(want)
	if err != nil {
		return 0, fail(codeInvalidHash, "%w", err)
	}
	if h != key.Hash && !key.Allows(h) {
		return 0, fail(codeInvalidHash, "key %s does not sign %s", key.ID, h)
	}
	return h, nil
}

// markedSigner marks the errors of the key source's signer with errSigner,
// so that they are told apart from cfsign's refusals.
type markedSigner struct{ crypto.Signer }

func (m markedSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	sig, err := m.Signer.Sign(rand, digest, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errSigner, err)
	}
	return sig, nil
}

// overBroad says why a resource is over-broad, or "": a wildcard in its
// protocol or domain, or a path wildcard right after the host (the fixed
// part of the path is just "/").
func overBroad(pat *cfsign.Pattern) string {
	switch fixed, wild := pat.FixedPath(); {
	case pat.ProtocolWildcard():
		return "wildcard protocol"
	case pat.DomainWildcard():
		return "wildcard domain"
	case wild && fixed == "/":
		return "path wildcard right after the host"
	}
	return ""
}

// checkScope refuses a link the token may not sign: the URL's object key
// and, for a wildcard resource, the fixed part of its path must start with
// one of the token's prefixes for the distribution, and a resource with a
// wildcard protocol or domain needs the empty prefix.
func checkScope(tok Token, d *dist, rawURL string, pat *cfsign.Pattern) error {
	var prefixes []string
	for _, sc := range tok.Scopes {
		if sc.Distribution == d.Name {
			prefixes = append(prefixes, sc.Prefixes...)
		}
	}
	if len(prefixes) == 0 {
		return fail(codeOutOfScope, "token %s has no scope for distribution %s", tok.ID, d.Name)
	}
	key, err := url.PathUnescape(pathOf(rawURL)[1:])
	if err != nil {
		return fail(codeInvalidURL, "path: %w", err)
	}
	if !hasPrefix(key, prefixes) {
		return fail(codeOutOfScope, "token %s: key %.200q is under none of its prefixes", tok.ID, key)
	}
	if pat == nil {
		return nil
	}
	if (pat.ProtocolWildcard() || pat.DomainWildcard()) && !slices.Contains(prefixes, "") {
		return fail(codeOutOfScope, "token %s: a wildcard protocol or domain needs the whole distribution", tok.ID)
	}
	fixed, _ := pat.FixedPath()
	fixedKey, err := url.PathUnescape(strings.TrimPrefix(fixed, "/"))
	if err != nil {
		return fail(codeOutOfScope, "the resource's path does not decode")
	}
	if !hasPrefix(fixedKey, prefixes) {
		return fail(codeOutOfScope, "token %s: the resource's path is under none of its prefixes", tok.ID)
	}
	return nil
}

func hasPrefix(key string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}
