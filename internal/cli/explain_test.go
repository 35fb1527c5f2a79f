package cli_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/cli"
)

// Crafted links for explain, which checks form, not signatures: the
// signature is any value of the right length. Times are judged at a fixed
// --at, one hour before the expiry.
const (
	host    = "https://media.example.com"
	kid     = "K2JCJMDEHXQW5F"
	expires = "1767290400" // 2026-01-01T18:00:00Z
	at      = "2026-01-01T17:00:00Z"
)

// sig96 is a 96-character CloudFront base64 value, an ECDSA-sized signature.
var sig96 = cfsign.Encode(bytes.Repeat([]byte{0x5a}, 71))

// canned returns a canned link for path (which may hold a query).
func canned(path string) string {
	return withQuery(host+path, "Expires="+expires+"&Signature="+sig96+"&Key-Pair-Id="+kid)
}

// custom returns a custom-policy link for path with the given policy JSON.
func custom(path, policy string) string {
	return withQuery(host+path, "Policy="+cfsign.Encode([]byte(policy))+"&Signature="+sig96+"&Key-Pair-Id="+kid+"&Hash-Algorithm=SHA256")
}

func withQuery(u, q string) string {
	if strings.Contains(u, "?") {
		return u + "&" + q
	}
	return u + "?" + q
}

// policyJSON is a policy for resource, expiring at expires, with extra
// members appended inside Condition.
func policyJSON(resource, extra string) string {
	return `{"Statement":[{"Resource":"` + resource + `","Condition":{"DateLessThan":{"AWS:EpochTime":` + expires + `}` + extra + `}}]}`
}

// explained is explain's --json output, as docs/cli.md documents it; the
// strict decode pins the shape.
type explained struct {
	OK              bool             `json:"ok"`
	Problems        int              `json:"problems"`
	Mode            string           `json:"mode"`
	RepairedURL     string           `json:"repaired_url"`
	KeyID           string           `json:"key_id"`
	Hash            string           `json:"hash"`
	SignatureLength int              `json:"signature_length"`
	Algorithm       string           `json:"algorithm"`
	PolicyKind      string           `json:"policy_kind"`
	Policy          json.RawMessage  `json:"policy"`
	ExpiresAt       string           `json:"expires_at"`
	NotBefore       string           `json:"not_before"`
	SourceIP        string           `json:"source_ip"`
	Resource        string           `json:"resource"`
	Findings        []explainFinding `json:"findings"`
}

