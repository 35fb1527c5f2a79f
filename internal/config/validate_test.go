package config_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/config"
)

// minimal is the smallest valid config. Cases below change it line by line,
// so their line numbers can be read off it.
const minimal = `key_groups:
  main:
    - {id: K2JCJMDEHXQW5F, public_key_file: keys/public_key.pem}
distributions:
  - name: media
    origin: {type: dir, dir: {path: ./public}}
    behaviors:
      - {path: "*", key_groups: [main]}
`

// validate parses doc, which must parse, and returns Validate's problems.
func validate(t *testing.T, doc string) []string {
	t.Helper()
	return texts(mustParse(t, doc, nil).Validate())
}

// pemKey returns a PEM SubjectPublicKeyInfo for pub, indented for a YAML
// block scalar.
func pemKey(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	text := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	return strings.ReplaceAll(strings.TrimSuffix(text, "\n"), "\n", "\n        ")
}

func TestValidateMinimal(t *testing.T) {
	if got := validate(t, minimal); got != nil {
		t.Errorf("Validate(minimal) = %q; want no problem", got)
	}
}

func TestValidateProblems(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// dist is a distributions block with one behavior, given as flow YAML on line 6.
	dist := func(behavior string) string {
		return "key_groups:\n  main:\n    - {id: K2JCJMDEHXQW5F, public_key_file: keys/public_key.pem}\n" +
			"distributions:\n  - name: media\n    origin: {type: s3, s3: {bucket: media}}\n    behaviors:\n      - " + behavior + "\n"
	}
	for _, tc := range []struct {
		name string
		doc  string
		want []string
	}{
		{"no distributions", "data_dir: ./d\n", []string{"distributions: at least one distribution is required"}},
		{"empty data_dir", "data_dir: ''\n" + minimal, []string{"line 1: data_dir: must not be empty"}},

		// Listeners and admin.
		{"no listeners", "listeners: []\n" + minimal, []string{"line 1: listeners: at least one listener is required"}},
		{"address without port", "listeners: [{address: localhost}]\n" + minimal,
			[]string{`line 1: listeners[0].address: "localhost" is not host:port, such as 127.0.0.1:8080 or :443`}},
		{"port out of range", "listeners: [{address: ':65536'}]\n" + minimal,
			[]string{`line 1: listeners[0].address: ":65536": the port must be a number from 0 to 65535`}},
		{"bad host", "listeners: [{address: 'exa_mple:80'}]\n" + minimal,
			[]string{`line 1: listeners[0].address: "exa_mple:80": "exa_mple" is not a host name (labels of a-z, 0-9 and '-', separated by dots)`}},
		{"overlapping listeners", "listeners:\n  - address: 127.0.0.1:80\n  - address: :80\n" + minimal,
			[]string{`line 3: listeners[1].address: ":80" overlaps listeners[0] ("127.0.0.1:80")`}},
		{"same port, other hosts", "listeners:\n  - address: 127.0.0.1:80\n  - address: 127.0.0.2:80\n  - address: :0\n  - address: :0\n" + minimal, nil},
		{"fasthttp", "listeners: [{address: ':80', adapter: fasthttp}, {address: ':443', tls: {cert_file: c.pem, key_file: k.pem}}]\n" + minimal, nil},
		{"fasthttp with tls", "listeners:\n  - address: :443\n    adapter: fasthttp\n    tls: {cert_file: c.pem, key_file: k.pem}\n" + minimal,
			[]string{"line 3: listeners[0].adapter: fasthttp serves plain HTTP/1.1 only (no TLS, HTTP/2 or ACME): use nethttp on a tls or acme listener"}},
		{"fasthttp with acme", "listeners:\n  - address: :443\n    adapter: fasthttp\n    acme: {hosts: [a.example.com]}\n" + minimal,
			[]string{"line 3: listeners[0].adapter: fasthttp serves plain HTTP/1.1 only (no TLS, HTTP/2 or ACME): use nethttp on a tls or acme listener"}},
		{"fasthttp redirect", "listeners: [{address: ':80', adapter: fasthttp, redirect_to_https: true}]\n" + minimal,
			[]string{"line 1: listeners[0].adapter: a redirect_to_https listener serves no edge: use nethttp"}},
		{"fasthttp and mounted signing api", "listeners: [{address: ':80', adapter: fasthttp}]\nsigning_api: {}\n" + dist("{path: '*', key_groups: [main]}") + "    base_url: https://m.example.com\n    signer: {source: env, env: KEY, key_id: K2JCJMDEHXQW5F}\n",
			[]string{"line 1: listeners[0].adapter: fasthttp does not serve the signing API mounted at path_prefix: give signing_api its own address, or use nethttp"}},
		{"fasthttp and signing api listener", "listeners: [{address: ':80', adapter: fasthttp}]\nsigning_api: {address: '127.0.0.1:8081'}\n" + dist("{path: '*', key_groups: [main]}") + "    base_url: https://m.example.com\n    signer: {source: env, env: KEY, key_id: K2JCJMDEHXQW5F}\n",
			nil},
		{"unknown adapter", "listeners: [{address: ':80', adapter: fastttp}]\n" + minimal,
			[]string{`line 1: listeners[0].adapter: "fastttp" is not one of nethttp, fasthttp; did you mean "fasthttp"?`}},
		{"empty adapter", "listeners: [{address: ':80', adapter: ''}]\n" + minimal,
			[]string{`line 1: listeners[0].adapter: "" is not one of nethttp, fasthttp`}},
		{"tls without key", "listeners:\n  - address: :443\n    tls: {cert_file: c.pem}\n" + minimal,
			[]string{"line 3: listeners[0].tls.key_file: required: the PEM private key file"}},
		{"tls and acme", "listeners:\n  - address: :443\n    tls: {cert_file: c.pem, key_file: k.pem}\n    acme: {hosts: [a.example.com]}\n" + minimal,
			[]string{"line 2: listeners[0]: tls and acme are exclusive: choose one"}},
		{"acme without hosts", "listeners:\n  - address: :443\n    acme: {email: ops@example.com}\n" + minimal,
			[]string{"line 3: listeners[0].acme.hosts: at least one host name is required"}},
		{"acme hosts", "listeners:\n  - address: :443\n    acme:\n      hosts: [Media.example.com, '*.example.com', 192.0.2.1, a.example.com, a.example.com]\n" + minimal,
			[]string{
				`line 4: listeners[0].acme.hosts[0]: "Media.example.com" must be lower case: "media.example.com" (ACME certificates are for DNS names: no port, IP address or wildcard)`,
				`line 4: listeners[0].acme.hosts[1]: "*.example.com" is not a host name (labels of a-z, 0-9 and '-', separated by dots) (ACME certificates are for DNS names: no port, IP address or wildcard)`,
				`line 4: listeners[0].acme.hosts[2]: "192.0.2.1" is an IP address, not a host name (ACME certificates are for DNS names: no port, IP address or wildcard)`,
				`line 4: listeners[0].acme.hosts[4]: "a.example.com" repeats hosts[3]`,
			}},
		{"acme email and directory", "listeners:\n  - address: :443\n    acme: {hosts: [a.example.com], email: ops, directory_url: 'acme.example.com/dir'}\n" + minimal,
			[]string{
				`line 3: listeners[0].acme.email: "ops" is not an email address`,
				`line 3: listeners[0].acme.directory_url: "acme.example.com/dir" is not an absolute http:// or https:// URL`,
			}},
		{"acme roots without a directory", "listeners:\n  - address: :443\n    acme: {hosts: [a.example.com], ca_roots_file: roots.pem}\n" + minimal,
			[]string{"line 3: listeners[0].acme.ca_roots_file: is for a private ACME CA: set directory_url to its directory too (Let's Encrypt, the default, needs no roots of its own)"}},
		{"acme roots with a directory", "listeners:\n  - address: :443\n    acme: {hosts: [a.example.com], directory_url: 'https://ca.internal/acme/dir', ca_roots_file: roots.pem}\n" + minimal, nil},
		{"redirecting https listener", "listeners:\n  - address: :443\n    tls: {cert_file: c.pem, key_file: k.pem}\n    redirect_to_https: true\n" + minimal,
			[]string{"line 4: listeners[0].redirect_to_https: a redirecting listener must be plain HTTP: remove tls/acme from it, or redirect_to_https"}},
		{"admin on a listener's port", "listeners: [{address: '127.0.0.1:8080'}]\nadmin: {address: ':8080'}\n" + minimal,
			[]string{`line 2: admin.address: ":8080" overlaps listeners[0] ("127.0.0.1:8080"): the admin listener needs its own address`}},
		{"admin address", "admin: {address: '9090'}\n" + minimal,
			[]string{`line 1: admin.address: "9090" is not host:port, such as 127.0.0.1:8080 or :443`}},

		// Time, limits and log.
		{"negative clock skew", "clock_skew: -1s\n" + minimal, []string{"line 1: clock_skew: -1s is outside 0s to 5m; run NTP instead of allowing more"}},
		{"large clock skew", "clock_skew: 5m1s\n" + minimal, []string{"line 1: clock_skew: 5m1s is outside 0s to 5m; run NTP instead of allowing more"}},
		{"clock skew at the limit", "clock_skew: 5m\n" + minimal, nil},
		{"timeouts", "timeouts: {read_header: 0s, read: -1s, write: 0s, idle: 0s, origin: 0s, shutdown: -2s}\n" + minimal,
			[]string{
				"line 1: timeouts.read_header: must be positive: 0 would let slow clients hold connections open",
				"line 1: timeouts.read: -1s is negative",
				"line 1: timeouts.idle: must be positive: 0 would keep idle connections open forever",
				"line 1: timeouts.origin: must be positive: 0 would let a stuck origin hold requests forever",
				"line 1: timeouts.shutdown: -2s is negative",
			}},
		{"header limit too small", "limits: {max_header_bytes: 1023}\n" + minimal,
			[]string{"line 1: limits.max_header_bytes: 1023 is outside 1024 (1 KiB) to 1048576 (1 MiB); CloudFront's limit is 20480"}},
		{"header limit too large", "limits: {max_header_bytes: 1048577}\n" + minimal,
			[]string{"line 1: limits.max_header_bytes: 1048577 is outside 1024 (1 KiB) to 1048576 (1 MiB); CloudFront's limit is 20480"}},
		{"header limits at the bounds", "limits: {max_header_bytes: 1024}\n" + minimal, nil},
		{"log", "log: {level: verbose, format: xml}\n" + minimal,
			[]string{
				`line 1: log.level: "verbose" is not one of debug, info, warn, error`,
				`line 1: log.format: "xml" is not one of json, text`,
			}},

		// Key groups and signing.
		{"six keys in a group", "key_groups:\n  main:\n" + strings.Repeat("    - {id: K1, public_key_file: k.pem}\n", 6) + minimal[len("key_groups:\n  main:\n    - {id: K2JCJMDEHXQW5F, public_key_file: keys/public_key.pem}\n"):],
			[]string{
				"line 2: key_groups.main: at most 5 public keys per key group (CloudFront's limit), got 6",
				`line 4: key_groups.main[1].id: "K1" repeats key_groups.main[0]`,
				`line 5: key_groups.main[2].id: "K1" repeats key_groups.main[0]`,
				`line 6: key_groups.main[3].id: "K1" repeats key_groups.main[0]`,
				`line 7: key_groups.main[4].id: "K1" repeats key_groups.main[0]`,
				`line 8: key_groups.main[5].id: "K1" repeats key_groups.main[0]`,
			}},
		{"empty group, bad name", "key_groups:\n  main:\n    - {id: K2JCJMDEHXQW5F, public_key_file: keys/public_key.pem}\n  \"my keys\": []\n  spare: ~\n" + minimal[strings.Index(minimal, "distributions"):],
			[]string{
				`line 4: key_groups["my keys"]: a key group name is 1 to 128 letters, digits, '-' and '_'`,
				`line 4: key_groups["my keys"]: a key group needs at least one public key`,
				"line 5: key_groups.spare: a key group needs at least one public key",
			}},
		{"key ids", "key_groups:\n  main:\n    - {id: K2JCJMDEHXQW5F, public_key_file: keys/public_key.pem}\n    - {id: AKIAIOSFODNN7EXAMPLE, public_key_file: b.pem}\n    - {id: '', public_key_file: c.pem}\n  other:\n    - {id: K2JCJMDEHXQW5F, public_key_file: other.pem}\n" + minimal[strings.Index(minimal, "distributions"):],
			[]string{
				"line 4: key_groups.main[1].id: key id looks like an IAM access key id; use the CloudFront public key id (K...)",
				"line 5: key_groups.main[2].id: key id is empty",
				`line 7: key_groups.other[0].id: "K2JCJMDEHXQW5F" is also key_groups.main[0], with another key: one id names one key`,
			}},
		{"same key in two groups", "key_groups:\n  main:\n    - {id: K2JCJMDEHXQW5F, public_key_file: keys/public_key.pem}\n  other:\n    - {id: K2JCJMDEHXQW5F, public_key_file: keys/public_key.pem}\n" + minimal[strings.Index(minimal, "distributions"):], nil},
		{"file and inline key", "key_groups:\n  main:\n    - {id: K1, public_key_file: a.pem, public_key: x}\n    - {id: K2}\n" + minimal[strings.Index(minimal, "distributions"):],
			[]string{
				"line 3: key_groups.main[0]: set public_key_file or public_key, not both",
				"line 4: key_groups.main[1]: set public_key_file (a PEM file) or public_key (the PEM text)",
			}},
		{"inline keys", "key_groups:\n  main:\n    - id: K1\n      public_key: |\n        " + pemKey(t, p384.Public()) +
			"\n    - id: K2\n      public_key: not a key\n    - id: K3\n      public_key: |\n        " + pemKey(t, p256.Public()) +
			"\n" + minimal[strings.Index(minimal, "distributions"):],
			[]string{
				"line 4: key_groups.main[0].public_key: EC curve P-384; CloudFront supports only P-256",
				"line 11: key_groups.main[1].public_key: no PEM public key found",
			}},
		{"private key pasted as public", "key_groups:\n  main:\n    - id: K1\n      public_key: |\n        -----BEGIN PRIVATE KEY-----\n        AAAA\n        -----END PRIVATE KEY-----\n" + minimal[strings.Index(minimal, "distributions"):],
			[]string{"line 4: key_groups.main[0].public_key: found a private key where a public key was expected"}},

		// Distributions.
		{"names and catch-alls", minimal + "  - name: media\n    origin: {type: dir, dir: {path: x}}\n    behaviors: [{path: '*', public: true}]\n  - origin: {type: dir, dir: {path: x}}\n    behaviors: [{path: '*', public: true}]\n",
			[]string{
				`line 9: distributions[1].name: "media" is also the name of distributions[0]`,
				"line 9: distributions[1].hosts: only one distribution may leave hosts empty (any host); distributions[0] does already",
				"line 12: distributions[2].name: a distribution name is 1 to 64 letters, digits, '-' and '_'",
				"line 12: distributions[2].hosts: only one distribution may leave hosts empty (any host); distributions[0] does already",
			}},
		{"hosts", "distributions:\n  - name: a\n    hosts: [Media.example.com, 'a.example.com:0', '*.example.com', '::1', '[::1]:8443', '[::1]', 192.0.2.1, 'a.example.com:8443', a.example.com]\n    origin: {type: dir, dir: {path: x}}\n    behaviors: [{path: '*', public: true}]\n  - name: b\n    hosts: [a.example.com, 'x y']\n    origin: {type: dir, dir: {path: x}}\n    behaviors: [{path: '*', public: true}]\n",
			[]string{
				`line 3: distributions[0].hosts[0]: "Media.example.com" must be lower case: "media.example.com"`,
				`line 3: distributions[0].hosts[1]: "a.example.com:0": the port must be a number from 1 to 65535`,
				`line 3: distributions[0].hosts[2]: "*.example.com": wildcards are not supported; list each host, or leave hosts empty for any host`,
				`line 3: distributions[0].hosts[3]: "::1": write an IPv6 address in brackets, [::1]`,
				`line 7: distributions[1].hosts[0]: "a.example.com" is also distributions[0].hosts[8]: a host belongs to one distribution`,
				`line 7: distributions[1].hosts[1]: "x y": "x y" is not a host name (labels of a-z, 0-9 and '-', separated by dots)`,
			}},
		{"no origin type", "distributions:\n  - name: a\n    origin: {dir: {path: x}}\n    behaviors: [{path: '*', public: true}]\n",
			[]string{"line 3: distributions[0].origin.type: required: dir, s3 or http"}},
		{"origin type and blocks", "distributions:\n  - name: a\n    origin:\n      type: s3\n      dir: {path: x}\n    behaviors: [{path: '*', public: true}]\n  - name: b\n    hosts: [b.example.com]\n    origin: {type: ftp}\n    behaviors: [{path: '*', public: true}]\n",
			[]string{
				"line 3: distributions[0].origin.s3: required with type: s3",
				"line 5: distributions[0].origin.dir: set only with type: dir (type is s3)",
				`line 9: distributions[1].origin.type: "ftp" is not one of dir, s3, http; did you mean "http"?`,
			}},
		{"dir without path", "distributions:\n  - name: a\n    origin: {type: dir, dir: {}}\n    behaviors: [{path: '*', public: true}]\n",
			[]string{"line 3: distributions[0].origin.dir.path: required: the directory to serve"}},
		{"s3", "distributions:\n  - name: a\n    origin:\n      type: s3\n      s3:\n        bucket: s3://media\n        region: us east\n        endpoint: minio:9000\n        prefix: /media/\n        secret_access_key: ${SECRET:-x}\n    behaviors: [{path: '*', public: true}]\n",
			[]string{
				"line 5: distributions[0].origin.s3.access_key_id: required with secret_access_key",
				`line 6: distributions[0].origin.s3.bucket: "s3://media" is not a bucket name (3 to 63 lower-case letters, digits, '.' and '-'; no s3:// or path)`,
				`line 7: distributions[0].origin.s3.region: "us east" is not a region name such as us-east-1`,
				`line 8: distributions[0].origin.s3.endpoint: "minio:9000" is not an absolute http:// or https:// URL`,
				`line 9: distributions[0].origin.s3.prefix: object keys do not start with '/': write "media/"`,
			}},
		{"s3 bucket and session token", "distributions:\n  - name: a\n    origin: {type: s3, s3: {session_token: t}}\n    behaviors: [{path: '*', public: true}]\n",
			[]string{
				"line 3: distributions[0].origin.s3.bucket: required: the bucket name",
				"line 3: distributions[0].origin.s3.session_token: only with access_key_id and secret_access_key",
			}},
		{"s3 access key without secret", "distributions:\n  - name: a\n    origin: {type: s3, s3: {bucket: media, access_key_id: AKIAIOSFODNN7EXAMPLE}}\n    behaviors: [{path: '*', public: true}]\n",
			[]string{"line 3: distributions[0].origin.s3.secret_access_key: required with access_key_id"}},
		{"http", "distributions:\n  - name: a\n    origin: {type: http, http: {url: 'https://u:p@origin/', secret_header: 'X Secret'}}\n    behaviors: [{path: '*', public: true}]\n  - name: b\n    hosts: [b.example.com]\n    origin: {type: http, http: {url: 'http://origin/?a=1', secret: \"${S:- x}\"}}\n    behaviors: [{path: '*', public: true}]\n  - name: c\n    hosts: [c.example.com]\n    origin: {type: http, http: {url: origin, secret_header: X-Secret}}\n    behaviors: [{path: '*', public: true}]\n",
			[]string{
				"line 3: distributions[0].origin.http.url: the URL must not hold a user name or password",
				`line 3: distributions[0].origin.http.secret_header: "X Secret" is not a header name`,
				`line 7: distributions[1].origin.http.url: "http://origin/?a=1": the URL must not have a query or fragment`,
				"line 7: distributions[1].origin.http.secret_header: required with secret: the header that carries it",
				"line 7: distributions[1].origin.http.secret: holds a control character or leading or trailing white space; it cannot be sent in a header",
				`line 11: distributions[2].origin.http.url: "origin" is not an absolute http:// or https:// URL`,
				`line 11: distributions[2].origin.http.secret: required with secret_header (for example "${ORIGIN_SECRET}")`,
			}},
		{"http secret headers the origin sets", "distributions:\n  - name: a\n    origin: {type: http, http: {url: 'https://origin', secret_header: host, secret: s}}\n    behaviors: [{path: '*', public: true}]\n  - name: b\n    hosts: [b.example.com]\n    origin: {type: http, http: {url: 'https://origin', secret_header: If-None-Match, secret: s}}\n    behaviors: [{path: '*', public: true}]\n",
			[]string{
				"line 3: distributions[0].origin.http.secret_header: Host is a header the origin sets itself",
				"line 7: distributions[1].origin.http.secret_header: If-None-Match is a header the origin sets itself",
			}},
		{"no behaviors", "distributions:\n  - name: a\n    origin: {type: dir, dir: {path: x}}\n    behaviors: []\n",
			[]string{"line 4: distributions[0].behaviors: at least one behavior is required"}},

		// Behaviors.
		{"path patterns", "key_groups:\n  main: [{id: K1, public_key_file: k.pem}]\ndistributions:\n  - name: a\n    origin: {type: dir, dir: {path: x}}\n    behaviors:\n      - {path: videos/*, public: true}\n      - {public: true}\n      - {path: '/a?b', public: true}\n      - {path: '/a b', public: true}\n      - {path: /x/*, public: true}\n      - {path: /x/*, public: true}\n      - {path: '*', public: true}\n      - {path: /y, public: true}\n      - {path: '/" + strings.Repeat("a", 255) + "', public: true}\n",
			[]string{
				`line 7: distributions[0].behaviors[0].path: "videos/*" must start with '/', or be "*" for every path`,
				"line 8: distributions[0].behaviors[1].path: required: a pattern such as /videos/*, or * for every path",
				`line 9: distributions[0].behaviors[2].path: "/a?b": patterns match the path only, and '?' is not a wildcard here`,
				`line 10: distributions[0].behaviors[3].path: "/a b" holds a space or control character (write it percent-encoded, as in URLs)`,
				"line 12: distributions[0].behaviors[5].path: never matches: behaviors[4] has the same pattern and comes first",
				`line 14: distributions[0].behaviors[7].path: never matches: behaviors[6] ("*") comes first and matches every path`,
				"line 15: distributions[0].behaviors[8].path: longer than 255 bytes (CloudFront's limit)",
			}},
		{"public and key groups", dist("{path: '*', public: true, key_groups: [main]}"),
			[]string{"line 8: distributions[0].behaviors[0]: public and key_groups are exclusive: a public behavior takes no signature"}},
		{"neither public nor key groups", dist("{path: '*'}"),
			[]string{"line 8: distributions[0].behaviors[0]: set key_groups (the trusted keys), or public: true"}},
		{"key groups", dist("{path: '*', key_groups: [main, nope, main, a, b]}"),
			[]string{
				"line 8: distributions[0].behaviors[0].key_groups: at most 4 key groups per behavior (CloudFront's limit), got 5",
				`line 8: distributions[0].behaviors[0].key_groups[1]: no key group "nope" under key_groups (defined: main)`,
				`line 8: distributions[0].behaviors[0].key_groups[2]: "main" repeats key_groups[0]`,
				`line 8: distributions[0].behaviors[0].key_groups[3]: no key group "a" under key_groups (defined: main)`,
				`line 8: distributions[0].behaviors[0].key_groups[4]: no key group "b" under key_groups (defined: main)`,
			}},
		{"methods", dist("{path: '*', key_groups: [main], allowed_methods: [GET, post, GET, OPTIONS]}"),
			[]string{
				`line 8: distributions[0].behaviors[0].allowed_methods[1]: "post" is not one of GET, HEAD, OPTIONS`,
				"line 8: distributions[0].behaviors[0].allowed_methods[2]: GET repeats allowed_methods[0]",
				"line 8: distributions[0].behaviors[0].allowed_methods: must include HEAD (CloudFront's method sets always do)",
			}},
		{"no methods", dist("{path: '*', key_groups: [main], allowed_methods: []}"),
			[]string{"line 8: distributions[0].behaviors[0].allowed_methods: required: [GET, HEAD] or [GET, HEAD, OPTIONS]"}},
		{"all methods", dist("{path: '*', key_groups: [main], allowed_methods: [OPTIONS, HEAD, GET]}"), nil},
		// Until the rule moved to the edge (edge.CheckMethods), this was
		// two problems: must include GET, must include HEAD.
		{"methods without GET and HEAD", dist("{path: '*', key_groups: [main], allowed_methods: [OPTIONS]}"),
			[]string{"line 8: distributions[0].behaviors[0].allowed_methods: must include GET and HEAD (CloudFront's method sets always do)"}},
		{"enums misspelt", dist("{path: '*', key_groups: [main], allowed_methods: [GET, HEAD, OPTINOS], viewer_protocol: https-onyl, mode: proxi}"),
			[]string{
				`line 8: distributions[0].behaviors[0].allowed_methods[2]: "OPTINOS" is not one of GET, HEAD, OPTIONS; did you mean "OPTIONS"?`,
				`line 8: distributions[0].behaviors[0].viewer_protocol: "https-onyl" is not one of allow-all, https-only, redirect-to-https; did you mean "https-only"?`,
				`line 8: distributions[0].behaviors[0].mode: "proxi" is not one of proxy, redirect; did you mean "proxy"?`,
			}},
		{"enums", dist("{path: '*', key_groups: [main], viewer_protocol: https, mode: lambda}"),
			[]string{
				`line 8: distributions[0].behaviors[0].viewer_protocol: "https" is not one of allow-all, https-only, redirect-to-https`,
				`line 8: distributions[0].behaviors[0].mode: "lambda" is not one of proxy, redirect`,
			}},
		{"origin paths", "distributions:\n  - name: a\n    origin: {type: dir, dir: {path: x}}\n    behaviors:\n      - {path: /a, public: true, origin_path: /media/}\n      - {path: /b, public: true, origin_path: media/../x}\n      - {path: /c, public: true, origin_path: 'a\\b'}\n      - {path: /d, public: true, origin_path: media/}\n",
			[]string{
				`line 5: distributions[0].behaviors[0].origin_path: object keys do not start with '/': write "media/"`,
				`line 6: distributions[0].behaviors[1].origin_path: "media/../x" holds a ".." segment`,
				`line 7: distributions[0].behaviors[2].origin_path: "a\\b" holds a backslash or NUL`,
			}},
		{"path pattern bytes", "distributions:\n  - name: a\n    origin: {type: dir, dir: {path: x}}\n    behaviors:\n      - {path: '/a#b', public: true}\n      - {path: '/café/*', public: true}\n      - {path: '/a\\b', public: true}\n      - {path: '/caf%C3%A9/*', public: true}\n      - {path: '*', public: true}\n",
			[]string{
				`line 5: distributions[0].behaviors[0].path: "/a#b" holds '#', which ends a URL's path (write it percent-encoded, %23)`,
				`line 6: distributions[0].behaviors[1].path: "/café/*" holds a non-ASCII character (write it percent-encoded, as in URLs)`,
				`line 7: distributions[0].behaviors[2].path: "/a\\b" holds a backslash, which the edge refuses in every path`,
			}},
		{"origin paths without a slash", "distributions:\n  - name: a\n    origin: {type: dir, dir: {path: x}}\n    behaviors:\n      - {path: /a, public: true, origin_path: media}\n      - {path: /b, public: true, origin_path: media/x}\n      - {path: /c, public: true, origin_path: media//x/}\n",
			[]string{`line 7: distributions[0].behaviors[2].origin_path: "media//x/" holds an empty segment ("//")`}},
		{"s3 prefixes", "distributions:\n  - name: a\n    origin: {type: s3, s3: {bucket: media, prefix: media}}\n    behaviors: [{path: '*', public: true}]\n  - name: b\n    hosts: [b.example.com]\n    origin: {type: s3, s3: {bucket: media, prefix: a/../b}}\n    behaviors: [{path: '*', public: true}]\n",
			[]string{`line 7: distributions[1].origin.s3.prefix: "a/../b" holds a ".." segment`}},
		{"redirect needs s3", minimal[:strings.Index(minimal, "      - {")] + "      - {path: '*', key_groups: [main], mode: redirect}\n",
			[]string{`line 8: distributions[0].behaviors[0].mode: redirect needs an s3 origin (it answers with a presigned S3 URL); this origin is "dir"`}},
		{"redirect from s3", dist("{path: '*', key_groups: [main], mode: redirect, redirect_ttl: 7d}"), nil},
		{"signer from a file", dist("{path: '*', key_groups: [main]}") + "    base_url: https://media.example.com\n    signer: {source: file, key_id: K2JCJMDEHXQW5F, private_key_file: k.pem, quantum: 5m}\n", nil},
		{"signer from secrets manager without key id", dist("{path: '*', key_groups: [main]}") + "    base_url: https://media.example.com\n    signer: {source: secrets_manager, secret_id: prod/key}\n", nil},
		{"signer problems", dist("{path: '*', key_groups: [main]}") + "    base_url: https://Media.example.com/path\n    signer: {source: kms, key_id: AKIAIOSFODNN7EXAMPLE, max_lifetime: 0s, quantum: -1s, endpoint: localhost}\n",
			[]string{
				`line 9: distributions[0].base_url: "https://Media.example.com/path" must be a scheme and host only, without path, query or user`,
				"line 10: distributions[0].signer.kms_key_id: required with source: kms (the KMS key id, ARN or alias)",
				"line 10: distributions[0].signer.key_id: key id looks like an IAM access key id; use the CloudFront public key id (K...)",
				`line 10: distributions[0].signer.endpoint: "localhost" is not an absolute http:// or https:// URL`,
				"line 10: distributions[0].signer.max_lifetime: 0s is below 1s",
				"line 10: distributions[0].signer.quantum: -1s must be 0s (off) or below max_lifetime (0s)",
			}},
		{"signer key id no key group trusts", dist("{path: '*', key_groups: [main]}") + "    base_url: https://m.example.com\n    signer: {source: env, env: KEY, key_id: KOTHER}\n",
			[]string{`line 10: distributions[0].signer.key_id: "KOTHER" is in no key group this distribution's behaviors use (main): its edge would refuse every link signed with it`}},
		{"kms signer key id no key group trusts", dist("{path: '*', key_groups: [main]}") + "    base_url: https://m.example.com\n    signer:\n      source: kms\n      kms_key_id: alias/k\n      key_id: KOTHER\n",
			[]string{`line 13: distributions[0].signer.key_id: "KOTHER" is in no key group this distribution's behaviors use (main): its edge would refuse every link signed with it`}},
		{"signer key id trusted by another distribution only", "key_groups:\n  main: [{id: K2JCJMDEHXQW5F, public_key_file: k.pem}]\n  other: [{id: KOTHER, public_key_file: o.pem}]\ndistributions:\n" +
			"  - {name: a, hosts: [a.example.com], origin: {type: s3, s3: {bucket: aaa}}, behaviors: [{path: '/x/*', public: true}, {path: '*', key_groups: [main]}], base_url: https://a.example.com, signer: {source: file, private_key_file: k.pem, key_id: KOTHER}}\n" +
			"  - {name: b, hosts: [b.example.com], origin: {type: s3, s3: {bucket: bbb}}, behaviors: [{path: '*', key_groups: [other]}]}\n",
			[]string{`line 5: distributions[0].signer.key_id: "KOTHER" is in no key group this distribution's behaviors use (main): its edge would refuse every link signed with it`}},
		{"signer for public behaviors only", dist("{path: '*', public: true}") + "    base_url: https://m.example.com\n    signer: {source: env, env: KEY, key_id: K2JCJMDEHXQW5F}\n",
			[]string{`line 10: distributions[0].signer.key_id: "K2JCJMDEHXQW5F" is in no key group this distribution's behaviors use (none: every behavior is public): its edge would refuse every link signed with it`}},
		{"secrets manager key id is checked when the secret is read", dist("{path: '*', key_groups: [main]}") + "    base_url: https://m.example.com\n    signer: {source: secrets_manager, secret_id: k, key_id: KOTHER}\n", nil},
		{"signer cap until 2038", dist("{path: '*', key_groups: [main]}") + "    base_url: https://m.example.com\n    signer: {source: env, env: KEY, key_id: K2JCJMDEHXQW5F, max_lifetime: 24855d}\n", nil},
		{"signer cap past any link", dist("{path: '*', key_groups: [main]}") + "    base_url: https://m.example.com\n    signer: {source: env, env: KEY, key_id: K2JCJMDEHXQW5F, max_lifetime: 24856d}\n",
			[]string{"line 10: distributions[0].signer.max_lifetime: 24856d is over 24855d3h14m7s, the longest any link can live (from 1970 to 2038-01-19T03:14:07Z)"}},
		{"base url a link could not have", dist("{path: '*', key_groups: [main]}") + "    base_url: https://café.example.com\n    signer: {source: env, env: KEY, key_id: K2JCJMDEHXQW5F}\n",
			[]string{`line 9: distributions[0].base_url: "https://café.example.com": URL has a non-ASCII byte at offset 11; percent-encode it as the client will send it`}},
		{"signer without base url", dist("{path: '*', key_groups: [main]}") + "    signer: {source: env, env: KEY, key_id: K2JCJMDEHXQW5F}\n",
			[]string{"line 5: distributions[0].base_url: required with signer: the scheme and host links are made for, such as https://media.example.com"}},
		{"signer quantum and default port", dist("{path: '*', key_groups: [main]}") + "    base_url: https://m.example.com:443\n    signer: {source: env, env: KEY, key_id: K2JCJMDEHXQW5F, quantum: 1500ms}\n",
			[]string{
				`line 9: distributions[0].base_url: "https://m.example.com:443" has the default or an empty port; browsers drop it, so links would never verify`,
				"line 10: distributions[0].signer.quantum: 1.5s is not a whole number of seconds (link expiries are)",
			}},
		{"two signers, one base url", "key_groups:\n  main:\n    - {id: K2JCJMDEHXQW5F, public_key_file: k.pem}\ndistributions:\n" +
			"  - {name: a, hosts: [a.example.com], origin: {type: s3, s3: {bucket: aaa}}, behaviors: [{path: '*', key_groups: [main]}], base_url: https://m.example.com, signer: {source: env, env: K, key_id: K2JCJMDEHXQW5F}}\n" +
			"  - {name: b, hosts: [b.example.com], origin: {type: s3, s3: {bucket: bbb}}, behaviors: [{path: '*', key_groups: [main]}], base_url: https://m.example.com, signer: {source: env, env: K, key_id: K2JCJMDEHXQW5F}}\n",
			[]string{`line 6: distributions[1].base_url: "https://m.example.com" is also distributions[0]'s: the API finds a distribution by it`}},
		{"unknown signer source", dist("{path: '*', key_groups: [main]}") + "    base_url: https://m.example.com\n    signer: {source: vault, key_id: K2JCJMDEHXQW5F}\n",
			[]string{`line 10: distributions[0].signer.source: "vault" is not one of file, env, secrets_manager, kms`}},
		{"signing api without signers", "signing_api: {}\n" + minimal, []string{"line 1: signing_api: no distribution has a signer, so the API could sign nothing"}},
		{"signing api address", "signing_api: {address: '127.0.0.1:8080', max_batch: 0}\n" + dist("{path: '*', key_groups: [main]}") + "    base_url: https://m.example.com\n    signer: {source: env, env: KEY, key_id: K2JCJMDEHXQW5F}\n",
			[]string{
				`line 1: signing_api.address: "127.0.0.1:8080" overlaps listeners[0] ("127.0.0.1:8080"): give the API its own address, or mount it with path_prefix`,
				"line 1: signing_api.max_batch: 0 is outside 1 to 10000",
			}},
		{"link guardrails", dist("{path: '*', key_groups: [main], max_link_lifetime: 1h, require_ip: true}"), nil},
		{"negative link lifetime", dist("{path: '*', key_groups: [main], max_link_lifetime: -1h}"),
			[]string{"line 8: distributions[0].behaviors[0].max_link_lifetime: -1h0m0s is negative"}},
		{"guardrails on a public behavior", dist("{path: '*', public: true, require_ip: true}"),
			[]string{"line 8: distributions[0].behaviors[0]: max_link_lifetime and require_ip apply to signed links; this behavior is public"}},
		{"redirect ttl too long", dist("{path: '*', key_groups: [main], mode: redirect, redirect_ttl: 7d1s}"),
			[]string{"line 8: distributions[0].behaviors[0].redirect_ttl: 7d1s is outside (0s, 7d]: S3 presigned URLs live at most 7 days"}},
		{"redirect ttl under a second", dist("{path: '*', key_groups: [main], mode: redirect, redirect_ttl: 500ms}"),
			[]string{"line 8: distributions[0].behaviors[0].redirect_ttl: 500ms is below 1s: a presigned URL's lifetime is whole seconds"}},
		{"redirect ttl zero", dist("{path: '*', key_groups: [main], redirect_ttl: 0s}"),
			[]string{"line 8: distributions[0].behaviors[0].redirect_ttl: 0s is outside (0s, 7d]: S3 presigned URLs live at most 7 days"}},
		{"negative ttl", dist("{path: '*', key_groups: [main], cache: {min_ttl: -1s}}"),
			[]string{"line 8: distributions[0].behaviors[0].cache.min_ttl: -1s is negative"}},
		{"min over default", dist("{path: '*', key_groups: [main], cache: {min_ttl: 2d, default_ttl: 1d}}"),
			[]string{"line 8: distributions[0].behaviors[0].cache.min_ttl: 2d is more than default_ttl (1d)"}},
		{"default over max", dist("{path: '*', key_groups: [main], cache: {default_ttl: 2h, max_ttl: 1h}}"),
			[]string{"line 8: distributions[0].behaviors[0].cache.default_ttl: 2h0m0s is more than max_ttl (1h0m0s)"}},
		{"negative ttls", dist("{path: '*', key_groups: [main], cache: {min_ttl: -1s, default_ttl: -2s, max_ttl: -3s}}"),
			[]string{
				"line 8: distributions[0].behaviors[0].cache.default_ttl: -2s is negative",
				"line 8: distributions[0].behaviors[0].cache.min_ttl: -1s is negative",
				"line 8: distributions[0].behaviors[0].cache.max_ttl: -3s is negative",
				"line 8: distributions[0].behaviors[0].cache.min_ttl: -1s is more than default_ttl (-2s)",
			}},
		{"equal ttls", dist("{path: '*', key_groups: [main], cache: {min_ttl: 1h, default_ttl: 1h, max_ttl: 1h}}"), nil},

		// The edge cache.
		{"cache ok", minimal + "    cache: {memory: 1GiB, disk: 100GiB, max_stale: 0s, chunk_size: 4MiB, max_object_size: 1GiB}\n", nil},
		{"cache bad sizes", minimal + "    cache: {memory: 64KiB, chunk_size: 128MiB, max_stale: -1s}\n", []string{
			"line 9: distributions[0].cache.memory: 64KiB is less than one chunk (chunk_size 128MiB)",
			"line 9: distributions[0].cache.chunk_size: 128MiB is outside 4KiB to 64MiB",
			"line 9: distributions[0].cache.max_stale: -1s is negative",
		}},
		{"cache disk under a chunk", minimal + "    cache: {disk: 512KiB}\n",
			[]string{"line 9: distributions[0].cache.disk: 512KiB is less than one chunk (chunk_size 1MiB)"}},
		{"cache disk dir without disk", minimal + "    cache: {disk_dir: /tmp/c}\n",
			[]string{"line 9: distributions[0].cache.disk_dir: is used only with disk (the disk tier's size)"}},
		{"cache shared disk dir", minimal + "    cache: {disk: 1GiB, disk_dir: /tmp/c}\n" +
			"  - {name: other, hosts: [o.example], origin: {type: dir, dir: {path: ./o}}, behaviors: [{path: '*', public: true}], cache: {disk: 1GiB, disk_dir: /tmp/c/}}\n",
			[]string{`line 10: distributions[1].cache.disk_dir: "/tmp/c/" is also the disk dir of distributions[0].cache: each cache needs its own`}},
		{"verified links negative", "limits: {verified_links: -1}\n" + minimal,
			[]string{"line 1: limits.verified_links: -1 is outside 0 (off) to 10000000"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := validate(t, tc.doc); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Validate problems =\n%s\nwant\n%s\nconfig:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"), tc.doc)
			}
		})
	}
}

