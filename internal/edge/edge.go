package edge

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/origin"
)

// Config is what an Edge serves: its distributions, chosen by Host, and the
// few settings that apply to all of them.
type Config struct {
	Distributions []Distribution
	// DebugReason adds the private reason of a refusal to the response in
	// an X-Signet-Reason header. It is meant for development: the reason
	// tells an attacker why a forged link failed. Off by default.
	DebugReason bool
	// Now is the clock used for viewer caching lifetimes; nil means
	// time.Now. Verifiers built by the caller should use the same clock.
	Now func() time.Time
}

// Distribution is one site: the hosts it answers for, its origin and its
// ordered cache behaviors, as in CloudFront.
type Distribution struct {
	// Name identifies the distribution in logs and metrics; see
	// CheckName.
	Name string
	// Hosts are the Host values (lower-case, "host" or "host:port") the
	// distribution answers for. An entry without a port matches the host on
	// any port; one with a port matches only that port. A distribution
	// without Hosts is the default and answers for every other host; there
	// may be at most one (CheckDefault), and a host belongs to one
	// distribution (CheckHostOnce).
	Hosts []string
	// Origin is where objects are read from, by the behaviors that have
	// no Origin of their own.
	Origin origin.Origin
	// EdgeCached says the behaviors read through an edge cache (package
	// cache), which records how it answered on the origin.Recorder that
	// Decide puts in the context: Decide then says so in X-Cache, as
	// CloudFront does ("Hit from signet", "Miss from signet", ...).
	EdgeCached bool
	// Behaviors are tried in order; the first whose PathPattern matches the
	// raw request path decides (CloudFront's precedence).
	Behaviors []Behavior
}

// Behavior is one CloudFront cache behavior: what a path pattern requires of
// a request and how it is answered.
type Behavior struct {
	// PathPattern is matched, case-sensitively, against the raw request
	// path: '*' matches any run of bytes, '/' included; see
	// CheckPathPattern. "*" is the default behavior.
	PathPattern string
	// Verifier checks signed URLs and cookies against the behavior's
	// trusted keys. Nil means public access.
	Verifier *cfsign.Verifier
	// AllowedMethods are among Methods and include DefaultMethods (see
	// CheckMethod and CheckMethods); nil means DefaultMethods.
	AllowedMethods []string
	// ViewerProtocol is one of ViewerProtocols: "allow-all" (the default,
	// ""), "https-only" (403 over http) or "redirect-to-https" (301 to the
	// https URL).
	ViewerProtocol string
	// OriginPath is prefixed to object keys at the origin: "media" and
	// "media/" both read key "a.txt" as "media/a.txt" (see origin.Prefix).
	OriginPath string
	// Mode is one of Modes: "proxy" (the default, "") or "redirect",
	// which answers 302 with a short-lived presigned URL from Presigner.
	Mode string
	// RedirectTTL is the lifetime of presigned URLs in redirect mode;
	// 0 means DefaultRedirectTTL.
	RedirectTTL time.Duration
	// Origin, when set, is what the behavior reads through instead of the
	// distribution's Origin: the view of an edge cache with the
	// behavior's TTLs (cache.(*Cache).WithTTL).
	Origin origin.Origin
	// Presigner makes the presigned URLs of redirect mode, where it is
	// required: the storage the distribution's origin reads (S3).
	// Other modes ignore it.
	Presigner origin.Presigner
}

// The values of Behavior.ViewerProtocol and Behavior.Mode.
const (
	AllowAll        = "allow-all"
	HTTPSOnly       = "https-only"
	RedirectToHTTPS = "redirect-to-https"

	ModeProxy    = "proxy"
	ModeRedirect = "redirect"
)

// DefaultRedirectTTL is the lifetime of a presigned URL in redirect mode
// when Behavior.RedirectTTL is 0.
const DefaultRedirectTTL = 5 * time.Minute

// Edge decides how to answer viewer requests; see Decide. It is immutable
// once built and safe for concurrent use.
type Edge struct {
	dists  []distribution
	byHost map[string]*distribution
	deflt  *distribution
	debug  bool
	now    func() time.Time
}

type distribution struct {
	name       string
	edgeCached bool
	behaviors  []behavior
}

type behavior struct {
	name      string // the path pattern
	verifier  *cfsign.Verifier
	methods   map[string]bool
	allow     string // the Allow header
	protocol  string
	prefix    string
	origin    origin.Origin    // the behavior's, else the distribution's
	presigner origin.Presigner // non-nil in redirect mode
	ttl       time.Duration
}

