package config

import (
	"crypto"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/cache"
	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/origin"
	httporigin "github.com/signet-dev/signet/internal/origin/http"
)

// CloudFront's quotas, mirrored so that a signet config can be rebuilt on
// CloudFront (cloudfront-signing.md §9). The path pattern's is the edge's
// (edge.MaxPatternLength).
const (
	maxKeysPerGroup      = 5
	maxGroupsPerBehavior = 4
)

// Other bounds. Those of the components are theirs: the edge's for
// behaviors and hosts, the edge cache's for chunks, cfsign's for keys and
// link lifetimes.
const (
	maxClockSkew   = 5 * time.Minute
	minHeaderBytes = 1 << 10
	maxHeaderBytes = 1 << 20
)

// Validate checks the whole config and returns every problem it finds,
// each a *Problem with its field path (and line, for a parsed config),
// joined with errors.Join in the order of their lines; nil when the config
// is usable. It checks shape
// only: it reads no files (see CheckFiles), though it does parse inline
// public keys.
func (c *Config) Validate() error {
	return joinByLine(c.validate())
}

// validate returns Validate's problems, all *Problem.
func (c *Config) validate() []error {
	v := checker{c: c}
	if c.DataDir == "" {
		v.add("data_dir", "must not be empty")
	}
	v.listeners()
	v.durations()
	if n := c.Limits.MaxHeaderBytes; n < minHeaderBytes || n > maxHeaderBytes {
		v.add("limits.max_header_bytes", "%d is outside %d (1 KiB) to %d (1 MiB); CloudFront's limit is 20480", n, minHeaderBytes, maxHeaderBytes)
	}
	if n := c.Limits.VerifiedLinks; n < 0 || n > maxVerifiedLinks {
		v.add("limits.verified_links", "%d is outside 0 (off) to %d", n, maxVerifiedLinks)
	}
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "json", "text")
	v.keyGroups()
	v.distributions()
	v.signingAPI()
	return v.errs
}

// checker collects Validate's problems.
type checker struct {
	c    *Config
	errs []error // all *Problem
}

// joinByLine joins problems (all *Problem) in the order of their lines,
// those without a line first; nil when there are none.
func joinByLine(errs []error) error {
	slices.SortStableFunc(errs, func(a, b error) int { return a.(*Problem).Line - b.(*Problem).Line })
	return errors.Join(errs...)
}

// join returns the problems joined in the order of their lines.
func (v *checker) join() error { return joinByLine(v.errs) }

