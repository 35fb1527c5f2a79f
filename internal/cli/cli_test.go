package cli_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
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
	msg := strings.TrimPrefix(r.stderr, "signet: "+cmd+": ")
	if m := cli.InternalPrefix.FindString(msg); m != "" {
		t.Errorf("stderr = %q; it shows the internal package prefix %q", r.stderr, m)
	}
	if m := singleDashFlag.FindString(openssl.ReplaceAllString(msg, "")); m != "" {
		t.Errorf("stderr = %q; it names a flag as %q, not as users type it (--name)", r.stderr, m)
	}
	noPanic(t, r)
}

// singleDashFlag matches a flag named with one dash ("-expires-in"), as the
// flag package would; -h alone is how help is asked for.
var singleDashFlag = regexp.MustCompile(`(^|[\s(])-[a-z][a-z-]+`)

// openssl matches an openssl command line in a hint, whose flags have one
// dash.
var openssl = regexp.MustCompile(`openssl [^)]*`)

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
		for _, cmd := range []string{"keygen", "sign", "verify", "explain", "serve", "token", "keys", "config", "completion", "version", "help"} {
			if !strings.Contains(r.stdout, "\n  "+cmd+" ") {
				t.Errorf("signet %v: usage does not list %q:\n%s", args, cmd, r.stdout)
			}
		}
	}

	r := run(t)
	if r.code != 2 || !strings.Contains(r.stderr, "Commands:") || r.stdout != "" {
		t.Errorf("signet with no arguments: exit %d, stderr %q; want 2 and the usage on stderr", r.code, r.stderr)
	}
	wantError(t, run(t, "frobnicate"), "frobnicate", "unknown command; the commands are keygen, sign, verify, explain, serve, token, keys, config, completion, version and help")
	wantError(t, run(t, "help", "frobnicate"), "help", `unknown command "frobnicate"`)
	wantError(t, run(t, "help", "token", "frobnicate"), "help", `unknown subcommand "frobnicate" of token`)
}

// helpPage is a help page cut into its sections.
type helpPage struct {
	usage, about, commands, flags, examples, exit []string
}

// helpSections are the headings of a help page, in their order.
var helpSections = []string{"Usage:", "Commands:", "Flags:", "Examples:", "Exit status:"}

// parseHelp cuts a help page into its sections and reports what is wrong
// with its shape: Usage, a description, Commands (groups only), Flags,
// Examples and Exit status, in this order, each present and not empty,
// with one blank line between them.
func parseHelp(path, text string) (helpPage, []string) {
	var p helpPage
	var problems []string
	blocks := strings.Split(strings.TrimSuffix(text, "\n"), "\n\n")
	if !strings.HasSuffix(text, "\n") || strings.HasSuffix(text, "\n\n") {
		problems = append(problems, "does not end in exactly one newline")
	}
	next := 0 // index into helpSections of the next heading allowed
	var about []string
	for i, b := range blocks {
		lines := strings.Split(b, "\n")
		head := lines[0]
		at := slices.Index(helpSections, head)
		if at < 0 {
			// Only the description (after Usage, before Commands or
			// Flags) is free text.
			if next != 1 && next != 2 {
				problems = append(problems, fmt.Sprintf("block %d is not a section: %.40q", i, head))
			}
			about = append(about, lines...)
			continue
		}
		if at < next {
			problems = append(problems, fmt.Sprintf("section %s out of order", head))
		}
		if at == 0 && i != 0 {
			problems = append(problems, "Usage is not first")
		}
		next = at + 1
		body := lines[1:]
		if len(body) == 0 {
			problems = append(problems, head+" is empty")
		}
		for _, l := range body {
			if !strings.HasPrefix(l, "  ") {
				problems = append(problems, fmt.Sprintf("%s line not indented: %q", head, l))
			}
		}
		switch head {
		case "Usage:":
			p.usage = body
		case "Commands:":
			p.commands = body
		case "Flags:":
			p.flags = body
		case "Examples:":
			p.examples = body
		case "Exit status:":
			p.exit = body
		}
	}
	p.about = about
	switch {
	case len(p.usage) == 0:
		problems = append(problems, "no Usage")
	case !strings.HasPrefix(p.usage[0], strings.TrimRight("  signet "+path, " ")):
		problems = append(problems, fmt.Sprintf("usage %q does not start with signet %s", p.usage[0], path))
	}
	if len(about) == 0 {
		problems = append(problems, "no description")
	}
	if len(p.flags) == 0 || !strings.Contains(strings.Join(p.flags, "\n"), "-h, --help") {
		problems = append(problems, "no Flags with -h, --help")
	}
	if len(p.examples) == 0 {
		problems = append(problems, "no Examples")
	}
	for _, e := range p.examples {
		if !strings.HasPrefix(e, "  signet ") && !strings.HasPrefix(e, "      ") {
			problems = append(problems, fmt.Sprintf("example %q is not a signet command line", e))
		}
	}
	if exit := strings.Join(p.exit, " "); !strings.Contains(exit, "0 ") || !strings.Contains(exit, "2 ") {
		problems = append(problems, fmt.Sprintf("Exit status %q does not say what 0 and 2 mean", exit))
	}
	return p, problems
}

// flagNamesOf are the flags a Flags section documents, without -h/--help.
func flagNamesOf(lines []string) []string {
	var out []string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) > 0 && strings.HasPrefix(f[0], "--") && !strings.HasPrefix(l, "   ") {
			out = append(out, strings.TrimPrefix(f[0], "--"))
		}
	}
	return out
}

// commandsOf are the subcommands a Commands section lists.
func commandsOf(lines []string) []string {
	var out []string
	for _, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && !strings.HasPrefix(l, "   ") {
			out = append(out, f[0])
		}
	}
	return out
}