// New validates cfg and returns an Edge serving it. All problems are
// reported at once, joined with errors.Join.
func New(cfg Config) (*Edge, error) {
	e := &Edge{byHost: make(map[string]*distribution), debug: cfg.DebugReason, now: cfg.Now}
	if e.now == nil {
		e.now = time.Now
	}
	var errs []error
	if len(cfg.Distributions) == 0 {
		errs = append(errs, errors.New("edge: no distributions"))
	}
	e.dists = make([]distribution, len(cfg.Distributions))
	names := make([]string, len(cfg.Distributions))
	hosts := make([][]string, len(cfg.Distributions))
	for i, d := range cfg.Distributions {
		names[i], hosts[i] = d.Name, d.Hosts
	}
	for i, d := range cfg.Distributions {
		where := fmt.Sprintf("distributions[%d]", i)
		if d.Name != "" {
			where += " (" + d.Name + ")"
		}
		fail := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: "+format, append([]any{where}, args...)...))
		}
		if err := CheckName(names, i); err != nil {
			fail("name: %v", err)
		}
		if d.Origin == nil {
			fail("no origin")
		}
		dist := &e.dists[i]
		dist.name, dist.edgeCached = d.Name, d.EdgeCached
		if err := CheckDefault(hosts, i); err != nil {
			fail("hosts: %v", err)
		} else if len(d.Hosts) == 0 {
			e.deflt = dist
		}
		for j, h := range d.Hosts {
			err := CheckHost(h)
			if err == nil {
				err = CheckHostOnce(hosts, i, j)
			}
			if err != nil {
				fail("hosts: %v", err)
				continue
			}
			e.byHost[h] = dist
		}
		if len(d.Behaviors) == 0 {
			fail("no behaviors")
		}
		patterns := make([]string, len(d.Behaviors))
		for j, b := range d.Behaviors {
			patterns[j] = b.PathPattern
			bwhere := fmt.Sprintf("behaviors[%d] (%s)", j, b.PathPattern)
			err := CheckPathPattern(b.PathPattern)
			if err == nil {
				err = CheckReachable(patterns, j)
			}
			if err != nil {
				fail("%s: path pattern: %v", bwhere, err)
			}
			nb, bErrs := newBehavior(b)
			if nb.origin == nil {
				nb.origin = d.Origin
			}
			for _, err := range bErrs {
				fail("%s: %v", bwhere, err)
			}
			dist.behaviors = append(dist.behaviors, nb)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return e, nil
}

// newBehavior checks one behavior and returns its compiled form.
func newBehavior(b Behavior) (behavior, []error) {
	var errs []error
	nb := behavior{
		name: b.PathPattern, verifier: b.Verifier, protocol: b.ViewerProtocol, ttl: b.RedirectTTL,
		origin: b.Origin,
	}

	methods := b.AllowedMethods
	if methods == nil {
		methods = DefaultMethods
	}
	nb.methods = make(map[string]bool)
	for k, m := range methods {
		if err := CheckMethod(methods, k); err != nil {
			errs = append(errs, fmt.Errorf("allowed methods: %w", err))
		}
		nb.methods[m] = true
	}
	if err := CheckMethods(methods); err != nil {
		errs = append(errs, fmt.Errorf("allowed methods: %w", err))
	}
	var allow []string
	for _, m := range Methods {
		if nb.methods[m] {
			allow = append(allow, m)
		}
	}
	nb.allow = strings.Join(allow, ", ")

	if nb.protocol == "" {
		nb.protocol = AllowAll
	}
	if err := CheckViewerProtocol(nb.protocol); err != nil {
		errs = append(errs, fmt.Errorf("viewer protocol: %w", err))
	}
	var err error
	if nb.prefix, err = origin.Prefix(b.OriginPath); err != nil {
		errs = append(errs, fmt.Errorf("origin path: %w", err))
	}
	mode := b.Mode
	if mode == "" {
		mode = ModeProxy
	}
	if err := CheckMode(mode); err != nil {
		errs = append(errs, fmt.Errorf("mode: %w", err))
	}
	if mode == ModeRedirect {
		if b.Presigner == nil {
			errs = append(errs, errors.New("mode redirect: no presigner: the origin cannot presign URLs"))
		}
		nb.presigner = b.Presigner
		if nb.ttl == 0 {
			nb.ttl = DefaultRedirectTTL
		}
		if err := CheckRedirectTTL(nb.ttl); err != nil {
			errs = append(errs, fmt.Errorf("redirect TTL: %v is %w", nb.ttl, err))
		}
	}
	return nb, errs
}

// validHost reports whether h holds only the bytes of a host name, an IP
// literal and a port.
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '.' || c == ':' || c == '[' || c == ']' || c == '_':
		default:
			return false
		}
	}
	return true
}

// distribution returns the distribution for a lower-cased Host: an exact
// entry, then the entry for the host without its port, then the default.
func (e *Edge) distribution(host string) *distribution {
	if d, ok := e.byHost[host]; ok {
		return d
	}
	if name := StripPort(host); name != host {
		if d, ok := e.byHost[name]; ok {
			return d
		}
	}
	return e.deflt
}

// StripPort returns host, a Host header's value, without its port,
// keeping the brackets of an IPv6 literal: "example.com:8080" gives
// "example.com" and "[::1]:8443" gives "[::1]". A host without a port, or
// one that is not host:port, comes back as it is.
func StripPort(host string) string {
	if strings.IndexByte(host, ':') < 0 {
		return host // no port to drop
	}
	name, _, err := net.SplitHostPort(host)
	switch {
	case err != nil:
		return host
	case strings.IndexByte(name, ':') >= 0:
		// An IPv6 literal: SplitHostPort took it out of the brackets
		// that host starts with.
		return host[:len(name)+2]
	}
	return name
}

// behavior returns the first behavior whose pattern matches the raw path.
func (d *distribution) behavior(path string) *behavior {
	for i := range d.behaviors {
		if matchPattern(d.behaviors[i].name, path) {
			return &d.behaviors[i]
		}
	}
	return nil
}

// matchPattern reports whether s matches the path pattern p, where '*'
// matches any run of bytes. It backtracks only to the last '*', so it
// takes at most len(p)*len(s) steps.
func matchPattern(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && p[pi] == s[si]:
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