// add records a problem at path, unless the value at path, or at a parent
// of it, did not decode: the decoder has said what is wrong there.
func (v *checker) add(path, format string, args ...any) {
	if !v.decoded(path) {
		return
	}
	v.errs = append(v.errs, &Problem{Line: v.c.lineOf(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// decoded reports whether each of paths, and each of their parents, holds
// what the file says: false when one did not decode. A check that compares
// several fields passes them all, so that a value left at its default by a
// decode problem is not blamed on another field.
func (v *checker) decoded(paths ...string) bool {
	for _, p := range paths {
		for ; p != ""; p = parentPath(p) {
			if v.c.failed[p] {
				return false
			}
		}
	}
	return true
}

// parentPath is the field path p is in: "a.b" for "a.b.c" and "a.b[2]",
// "" at the top.
func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i > 0 {
		return p[:i]
	}
	return ""
}

// oneOf checks that s is one of values.
func (v *checker) oneOf(path, s string, values ...string) bool {
	if slices.Contains(values, s) {
		return true
	}
	v.notOneOf(path, s, values...)
	return false
}

// notOneOf reports s, which is none of values, naming the closest value
// when one is near enough to be what was meant.
func (v *checker) notOneOf(path, s string, values ...string) {
	v.add(path, "%s is not one of %s%s", strconv.Quote(s), strings.Join(values, ", "), didYouMean(s, values))
}

// didYouMean is the hint for s, which is none of values: the closest
// value when one is near enough to be what was meant, else "".
func didYouMean(s string, values []string) string {
	if best := Closest(s, values); best != "" {
		return "; did you mean " + strconv.Quote(best) + "?"
	}
	return ""
}

// check reports err, the error of a component's own check (the edge's),
// at path, and whether there was none. A value that is none of those the
// component takes (an *edge.NotOneOfError) gets notOneOf's hint.
func (v *checker) check(path string, err error) bool {
	var e *edge.NotOneOfError
	switch {
	case err == nil:
		return true
	case errors.As(err, &e):
		v.add(path, "%v%s", err, didYouMean(e.Value, e.Values))
	default:
		v.add(path, "%v", err)
	}
	return false
}

// lineOf is the line path was set on, or the line of its nearest parent
// that was; 0 for a config built in code.
func (c *Config) lineOf(path string) int {
	for ; path != ""; path = parentPath(path) {
		if line, ok := c.lines[path]; ok {
			return line
		}
	}
	return 0
}

// plain is an error's text without the package prefix cfsign or keysource
// puts on it.
func plain(err error) string {
	s := err.Error()
	for _, pkg := range []string{"cfsign: ", "keysource: "} {
		s = strings.TrimPrefix(s, pkg)
	}
	return s
}

// TrustedKeyGroups lists the key groups d's behaviors trust, each once, in
// the order they are first named: a link for d verifies only with a key of
// one of them.
func (d *Distribution) TrustedKeyGroups() []string {
	var out []string
	for _, b := range d.Behaviors {
		for _, g := range b.KeyGroups {
			if !slices.Contains(out, g) {
				out = append(out, g)
			}
		}
	}
	return out
}

// SignerProblem is the problem, with its line, that err makes of the key
// of distributions[i].signer when it is found after loading: server.New
// reads the key (a file, a variable, a secret or KMS) and checks it with
// cfsign.CheckSigner against the keys its edge trusts. The problem is at
// the field the key comes from, or at key_id for an id that no key group
// of the distribution trusts.
func (c *Config) SignerProblem(i int, err error) *Problem {
	path, msg := c.signerProblem(i, err)
	return &Problem{Line: c.lineOf(path), Path: path, Msg: msg}
}

// signerProblem places an error about the key of distributions[i].signer
// and says it for a config problem.
func (c *Config) signerProblem(i int, err error) (path, msg string) {
	d := &c.Distributions[i]
	s, sp := d.Signer, fmt.Sprintf("distributions[%d].signer", i)
	var field, key string // where the key comes from, and what to call it
	switch s.Source {
	case "file":
		field, key = "private_key_file", s.PrivateKeyFile
	case "env":
		field, key = "env", "the key in "+s.Env
	case "secrets_manager":
		field, key = "secret_id", "the secret's key"
	default:
		field, key = "kms_key_id", "the KMS key"
	}
	path = sp + "." + field
	var se *cfsign.SignerError
	switch {
	case !errors.As(err, &se):
		return path, plain(err)
	case errors.Is(se, cfsign.ErrSignerMismatch):
		return path, fmt.Sprintf("%s is not the private half of the public key trusted as %s", key, strconv.Quote(se.KeyID))
	}
	id := strconv.Quote(se.KeyID)
	if se.KeyID == s.KeyID {
		path = sp + ".key_id"
	} else {
		id = "the secret's key pair id " + id
	}
	groups := "none: every behavior is public"
	if g := d.TrustedKeyGroups(); len(g) > 0 {
		groups = strings.Join(g, ", ")
	}
	return path, fmt.Sprintf("%s is in no key group this distribution's behaviors use (%s): its edge would refuse every link signed with it", id, groups)
}

func (v *checker) listeners() {
	c := v.c
	if len(c.Listeners) == 0 {
		v.add("listeners", "at least one listener is required")
	}
	addrs := make([]string, len(c.Listeners)) // valid addresses; "" if not
	for i, l := range c.Listeners {
		p := fmt.Sprintf("listeners[%d]", i)
		if err := checkListenAddress(l.Address); err != nil {
			v.add(p+".address", "%v", err)
		} else {
			addrs[i] = l.Address
			for j := range i {
				if overlap(addrs[j], l.Address) {
					v.add(p+".address", "%s overlaps listeners[%d] (%s)", strconv.Quote(l.Address), j, strconv.Quote(addrs[j]))
				}
			}
		}
		switch l.Adapter {
		case "nethttp":
		case "fasthttp":
			// fasthttp is the plain HTTP/1.1 data plane: the edge only.
			if l.TLS != nil || l.ACME != nil {
				v.add(p+".adapter", "fasthttp serves plain HTTP/1.1 only (no TLS, HTTP/2 or ACME): use nethttp on a tls or acme listener")
			}
			if l.RedirectToHTTPS {
				v.add(p+".adapter", "a redirect_to_https listener serves no edge: use nethttp")
			}
			if a := c.SigningAPI; a != nil && a.Address == "" {
				v.add(p+".adapter", "fasthttp does not serve the signing API mounted at path_prefix: give signing_api its own address, or use nethttp")
			}
		default:
			v.notOneOf(p+".adapter", l.Adapter, "nethttp", "fasthttp")
		}
		if l.TLS != nil && l.ACME != nil {
			v.add(p, "tls and acme are exclusive: choose one")
		}
		if t := l.TLS; t != nil {
			if t.CertFile == "" {
				v.add(p+".tls.cert_file", "required: the PEM certificate (chain) file")
			}
			if t.KeyFile == "" {
				v.add(p+".tls.key_file", "required: the PEM private key file")
			}
		}
		if a := l.ACME; a != nil {
			v.acme(p+".acme", a)
		}
		if l.RedirectToHTTPS && (l.TLS != nil || l.ACME != nil) {
			v.add(p+".redirect_to_https", "a redirecting listener must be plain HTTP: remove tls/acme from it, or redirect_to_https")
		}
	}
	if a := c.Admin.Address; a != "" {
		if err := checkListenAddress(a); err != nil {
			v.add("admin.address", "%v", err)
			return
		}
		for i, l := range addrs {
			if overlap(a, l) {
				v.add("admin.address", "%s overlaps listeners[%d] (%s): the admin listener needs its own address", strconv.Quote(a), i, strconv.Quote(l))
			}
		}
	}
}

func (v *checker) acme(p string, a *ACME) {
	if len(a.Hosts) == 0 {
		v.add(p+".hosts", "at least one host name is required")
	}
	for i, h := range a.Hosts {
		hp := fmt.Sprintf("%s.hosts[%d]", p, i)
		if err := edge.CheckHostName(h); err != nil {
			v.add(hp, "%v (ACME certificates are for DNS names: no port, IP address or wildcard)", err)
		} else if j := slices.Index(a.Hosts[:i], h); j >= 0 {
			v.add(hp, "%s repeats hosts[%d]", strconv.Quote(h), j)
		}
	}
	if e := a.Email; e != "" && (!strings.Contains(e, "@") || strings.ContainsAny(e, " \t<>")) {
		v.add(p+".email", "%s is not an email address", strconv.Quote(e))
	}
	if a.DirectoryURL != "" {
		if err := checkHTTPURL(a.DirectoryURL); err != nil {
			v.add(p+".directory_url", "%v", err)
		}
	} else if a.CARootsFile != "" {
		v.add(p+".ca_roots_file", "is for a private ACME CA: set directory_url to its directory too (Let's Encrypt, the default, needs no roots of its own)")
	}
}

// checkListenAddress checks host:port, where host is empty (every
// interface), an IP address or a host name, and port is 0 to 65535 (0
// picks a free port).
func checkListenAddress(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%s is not host:port, such as 127.0.0.1:8080 or :443", strconv.Quote(s))
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || strconv.FormatUint(n, 10) != port {
		return fmt.Errorf("%s: the port must be a number from 0 to 65535", strconv.Quote(s))
	}
	if host == "" {
		return nil
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if err := edge.CheckHostName(host); err != nil {
		return fmt.Errorf("%s: %w", strconv.Quote(s), err)
	}
	return nil
}

// overlap reports whether two valid listen addresses would collide: the
// same non-zero port on the same host, or on every interface.
func overlap(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	if pa != pb || pa == "0" {
		return false
	}
	return ha == hb || anyHost(ha) || anyHost(hb)
}

func anyHost(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }

// checkHTTPURL checks an absolute http or https URL with a host and no
// user info, query or fragment.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil, u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.Opaque != "":
		return fmt.Errorf("%s is not an absolute http:// or https:// URL", strconv.Quote(s))
	case u.User != nil:
		return errors.New("the URL must not hold a user name or password")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("%s: the URL must not have a query or fragment", strconv.Quote(s))
	}
	return nil
}

func (v *checker) durations() {
	c := v.c
	if d := time.Duration(c.ClockSkew); d < 0 || d > maxClockSkew {
		v.add("clock_skew", "%s is outside 0s to 5m; run NTP instead of allowing more", c.ClockSkew)
	}
	t := c.Timeouts
	for _, f := range []struct {
		key      string
		d        Duration
		positive bool
		why      string
	}{
		{"read_header", t.ReadHeader, true, "0 would let slow clients hold connections open"},
		{"read", t.Read, false, ""},
		{"write", t.Write, false, ""},
		{"idle", t.Idle, true, "0 would keep idle connections open forever"},
		{"origin", t.Origin, true, "0 would let a stuck origin hold requests forever"},
		{"shutdown", t.Shutdown, false, ""},
	} {
		switch {
		case f.d < 0:
			v.add("timeouts."+f.key, "%s is negative", f.d)
		case f.d == 0 && f.positive:
			v.add("timeouts."+f.key, "must be positive: %s", f.why)
		}
	}
}

func (v *checker) keyGroups() {
	c := v.c
	type seenKey struct {
		path string
		key  PublicKey
	}
	seen := map[string]seenKey{} // key id -> first definition
	for _, name := range c.groupNames() {
		p := mapPath("key_groups", name)
		if !validName(name, 128) {
			v.add(p, "a key group name is 1 to 128 letters, digits, '-' and '_'")
		}
		keys := c.KeyGroups[name]
		switch n := len(keys); {
		case n == 0:
			v.add(p, "a key group needs at least one public key")
		case n > maxKeysPerGroup:
			v.add(p, "at most %d public keys per key group (CloudFront's limit), got %d", maxKeysPerGroup, n)
		}
		for i, k := range keys {
			kp := fmt.Sprintf("%s[%d]", p, i)
			if err := cfsign.CheckKeyID(k.ID); err != nil {
				v.add(kp+".id", "%s", plain(err))
			} else if first, ok := seen[k.ID]; ok {
				switch {
				case strings.HasPrefix(first.path, p+"["):
					v.add(kp+".id", "%s repeats %s", strconv.Quote(k.ID), first.path)
				case first.key.File != k.File || first.key.PEM != k.PEM:
					v.add(kp+".id", "%s is also %s, with another key: one id names one key", strconv.Quote(k.ID), first.path)
				}
			} else {
				seen[k.ID] = seenKey{kp, k}
			}
			switch {
			case k.File != "" && k.PEM != "":
				v.add(kp, "set public_key_file or public_key, not both")
			case k.File == "" && k.PEM == "" && v.decoded(kp+".public_key_file", kp+".public_key"):
				v.add(kp, "set public_key_file (a PEM file) or public_key (the PEM text)")
			case k.PEM != "":
				if _, msg := parsePublicKey([]byte(k.PEM)); msg != "" {
					v.add(kp+".public_key", "%s", msg)
				}
			}
		}
	}
}

// groupNames lists the key group names in the order of the file (then by
// name), so that problems come in the order of their lines.
func (c *Config) groupNames() []string {
	names := slices.Sorted(maps.Keys(c.KeyGroups))
	slices.SortStableFunc(names, func(a, b string) int {
		return c.lineOf(mapPath("key_groups", a)) - c.lineOf(mapPath("key_groups", b))
	})
	return names
}

// parsePublicKey reads a PEM public key and checks that CloudFront would
// take it (§17 #18). On failure it says why, in words for a config problem.
func parsePublicKey(data []byte) (crypto.PublicKey, string) {
	pub, err := cfsign.ParsePublicKey(data)
	if err == nil {
		err = cfsign.CheckPublicKey(pub)
	}
	if err != nil {
		msg := plain(err)
		if strings.HasPrefix(msg, "parse ") { // the text of an ASN.1 decoder, no help here
			msg = "the PEM block does not hold a valid public key"
		}
		return nil, msg
	}
	return pub, ""
}

// validName reports whether s is 1 to max letters, digits, '-' and '_'.
func validName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range []byte(s) {
		if !isNameByte(c) {
			return false
		}
	}
	return true
}

func (v *checker) distributions() {
	c := v.c
	if len(c.Distributions) == 0 {
		v.add("distributions", "at least one distribution is required")
	}
	names := make([]string, len(c.Distributions))
	hosts := make([][]string, len(c.Distributions))
	for i, d := range c.Distributions {
		names[i], hosts[i] = d.Name, d.Hosts
	}
	diskDirs := map[string]string{} // cache disk dir -> path of its user
	for i, d := range c.Distributions {
		p := fmt.Sprintf("distributions[%d]", i)
		v.check(p+".name", edge.CheckName(names, i))
		v.check(p+".hosts", edge.CheckDefault(hosts, i))
		for j, h := range d.Hosts {
			err := edge.CheckHost(h)
			if err == nil {
				err = edge.CheckHostOnce(hosts, i, j)
			}
			v.check(fmt.Sprintf("%s.hosts[%d]", p, j), err)
		}
		v.origin(p+".origin", d.Origin)
		v.cache(p+".cache", &d, diskDirs)
		if len(d.Behaviors) == 0 {
			v.add(p+".behaviors", "at least one behavior is required")
		}
		for k := range d.Behaviors {
			v.behavior(p, d, k)
		}
		if d.Signer != nil {
			v.signer(i, p, d)
		} else if d.BaseURL != "" && v.decoded(p+".signer") {
			v.add(p+".base_url", "is used only with signer")
		}
	}
}

func (v *checker) signer(i int, p string, d Distribution) {
	s, sp := d.Signer, p+".signer"
	if err := checkBaseURL(d.BaseURL); err != nil {
		v.add(p+".base_url", "%v", err)
	}
	required := func(field, value, what string) {
		if value == "" {
			v.add(sp+"."+field, "required with source: %s (%s)", s.Source, what)
		}
	}
	switch s.Source {
	case "file":
		required("private_key_file", s.PrivateKeyFile, "a PEM private key file")
	case "env":
		required("env", s.Env, "the variable holding the PEM private key")
	case "secrets_manager":
		required("secret_id", s.SecretID, "the secret's name or ARN")
	case "kms":
		required("kms_key_id", s.KMSKeyID, "the KMS key id, ARN or alias")
	default:
		v.notOneOf(sp+".source", s.Source, "file", "env", "secrets_manager", "kms")
	}
	if s.KeyID != "" || s.Source != "secrets_manager" {
		if err := cfsign.CheckKeyID(s.KeyID); err != nil {
			v.add(sp+".key_id", "%s", plain(err))
		} else if s.Source != "secrets_manager" && v.decoded("key_groups") {
			// A secret's JSON may name another id; that one is checked
			// when the secret is read.
			ids := map[string]crypto.PublicKey{}
			for _, g := range d.TrustedKeyGroups() {
				for _, k := range v.c.KeyGroups[g] {
					ids[k.ID] = nil
				}
			}
			if err := cfsign.CheckSigner(s.KeyID, nil, ids); err != nil {
				path, msg := v.c.signerProblem(i, err)
				v.add(path, "%s", msg)
			}
		}
	}
	if s.Endpoint != "" {
		if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add(sp+".endpoint", "%s is not an absolute http:// or https:// URL", strconv.Quote(s.Endpoint))
		}
	}
	if t := time.Duration(s.Refresh); s.Source == "secrets_manager" && t < time.Second {
		v.add(sp+".refresh", "%s is below 1s", s.Refresh)
	}
	if err := cfsign.CheckMaxLifetime(time.Duration(s.MaxLifetime)); err != nil {
		v.add(sp+".max_lifetime", "%s is %v", s.MaxLifetime, err)
	}
	if q := time.Duration(s.Quantum); q < 0 || (q > 0 && q >= time.Duration(s.MaxLifetime) && v.decoded(sp+".max_lifetime")) {
		v.add(sp+".quantum", "%s must be 0s (off) or below max_lifetime (%s)", s.Quantum, s.MaxLifetime)
	} else if q%time.Second != 0 {
		v.add(sp+".quantum", "%s is not a whole number of seconds (link expiries are)", s.Quantum)
	}
	if s.CacheSize < 0 {
		v.add(sp+".cache_size", "%d is negative", s.CacheSize)
	}
}

