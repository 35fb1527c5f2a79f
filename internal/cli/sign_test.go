package cli_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/cli"
)

// signJSON is sign's --json output.
type signJSON struct {
	URL       string `json:"url"`
	ExpiresAt string `json:"expires_at"`
	KeyID     string `json:"key_id"`
	Hash      string `json:"hash"`
	Policy    string `json:"policy"`
	Cookies   []struct {
		Name      string `json:"name"`
		Value     string `json:"value"`
		SetCookie string `json:"set_cookie"`
	} `json:"cookies"`
}

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	d := json.NewDecoder(strings.NewReader(s))
	d.DisallowUnknownFields()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// unix is a time relative to the wall clock, as Unix seconds for a flag.
func unix(d time.Duration) string { return strconv.FormatInt(time.Now().Add(d).Unix(), 10) }

// TestSignVerifyRoundTrip signs with each key type, hash and policy kind and
// checks that verify accepts the result.
func TestSignVerifyRoundTrip(t *testing.T) {
	rsaKey, ecKey := keygen(t, "rsa"), keygen(t, "ecdsa")
	policyFile := filepath.Join(t.TempDir(), "policy.json")
	policy := fmt.Sprintf("{ \"Statement\": [ { \"Resource\": \"https://media.example.com/files/*\",\n"+
		"  \"Condition\": { \"DateLessThan\": { \"AWS:EpochTime\": %s } } } ] }\n", unix(time.Hour))
	if err := os.WriteFile(policyFile, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		key      key
		url      string
		flags    []string // sign flags besides --key and --key-id
		verify   []string // verify flags besides --pubkey
		hash     string   // want Hash-Algorithm value; "" = absent (SHA-1)
		policyIn string   // the policy must contain this
	}{
		{"rsa sha1 canned", rsaKey, "https://media.example.com/a.jpg", []string{"--expires-in", "1h"}, nil, "", `"Resource":"https://media.example.com/a.jpg"`},
		{"rsa sha256 canned", rsaKey, "https://media.example.com/a.jpg?size=large", []string{"--expires-in", "1h", "--hash", "sha256"}, nil, "SHA256", `?size=large"`},
		{"ecdsa sha256 canned", ecKey, "https://media.example.com/a%20b.jpg?q=1+2", []string{"--expires-in", "15m"}, nil, "SHA256", `a%20b.jpg?q=1+2"`},
		{"ecdsa explicit sha256", ecKey, "http://localhost:8080/a.jpg", []string{"--expires-in", "1h", "--hash", "SHA256"}, nil, "SHA256", `"http://localhost:8080/a.jpg"`},
		{"rsa sha1 custom ip", rsaKey, "https://media.example.com/a.jpg", []string{"--expires-in", "1h", "--ip", "203.0.113.7"}, []string{"--client-ip", "203.0.113.7"}, "", `"AWS:SourceIp":"203.0.113.7/32"`},
		{"ecdsa custom ip range", ecKey, "https://media.example.com/a.jpg", []string{"--expires-in", "1h", "--ip", "203.0.113.0/24"}, []string{"--client-ip", "203.0.113.99"}, "SHA256", `"203.0.113.0/24"`},
		{"rsa sha256 custom not-before", rsaKey, "https://media.example.com/a.jpg", []string{"--expires-in", "3h", "--not-before", unix(time.Hour), "--hash", "sha256"}, []string{"--at", unix(2 * time.Hour)}, "SHA256", `"DateGreaterThan"`},
		{"ecdsa custom wildcard", ecKey, "https://media.example.com/videos/a/b.ts", []string{"--expires-in", "1h", "--resource", "https://media.example.com/videos/*"}, nil, "SHA256", `"Resource":"https://media.example.com/videos/*"`},
		{"rsa policy file", rsaKey, "https://media.example.com/files/report.pdf", []string{"--policy-file", policyFile}, nil, "", `"https://media.example.com/files/*"`},
		{"ecdsa policy file", ecKey, "https://media.example.com/files/report.pdf", []string{"--policy-file", policyFile}, nil, "SHA256", "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"sign", "--key", tc.key.priv, "--key-id", tc.key.id, "--json"}, tc.flags...)
			out := decodeJSON[signJSON](t, mustRun(t, append(args, tc.url)...).stdout)
			if !strings.HasPrefix(out.URL, tc.url) {
				t.Errorf("signed URL %s does not start with %s", out.URL, tc.url)
			}
			if !strings.Contains(out.Policy, tc.policyIn) {
				t.Errorf("policy %s; want it to contain %q", out.Policy, tc.policyIn)
			}
			if out.KeyID != tc.key.id {
				t.Errorf("key_id = %s; want %s", out.KeyID, tc.key.id)
			}
			_, query, _ := strings.Cut(out.URL, "?")
			hasHash := strings.Contains(query, "Hash-Algorithm=")
			if hasHash != (tc.hash != "") || (hasHash && queryValue(t, out.URL, "Hash-Algorithm") != tc.hash) {
				t.Errorf("signed URL %s; want Hash-Algorithm %q", out.URL, tc.hash)
			}
			if want := map[bool]string{true: tc.hash, false: "SHA1"}[tc.hash != ""]; out.Hash != want {
				t.Errorf("hash = %s; want %s", out.Hash, want)
			}
			// The policy printed is the policy signed.
			var signed []byte
			if strings.Contains(query, "Policy=") {
				var err error
				if signed, err = cfsign.Decode(queryValue(t, out.URL, "Policy")); err != nil {
					t.Fatal(err)
				}
			} else {
				exp, _ := strconv.ParseInt(queryValue(t, out.URL, "Expires"), 10, 64)
				signed = cfsign.CannedPolicy(tc.url, exp)
			}
			if string(signed) != out.Policy {
				t.Errorf("signed policy %q; --json says %q", signed, out.Policy)
			}

			vargs := append([]string{"verify", "--pubkey", tc.key.pubkey()}, tc.verify...)
			r := mustRun(t, append(vargs, out.URL)...)
			if !strings.HasPrefix(r.stdout, "valid:") || !strings.Contains(r.stdout, tc.key.id) {
				t.Errorf("verify output:\n%s", r.stdout)
			}
		})
	}
}

