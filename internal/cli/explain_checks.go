package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

// The checks on single values: what a hand-written signer does to a
// Signature, a Policy, an epoch or a key id, recognised from the value
// alone. Each returns findings; none quotes a Signature or Policy value.

// trFix is the one-line fix for base64 that skipped CloudFront's mapping.
const trFix = "after standard base64, change '+' to '-', '=' to '_' and '/' to '~' (shell: tr '+=/' '-_~'; Python: .replace('+', '-').replace('=', '_').replace('/', '~'); Node: .replace(/\\+/g, '-').replace(/=/g, '_').replace(/\\//g, '~'))"

// base64Findings explains why a Signature or Policy value is not CloudFront
// base64 (§3): encoded twice, line breaks, spaces, standard base64 (plain or
// percent-encoded), base64url, stray characters, lost padding. code is the
// parameter's prefix for finding codes ("signature" or "policy"), name its
// name as the request carries it. It also returns the bytes the value most
// likely stands for (nil if none), so the caller can judge their length.
func base64Findings(code, name, value string) ([]finding, []byte) {
	if b, err := cfsign.Decode(value); err == nil {
		return nil, b
	}
	var out []finding
	add := func(kind, what, fix string) {
		out = append(out, finding{Code: code + "-" + kind, Severity: sevError, Message: what, Fix: fix})
	}
	s := value
	if strings.Contains(strings.ToUpper(s), "%25") {
		add("encoded-twice", name+" was percent-encoded twice (%25 is an encoded '%', so %253D is '=' encoded twice)",
			"encode the link at most once; CloudFront base64 needs no URL encoding at all")
		s = unescapeLenient(s)
	}
	encodedStd := containsAnyFold(s, "%2B", "%2F", "%3D")
	d := unescapeLenient(s)

	// White space: line breaks from base64 tools, spaces from form decoding.
	if i := strings.IndexAny(d, "\r\n"); i >= 0 {
		if strings.TrimRight(d, "\r\n") == d[:i] {
			add("trailing-newline", name+" ends with a line break: the newline that base64 tools (and echo) print was kept",
				"strip it: $(...) in shell, .strip() in Python, .trim() in JavaScript, or openssl base64 -A / base64 -w0")
		} else {
			what := name + " is broken into lines"
			if w := lineWidth(d); w > 0 {
				what = fmt.Sprintf("%s of %d characters%s", what, w, wrapTool(w))
			}
			add("line-wrapped", what,
				"ask for one line: openssl base64 -A, base64 -w0, Ruby Base64.strict_encode64, Python base64.b64encode (or delete the line breaks: tr -d '\\n')")
		}
	}
	if strings.ContainsAny(d, " \t") {
		add("space", name+" has spaces where standard base64 had '+': the link went through a form decoder, which reads '+' as a space",
			"use CloudFront base64, whose '-' no decoder changes: "+trFix)
	}
	d = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, d)

	var raw []byte
	switch {
	case strings.Contains(d, "%"):
		add("broken-escape", name+" has a broken %-escape", "copy the link again without editing it")
	case strings.Contains(strings.TrimRight(d, "_="), "_"):
		add("base64url", name+" looks like base64url ('_' before the end: Python urlsafe_b64encode, Node 'base64url', Go base64.URLEncoding), not CloudFront base64",
			"use standard base64 and then the CloudFront mapping: base64url turns '/' into '_' where CloudFront wants '~', and drops the padding CloudFront keeps as '_'")
		raw, _ = base64.RawURLEncoding.DecodeString(strings.TrimRight(d, "="))
	case encodedStd:
		add("standard-base64", name+" is standard base64, then percent-encoded (%2B, %2F or %3D): CloudFront base64 replaces '+', '=' and '/' instead of escaping them", trFix)
		raw, _ = base64.StdEncoding.DecodeString(d)
	case strings.ContainsAny(d, "+/="):
		var left []string
		for _, m := range []struct{ from, to string }{{"+", "'+' to '-'"}, {"=", "'=' to '_'"}, {"/", "'/' to '~'"}} {
			if strings.Contains(d, m.from) {
				left = append(left, m.to)
			}
		}
		add("standard-base64", fmt.Sprintf("%s is standard base64: the mapping to CloudFront base64 was skipped or is incomplete (not done here: %s)", name, strings.Join(left, ", ")), trFix)
		raw, _ = base64.StdEncoding.DecodeString(d)
	case !onlyB64(d) && d != "":
		for i := 0; i < len(d); i++ {
			if !isB64(d[i]) {
				add("bad-character", fmt.Sprintf("%s has %q at offset %d, outside CloudFront base64 (A-Z a-z 0-9 - _ ~)", name, d[i], i),
					"copy the link again, without line breaks or spaces")
				break
			}
		}
	case len(d)%4 != 0:
		add("padding-stripped", fmt.Sprintf("%s is %d characters, not a multiple of 4: its '_' padding was stripped (base64url and some helpers do that) or the link was cut", name, len(d)),
			"keep the padding as '_': "+trFix)
		raw, _ = base64.RawStdEncoding.DecodeString(strings.NewReplacer("-", "+", "~", "/").Replace(d))
	default:
		if b, err := cfsign.Decode(d); err == nil {
			raw = b // only the white space above was wrong
		} else if len(out) == 0 {
			add("invalid", name+" is not valid CloudFront base64 (bad padding or trailing bits)", "copy the whole link again; it may have been cut")
		}
	}
	return out, raw
}