type explainFinding struct {
	Code     string `json:"code"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	Fix      string `json:"fix"`
}

// explainJSON runs explain --json at the fixed time with args (flags, then
// the URL last) and decodes its output.
func explainJSON(t *testing.T, args ...string) (explained, result) {
	t.Helper()
	r := run(t, append([]string{"explain", "--json", "--at", at}, args...)...)
	if r.code == 2 {
		t.Fatalf("explain %v: exit 2: %s", args, r.stderr)
	}
	return decodeJSON[explained](t, r.stdout), r
}

// find returns the finding with code, or false.
func (e explained) find(code string) (explainFinding, bool) {
	for _, f := range e.Findings {
		if f.Code == code {
			return f, true
		}
	}
	return explainFinding{}, false
}

// errors returns the codes of the error findings.
func (e explained) errors() []string {
	var codes []string
	for _, f := range e.Findings {
		if f.Severity == "error" {
			codes = append(codes, f.Code)
		}
	}
	return codes
}

func TestExplainGood(t *testing.T) {
	tilde := cfsign.Encode(bytes.Repeat([]byte{0xff}, 72)) // 96 '~'
	tests := []struct {
		name  string
		url   string
		flags []string
		want  []string
	}{
		{
			name: "canned",
			url:  canned("/a.jpg"),
			want: []string{
				"note: explain has no keys and does not check the signature; signet verify does\n",
				"mode:       url (signing parameters in the query)\n",
				`key id:     "K2JCJMDEHXQW5F"` + "\n",
				"signature:  96 characters: likely ECDSA P-256 (ASN.1 DER, usually 70-72 bytes)\n",
				"hash:       SHA1 (Hash-Algorithm absent)\n",
				"policy:     canned, rebuilt from the URL and Expires (120 bytes)\n",
				`        "Resource": "https://media.example.com/a.jpg",` + "\n",
				"expires:    2026-01-01T18:00:00Z (expires in 1h)\n",
				"resource:   https://media.example.com/a.jpg (rebuilt from this URL, so it matches)\n",
				"result: no problems found; the signature was not checked (signet verify does that)\n",
			},
		},
		{
			name:  "custom",
			url:   custom("/videos/a.ts?v=2", policyJSON(host+"/videos/*", `,"IpAddress":{"AWS:SourceIp":"203.0.113.0/24"},"DateGreaterThan":{"AWS:EpochTime":1767281400}`)),
			flags: []string{"--client-ip", "203.0.113.9"},
			want: []string{
				"hash:       SHA256\n",
				"policy:     custom, sent in Policy (",
				"expires:    2026-01-01T18:00:00Z (expires in 1h)\n",
				"not before: 2026-01-01T15:30:00Z (1h30m ago)\n",
				"client IP:  only 203.0.113.0/24\n",
				"resource:   https://media.example.com/videos/*\n",
				`protocol  "https"              "https"              yes`,
				`domain    "media.example.com"  "media.example.com"  yes`,
				`path      "/videos/*"          "/videos/a.ts"       yes`,
				`query     "*"                  "v=2"                yes`,
				"result: no problems found",
			},
		},
		{
			name:  "cookies",
			url:   host + "/a.jpg",
			flags: []string{"--cookie", "CloudFront-Expires=" + expires + "; CloudFront-Signature=" + sig96 + "; CloudFront-Key-Pair-Id=" + kid},
			want:  []string{"mode:       cookie (CloudFront-* cookies)\n", "hash:       SHA1 (CloudFront-Hash-Algorithm absent)\n", "result: no problems found"},
		},
		{
			name: "tilde sent as %7E is only a note",
			url:  withParam(t, canned("/a.jpg"), "Signature", strings.ReplaceAll(tilde, "~", "%7E")),
			want: []string{"signature:  96 characters: likely ECDSA", "Signature has %7E where CloudFront base64 has '~': accepted, but a form encoder", "result: no problems found"},
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"explain", "--at", at}, tc.flags...)
			r := run(t, append(args, tc.url)...)
			if r.code != 0 || r.stderr != "" {
				t.Errorf("exit %d, stderr %q; want 0 and nothing\n%s", r.code, r.stderr, r.stdout)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
			if strings.Contains(r.stdout, sig96) || strings.Contains(r.stdout, tilde[:20]) {
				t.Errorf("output shows the signature:\n%s", r.stdout)
			}
			out, _ := explainJSON(t, append(tc.flags, tc.url)...)
			if !out.OK || out.Problems != 0 || len(out.errors()) != 0 {
				t.Errorf("--json: ok %v, problems %d, errors %v; want ok", out.OK, out.Problems, out.errors())
			}
		})
	}
}

// TestExplainRealLinks explains links signed by signet sign: no problems,
// and the algorithm guessed from the signature length.
func TestExplainRealLinks(t *testing.T) {
	for _, tc := range []struct{ typ, algo, hash string }{
		{"rsa", "344 characters: likely RSA-2048", "SHA1 (Hash-Algorithm absent)"},
		{"ecdsa", "96 characters: likely ECDSA P-256", "SHA256"},
	} {
		k := keygen(t, tc.typ)
		for _, flags := range [][]string{
			{"--expires-in", "1h"},
			{"--expires-in", "1h", "--resource", host + "/v/*", "--not-before", unix(-time.Hour), "--ip", "198.51.100.0/24"},
		} {
			signed := signURL(t, k, host+"/v/a.ts?q=1", flags...)
			r := run(t, "explain", "--client-ip", "198.51.100.20", signed)
			if r.code != 0 {
				t.Errorf("explain %s link: exit %d; want 0\n%s", tc.typ, r.code, r.stdout)
			}
			for _, want := range []string{tc.algo, "hash:       " + tc.hash + "\n", "(expires in 59m", "result: no problems found"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("explain %s link: output lacks %q:\n%s", tc.typ, want, r.stdout)
				}
			}
			noSecrets(t, r, signed)
		}
	}
}

// TestExplainProblems crafts one link per mistake explain recognises from
// the CloudFront contract and checks its code and line, with exit status 1.
// (The mistakes of hand-written signers are in TestExplainHandWritten.)
func TestExplainProblems(t *testing.T) {
	stdB64 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xfb, 0xff}, 35)) // 70 bytes: '+', '/' and '='
	urlB64 := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xff, 0xfb}, 35))
	good := canned("/a.jpg")
	tests := []struct {
		name  string
		url   string
		flags []string
		code  string
		want  string
	}{
		// Time.
		{"expires in milliseconds", withParam(t, good, "Expires", "1767290400000"), nil, "expires-milliseconds",
			"Expires 1767290400000 is in milliseconds, not seconds (MalformedPolicy). Fix: divide by 1000"},
		{"policy epoch in milliseconds", custom("/a.jpg", strings.Replace(policyJSON(host+"/a.jpg", ""), expires, "1767290400000", 1)), nil, "policy-epoch-milliseconds",
			"DateLessThan 1767290400000 is in milliseconds, not seconds (MalformedPolicy)"},
		{"expires past 2038", withParam(t, good, "Expires", "2147483648"), nil, "expires-too-late",
			"Expires 2147483648 is after 2038-01-19T03:14:07Z, the largest epoch CloudFront accepts (MalformedPolicy)"},
		{"policy epoch before 1970", custom("/a.jpg", strings.Replace(policyJSON(host+"/a.jpg", ""), expires, "0", 1)), nil, "policy-epoch-too-early",
			"DateLessThan 0 is not after 1970-01-01T00:00:00Z (MalformedPolicy)"},
		{"expires leading zero", withParam(t, good, "Expires", "0"+expires), nil, "expires-invalid",
			`Expires: cfsign: Expires is not a valid epoch: "01767290400" has a leading zero (MalformedPolicy)`},
		{"expired", good, []string{"--at", "2026-01-01T18:03:00Z"}, "expired", "the link expired at 2026-01-01T18:00:00Z, 3m ago (AccessDenied). Fix: sign a new link"},
		{"not yet valid", custom("/a.jpg", policyJSON(host+"/a.jpg", `,"DateGreaterThan":{"AWS:EpochTime":1767288600}`)), nil, "not-yet-valid",
			"the link is not valid until 2026-01-01T17:30:00Z, in 30m (AccessDenied)"},

		// Signature and its encoding.
		{"standard base64", withParam(t, good, "Signature", stdB64), nil, "signature-standard-base64",
			"Signature is standard base64: the mapping to CloudFront base64 was skipped or is incomplete (not done here: '+' to '-', '=' to '_', '/' to '~') (MalformedSignature). Fix: after standard base64, change '+' to '-', '=' to '_' and '/' to '~' (shell: tr '+=/' '-_~'"},
		{"base64url", withParam(t, good, "Signature", urlB64), nil, "signature-base64url",
			"Signature looks like base64url ('_' before the end"},
		{"padding stripped", withParam(t, good, "Signature", strings.TrimRight(cfsign.Encode(make([]byte, 70)), "_")), nil, "signature-padding-stripped",
			"Signature is 94 characters, not a multiple of 4: its '_' padding was stripped"},
		{"odd character", withParam(t, good, "Signature", "abc!"+sig96[4:]), nil, "signature-bad-character",
			`Signature has '!' at offset 3, outside CloudFront base64`},
		{"broken escape", withParam(t, good, "Signature", sig96[:90]+"%zz"), nil, "signature-broken-escape", "Signature has a broken %-escape"},
		{"truncated signature", withParam(t, good, "Signature", cfsign.Encode(make([]byte, 30))), nil, "signature-length",
			"Signature is 40 characters, a length no CloudFront key produces"},
		{"missing signature", strings.Replace(good, "&Signature="+sig96, "", 1), nil, "signature-missing",
			"Signature is missing or empty (MalformedSignature)"},
		{"unknown hash", good + "&Hash-Algorithm=SHA-256", nil, "hash-unknown",
			`Hash-Algorithm "SHA-256" is neither SHA1 nor SHA256 (AccessDenied). Fix: write exactly SHA256`},

		// Parameters.
		{"both Expires and Policy", custom("/a.jpg", policyJSON(host+"/a.jpg", "")) + "&Expires=" + expires, nil, "expires-and-policy",
			"both Expires and Policy are present (MalformedPolicy)"},
		{"neither Expires nor Policy", host + "/a.jpg?Signature=" + sig96 + "&Key-Pair-Id=" + kid, nil, "no-expires-or-policy",
			"neither Expires nor Policy is present (MalformedPolicy)"},
		{"missing key id", strings.Replace(good, "&Key-Pair-Id="+kid, "", 1), nil, "key-id-missing",
			"Key-Pair-Id is missing or empty (MissingKey)"},
		{"whitespace in key id", withParam(t, good, "Key-Pair-Id", kid+"%20"), nil, "key-id-whitespace",
			"Key-Pair-Id has white space, so no trusted id matches it (InvalidKey)"},
		{"bad key id", withParam(t, good, "Key-Pair-Id", "K1!"), nil, "key-id-invalid", `Key-Pair-Id: key id has '!' at offset 2`},
		{"repeated parameter", good + "&Key-Pair-Id=" + kid, nil, "repeated-parameter",
			"Key-Pair-Id appears more than once in the query; signet refuses repeated signing parameters (AccessDenied)"},
		{"no credentials", host + "/a.jpg", nil, "no-credentials",
			"no signing parameters in the query and no CloudFront-* cookies (MissingKey)"},
		{"cookies ignored", good, []string{"--cookie", "CloudFront-Key-Pair-Id=" + kid + "; CloudFront-Policy=x"}, "cookies-ignored",
			"the query has Expires, Signature, Key-Pair-Id, so this is a signed-URL request: the query wins and the CloudFront-* cookies are ignored"},
		{"cookie missing key id", host + "/a.jpg", []string{"--cookie", "CloudFront-Expires=" + expires + "; CloudFront-Signature=" + sig96}, "key-id-missing",
			"CloudFront-Key-Pair-Id is missing or empty (MissingKey)"},
		{"added after signing, canned", good + "&utm_source=mail", nil, "added-after-signing",
			`"utm_source=mail" follows the signing parameters, so it was probably added after signing; a canned resource covers the whole query`},
		{"added after signing, custom", custom("/a.jpg", policyJSON(host+"/a.jpg", "")) + "&utm_source=mail", nil, "added-after-signing",
			`"utm_source=mail" follows the signing parameters, so it was probably added after signing, and the resource does not cover it`},

		// The URL and the resource.
		{"upper-case host, canned", strings.Replace(good, "media.example.com", "Media.example.com", 1), nil, "host-upper-case",
			`the host "Media.example.com" has upper-case letters; the edge lower-cases the host`},
		{"upper-case resource domain", custom("/a.jpg", policyJSON("https://Media.example.com/*", "")), nil, "resource-domain-case",
			`the resource's domain "Media.example.com" has upper-case letters, but the edge compares the lower-cased host`},
		{"default port", strings.Replace(good, "media.example.com", "media.example.com:443", 1), nil, "default-port",
			`the host "media.example.com:443" has the default port :443; browsers drop it`},
		{"http vs https", strings.Replace(custom("/a.jpg", policyJSON(host+"/*", "")), "https://", "http://", 1), nil, "resource-scheme",
			"the URL uses http but the policy was signed for https (AccessDenied). Fix: request the https:// URL"},
		{"path mismatch", custom("/images/a.jpg", policyJSON(host+"/videos/*", "")), nil, "resource-path",
			`the resource does not match this URL: its path section "/videos/*" does not match "/images/a.jpg" (AccessDenied)`},
		{"domain mismatch", custom("/a.jpg", policyJSON("https://d111111abcdef8.cloudfront.net/*", "")), nil, "resource-domain",
			`its domain section "d111111abcdef8.cloudfront.net" does not match "media.example.com"`},
		{"query mismatch", custom("/a.jpg?size=large", policyJSON(host+"/a.jpg", "")), nil, "resource-query",
			`its query section "" does not match "size=large"`},
		{"long URL", canned("/" + strings.Repeat("a", 8200)), nil, "url-too-long", "over CloudFront's limit of 8192"},

		// The policy.
		{"duplicate key", custom("/a.jpg", `{"Statement":[{"Resource":"`+host+`/*","Resource":"`+host+`/a.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":`+expires+`}}}]}`), nil, "policy-malformed",
			`the policy is refused as MalformedPolicy: cfsign: malformed policy: duplicate key "Resource" in Statement`},
		{"unknown key", custom("/a.jpg", policyJSON(host+"/a.jpg", `,"StringLike":{"AWS:Referer":"x"}`)), nil, "policy-malformed",
			`unknown condition "StringLike"`},
		{"IPv6 range", custom("/a.jpg", policyJSON(host+"/a.jpg", `,"IpAddress":{"AWS:SourceIp":"2001:db8::/32"}`)), nil, "policy-malformed",
			`AWS:SourceIp "2001:db8::/32" is not IPv4`},
		{"no Resource", custom("/a.jpg", `{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":`+expires+`}}}]}`), nil, "policy-no-resource",
			"the policy has no Resource"},
		{"bad pattern", custom("/a.jpg", policyJSON(host+`/a\\b`, "")), nil, "resource-invalid",
			"the Resource is not a valid pattern (MalformedPolicy)"},
		{"policy not JSON", withParam(t, custom("/a.jpg", "{}"), "Policy", cfsign.Encode([]byte("hello"))), nil, "policy-not-json",
			"Policy decodes to something that is not JSON (MalformedPolicy)"},
		{"client outside the IP range", custom("/a.jpg", policyJSON(host+"/a.jpg", `,"IpAddress":{"AWS:SourceIp":"203.0.113.0/24"}`)), []string{"--client-ip", "198.51.100.7"}, "ip-outside",
			"the client 198.51.100.7 is outside the policy's range 203.0.113.0/24 (AccessDenied)"},
		{"IPv6 client", custom("/a.jpg", policyJSON(host+"/a.jpg", `,"IpAddress":{"AWS:SourceIp":"203.0.113.0/24"}`)), []string{"--client-ip", "2001:db8::1"}, "ip-ipv6-client",
			"the client 2001:db8::1 is IPv6"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"explain", "--at", at}, tc.flags...)
			r := run(t, append(args, tc.url)...)
			if r.code != 1 {
				t.Errorf("exit %d; want 1", r.code)
			}
			problems := findings(r.stdout, "problems (")
			if !containsLine(problems, tc.want) {
				t.Errorf("no problem line contains %q:\n%s", tc.want, r.stdout)
			}
			for _, line := range problems {
				if !strings.Contains(line, ". Fix: ") {
					t.Errorf("problem line without a fix: %q", line)
				}
			}
			if !strings.Contains(r.stdout, "problem found\n") && !strings.Contains(r.stdout, "problems found\n") {
				t.Errorf("output lacks the result line:\n%s", r.stdout)
			}
			if r.stderr != "" {
				t.Errorf("stderr = %q; want nothing", r.stderr)
			}
			noPanic(t, r)
			noSecrets(t, r, tc.url)

			out, rj := explainJSON(t, append(tc.flags, tc.url)...)
			if f, ok := out.find(tc.code); !ok || f.Severity != "error" || f.Fix == "" {
				t.Errorf("--json findings %+v; want an error %q with a fix", out.Findings, tc.code)
			}
			if out.OK || out.Problems != len(problems) || rj.code != 1 {
				t.Errorf("--json: ok %v, problems %d, exit %d; want false, %d, 1", out.OK, out.Problems, rj.code, len(problems))
			}
			noSecrets(t, rj, tc.url)
		})
	}
}

