package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

var explainPage = &page{
	summary: "decode a signed URL or cookies and point out mistakes (no keys needed)",
	usage:   []string{"explain [--cookie HEADER] [--at TIME] [--client-ip IP] [--json] URL"},
	about: `Decodes a signed URL (or the signed cookies sent with URL) without any key and
says what it holds: the credential mode, key id, likely algorithm, hash, the
policy, expiry and start, the IP condition, and how the resource matches the
URL, section by section. Then it lists the mistakes it recognises, one line
each with a fix: among them the ones hand-written signers make (standard
base64, line-wrapped base64, milliseconds, dates, misspelled parameters, ...).
A link that was encoded again after signing (%3D, %26, &amp;) is decoded
first, said so, and explained as it was signed. It does NOT check the
signature: use signet verify for that. The signature and the raw Policy value
are never printed.`,
	operand: "URL",
	examples: []string{
		"explain 'https://media.example.com/a.jpg?Expires=1767290400&Signature=...&Key-Pair-Id=K2JCJMDEHXQW5F'",
		"explain --json --client-ip 203.0.113.7 \"$URL\"",
	},
	exit: "0 no problems found; 1 problems found; 2 usage error or bad input.",
}

// ExplainCommand is "signet explain": it decodes a signed URL or cookies
// without keys and points out mistakes.
type ExplainCommand struct {
	Env
}

// Severities of a finding.
const (
	sevError = "error" // the link fails (or the edge refuses it)
	sevNote  = "note"  // the link works, or may; worth knowing
)

// finding is one thing explain found about a link. Code is stable and
// documented (docs/cli.md); Message and Fix are for people. Neither ever
// holds a Signature or Policy value.
type finding struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Fix      string `json:"fix,omitempty"`
}

// explainOutput is the --json form of an explanation. Fields explain could
// not determine are left out; findings is always present.
type explainOutput struct {
	OK              bool            `json:"ok"`
	Problems        int             `json:"problems"`
	Mode            string          `json:"mode"`
	RepairedURL     string          `json:"repaired_url,omitempty"`
	KeyID           string          `json:"key_id,omitempty"`
	Hash            string          `json:"hash,omitempty"`
	SignatureLength int             `json:"signature_length,omitempty"`
	Algorithm       string          `json:"algorithm,omitempty"`
	PolicyKind      string          `json:"policy_kind,omitempty"`
	Policy          json.RawMessage `json:"policy,omitempty"`
	ExpiresAt       string          `json:"expires_at,omitempty"`
	NotBefore       string          `json:"not_before,omitempty"`
	SourceIP        string          `json:"source_ip,omitempty"`
	Resource        string          `json:"resource,omitempty"`
	Findings        []finding       `json:"findings"`
}

// Run explains.
func (c *ExplainCommand) Run(ctx context.Context, args []string) error {
	fs := newFlagSet("explain")
	var rf requestFlags
	rf.register(fs)
	asJSON := fs.Bool("json", false, `print {"ok", "problems", "mode", "repaired_url", "key_id", "hash", "signature_length", "algorithm", "policy_kind", "policy", "expires_at", "not_before", "source_ip", "resource", "findings": [{"code", "severity", "message", "fix"}]}`)
	rawURL, err := parseURLArg(fs, explainPage, &c.Env, args)
	if err != nil {
		return err
	}
	rawURL, unwrapped := unwrapURL(rawURL)
	if err := oneSlash(rawURL); err != nil {
		return err
	}
	req, at, err := rf.request(rawURL, &c.Env)
	if err != nil {
		return err
	}
	x := &explanation{raw: rawURL, req: req, now: at, unwrapped: unwrapped}
	x.explain()
	if *asJSON {
		err = writeJSON(c.Stdout, x.output())
	} else {
		_, err = io.WriteString(c.Stdout, x.String())
	}
	if err == nil && x.problems() > 0 {
		err = errVerdict
	}
	return err
}

