package config_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/config"
)

// writeFile writes data to dir/name, making parent directories.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SIGNET_TEST_BUCKET", "media")
	path := writeFile(t, dir, "conf/signet.yaml", []byte(`data_dir: data
listeners:
  - address: :443
    tls: {cert_file: /etc/tls.crt, key_file: tls.key}
    acme: ~
key_groups:
  main:
    - {id: K2JCJMDEHXQW5F, public_key_file: keys/public_key.pem}
distributions:
  - name: files
    hosts: [files.example.com]
    origin: {type: dir, dir: {path: ./public}}
    behaviors: [{path: '*', key_groups: [main]}]
    base_url: https://files.example.com
    signer: {source: file, key_id: K2JCJMDEHXQW5F, private_key_file: ../private_key.pem}
  - name: media
    origin: {type: s3, s3: {bucket: "${SIGNET_TEST_BUCKET}"}}
    behaviors: [{path: '*', key_groups: [main]}]
`))
	c, err := config.Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	conf := filepath.Join(dir, "conf")
	for _, tc := range []struct{ name, got, want string }{
		{"data_dir", c.DataDir, filepath.Join(conf, "data")},
		{"cert_file (absolute)", c.Listeners[0].TLS.CertFile, "/etc/tls.crt"},
		{"key_file", c.Listeners[0].TLS.KeyFile, filepath.Join(conf, "tls.key")},
		{"public_key_file", c.KeyGroups["main"][0].File, filepath.Join(conf, "keys/public_key.pem")},
		{"private_key_file", c.Distributions[0].Signer.PrivateKeyFile, filepath.Join(dir, "private_key.pem")},
		{"dir path", c.Distributions[0].Origin.Dir.Path, filepath.Join(conf, "public")},
		{"bucket from the environment", c.Distributions[1].Origin.S3.Bucket, "media"},
	} {
		if tc.got != tc.want {
			t.Errorf("Load: %s = %q; want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestLoadProblems(t *testing.T) {
	dir := t.TempDir()
	_, err := config.Load(filepath.Join(dir, "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || config.Problems(err) != nil {
		t.Errorf("Load(missing) = %v; want an fs.ErrNotExist error that holds no Problem", err)
	}

	path := writeFile(t, dir, "bad.yaml", []byte("clock_skew: 1h\n"))
	c, err := config.Load(path)
	want := []string{
		"distributions: at least one distribution is required",
		"line 1: clock_skew: 1h0m0s is outside 0s to 5m; run NTP instead of allowing more",
	}
	if got := texts(err); c != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Load(bad) = %v, %q; want nil, %q", c, got, want)
	}

	path = writeFile(t, dir, "unset.yaml", []byte("data_dir: ${SIGNET_TEST_SURELY_UNSET}\n"))
	want = []string{
		"distributions: at least one distribution is required",
		"line 1: data_dir: environment variable SIGNET_TEST_SURELY_UNSET is not set (write ${SIGNET_TEST_SURELY_UNSET:-} to allow it empty)",
	}
	if _, err := config.Load(path); !reflect.DeepEqual(texts(err), want) {
		t.Errorf("Load(unset) problems = %q; want %q", texts(err), want)
	}
}

// keyFiles writes a P-256 key pair as PEM files under dir and returns the
// key.
func keyFiles(t *testing.T, dir, name string) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := cfsign.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := cfsign.MarshalPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, name+"_private.pem", priv)
	writeFile(t, dir, name+"_public.pem", pub)
	return key
}

