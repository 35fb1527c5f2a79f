package config_test

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/config"
)

// env is a fake environment for Parse.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// texts is the Error text of each problem in err.
func texts(err error) []string {
	var out []string
	for _, p := range config.Problems(err) {
		out = append(out, p.Error())
	}
	return out
}

// mustParse parses doc and fails the test on any problem.
func mustParse(t *testing.T, doc string, vars map[string]string) *config.Config {
	t.Helper()
	c, err := config.Parse([]byte(doc), env(vars))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, doc)
	}
	return c
}

func TestParseProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		vars map[string]string
		want []string
	}{
		{"unknown key, near a known one", "data_dri: x\n",
			nil, []string{"line 1: data_dri: unknown key; did you mean data_dir?"}},
		{"unknown key, far from every known one", "timeouts:\n  read: 1s\n  never: 2s\n",
			nil, []string{"line 3: timeouts.never: unknown key; the keys here are read_header, read, write, idle, origin, shutdown"}},
		{"unknown key in a list element", "listeners:\n  - adress: :80\n",
			nil, []string{"line 2: listeners[0].adress: unknown key; did you mean address?"}},
		{"size without its unit's i", "distributions:\n  - cache:\n      memory: 64M\n",
			nil, []string{`line 3: distributions[0].cache.memory: "64M" is not a size such as 4096, 64MiB or 10GiB`}},
		{"size as a list", "distributions:\n  - cache:\n      disk: [1]\n",
			nil, []string{"line 3: distributions[0].cache.disk: want a size such as 4096, 64MiB or 10GiB, got a list"}},
		{"repeated key", "log:\n  level: info\n  level: debug\n",
			nil, []string{"line 3: log.level: repeated key (first set on line 2)"}},
		{"repeated key group", "key_groups:\n  main: []\n  main: []\n",
			nil, []string{"line 3: key_groups.main: repeated key (first set on line 2)"}},
		{"merge key", "base: &b {level: info}\nlog:\n  <<: *b\n",
			nil, []string{
				"line 1: base: unknown key; the keys here are data_dir, listeners, admin, trusted_proxies, debug_reason_header, clock_skew, timeouts, limits, log, key_groups, signing_api, distributions",
				"line 3: log: merge keys (<<) are not supported: write the keys out, or use an alias (*name) for the whole value",
			}},
		{"removed key", "signing: {key_id: K1, private_key_file: k.pem}\n",
			nil, []string{`line 1: signing: no longer read (nothing used it): sign a link with "signet sign --key FILE --key-id ID URL", or give a distribution a signer for the signing API; zero-config "signet serve" prints its own demo link`}},
		{"key that is not a name", "? [a]\n: 1\n",
			nil, []string{"line 1: a key must be a plain name, not a list"}},
		{"string wanted, boolean given", "data_dir: true\n",
			nil, []string{`line 1: data_dir: want a string, got true (quote it: "true")`}},
		{"string wanted, list given", "data_dir: [a]\n",
			nil, []string{"line 1: data_dir: want a string, got a list"}},
		{"boolean wanted, yes given", "debug_reason_header: yes\n",
			nil, []string{`line 1: debug_reason_header: want true or false, got "yes"`}},
		{"number wanted, string given", "limits: {max_header_bytes: big}\n",
			nil, []string{`line 1: limits.max_header_bytes: want a whole number, got "big"`}},
		{"number wanted, float given", "limits: {max_header_bytes: 1.5}\n",
			nil, []string{"line 1: limits.max_header_bytes: want a whole number, got 1.5"}},
		{"number too large", "limits: {max_header_bytes: 99999999999999999999}\n",
			nil, []string{"line 1: limits.max_header_bytes: want a whole number, got 99999999999999999999"}},
		{"duration without unit", "clock_skew: 30\n",
			nil, []string{"line 1: clock_skew: 30 has no unit: write 30s, or a duration such as 15m, 12h or 30d"}},
		{"duration misspelt", "timeouts:\n  idle: 2 minutes\n",
			nil, []string{`line 2: timeouts.idle: "2 minutes" is not a duration such as 90s, 15m, 12h or 30d`}},
		{"duration as a list", "clock_skew: [1s]\n",
			nil, []string{"line 1: clock_skew: want a duration such as 90s, 15m, 12h or 30d, got a list"}},
		{"mapping wanted, string given", "listeners:\n  - address: :443\n    tls: /etc/tls.crt\n",
			nil, []string{`line 3: listeners[0].tls: want a mapping with keys cert_file, key_file, got "/etc/tls.crt"`}},
		{"mapping wanted, list given", "log: [json]\n",
			nil, []string{"line 1: log: want a mapping with keys level, format, access_log, got a list"}},
		{"list wanted, string given", "distributions:\n  - hosts: media.example.com\n",
			nil, []string{`line 2: distributions[0].hosts: want a list (write [item] for a single item), got "media.example.com"`}},
		{"map of names wanted, list given", "key_groups: [main]\n",
			nil, []string{"line 1: key_groups: want a mapping of names, got a list"}},
		{"prefix with host bits", "trusted_proxies: [10.1.2.3/8]\n",
			nil, []string{`line 1: trusted_proxies[0]: "10.1.2.3/8" has bits set after the /8: write 10.0.0.0/8`}},
		{"prefix that is no address", "trusted_proxies:\n  - 10.0.0.0/8\n  - proxy.internal\n",
			nil, []string{`line 3: trusted_proxies[1]: "proxy.internal" is not an IP prefix such as 10.0.0.0/8 or an address such as 192.0.2.7`}},
		{"custom tag", "data_dir: !path ./x\n",
			nil, []string{`line 1: data_dir: unsupported YAML tag "!path"`}},
		{"top level is a list", "- a\n- b\n",
			nil, []string{"line 1: want a mapping with keys data_dir, listeners, admin, trusted_proxies, debug_reason_header, clock_skew, timeouts, limits, log, key_groups, signing_api, distributions, got a list"}},
		{"syntax error", "log:\n  level: info\n level: debug\n",
			nil, []string{"line 2: YAML syntax error at or after this line: did not find expected key"}},
		{"syntax error without a line", "a: b: c\n",
			nil, []string{"YAML syntax error: mapping values are not allowed in this context"}},
		{"tab indentation", "log:\n\tlevel: info\n",
			nil, []string{"line 2: YAML syntax error at or after this line: found character that cannot start any token"}},
		{"two documents", "data_dir: a\n---\ndata_dir: b\n",
			nil, []string{"line 2: a second YAML document (after ---): the config is one document"}},
		{"unset variable", "data_dir: ${SIGNET_DATA}\n",
			nil, []string{"line 1: data_dir: environment variable SIGNET_DATA is not set (write ${SIGNET_DATA:-} to allow it empty)"}},
		{"unset variable in a secret, value never shown", "distributions:\n  - origin:\n      http: {secret: \"${ORIGIN_SECRET}\"}\n",
			nil, []string{"line 3: distributions[0].origin.http.secret: environment variable ORIGIN_SECRET is not set (write ${ORIGIN_SECRET:-} to allow it empty)"}},
		{"bad variable name", "data_dir: ${1X}\n",
			nil, []string{"line 1: data_dir: ${...} does not hold a variable name: write ${NAME} or ${NAME:-default}, NAME of letters, digits and '_' (or $$ for a literal $)"}},
		{"unclosed variable", "data_dir: ${HOME\n",
			map[string]string{"HOME": "/root"}, []string{"line 1: data_dir: unclosed ${ (write $$ for a literal $)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Parse([]byte(tc.doc), env(tc.vars))
			if c != nil {
				t.Errorf("Parse returned a config along with %v", err)
			}
			if got := texts(err); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%q) problems =\n%s\nwant\n%s", tc.doc, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestParseReportsAllAtOnce checks that one bad key does not hide the
// next: every problem of the document comes back, in line order.
func TestParseReportsAllAtOnce(t *testing.T) {
	doc := `data_dri: x
listeners:
  - address: :8080
    adaptor: nethttp
    redirect_to_https: "no"
clock_skew: 10
trusted_proxies: [nope]
key_groups:
  main:
    - id: K1
      public_key_file: keys/a.pem
      public_key_file: keys/b.pem
admin: {address: "${ADMIN}"}
distributions:
  - name: media
    hosts: media.example.com
    behaviors:
      - path: /x
        cache: {default_ttl: forever}
`
	want := []string{
		"line 1: data_dri: unknown key; did you mean data_dir?",
		"line 4: listeners[0].adaptor: unknown key; did you mean adapter?",
		`line 5: listeners[0].redirect_to_https: want true or false, got "no"`,
		"line 6: clock_skew: 10 has no unit: write 10s, or a duration such as 15m, 12h or 30d",
		`line 7: trusted_proxies[0]: "nope" is not an IP prefix such as 10.0.0.0/8 or an address such as 192.0.2.7`,
		"line 12: key_groups.main[0].public_key_file: repeated key (first set on line 11)",
		"line 13: admin.address: environment variable ADMIN is not set (write ${ADMIN:-} to allow it empty)",
		`line 16: distributions[0].hosts: want a list (write [item] for a single item), got "media.example.com"`,
		`line 19: distributions[0].behaviors[0].cache.default_ttl: "forever" is not a duration such as 90s, 15m, 12h or 30d`,
	}
	_, err := config.Parse([]byte(doc), env(nil))
	if got := texts(err); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestParseStopsAtTooManyProblems checks that a hopeless document gives a
// bounded list.
func TestParseStopsAtTooManyProblems(t *testing.T) {
	doc := "trusted_proxies: [" + strings.Repeat("x, ", 500) + "x]\n"
	_, err := config.Parse([]byte(doc), env(nil))
	got := texts(err)
	if len(got) != 101 {
		t.Fatalf("Parse gave %d problems; want 101 (100, then one saying it stopped)", len(got))
	}
	if last, want := got[100], "line 1: more than 100 problems; stopping here"; last != want {
		t.Errorf("last problem = %q; want %q", last, want)
	}
}

// TestParseAliasBomb checks that aliases expanding to a huge tree (here
// 100 distributions of 100 behaviors of 100 key groups) are cut short with
// a problem rather than walked.
func TestParseAliasBomb(t *testing.T) {
	repeat := func(s string) string { return "[" + strings.Repeat(s+", ", 99) + s + "]" }
	doc := "groups: &g " + repeat("main") + "\n" +
		"behavior: &b {path: '*', key_groups: *g}\n" +
		"behaviors: &bs " + repeat("*b") + "\n" +
		"distribution: &d {name: d, behaviors: *bs}\n" +
		"distributions: " + repeat("*d") + "\n"
	_, err := config.Parse([]byte(doc), env(nil))
	got := texts(err)
	want := "the document is too large once its aliases are expanded"
	if len(got) != 5 || !strings.HasSuffix(got[4], want) {
		t.Errorf("Parse problems =\n%s\nwant 4 unknown keys, then %q", strings.Join(got, "\n"), want)
	}
}

func TestParseEmptyIsDefault(t *testing.T) {
	for _, doc := range []string{"", "# only a comment\n", "---\n", "~\n"} {
		c := mustParse(t, doc, nil)
		if !reflect.DeepEqual(c.Listeners, config.Default().Listeners) || c.DataDir != config.Default().DataDir ||
			c.Timeouts != config.Default().Timeouts || c.Log != config.Default().Log || c.Limits != config.Default().Limits {
			t.Errorf("Parse(%q) = %+v; want Default()", doc, c)
		}
	}
}

// TestParseOverlay checks how the file overlays the defaults: keys left
// out or empty keep theirs, a list replaces the default list, and each new
// list element starts from its own defaults.
func TestParseOverlay(t *testing.T) {
	doc := `timeouts:
  idle: 1m
log:
  # level: debug   (a section with every key commented out)
admin:
  address:
listeners:
  - address: :80
    redirect_to_https: true
  - address: :443
    tls: {cert_file: c.pem, key_file: k.pem}
distributions:
  - name: media
    behaviors:
      - path: /videos/*
        key_groups: [main]
        cache: {max_ttl: 30d}
`
	c := mustParse(t, doc, nil)
	def := config.Default()
	want := def.Timeouts
	want.Idle = config.Duration(time.Minute)
	if c.Timeouts != want {
		t.Errorf("Timeouts = %+v; want %+v", c.Timeouts, want)
	}
	if c.Log != def.Log {
		t.Errorf("Log = %+v; want the default %+v", c.Log, def.Log)
	}
	if c.Admin != def.Admin {
		t.Errorf("Admin = %+v; want the default %+v", c.Admin, def.Admin)
	}
	wantListeners := []config.Listener{
		{Address: ":80", Adapter: "nethttp", RedirectToHTTPS: true},
		{Address: ":443", Adapter: "nethttp", TLS: &config.TLS{CertFile: "c.pem", KeyFile: "k.pem"}},
	}
	if !reflect.DeepEqual(c.Listeners, wantListeners) {
		t.Errorf("Listeners = %+v; want %+v", c.Listeners, wantListeners)
	}
	b := config.DefaultBehavior()
	b.Path, b.KeyGroups, b.Cache.Max = "/videos/*", []string{"main"}, config.Duration(30*24*time.Hour)
	if got := c.Distributions[0].Behaviors; !reflect.DeepEqual(got, []config.Behavior{b}) {
		t.Errorf("Behaviors = %+v; want %+v", got, []config.Behavior{b})
	}
}

func TestParseAliases(t *testing.T) {
	doc := `key_groups:
  main: &keys
    - {id: K1, public_key_file: a.pem}
  copy: *keys
`
	c := mustParse(t, doc, nil)
	if !reflect.DeepEqual(c.KeyGroups["main"], c.KeyGroups["copy"]) || len(c.KeyGroups["copy"]) != 1 {
		t.Errorf("KeyGroups = %+v; want copy equal to main", c.KeyGroups)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	c := mustParse(t, "trusted_proxies: [10.0.0.0/8, 192.0.2.7, \"2001:db8::/32\", \"::1\"]\n", nil)
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("::1/128"),
	}
	if !reflect.DeepEqual(c.TrustedProxies, want) {
		t.Errorf("TrustedProxies = %v; want %v", c.TrustedProxies, want)
	}
}

// TestParseStrings checks which scalars a string field takes, and that
// they are taken as written.
func TestParseStrings(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{"data_dir: 0123", "0123"},
		{"data_dir: 1e3", "1e3"},
		{"data_dir: 2026-01-01", "2026-01-01"},
		{`data_dir: "true"`, "true"},
		{"data_dir: ''", ""},
	} {
		if got := mustParse(t, tc.doc, nil).DataDir; got != tc.want {
			t.Errorf("Parse(%q).DataDir = %q; want %q", tc.doc, got, tc.want)
		}
	}
}

func TestParseExpandsEnvironment(t *testing.T) {
	vars := map[string]string{"DIR": "/srv", "EMPTY": "", "DOLLAR": "$HOME"}
	for _, tc := range []struct{ value, want string }{
		{"${DIR}", "/srv"},
		{"${DIR}/data", "/srv/data"},
		{"a${DIR}b${DIR}c", "a/srvb/srvc"},
		{"${UNSET:-/tmp/x}", "/tmp/x"},
		{"${EMPTY:-fallback}", "fallback"},
		{"${DIR:-fallback}", "/srv"},
		{"${EMPTY}", ""},
		{"${UNSET:-}", ""},
		{"$$", "$"},
		{"$${DIR}", "${DIR}"},
		{"$$$${DIR}", "$${DIR}"},
		{"$$${DIR}", "$/srv"},
		{"$DIR", "$DIR"},
		{"cost: 5$", "cost: 5$"},
		{"${DOLLAR}", "$HOME"}, // values are not expanded again
	} {
		doc := "data_dir: '" + tc.value + "'\n"
		if got := mustParse(t, doc, vars).DataDir; got != tc.want {
			t.Errorf("data_dir %q with %v = %q; want %q", tc.value, vars, got, tc.want)
		}
	}
}

// TestParseExpandsOnlyStrings checks that ${NAME} is not expanded outside
// string values: a duration cannot come from the environment.
func TestParseExpandsOnlyStrings(t *testing.T) {
	_, err := config.Parse([]byte("clock_skew: ${SKEW}\n"), env(map[string]string{"SKEW": "1s"}))
	want := []string{`line 1: clock_skew: "${SKEW}" is not a duration such as 90s, 15m, 12h or 30d`}
	if got := texts(err); !reflect.DeepEqual(got, want) {
		t.Errorf("Parse problems = %q; want %q", got, want)
	}
}

// TestParseNilGetenv checks that a nil getenv means an empty environment,
// not the process's.
func TestParseNilGetenv(t *testing.T) {
	t.Setenv("SIGNET_TEST_DIR", "/from/process")
	_, err := config.Parse([]byte("data_dir: ${SIGNET_TEST_DIR}\n"), nil)
	if err == nil {
		t.Errorf("Parse with nil getenv expanded a process variable; want it unset")
	}
}
