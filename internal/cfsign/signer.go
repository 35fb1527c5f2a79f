package cfsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Hash is the digest signed over the policy bytes. CloudFront picks it only
// from Hash-Algorithm / CloudFront-Hash-Algorithm; absent means SHA1 (§9).
type Hash int

// The two hashes CloudFront accepts.
const (
	SHA1 Hash = iota
	SHA256
)

// String returns the Hash-Algorithm value: "SHA1" or "SHA256".
func (h Hash) String() string {
	if h == SHA256 {
		return "SHA256"
	}
	return "SHA1"
}

// ParseHash parses "sha1" or "sha256" in any case, as a user would type it.
func ParseHash(s string) (Hash, error) {
	switch strings.ToUpper(s) {
	case "SHA1", "SHA-1":
		return SHA1, nil
	case "SHA256", "SHA-256":
		return SHA256, nil
	}
	return 0, fmt.Errorf("cfsign: unknown hash %q; use sha1 or sha256", s)
}

func (h Hash) crypto() crypto.Hash {
	if h == SHA256 {
		return crypto.SHA256
	}
	return crypto.SHA1
}

// digest hashes msg into dst's backing array without allocating.
func (h Hash) digest(dst *[32]byte, msg []byte) []byte {
	if h == SHA256 {
		*dst = sha256.Sum256(msg)
		return dst[:]
	}
	s := sha1.Sum(msg)
	copy(dst[:], s[:])
	return dst[:sha1.Size]
}

// MaxURLLength is CloudFront's limit on a request URL (§9, §17 #17).
const MaxURLLength = 8192

// MaxCookieLength bounds one Set-Cookie line the signer emits (§8).
const MaxCookieLength = 4096

// The reserved query parameter names (§2). Hash-Algorithm is included
// although AWS documents only the first four (signet, §17 #7).
var reservedParams = [...]string{"Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"}

// Signer signs CloudFront URLs and cookies with one key. It is safe for
// concurrent use when its crypto.Signer is (the standard library keys and
// KMS-backed signers are).
type Signer struct {
	keyID string
	key   crypto.Signer
	hash  Hash
	rand  io.Reader
}

// NewSigner returns a Signer for key under keyID. (signet) As the 2026 AWS
// CLI does, an ECDSA key signs only with SHA256: SHA-1 with EC is accepted by
// the verifier, since SDKs emit it, but signet never produces it.
func NewSigner(keyID string, key crypto.Signer, hash Hash) (*Signer, error) {
	if err := CheckKeyID(keyID); err != nil {
		return nil, err
	}
	if key == nil {
		return nil, errors.New("cfsign: no private key")
	}
	if err := CheckPublicKey(key.Public()); err != nil {
		return nil, err
	}
	if _, ok := key.Public().(*ecdsa.PublicKey); ok && hash != SHA256 {
		return nil, errors.New("cfsign: ECDSA keys sign with SHA256 (Hash-Algorithm=SHA256); SHA-1 is refused")
	}
	return &Signer{keyID: keyID, key: key, hash: hash, rand: rand.Reader}, nil
}

// KeyID returns the key pair id the signer writes into links.
func (s *Signer) KeyID() string { return s.keyID }

// Hash returns the signer's hash.
func (s *Signer) Hash() Hash { return s.hash }

// Public returns the signer's public key.
func (s *Signer) Public() crypto.PublicKey { return s.key.Public() }

// SignPolicy signs policy bytes exactly as given and returns the CloudFront
// base64 signature.
func (s *Signer) SignPolicy(policy []byte) (string, error) {
	var buf [32]byte
	d := s.hash.digest(&buf, policy)
	sig, err := s.key.Sign(s.rand, d, s.hash.crypto())
	if err != nil {
		return "", fmt.Errorf("cfsign: sign: %w", err)
	}
	return Encode(sig), nil
}

// SignCanned returns rawURL signed with a canned policy that expires at
// expires (rounded down to the second, as the SDKs do). The URL is appended
// to, never re-encoded:
//
//	<url>{?|&}Expires=<n>&Signature=<sig>&Key-Pair-Id=<id>[&Hash-Algorithm=SHA256]
func (s *Signer) SignCanned(rawURL string, expires time.Time) (string, error) {
	exp := expires.Unix()
	if err := CheckURL(rawURL); err != nil {
		return "", err
	}
	if err := checkEpoch(exp); err != nil {
		return "", fmt.Errorf("cfsign: expiry: %w", err)
	}
	e := strconv.FormatInt(exp, 10)
	sig, err := s.SignPolicy(AppendCanned(nil, rawURL, e))
	if err != nil {
		return "", err
	}
	return s.assemble(rawURL, "Expires="+e, sig)
}

