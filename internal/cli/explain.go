package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

const explainUsage = `Usage: signet explain [--cookie HEADER] [--at TIME] [--client-ip IP] URL

Decodes a signed URL (or the signed cookies sent with URL) without any key and
says what it holds: the credential mode, key id, likely algorithm, hash, the
policy, expiry and start, the IP condition, and how the resource matches the
URL, section by section. Then it lists the mistakes it recognises, one line
each with a fix. It does NOT check the signature: use signet verify for that.
The signature itself is never printed.

Flags:
  --cookie HEADER   a Cookie header value with CloudFront-* cookies
                    (repeatable; a pasted "Cookie:" prefix is ignored)
  --at TIME         judge times as of TIME: RFC 3339 or Unix seconds (default now)
  --client-ip IP    the viewer's address, checked against an IP condition

Exit status: 0 no problems found, 1 problems found, 2 usage error or bad input.

Example:
  signet explain 'https://media.example.com/a.jpg?Expires=1767290400&Signature=...&Key-Pair-Id=K2JCJMDEHXQW5F'
`

// ExplainCommand is "signet explain": it decodes a signed URL or cookies
// without keys and points out mistakes.
type ExplainCommand struct {
	Env
}

// Run explains.
func (c *ExplainCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("explain")
	var rf requestFlags
	rf.register(fs)
	pos, err := parseArgs(fs, explainUsage, c.Stdout, args)
	if err != nil {
		return err
	}
	rawURL, err := oneURL(fs, pos)
	if err != nil {
		return err
	}
	req, at, err := rf.request(rawURL, &c.Env)
	if err != nil {
		return err
	}
	x := &explanation{raw: rawURL, req: req, now: at}
	x.explain()
	if _, err := io.WriteString(c.Stdout, x.String()); err != nil {
		return err
	}
	if len(x.problems) > 0 {
		return errVerdict
	}
	return nil
}

// explanation collects what explain finds about one request: described
// fields, problems (the link fails or is unsafe) and notes (it works, but
// worth knowing).
type explanation struct {
	raw string
	req *cfsign.Request
	now time.Time

	creds    cfsign.Credentials
	b        strings.Builder
	problems []string
	notes    []string
}

func (x *explanation) problem(what, fix string) {
	x.problems = append(x.problems, what+". Fix: "+fix)
}

func (x *explanation) note(what string) { x.notes = append(x.notes, what) }

// name is a signing parameter's name as the request carries it.
func (x *explanation) name(param string) string {
	if x.creds.Mode == cfsign.ModeCookie {
		return "CloudFront-" + param
	}
	return param
}

func (x *explanation) String() string {
	var b strings.Builder
	b.WriteString(x.b.String())
	if len(x.problems) > 0 {
		fmt.Fprintf(&b, "\nproblems (%d):\n", len(x.problems))
		for _, p := range x.problems {
			b.WriteString("  - " + p + "\n")
		}
	}
	if len(x.notes) > 0 {
		b.WriteString("\nnotes:\n")
		for _, n := range x.notes {
			b.WriteString("  - " + n + "\n")
		}
	}
	b.WriteString("\n")
	switch n := len(x.problems); n {
	case 0:
		b.WriteString("result: no problems found; the signature was not checked (signet verify does that)\n")
	case 1:
		b.WriteString("result: 1 problem found\n")
	default:
		fmt.Fprintf(&b, "result: %d problems found\n", n)
	}
	return b.String()
}

func (x *explanation) explain() {
	x.b.WriteString("note: explain has no keys and does not check the signature; signet verify does\n")
	_, query := cfsign.SplitTarget(x.req.Target)
	x.creds = cfsign.ParseCredentials(query, x.req.Cookies)
	x.checkURL()
	if !x.checkMode(query) {
		return
	}
	x.checkKeyID()
	x.checkSignature()
	x.checkHash()

	c := x.creds
	switch {
	case c.HasExpires && c.HasPolicy:
		x.problem(fmt.Sprintf("both %s and %s are present (MalformedPolicy)", x.name("Expires"), x.name("Policy")),
			"a link carries Expires (canned policy) or Policy (custom policy), never both; sign it again")
	case !c.HasExpires && !c.HasPolicy:
		x.problem(fmt.Sprintf("neither %s nor %s is present (MalformedPolicy)", x.name("Expires"), x.name("Policy")),
			"the link lost part of its parameters; copy it again or sign it again")
	}
	switch {
	case c.HasPolicy:
		if p := x.customPolicy(); p != nil {
			x.checkTimes(p)
			x.checkIP(p)
			x.customResource(p, query)
		}
	case c.HasExpires:
		p := x.cannedPolicy()
		if p.Expires != 0 {
			x.checkTimes(p)
		}
		x.cannedResource(p, query)
	}
}