// checkBaseURL accepts a scheme and host only: "https://media.example.com".
func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return errors.New("required with signer: the scheme and host links are made for, such as https://media.example.com")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%s is not an http:// or https:// URL", strconv.Quote(s))
	case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%s must be a scheme and host only, without path, query or user", strconv.Quote(s))
	case s != strings.ToLower(s):
		return fmt.Errorf("%s must be lower case: the edge compares the lower-cased Host", strconv.Quote(s))
	case u.Port() == map[string]string{"https": "443", "http": "80"}[u.Scheme] || strings.HasSuffix(u.Host, ":"):
		return fmt.Errorf("%s has the default or an empty port; browsers drop it, so links would never verify", strconv.Quote(s))
	}
	// Links are signed for the base URL and a path: cfsign's rules for a
	// URL hold for it.
	if err := cfsign.CheckURL(s + "/"); err != nil {
		return fmt.Errorf("%s: %s", strconv.Quote(s), plain(err))
	}
	return nil
}

func (v *checker) signingAPI() {
	a := v.c.SigningAPI
	signers := 0
	for _, d := range v.c.Distributions {
		if d.Signer != nil {
			signers++
		}
	}
	seen := map[string]int{}
	for i, d := range v.c.Distributions {
		if d.Signer == nil || d.BaseURL == "" {
			continue
		}
		if j, ok := seen[d.BaseURL]; ok {
			v.add(fmt.Sprintf("distributions[%d].base_url", i), "%s is also distributions[%d]'s: the API finds a distribution by it", strconv.Quote(d.BaseURL), j)
		}
		seen[d.BaseURL] = i
	}
	if a == nil {
		return
	}
	if signers == 0 {
		v.add("signing_api", "no distribution has a signer, so the API could sign nothing")
	}
	if a.Address != "" {
		if err := checkListenAddress(a.Address); err != nil {
			v.add("signing_api.address", "%v", err)
		}
		for i, l := range v.c.Listeners {
			if checkListenAddress(l.Address) == nil && checkListenAddress(a.Address) == nil && overlap(l.Address, a.Address) {
				v.add("signing_api.address", "%s overlaps listeners[%d] (%s): give the API its own address, or mount it with path_prefix", strconv.Quote(a.Address), i, strconv.Quote(l.Address))
			}
		}
	} else if !strings.HasPrefix(a.PathPrefix, "/") || strings.HasSuffix(a.PathPrefix, "/") || strings.ContainsAny(a.PathPrefix, "*? ") {
		v.add("signing_api.path_prefix", "%s must start with '/', not end with one, and hold no wildcard", strconv.Quote(a.PathPrefix))
	}
	if a.MaxBatch < 1 || a.MaxBatch > 10000 {
		v.add("signing_api.max_batch", "%d is outside 1 to 10000", a.MaxBatch)
	}
}

