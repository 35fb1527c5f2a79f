package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

var signPage = &page{
	summary: "sign a URL, or make signed cookies, with a private key",
	usage:   []string{"sign --key FILE --key-id ID (--expires-in DURATION | --expires-at TIME) [flags] URL"},
	about: `Signs URL and prints the signed URL on stdout, or with --cookies one
"Set-Cookie: ..." line per cookie. Warnings go to stderr. The URL must be
exactly what clients will request (percent-encoded, lower-case host, no
default port): the signature covers its bytes.

A canned policy (expiry only, exactly this URL) is used unless --not-before,
--ip, --resource or --policy-file asks for a custom policy.`,
	operand: "URL",
	examples: []string{
		"sign --key keys/private_key.pem --key-id K2JCJMDEHXQW5F --expires-in 1h \\\n    https://media.example.com/videos/intro.mp4",
		"sign --key keys/private_key.pem --key-id K2JCJMDEHXQW5F --expires-in 12h \\\n    --resource 'https://media.example.com/videos/x/*' --cookies \\\n    https://media.example.com/videos/x/index.m3u8",
	},
}

// SignCommand is "signet sign": it signs a URL, or makes signed cookies.
type SignCommand struct {
	Env
}

// signOutput is the --json form of sign's result.
type signOutput struct {
	URL       string                `json:"url,omitempty"`
	ExpiresAt jsonTime              `json:"expires_at,omitzero"`
	KeyID     string                `json:"key_id,omitempty"`
	Hash      string                `json:"hash,omitempty"`
	Policy    string                `json:"policy,omitempty"`
	Cookies   []cfsign.SignedCookie `json:"cookies,omitempty"`
}

// signFlags are sign's parsed flags and URL.
type signFlags struct {
	url, keyFile, keyID            string
	expiresIn                      time.Duration
	expiresAt, notBefore           time.Time
	ip, resource, policyFile, hash string
	cookies, json                  bool
	cookieDomain, cookiePath       string
	set                            map[string]bool // names of the flags given
}

// custom reports whether the flags ask for a custom policy.
func (f *signFlags) custom() bool {
	return f.set["not-before"] || f.set["ip"] || f.set["resource"] || f.set["policy-file"]
}

func parseSignFlags(args []string, env *Env) (*signFlags, error) {
	f := &signFlags{set: map[string]bool{}}
	fs := newFlagSet("sign")
	fs.StringVar(&f.keyFile, "key", "", "private key PEM `FILE` (PKCS#8, PKCS#1 or SEC1; not encrypted)")
	fs.StringVar(&f.keyID, "key-id", "", "key pair `ID` the edge trusts (K...; from keygen or CloudFront)")
	fs.Func("expires-in", "lifetime `DURATION`: 90s, 15m, 12h, 30d, 1y or a Go duration (1h30m); d is 24h, y is 365d", func(s string) error {
		d, err := parseDuration(s)
		if err == nil && d <= 0 {
			err = fmt.Errorf("%q is not a positive duration", s)
		}
		f.expiresIn = d
		return err
	})
	fs.Func("expires-at", "expiry `TIME`: RFC 3339 (2026-01-01T18:00:00Z) or Unix seconds; at most "+cfsign.MaxExpiry, timeFlag(&f.expiresAt))
	fs.Func("not-before", "custom policy: not valid until `TIME`", timeFlag(&f.notBefore))
	fs.StringVar(&f.ip, "ip", "", "custom policy: only clients in this IPv4 range `CIDR` (a bare address gets /32; CloudFront does not support IPv6)")
	fs.StringVar(&f.resource, "resource", "", "custom policy: the URLs it covers, a `PATTERN` with * and ? wildcards (default: the URL); it must match URL")
	fs.StringVar(&f.policyFile, "policy-file", "", "sign the policy JSON in `FILE` byte for byte (a trailing newline included); the file holds the expiry, so no --expires-*, --not-before, --ip or --resource")
	fs.StringVar(&f.hash, "hash", "", "digest `sha1|sha256`: default sha256 for ECDSA keys (sha1 is refused with them), sha1 for RSA keys (widest compatibility)")
	fs.BoolVar(&f.cookies, "cookies", false, "print signed cookies (Set-Cookie lines) instead of a URL")
	fs.StringVar(&f.cookieDomain, "cookie-domain", "", "cookie Domain attribute `DOMAIN` (default: none, host-only)")
	fs.StringVar(&f.cookiePath, "cookie-path", "", "cookie Path `PATH` (default: the resource's path up to its last '/' before any wildcard: https://h/videos/x/* gives /videos/x/)")
	fs.BoolVar(&f.json, "json", false, `print {"url", "expires_at", "key_id", "hash", "policy", "cookies": [{"name", "value", "set_cookie"}]}`)
	pos, err := parseArgs(fs, signPage, env, args)
	if err != nil {
		return nil, err
	}
	if f.url, err = oneURL(fs, pos); err != nil {
		return nil, err
	}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if err := checkSignFlags(f.set); err != nil {
		return nil, err
	}
	return f, nil
}

