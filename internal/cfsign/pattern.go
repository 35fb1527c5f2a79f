package cfsign

import (
	"fmt"
	"strings"
)

// Pattern is a parsed policy Resource (§6): four sections, protocol, domain,
// path and query, each matched on its own. '*' matches zero or more bytes and
// '?' exactly one, never across a section boundary. A Pattern is immutable
// and safe for concurrent use.
type Pattern struct {
	raw                         string
	protocol, domain, path, qry glob
}

// glob is one section: the pattern bytes and, for each byte, whether it is a
// wildcard (an unescaped '*' or '?').
type glob struct {
	b    []byte
	wild []bool
}

// String returns the pattern as written in the policy.
func (p *Pattern) String() string { return p.raw }

// Sections returns the four sections with escapes shown as written, for
// explanations: protocol, domain, path, query.
func (p *Pattern) Sections() (protocol, domain, path, query string) {
	return p.protocol.String(), p.domain.String(), p.path.String(), p.qry.String()
}

// HasWildcard reports whether any section holds an unescaped wildcard.
func (p *Pattern) HasWildcard() bool {
	for _, g := range []glob{p.protocol, p.domain, p.path, p.qry} {
		for _, w := range g.wild {
			if w {
				return true
			}
		}
	}
	return false
}

// DomainWildcard reports whether the domain section holds a wildcard, which
// also matches hosts of other owners ("media*" matches
// "media.attacker.example").
func (p *Pattern) DomainWildcard() bool {
	for _, w := range p.domain.wild {
		if w {
			return true
		}
	}
	return false
}

// ProtocolWildcard reports whether the protocol section holds a wildcard
// ("*", "http*").
func (p *Pattern) ProtocolWildcard() bool {
	for _, w := range p.protocol.wild {
		if w {
			return true
		}
	}
	return false
}

// FixedPath returns the literal part of the path section before its first
// wildcard (escapes resolved), and whether the path has a wildcard at all.
// Paths have no '?' wildcard: the first '?' starts the query.
func (p *Pattern) FixedPath() (fixed string, wildcard bool) {
	for i, w := range p.path.wild {
		if w {
			return string(p.path.b[:i]), true
		}
	}
	return string(p.path.b), false
}

// CookiePath is the cookie Path that covers the pattern's path: its fixed
// part up to the last '/', so "https://h/videos/x/*" gives "/videos/x/".
// Cookie paths match request paths by literal prefix (RFC 6265 §5.1.4, §8
// of the contract), so a wildcard in a cookie Path would match nothing.
func (p *Pattern) CookiePath() string {
	fixed, _ := p.FixedPath()
	if i := strings.LastIndexByte(fixed, '/'); i >= 0 {
		return fixed[:i+1]
	}
	return "/"
}

// ParsePattern parses a policy Resource into its sections. The rules, with
// the (signet) choices where CloudFront is silent:
//  1. `\*` and `\?` are literal characters; any other backslash is an error.
//  2. The protocol is the text before the first "://". Without "://", the
//     pattern must start with '*', and the protocol is then '*'.
//  3. The domain runs to the next '/'. If no '/' follows, the path is "/",
//     or "/*" with query "*" when the domain ends in '*'.
//  4. The first '?' in the path, escaped or not, starts the query: paths have
//     no one-character wildcard. In the domain and query, '?' is a wildcard.
//  5. Without a query section, the query is "*" if the path ends in an
//     unescaped '*', and empty otherwise. An empty query matches only a
//     request with nothing left once the signing parameters are removed.
//
// Errors match ErrBadPolicy (a received policy with a bad pattern is
// MalformedPolicy).
func ParsePattern(s string) (*Pattern, error) {
	p := new(Pattern)
	if err := parsePattern(s, p); err != nil {
		return nil, err
	}
	return p, nil
}