// TestExplainNotes checks findings that are worth knowing but do not make
// the link fail: exit status 0.
func TestExplainNotes(t *testing.T) {
	tests := []struct {
		name  string
		url   string
		flags []string
		code  string
		want  string
	}{
		{"canned query", canned("/a.jpg?size=large"), nil, "canned-query",
			`the query "size=large" is part of the canned resource`},
		{"canned with a star", canned("/videos/*"), nil, "canned-wildcard",
			"the URL has '*', but a canned policy can't hold wildcards: this link works for the literal '*' only"},
		{"added after signing, covered", custom("/a.jpg", policyJSON(host+"/a.jpg*", "")) + "&utm=1", nil, "added-after-signing-covered",
			`"utm=1" follows the signing parameters, so it was probably added after signing; the resource's wildcard covers it`},
		{"domain wildcard", custom("/a.jpg", policyJSON("https://media*", "")), nil, "resource-domain-wildcard",
			`the resource's domain "media*" has a wildcard, which also matches other people's hosts`},
		{"IP without a client", custom("/a.jpg", policyJSON(host+"/a.jpg", `,"IpAddress":{"AWS:SourceIp":"203.0.113.0/24"}`)), nil, "ip-no-client",
			"the policy admits only clients in 203.0.113.0/24; pass --client-ip to check an address"},
		{"fragment", canned("/a.jpg") + "#t=10", nil, "fragment", "the #fragment is never sent to the server"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"explain", "--at", at}, tc.flags...)
			r := run(t, append(args, tc.url)...)
			if r.code != 0 {
				t.Errorf("exit %d; want 0\n%s", r.code, r.stdout)
			}
			if !containsLine(findings(r.stdout, "notes:"), tc.want) {
				t.Errorf("no note contains %q:\n%s", tc.want, r.stdout)
			}
			out, _ := explainJSON(t, append(tc.flags, tc.url)...)
			if f, ok := out.find(tc.code); !ok || f.Severity != "note" || !out.OK {
				t.Errorf("--json: ok %v, findings %+v; want ok and a note %q", out.OK, out.Findings, tc.code)
			}
		})
	}
}

func TestExplainErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no scheme", []string{"media.example.com/a.jpg"}, "URL must be absolute"},
		{"bad scheme", []string{"ftp://media.example.com/a.jpg"}, `URL scheme "ftp" is not http or https`},
		{"bad at", []string{"--at", "1767290400000", canned("/a.jpg")}, "looks like milliseconds"},
		{"bad client ip", []string{"--client-ip", "localhost", canned("/a.jpg")}, `--client-ip "localhost" is not an IP address`},
		{"unknown flag", []string{"--pubkey", "x", canned("/a.jpg")}, "unknown flag --pubkey"},
		// A signer joined "https:/" and a path (jasonsims/aws-cloudfront-sign#2).
		{"one slash", []string{"https:/media.example.com/a.jpg?Expires=" + expires}, `URL has one slash after "https:"; write https://media.example.com/a.jpg`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, run(t, append([]string{"explain"}, tc.args...)...), "explain", tc.want)
		})
	}
}

// TestExplainJSON pins the --json shape and formatting: the documented
// members (decoded strictly), the same two-space indentation as the other
// commands' --json, and never a Signature or raw Policy value.
func TestExplainJSON(t *testing.T) {
	link := custom("/videos/a.ts", policyJSON(host+"/videos/*", `,"IpAddress":{"AWS:SourceIp":"203.0.113.0/24"},"DateGreaterThan":{"AWS:EpochTime":1767281400}`))
	out, r := explainJSON(t, "--client-ip", "203.0.113.9", link)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0", r.code, r.stderr)
	}
	want := explained{OK: true, Mode: "url", KeyID: kid, Hash: "SHA256", SignatureLength: 96, Algorithm: "ECDSA P-256",
		PolicyKind: "custom", ExpiresAt: "2026-01-01T18:00:00Z", NotBefore: "2026-01-01T15:30:00Z", SourceIP: "203.0.113.0/24", Resource: host + "/videos/*"}
	got := out
	got.Policy, got.Findings = nil, nil
	if !equalExplained(got, want) {
		t.Errorf("explain --json =\n%+v\nwant\n%+v", got, want)
	}
	if p, err := cfsign.ParsePolicy(out.Policy); err != nil || p.Resource != host+"/videos/*" {
		t.Errorf("policy %s: %v", out.Policy, err)
	}
	if out.Findings == nil || len(out.Findings) != 0 {
		t.Errorf("findings = %#v; want []", out.Findings)
	}
	if !strings.HasPrefix(r.stdout, "{\n  \"ok\": true,\n  \"problems\": 0,\n  \"mode\": \"url\",\n") || !strings.Contains(r.stdout, "\n  \"findings\": []\n}\n") {
		t.Errorf("--json is not indented like verify --json:\n%s", r.stdout)
	}
	noSecrets(t, r, link)

	// A broken link: findings in order, each with code, severity, message
	// and fix; the repaired URL elides the signature.
	broken := strings.ReplaceAll(canned("/a.jpg"), "&", "&amp;")
	out, r = explainJSON(t, broken)
	if r.code != 1 || out.OK || out.Problems != 1 {
		t.Fatalf("exit %d, ok %v, problems %d; want 1, false, 1\n%s", r.code, out.OK, out.Problems, r.stdout)
	}
	if f := out.Findings[0]; f.Code != "link-html-escaped" || f.Severity != "error" || f.Message == "" || f.Fix == "" {
		t.Errorf("first finding = %+v; want link-html-escaped with a message and fix", f)
	}
	if want := host + "/a.jpg?Expires=" + expires + "&Signature=<96 characters>&Key-Pair-Id=" + kid; out.RepairedURL != want {
		t.Errorf("repaired_url = %q; want %q", out.RepairedURL, want)
	}
	if strings.Contains(r.stdout, sig96[:16]) {
		t.Errorf("--json shows the signature:\n%s", r.stdout)
	}
}