func (v *checker) origin(p string, o Origin) {
	blocks := []struct {
		typ string
		set bool
	}{{"dir", o.Dir != nil}, {"s3", o.S3 != nil}, {"http", o.HTTP != nil}}
	switch o.Type {
	case "dir", "s3", "http":
		for _, b := range blocks {
			switch {
			case b.typ == o.Type && !b.set:
				v.add(p+"."+b.typ, "required with type: %s", o.Type)
			case b.typ != o.Type && b.set:
				v.add(p+"."+b.typ, "set only with type: %s (type is %s)", b.typ, o.Type)
			}
		}
	case "":
		v.add(p+".type", "required: dir, s3 or http")
	default:
		v.notOneOf(p+".type", o.Type, "dir", "s3", "http")
	}
	if o.Dir != nil && o.Dir.Path == "" {
		v.add(p+".dir.path", "required: the directory to serve")
	}
	if s := o.S3; s != nil {
		v.s3(p+".s3", s)
	}
	if h := o.HTTP; h != nil {
		if err := checkHTTPURL(h.URL); err != nil {
			v.add(p+".http.url", "%v", err)
		}
		switch err := httporigin.CheckSecretHeader(h.SecretHeader); {
		case err != nil:
			v.add(p+".http.secret_header", "%v", err)
		case h.SecretHeader != "" && h.Secret == "":
			v.add(p+".http.secret", "required with secret_header (for example \"${ORIGIN_SECRET}\")")
		case h.SecretHeader == "" && h.Secret != "":
			v.add(p+".http.secret_header", "required with secret: the header that carries it")
		}
		if !validHeaderValue(h.Secret) {
			v.add(p+".http.secret", "holds a control character or leading or trailing white space; it cannot be sent in a header")
		}
	}
}