// parsePattern is ParsePattern into p, with two allocations.
func parsePattern(s string, p *Pattern) error {
	// Lex into bytes plus wildcard flags, resolving escapes once.
	var all glob
	all.b = make([]byte, 0, len(s))
	flags := make([]bool, 2*len(s))
	all.wild = flags[:0:len(s)]
	escapedQ := flags[len(s):len(s)] // true where a literal '?' came from `\?`
	for i := 0; i < len(s); i++ {
		c := s[i]
		esc := false
		if c == '\\' {
			if i+1 >= len(s) || (s[i+1] != '*' && s[i+1] != '?') {
				return fmt.Errorf("%w: backslash at offset %d escapes neither '*' nor '?'", ErrBadPolicy, i)
			}
			i++
			c, esc = s[i], true
		}
		all.b = append(all.b, c)
		all.wild = append(all.wild, !esc && (c == '*' || c == '?'))
		escapedQ = append(escapedQ, esc && c == '?')
	}
	*p = Pattern{raw: s}
	rest := all
	var restEsc = escapedQ
	if i := indexLiteral(all, "://"); i >= 0 {
		p.protocol = all.slice(0, i)
		rest = all.slice(i+3, len(all.b))
		restEsc = escapedQ[i+3:]
	} else {
		if len(all.b) == 0 || !(all.b[0] == '*' && all.wild[0]) {
			return fmt.Errorf("%w: %q has no \"://\" and does not start with '*'", ErrBadPolicy, s)
		}
		p.protocol = glob{b: []byte{'*'}, wild: []bool{true}}
	}
	slash := -1
	for i, c := range rest.b {
		if c == '/' {
			slash = i
			break
		}
	}
	if slash < 0 {
		p.domain = rest
		if n := len(rest.b); n > 0 && rest.b[n-1] == '*' && rest.wild[n-1] {
			p.path = glob{b: []byte("/*"), wild: []bool{false, true}}
			p.qry = glob{b: []byte{'*'}, wild: []bool{true}}
		} else {
			p.path = glob{b: []byte("/"), wild: []bool{false}}
		}
		return nil
	}
	p.domain = rest.slice(0, slash)
	pathAndQuery := rest.slice(slash, len(rest.b))
	pqEsc := restEsc[slash:]
	q := -1
	for i, c := range pathAndQuery.b {
		if c == '?' && (pathAndQuery.wild[i] || pqEsc[i]) {
			q = i
			break
		}
	}
	if q >= 0 {
		p.path = pathAndQuery.slice(0, q)
		p.qry = pathAndQuery.slice(q+1, len(pathAndQuery.b))
		return nil
	}
	p.path = pathAndQuery
	if n := len(p.path.b); p.path.wild[n-1] && p.path.b[n-1] == '*' {
		p.qry = glob{b: []byte{'*'}, wild: []bool{true}}
	}
	return nil
}

func (g glob) slice(i, j int) glob { return glob{b: g.b[i:j], wild: g.wild[i:j]} }

// String renders the section with escapes restored.
func (g glob) String() string {
	var sb strings.Builder
	for i, c := range g.b {
		if !g.wild[i] && (c == '*' || c == '?') {
			sb.WriteByte('\\')
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// indexLiteral finds lit in g where none of the matched bytes is a wildcard.
func indexLiteral(g glob, lit string) int {
	for i := 0; i+len(lit) <= len(g.b); i++ {
		if string(g.b[i:i+len(lit)]) == lit {
			return i
		}
	}
	return -1
}

// Match reports whether the request URL, given as its parts, matches the
// pattern. host must already be lowercased; path is the raw request path and
// query the raw query with the signing parameters removed (§4.1, §6).
func (p *Pattern) Match(scheme, host, path, query string) bool {
	return p.protocol.match(scheme) && p.domain.match(host) &&
		p.path.match(path) && p.qry.match(query)
}

// match is a glob match with backtracking to the last '*': linear in the
// common case, O(len(g)*len(s)) at worst, never exponential.
func (g glob) match(s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(g.b) && g.wild[pi] && g.b[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(g.b) && (g.wild[pi] || g.b[pi] == s[si]): // a wildcard here is '?'
			pi++
			si++
		case star >= 0:
			mark++
			si = mark
			pi = star + 1
		default:
			return false
		}
	}
	for pi < len(g.b) && g.wild[pi] && g.b[pi] == '*' {
		pi++
	}
	return pi == len(g.b)
}
