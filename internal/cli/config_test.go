package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/config"
)

// configFile writes a config file into a temporary directory.
func configFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signet.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const validConfig = `key_groups:
  main:
    - {id: K2JCJMDEHXQW5F, public_key_file: keys/public_key.pem}
distributions:
  - name: media
    origin: {type: dir, dir: {path: public}}
    behaviors:
      - {path: "*", key_groups: [main]}
`

func TestConfigValidateOK(t *testing.T) {
	path := configFile(t, validConfig)
	r := run(t, "config", "validate", path)
	if r.code != 0 || r.stdout != path+": ok\n" || r.stderr != "" {
		t.Errorf("config validate = exit %d, stdout %q, stderr %q; want 0, %q, nothing", r.code, r.stdout, r.stderr, path+": ok\n")
	}
}

func TestConfigValidateProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want []string // stdout lines after "FILE"
	}{
		{"decode problems", "clock_skew: 30\nlog:\n  levle: info\n",
			[]string{
				": distributions: at least one distribution is required",
				":1: clock_skew: 30 has no unit: write 30s, or a duration such as 15m, 12h or 30d",
				":3: log.levle: unknown key; did you mean level?",
			}},
		{"validation problems", strings.Replace(validConfig, "[main]", "[mian]", 1) + "log: {format: xml}\n",
			[]string{
				`:8: distributions[0].behaviors[0].key_groups[0]: no key group "mian" under key_groups (defined: main)`,
				`:9: log.format: "xml" is not one of json, text`,
			}},
		{"every kind at once", "listeners:\n  - address: 127.0.0.1:8080\n    adapter: fastttp\ntimeouts: {idle: 120}\nlog:\n  levle: debug\n" + validConfig,
			[]string{
				`:3: listeners[0].adapter: "fastttp" is not one of nethttp, fasthttp; did you mean "fasthttp"?`,
				":4: timeouts.idle: 120 has no unit: write 120s, or a duration such as 15m, 12h or 30d",
				":6: log.levle: unknown key; did you mean level?",
			}},
		{"problem without a line", "data_dir: ./d\n",
			[]string{": distributions: at least one distribution is required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := configFile(t, tc.text)
			r := run(t, "config", "validate", path)
			var want string
			for _, l := range tc.want {
				want += path + l + "\n"
			}
			if r.code != 1 || r.stdout != want || r.stderr != "" {
				t.Errorf("config validate = exit %d, stdout\n%s\nstderr %q; want 1, stdout\n%s", r.code, r.stdout, r.stderr, want)
			}
			noPanic(t, r)
		})
	}
}

// TestConfigValidateWarnings checks that warnings go to stderr and do not
// fail validation.
func TestConfigValidateWarnings(t *testing.T) {
	path := configFile(t, "debug_reason_header: true\n"+validConfig)
	r := run(t, "config", "validate", path)
	wantErr := "signet: warning: " + path + ":1: debug_reason_header: refusals carry their private reason in X-Signet-Reason: for development only\n"
	if r.code != 0 || r.stdout != path+": ok\n" || r.stderr != wantErr {
		t.Errorf("config validate = exit %d, stdout %q, stderr %q; want 0, %q, %q", r.code, r.stdout, r.stderr, path+": ok\n", wantErr)
	}
}

