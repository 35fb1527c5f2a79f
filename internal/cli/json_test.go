package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/signapi"
)

// checkJSON checks that out is formatted as every --json output must be:
// one JSON value indented by two spaces, one trailing newline, no HTML
// escaping, every instant RFC 3339 in UTC to the second, and every
// duration (a key ending in "lifetime") a Go duration string.
func checkJSON(t *testing.T, what, out string) {
	t.Helper()
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(out)); err != nil {
		t.Errorf("%s: not JSON: %v\n%s", what, err, out)
		return
	}
	var indented bytes.Buffer
	json.Indent(&indented, compact.Bytes(), "", "  ")
	if want := indented.String() + "\n"; out != want {
		t.Errorf("%s: output is not two-space indented with one trailing newline:\n%q\nwant\n%q", what, out, want)
	}
	for _, esc := range []string{`\u0026`, `\u003c`, `\u003e`} {
		if strings.Contains(out, esc) {
			t.Errorf("%s: HTML-escaped %s in\n%s", what, esc, out)
		}
	}
	var v any
	json.Unmarshal([]byte(out), &v)
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(k, x)
			}
		case []any:
			for _, x := range v {
				walk(key, x)
			}
		case string:
			if len(v) >= 11 && v[4] == '-' && v[7] == '-' && v[10] == 'T' && !rfc3339UTC.MatchString(v) {
				t.Errorf("%s: %s = %q is not RFC 3339 UTC to the second", what, key, v)
			}
			if strings.HasSuffix(key, "lifetime") {
				if _, err := time.ParseDuration(v); err != nil {
					t.Errorf("%s: %s = %q is not a duration", what, key, v)
				}
			}
		case float64:
			if strings.HasSuffix(key, "lifetime") {
				t.Errorf("%s: %s = %v is a number; want a duration string", what, key, v)
			}
		}
	}
	walk("", v)
}

// TestJSONOutputs runs every command that has --json (keys status is in
// TestKeysStatus) and checks the one format they share.
func TestJSONOutputs(t *testing.T) {
	k := keygen(t, "ecdsa")
	const u = "https://media.example.com/a.jpg?x=1&y=<2>"
	signed := mustRun(t, "sign", "--key", k.priv, "--key-id", k.id, "--expires-in", "1h", u).stdout
	tokens := filepath.Join(t.TempDir(), "signet.db")
	mustRun(t, "token", "create", "--db", tokens, "--name", "ci & co", "--scope", "media:a/", "--max-lifetime", "30d", "--rate", "2", "--burst", "4")
	mustRun(t, "token", "create", "--db", tokens, "--name", "plain", "--scope", "media:")
	for _, args := range [][]string{
		{"sign", "--key", k.priv, "--key-id", k.id, "--expires-in", "1h", "--json", u},
		{"sign", "--key", k.priv, "--key-id", k.id, "--expires-in", "1h", "--cookies", "--resource", "https://media.example.com/*", "--json", u},
		{"verify", "--pubkey", k.pubkey(), "--json", strings.TrimSpace(signed)},
		{"verify", "--pubkey", k.pubkey(), "--json", "--at", unix(2 * time.Hour), strings.TrimSpace(signed)},
		{"explain", "--json", strings.TrimSpace(signed)},
		{"explain", "--json", "--at", unix(2 * time.Hour), strings.TrimSpace(signed) + "&utm=<x>"},
		{"version", "--json"},
		{"token", "list", "--json", "--db", tokens},
		{"token", "export", "--db", tokens},
	} {
		r := run(t, args...)
		if r.code > 1 {
			t.Errorf("signet %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
			continue
		}
		checkJSON(t, "signet "+strings.Join(args[:2], " "), r.stdout)
	}
}

// TestTokenFiles checks that only create makes a missing token file, and
// the JSON forms of list and export.
func TestTokenFiles(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo.db")
	cfg := filepath.Join(dir, "signet.yaml")
	os.WriteFile(cfg, []byte(`
data_dir: `+filepath.Join(dir, "data")+`
key_groups:
  main: [{id: K2JCJMDEHXQW5F, public_key_file: keys/public_key.pem}]
distributions:
  - name: media
    origin: {type: dir, dir: {path: files}}
    behaviors:
      - {path: "*", key_groups: [main]}
`), 0o600)
	for _, args := range [][]string{
		{"list", "--db", missing},
		{"list", "--json", "--db", missing},
		{"export", "--db", missing},
		{"revoke", "0123456789abcdef", "--db", missing},
		{"list", "--config", cfg},
	} {
		r := run(t, append([]string{"token"}, args...)...)
		wantError(t, r, "token", "does not exist (signet token create makes it)")
	}
	for _, f := range []string{missing, filepath.Join(dir, "data", "signet.db")} {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s was created", f)
		}
	}

	mustRun(t, "token", "create", "--db", missing, "--name", "ci", "--scope", "media:a/", "--max-lifetime", "36h")
	var list []struct {
		ID          string `json:"id"`
		MaxLifetime string `json:"max_lifetime"`
		CreatedAt   string `json:"created_at"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "token", "list", "--json", "--db", missing).stdout), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].MaxLifetime != "36h0m0s" || !rfc3339UTC.MatchString(list[0].CreatedAt) {
		t.Errorf("token list --json = %+v; want one token, max_lifetime \"36h0m0s\", created_at RFC 3339 UTC", list)
	}
	export := mustRun(t, "token", "export", "--db", missing).stdout
	if !strings.Contains(export, `"max_lifetime": "36h0m0s"`) {
		t.Errorf("token export = %s; want max_lifetime \"36h0m0s\"", export)
	}
	st, err := signapi.ParseStaticTokens([]byte(export))
	if err != nil {
		t.Fatalf("the export does not read back: %v", err)
	}
	if _, err := st.Lookup("sgt_" + list[0].ID + "_" + strings.Repeat("A", 43)); err == nil {
		t.Error("a wrong secret looks up")
	}
	if got := mustRun(t, "token", "export", "--db", missing).stdout; got == "" {
		t.Error("export printed nothing")
	}
	// Revoked, the token leaves the export, which is then an empty list.
	mustRun(t, "token", "revoke", list[0].ID, "--db", missing)
	if got := mustRun(t, "token", "export", "--db", missing).stdout; got != "[]\n" {
		t.Errorf("export with no active token = %q; want []", got)
	}
}
