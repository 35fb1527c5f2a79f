package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

// verifyJSON is verify's --json output.
type verifyJSON struct {
	Valid     bool            `json:"valid"`
	Code      string          `json:"code"`
	Reason    string          `json:"reason"`
	KeyID     string          `json:"key_id"`
	Mode      string          `json:"mode"`
	Hash      string          `json:"hash"`
	ExpiresAt string          `json:"expires_at"`
	Policy    json.RawMessage `json:"policy"`
}

func TestVerifyValid(t *testing.T) {
	k := keygen(t, "ecdsa")
	signed := signURL(t, k, "https://media.example.com/a.jpg", "--expires-in", "1h")
	r := mustRun(t, "verify", "--pubkey", k.pubkey(), signed)
	for _, want := range []string{
		"valid: the signature verifies",
		"mode:       url\n",
		"key id:     " + k.id + "\n",
		"hash:       SHA256\n",
		"policy:     canned\n",
		"expires:    ",
		`"Resource": "https://media.example.com/a.jpg"`,
		`"AWS:EpochTime": ` + queryValue(t, signed, "Expires"),
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("verify output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("stderr = %q; want nothing", r.stderr)
	}

	out := decodeJSON[verifyJSON](t, mustRun(t, "verify", "--json", "--pubkey", k.pubkey(), signed).stdout)
	if !out.Valid || out.Code != "" || out.Reason != "" || out.KeyID != k.id || out.Mode != "url" || out.Hash != "SHA256" {
		t.Errorf("verify --json = %+v; want valid, url, %s, SHA256", out, k.id)
	}
	p, err := cfsign.ParsePolicy(out.Policy)
	if err != nil || p.Resource != "https://media.example.com/a.jpg" {
		t.Errorf("verify --json policy %s: %+v, %v", out.Policy, p, err)
	}
	if want := time.Unix(p.Expires, 0).UTC().Format(time.RFC3339); out.ExpiresAt != want {
		t.Errorf("verify --json expires_at = %q; want %q (the policy's expiry, RFC 3339 UTC)", out.ExpiresAt, want)
	}

	// A bare FILE trusts the key under the id keygen derives.
	mustRun(t, "verify", "--pubkey", k.pub, signed)
	// Several keys: the one named by Key-Pair-Id is used.
	other := keygen(t, "rsa")
	mustRun(t, "verify", "--pubkey", other.pubkey(), "--pubkey", k.pubkey(), signed)
}

// TestVerifyRefused checks each kind of refusal: exit 1, the public code and
// the private reason, on stdout and in --json.
func TestVerifyRefused(t *testing.T) {
	k, rsaKey := keygen(t, "ecdsa"), keygen(t, "rsa")
	const u = "https://media.example.com/a.jpg"
	canned := signURL(t, k, u, "--expires-in", "1h")
	withIP := signURL(t, k, u, "--expires-in", "1h", "--ip", "203.0.113.0/24")
	later := signURL(t, k, u, "--expires-in", "3h", "--not-before", unix(time.Hour))
	videos := signURL(t, k, "https://media.example.com/videos/a.ts", "--expires-in", "1h", "--resource", "https://media.example.com/videos/*")
	rsaSigned := signURL(t, rsaKey, u, "--expires-in", "1h")

	tests := []struct {
		name   string
		url    string
		flags  []string
		code   string
		reason string
	}{
		{"expired", canned, []string{"--at", unix(2 * time.Hour)}, "AccessDenied", "link expired: expired at"},
		{"not yet valid", later, nil, "AccessDenied", "link not yet valid: not valid before"},
		{"ip outside", withIP, []string{"--client-ip", "198.51.100.1"}, "AccessDenied", "client 198.51.100.1 is not in 203.0.113.0/24"},
		{"ip unknown", withIP, nil, "AccessDenied", "client IP unknown"},
		{"param added", canned + "&x=1", nil, "AccessDenied", "signature does not verify"},
		{"http instead of https", "http" + strings.TrimPrefix(canned, "https"), nil, "AccessDenied", "signature does not verify"},
		{"resource mismatch", strings.Replace(videos, "/videos/a.ts", "/images/a.ts", 1), nil, "AccessDenied", "resource does not match policy: request https://media.example.com/images/a.ts does not match https://media.example.com/videos/*"},
		{"unknown key", rsaSigned, nil, "InvalidKey", "is not trusted here"},
		{"missing key id", strings.Replace(canned, "&Key-Pair-Id="+k.id, "", 1), nil, "MissingKey", "Key-Pair-Id missing"},
		{"bad signature base64", withParam(t, canned, "Signature", "abc+/=="), nil, "MalformedSignature", "not CloudFront base64"},
		{"bad expires", withParam(t, canned, "Expires", "1767290400000"), nil, "MalformedPolicy", "Expires is not a valid epoch"},
		{"unknown hash", withParam(t, canned, "Hash-Algorithm", "sha256"), nil, "AccessDenied", "unknown Hash-Algorithm"},
		{"repeated", canned + "&Expires=1", nil, "AccessDenied", "signing parameter repeated"},
		{"no credentials", u, nil, "MissingKey", "no signing parameters or cookies"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"verify", "--pubkey", k.pubkey()}, tc.flags...)
			r := run(t, append(args, tc.url)...)
			if r.code != 1 {
				t.Errorf("exit %d; want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			if want := "refused: " + tc.code + " ("; !strings.HasPrefix(r.stdout, want) {
				t.Errorf("stdout starts %.60q; want %q", r.stdout, want)
			}
			if !strings.Contains(r.stdout, "reason:     ") || !strings.Contains(r.stdout, tc.reason) || strings.Contains(r.stdout, "cfsign: ") {
				t.Errorf("stdout = %s; want reason %q, without a package prefix", r.stdout, tc.reason)
			}
			noPanic(t, r)
			noSecrets(t, r, tc.url)

			r = run(t, append(append(args, "--json"), tc.url)...)
			out := decodeJSON[verifyJSON](t, r.stdout)
			if r.code != 1 || out.Valid || out.Code != tc.code || !strings.Contains(out.Reason, tc.reason) {
				t.Errorf("--json: exit %d, %+v; want 1, code %s, reason %q", r.code, out, tc.code, tc.reason)
			}
			noSecrets(t, r, tc.url)
		})
	}
}

