package cfsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"strings"
	"time"
)

// Key is a signing key: its key pair id, the signer and the hash links get
// by default. Every key source yields one, and every signer of links (the
// CLI, the signing API, the Lambda function) takes one. A Key is immutable
// once made; pass it by value.
type Key struct {
	ID     string        // key pair id (K...)
	Signer crypto.Signer // RSA or ECDSA P-256, in process or remote (KMS)
	// Hash is the hash links are signed with by default (§9): SHA256 for
	// ECDSA and remote keys, which can sign with nothing else; SHA1 for an
	// in-process RSA key, as `signet sign` does, which may also sign with
	// SHA256 (see Allows).
	Hash Hash
}

// NewKey returns the Key of an in-process private key under id, with the
// key's default hash: SHA256 for ECDSA, SHA1 (the widest compatibility) for
// RSA.
func NewKey(id string, s crypto.Signer) Key {
	k := Key{ID: id, Signer: s, Hash: SHA1}
	if _, ok := s.Public().(*ecdsa.PublicKey); ok {
		k.Hash = SHA256
	}
	return k
}

// Allows reports whether k may sign with h: SHA256 always, SHA1 only with
// an in-process RSA key (signet signs ECDSA with SHA256 only, and KMS
// cannot sign the SHA-1 digests CloudFront's default would need). This is
// the one place the rule is written.
func (k Key) Allows(h Hash) bool {
	if h == SHA256 {
		return true
	}
	_, local := k.Signer.(*rsa.PrivateKey)
	return h == SHA1 && local
}

// Check reports why k cannot sign CloudFront links: an invalid key pair
// id, no signer, a key type or size CloudFront does not use (see
// NewSigner), or a default hash the key does not allow.
func (k Key) Check() error {
	if _, err := NewSigner(k.ID, k.Signer, k.Hash); err != nil {
		return err
	}
	if !k.Allows(k.Hash) {
		return fmt.Errorf("cfsign: key %s cannot sign with %s; use SHA256", k.ID, k.Hash)
	}
	return nil
}

// LinkRequest is what SignLink signs: a URL or cookies, with a canned or a
// custom policy.
type LinkRequest struct {
	// URL is exactly what clients will request (see CheckURL). With a
	// canned policy it is also the resource, query included.
	URL string
	// Expires is when a canned link expires (rounded down to the second);
	// a custom policy holds its own expiry.
	Expires time.Time
	// Policy, when set, is a custom policy, signed byte for byte. It must
	// parse, have a Resource, and that Resource must cover URL. Nil means a
	// canned policy.
	Policy []byte
	// Cookies asks for signed cookies instead of a signed URL.
	Cookies bool
	// Cookie holds the Set-Cookie attributes. An empty Path is the
	// resource's (Pattern.CookiePath), or "/" if it cannot be parsed.
	Cookie CookieOptions
}

// Link is a signed link: a URL, or the cookies that stand for one.
type Link struct {
	URL     string         // the signed URL; "" for cookies
	Cookies []SignedCookie // the signed cookies; nil for a URL
}

// SignedCookie is one signed cookie with the Set-Cookie header value that
// sets it. Its JSON form is what `signet sign --json` and the signing API
// print.
type SignedCookie struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	SetCookie string `json:"set_cookie"`
}

// SignLink signs one link, as every caller does: a URL or cookies, with a
// canned or a custom policy. Its errors are those of SignCanned,
// SignURLWithPolicy, SignCannedCookies, SignCookiesWithPolicy and
// Cookie.SetCookie; errors of the crypto.Signer itself wrap its own.
func (s *Signer) SignLink(req LinkRequest) (Link, error) {
	var (
		link     Link
		cookies  []Cookie
		resource = req.URL
		err      error
	)
	switch {
	case req.Policy == nil && req.Cookies:
		cookies, err = s.SignCannedCookies(req.URL, req.Expires)
	case req.Policy == nil:
		link.URL, err = s.SignCanned(req.URL, req.Expires)
	case req.Cookies:
		var p *Policy
		if p, err = coveringPolicy(req.URL, req.Policy); err == nil {
			resource = p.Resource
			cookies, err = s.policyCookies(req.Policy)
		}
	default:
		link.URL, err = s.SignURLWithPolicy(req.URL, req.Policy)
	}
	if err != nil || !req.Cookies {
		return link, err
	}
	opts := req.Cookie
	if opts.Path == "" {
		opts.Path = cookiePath(resource)
	}
	link.Cookies = make([]SignedCookie, len(cookies))
	for i, c := range cookies {
		line, err := c.SetCookie(opts)
		if err != nil {
			return Link{}, err
		}
		link.Cookies[i] = SignedCookie{Name: c.Name, Value: c.Value, SetCookie: line}
	}
	return link, nil
}

// cookiePath is the cookie Path for a resource: Pattern.CookiePath, or "/"
// if the resource does not parse as a pattern.
func cookiePath(resource string) string {
	pat, err := ParsePattern(resource)
	if err != nil {
		return "/"
	}
	return pat.CookiePath()
}

// SplitURL cuts an absolute URL into its scheme, host and request target,
// slicing the string byte for byte, never parsing or decoding it (§4.1):
// the scheme is the text before the first "://", the host runs from there
// to the first '/', '?' or '#', and the target is the rest, "" when nothing
// follows the host. ok is false, and all three are "", when rawURL has no
// "://".
func SplitURL(rawURL string) (scheme, host, target string, ok bool) {
	scheme, rest, ok := strings.Cut(rawURL, "://")
	if !ok {
		return "", "", "", false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		return scheme, rest[:i], rest[i:], true
	}
	return scheme, rest, "", true
}