// walkHelp calls fn with the path and help page of signet and of every
// command and subcommand, found by following the Commands sections from
// the top-level help: the tree as users see it.
func walkHelp(t *testing.T, fn func(path string, p helpPage)) {
	t.Helper()
	var walk func(path string)
	walk = func(path string) {
		args := append(strings.Fields(path), "-h")
		r := run(t, args...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("signet %s -h: exit %d, stderr %q; want 0 and nothing", path, r.code, r.stderr)
		}
		p, problems := parseHelp(path, r.stdout)
		for _, problem := range problems {
			t.Errorf("signet %s -h: %s\n%s", path, problem, r.stdout)
		}
		// The same page, however it is asked for.
		for _, other := range [][]string{append(strings.Fields(path), "--help"), append([]string{"help"}, strings.Fields(path)...)} {
			if o := run(t, other...); o.code != 0 || o.stdout != r.stdout {
				t.Errorf("signet %s: exit %d, a different page than signet %s -h:\n%s", strings.Join(other, " "), o.code, path, o.stdout)
			}
		}
		fn(path, p)
		for _, sub := range commandsOf(p.commands) {
			walk(strings.TrimSpace(path + " " + sub))
		}
	}
	walk("")
}

// TestHelpShape walks every command and subcommand and checks that each
// help page has the same shape (see parseHelp), and that each flag it
// documents is accepted.
func TestHelpShape(t *testing.T) {
	var paths []string
	walkHelp(t, func(path string, p helpPage) {
		paths = append(paths, path)
		if len(p.commands) > 0 {
			// A group without its subcommand prints its usage on stderr.
			if path != "" {
				if r := run(t, strings.Fields(path)...); r.code != 2 || r.stdout != "" || !strings.HasPrefix(r.stderr, "Usage:\n  signet "+path) {
					t.Errorf("signet %s: exit %d, stdout %q, stderr %.60q; want 2 and the usage on stderr", path, r.code, r.stdout, r.stderr)
				}
			}
			return
		}
		for _, name := range flagNamesOf(p.flags) {
			// -h last: the flag is parsed, then nothing runs.
			r := run(t, append(strings.Fields(path), "--"+name+"=x", "-h")...)
			if strings.Contains(r.stderr, "unknown flag") {
				t.Errorf("signet %s documents --%s but refuses it: %s", path, name, r.stderr)
			}
		}
	})
	want := []string{"", "keygen", "sign", "verify", "explain", "serve", "token", "token create", "token list",
		"token revoke", "token export", "keys", "keys status", "config", "config validate", "config example",
		"completion", "version", "help"}
	if !slices.Equal(paths, want) {
		t.Errorf("help pages walked: %q; want %q", paths, want)
	}
}

// TestFlagNames pins the flag names users and scripts rely on: each
// command's help documents every one.
func TestFlagNames(t *testing.T) {
	flags := map[string][]string{
		"keygen":          {"type", "out"},
		"sign":            {"key", "key-id", "expires-in", "expires-at", "not-before", "ip", "resource", "policy-file", "hash", "cookies", "cookie-domain", "cookie-path", "json"},
		"verify":          {"pubkey", "at", "client-ip", "cookie", "skew", "json"},
		"explain":         {"cookie", "at", "client-ip", "json"},
		"serve":           {"config", "listen", "data-dir"},
		"token create":    {"name", "scope", "max-lifetime", "rate", "burst", "config", "db"},
		"token list":      {"json", "config", "db"},
		"keys status":     {"admin", "json"},
		"config validate": {"files"},
		"version":         {"json"},
	}
	walkHelp(t, func(path string, p helpPage) {
		for _, name := range flags[path] {
			if !slices.Contains(flagNamesOf(p.flags), name) {
				t.Errorf("signet %s -h does not document --%s", path, name)
			}
		}
	})
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		cmd  string
		want string
	}{
		{"unknown flag", []string{"sign", "--bogus", "https://h/a"}, "sign", "unknown flag --bogus (see 'signet sign -h')"},
		{"misspelt flag", []string{"sign", "--expire-in", "1h", "https://h/a"}, "sign", "unknown flag --expire-in; did you mean --expires-in?"},
		{"single-dash flag named as typed", []string{"sign", "-expire-in", "1h", "https://h/a"}, "sign", "unknown flag --expire-in"},
		{"flag without value", []string{"verify", "https://h/a", "--pubkey"}, "verify", "--pubkey needs a value (--pubkey ID=FILE)"},
		{"switch with a value", []string{"sign", "--cookies=maybe", "https://h/a"}, "sign", `--cookies is a switch: give it alone, not "maybe"`},
		{"bad value", []string{"sign", "--expires-in", "soon", "https://h/a"}, "sign", `--expires-in: "soon" is not a duration`},
		{"not a number", []string{"token", "create", "--rate", "fast"}, "token", `--rate: "fast" is not a number`},
		{"bad syntax", []string{"sign", "---key", "k"}, "sign", `bad flag syntax "---key"`},
		{"keygen argument", []string{"keygen", "--out", dir, "extra"}, "keygen", `unexpected argument "extra"`},
		{"sign no URL", []string{"sign", "--key", "k", "--key-id", "K1", "--expires-in", "1h"}, "sign", "missing URL"},
		{"verify two URLs", []string{"verify", "--pubkey", "k", "https://h/a", "https://h/b"}, "verify", "expected one URL, got 2"},
		{"explain no URL", []string{"explain"}, "explain", "missing URL"},
		{"unknown subcommand", []string{"token", "rotate"}, "token", `unknown subcommand "rotate"; the token commands are create, list, revoke and export`},
		{"version argument", []string{"version", "x"}, "version", `unexpected argument "x"`},
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