// explanation collects what explain finds about one request: described
// fields (text in b, values in out) and findings.
type explanation struct {
	raw       string
	req       *cfsign.Request
	now       time.Time
	unwrapped bool // the whole link was percent-encoded and has been decoded

	creds    cfsign.Credentials
	sigBytes int // length of the decoded signature, 0 if unknown
	b        strings.Builder
	out      explainOutput
	findings []finding
}

// problem records something that makes the link fail.
func (x *explanation) problem(code, what, fix string) {
	x.findings = append(x.findings, finding{Code: code, Severity: sevError, Message: what, Fix: fix})
}

// note records something worth knowing that does not make the link fail.
func (x *explanation) note(code, what, fix string) {
	x.findings = append(x.findings, finding{Code: code, Severity: sevNote, Message: what, Fix: fix})
}

// missing records a signing parameter that is absent or empty: its field
// (label) says "missing", and a problem (code) names the parameter as the
// request spells it (param) and the answer the edge gives.
func (x *explanation) missing(label, param, code string, answer cfsign.Code, fix string) {
	field(&x.b, label, "missing")
	x.problem(code, param+" is missing or empty ("+answer.String()+")", fix)
}

func (x *explanation) add(fs ...finding) {
	for _, f := range fs {
		if f.Code != "" {
			x.findings = append(x.findings, f)
		}
	}
}

func (x *explanation) problems() int {
	n := 0
	for _, f := range x.findings {
		if f.Severity == sevError {
			n++
		}
	}
	return n
}

// name is a signing parameter's name as the request carries it.
func (x *explanation) name(param string) string {
	if x.creds.Mode == cfsign.ModeCookie {
		return "CloudFront-" + param
	}
	return param
}

// output is the explanation in its --json form.
func (x *explanation) output() explainOutput {
	o := x.out
	o.Problems = x.problems()
	o.OK = o.Problems == 0
	o.Findings = x.findings
	if o.Findings == nil {
		o.Findings = []finding{}
	}
	return o
}