// Run signs.
func (c *SignCommand) Run(ctx context.Context, args []string) error {
	f, err := parseSignFlags(args, &c.Env)
	if err != nil {
		return err
	}
	if err := cfsign.CheckURL(f.url); err != nil {
		return err
	}
	signer, err := f.signer()
	if err != nil {
		return err
	}
	policy, p, err := f.policy(c.now())
	if err != nil {
		return err
	}
	// Warnings are printed once the signing has worked.
	warnings, err := f.check(p)
	if err != nil {
		return err
	}
	if w := cfsign.KeyWarning(signer.Public()); w != "" {
		warnings = append([]string{w}, warnings...)
	}
	req := cfsign.LinkRequest{
		URL:     f.url,
		Expires: p.ExpiresTime(),
		Cookies: f.cookies,
		Cookie:  cfsign.CookieOptions{Domain: f.cookieDomain, Path: f.cookiePath},
	}
	if f.custom() {
		req.Policy = policy
	}
	link, err := signer.SignLink(req)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		c.warnf("%s", w)
	}
	if f.json {
		return writeJSON(c.Stdout, signOutput{
			URL:       link.URL,
			ExpiresAt: jsonTime(p.ExpiresTime()),
			KeyID:     signer.KeyID(),
			Hash:      signer.Hash().String(),
			Policy:    string(policy),
			Cookies:   link.Cookies,
		})
	}
	if link.URL != "" {
		fmt.Fprintln(c.Stdout, link.URL)
	}
	for _, ck := range link.Cookies {
		fmt.Fprintln(c.Stdout, "Set-Cookie: "+ck.SetCookie)
	}
	return nil
}

// check refuses a custom policy whose resource does not cover the URL, and
// returns the warnings the policy calls for.
func (f *signFlags) check(p *cfsign.Policy) (warnings []string, err error) {
	pat, err := cfsign.ParsePattern(p.Resource)
	if err != nil {
		return nil, err
	}
	switch {
	case f.custom():
		if err := cfsign.CheckCovers(p.Resource, f.url); err != nil {
			return nil, err
		}
		if pat.DomainWildcard() {
			warnings = append(warnings, fmt.Sprintf("the resource %q has a wildcard in its domain, which also matches other people's hosts; name the host exactly", p.Resource))
		}
		return warnings, nil
	case strings.Contains(f.url, "*"):
		warnings = append(warnings, "the URL has '*', but a canned policy can't hold wildcards: it is signed as a literal '*'; to cover many URLs, use --resource '"+f.url+"'")
	}
	if f.cookies {
		warnings = append(warnings, "canned cookies authorise exactly this one URL, query included; for a directory or a video stream use --resource 'https://host/dir/*'")
	}
	return warnings, nil
}

// signer reads the key and picks the hash: the key's default
// (cfsign.NewKey: sha256 for ECDSA keys, which cfsign refuses to sign with
// SHA-1, sha1 for RSA keys), unless --hash says otherwise.
func (f *signFlags) signer() (*cfsign.Signer, error) {
	priv, err := readKey(f.keyFile, "key", cfsign.ParsePrivateKey)
	if err != nil {
		return nil, err
	}
	if err := cfsign.CheckKeyID(f.keyID); err != nil {
		return nil, fmt.Errorf("--key-id: %w", err) // never the value: it may be a pasted key
	}
	key := cfsign.NewKey(f.keyID, priv)
	if f.hash != "" {
		if key.Hash, err = cfsign.ParseHash(f.hash); err != nil {
			return nil, fmt.Errorf("--hash: %w", err)
		}
	}
	s, err := cfsign.NewSigner(key.ID, key.Signer, key.Hash)
	if err != nil && f.hash != "" {
		return nil, fmt.Errorf("--hash %s: %w", f.hash, err)
	}
	return s, err
}