// certFiles writes a self-signed certificate for key under dir.
func certFiles(t *testing.T, dir string, key *ecdsa.PrivateKey) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Unix(1700000000, 0),
		NotAfter:     time.Unix(1700000000, 0).Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, crypto.Signer(key).Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "tls.crt", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestCheckFiles(t *testing.T) {
	dir := t.TempDir()
	good := keyFiles(t, dir, "good")
	keyFiles(t, dir, "other")
	certFiles(t, dir, good)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub384, err := x509.MarshalPKIXPublicKey(p384.Public())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "p384_public.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub384}))
	writeFile(t, dir, "public/index.html", []byte("hi"))
	writeFile(t, dir, "afile", []byte("not a directory"))

	okDoc := `listeners:
  - address: :8443
    tls: {cert_file: tls.crt, key_file: good_private.pem}
key_groups:
  main: [{id: K1, public_key_file: good_public.pem}]
distributions:
  - name: a
    origin: {type: dir, dir: {path: public}}
    behaviors: [{path: '*', key_groups: [main]}]
    base_url: https://a.example.com
    signer: {source: file, key_id: K1, private_key_file: good_private.pem}
`
	c, err := config.Load(writeFile(t, dir, "ok.yaml", []byte(okDoc)))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := c.CheckFiles(); err != nil {
		t.Errorf("CheckFiles() = %v; want nil", err)
	}

	badDoc := `data_dir: afile
listeners:
  - address: :8443
    tls: {cert_file: tls.crt, key_file: other_private.pem}
  - address: :443
    acme: {hosts: [a.example.com], cache_dir: afile}
key_groups:
  main:
    - {id: K1, public_key_file: good_public.pem}
    - {id: K2, public_key_file: missing.pem}
    - {id: K3, public_key_file: p384_public.pem}
    - {id: K4, public_key_file: good_private.pem}
    - {id: K5, public_key_file: public}
distributions:
  - name: a
    origin: {type: dir, dir: {path: afile}}
    behaviors: [{path: '*', key_groups: [main]}]
    base_url: https://a.example.com
    signer: {source: file, key_id: K1, private_key_file: other_private.pem}
  - name: b
    hosts: [b.example.com]
    origin: {type: dir, dir: {path: nowhere}}
    behaviors: [{path: '*', key_groups: [main]}]
`
	c, err = config.Load(writeFile(t, dir, "bad.yaml", []byte(badDoc)))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []string{
		`line 1: data_dir: "DIR/afile" is not a directory`,
		"line 4: listeners[0].tls: load the certificate and key: tls: private key does not match public key",
		`line 6: listeners[1].acme.cache_dir: "DIR/afile" is not a directory`,
		"line 10: key_groups.main[1].public_key_file: open DIR/missing.pem: no such file or directory",
		"line 11: key_groups.main[2].public_key_file: DIR/p384_public.pem: EC curve P-384; CloudFront supports only P-256",
		"line 12: key_groups.main[3].public_key_file: DIR/good_private.pem: found a private key where a public key was expected",
		"line 13: key_groups.main[4].public_key_file: DIR/public is not a regular file",
		`line 16: distributions[0].origin.dir.path: "DIR/afile" is not a directory`,
		`line 19: distributions[0].signer.private_key_file: DIR/other_private.pem is not the private half of the public key trusted as "K1"`,
		"line 22: distributions[1].origin.dir.path: stat DIR/nowhere: no such file or directory",
	}
	var got []string
	for _, s := range texts(c.CheckFiles()) {
		got = append(got, strings.ReplaceAll(s, dir, "DIR"))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CheckFiles problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, s := range got {
		if strings.Contains(s, "BEGIN") {
			t.Errorf("problem %q quotes a key", s)
		}
	}
}

// TestCheckFilesServerPaths: the edge caches' disk directories and the
// state database (the signing API's tokens), which the server creates,
// must be a directory and a file when they exist, and creatable when they
// do not.
func TestCheckFilesServerPaths(t *testing.T) {
	dir := t.TempDir()
	keyFiles(t, dir, "good")
	writeFile(t, dir, "afile", []byte("not a directory"))
	writeFile(t, dir, "adir/x", []byte("x"))
	writeFile(t, dir, "sdir/signet.db/x", []byte("x"))
	doc := func(dataDir, diskDir string) string {
		return fmt.Sprintf(`data_dir: %s
key_groups:
  main: [{id: K1, public_key_file: good_public.pem}]
signing_api: {}
distributions:
  - name: a
    origin: {type: s3, s3: {bucket: media}}
    cache: {disk: 1GiB, disk_dir: '%s'}
    behaviors: [{path: '*', key_groups: [main]}]
    base_url: https://a.example.com
    signer: {source: file, key_id: K1, private_key_file: good_private.pem}
`, dataDir, diskDir)
	}
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"missing", doc("data", "cache"), nil},
		{"existing", doc("adir", "adir"), nil},
		{"in the way", doc("sdir", "afile"), []string{
			`line 1: data_dir: "DIR/sdir/signet.db" is not a regular file`,
			`line 8: distributions[0].cache.disk_dir: "DIR/afile" is not a directory`,
		}},
		{"defaults under a file", doc("afile", ""), []string{
			`line 1: data_dir: "DIR/afile" is not a directory`,
			"line 1: data_dir: stat DIR/afile/signet.db: not a directory",
			"line 8: distributions[0].cache.disk_dir: stat DIR/afile/cache/a: not a directory",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(writeFile(t, dir, tc.name+".yaml", []byte(tc.doc)))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			var got []string
			for _, s := range texts(c.CheckFiles()) {
				got = append(got, strings.ReplaceAll(s, dir, "DIR"))
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("CheckFiles problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestCheckFilesCARoots: an ACME listener's ca_roots_file must be a PEM
// file of certificates, reported with its line otherwise.
func TestCheckFilesCARoots(t *testing.T) {
	dir := t.TempDir()
	key := keyFiles(t, dir, "k")
	certFiles(t, dir, key)
	writeFile(t, dir, "empty.pem", []byte("# no certificate here\n"))
	writeFile(t, dir, "public/index.html", []byte("hi"))
	doc := `listeners:
  - address: :443
    acme: {hosts: [a.example.com], directory_url: 'https://ca.internal/dir', ca_roots_file: %s}
key_groups:
  main: [{id: K1, public_key_file: k_public.pem}]
distributions:
  - name: a
    origin: {type: dir, dir: {path: public}}
    behaviors: [{path: '*', key_groups: [main]}]
`
	for _, tc := range []struct{ file, want string }{
		{"tls.crt", ""},
		{"missing.pem", "line 3: listeners[0].acme.ca_roots_file: open DIR/missing.pem: no such file or directory"},
		{"empty.pem", "line 3: listeners[0].acme.ca_roots_file: DIR/empty.pem: no PEM certificate in it"},
		{"k_private.pem", `line 3: listeners[0].acme.ca_roots_file: DIR/k_private.pem: PEM block 1 is a "PRIVATE KEY", not a CERTIFICATE`},
		{"public", "line 3: listeners[0].acme.ca_roots_file: DIR/public is not a regular file"},
	} {
		c, err := config.Load(writeFile(t, dir, "signet.yaml", []byte(fmt.Sprintf(doc, tc.file))))
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		var got []string
		for _, s := range texts(c.CheckFiles()) {
			got = append(got, strings.ReplaceAll(s, dir, "DIR"))
		}
		if want := []string{tc.want}; tc.want == "" && got != nil || tc.want != "" && !reflect.DeepEqual(got, want) {
			t.Errorf("CheckFiles with ca_roots_file %s = %q; want %q", tc.file, got, tc.want)
		}
	}
}

// TestParseCARoots: every block a certificate, at least one; text around
// the blocks is ignored.
func TestParseCARoots(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Test Root"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Unix(1700000000, 0), NotAfter: time.Unix(1700000000, 0).Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	for _, tc := range []struct{ name, data, err string }{
		{"one", cert, ""},
		{"bundle with comments", "# Test Root\n" + cert + "\n# again\n" + cert, ""},
		{"empty", "", "no PEM certificate in it"},
		{"not PEM", "MIIB...", "no PEM certificate in it"},
		{"a key after a certificate", cert + "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", `PEM block 2 is a "PUBLIC KEY", not a CERTIFICATE`},
		{"bad DER", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "PEM block 1: x509: malformed certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool, err := config.ParseCARoots([]byte(tc.data))
			switch {
			case tc.err == "" && (err != nil || pool == nil):
				t.Errorf("ParseCARoots = %v, %v; want a pool", pool, err)
			case tc.err != "" && (err == nil || err.Error() != tc.err || pool != nil):
				t.Errorf("ParseCARoots = %v, %v; want nil, %q", pool, err, tc.err)
			}
		})
	}
}

// TestLoadReportsEveryProblem checks that the decode's problems and
// Validate's come out of one Load: an unknown key, a duration without a
// unit and a bad enum value, three lines in the order of the file.
func TestLoadReportsEveryProblem(t *testing.T) {
	path := writeFile(t, t.TempDir(), "signet.yaml", []byte(`listeners:
  - address: 127.0.0.1:8080
    adapter: fastttp
timeouts:
  idle: 120
log:
  levle: debug
`+minimal))
	_, err := config.Load(path)
	want := []string{
		`line 3: listeners[0].adapter: "fastttp" is not one of nethttp, fasthttp; did you mean "fasthttp"?`,
		"line 5: timeouts.idle: 120 has no unit: write 120s, or a duration such as 15m, 12h or 30d",
		"line 7: log.levle: unknown key; did you mean level?",
	}
	if got := texts(err); !reflect.DeepEqual(got, want) {
		t.Errorf("Load problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLoadOneProblemPerMistake checks that a value that did not decode, or
// a misspelt key, is not reported a second time by Validate, which sees
// the default in its place.
func TestLoadOneProblemPerMistake(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		want           string
	}{
		{"misspelt path", `{path: "*", key_groups: [main]}`, `{pathh: "*", key_groups: [main]}`,
			"line 8: distributions[0].behaviors[0].pathh: unknown key; did you mean path?"},
		{"misspelt key_groups", `{path: "*", key_groups: [main]}`, `{path: "*", key_group: [main]}`,
			"line 8: distributions[0].behaviors[0].key_group: unknown key; did you mean key_groups?"},
		{"origin of the wrong kind", "origin: {type: dir, dir: {path: ./public}}", "origin: dir",
			`line 6: distributions[0].origin: want a mapping with keys type, dir, s3, http, got "dir"`},
		{"key groups of the wrong kind", "key_groups:\n  main:\n    - {id: K2JCJMDEHXQW5F, public_key_file: keys/public_key.pem}\n", "key_groups: [main]\n\n\n",
			"line 1: key_groups: want a mapping of names, got a list"},
		{"public key file of the wrong kind", "public_key_file: keys/public_key.pem", "public_key_file: [a]",
			"line 3: key_groups.main[0].public_key_file: want a string, got a list"},
		{"chunk size that is no size", "origin: {type: dir, dir: {path: ./public}}", "origin: {type: dir, dir: {path: ./public}}\n    cache: {memory: 512KiB, chunk_size: 1M}",
			`line 7: distributions[0].cache.chunk_size: "1M" is not a size such as 4096, 64MiB or 10GiB`},
		{"ttl without a unit", `{path: "*", key_groups: [main]}`, `{path: "*", key_groups: [main], cache: {default_ttl: 60, min_ttl: 2d}}`,
			"line 8: distributions[0].behaviors[0].cache.default_ttl: 60 has no unit: write 60s, or a duration such as 15m, 12h or 30d"},
		{"signer of the wrong kind", "origin: {type: dir, dir: {path: ./public}}", "origin: {type: dir, dir: {path: ./public}}\n    base_url: http://a.example\n    signer: k.pem",
			`line 8: distributions[0].signer: want a mapping with keys ` + signerKeys + `, got "k.pem"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(minimal, tc.old) {
				t.Fatalf("minimal does not hold %q", tc.old)
			}
			doc := strings.Replace(minimal, tc.old, tc.new, 1)
			_, err := config.Load(writeFile(t, t.TempDir(), "signet.yaml", []byte(doc)))
			if got := texts(err); !reflect.DeepEqual(got, []string{tc.want}) {
				t.Errorf("Load problems =\n%s\nwant\n%s\nconfig:\n%s", strings.Join(got, "\n"), tc.want, doc)
			}
		})
	}
}

// TestLoadMisspeltNextToReal: a misspelt key next to the key it resembles
// hides none of that key's own problems.
func TestLoadMisspeltNextToReal(t *testing.T) {
	doc := strings.Replace(minimal, `{path: "*", key_groups: [main]}`, `{path: "*", key_groups: [nope], key_group: [main]}`, 1)
	_, err := config.Load(writeFile(t, t.TempDir(), "signet.yaml", []byte(doc)))
	got := texts(err)
	want := "line 8: distributions[0].behaviors[0].key_group: unknown key; did you mean key_groups?"
	if len(got) != 2 || got[0] != want || !strings.Contains(got[1], "key_groups") || !strings.Contains(got[1], "nope") {
		t.Errorf("Load problems =\n%s\nwant %q and a problem naming key_groups' group nope\nconfig:\n%s", strings.Join(got, "\n"), want, doc)
	}
}

// signerKeys lists the keys of a signer block, as a mismatch names them.
const signerKeys = "source, key_id, private_key_file, env, secret_id, refresh, kms_key_id, region, endpoint, max_lifetime, require_ip, allow_broad, quantum, cache_size"