// TestSignPolicyFileExactBytes checks that --policy-file signs the file's
// bytes as they are, whitespace and trailing newline included.
func TestSignPolicyFileExactBytes(t *testing.T) {
	k := keygen(t, "ecdsa")
	policy := "{\"Statement\":{\"Resource\":\"https://media.example.com/*\",  \"Condition\":{\"DateLessThan\":{\"AWS:EpochTime\":" + unix(time.Hour) + "}}}}\n\n"
	file := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(file, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cookies := range []bool{false, true} {
		args := []string{"sign", "--key", k.priv, "--key-id", k.id, "--policy-file", file, "--json", "https://media.example.com/x.jpg"}
		if cookies {
			args = append(args, "--cookies")
		}
		out := decodeJSON[signJSON](t, mustRun(t, args...).stdout)
		if out.Policy != policy {
			t.Errorf("cookies=%v: policy %q; want the file's bytes %q", cookies, out.Policy, policy)
		}
		value := ""
		if cookies {
			value = out.Cookies[0].Value
			if out.Cookies[0].Name != "CloudFront-Policy" {
				t.Errorf("first cookie %s; want CloudFront-Policy", out.Cookies[0].Name)
			}
		} else {
			value = queryValue(t, out.URL, "Policy")
		}
		if got, err := cfsign.Decode(value); err != nil || string(got) != policy {
			t.Errorf("cookies=%v: sent policy %q, %v; want the file's bytes %q", cookies, got, err, policy)
		}
	}
}

// TestSignFixedClock pins sign's exact output with an injected clock: the
// worked example of §15 (canned, 1767290400).
func TestSignFixedClock(t *testing.T) {
	k := keygen(t, "rsa")
	now := time.Unix(1767290400, 0).Add(-time.Hour)
	sign := func(args ...string) signJSON {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := &cli.SignCommand{Env: cli.Env{Stdout: &stdout, Stderr: &stderr, Now: func() time.Time { return now }}}
		base := []string{"--key", k.priv, "--key-id", k.id, "--json"}
		if err := cmd.Run(t.Context(), append(base, args...)); err != nil {
			t.Fatalf("sign %v: %v", args, err)
		}
		return decodeJSON[signJSON](t, stdout.String())
	}

	out := sign("--expires-in", "1h", "https://d111111abcdef8.cloudfront.net/image.jpg")
	const want = `{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/image.jpg","Condition":{"DateLessThan":{"AWS:EpochTime":1767290400}}}]}`
	if out.Policy != want || len(out.Policy) != 136 {
		t.Errorf("policy = %s; want the 136 bytes %s", out.Policy, want)
	}
	if out.ExpiresAt != "2026-01-01T18:00:00Z" {
		t.Errorf("expires_at = %s; want 2026-01-01T18:00:00Z", out.ExpiresAt)
	}
	wantPrefix := "https://d111111abcdef8.cloudfront.net/image.jpg?Expires=1767290400&Signature="
	if !strings.HasPrefix(out.URL, wantPrefix) || !strings.HasSuffix(out.URL, "&Key-Pair-Id="+k.id) {
		t.Errorf("url = %s; want %s<sig>&Key-Pair-Id=%s", out.URL, wantPrefix, k.id)
	}
	if sig := queryValue(t, out.URL, "Signature"); len(sig) != 344 {
		t.Errorf("RSA-2048 signature is %d characters; want 344", len(sig))
	}

	// Durations, all from the same clock.
	durations := []struct {
		in   string
		want time.Duration
	}{
		{"90s", 90 * time.Second},
		{"15m", 15 * time.Minute},
		{"12h", 12 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"30d", 30 * 24 * time.Hour},
		{"1d12h", 36 * time.Hour},
		{"1y", 365 * 24 * time.Hour},
	}
	for _, d := range durations {
		out := sign("--expires-in", d.in, "https://h.example/a")
		if want := now.Add(d.want).UTC().Format(time.RFC3339); out.ExpiresAt != want {
			t.Errorf("--expires-in %s: expires_at = %s; want %s", d.in, out.ExpiresAt, want)
		}
	}
	// TIME as RFC 3339 with an offset and as Unix seconds.
	for _, at := range []string{"2026-01-02T01:00:00+07:00", "1767290400"} {
		if out := sign("--expires-at", at, "https://h.example/a"); out.ExpiresAt != "2026-01-01T18:00:00Z" {
			t.Errorf("--expires-at %s: expires_at = %s; want 2026-01-01T18:00:00Z", at, out.ExpiresAt)
		}
	}
}

func TestSignCookies(t *testing.T) {
	ec, rsaKey := keygen(t, "ecdsa"), keygen(t, "rsa")
	tests := []struct {
		name      string
		key       key
		url       string
		flags     []string
		names     []string // cookie names in order
		attrs     string   // every line ends with this
		verifyURL string   // another URL the cookies must unlock
	}{
		{
			name: "custom wildcard", key: ec,
			url:       "https://media.example.com/videos/x/index.m3u8",
			flags:     []string{"--resource", "https://media.example.com/videos/x/*"},
			names:     []string{"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id", "CloudFront-Hash-Algorithm"},
			attrs:     "; Path=/videos/x/; Secure; HttpOnly; SameSite=Lax",
			verifyURL: "https://media.example.com/videos/x/seg-001.ts?v=2",
		},
		{
			name: "canned", key: rsaKey,
			url:   "https://media.example.com/videos/a.mp4",
			names: []string{"CloudFront-Expires", "CloudFront-Signature", "CloudFront-Key-Pair-Id"},
			attrs: "; Path=/videos/; Secure; HttpOnly; SameSite=Lax",
		},
		{
			name: "domain and path", key: rsaKey,
			url:   "https://media.example.com/videos/a.mp4",
			flags: []string{"--resource", "https://media.example.com/*", "--cookie-domain", "media.example.com", "--cookie-path", "/videos/"},
			names: []string{"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id"},
			attrs: "; Domain=media.example.com; Path=/videos/; Secure; HttpOnly; SameSite=Lax",
		},
		{
			name: "wildcard path prefix", key: ec,
			url:   "https://media.example.com/dl/x_game.zip",
			flags: []string{"--resource", "https://media.example.com/dl/*game.zip"},
			names: []string{"CloudFront-Policy", "CloudFront-Signature", "CloudFront-Key-Pair-Id", "CloudFront-Hash-Algorithm"},
			attrs: "; Path=/dl/; Secure; HttpOnly; SameSite=Lax",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"sign", "--key", tc.key.priv, "--key-id", tc.key.id, "--expires-in", "1h", "--cookies"}, tc.flags...)
			r := mustRun(t, append(args, tc.url)...)
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if len(lines) != len(tc.names) {
				t.Fatalf("got %d lines; want %d Set-Cookie lines:\n%s", len(lines), len(tc.names), r.stdout)
			}
			var pairs []string
			for i, line := range lines {
				value, ok := strings.CutPrefix(line, "Set-Cookie: ")
				if !ok || !strings.HasPrefix(value, tc.names[i]+"=") || !strings.HasSuffix(value, tc.attrs) {
					t.Errorf("line %d = %q; want Set-Cookie: %s=...%s", i, line, tc.names[i], tc.attrs)
				}
				pair, _, _ := strings.Cut(value, ";")
				pairs = append(pairs, pair)
			}
			if tc.names[0] == "CloudFront-Expires" && !strings.Contains(r.stderr, "exactly this one URL") {
				t.Errorf("stderr = %q; want the canned-cookie warning", r.stderr)
			}

			header := strings.Join(pairs, "; ")
			for _, u := range []string{tc.url, tc.verifyURL} {
				if u == "" {
					continue
				}
				r := mustRun(t, "verify", "--pubkey", tc.key.pubkey(), "--cookie", header, u)
				if !strings.Contains(r.stdout, "mode:       cookie") {
					t.Errorf("verify %s: output\n%s\nwant mode cookie", u, r.stdout)
				}
			}
			// A pasted "Cookie:" prefix and one cookie per flag work too.
			vargs := []string{"verify", "--pubkey", tc.key.pubkey(), "--cookie", "Cookie: " + pairs[0]}
			for _, p := range pairs[1:] {
				vargs = append(vargs, "--cookie", p)
			}
			mustRun(t, append(vargs, tc.url)...)
		})
	}

	t.Run("json", func(t *testing.T) {
		r := mustRun(t, "sign", "--key", ec.priv, "--key-id", ec.id, "--expires-in", "1h", "--cookies", "--json",
			"--resource", "https://media.example.com/v/*", "https://media.example.com/v/a.ts")
		out := decodeJSON[signJSON](t, r.stdout)
		if out.URL != "" || len(out.Cookies) != 4 || out.Hash != "SHA256" || out.KeyID != ec.id {
			t.Fatalf("--json --cookies output %+v; want 4 cookies, no url", out)
		}
		for _, c := range out.Cookies {
			if !strings.HasPrefix(c.SetCookie, c.Name+"="+c.Value+"; Path=/v/;") {
				t.Errorf("cookie %s: set_cookie %q does not start with its name, value and Path=/v/", c.Name, c.SetCookie)
			}
		}
		if p, _ := cfsign.Decode(out.Cookies[0].Value); string(p) != out.Policy {
			t.Errorf("CloudFront-Policy decodes to %q; policy is %q", p, out.Policy)
		}
	})
}