// noSecrets checks that neither the Signature nor the raw Policy value of
// rawURL appears in the output.
func noSecrets(t *testing.T, r result, rawURL string) {
	t.Helper()
	_, query, _ := strings.Cut(rawURL, "?")
	for elem := range strings.SplitSeq(query, "&") {
		name, value, _ := strings.Cut(elem, "=")
		if (name == "Signature" || name == "Policy") && len(value) > 8 && strings.Contains(r.stdout+r.stderr, value) {
			t.Errorf("output echoes the %s value:\nstdout: %s\nstderr: %s", name, r.stdout, r.stderr)
		}
	}
}

// TestVerifySignatureNeverPrinted checks a failing verify of a tampered
// link: the signature is nowhere in the output, stderr included.
func TestVerifySignatureNeverPrinted(t *testing.T) {
	for _, typ := range []string{"ecdsa", "rsa"} {
		k := keygen(t, typ)
		signed := signURL(t, k, "https://media.example.com/a.jpg", "--expires-in", "1h", "--resource", "https://media.example.com/*")
		sig := queryValue(t, signed, "Signature")
		tampered := withParam(t, signed, "Signature", "AAAA"+sig[4:])
		for _, args := range [][]string{
			{"verify", "--pubkey", k.pubkey(), tampered},
			{"verify", "--json", "--pubkey", k.pubkey(), tampered},
			{"verify", "--pubkey", k.pubkey(), "--at", unix(2 * time.Hour), signed},
			{"verify", "--pubkey", k.pubkey(), "https://media.example.com/a.jpg", "--cookie", "CloudFront-Signature=" + sig + "; CloudFront-Key-Pair-Id=" + k.id},
			{"explain", tampered},
			{"explain", "--at", unix(2 * time.Hour), signed},
		} {
			r := run(t, args...)
			// explain cannot tell a tampered signature (it has no keys).
			if r.code == 0 && args[0] == "verify" {
				t.Errorf("signet %s: exit 0; want a refusal", args[0])
			}
			for _, s := range []string{sig, sig[4:], queryValue(t, signed, "Policy")} {
				if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
					t.Errorf("signet %s (%s): output contains the signature or policy value\nstdout: %s\nstderr: %s", args[0], typ, r.stdout, r.stderr)
				}
			}
		}
	}
}