// TestValidateReportsAllAtOnce checks that problems in every section come
// back together, each with its line.
func TestValidateReportsAllAtOnce(t *testing.T) {
	doc := `data_dir: ./data
listeners:
  - address: localhost
admin:
  address: ":8080"
clock_skew: 1h
log: {level: loud}
key_groups:
  main:
    - id: AKIAIOSFODNN7EXAMPLE
      public_key_file: k.pem
distributions:
  - name: media
    hosts: [Media.example.com]
    origin: {type: dir}
    behaviors:
      - path: /videos/*
        key_groups: [mian]
`
	want := []string{
		`line 3: listeners[0].address: "localhost" is not host:port, such as 127.0.0.1:8080 or :443`,
		"line 6: clock_skew: 1h0m0s is outside 0s to 5m; run NTP instead of allowing more",
		`line 7: log.level: "loud" is not one of debug, info, warn, error`,
		"line 10: key_groups.main[0].id: key id looks like an IAM access key id; use the CloudFront public key id (K...)",
		`line 14: distributions[0].hosts[0]: "Media.example.com" must be lower case: "media.example.com"`,
		"line 15: distributions[0].origin.dir: required with type: dir",
		`line 18: distributions[0].behaviors[0].key_groups[0]: no key group "mian" under key_groups (defined: main)`,
	}
	if got := validate(t, doc); !reflect.DeepEqual(got, want) {
		t.Errorf("Validate problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestValidateBuiltInCode checks a config made in code, as a zero-config
// server makes one: problems have paths but no lines.
func TestValidateBuiltInCode(t *testing.T) {
	c := config.Default()
	c.KeyGroups = map[string][]config.PublicKey{"default": {{ID: "K2JCJMDEHXQW5F", File: "/data/keys/public_key.pem"}}}
	b := config.DefaultBehavior()
	b.Path, b.KeyGroups = "*", []string{"default"}
	c.Distributions = []config.Distribution{{Name: "default", Origin: config.Origin{Type: "dir", Dir: &config.DirOrigin{Path: "/data/files"}}, Behaviors: []config.Behavior{b}}}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate() = %v; want nil", err)
	}
	c.Distributions[0].Behaviors[0].RedirectTTL = 0
	c.Timeouts.Idle = config.Duration(-time.Second)
	want := []string{
		"timeouts.idle: -1s is negative",
		"distributions[0].behaviors[0].redirect_ttl: 0s is outside (0s, 7d]: S3 presigned URLs live at most 7 days",
	}
	if got := texts(c.Validate()); !reflect.DeepEqual(got, want) {
		t.Errorf("Validate problems = %q; want %q", got, want)
	}
}

func TestDefaultNeedsADistribution(t *testing.T) {
	want := []string{"distributions: at least one distribution is required"}
	if got := texts(config.Default().Validate()); !reflect.DeepEqual(got, want) {
		t.Errorf("Default().Validate() = %q; want %q", got, want)
	}
}

func TestWarnings(t *testing.T) {
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		doc  string
		want []string
	}{
		{"none", minimal, nil},
		{"debug header", "debug_reason_header: true\n" + minimal,
			[]string{"line 1: debug_reason_header: refusals carry their private reason in X-Signet-Reason: for development only"}},
		{"redirect without https", "listeners:\n  - address: :80\n    redirect_to_https: true\n" + minimal,
			[]string{"line 3: listeners[0].redirect_to_https: no listener serves HTTPS (tls or acme); fine only if something in front of signet does"}},
		{"redirect with https", "listeners:\n  - address: :80\n    redirect_to_https: true\n  - address: :443\n    acme: {hosts: [a.example.com]}\n" + minimal, nil},
		{"no final catch-all, unused group", minimal[:strings.Index(minimal, "      - {")] + "      - {path: '/videos/*', public: true}\n",
			[]string{
				"line 2: key_groups.main: no behavior uses this key group",
				`line 7: distributions[0].behaviors: no "*" behavior last: requests for paths no behavior matches are refused; end with one to decide what they get`,
			}},
		{"inline secrets", "distributions:\n  - name: a\n    origin:\n      type: s3\n      s3: {bucket: media, access_key_id: AKIAIOSFODNN7EXAMPLE, secret_access_key: \"wJalrXUtnFEMI\", session_token: \"${TOKEN:-}\"}\n    behaviors: [{path: '*', public: true}]\n",
			[]string{"line 5: distributions[0].origin.s3.secret_access_key: secret written into the file; prefer ${NAME} from the environment"}},
		{"weak inline key", "key_groups:\n  main:\n    - id: K1\n      public_key: |\n        " + pemKey(t, rsa1024.Public()) + "\n" + minimal[strings.Index(minimal, "distributions"):],
			[]string{"line 4: key_groups.main[0].public_key: RSA-1024 is a legacy size; CloudFront key groups take RSA-2048 or ECDSA P-256"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := mustParse(t, tc.doc, nil)
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			var got []string
			for _, w := range c.Warnings() {
				got = append(got, w.Error())
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Warnings() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			for _, w := range got {
				if strings.Contains(w, "wJalrXUtnFEMI") {
					t.Errorf("warning %q shows the secret", w)
				}
			}
		})
	}
}
