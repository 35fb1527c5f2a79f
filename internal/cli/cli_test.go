package cli_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/cli"
)

// result is what one in-process run of signet produced.
type result struct {
	code           int
	stdout, stderr string
}

// run runs signet with args in-process.
func run(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(t.Context(), args, &stdout, &stderr)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// mustRun runs signet and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := run(t, args...)
	if r.code != 0 {
		t.Fatalf("signet %s: exit %d; want 0\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// wantError checks a failed run: exit code 2, exactly one line on stderr
// in the form "signet: <cmd>: <message>" containing want, nothing on stdout,
// and no trace of a panic.
func wantError(t *testing.T, r result, cmd, want string) {
	t.Helper()
	if r.code != 2 {
		t.Errorf("exit code = %d; want 2 (stderr %q)", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("stderr has %d lines; want one: %q", n, r.stderr)
	}
	if prefix := "signet: " + cmd + ": "; !strings.HasPrefix(r.stderr, prefix) {
		t.Errorf("stderr = %q; want prefix %q", r.stderr, prefix)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr = %q; want it to contain %q", r.stderr, want)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q; want nothing", r.stdout)
	}
	noPanic(t, r)
}

func noPanic(t *testing.T, r result) {
	t.Helper()
	for _, s := range []string{"panic", "goroutine"} {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("output mentions %q:\nstdout: %s\nstderr: %s", s, r.stdout, r.stderr)
		}
	}
}

// key is a key pair made by signet keygen in a temporary directory.
type key struct {
	id, priv, pub string
}

// pubkey is the verify flag value trusting k.
func (k key) pubkey() string { return k.id + "=" + k.pub }

func keygen(t *testing.T, typ string) key {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "keys")
	r := mustRun(t, "keygen", "--type", typ, "--out", dir)
	return key{
		id:   strings.TrimSpace(r.stdout),
		priv: filepath.Join(dir, "private_key.pem"),
		pub:  filepath.Join(dir, "public_key.pem"),
	}
}

// signURL signs rawURL with k and extra flags and returns the signed URL.
func signURL(t *testing.T, k key, rawURL string, flags ...string) string {
	t.Helper()
	args := append([]string{"sign", "--key", k.priv, "--key-id", k.id}, flags...)
	r := mustRun(t, append(args, rawURL)...)
	return strings.TrimSuffix(r.stdout, "\n")
}

// queryValue returns the raw value of a query parameter of a signed URL.
func queryValue(t *testing.T, signed, name string) string {
	t.Helper()
	_, query, _ := strings.Cut(signed, "?")
	for elem := range strings.SplitSeq(query, "&") {
		if n, v, _ := strings.Cut(elem, "="); n == name {
			return v
		}
	}
	t.Fatalf("%s has no %s parameter", signed, name)
	return ""
}

// withParam returns signed with the raw value of one parameter replaced.
func withParam(t *testing.T, signed, name, value string) string {
	t.Helper()
	old := name + "=" + queryValue(t, signed, name)
	return strings.Replace(signed, old, name+"="+value, 1)
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		r := run(t, args...)
		if r.code != 0 {
			t.Errorf("signet %v: exit %d; want 0", args, r.code)
		}
		for _, cmd := range []string{"keygen", "sign", "verify", "explain", "serve", "token", "keys", "config"} {
			if !strings.Contains(r.stdout, "  "+cmd+" ") {
				t.Errorf("signet %v: usage does not list %q:\n%s", args, cmd, r.stdout)
			}
		}
	}

	r := run(t)
	if r.code != 2 || !strings.Contains(r.stderr, "Commands:") || r.stdout != "" {
		t.Errorf("signet with no arguments: exit %d, stderr %q; want 2 and the usage on stderr", r.code, r.stderr)
	}
	wantError(t, run(t, "frobnicate"), "frobnicate", "unknown command; the commands are keygen, sign, verify, explain, serve, token, keys and config")
}

// TestFlagNames pins the flag names users and scripts rely on: each command's
// help documents every one, and each one is accepted.
func TestFlagNames(t *testing.T) {
	flags := map[string][]string{
		"keygen":  {"type", "out"},
		"sign":    {"key", "key-id", "expires-in", "expires-at", "not-before", "ip", "resource", "policy-file", "hash", "cookies", "cookie-domain", "cookie-path", "json"},
		"verify":  {"pubkey", "at", "client-ip", "cookie", "skew", "json"},
		"explain": {"cookie", "at", "client-ip", "json"},
	}
	for cmd, names := range flags {
		for _, help := range [][]string{{cmd, "-h"}, {cmd, "--help"}, {"help", cmd}} {
			r := run(t, help...)
			if r.code != 0 || r.stderr != "" {
				t.Errorf("signet %v: exit %d, stderr %q; want 0 and nothing", help, r.code, r.stderr)
			}
			if !strings.HasPrefix(r.stdout, "Usage: signet "+cmd) {
				t.Errorf("signet %v: stdout starts %.40q; want the usage", help, r.stdout)
			}
			for _, name := range names {
				if !strings.Contains(r.stdout, "--"+name+" ") {
					t.Errorf("signet %v: help does not document --%s", help, name)
				}
			}
		}
		for _, name := range names {
			// -h last: the flag is parsed, then nothing runs.
			r := run(t, cmd, "--"+name+"=x", "-h")
			if strings.Contains(r.stderr, "not defined") {
				t.Errorf("signet %s --%s: %s", cmd, name, r.stderr)
			}
		}
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		cmd  string
		want string
	}{
		{"unknown flag", []string{"sign", "--bogus", "https://h/a"}, "sign", "flag provided but not defined: -bogus"},
		{"flag without value", []string{"verify", "https://h/a", "--pubkey"}, "verify", "flag needs an argument: -pubkey"},
		{"keygen argument", []string{"keygen", "--out", dir, "extra"}, "keygen", `unexpected argument "extra"`},
		{"sign no URL", []string{"sign", "--key", "k", "--key-id", "K1", "--expires-in", "1h"}, "sign", "missing URL"},
		{"verify two URLs", []string{"verify", "--pubkey", "k", "https://h/a", "https://h/b"}, "verify", "expected one URL, got 2"},
		{"explain no URL", []string{"explain"}, "explain", "missing URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, run(t, tc.args...), tc.cmd, tc.want)
		})
	}
}

// TestFlagsAfterURL checks that flags may follow the URL, and that "--"
// ends the flags.
func TestFlagsAfterURL(t *testing.T) {
	k := keygen(t, "ecdsa")
	const u = "https://media.example.com/a.jpg"
	before := mustRun(t, "sign", "--key", k.priv, "--key-id", k.id, "--expires-at", "2037-01-01T00:00:00Z", "--json", u)
	after := mustRun(t, "sign", u, "--key", k.priv, "--key-id", k.id, "--expires-at", "2037-01-01T00:00:00Z", "--json")
	mixed := mustRun(t, "sign", "--key", k.priv, u, "--key-id", k.id, "--expires-at=2037-01-01T00:00:00Z", "--json")
	for _, r := range []result{before, after, mixed} {
		if !strings.Contains(r.stdout, `"policy": "{\"Statement\":[{\"Resource\":\"https://media.example.com/a.jpg\"`) {
			t.Errorf("sign output %s; want the policy for %s", r.stdout, u)
		}
	}
	signed := signURL(t, k, u, "--expires-in", "1h")
	mustRun(t, "verify", signed, "--pubkey", k.pubkey())
	mustRun(t, "verify", "--pubkey", k.pubkey(), "--", signed)
}