// TestSignWarnings checks that warnings go to stderr and leave stdout with
// just the URL.
func TestSignWarnings(t *testing.T) {
	k := keygen(t, "ecdsa")
	tests := []struct {
		name  string
		url   string
		flags []string
		want  string
	}{
		{"domain wildcard", "https://media.example.com/a.jpg", []string{"--resource", "https://media*"}, "also matches other people's hosts"},
		{"canned star", "https://media.example.com/videos/*", nil, "can't hold wildcards: it is signed as a literal '*'; to cover many URLs, use --resource"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"sign", "--key", k.priv, "--key-id", k.id, "--expires-in", "1h"}, tc.flags...)
			r := mustRun(t, append(args, tc.url)...)
			if !strings.HasPrefix(r.stderr, "signet: warning: ") || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr = %q; want a warning containing %q", r.stderr, tc.want)
			}
			if strings.Count(r.stdout, "\n") != 1 || !strings.HasPrefix(r.stdout, tc.url+"?") {
				t.Errorf("stdout = %q; want only the signed URL", r.stdout)
			}
		})
	}

	// A legacy RSA-1024 key signs, with a warning.
	dir := t.TempDir()
	k1024 := writeKey(t, dir, "rsa1024.pem", func() any { k, _ := rsa.GenerateKey(rand.Reader, 1024); return k }())
	r := mustRun(t, "sign", "--key", k1024, "--key-id", "K1024", "--expires-in", "1h", "https://h.example/a")
	if !strings.Contains(r.stderr, "RSA-1024 is a legacy size") {
		t.Errorf("stderr = %q; want the RSA-1024 warning", r.stderr)
	}
}

