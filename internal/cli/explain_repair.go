package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/signet-dev/signet/internal/cfsign"
)

// A link often reaches the user changed after it was signed: an email client
// or a chat app percent-encoded it once more, an HTML template escaped its
// '&' as "&amp;", a signer appended its parameters with a second '?', or
// named them in the wrong case. The edge sees such a link as having no
// signing parameters, and "sign the URL" would send the user the wrong way.
// explain undoes these changes, says which it undid, and explains the link
// as it was before.

// repair is one way a link is changed after signing, and how to undo it.
type repair struct {
	code, fix string
	// undo returns the target with the change undone and what was undone,
	// or ok false when the change is not there.
	undo func(target string) (t, what string, ok bool)
}

var repairs = []repair{
	{
		code: "link-html-escaped",
		fix:  "&amp; belongs only inside an HTML attribute; put the link in plain text, a redirect or an API answer with '&' as signed",
		undo: unescapeAmp,
	},
	{
		code: "link-percent-encoded",
		fix:  "send the link exactly as signed: don't pass the signed link through urlencode, encodeURIComponent or a URL builder (encode the URL before signing, never after)",
		undo: decodeQuery,
	},
	{
		code: "second-question-mark",
		fix:  "append the signing parameters with '&' when the URL already has a '?'",
		undo: secondQuestionMark,
	},
}

// repairTarget undoes the changes in repairs, one at a time, as long as each
// uncovers more signing parameters, and reports each one undone. It returns
// the target to explain. A link whose query (or cookies) already carries
// everything a signed request needs is explained as it is: repairs are for
// links the edge could not read at all.
func (x *explanation) repairTarget(target string) string {
	_, query := cfsign.SplitTarget(target)
	if complete(cfsign.ParseCredentials(query, nil)) || complete(cfsign.ParseCredentials("", x.req.Cookies)) {
		return target
	}
	for range 8 {
		best := signingParams(target)
		changed := false
		for _, r := range repairs {
			t, what, ok := r.undo(target)
			if ok && signingParams(t) > best {
				x.problem(r.code, what, r.fix)
				target, changed = t, true
				break
			}
		}
		if !changed {
			break
		}
	}
	if t, renamed := renameParams(target); len(renamed) > 0 {
		for _, rn := range renamed {
			x.problem("param-name", fmt.Sprintf("the query has %q, but the parameter is %s, spelled exactly so (names are case-sensitive), so the edge does not see it; explaining it as %s", rn.from, rn.to, rn.to),
				"write the name "+rn.to+" exactly, in this case")
		}
		target = t
	}
	return target
}

// repairCookies renames CloudFront-* cookies written in the wrong case
// (CloudFront-Key-Pair-ID) and reports each. It returns the headers to use.
func (x *explanation) repairCookies(headers []string) []string {
	present := map[string]bool{}
	for _, h := range headers {
		for pair := range strings.SplitSeq(h, ";") {
			name, _, _ := strings.Cut(pair, "=")
			present[strings.TrimSpace(name)] = true
		}
	}
	out := make([]string, len(headers))
	for i, h := range headers {
		var b strings.Builder
		for j, pair := range strings.Split(h, ";") {
			if j > 0 {
				b.WriteByte(';')
			}
			lead := len(pair) - len(strings.TrimLeft(pair, " \t"))
			name, value, ok := strings.Cut(pair[lead:], "=")
			name = strings.TrimRight(name, " \t")
			if to := cookieName(name); ok && to != "" && to != name && !present[to] {
				present[to] = true
				x.problem("param-name", fmt.Sprintf("the cookie %q should be %s, spelled exactly so (names are case-sensitive), so the edge does not see it; explaining it as %s", name, to, to),
					"name the cookie "+to+" exactly")
				pair = pair[:lead] + to + "=" + value
			}
			b.WriteString(pair)
		}
		out[i] = b.String()
	}
	return out
}

// complete reports whether c holds a key id, a signature and an expiry or
// a policy.
func complete(c cfsign.Credentials) bool {
	return c.KeyID != "" && c.Signature != "" && (c.HasExpires || c.HasPolicy)
}

// signingParams counts the query elements of target named exactly as a
// signing parameter: the measure of whether a repair uncovered something.
func signingParams(target string) int {
	_, query := cfsign.SplitTarget(target)
	n := 0
	for elem := range strings.SplitSeq(query, "&") {
		if name, _, _ := strings.Cut(elem, "="); cfsign.IsReserved(name) {
			n++
		}
	}
	return n
}

// unescapeAmp replaces HTML's escaped ampersands with '&', as often as they
// were escaped ("&amp;amp;" from a template that escaped twice).
func unescapeAmp(target string) (string, string, bool) {
	r := strings.NewReplacer("&amp;", "&", "&AMP;", "&", "&#38;", "&", "&#x26;", "&", "&#X26;", "&")
	t := target
	for range 4 {
		u := r.Replace(t)
		if u == t {
			break
		}
		t = u
	}
	return t, "the link has \"&amp;\" where it should have '&': it was copied from HTML source or escaped twice by a template, so the edge sees \"amp;Signature\" and so on instead of the signing parameters; explaining it with '&'", t != target
}

// maxEncodings is how many rounds of percent-encoding decodeQuery undoes
// at most.
const maxEncodings = 4