// maxVerifiedLinks bounds limits.verified_links.
const maxVerifiedLinks = 10_000_000

// cache checks a distribution's cache block; dirs maps the disk dirs
// already in use to the distribution using them.
func (v *checker) cache(p string, d *Distribution, dirs map[string]string) {
	c := d.EdgeCache(v.c.DataDir)
	if c == nil {
		return
	}
	if c.Memory < c.ChunkSize && v.decoded(p+".chunk_size") {
		v.add(p+".memory", "%s is less than one chunk (chunk_size %s)", c.Memory, c.ChunkSize)
	}
	if err := cache.CheckChunkSize(int64(c.ChunkSize)); err != nil {
		v.add(p+".chunk_size", "%s is %v", c.ChunkSize, err)
	}
	switch {
	case c.Disk < 0:
		v.add(p+".disk", "%s is negative", c.Disk)
	case c.Disk > 0 && c.Disk < c.ChunkSize && v.decoded(p+".chunk_size"):
		v.add(p+".disk", "%s is less than one chunk (chunk_size %s)", c.Disk, c.ChunkSize)
	case c.Disk == 0 && c.DiskDir != "":
		v.add(p+".disk_dir", "is used only with disk (the disk tier's size)")
	}
	if c.MaxStale < 0 {
		v.add(p+".max_stale", "%s is negative", c.MaxStale)
	}
	if c.MaxObjectSize < 0 {
		v.add(p+".max_object_size", "%s is negative", c.MaxObjectSize)
	}
	if c.DiskDir != "" {
		dir := filepath.Clean(c.DiskDir)
		if other, ok := dirs[dir]; ok {
			v.add(p+".disk_dir", "%s is also the disk dir of %s: each cache needs its own", strconv.Quote(c.DiskDir), other)
		} else {
			dirs[dir] = p
		}
	}
}