func equalExplained(a, b explained) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// findings returns the "  - " lines of the explain output section whose
// header line starts with header ("problems (" or "notes:").
func findings(out, header string) []string {
	var lines []string
	in := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, header):
			in = true
		case in && strings.HasPrefix(line, "  - "):
			lines = append(lines, strings.TrimPrefix(line, "  - "))
		case in:
			return lines
		}
	}
	return lines
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}

// FuzzExplain runs explain on arbitrary URLs and cookies: it always answers
// with exit status 0, 1 or 2, one error line for 2, and never panics; --json
// is valid JSON whose problem count matches its error findings and the exit
// status; neither form ever shows a Signature or Policy value it was given.
func FuzzExplain(f *testing.F) {
	f.Add(canned("/a.jpg"), "")
	f.Add(custom("/v/a.ts?x=1", policyJSON(host+"/v/*", `,"IpAddress":{"AWS:SourceIp":"10.0.0.0/8"}`)), "")
	f.Add(host+"/a.jpg", "CloudFront-Expires="+expires+"; CloudFront-Signature=%7E%7e_; CloudFront-Key-Pair-Id=K1")
	f.Add("https://H:443?Expires=01&Expires=&Policy=e30_&Signature=a+b/&Hash-Algorithm=x#f", "Cookie: a")
	f.Add("http://h/"+strings.Repeat("%", 3)+"?Policy=%&Key-Pair-Id=%20", "Set-Cookie: CloudFront-Policy=__")
	f.Add(strings.ReplaceAll(canned("/a.jpg"), "&", "&amp;"), "")
	f.Add(host+"/a.jpg%3FExpires%3D"+expires+"%26Signature%3D"+sig96+"%26key-pair-id%3D"+kid, "")
	f.Add("https%3A%2F%2Fh%2Fa%3Fx%3D1%3FExpires%3D2026-01-01%26Signature%3Dab%252B%250A", "CloudFront-Key-Pair-ID=undefined")
	f.Fuzz(func(t *testing.T, rawURL, cookie string) {
		var stdout, stderr bytes.Buffer
		code := cli.Main(t.Context(), []string{"explain", "--at", at, "--cookie", cookie, "--", rawURL}, &stdout, &stderr)
		switch code {
		case 0, 1:
			if stderr.Len() != 0 || !strings.Contains(stdout.String(), "\nresult: ") {
				t.Fatalf("exit %d: stderr %q, stdout %q", code, stderr.String(), stdout.String())
			}
		case 2:
			if stdout.Len() != 0 || strings.Count(stderr.String(), "\n") != 1 {
				t.Fatalf("exit 2: stdout %q, stderr %q; want one error line", stdout.String(), stderr.String())
			}
			return
		default:
			t.Fatalf("exit %d; want 0, 1 or 2", code)
		}
		text := stdout.String()
		var jout bytes.Buffer
		jcode := cli.Main(t.Context(), []string{"explain", "--json", "--at", at, "--cookie", cookie, "--", rawURL}, &jout, &stderr)
		var out struct {
			OK       bool `json:"ok"`
			Problems int  `json:"problems"`
			Findings []struct{ Code, Severity, Message string }
		}
		if err := json.Unmarshal(jout.Bytes(), &out); err != nil {
			t.Fatalf("--json output is not JSON: %v\n%s", err, jout.String())
		}
		n := 0
		for _, f := range out.Findings {
			if f.Code == "" || f.Message == "" || (f.Severity != "error" && f.Severity != "note") {
				t.Fatalf("finding %+v lacks a code, message or severity", f)
			}
			if f.Severity == "error" {
				n++
			}
		}
		if jcode != code || out.Problems != n || out.OK != (n == 0) || (n > 0) != (code == 1) {
			t.Fatalf("text exit %d, --json exit %d, problems %d, ok %v, %d error findings", code, jcode, out.Problems, out.OK, n)
		}
		for _, v := range secretValues(rawURL, cookie) {
			if strings.Contains(text, v) || strings.Contains(jout.String(), v) {
				t.Fatalf("output shows the value %q:\n%s\n%s", v, text, jout.String())
			}
		}
	})
}