// checkURL looks at the URL itself.
func (x *explanation) checkURL() {
	if n := len(x.raw); n > cfsign.MaxURLLength {
		x.problem(fmt.Sprintf("the URL is %d bytes, over CloudFront's limit of %d", n, cfsign.MaxURLLength),
			"shorten the URL, or use signed cookies")
	}
	if strings.Contains(x.raw, "#") {
		x.note("the #fragment is never sent to the server, so it is not part of what was signed")
	}
	if port := defaultPort(x.req.Scheme, x.req.Host); port != "" {
		x.problem(fmt.Sprintf("the host %q has the default port %s; browsers drop it, so the edge sees the host without it and the signed resource differs", x.req.Host, port),
			"sign and send the URL without "+port)
	}
}

// checkMode reports where the credentials come from; false means there
// are none and nothing more to say.
func (x *explanation) checkMode(query string) bool {
	switch x.creds.Mode {
	case cfsign.ModeNone:
		field(&x.b, "mode", "none")
		x.problem("no signing parameters in the query and no CloudFront-* cookies (MissingKey)",
			"sign the URL (signet sign), or pass the cookies with --cookie")
		return false
	case cfsign.ModeCookie:
		field(&x.b, "mode", "cookie (CloudFront-* cookies)")
	case cfsign.ModeURL:
		field(&x.b, "mode", "url (signing parameters in the query)")
		if cfsign.ParseCredentials("", x.req.Cookies).Mode == cfsign.ModeCookie {
			x.problem(fmt.Sprintf("the query has %s, so this is a signed-URL request: the query wins and the CloudFront-* cookies are ignored", strings.Join(reservedIn(query), ", ")),
				"drop the signing parameters from the URL to use the cookies (a site parameter with a reserved name turns cookies off)")
		}
	}
	if r := x.creds.Repeated; r != "" {
		x.problem(fmt.Sprintf("%s appears more than once in the query; signet refuses repeated signing parameters (AccessDenied)", r),
			"keep one of each; was the URL signed twice?")
	}
	return true
}

func (x *explanation) checkKeyID() {
	c, name := x.creds, x.name("Key-Pair-Id")
	if !c.HasKeyID || c.KeyID == "" {
		field(&x.b, "key id", "missing")
		x.problem(name+" is missing or empty (MissingKey)", "add the id of a public key the edge trusts (K...)")
		return
	}
	id := c.KeyID
	if len(id) > 64 {
		id = id[:64] + "..."
	}
	field(&x.b, "key id", strconv.Quote(id))
	if dec, err := url.QueryUnescape(c.KeyID); err == nil && strings.ContainsAny(dec, " \t\r\n") {
		x.problem(name+" has whitespace, so no trusted id matches it (InvalidKey)", "remove the whitespace copied along with the id")
		return
	}
	if err := cfsign.CheckKeyID(c.KeyID); err != nil {
		x.problem(name+": "+strings.TrimPrefix(err.Error(), "cfsign: "), "use the id CloudFront (or signet keygen) shows for the public key, such as K2JCJMDEHXQW5F")
	}
}

// sigLengths are the CloudFront base64 lengths of each key type's
// signatures (§9). ECDSA DER signatures are 70-72 bytes, now and then
// shorter.
var sigLengths = []struct {
	min, max int
	what     string
}{
	{88, 96, "ECDSA P-256 (ASN.1 DER, usually 70-72 bytes)"},
	{172, 172, "RSA-1024 (128 bytes; a legacy size)"},
	{344, 344, "RSA-2048 (256 bytes)"},
	{684, 684, "RSA-4096 (512 bytes)"},
}