func (x *explanation) String() string {
	var b strings.Builder
	b.WriteString(x.b.String())
	var notes []finding
	if n := x.problems(); n > 0 {
		fmt.Fprintf(&b, "\nproblems (%d):\n", n)
	}
	for _, f := range x.findings {
		if f.Severity != sevError {
			notes = append(notes, f)
			continue
		}
		b.WriteString("  - " + f.Message + ". Fix: " + f.Fix + "\n")
	}
	if len(notes) > 0 {
		b.WriteString("\nnotes:\n")
		for _, f := range notes {
			b.WriteString("  - " + f.Message)
			if f.Fix != "" {
				b.WriteString(". Fix: " + f.Fix)
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n")
	switch n := x.problems(); n {
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
	if x.unwrapped {
		x.problem("link-percent-encoded", "the whole link was percent-encoded (https%3A%2F%2F...), as for a parameter of another URL; explaining it as decoded once",
			"send the link itself; decode it once where it was embedded in another URL")
	}
	target := x.repairTarget(x.req.Target)
	x.req.Cookies = x.repairCookies(x.req.Cookies)
	if target != x.req.Target || x.unwrapped {
		x.req.Target = target
		x.out.RepairedURL = x.req.Scheme + "://" + x.req.Host + elide(target)
		field(&x.b, "repaired", x.out.RepairedURL+" (the Signature and Policy values are not shown)")
	}
	_, query := cfsign.SplitTarget(x.req.Target)
	x.creds = cfsign.ParseCredentials(query, x.req.Cookies)
	x.out.Mode = x.creds.Mode.String()
	x.checkURL(query)
	if !x.checkMode(query) {
		return
	}
	x.checkKeyID()
	x.checkSignature()
	x.checkHash()

	c := x.creds
	switch {
	case c.HasExpires && c.HasPolicy:
		x.problem("expires-and-policy", fmt.Sprintf("both %s and %s are present (MalformedPolicy)", x.name("Expires"), x.name("Policy")),
			"a link carries Expires (canned policy) or Policy (custom policy), never both; drop Expires when you send a Policy")
	case !c.HasExpires && !c.HasPolicy:
		x.problem("no-expires-or-policy", fmt.Sprintf("neither %s nor %s is present (MalformedPolicy)", x.name("Expires"), x.name("Policy")),
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
func (x *explanation) checkURL(query string) {
	if n := len(x.raw); n > cfsign.MaxURLLength {
		x.problem("url-too-long", fmt.Sprintf("the URL is %d bytes, over CloudFront's limit of %d", n, cfsign.MaxURLLength),
			"shorten the URL, or use signed cookies")
	}
	if strings.Contains(x.raw, "#") {
		x.note("fragment", "the #fragment is never sent to the server, so it is not part of what was signed", "")
	}
	if port := defaultPort(x.req.Scheme, x.req.Host); port != "" {
		x.problem("default-port", fmt.Sprintf("the host %q has the default port %s; browsers drop it, so the edge sees the host without it and the signed resource differs", x.req.Host, port),
			"sign and send the URL without "+port)
	}
	if isS3Host(x.req.Host) {
		x.problem("s3-host", fmt.Sprintf("the host %q is an Amazon S3 endpoint: S3 never checks CloudFront signatures (it answers \"Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters\")", x.req.Host),
			"request the file through the CloudFront distribution's domain (or signet's host) and sign that URL")
	}
	if names := s3Params(query); len(names) > 0 {
		x.note("s3-parameters", fmt.Sprintf("the query has %s, S3's own signing parameters; CloudFront and signet ignore them and read Expires or Policy, Signature and Key-Pair-Id", strings.Join(names, ", ")),
			"drop the S3 parameters; a CloudFront signed URL needs no IAM credentials")
	}
}

// checkMode reports where the credentials come from; false means there
// are none and nothing more to say.
func (x *explanation) checkMode(query string) bool {
	switch x.creds.Mode {
	case cfsign.ModeNone:
		field(&x.b, "mode", "none")
		x.problem("no-credentials", "no signing parameters in the query and no CloudFront-* cookies (MissingKey)",
			"sign the URL (signet sign), or pass the cookies with --cookie")
		return false
	case cfsign.ModeCookie:
		field(&x.b, "mode", "cookie (CloudFront-* cookies)")
	case cfsign.ModeURL:
		field(&x.b, "mode", "url (signing parameters in the query)")
		if cfsign.ParseCredentials("", x.req.Cookies).Mode == cfsign.ModeCookie {
			x.problem("cookies-ignored", fmt.Sprintf("the query has %s, so this is a signed-URL request: the query wins and the CloudFront-* cookies are ignored", strings.Join(reservedIn(query), ", ")),
				"drop the signing parameters from the URL to use the cookies (a site parameter with a reserved name turns cookies off)")
		}
	}
	if r := x.creds.Repeated; r != "" {
		x.problem("repeated-parameter", fmt.Sprintf("%s appears more than once in the query; signet refuses repeated signing parameters (AccessDenied)", r),
			"keep one of each; was the URL signed twice?")
	}
	return true
}

func (x *explanation) checkKeyID() {
	c, name := x.creds, x.name("Key-Pair-Id")
	if !c.HasKeyID || c.KeyID == "" {
		x.missing("key id", name, "key-id-missing", cfsign.MissingKey, "add the id of a public key the edge trusts (K...)")
		return
	}
	f := keyIDFinding(name, c.KeyID)
	if f.Code == "key-id-pem" {
		field(&x.b, "key id", "(a PEM key, not shown)")
	} else {
		id := c.KeyID
		if len(id) > 64 {
			id = id[:64] + "..."
		}
		field(&x.b, "key id", strconv.Quote(id))
		x.out.KeyID = id
	}
	x.add(f)
}

// sigLengths are the CloudFront base64 lengths of each key type's
// signatures (§9). ECDSA DER signatures are 70-72 bytes, now and then
// shorter.
var sigLengths = []struct {
	min, max    int
	what, short string
}{
	{88, 96, "ECDSA P-256 (ASN.1 DER, usually 70-72 bytes)", "ECDSA P-256"},
	{172, 172, "RSA-1024 (128 bytes; a legacy size)", "RSA-1024"},
	{344, 344, "RSA-2048 (256 bytes)", "RSA-2048"},
	{684, 684, "RSA-4096 (512 bytes)", "RSA-4096"},
}

func (x *explanation) checkSignature() {
	c, name := x.creds, x.name("Signature")
	if !c.HasSignature || c.Signature == "" {
		x.missing("signature", name, "signature-missing", cfsign.MalformedSignature, "sign the link again; was it cut short?")
		return
	}
	fs, raw := base64Findings("signature", name, c.Signature)
	n := len(strings.Join(strings.Fields(unescapeLenient(c.Signature)), ""))
	algo := ""
	for _, l := range sigLengths {
		if l.min <= n && n <= l.max {
			algo = l.what
			x.out.Algorithm = l.short
		}
	}
	x.out.SignatureLength = n
	if algo == "" {
		field(&x.b, "signature", fmt.Sprintf("%d characters, not a length any CloudFront key produces", n))
	} else {
		field(&x.b, "signature", fmt.Sprintf("%d characters: likely %s", n, algo))
	}
	for i := range fs {
		fs[i].Message += " (MalformedSignature)"
	}
	x.add(fs...)
	x.sigBytes = len(raw)
	switch {
	case len(raw) == 20 || len(raw) == 32:
		x.problem("signature-digest", fmt.Sprintf("%s decodes to %d bytes, the size of a bare SHA-%s digest or HMAC: CloudFront signatures are RSA (128 to 512 bytes) or ECDSA (about 70 bytes) signatures made with the private key", name, len(raw), map[int]string{20: "1", 32: "256"}[len(raw)]),
			"sign the policy with the private key (RSA PKCS#1 v1.5 or ECDSA), not with an HMAC or a hash")
	case len(fs) == 0 && algo == "":
		x.problem("signature-length", fmt.Sprintf("%s is %d characters, a length no CloudFront key produces (ECDSA P-256: 96, RSA-2048: 344)", name, n),
			"copy the whole link again; it may have been cut")
	}
	x.tildeNote(name, c.Signature)
}

func (x *explanation) checkHash() {
	c, name := x.creds, x.name("Hash-Algorithm")
	switch h := hashName(c); {
	case !c.HasHashAlg:
		field(&x.b, "hash", "SHA1 ("+name+" absent)")
		x.out.Hash = "SHA1"
		if 64 <= x.sigBytes && x.sigBytes <= 72 {
			x.note("hash-sha1-ecdsa", "the signature looks like ECDSA and there is no "+name+", so it is checked with SHA-1; if it was made with SHA-256 (openssl dgst -sha256, Node createSign('SHA256'), Java SHA256withECDSA), it fails",
				"add "+name+"=SHA256 when you sign with SHA-256")
		}
	case h != "":
		field(&x.b, "hash", h)
		x.out.Hash = h
	default:
		field(&x.b, "hash", "unknown")
		x.problem("hash-unknown", fmt.Sprintf("%s %.20q is neither SHA1 nor SHA256 (AccessDenied)", name, c.HashAlg),
			"write exactly SHA256 (upper case, no dash), or leave it out for SHA-1")
	}
}

// cannedPolicy rebuilds a canned policy as the edge does (§4.1) and returns
// it; its Expires is 0 when the Expires value is unusable.
func (x *explanation) cannedPolicy() *cfsign.Policy {
	name := x.name("Expires")
	resource := cfsign.RebuildResource(x.req.Scheme, x.req.Host, x.req.Target)
	b := cfsign.AppendCanned(nil, resource, x.creds.Expires)
	field(&x.b, "policy", fmt.Sprintf("canned, rebuilt from the URL and %s (%d bytes)", name, len(b)))
	shown := cfsign.AppendCanned(nil, x.shownResource(), x.creds.Expires)
	x.b.WriteString(indentJSON(shown))
	x.out.PolicyKind = "canned"
	if json.Valid(shown) {
		x.out.Policy = shown
	}
	exp, err := cfsign.ParseExpires(x.creds.Expires)
	if err != nil {
		f := epochFinding("expires", name, x.creds.Expires)
		if f.Code == "" {
			f = finding{Code: "expires-invalid", Severity: sevError, Message: name + ": " + err.Error(), Fix: "write the expiry as plain Unix seconds, such as 1767290400"}
		}
		f.Message += " (MalformedPolicy)"
		x.add(f)
	}
	return &cfsign.Policy{Resource: resource, HasResource: true, Expires: exp}
}

// shownResource is the canned resource for display: the signing values of
// misnamed parameters left in the query are elided.
func (x *explanation) shownResource() string {
	path, query := cfsign.SplitTarget(x.req.Target)
	q := elideQuery(cfsign.StripQuery(query))
	if q != "" {
		q = "?" + q
	}
	return x.req.Scheme + "://" + lowerASCII(x.req.Host) + path + q
}

func (x *explanation) cannedResource(p *cfsign.Policy, query string) {
	field(&x.b, "resource", x.shownResource()+" (rebuilt from this URL, so it matches)")
	x.out.Resource = x.shownResource()
	path, _ := cfsign.SplitTarget(x.req.Target)
	stripped := cfsign.StripQuery(query)
	if strings.Contains(path+stripped, "*") {
		x.note("canned-wildcard", "the URL has '*', but a canned policy can't hold wildcards: this link works for the literal '*' only",
			"for a wildcard, sign a custom policy: signet sign --resource 'https://host/dir/*' ...")
	}
	if h := x.req.Host; h != lowerASCII(h) {
		x.problem("host-upper-case", fmt.Sprintf("the host %q has upper-case letters; the edge lower-cases the host before rebuilding the resource, so a link signed over these bytes fails", h),
			"sign and send the URL with a lower-case host")
	}
	if stripped != "" {
		x.note("canned-query", fmt.Sprintf("the query %q is part of the canned resource: the link works only with exactly the query it was signed with, in the same order", elideQuery(stripped)), "")
	}
	if after := afterSigning(query); len(after) > 0 {
		x.problem("added-after-signing", fmt.Sprintf("%q follows the signing parameters, so it was probably added after signing; a canned resource covers the whole query, which then no longer matches the signature", elideQuery(strings.Join(after, "&"))),
			"add parameters to the URL before signing it")
	}
}

// customPolicy decodes and strictly parses a custom policy, and returns it
// or nil.
func (x *explanation) customPolicy() *cfsign.Policy {
	name := x.name("Policy")
	x.out.PolicyKind = "custom"
	var b []byte
	if v := strings.TrimSpace(unescapeLenient(x.creds.Policy)); strings.HasPrefix(v, "{") {
		x.problem("policy-raw-json", name+" is the policy JSON itself, not its CloudFront base64 (MalformedPolicy)",
			"base64 the JSON, then "+trFix)
		b = []byte(v)
	} else {
		fs, raw := base64Findings("policy", name, x.creds.Policy)
		for i := range fs {
			fs[i].Message += " (MalformedPolicy)"
		}
		x.add(fs...)
		if raw == nil {
			field(&x.b, "policy", "custom, but "+name+" does not decode")
			return nil
		}
		b = raw
		x.tildeNote(name, x.creds.Policy)
	}
	field(&x.b, "policy", fmt.Sprintf("custom, sent in %s (%d bytes)", name, len(b)))
	shape := policyShapeFindings(name, b)
	x.add(shape...)
	if !json.Valid(b) {
		if !slices.ContainsFunc(shape, func(f finding) bool { return f.Code == "policy-url-encoded" }) {
			x.problem("policy-not-json", name+" decodes to something that is not JSON (MalformedPolicy)",
				"encode the policy JSON itself, once")
		}
		return nil
	}
	x.b.WriteString(indentJSON(b))
	x.out.Policy = b
	p, err := cfsign.ParsePolicy(b)
	if err != nil {
		exp, start := looseEpochs(b)
		for _, e := range []struct{ name, value string }{{"DateLessThan", exp}, {"DateGreaterThan", start}} {
			if e.value == "" {
				continue
			}
			if f := epochFinding("policy-epoch", e.name, e.value); f.Code != "" {
				f.Message += " (MalformedPolicy)"
				x.add(f)
			}
		}
		x.problem("policy-malformed", "the policy is refused as MalformedPolicy: "+err.Error(),
			"sign a policy with one statement, known keys each given once, epochs in seconds and an IPv4 CIDR range")
		return nil
	}
	return p
}

func (x *explanation) checkTimes(p *cfsign.Policy) {
	exp := p.ExpiresTime()
	x.out.ExpiresAt = exp.Format(time.RFC3339)
	if x.now.Unix() >= p.Expires {
		field(&x.b, "expires", exp.Format(time.RFC3339)+" (expired "+relative(exp, x.now)+")")
		x.problem("expired", fmt.Sprintf("the link expired at %s, %s (AccessDenied)", exp.Format(time.RFC3339), relative(exp, x.now)),
			"sign a new link; if it expired too early, check the signer's and the edge's clocks (NTP)")
	} else {
		field(&x.b, "expires", exp.Format(time.RFC3339)+" (expires "+relative(exp, x.now)+")")
	}
	if p.NotBefore == 0 {
		return
	}
	start := p.NotBeforeTime()
	x.out.NotBefore = start.Format(time.RFC3339)
	field(&x.b, "not before", timeAndRelative(start, x.now))
	if x.now.Unix() <= p.NotBefore {
		x.problem("not-yet-valid", fmt.Sprintf("the link is not valid until %s, %s (AccessDenied)", start.Format(time.RFC3339), relative(start, x.now)),
			"wait, or sign with an earlier --not-before; check the clocks (NTP)")
	}
}

func (x *explanation) checkIP(p *cfsign.Policy) {
	if !p.SourceIP.IsValid() {
		return
	}
	field(&x.b, "client IP", "only "+p.SourceIP.String())
	x.out.SourceIP = p.SourceIP.String()
	ip := x.req.ClientIP.Unmap()
	switch {
	case !ip.IsValid():
		x.note("ip-no-client", "the policy admits only clients in "+p.SourceIP.String()+"; pass --client-ip to check an address", "")
	case !ip.Is4():
		x.problem("ip-ipv6-client", fmt.Sprintf("the client %s is IPv6, and the policy's IP condition %s can only match IPv4 (AccessDenied)", ip, p.SourceIP),
			"reach the edge over IPv4, or sign without --ip")
	case !p.SourceIP.Contains(ip):
		x.problem("ip-outside", fmt.Sprintf("the client %s is outside the policy's range %s (AccessDenied)", ip, p.SourceIP),
			"sign for the address the edge sees (behind NAT or a proxy it differs), or widen the range")
	}
}

func (x *explanation) customResource(p *cfsign.Policy, query string) {
	if !p.HasResource {
		field(&x.b, "resource", "none")
		x.problem("policy-no-resource", "the policy has no Resource: CloudFront accepts it for any URL, and signet refuses it unless the behavior allows that (AccessDenied)",
			"add a Resource naming the URLs the policy covers")
		return
	}
	field(&x.b, "resource", p.Resource)
	x.out.Resource = p.Resource
	if containsAnyFold(p.Resource, "%3A%2F%2F") && !strings.Contains(p.Resource, "://") {
		x.problem("resource-url-encoded", "the Resource is URL-encoded (https%3A%2F%2F...): the URL was percent-encoded before it went into the policy (AccessDenied)",
			"put the URL into the policy as it will be requested, not encoded")
		return
	}
	pat, err := cfsign.ParsePattern(p.Resource)
	if err != nil {
		x.problem("resource-invalid", "the Resource is not a valid pattern (MalformedPolicy): "+err.Error(),
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
		shown := req[i]
		if i == 3 {
			shown = elideQuery(shown)
		}
		fmt.Fprintf(tw, "  \t%s\t%q\t%q\t%s\n", sectionNames[i], sec[i], shown, ok)
	}
	tw.Flush()
	for i := range m {
		if !m[i] {
			x.mismatch(p.Resource, i, sec[i], req)
		}
	}
	if pat.DomainWildcard() {
		x.note("resource-domain-wildcard", fmt.Sprintf("the resource's domain %q has a wildcard, which also matches other people's hosts; the edge answers only its own hosts, but name the host exactly if you can", sec[1]), "")
	}
	if i := strings.IndexByte(sec[2], '*'); i >= 0 && i < len(sec[2])-1 && !strings.Contains(sec[2], `\*`) {
		q := ""
		if sec[3] == "" {
			q = "; and as the path does not end in '*', the link allows no query"
		}
		x.note("resource-wildcard-middle", fmt.Sprintf("the resource's path %q has '*' before its end: '*' matches any characters, '/' included, so it covers any number of directory levels%s", sec[2], q),
			"end the resource in '*' (https://host/dir/*) if that is what you mean")
	}
	if after := afterSigning(query); len(after) > 0 {
		what := fmt.Sprintf("%q follows the signing parameters, so it was probably added after signing", elideQuery(strings.Join(after, "&")))
		if m == [4]bool{true, true, true, true} {
			x.note("added-after-signing-covered", what+"; the resource's wildcard covers it", "")
		} else {
			x.problem("added-after-signing", what+", and the resource does not cover it", "add parameters before signing, or sign a resource whose query is *")
		}
	}
}

// mismatch reports a resource section that does not match the URL.
func (x *explanation) mismatch(resource string, i int, pattern string, req [4]string) {
	value := req[i]
	if i == 3 {
		value = elideQuery(value)
	}
	// Encoded differently: the section matches once both sides are decoded.
	decoded := [4]string{req[0], req[1], unescapeLenient(req[2]), unescapeLenient(req[3])}
	if dr := unescapeLenient(resource); dr != resource || decoded != req {
		if dp, err := cfsign.ParsePattern(dr); err == nil && dp.MatchSections(decoded[0], decoded[1], decoded[2], decoded[3])[i] {
			x.problem("resource-encoding-differs", fmt.Sprintf("the resource's %s %q and this URL's %q differ only in percent-encoding: the URL was encoded (or decoded) after the policy was made (AccessDenied)", sectionNames[i], pattern, value),
				"put into the policy the URL exactly as it will be requested, encoded the same way, and send it unchanged")
			return
		}
	}
	var fix string
	switch i {
	case 0:
		if pattern == "https" || pattern == "http" {
			x.problem("resource-scheme", fmt.Sprintf("the URL uses %s but the policy was signed for %s (AccessDenied)", value, pattern),
				fmt.Sprintf("request the %s:// URL, or sign the resource as http*://...", pattern))
			return
		}
		fix = "request the URL with the scheme the resource names"
	case 1:
		if pattern != lowerASCII(pattern) {
			x.problem("resource-domain-case", fmt.Sprintf("the resource's domain %q has upper-case letters, but the edge compares the lower-cased host, so it never matches (AccessDenied)", pattern),
				"sign the resource with a lower-case host")
			return
		}
		if stripPort(pattern) == stripPort(value) {
			x.problem("resource-port", fmt.Sprintf("the resource's domain %q and this URL's host %q differ only in the port (AccessDenied)", pattern, value),
				"sign the host exactly as it is requested: with a port only when the URL has one, and never :443 or :80")
			return
		}
		fix = "sign for the host clients use (a CNAME and the *.cloudfront.net name are different hosts)"
	case 2:
		fix = "sign a resource whose path covers this one (end it in * for a directory)"
	case 3:
		fix = "the query must match exactly: end the resource's path in * (or its query in *) to allow any query, or drop the extra parameters"
	}
	x.problem("resource-"+sectionNames[i], fmt.Sprintf("the resource does not match this URL: its %s section %q does not match %q (AccessDenied)", sectionNames[i], pattern, value), fix)
}

// tildeNote notes a value that a form encoder has touched.
func (x *explanation) tildeNote(name, value string) {
	if strings.Contains(strings.ToUpper(value), "%7E") {
		x.note("tilde-encoded", name+" has %7E where CloudFront base64 has '~': accepted, but a form encoder (such as Go's url.Values.Encode) re-encoded the link; check that nothing else changed", "")
	}
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

// stripPort drops a ":port" from a host.
func stripPort(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		return host[:i]
	}
	return host
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