func TestVerifySkew(t *testing.T) {
	k := keygen(t, "ecdsa")
	signed := signURL(t, k, "https://media.example.com/a.jpg", "--expires-in", "1h")
	at := unix(time.Hour + 30*time.Second) // 30s after the expiry
	if r := run(t, "verify", "--pubkey", k.pubkey(), "--at", at, signed); r.code != 1 {
		t.Errorf("30s after expiry, no skew: exit %d; want 1", r.code)
	}
	mustRun(t, "verify", "--pubkey", k.pubkey(), "--at", at, "--skew", "2m", signed)
}

// TestVerifyRawTarget checks that the request target is the URL's bytes as
// written: an encoding change between signing and verifying is refused.
func TestVerifyRawTarget(t *testing.T) {
	k := keygen(t, "rsa")
	signed := signURL(t, k, "https://media.example.com/a%20b+c.jpg?q=%7E+x", "--expires-in", "1h")
	mustRun(t, "verify", "--pubkey", k.pubkey(), signed)
	for _, changed := range []string{
		strings.Replace(signed, "a%20b", "a b", 1),
		strings.Replace(signed, "b+c", "b%2Bc", 1),
		strings.Replace(signed, "q=%7E", "q=~", 1),
		strings.Replace(signed, "media.example.com", "media.example.com:443", 1),
	} {
		if r := run(t, "verify", "--pubkey", k.pubkey(), changed); r.code != 1 {
			t.Errorf("verify %s: exit %d; want 1", changed, r.code)
		}
	}
	// The host is compared lower-cased, and a fragment is never sent.
	mustRun(t, "verify", "--pubkey", k.pubkey(), strings.Replace(signed, "media.example.com", "MEDIA.example.com", 1))
	mustRun(t, "verify", "--pubkey", k.pubkey(), signed+"#t=10")
}

func TestVerifyErrors(t *testing.T) {
	k := keygen(t, "ecdsa")
	dir := t.TempDir()
	garbage := writeFile(t, dir, "garbage.pem", "nothing here")
	signed := signURL(t, k, "https://media.example.com/a.jpg", "--expires-in", "1h")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no pubkey", []string{signed}, "at least one --pubkey ID=FILE is required"},
		{"missing file", []string{"--pubkey", "K1=" + dir + "/nope.pem", signed}, "read public key: open "},
		{"bad PEM", []string{"--pubkey", "K1=" + garbage, signed}, "public key " + garbage + ": no PEM public key found"},
		{"private key as public", []string{"--pubkey", "K1=" + k.priv, signed}, "found a private key where a public key was expected"},
		{"bad key id", []string{"--pubkey", "AKIAIOSFODNN7EXAMPLE=" + k.pub, signed}, "looks like an IAM access key id"},
		{"same id twice", []string{"--pubkey", k.pubkey(), "--pubkey", k.pubkey(), signed}, "given twice"},
		{"bad at", []string{"--pubkey", k.pubkey(), "--at", "noon", signed}, `"noon" is not an RFC 3339 time`},
		{"bad client ip", []string{"--pubkey", k.pubkey(), "--client-ip", "1.2.3", signed}, `--client-ip "1.2.3" is not an IP address`},
		{"negative skew", []string{"--pubkey", k.pubkey(), "--skew", "-1s", signed}, `"-1s" is negative`},
		{"no scheme", []string{"--pubkey", k.pubkey(), "media.example.com/a.jpg"}, "URL must be absolute"},
		{"no host", []string{"--pubkey", k.pubkey(), "https:///a.jpg"}, "URL has no host"},
		{"user info", []string{"--pubkey", k.pubkey(), "https://u@h.example/a.jpg"}, "user info"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, append([]string{"verify"}, tc.args...)...)
			wantError(t, r, "verify", tc.want)
			noSecrets(t, r, signed)
		})
	}
}