// SignCustom marshals p (see Policy.Marshal) and returns rawURL signed with
// it. The URL must be one the policy's Resource matches.
func (s *Signer) SignCustom(rawURL string, p *Policy) (string, error) {
	policy, err := p.Marshal()
	if err != nil {
		return "", err
	}
	if err := CheckURL(rawURL); err != nil {
		return "", err
	}
	return s.SignURLWithPolicy(rawURL, policy)
}

// SignURLWithPolicy signs the given policy bytes as they are (for a policy
// supplied as a file) and returns rawURL with Policy, Signature and
// Key-Pair-Id appended. The bytes must parse as a valid policy with a
// Resource that covers rawURL.
func (s *Signer) SignURLWithPolicy(rawURL string, policy []byte) (string, error) {
	if _, err := coveringPolicy(rawURL, policy); err != nil {
		return "", err
	}
	sig, err := s.SignPolicy(policy)
	if err != nil {
		return "", err
	}
	return s.assemble(rawURL, "Policy="+Encode(policy), sig)
}

// coveringPolicy parses policy and checks that it can sign a link for
// rawURL: a valid URL, a valid policy, and a Resource that covers the URL.
func coveringPolicy(rawURL string, policy []byte) (*Policy, error) {
	if err := CheckURL(rawURL); err != nil {
		return nil, err
	}
	p, err := ParsePolicy(policy)
	if err != nil {
		return nil, err
	}
	if !p.HasResource {
		// (signet, §17 #10) the signer never emits a policy without Resource.
		return nil, errors.New("cfsign: policy has no Resource, which would authorise any URL")
	}
	if err := CheckCovers(p.Resource, rawURL); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Signer) assemble(rawURL, first, sig string) (string, error) {
	var b strings.Builder
	b.Grow(len(rawURL) + len(first) + len(sig) + len(s.keyID) + 64)
	b.WriteString(rawURL)
	if strings.Contains(rawURL, "?") {
		b.WriteByte('&')
	} else {
		b.WriteByte('?')
	}
	b.WriteString(first)
	b.WriteString("&Signature=")
	b.WriteString(sig)
	b.WriteString("&Key-Pair-Id=")
	b.WriteString(s.keyID)
	if s.hash == SHA256 {
		b.WriteString("&Hash-Algorithm=SHA256")
	}
	if b.Len() > MaxURLLength {
		return "", fmt.Errorf("cfsign: signed URL is %d bytes; CloudFront's limit is %d", b.Len(), MaxURLLength)
	}
	return b.String(), nil
}

// CheckURL refuses a URL the verifier could never match byte for byte (§2,
// §4, §4.1): it must be absolute http or https, lower-case scheme and host,
// no explicit default port, no trailing bare '?', no fragment, only printable
// ASCII without spaces, '"' or '\', and no reserved parameter already in its
// query.
func CheckURL(rawURL string) error {
	if len(rawURL) > MaxURLLength {
		return fmt.Errorf("cfsign: URL is %d bytes; CloudFront's limit is %d", len(rawURL), MaxURLLength)
	}
	if err := checkResourceBytes("URL", rawURL); err != nil {
		return err
	}
	scheme, host, target, ok := SplitURL(rawURL)
	if !ok {
		return errors.New("cfsign: URL must be absolute, starting with https:// or http://")
	}
	if scheme != "https" && scheme != "http" {
		if strings.EqualFold(scheme, "https") || strings.EqualFold(scheme, "http") {
			return fmt.Errorf("cfsign: URL scheme %q must be lower case: the edge rebuilds it as %q", scheme, strings.ToLower(scheme))
		}
		return fmt.Errorf("cfsign: URL scheme %q is not http or https", scheme)
	}
	if host == "" {
		return errors.New("cfsign: URL has no host")
	}
	if target == "" {
		// Clients request "/" for a URL without a path, so the edge
		// rebuilds "https://h/": a resource "https://h" never matches.
		return fmt.Errorf("cfsign: URL has no path; sign %s/ as clients request it", rawURL)
	}
	if strings.ContainsAny(host, "*@") {
		return fmt.Errorf("cfsign: URL host %q has '*' or '@'; a signed URL names one concrete host", host)
	}
	if host != strings.ToLower(host) {
		return fmt.Errorf("cfsign: URL host %q must be lower case: the edge compares the lower-cased Host", host)
	}
	if err := checkPort(scheme, host); err != nil {
		return err
	}
	if target[0] != '/' {
		return errors.New("cfsign: URL has a query but no path; write https://host/?query")
	}
	if _, err := url.ParseRequestURI(target); err != nil {
		return fmt.Errorf("cfsign: URL path: %w", err)
	}
	path, query, hasQuery := strings.Cut(target, "?")
	if err := CheckPath(path); err != nil {
		return err
	}
	if hasQuery && query == "" {
		return errors.New("cfsign: URL ends in a bare '?', which clients drop; remove it")
	}
	for elem := range strings.SplitSeq(query, "&") {
		name, _, _ := strings.Cut(elem, "=")
		for _, r := range reservedParams {
			if name == r {
				return fmt.Errorf("cfsign: URL query already has the reserved parameter %q", r)
			}
		}
	}
	return nil
}