// secretValues returns the Signature and Policy values in a URL and cookie
// header that are long enough to recognise and appear nowhere else in them
// (a path explain shows may hold the same bytes).
func secretValues(rawURL, cookie string) []string {
	var vals []string
	_, query, _ := strings.Cut(rawURL, "?")
	for elem := range strings.SplitSeq(query, "&") {
		name, v, _ := strings.Cut(elem, "=")
		if name == "Signature" || name == "Policy" {
			vals = append(vals, v)
		}
	}
	for pair := range strings.SplitSeq(cookie, ";") {
		name, v, _ := strings.Cut(strings.TrimSpace(pair), "=")
		if name == "CloudFront-Signature" || name == "CloudFront-Policy" {
			vals = append(vals, v)
		}
	}
	var out []string
	for _, v := range vals {
		if len(v) >= 24 && onlyCloudFrontB64(v) && strings.Count(rawURL+"\x00"+cookie, v) == 1 {
			out = append(out, v)
		}
	}
	return out
}

func onlyCloudFrontB64(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// TestExplainCodesDocumented holds docs/cli.md to every finding code explain
// can emit, read from its source (codes are matched on by scripts, so none
// may go undocumented). Codes built from a prefix are expanded as the code
// builds them.
func TestExplainCodesDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	var src string
	for _, f := range []string{"explain.go", "explain_checks.go", "explain_repair.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src += string(b)
	}
	body := func(fn string) string {
		i := strings.Index(src, "\nfunc "+fn+"(")
		if i < 0 {
			t.Fatalf("no func %s", fn)
		}
		return src[i : i+strings.Index(src[i:], "\n}\n")]
	}
	matches := func(re, s string) []string {
		var out []string
		for _, m := range regexp.MustCompile(re).FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
		return out
	}
	codes := map[string]bool{}
	for _, c := range matches(`(?:problem|note)\("([a-z0-9-]+[a-z0-9])"`, src) {
		codes[c] = true
	}
	for _, c := range matches(`[Cc]ode: +"([a-z0-9-]+[a-z0-9])"`, src) {
		codes[c] = true
	}
	for _, k := range matches(`add\("([a-z0-9-]+)"`, body("base64Findings")) {
		codes["signature-"+k], codes["policy-"+k] = true, true
	}
	for _, k := range matches(`f\("([a-z0-9-]+)"`, body("epochFinding")) {
		codes["expires-"+k], codes["policy-epoch-"+k] = true, true
	}
	for _, k := range matches(`f\("([a-z0-9-]+)"`, body("keyIDFinding")) {
		codes["key-id-"+k] = true
	}
	for _, s := range []string{"protocol", "domain", "path", "query"} {
		codes["resource-"+s] = true
	}
	if len(codes) < 60 {
		t.Fatalf("found %d codes in the source; the scan is broken", len(codes))
	}
	for c := range codes {
		if !bytes.Contains(doc, []byte("`"+c+"`")) {
			t.Errorf("docs/cli.md does not document the explain finding code %q", c)
		}
	}
}