func (x *explanation) checkSignature() {
	c, name := x.creds, x.name("Signature")
	if !c.HasSignature || c.Signature == "" {
		field(&x.b, "signature", "missing")
		x.problem(name+" is missing or empty (MalformedSignature)", "sign the link again; was it cut short?")
		return
	}
	s, _ := url.PathUnescape(c.Signature) // %XX only, as cfsign.Decode; '+' stays
	algo := ""
	for _, l := range sigLengths {
		if l.min <= len(s) && len(s) <= l.max {
			algo = l.what
		}
	}
	if algo == "" {
		field(&x.b, "signature", fmt.Sprintf("%d characters, not a length any CloudFront key produces", len(s)))
	} else {
		field(&x.b, "signature", fmt.Sprintf("%d characters: likely %s", len(s), algo))
	}
	if what, fix := base64Problem(name, c.Signature); what != "" {
		x.problem(what+" (MalformedSignature)", fix)
	} else if algo == "" {
		x.problem(fmt.Sprintf("%s is %d characters, a length no CloudFront key produces (ECDSA P-256: 96, RSA-2048: 344)", name, len(s)),
			"copy the whole link again; it may have been cut")
	}
	x.tildeNote(name, c.Signature)
}

func (x *explanation) checkHash() {
	c, name := x.creds, x.name("Hash-Algorithm")
	switch h := hashName(c); {
	case !c.HasHashAlg:
		field(&x.b, "hash", "SHA1 ("+name+" absent)")
	case h != "":
		field(&x.b, "hash", h)
	default:
		field(&x.b, "hash", "unknown")
		x.problem(fmt.Sprintf("%s %.20q is neither SHA1 nor SHA256 (AccessDenied)", name, c.HashAlg),
			"write exactly SHA256 (upper case), or leave it out for SHA-1")
	}
}

// cannedPolicy rebuilds a canned policy as the edge does (§4.1) and returns
// it; its Expires is 0 when the Expires value is unusable.
func (x *explanation) cannedPolicy() *cfsign.Policy {
	name := x.name("Expires")
	resource := cfsign.RebuildResource(x.req.Scheme, x.req.Host, x.req.Target)
	b := cfsign.AppendCanned(nil, resource, x.creds.Expires)
	field(&x.b, "policy", fmt.Sprintf("canned, rebuilt from the URL and %s (%d bytes)", name, len(b)))
	x.b.WriteString(indentJSON(b))
	exp, err := cfsign.ParseExpires(x.creds.Expires)
	if err != nil {
		what, fix := epochProblem(name, x.creds.Expires)
		if what == "" {
			what, fix = name+": "+err.Error(), "write the expiry as plain Unix seconds, such as 1767290400"
		}
		x.problem(what+" (MalformedPolicy)", fix)
	}
	return &cfsign.Policy{Resource: resource, HasResource: true, Expires: exp}
}

func (x *explanation) cannedResource(p *cfsign.Policy, query string) {
	field(&x.b, "resource", p.Resource+" (rebuilt from this URL, so it matches)")
	path, _ := cfsign.SplitTarget(x.req.Target)
	stripped := cfsign.StripQuery(query)
	if strings.Contains(path+stripped, "*") {
		x.problem("the URL has '*', but a canned policy can't hold wildcards: it matches only a literal '*'",
			"sign a custom policy: signet sign --resource 'https://host/dir/*' ...")
	}
	if h := x.req.Host; h != lowerASCII(h) {
		x.problem(fmt.Sprintf("the host %q has upper-case letters; the edge lower-cases the host before rebuilding the resource, so a link signed over these bytes fails", h),
			"sign and send the URL with a lower-case host")
	}
	if stripped != "" {
		x.note(fmt.Sprintf("the query %q is part of the canned resource: the link works only with exactly the query it was signed with, in the same order", stripped))
	}
	if after := afterSigning(query); len(after) > 0 {
		x.problem(fmt.Sprintf("%q follows the signing parameters, so it was probably added after signing; a canned resource covers the whole query, which then no longer matches the signature", strings.Join(after, "&")),
			"add parameters to the URL before signing it")
	}
}