// checkPort refuses a port that clients normalise away or that is invalid:
// browsers drop the scheme's default port, an empty port and leading zeros,
// so the edge would rebuild a different resource (§4.1).
func checkPort(scheme, host string) error {
	hostname := host
	if strings.HasPrefix(host, "[") {
		i := strings.IndexByte(host, ']')
		if i < 0 {
			return fmt.Errorf("cfsign: URL host %q has an unclosed '['", host)
		}
		hostname = host[:i+1]
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		hostname = host[:i]
	}
	if len(hostname) == len(host) {
		return nil
	}
	if hostname == "" || hostname == "[]" {
		return errors.New("cfsign: URL has no host")
	}
	port := host[len(hostname):]
	if port[0] != ':' {
		return fmt.Errorf("cfsign: URL host %q is malformed", host)
	}
	port = port[1:]
	n, err := strconv.Atoi(port)
	switch {
	case port == "":
		return fmt.Errorf("cfsign: URL host %q has an empty port; browsers drop it, so the link would never verify", host)
	case err != nil || strings.ContainsAny(port, "+-") || n < 1 || n > 65535:
		return fmt.Errorf("cfsign: URL port %q is not a number in 1..65535", port)
	case port[0] == '0':
		return fmt.Errorf("cfsign: URL port %q has a leading zero; browsers drop it, so the link would never verify", port)
	case scheme == "https" && n == 443, scheme == "http" && n == 80:
		return fmt.Errorf("cfsign: URL host %q has the default port; browsers drop it, so the link would never verify", host)
	}
	return nil
}

// CheckPath applies the path-safety rule (§12, signet) to a raw request path:
// no "." or ".." segment (raw or %2E-encoded), no %2F or %5C, no backslash,
// no NUL (raw or %00) and no empty segment ("//"). The edge answers 400 to
// such paths before verification, since "/public/*" would otherwise
// authorise "/public/../private/x"; the signer refuses them because such a
// link could never work.
func CheckPath(path string) error {
	if path == "" || path[0] != '/' {
		return errors.New("cfsign: path must start with '/'")
	}
	for seg := range strings.SplitSeq(path[1:], "/") {
		switch strings.ToLower(seg) {
		case ".", "..", "%2e", "%2e%2e", ".%2e", "%2e.":
			return fmt.Errorf("cfsign: path has a dot segment %q", seg)
		}
	}
	lower := strings.ToLower(path)
	switch {
	case strings.Contains(path, "//"):
		return errors.New("cfsign: path has an empty segment (//)")
	case strings.Contains(lower, "%2f"):
		return errors.New("cfsign: path has an encoded slash (%2F)")
	case strings.Contains(lower, "%5c") || strings.Contains(path, "\\"):
		return errors.New("cfsign: path has a backslash")
	case strings.Contains(lower, "%00") || strings.IndexByte(path, 0) >= 0:
		return errors.New("cfsign: path has a NUL byte")
	}
	return nil
}

// CheckCovers reports whether a policy Resource matches the URL a link is
// made for, naming the first section that does not, so that the signer never
// hands out a link that cannot work.
func CheckCovers(resource, rawURL string) error {
	pat, err := ParsePattern(resource)
	if err != nil {
		return err
	}
	scheme, host, target, _ := SplitURL(rawURL)
	if target == "" {
		target = "/"
	}
	path, query := SplitTarget(target)
	got := [4]string{scheme, lowerASCII(host), path, query}
	sections := [4]string{}
	sections[0], sections[1], sections[2], sections[3] = pat.Sections()
	for i, ok := range pat.MatchSections(got[0], got[1], got[2], got[3]) {
		if !ok {
			return fmt.Errorf("cfsign: the resource %q does not cover the URL: its %s %q does not match %q",
				resource, sectionNames[i], sections[i], got[i])
		}
	}
	return nil
}