// lineWidth returns the length of the lines of a wrapped value when all but
// the last are equal, or 0.
func lineWidth(s string) int {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' })
	if len(lines) < 2 {
		return 0
	}
	w := len(lines[0])
	for _, l := range lines[1 : len(lines)-1] {
		if len(l) != w {
			return 0
		}
	}
	if len(lines[len(lines)-1]) > w {
		return 0
	}
	return w
}

// wrapTool names the tools that wrap base64 at width w.
func wrapTool(w int) string {
	switch w {
	case 60:
		return ": Ruby's Base64.encode64 wraps at 60"
	case 64:
		return ": openssl base64 (without -A) wraps at 64"
	case 76:
		return ": GNU base64 (without -w0) and Python's base64.encodebytes wrap at 76"
	}
	return ""
}

func containsAnyFold(s string, subs ...string) bool {
	u := strings.ToUpper(s)
	for _, sub := range subs {
		if strings.Contains(u, sub) {
			return true
		}
	}
	return false
}

func onlyB64(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isB64(s[i]) {
			return false
		}
	}
	return s != ""
}

func isB64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '~'
}

// epochFinding explains an epoch CloudFront refuses (§7), or returns a
// finding with an empty Code. code is the prefix for the finding code
// ("expires" or "policy-epoch"), name the field ("Expires",
// "DateLessThan"), s the value as sent (a query value, or the raw JSON of a
// policy epoch).
func epochFinding(code, name, s string) finding {
	f := func(kind, what, fix string) finding {
		return finding{Code: code + "-" + kind, Severity: sevError, Message: what, Fix: fix}
	}
	const seconds = "write the time as whole Unix seconds, such as 1767290400"
	v := s
	if code == "expires" {
		v = unescapeLenient(s)
	}
	if uq, err := strconv.Unquote(v); err == nil && strings.HasPrefix(v, `"`) {
		if n, err := strconv.ParseInt(uq, 10, 64); err == nil && n > 0 {
			return f("string", fmt.Sprintf("%s is a JSON string (%s); CloudFront wants a number", name, v),
				fmt.Sprintf(`write the number without quotes: {"AWS:EpochTime":%d}`, n))
		}
		v = uq
	}
	if t, ok := parseDate(v); ok {
		return f("date", fmt.Sprintf("%s %.40q is a date, not Unix seconds", name, v),
			fmt.Sprintf("send Unix seconds: %d for this time (Python: int(dt.timestamp()); JavaScript: Math.floor(date.getTime() / 1000))", t.Unix()))
	}
	if x, err := strconv.ParseFloat(v, 64); err == nil && strings.ContainsAny(v, ".eE") && strings.Trim(v, "0123456789.eE+-") == "" {
		what := fmt.Sprintf("%s %.24s has a fraction or an exponent: Python's time.time() and timedelta.total_seconds() give floats", name, v)
		if x >= 1e12 {
			what = fmt.Sprintf("%s %.24s is a floating-point number of milliseconds", name, v)
		}
		return f("fraction", what,
			"send whole seconds: int(time.time()) + lifetime in Python, Math.floor(Date.now() / 1000) + lifetime in JavaScript")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	switch {
	case err != nil && v != "" && strings.Trim(v, "0123456789") == "":
		return f("too-late", fmt.Sprintf("%s %.20s... is far too large for Unix seconds", name, v), seconds)
	case err != nil:
		return f("invalid", fmt.Sprintf("%s %.20q is not a whole number of seconds", name, v), seconds)
	case n > cfsign.MaxEpoch && n >= 1e12 && n/1000 <= cfsign.MaxEpoch:
		return f("milliseconds", fmt.Sprintf("%s %d is in milliseconds, not seconds", name, n),
			"divide by 1000 (in JavaScript: Math.floor(Date.now() / 1000))")
	case n > cfsign.MaxEpoch:
		return f("too-late", fmt.Sprintf("%s %d is after %s, the largest epoch CloudFront accepts", name, n, cfsign.MaxExpiry),
			"choose an earlier expiry; check the number of digits (10 for seconds)")
	case n < 1:
		return f("too-early", fmt.Sprintf("%s %d is not after 1970-01-01T00:00:00Z", name, n), seconds)
	}
	return finding{}
}

// dateLayouts are the ways signers write a date where seconds belong:
// ISO 8601 (JavaScript toISOString, Python isoformat and str), HTTP dates,
// JavaScript's Date.toString and US dates.
var dateLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999", "2006-01-02 15:04:05.999999-07:00",
	"2006-01-02 15:04:05.999999", "2006-01-02 15:04:05", "2006-01-02",
	time.RFC1123, time.RFC1123Z, time.UnixDate, time.RFC850,
	"Mon Jan 02 2006 15:04:05 GMT-0700", "01/02/2006 15:04:05", "01/02/2006",
}