// customPolicy decodes and strictly parses a custom policy, and returns it
// or nil.
func (x *explanation) customPolicy() *cfsign.Policy {
	name := x.name("Policy")
	b, err := cfsign.Decode(x.creds.Policy)
	if err != nil {
		field(&x.b, "policy", "custom, but "+name+" does not decode")
		what, fix := base64Problem(name, x.creds.Policy)
		x.problem(what+" (MalformedPolicy)", fix)
		return nil
	}
	x.tildeNote(name, x.creds.Policy)
	field(&x.b, "policy", fmt.Sprintf("custom, sent in %s (%d bytes)", name, len(b)))
	if !json.Valid(b) {
		x.problem(name+" decodes to something that is not JSON (MalformedPolicy)",
			"encode the policy JSON itself, once")
		return nil
	}
	x.b.WriteString(indentJSON(b))
	p, err := cfsign.ParsePolicy(b)
	if err != nil {
		exp, start := looseEpochs(b)
		for _, e := range []struct{ name, value string }{{"DateLessThan", exp}, {"DateGreaterThan", start}} {
			if what, fix := epochProblem(e.name, e.value); e.value != "" && what != "" {
				x.problem(what+" (MalformedPolicy)", fix)
			}
		}
		x.problem("the policy is refused as MalformedPolicy: "+err.Error(),
			"sign a policy with one statement, known keys each given once, epochs in seconds and an IPv4 CIDR range")
		return nil
	}
	return p
}

func (x *explanation) checkTimes(p *cfsign.Policy) {
	exp := p.ExpiresTime()
	if x.now.Unix() >= p.Expires {
		field(&x.b, "expires", exp.Format(time.RFC3339)+" (expired "+relative(exp, x.now)+")")
		x.problem(fmt.Sprintf("the link expired at %s, %s (AccessDenied)", exp.Format(time.RFC3339), relative(exp, x.now)),
			"sign a new link; if it expired too early, check the signer's and the edge's clocks (NTP)")
	} else {
		field(&x.b, "expires", exp.Format(time.RFC3339)+" (expires "+relative(exp, x.now)+")")
	}
	if p.NotBefore == 0 {
		return
	}
	start := p.NotBeforeTime()
	field(&x.b, "not before", timeAndRelative(start, x.now))
	if x.now.Unix() <= p.NotBefore {
		x.problem(fmt.Sprintf("the link is not valid until %s, %s (AccessDenied)", start.Format(time.RFC3339), relative(start, x.now)),
			"wait, or sign with an earlier --not-before; check the clocks (NTP)")
	}
}

func (x *explanation) checkIP(p *cfsign.Policy) {
	if !p.SourceIP.IsValid() {
		return
	}
	field(&x.b, "client IP", "only "+p.SourceIP.String())
	ip := x.req.ClientIP.Unmap()
	switch {
	case !ip.IsValid():
		x.note("the policy admits only clients in " + p.SourceIP.String() + "; pass --client-ip to check an address")
	case !ip.Is4():
		x.problem(fmt.Sprintf("the client %s is IPv6, and the policy's IP condition %s can only match IPv4 (AccessDenied)", ip, p.SourceIP),
			"reach the edge over IPv4, or sign without --ip")
	case !p.SourceIP.Contains(ip):
		x.problem(fmt.Sprintf("the client %s is outside the policy's range %s (AccessDenied)", ip, p.SourceIP),
			"sign for the address the edge sees (behind NAT or a proxy it differs), or widen the range")
	}
}