func TestConfigValidateFiles(t *testing.T) {
	path := configFile(t, validConfig)
	dir := filepath.Dir(path)
	// Without --files the missing key file and directory go unnoticed.
	if r := run(t, "config", "validate", path); r.code != 0 {
		t.Fatalf("config validate = exit %d (%s); want 0", r.code, r.stdout)
	}
	r := run(t, "config", "validate", "--files", path)
	want := path + ":3: key_groups.main[0].public_key_file: open " + filepath.Join(dir, "keys/public_key.pem") + ": no such file or directory\n" +
		path + ":6: distributions[0].origin.dir.path: stat " + filepath.Join(dir, "public") + ": no such file or directory\n"
	if r.code != 1 || r.stdout != want {
		t.Errorf("config validate --files = exit %d, stdout\n%s\nwant 1, stdout\n%s", r.code, r.stdout, want)
	}

	k := keygen(t, "ecdsa")
	text := strings.Replace(validConfig, "K2JCJMDEHXQW5F, public_key_file: keys/public_key.pem", k.id+", public_key_file: "+k.pub, 1) +
		"    base_url: https://media.example.com\n    signer: {source: file, key_id: " + k.id + ", private_key_file: " + k.priv + "}\n"
	path = configFile(t, text)
	if err := os.Mkdir(filepath.Join(filepath.Dir(path), "public"), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := run(t, "config", "validate", path, "--files"); r.code != 0 || r.stdout != path+": ok\n" {
		t.Errorf("config validate --files (flag last) = exit %d, stdout %q, stderr %q; want 0, %q", r.code, r.stdout, r.stderr, path+": ok\n")
	}
}

// TestConfigValidateFilesSigner checks that validate --files reports, with
// its line, a signer whose key file is not the private half of the key
// trusted under its id, whose id no key group of the distribution has, or
// whose key file is missing.
func TestConfigValidateFilesSigner(t *testing.T) {
	trusted, other := keygen(t, "ecdsa"), keygen(t, "ecdsa")
	missing := filepath.Join(t.TempDir(), "missing.pem")
	for _, tc := range []struct {
		name, id, file string
		want           string // after FILE:
	}{
		{"another key", trusted.id, other.priv,
			"10: distributions[0].signer.private_key_file: " + other.priv + ` is not the private half of the public key trusted as "` + trusted.id + `"`},
		{"an id no key group has", other.id, other.priv,
			`10: distributions[0].signer.key_id: "` + other.id + `" is in no key group this distribution's behaviors use (main): its edge would refuse every link signed with it`},
		{"a missing key file", trusted.id, missing,
			"10: distributions[0].signer.private_key_file: open " + missing + ": no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(validConfig, "K2JCJMDEHXQW5F, public_key_file: keys/public_key.pem", trusted.id+", public_key_file: "+trusted.pub, 1) +
				"    base_url: https://media.example.com\n    signer: {source: file, key_id: " + tc.id + ", private_key_file: " + tc.file + "}\n"
			path := configFile(t, text)
			if err := os.Mkdir(filepath.Join(filepath.Dir(path), "public"), 0o755); err != nil {
				t.Fatal(err)
			}
			r := run(t, "config", "validate", "--files", path)
			if want := path + ":" + tc.want + "\n"; r.code != 1 || r.stdout != want {
				t.Errorf("config validate --files = exit %d, stdout\n%s\nwant 1, stdout\n%s", r.code, r.stdout, want)
			}
		})
	}
}

func TestConfigExample(t *testing.T) {
	r := mustRun(t, "config", "example")
	if r.stdout != config.Example() || r.stderr != "" {
		t.Errorf("config example printed %d bytes (stderr %q); want Example(), %d bytes", len(r.stdout), r.stderr, len(config.Example()))
	}
	path := configFile(t, r.stdout)
	if r := run(t, "config", "validate", path); r.code != 0 || r.stderr != "" {
		t.Errorf("config validate of the example = exit %d, stdout %q, stderr %q; want 0 and no warning", r.code, r.stdout, r.stderr)
	}
}

func TestConfigUsageErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown subcommand", []string{"config", "check", "x"}, `unknown subcommand "check"; the config commands are validate and example`},
		{"no file", []string{"config", "validate"}, "expected one FILE, got 0 arguments"},
		{"two files", []string{"config", "validate", "a", "b"}, "expected one FILE, got 2 arguments"},
		{"unknown flag", []string{"config", "validate", "--strict", "a"}, "unknown flag --strict"},
		{"missing file", []string{"config", "validate", missing}, "no such file or directory"},
		{"example with an argument", []string{"config", "example", "x"}, `unexpected argument "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, run(t, tc.args...), "config", tc.want)
		})
	}
}

func TestConfigHelp(t *testing.T) {
	for _, args := range [][]string{{"config", "-h"}, {"config", "validate", "-h"}, {"help", "config"}} {
		r := run(t, args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Usage:\n  signet config validate") {
			t.Errorf("signet %s = exit %d, stdout %q; want 0 and the usage", strings.Join(args, " "), r.code, r.stdout)
		}
	}
	if r := mustRun(t, "help"); !strings.Contains(r.stdout, "\n  config ") {
		t.Errorf("signet help does not list config:\n%s", r.stdout)
	}
}