func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, " ("); i > 0 { // JavaScript: "... GMT+0000 (Coordinated Universal Time)"
		s = s[:i]
	}
	// A form encoder writes spaces as '+'; a time zone offset has a '+' too.
	for _, c := range []string{s, strings.ReplaceAll(s, "+", " ")} {
		for _, l := range dateLayouts {
			if t, err := time.Parse(l, c); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// placeholders are what an unset variable prints in the languages signers
// are written in.
var placeholders = []string{"undefined", "null", "none", "nil", "nan", "[object object]", "false", "true"}

// keyIDFinding explains a Key-Pair-Id that cannot name a trusted key, or
// returns a finding with an empty Code. id is the raw value.
func keyIDFinding(name, id string) finding {
	f := func(kind, what, fix string) finding {
		return finding{Code: "key-id-" + kind, Severity: sevError, Message: what, Fix: fix}
	}
	const realID = "use the id CloudFront (or signet keygen) shows for the public key, such as K2JCJMDEHXQW5F"
	d := unescapeLenient(id)
	lower := strings.ToLower(strings.TrimSpace(d))
	switch {
	case strings.Contains(d, "-----BEGIN"):
		return f("pem", name+" holds a PEM key, not a key id (the key is not shown)", "pass the key id, and keep the key itself out of links; "+realID)
	case slices.Contains(placeholders, lower):
		return f("placeholder", fmt.Sprintf("%s is %q: the variable meant to hold the key id was unset when the link was built", name, d), "set the variable (check its name and the environment); "+realID)
	case strings.Contains(d, "${") || strings.Contains(d, "{{") || strings.Contains(d, "%(") || strings.HasPrefix(d, "<") || strings.HasPrefix(d, "$"):
		return f("placeholder", fmt.Sprintf("%s is the template placeholder %.40q, never filled in", name, d), "substitute the real key id into the template")
	case strings.ContainsAny(d, " \t\r\n"):
		return f("whitespace", name+" has white space, so no trusted id matches it (InvalidKey)", "remove the white space copied along with the id (a newline from reading a file: .strip() / .trim())")
	case len(d) == 20 && (strings.HasPrefix(d, "AKIA") || strings.HasPrefix(d, "ASIA")):
		return f("access-key", name+" is an IAM access key id (AKIA.../ASIA...), not a CloudFront key id (InvalidKey)", realID+"; IAM credentials play no part in signed URLs")
	case isLowerID(d):
		return f("lower-case", fmt.Sprintf("%s %q is in lower case; key ids are upper case and compared exactly (InvalidKey)", name, d), "write it in upper case: "+strings.ToUpper(d))
	}
	if err := cfsign.CheckKeyID(id); err != nil {
		return f("invalid", name+": "+strings.TrimPrefix(err.Error(), "cfsign: "), realID)
	}
	return finding{}
}

// isLowerID reports an id shaped like a CloudFront key id (K + 13, or APKA +
// 16) written in lower case.
func isLowerID(s string) bool {
	if s != strings.ToLower(s) || s == strings.ToUpper(s) {
		return false
	}
	u := strings.ToUpper(s)
	if !(len(u) == 14 && u[0] == 'K' || len(u) == 20 && strings.HasPrefix(u, "APKA")) {
		return false
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// iamKeys are keys of IAM and S3 bucket policies that people put into a
// CloudFront policy.
var iamKeys = []string{"Version", "Id", "Sid", "Effect", "Principal", "Action", "NotAction", "NotResource", "AWS:CurrentTime", "aws:CurrentTime", "aws:SourceIp", "AWS:SourceIP"}

// policyShapeFindings looks at a decoded policy's form: URL-encoded JSON,
// white space (the bytes signed must be the bytes sent), Statement as a bare
// object, IAM policy syntax.
func policyShapeFindings(name string, b []byte) []finding {
	var out []finding
	if bytes.HasPrefix(bytes.ToUpper(b), []byte("%7B")) {
		out = append(out, finding{Code: "policy-url-encoded", Severity: sevError,
			Message: name + " decodes to URL-encoded JSON (%7B%22...): the JSON was URL-encoded before base64",
			Fix:     "base64 the JSON text itself, then " + trFix})
		return out
	}
	if !json.Valid(b) {
		return out
	}
	var compact bytes.Buffer
	if json.Compact(&compact, b) == nil && compact.Len() != len(b) {
		out = append(out, finding{Code: "policy-whitespace", Severity: sevNote,
			Message: name + " holds white space or line breaks: that works only if the signature was made over these exact bytes; a signer that strips white space before signing (as AWS's openssl example does) but sends the pretty-printed policy, or the reverse, fails",
			Fix:     "serialise the policy once, compactly, and use that one string both to sign and to send (Python: json.dumps(p, separators=(',', ':')))"})
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(b, &doc) == nil {
		if st, ok := doc["Statement"]; ok && bytes.HasPrefix(bytes.TrimSpace(st), []byte("{")) {
			out = append(out, finding{Code: "policy-statement-object", Severity: sevNote,
				Message: "the policy's Statement is a bare object; signet accepts it, but CloudFront documents a list holding one statement, and a policy like this was reported refused as MalformedPolicy",
				Fix:     `write "Statement":[{...}] (in PHP, wrap the statement in array(...) once more)`})
		}
	}
	var found []string
	for _, k := range iamKeys {
		if bytes.Contains(b, []byte(`"`+k+`"`)) {
			found = append(found, k)
		}
	}
	if len(found) > 0 {
		out = append(out, finding{Code: "policy-iam", Severity: sevError,
			Message: fmt.Sprintf("the policy has %s, which belong to IAM or S3 bucket policies; a CloudFront signing policy has only Statement, Resource and Condition (DateLessThan, DateGreaterThan, IpAddress)", strings.Join(found, ", ")),
			Fix:     `sign {"Statement":[{"Resource":"https://host/path","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}`})
	}
	return out
}

// isS3Host reports whether host is an Amazon S3 endpoint, which answers a
// CloudFront-signed link with its own query-authentication error.
func isS3Host(host string) bool {
	h := lowerASCII(host)
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	if !strings.HasSuffix(h, ".amazonaws.com") {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(h, ".amazonaws.com"), ".") {
		if label == "s3" || strings.HasPrefix(label, "s3-") {
			return true
		}
	}
	return false
}

// s3Params lists the S3 query-authentication parameters in a raw query.
func s3Params(query string) []string {
	var names []string
	for elem := range strings.SplitSeq(query, "&") {
		name, _, _ := strings.Cut(elem, "=")
		switch name {
		case "AWSAccessKeyId", "X-Amz-Signature", "X-Amz-Credential", "X-Amz-Algorithm":
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	return names
}