func (v *checker) s3(p string, s *S3Origin) {
	if err := checkBucket(s.Bucket); err != nil {
		v.add(p+".bucket", "%v", err)
	}
	if s.Region != "" && !validName(s.Region, 64) {
		v.add(p+".region", "%s is not a region name such as us-east-1", strconv.Quote(s.Region))
	}
	if s.Endpoint != "" {
		if err := checkHTTPURL(s.Endpoint); err != nil {
			v.add(p+".endpoint", "%v", err)
		}
	}
	if _, err := origin.Prefix(s.Prefix); err != nil {
		v.add(p+".prefix", "%v", err)
	}
	switch {
	case s.AccessKeyID != "" && s.SecretAccessKey == "":
		v.add(p+".secret_access_key", "required with access_key_id")
	case s.AccessKeyID == "" && s.SecretAccessKey != "":
		v.add(p+".access_key_id", "required with secret_access_key")
	case s.AccessKeyID == "" && s.SessionToken != "":
		v.add(p+".session_token", "only with access_key_id and secret_access_key")
	}
}

// checkBucket checks an S3 bucket name loosely: 3 to 63 lower-case
// letters, digits, '.', '-' and '_' (the last for S3-compatible stores).
func checkBucket(s string) error {
	if s == "" {
		return errors.New("required: the bucket name")
	}
	ok := len(s) >= 3 && len(s) <= 63
	for _, c := range []byte(s) {
		ok = ok && ('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_')
	}
	if !ok {
		return fmt.Errorf("%s is not a bucket name (3 to 63 lower-case letters, digits, '.' and '-'; no s3:// or path)", strconv.Quote(s))
	}
	return nil
}