// decodeQuery undoes rounds of percent-encoding, up to maxEncodings, and
// stops at the first that uncovers signing parameters: a link pasted
// through two tools that each encoded it is decoded twice. When the '?'
// itself was encoded (%3F), the whole path and query were encoded as one
// value and all of it is decoded; otherwise only the query is.
func decodeQuery(target string) (string, string, bool) {
	t, before := target, signingParams(target)
	for n := 1; n <= maxEncodings; n++ {
		u, ok := decodeQueryOnce(t)
		if !ok {
			break
		}
		t = u
		if signingParams(t) > before {
			times, decoded := "once more", "decoded once"
			if n > 1 {
				times = fmt.Sprintf("%d more times (each time after the first, '%%' became %%25: %%253D for '=')", n)
				decoded = fmt.Sprintf("decoded %d times", n)
			}
			return t, fmt.Sprintf("the link's query was percent-encoded %s after signing (%%3D for '=', %%26 for '&', %%3F for '?'), so the edge sees no signing parameters; explaining it as %s", times, decoded), true
		}
	}
	return target, "", false
}

// decodeQueryOnce undoes one round of percent-encoding (see decodeQuery).
func decodeQueryOnce(target string) (string, bool) {
	if path, query, ok := strings.Cut(target, "?"); ok {
		d := unescapeLenient(query)
		return path + "?" + d, d != query
	}
	i := strings.Index(strings.ToUpper(target), "%3F")
	if i < 0 {
		return target, false
	}
	return unescapeLenient(target), true
}

// secondQuestionMark turns a '?' inside the query that precedes a signing
// parameter into '&'.
func secondQuestionMark(target string) (string, string, bool) {
	path, query, ok := strings.Cut(target, "?")
	if !ok {
		return target, "", false
	}
	for _, name := range reservedNames {
		if i := strings.Index(query, "?"+name+"="); i >= 0 {
			return path + "?" + query[:i] + "&" + query[i+1:], "the signing parameters follow a second '?': the signer appended \"?Expires=...\" to a URL that already had a query, so the edge reads them as part of the value before; explaining it with '&'", true
		}
	}
	return target, "", false
}

// reservedNames are the signing parameters, in the order signers write them.
var reservedNames = []string{"Expires", "Policy", "Signature", "Key-Pair-Id", "Hash-Algorithm"}

type renamed struct{ from, to string }

// renameParams renames query elements whose name is a signing parameter
// written differently (key-pair-id, Key-Pair-ID, KeyPairId, signature, the
// cookie name CloudFront-Key-Pair-Id) when the exact name is absent.
func renameParams(target string) (string, []renamed) {
	path, query, ok := strings.Cut(target, "?")
	if !ok {
		return target, nil
	}
	elems := strings.Split(query, "&")
	present := map[string]bool{}
	for _, e := range elems {
		name, _, _ := strings.Cut(e, "=")
		present[name] = true
	}
	var done []renamed
	for i, e := range elems {
		name, value, hasValue := strings.Cut(e, "=")
		to := signingName(name)
		if to == "" || to == name || present[to] || !hasValue {
			continue
		}
		present[to] = true
		elems[i] = to + "=" + value
		done = append(done, renamed{name, to})
	}
	if len(done) == 0 {
		return target, nil
	}
	return path + "?" + strings.Join(elems, "&"), done
}

// signingName returns the signing parameter that name means, or "": the name
// compared without case, '-', '_' and a "CloudFront-" cookie prefix.
func signingName(name string) string {
	n := squash(name)
	n = strings.TrimPrefix(n, "cloudfront")
	for _, r := range reservedNames {
		if squash(r) == n {
			return r
		}
	}
	return ""
}

// cookieName returns the CloudFront-* cookie that name means, or "" when it
// is not one.
func cookieName(name string) string {
	n := squash(name)
	if !strings.HasPrefix(n, "cloudfront") {
		return ""
	}
	if p := signingName(name); p != "" {
		return "CloudFront-" + p
	}
	return ""
}

// squash lower-cases s and drops '-', '_', '.' and spaces.
func squash(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '-' || c == '_' || c == '.' || c == ' ':
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// unescapeLenient decodes each valid %XX escape once and leaves everything
// else, '+' and a stray '%' included, as it is.
func unescapeLenient(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b = append(b, byte(n))
				i += 2
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}

// unwrapURL undoes a percent-encoding of the whole link
// ("https%3A%2F%2Fmedia.example.com%2F..."), which leaves nothing a URL
// parser would recognise. It returns the link to explain and whether it
// decoded it.
func unwrapURL(raw string) (string, bool) {
	u := strings.ToUpper(raw)
	if strings.HasPrefix(u, "HTTPS%3A%2F%2F") || strings.HasPrefix(u, "HTTP%3A%2F%2F") {
		return unescapeLenient(raw), true
	}
	return raw, false
}

// oneSlash reports a URL written "https:/host/..." (one slash), which a
// hand-written signer produced by joining "https:/" and a path.
func oneSlash(raw string) error {
	for _, scheme := range []string{"https:/", "http:/"} {
		if len(raw) > len(scheme) && strings.EqualFold(raw[:len(scheme)], scheme) && raw[len(scheme)] != '/' {
			return fmt.Errorf("URL has one slash after %q; write %s/%s", raw[:len(scheme)-1], raw[:len(scheme)], raw[len(scheme):])
		}
	}
	return nil
}

// elide returns target with the values of Signature and Policy (and of any
// parameter spelled like them), and a PEM key sent as Key-Pair-Id, replaced
// by their length, for display.
func elide(target string) string {
	path, query, ok := strings.Cut(target, "?")
	if !ok {
		return target
	}
	return path + "?" + elideQuery(query)
}

// elideQuery is elide for a query without its '?'.
func elideQuery(query string) string {
	elems := strings.Split(query, "&")
	for i, e := range elems {
		name, value, ok := strings.Cut(e, "=")
		p := signingName(name)
		if ok && value != "" && (p == "Signature" || p == "Policy" || p == "Key-Pair-Id" && strings.Contains(unescapeLenient(value), "-----BEGIN")) {
			elems[i] = name + "=<" + strconv.Itoa(len(value)) + " characters>"
		}
	}
	return strings.Join(elems, "&")
}