// writeKey writes key as PKCS#8 PEM into dir and returns the path.
func writeKey(t *testing.T, dir, name string, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSignErrors(t *testing.T) {
	k, rsaKey := keygen(t, "ecdsa"), keygen(t, "rsa")
	dir := t.TempDir()
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	files := map[string]string{
		"garbage":   writeFile(t, dir, "garbage.pem", "not a key\n"),
		"encrypted": writeFile(t, dir, "enc.pem", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n-----END RSA PRIVATE KEY-----\n"),
		"p384":      writeKey(t, dir, "p384.pem", p384),
		"noresource": writeFile(t, dir, "nores.json",
			`{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":`+unix(time.Hour)+`}}}]}`),
		"duplicate": writeFile(t, dir, "dup.json",
			`{"Statement":[{"Resource":"https://h.example/*","Resource":"https://h.example/a","Condition":{"DateLessThan":{"AWS:EpochTime":`+unix(time.Hour)+`}}}]}`),
		"expired": writeFile(t, dir, "expired.json",
			`{"Statement":[{"Resource":"https://h.example/*","Condition":{"DateLessThan":{"AWS:EpochTime":1000000000}}}]}`),
		"other": writeFile(t, dir, "other.json",
			`{"Statement":[{"Resource":"https://other.example/*","Condition":{"DateLessThan":{"AWS:EpochTime":`+unix(time.Hour)+`}}}]}`),
	}
	const u = "https://h.example/a.jpg"
	key := []string{"--key", k.priv, "--key-id", k.id}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing key file", []string{"--key", filepath.Join(dir, "nope.pem"), "--key-id", "K1", "--expires-in", "1h", u}, "read key: open "},
		{"bad PEM", []string{"--key", files["garbage"], "--key-id", "K1", "--expires-in", "1h", u}, "key " + files["garbage"] + ": no PEM private key found"},
		{"public key as private", []string{"--key", k.pub, "--key-id", "K1", "--expires-in", "1h", u}, "found a public key where a private key was expected"},
		{"encrypted key", []string{"--key", files["encrypted"], "--key-id", "K1", "--expires-in", "1h", u}, "the private key is encrypted"},
		{"wrong curve", []string{"--key", files["p384"], "--key-id", "K1", "--expires-in", "1h", u}, "CloudFront supports only P-256"},
		{"ecdsa sha1", append(key, "--hash", "sha1", "--expires-in", "1h", u), "SHA-1 is refused"},
		{"unknown hash", append(key, "--hash", "md5", "--expires-in", "1h", u), `unknown hash "md5"`},
		{"no key", []string{"--key-id", "K1", "--expires-in", "1h", u}, "--key is required"},
		{"no key id", []string{"--key", k.priv, "--expires-in", "1h", u}, "--key-id is required"},
		{"IAM key id", []string{"--key", k.priv, "--key-id", "AKIAIOSFODNN7EXAMPLE", "--expires-in", "1h", u}, "looks like an IAM access key id"},
		{"no expiry", append(key, u), "--expires-in or --expires-at is required"},
		{"two expiries", append(key, "--expires-in", "1h", "--expires-at", "2030-01-01T00:00:00Z", u), "not both"},
		{"past expiry", append(key, "--expires-at", "2001-09-09T01:46:40Z", u), "expiry 2001-09-09T01:46:40Z is in the past"},
		{"expiry past 2038 by duration", append(key, "--expires-in", "20y", u), "is after 2038-01-19T03:14:07Z"},
		{"expiry past 2038", append(key, "--expires-at", "2040-01-01T00:00:00Z", u), "expiry 2040-01-01T00:00:00Z is after 2038"},
		{"milliseconds", append(key, "--expires-at", "1767290400000", u), "looks like milliseconds"},
		{"bad time", append(key, "--expires-at", "tomorrow", u), `"tomorrow" is not an RFC 3339 time`},
		{"zero duration", append(key, "--expires-in", "0s", u), `"0s" is not a positive duration`},
		{"negative duration", append(key, "--expires-in", "-1h", u), `"-1h" is not a positive duration`},
		{"bad duration", append(key, "--expires-in", "5 days", u), `"5 days" is not a duration`},
		{"policy file and expiry", append(key, "--policy-file", files["other"], "--expires-in", "1h", u), "--expires-in conflicts with --policy-file"},
		{"cookie flags without cookies", append(key, "--expires-in", "1h", "--cookie-domain", "h.example", u), "--cookie-domain needs --cookies"},
		{"cookie path not absolute", append(key, "--expires-in", "1h", "--cookies", "--cookie-path", "videos", u), `cookie path "videos" must start with '/'`},
		{"no scheme", append(key, "--expires-in", "1h", "h.example/a.jpg"), "URL must be absolute"},
		{"upper-case host", append(key, "--expires-in", "1h", "https://H.example/a.jpg"), "must be lower case"},
		{"default port", append(key, "--expires-in", "1h", "https://h.example:443/a.jpg"), "has the default port"},
		{"reserved parameter", append(key, "--expires-in", "1h", u+"?Expires=5"), `reserved parameter "Expires"`},
		{"ftp", append(key, "--expires-in", "1h", "ftp://h.example/a"), "is not http or https"},
		{"resource not covering", append(key, "--expires-in", "1h", "--resource", "https://h.example/videos/*", "https://h.example/images/a.jpg"),
			`does not cover the URL: its path "/videos/*" does not match "/images/a.jpg"`},
		{"bad resource", append(key, "--expires-in", "1h", "--resource", `https://h.example/a\b`, u), `resource has '\\' at offset 19, which would need JSON escaping`},
		{"not-before after expiry", append(key, "--expires-in", "1h", "--not-before", unix(2*time.Hour), u), "is not before the expiry"},
		{"ipv6", append(key, "--expires-in", "1h", "--ip", "2001:db8::1", u), "is IPv6"},
		{"ipv6 range", append(key, "--expires-in", "1h", "--ip", "2001:db8::/32", u), "is IPv6"},
		{"bad ip", append(key, "--expires-in", "1h", "--ip", "10.0.0", u), "is not an IP address"},
		{"missing policy file", append(key, "--policy-file", filepath.Join(dir, "nope.json"), u), "read policy: open "},
		{"policy without resource", append(key, "--policy-file", files["noresource"], u), "has no Resource"},
		{"policy duplicate key", append(key, "--policy-file", files["duplicate"], u), `duplicate key "Resource"`},
		{"policy expired", append(key, "--policy-file", files["expired"], u), "is in the past"},
		{"policy for another host", append(key, "--policy-file", files["other"], u), "does not cover the URL: its domain"},
		{"rsa key id with space", []string{"--key", rsaKey.priv, "--key-id", rsaKey.id + " ", "--expires-in", "1h", u}, "key id has ' '"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, append([]string{"sign"}, tc.args...)...)
			wantError(t, r, "sign", tc.want)
			if strings.Contains(r.stderr, "PRIVATE KEY") {
				t.Errorf("stderr shows key material: %s", r.stderr)
			}
		})
	}
}