// sectionNames name the four sections of a resource pattern (§6).
var sectionNames = [4]string{"protocol", "domain", "path", "query"}

// Cookie is one signed cookie, name and value.
type Cookie struct {
	Name, Value string
}

// CookieOptions are the attributes of the Set-Cookie lines (§8). Secure and
// HttpOnly are always written; Domain is omitted unless set (host-only).
type CookieOptions struct {
	Domain   string // "" = host-only (recommended)
	Path     string // "" = "/"
	SameSite string // "" = Lax; "Strict", "Lax" or "None"
	MaxAge   int    // seconds; 0 = session cookie
}

// SignCannedCookies returns the canned-policy cookies for resource, which
// authorise exactly that one URL, query included (§8).
func (s *Signer) SignCannedCookies(resource string, expires time.Time) ([]Cookie, error) {
	exp := expires.Unix()
	if err := CheckURL(resource); err != nil {
		return nil, err
	}
	if err := checkEpoch(exp); err != nil {
		return nil, fmt.Errorf("cfsign: expiry: %w", err)
	}
	e := strconv.FormatInt(exp, 10)
	sig, err := s.SignPolicy(AppendCanned(nil, resource, e))
	if err != nil {
		return nil, err
	}
	return s.cookies(Cookie{"CloudFront-Expires", e}, sig), nil
}

// SignCookiesWithPolicy signs the policy bytes as they are and returns the
// custom-policy cookies.
func (s *Signer) SignCookiesWithPolicy(policy []byte) ([]Cookie, error) {
	if _, err := ParsePolicy(policy); err != nil {
		return nil, err
	}
	return s.policyCookies(policy)
}

// policyCookies signs policy, already checked, and returns the
// custom-policy cookies.
func (s *Signer) policyCookies(policy []byte) ([]Cookie, error) {
	sig, err := s.SignPolicy(policy)
	if err != nil {
		return nil, err
	}
	return s.cookies(Cookie{"CloudFront-Policy", Encode(policy)}, sig), nil
}

func (s *Signer) cookies(first Cookie, sig string) []Cookie {
	c := []Cookie{first, {"CloudFront-Signature", sig}, {"CloudFront-Key-Pair-Id", s.keyID}}
	if s.hash == SHA256 {
		c = append(c, Cookie{"CloudFront-Hash-Algorithm", "SHA256"})
	}
	return c
}

// SetCookie formats c as a Set-Cookie header value with Secure, HttpOnly and
// the options' attributes. It refuses lines over MaxCookieLength and
// attribute values that would break the header.
func (c Cookie) SetCookie(o CookieOptions) (string, error) {
	path := o.Path
	if path == "" {
		path = "/"
	}
	sameSite := o.SameSite
	switch strings.ToLower(sameSite) {
	case "", "lax":
		sameSite = "Lax"
	case "strict":
		sameSite = "Strict"
	case "none":
		sameSite = "None"
	default:
		return "", fmt.Errorf("cfsign: SameSite %q is not Strict, Lax or None", o.SameSite)
	}
	for _, v := range []string{o.Domain, path} {
		if strings.ContainsAny(v, ";, \t\r\n\"") {
			return "", fmt.Errorf("cfsign: cookie attribute %q has a separator or space", v)
		}
	}
	if path[0] != '/' {
		return "", fmt.Errorf("cfsign: cookie path %q must start with '/'", path)
	}
	var b strings.Builder
	b.WriteString(c.Name + "=" + c.Value)
	if o.Domain != "" {
		b.WriteString("; Domain=" + o.Domain)
	}
	b.WriteString("; Path=" + path)
	if o.MaxAge > 0 {
		b.WriteString("; Max-Age=" + strconv.Itoa(o.MaxAge))
	}
	b.WriteString("; Secure; HttpOnly; SameSite=" + sameSite)
	if b.Len() > MaxCookieLength {
		return "", fmt.Errorf("cfsign: Set-Cookie for %s is %d bytes; the limit is %d", c.Name, b.Len(), MaxCookieLength)
	}
	return b.String(), nil
}

var (
	_ crypto.Signer = (*rsa.PrivateKey)(nil)
	_ crypto.Signer = (*ecdsa.PrivateKey)(nil)
)