func (x *explanation) customResource(p *cfsign.Policy, query string) {
	if !p.HasResource {
		field(&x.b, "resource", "none")
		x.problem("the policy has no Resource: CloudFront accepts it for any URL, and signet refuses it unless the behavior allows that (AccessDenied)",
			"add a Resource naming the URLs the policy covers")
		return
	}
	field(&x.b, "resource", p.Resource)
	pat, err := cfsign.ParsePattern(p.Resource)
	if err != nil {
		x.problem("the Resource is not a valid pattern (MalformedPolicy): "+err.Error(),
			`escape a literal '*' or '?' as \* or \?; use no other backslash`)
		return
	}
	req := requestParts(x.req.Scheme, x.req.Host, x.req.Target)
	sec := patternSections(pat)
	m := pat.MatchSections(req[0], req[1], req[2], req[3])
	tw := tabwriter.NewWriter(&x.b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  \tsection\tpattern\tthis URL\tmatch\n")
	for i := range sec {
		ok := "yes"
		if !m[i] {
			ok = "NO"
		}
		fmt.Fprintf(tw, "  \t%s\t%q\t%q\t%s\n", sectionNames[i], sec[i], req[i], ok)
	}
	tw.Flush()
	for i := range m {
		if !m[i] {
			x.mismatch(i, sec[i], req[i])
		}
	}
	if pat.DomainWildcard() {
		x.note(fmt.Sprintf("the resource's domain %q has a wildcard, which also matches other people's hosts; the edge answers only its own hosts, but name the host exactly if you can", sec[1]))
	}
	if after := afterSigning(query); len(after) > 0 {
		what := fmt.Sprintf("%q follows the signing parameters, so it was probably added after signing", strings.Join(after, "&"))
		if m == [4]bool{true, true, true, true} {
			x.note(what + "; the resource's wildcard covers it")
		} else {
			x.problem(what+", and the resource does not cover it", "add parameters before signing, or sign a resource whose query is *")
		}
	}
}

// mismatch reports a resource section that does not match the URL.
func (x *explanation) mismatch(i int, pattern, value string) {
	var fix string
	switch i {
	case 0:
		if pattern == "https" || pattern == "http" {
			x.problem(fmt.Sprintf("the URL uses %s but the policy was signed for %s (AccessDenied)", value, pattern),
				fmt.Sprintf("request the %s:// URL, or sign the resource as http*://...", pattern))
			return
		}
		fix = "request the URL with the scheme the resource names"
	case 1:
		if pattern != lowerASCII(pattern) {
			x.problem(fmt.Sprintf("the resource's domain %q has upper-case letters, but the edge compares the lower-cased host, so it never matches (AccessDenied)", pattern),
				"sign the resource with a lower-case host")
			return
		}
		fix = "sign for the host clients use (a CNAME and the *.cloudfront.net name are different hosts)"
	case 2:
		fix = "sign a resource whose path covers this one (end it in * for a directory)"
	case 3:
		fix = "the query must match exactly: end the resource's path in * (or its query in *) to allow any query, or drop the extra parameters"
	}
	x.problem(fmt.Sprintf("the resource does not match this URL: its %s section %q does not match %q (AccessDenied)", sectionNames[i], pattern, value), fix)
}

// tildeNote notes a value that a form encoder has touched.
func (x *explanation) tildeNote(name, value string) {
	if strings.Contains(strings.ToUpper(value), "%7E") {
		x.note(name + " has %7E where CloudFront base64 has '~': accepted, but a form encoder (such as Go's url.Values.Encode) re-encoded the link; check that nothing else changed")
	}
}

// base64Problem says why a value is not CloudFront base64 (§3), with a
// fix, or returns "" when it decodes. It never quotes the value.
func base64Problem(name, value string) (what, fix string) {
	if _, err := cfsign.Decode(value); err == nil {
		return "", ""
	}
	s, err := url.PathUnescape(value) // %XX only, as cfsign.Decode; '+' stays
	if err != nil {
		return name + " has a broken %-escape", "copy the link again without editing it"
	}
	fix = "use CloudFront base64: standard base64, then + to -, = to _ and / to ~ (signet sign and the AWS SDKs do this)"
	if strings.ContainsAny(s, "+/=") {
		return name + " is standard base64 ('+', '/' or '=' present), not CloudFront base64", fix
	}
	if i := strings.IndexByte(s, '_'); i >= 0 && strings.TrimRight(s[i:], "_") != "" {
		return name + " looks like base64url ('_' before the end), not CloudFront base64", fix
	}
	for i := 0; i < len(s); i++ {
		if !isB64(s[i]) {
			return fmt.Sprintf("%s has %q at offset %d, outside CloudFront base64 (A-Z a-z 0-9 - _ ~)", name, s[i], i),
				"copy the link again, without line breaks or spaces"
		}
	}
	if len(s)%4 != 0 {
		return fmt.Sprintf("%s is %d characters, not a multiple of 4: its '_' padding was stripped (base64url does that) or the link was cut", name, len(s)), fix
	}
	return name + " is not valid CloudFront base64 (bad padding or trailing bits)", "copy the whole link again; it may have been cut"
}

func isB64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '~'
}