// policy returns the policy bytes to sign and their parsed form: the file's
// bytes as they are, or a policy built from the flags. (An expiry-only
// policy marshals to exactly the canned template.)
func (f *signFlags) policy(now time.Time) ([]byte, *cfsign.Policy, error) {
	var (
		policy []byte
		p      *cfsign.Policy
		err    error
	)
	if f.policyFile != "" {
		if policy, err = os.ReadFile(f.policyFile); err != nil {
			return nil, nil, fmt.Errorf("read policy: %w", err)
		}
		if p, err = cfsign.ParsePolicy(policy); err != nil {
			return nil, nil, fmt.Errorf("policy file %s: %w", f.policyFile, err)
		}
		if !p.HasResource {
			// (signet, §17 #10) the signer never emits a policy without Resource.
			return nil, nil, fmt.Errorf("policy file %s has no Resource, which would authorise any URL; add one", f.policyFile)
		}
	} else {
		exp := f.expiresAt
		if f.expiresIn > 0 {
			exp = now.Add(f.expiresIn)
		}
		p = &cfsign.Policy{Resource: f.url, HasResource: true, Expires: exp.Unix()}
		if f.resource != "" {
			p.Resource = f.resource
		}
		if f.set["not-before"] {
			if p.NotBefore = f.notBefore.Unix(); p.NotBefore < 1 {
				return nil, nil, fmt.Errorf("--not-before %s is not after 1970", f.notBefore.Format(time.RFC3339))
			}
		}
		if f.ip != "" {
			if p.SourceIP, err = parseSourceIP(f.ip); err != nil {
				return nil, nil, err
			}
		}
	}
	tooLate := cfsign.CheckExpiry(p.Expires)
	switch {
	case p.Expires <= now.Unix():
		return nil, nil, fmt.Errorf("expiry %s is in the past (now %s)",
			p.ExpiresTime().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case tooLate != nil:
		return nil, nil, tooLate
	case p.NotBefore != 0 && p.NotBefore >= p.Expires:
		return nil, nil, fmt.Errorf("--not-before %s is not before the expiry %s",
			p.NotBeforeTime().Format(time.RFC3339), p.ExpiresTime().Format(time.RFC3339))
	}
	if policy == nil {
		if policy, err = p.Marshal(); err != nil {
			return nil, nil, err
		}
	}
	return policy, p, nil
}

// checkSignFlags refuses missing and conflicting flags, given the names of
// those set.
func checkSignFlags(set map[string]bool) error {
	var errs []error
	for _, name := range []string{"key", "key-id"} {
		if !set[name] {
			errs = append(errs, fmt.Errorf("--%s is required", name))
		}
	}
	if set["policy-file"] {
		for _, name := range []string{"expires-in", "expires-at", "not-before", "ip", "resource"} {
			if set[name] {
				errs = append(errs, fmt.Errorf("--%s conflicts with --policy-file, which holds the whole policy", name))
			}
		}
	} else {
		switch {
		case set["expires-in"] && set["expires-at"]:
			errs = append(errs, errors.New("give --expires-in or --expires-at, not both"))
		case !set["expires-in"] && !set["expires-at"]:
			errs = append(errs, errors.New("--expires-in or --expires-at is required"))
		}
	}
	if !set["cookies"] {
		for _, name := range []string{"cookie-domain", "cookie-path"} {
			if set[name] {
				errs = append(errs, fmt.Errorf("--%s needs --cookies", name))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w (see 'signet sign -h')", joinErrors(errs))
	}
	return nil
}

// joinErrors is errors.Join on one line.
func joinErrors(errs []error) error {
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return errors.New(strings.Join(msgs, "; "))
}

func timeFlag(dst *time.Time) func(string) error {
	return func(s string) error {
		t, err := parseTime(s)
		*dst = t
		return err
	}
}

// readKey reads the PEM key file at path with parse (cfsign.ParsePrivateKey
// or cfsign.ParsePublicKey); what names the key in errors ("key", "public
// key"). The file's contents never appear in an error.
func readKey[K any](path, what string, parse func([]byte) (K, error)) (K, error) {
	var none K
	data, err := os.ReadFile(path)
	if err != nil {
		return none, fmt.Errorf("read %s: %w", what, err)
	}
	key, err := parse(data)
	if err != nil {
		return none, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return key, nil
}

// parseSourceIP reads --ip: an IPv4 CIDR range, or a bare address, which
// gets /32 as botocore, the JS SDK and the AWS CLI do (§5).
func parseSourceIP(s string) (netip.Prefix, error) {
	var pfx netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if pfx, err = netip.ParsePrefix(s); err != nil {
			return pfx, fmt.Errorf("--ip %q is not a CIDR range such as 203.0.113.0/24", s)
		}
	} else {
		addr, err := netip.ParseAddr(s)
		if err != nil {
			return pfx, fmt.Errorf("--ip %q is not an IP address or CIDR range", s)
		}
		pfx = netip.PrefixFrom(addr, addr.BitLen())
	}
	if !pfx.Addr().Is4() {
		return pfx, fmt.Errorf("--ip %q is IPv6; CloudFront policies take IPv4 ranges only", s)
	}
	return pfx, nil
}