// validHeaderValue reports whether s can be sent as a header value as is.
func validHeaderValue(s string) bool {
	if s != strings.TrimSpace(s) {
		return false
	}
	for _, c := range []byte(s) {
		if c < ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

func (v *checker) behavior(p string, d Distribution, k int) {
	b := d.Behaviors[k]
	bp := fmt.Sprintf("%s.behaviors[%d]", p, k)
	err := edge.CheckPathPattern(b.Path)
	if err == nil {
		patterns := make([]string, k+1)
		for j := range patterns {
			patterns[j] = d.Behaviors[j].Path
		}
		err = edge.CheckReachable(patterns, k)
	}
	if err != nil {
		v.add(bp+".path", "%v", err)
	}
	switch {
	case !v.decoded(bp+".public", bp+".key_groups"):
	case b.Public && len(b.KeyGroups) > 0:
		v.add(bp, "public and key_groups are exclusive: a public behavior takes no signature")
	case !b.Public && len(b.KeyGroups) == 0:
		v.add(bp, "set key_groups (the trusted keys), or public: true")
	}
	if n := len(b.KeyGroups); n > maxGroupsPerBehavior {
		v.add(bp+".key_groups", "at most %d key groups per behavior (CloudFront's limit), got %d", maxGroupsPerBehavior, n)
	}
	for i, g := range b.KeyGroups {
		gp := fmt.Sprintf("%s.key_groups[%d]", bp, i)
		if _, ok := v.c.KeyGroups[g]; !ok && v.decoded("key_groups") {
			v.add(gp, "no key group %s under key_groups%s", strconv.Quote(g), defined(v.c.KeyGroups))
		} else if j := slices.Index(b.KeyGroups[:i], g); j >= 0 {
			v.add(gp, "%s repeats key_groups[%d]", strconv.Quote(g), j)
		}
	}
	for i := range b.AllowedMethods {
		v.check(fmt.Sprintf("%s.allowed_methods[%d]", bp, i), edge.CheckMethod(b.AllowedMethods, i))
	}
	v.check(bp+".allowed_methods", edge.CheckMethods(b.AllowedMethods))
	v.check(bp+".viewer_protocol", edge.CheckViewerProtocol(b.ViewerProtocol))
	if _, err := origin.Prefix(b.OriginPath); err != nil {
		v.add(bp+".origin_path", "%v", err)
	}
	if v.check(bp+".mode", edge.CheckMode(b.Mode)) && b.Mode == edge.ModeRedirect && d.Origin.Type != "s3" && v.decoded(p+".origin.type") {
		v.add(bp+".mode", "redirect needs an s3 origin (it answers with a presigned S3 URL); this origin is %s", strconv.Quote(d.Origin.Type))
	}
	if b.MaxLinkLifetime < 0 {
		v.add(bp+".max_link_lifetime", "%s is negative", b.MaxLinkLifetime)
	}
	if b.Public && (b.MaxLinkLifetime != 0 || b.RequireIP) {
		v.add(bp, "max_link_lifetime and require_ip apply to signed links; this behavior is public")
	}
	// The rule is the edge's for redirect mode; the file holds every
	// behavior to it.
	if err := edge.CheckRedirectTTL(time.Duration(b.RedirectTTL)); err != nil {
		v.add(bp+".redirect_ttl", "%s is %v", b.RedirectTTL, err)
	}
	v.cacheTTL(bp+".cache.", b.Cache)
}

// cacheTTL reports the problems the edge cache finds with a behavior's
// lifetimes (cache.TTL.Check), at the key of the lifetime at fault.
func (v *checker) cacheTTL(p string, c CacheTTL) {
	ttl := cache.TTL{Min: time.Duration(c.Min), Default: time.Duration(c.Default), Max: time.Duration(c.Max)}
	errs, _ := ttl.Check().(interface{ Unwrap() []error })
	if errs == nil {
		return
	}
	keys := map[string]string{"Min": "min_ttl", "Default": "default_ttl", "Max": "max_ttl"}
	for _, err := range errs.Unwrap() {
		e, ok := err.(*cache.TTLError)
		switch {
		case !ok:
			v.add(strings.TrimSuffix(p, "."), "%v", err)
		case e.Than == "":
			v.add(p+keys[e.Field], "%s is negative", Duration(e.Value))
		case v.decoded(p+"min_ttl", p+"default_ttl", p+"max_ttl"):
			v.add(p+keys[e.Field], "%s is more than %s (%s)", Duration(e.Value), keys[e.Than], Duration(e.ThanValue))
		}
	}
}

// defined lists the key group names for a message: " (defined: a, b)".
func defined(groups map[string][]PublicKey) string {
	if len(groups) == 0 {
		return " (none is defined)"
	}
	return " (defined: " + strings.Join(slices.Sorted(maps.Keys(groups)), ", ") + ")"
}