// epochProblem explains an epoch CloudFront refuses (§7), or returns "".
func epochProblem(name, s string) (what, fix string) {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil && s != "" && strings.Trim(s, "0123456789") == "":
		return fmt.Sprintf("%s %.20s... is far too large for Unix seconds", name, s), "write the expiry as Unix seconds, such as 1767290400"
	case err != nil:
		return fmt.Sprintf("%s %.20q is not a whole number of seconds", name, s), "write the expiry as Unix seconds, such as 1767290400"
	case n > cfsign.MaxEpoch && n >= 1e12 && n/1000 <= cfsign.MaxEpoch:
		return fmt.Sprintf("%s %d is in milliseconds, not seconds", name, n),
			"divide by 1000 (in JavaScript: Math.floor(Date.now() / 1000))"
	case n > cfsign.MaxEpoch:
		return fmt.Sprintf("%s %d is after 2038-01-19T03:14:07Z, the largest epoch CloudFront accepts", name, n),
			"choose an earlier expiry"
	case n < 1:
		return fmt.Sprintf("%s %d is not after 1970-01-01T00:00:00Z", name, n),
			"write the time as Unix seconds, such as 1767290400"
	}
	return "", ""
}

// looseEpochs digs the two epochs out of a policy that failed strict
// parsing, so that explain can say what is wrong with them.
func looseEpochs(b []byte) (expires, start string) {
	type statement struct {
		Condition struct {
			DateLessThan, DateGreaterThan map[string]json.RawMessage
		}
	}
	var doc struct{ Statement json.RawMessage }
	if json.Unmarshal(b, &doc) != nil {
		return "", ""
	}
	var st statement
	var list []statement
	if json.Unmarshal(doc.Statement, &list) == nil && len(list) > 0 {
		st = list[0]
	} else if json.Unmarshal(doc.Statement, &st) != nil {
		return "", ""
	}
	return string(st.Condition.DateLessThan["AWS:EpochTime"]), string(st.Condition.DateGreaterThan["AWS:EpochTime"])
}

// reservedIn lists the signing parameter names in a raw query, each once.
func reservedIn(query string) []string {
	var names []string
	for elem := range strings.SplitSeq(query, "&") {
		name, _, _ := strings.Cut(elem, "=")
		if cfsign.IsReserved(name) && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// afterSigning returns the query elements that follow the last signing
// parameter: signers append their parameters, so these were most likely
// added after signing (§2).
func afterSigning(query string) []string {
	elems := strings.Split(query, "&")
	last := -1
	for i, e := range elems {
		if name, _, _ := strings.Cut(e, "="); cfsign.IsReserved(name) {
			last = i
		}
	}
	var after []string
	for _, e := range elems[last+1:] {
		if e != "" && last >= 0 {
			after = append(after, e)
		}
	}
	return after
}

// sectionNames name the four sections of a resource pattern (§6).
var sectionNames = [4]string{"protocol", "domain", "path", "query"}

// requestParts are the request URL's four parts as a pattern sees them: the
// scheme, the lower-cased host, the raw path and the query without signing
// parameters (§4.1, §6).
func requestParts(scheme, host, target string) [4]string {
	path, query := cfsign.SplitTarget(target)
	return [4]string{scheme, lowerASCII(host), path, cfsign.StripQuery(query)}
}

func patternSections(p *cfsign.Pattern) [4]string {
	proto, domain, path, query := p.Sections()
	return [4]string{proto, domain, path, query}
}

// firstMismatch returns the index of the first section of p that does not
// match req, or -1.
func firstMismatch(p *cfsign.Pattern, req [4]string) int {
	for i, ok := range p.MatchSections(req[0], req[1], req[2], req[3]) {
		if !ok {
			return i
		}
	}
	return -1
}

// defaultPort returns ":443" or ":80" when host names its scheme's default
// port explicitly, and "" otherwise.
func defaultPort(scheme, host string) string {
	switch {
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		return ":443"
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		return ":80"
	}
	return ""
}

// lowerASCII lower-cases ASCII letters only, as the edge does with hosts.
func lowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}
