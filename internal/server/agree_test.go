package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/config"
	"github.com/signet-dev/signet/internal/server"
)

// The tests in this file hold `signet config validate --files` and
// `signet serve` together (STYLE.md, "One rule, one place"): whatever
// config.LoadData and CheckFiles accept, server.New must build. They
// provision each config first, the way an operator would: every file it
// names is made (keys, certificates, directories), environment variables
// named by env signers are set, and the AWS SDK is kept off the machine's
// configuration, so that what remains is the config's own validity. New
// needs no network for that: s3 and http origins, ACME and the token store
// only connect when used, and key sources that would (secrets_manager and
// kms) are replaced by a file source with the same key id.

// env is the environment ${NAME} expands from in these configs.
var env = map[string]string{
	"HOME": "/root", "EMPTY": "", "SECRET": "s3cr3t",
	"S3_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "S3_SECRET_ACCESS_KEY": "secret", "ORIGIN_SECRET": "origin-secret",
}

func getenv(name string) (string, bool) {
	v, ok := env[name]
	return v, ok
}

// isolateAWS gives the AWS SDK a region and keeps it from the machine's
// shared files and from instance metadata.
func isolateAWS(t testing.TB) {
	dir := t.TempDir()
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
}

// outcome is what validate and serve make of one config.
type outcome struct {
	validate error  // config.LoadData's problems, then CheckFiles'
	serve    error  // server.New's; nil when validate refused or skip is set
	skip     string // why the config could not be served here, if it could not
}

// agree runs doc through validate and, when validate accepts it, through
// server.New, in dir.
func agree(t testing.TB, dir string, doc []byte) outcome {
	c, err := config.LoadData(doc, dir, getenv)
	if err != nil {
		return outcome{validate: err}
	}
	if skip := provision(t, c, dir); skip != "" {
		return outcome{skip: skip}
	}
	if err := c.CheckFiles(); err != nil {
		return outcome{validate: err}
	}
	return outcome{serve: serve(t, c)}
}

// serveAlone runs server.New on doc, parsed but not validated, in dir, to
// see whether serve refuses what validate does.
func serveAlone(t testing.TB, dir string, doc []byte) error {
	t.Helper()
	c, err := config.Parse(doc, getenv)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, doc)
	}
	if skip := provision(t, c, dir); skip != "" {
		t.Fatalf("provision: %s\n%s", skip, doc)
	}
	return serve(t, c)
}

// serve builds c and releases what it built.
func serve(t testing.TB, c *config.Config) error {
	s, err := server.New(t.Context(), c, server.Options{})
	if err != nil {
		return err
	}
	s.Close()
	return nil
}

// provision makes every file c names exist and hold what it should, and
// sets the variables env signers read. Paths outside dir are moved under
// it first. It returns why c cannot be served here, or "".
func provision(t testing.TB, c *config.Config, dir string) string {
	p := &provisioner{t: t, dir: dir, keys: map[string]*ecdsa.PrivateKey{}}
	p.jail(&c.DataDir)
	for i := range c.Listeners {
		l := &c.Listeners[i]
		if l.TLS != nil {
			p.jail(&l.TLS.CertFile)
			p.jail(&l.TLS.KeyFile)
			cert, key := testCert()
			both := append(append([]byte(nil), cert...), key...) // the two may be one file
			p.write(l.TLS.CertFile, both)
			p.write(l.TLS.KeyFile, both)
		}
		if a := l.ACME; a != nil {
			p.jail(&a.CacheDir)
			p.jail(&a.CARootsFile)
			if a.CARootsFile != "" {
				cert, _ := testCert()
				p.write(a.CARootsFile, cert)
			}
		}
	}
	for _, keys := range c.KeyGroups {
		for i := range keys {
			if keys[i].File != "" {
				p.jail(&keys[i].File)
				p.write(keys[i].File, p.publicPEM(keys[i].File))
			}
		}
	}
	for i := range c.Distributions {
		d := &c.Distributions[i]
		if d.Cache != nil {
			p.jail(&d.Cache.DiskDir)
		}
		if o := d.Origin.Dir; o != nil && o.Path != "" {
			p.jail(&o.Path)
			p.mkdir(o.Path)
		}
		if d.Signer != nil {
			if skip := p.signer(c, i); skip != "" {
				return skip
			}
		}
	}
	if p.err != nil {
		return "cannot make its files: " + p.err.Error()
	}
	return ""
}

// provisioner makes the files of one config. The first failure is kept in
// err; later calls do nothing.
type provisioner struct {
	t    testing.TB
	dir  string
	keys map[string]*ecdsa.PrivateKey // by public key file
	err  error
}

// jail moves a path that is not under p.dir (an absolute one, or one
// with "..") under p.dir/outside, so that nothing is written elsewhere.
func (p *provisioner) jail(path *string) {
	if *path == "" {
		return
	}
	if rel, err := filepath.Rel(p.dir, *path); err != nil || !filepath.IsLocal(rel) {
		*path = filepath.Join(p.dir, "outside", *path)
	}
}

func (p *provisioner) mkdir(path string) {
	if p.err == nil {
		p.err = os.MkdirAll(path, 0o755)
	}
}

func (p *provisioner) write(path string, data []byte) {
	p.mkdir(filepath.Dir(path))
	if p.err == nil {
		p.err = os.WriteFile(path, data, 0o600)
	}
}

// key returns the private key whose public half is in file, made on
// first use.
func (p *provisioner) key(file string) *ecdsa.PrivateKey {
	k, ok := p.keys[file]
	if !ok {
		var err error
		if k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			p.t.Fatal(err)
		}
		p.keys[file] = k
	}
	return k
}

func (p *provisioner) publicPEM(file string) []byte {
	der, err := x509.MarshalPKIXPublicKey(p.key(file).Public())
	if err != nil {
		p.t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func (p *provisioner) privatePEM(file string) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(p.key(file))
	if err != nil {
		p.t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// signer gives distributions[i]'s signer the private half of the key its
// behaviors trust under its key id. A secrets_manager or kms signer
// becomes a file signer, since reading it would need AWS; one without a
// key id takes the id of the first key its behaviors trust, as a secret's
// JSON would name one.
func (p *provisioner) signer(c *config.Config, i int) string {
	d := &c.Distributions[i]
	s := d.Signer
	var trusted *config.PublicKey
	for _, g := range d.TrustedKeyGroups() {
		for j, k := range c.KeyGroups[g] {
			if trusted == nil && (k.ID == s.KeyID || s.KeyID == "" && s.Source == "secrets_manager") {
				trusted = &c.KeyGroups[g][j]
			}
		}
	}
	switch {
	case trusted == nil:
		// Validate checks the id of every source but a secret, whose JSON
		// may name another id; serve checks it when it reads the secret.
		return "the signer's key id is one a secret would bring"
	case trusted.File == "":
		return "the signer's key is trusted inline: its private half is not at hand"
	}
	s.KeyID = trusted.ID
	key := p.privatePEM(trusted.File)
	switch s.Source {
	case "env":
		if s.Env == "" || strings.ContainsAny(s.Env, "=\x00") {
			return "the signer's variable cannot be set"
		}
		p.t.Setenv(s.Env, string(key))
		return ""
	case "secrets_manager", "kms":
		s.Source, s.PrivateKeyFile = "file", filepath.Join(p.dir, fmt.Sprintf("signer-%d.pem", i))
	}
	p.jail(&s.PrivateKeyFile)
	p.write(s.PrivateKeyFile, key)
	return ""
}

// testCert is a self-signed CA certificate for 127.0.0.1 and its key, in
// PEM: what TLS listeners serve and ACME listeners trust here.
var testCert = sync.OnceValues(func() (cert, key []byte) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "signet agreement test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		panic(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
})

// shipped are the configs the repository ships and documents, by name:
// `signet config example`, the README's quick start, and each YAML block
// of the docs completed with what it leaves out (a key group and a
// distribution).
func shipped(t testing.TB) map[string][]byte {
	docs := map[string][]byte{"config example": []byte(config.Example())}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)cat > signet\.yaml <<EOF\n(.*?)\nEOF\n`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md: no quick start config (cat > signet.yaml <<EOF ... EOF)")
	}
	docs["README quick start"] = []byte(strings.ReplaceAll(string(m[1]), "$id", "K2JCJMDEHXQW5F"))
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)\n( *)```yaml\n(.*?)\n *```\n")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range block.FindAllSubmatch(data, -1) {
			var doc []string
			for l := range strings.SplitSeq(string(m[2]), "\n") {
				doc = append(doc, strings.TrimPrefix(l, string(m[1])))
			}
			docs[fmt.Sprintf("%s block %d", filepath.Base(f), i+1)] = []byte(complete(strings.Join(doc, "\n") + "\n"))
		}
	}
	return docs
}

// complete makes a config of a fragment of one: it fills the placeholders
// the docs leave ("...", "# ... origin and behaviors ..."), puts a
// listener's keys in a listener, and adds the key group and distribution
// it leaves out.
func complete(doc string) string {
	doc = regexp.MustCompile(`(?m)^( *)-----BEGIN PUBLIC KEY-----\n *\.\.\.\n *-----END PUBLIC KEY-----$`).
		ReplaceAllStringFunc(doc, func(block string) string {
			indent := block[:len(block)-len(strings.TrimLeft(block, " "))]
			return indent + strings.ReplaceAll(string(inlineKey()), "\n", "\n"+indent)
		})
	doc = regexp.MustCompile(`(?m)^( *)# \.\.\. origin and behaviors \.\.\.$`).
		ReplaceAllString(doc, "${1}origin: {type: dir, dir: {path: files}}\n${1}behaviors: [{path: '*', key_groups: [main]}]")
	if regexp.MustCompile(`^(acme|tls|address|adapter|redirect_to_https):`).MatchString(doc) {
		doc = "listeners:\n  - address: :443\n" + regexp.MustCompile(`(?m)^(.)`).ReplaceAllString(doc, "    $1")
	}
	if !regexp.MustCompile(`(?m)^key_groups:`).MatchString(doc) {
		doc += "key_groups:\n  main: [{id: K2JCJMDEHXQW5F, public_key_file: keys/main.pem}]\n"
	}
	if !regexp.MustCompile(`(?m)^distributions:`).MatchString(doc) {
		doc += "distributions:\n  - name: media\n    origin: {type: dir, dir: {path: files}}\n    behaviors: [{path: '*', key_groups: [main]}]\n"
	}
	return doc
}

// inlineKey is a PEM public key, without its final newline, for a
// fragment's placeholder.
var inlineKey = sync.OnceValue(func() []byte {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		panic(err)
	}
	return []byte(strings.TrimSuffix(string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), "\n"))
})

// fuzzCorpus reads the inputs of a fuzz target's corpus directory, each a
// file holding one []byte in Go's "go test fuzz v1" encoding.
func fuzzCorpus(t testing.TB, dir string) map[string][]byte {
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("fuzz corpus %s: %v files, %v", dir, len(files), err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lit, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "go test fuzz v1\n[]byte(")
		lit, ok2 := strings.CutSuffix(lit, ")")
		s, err := strconv.Unquote(lit)
		if !ok || !ok2 || err != nil {
			t.Fatalf("%s: not one []byte in the go test fuzz v1 encoding", f)
		}
		out[filepath.Base(f)] = []byte(s)
	}
	return out
}

// TestAgreeShipped checks that every shipped config, the valid configs of
// config's tests (the "valid-" inputs of its fuzz corpus) and the
// zero-config run's pass validate and build.
func TestAgreeShipped(t *testing.T) {
	isolateAWS(t)
	docs := shipped(t)
	for name, doc := range fuzzCorpus(t, "../config/testdata/fuzz/FuzzParse") {
		if strings.HasPrefix(name, "valid-") {
			docs["config test "+name] = doc
		}
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			got := agree(t, t.TempDir(), doc)
			switch {
			case got.skip != "":
				t.Fatalf("cannot be provisioned: %s\n%s", got.skip, doc)
			case got.validate == nil && got.serve != nil:
				t.Fatalf("validate accepts it, serve refuses it: %v\n%s", got.serve, doc)
			case got.validate != nil:
				t.Fatalf("validate refuses it (a docs fragment is completed by complete): %v\n%s", got.validate, doc)
			}
		})
	}
	t.Run("zero config", func(t *testing.T) {
		c := config.Default()
		c.DataDir = t.TempDir()
		if _, err := server.Bootstrap(c); err != nil {
			t.Fatalf("Bootstrap: %v", err)
		}
		if err := c.CheckFiles(); err != nil {
			t.Fatalf("CheckFiles: %v", err)
		}
		if err := serve(t, c); err != nil {
			t.Fatalf("New: %v", err)
		}
	})
}

// FuzzAgree feeds documents to validate and serve: whatever `signet
// config validate --files` accepts, server.New must build. Its seeds are
// the shipped configs and the corpus of config's FuzzParse; its own finds
// go to testdata/fuzz/FuzzAgree.
func FuzzAgree(f *testing.F) {
	isolateAWS(f)
	for _, doc := range shipped(f) {
		f.Add(doc)
	}
	for _, doc := range fuzzCorpus(f, "../config/testdata/fuzz/FuzzParse") {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if got := agree(t, t.TempDir(), doc); got.validate == nil && got.serve != nil {
			t.Fatalf("validate accepts it, serve refuses it: %v\n%s", got.serve, doc)
		}
	})
}

// TestAgreeEdgeCases walks the bounds of the rules the edge, the edge
// cache and the origins own, which validate applies with the field path
// and serve with the distribution and behavior: each row says what both
// make of it. validate may refuse what serve would take (a config-only
// rule, or a value serve reads as its default), never the reverse.
func TestAgreeEdgeCases(t *testing.T) {
	isolateAWS(t)
	long := "/" + strings.Repeat("a", 254) // 255 bytes, CloudFront's limit
	const s3 = "{type: s3, s3: {bucket: media, endpoint: 'http://127.0.0.1:9', path_style: true}}"
	for _, tc := range []struct {
		name            string
		distName        string // the distribution's name, YAML; "" is media
		origin          string // the origin block, flow YAML; "" is a dir origin
		dist            string // more keys of the distribution, one per line at four spaces
		behaviors       []string
		others          []string // more distributions' keys but origin and behaviors, flow YAML without braces
		validate, serve bool
	}{
		// Path patterns.
		{name: "pattern star", behaviors: []string{"{path: '*', public: true}"}, validate: true, serve: true},
		{name: "pattern prefix", behaviors: []string{"{path: /videos/*, public: true}", "{path: '*', public: true}"}, validate: true, serve: true},
		{name: "pattern stars", behaviors: []string{"{path: '/a*b*.mp4', public: true}"}, validate: true, serve: true},
		{name: "pattern 255 bytes", behaviors: []string{"{path: '" + long + "', public: true}"}, validate: true, serve: true},
		{name: "pattern 256 bytes", behaviors: []string{"{path: '" + long + "a', public: true}"}},
		{name: "pattern question mark", behaviors: []string{"{path: '/a?c', public: true}"}},
		{name: "pattern without slash", behaviors: []string{"{path: 'videos/*', public: true}"}},
		{name: "pattern extension", behaviors: []string{"{path: '*.png', public: true}"}},
		{name: "pattern empty", behaviors: []string{"{path: '', public: true}"}},
		{name: "pattern space", behaviors: []string{"{path: '/a b', public: true}"}},
		{name: "pattern hash", behaviors: []string{"{path: '/a#b', public: true}"}},
		{name: "pattern backslash", behaviors: []string{`{path: '/a\b', public: true}`}},
		{name: "pattern non-ASCII", behaviors: []string{"{path: '/café/*', public: true}"}},
		{name: "pattern percent-encoded", behaviors: []string{"{path: '/caf%C3%A9/*', public: true}"}, validate: true, serve: true},
		{name: "pattern repeated", behaviors: []string{"{path: /a/*, public: true}", "{path: /a/*, public: true}"}},
		{name: "pattern after star", behaviors: []string{"{path: '*', public: true}", "{path: /a/*, public: true}"}},

		// Origin paths.
		{name: "origin path empty", behaviors: []string{"{path: '*', public: true, origin_path: ''}"}, validate: true, serve: true},
		{name: "origin path with slash", behaviors: []string{"{path: '*', public: true, origin_path: media/}"}, validate: true, serve: true},
		{name: "origin path without slash", behaviors: []string{"{path: '*', public: true, origin_path: media}"}, validate: true, serve: true},
		{name: "origin path deep without slash", behaviors: []string{"{path: '*', public: true, origin_path: media/x}"}, validate: true, serve: true},
		{name: "origin path leading slash", behaviors: []string{"{path: '*', public: true, origin_path: /media/}"}},
		{name: "origin path empty segment", behaviors: []string{"{path: '*', public: true, origin_path: media//x/}"}},
		{name: "origin path dot dot", behaviors: []string{"{path: '*', public: true, origin_path: a/../b/}"}},
		{name: "origin path dot", behaviors: []string{"{path: '*', public: true, origin_path: ./a/}"}},
		{name: "origin path backslash", behaviors: []string{`{path: '*', public: true, origin_path: 'a\b/'}`}},
		{name: "s3 prefix without slash", origin: "{type: s3, s3: {bucket: media, endpoint: 'http://127.0.0.1:9', prefix: media}}", behaviors: []string{"{path: '*', public: true}"}, validate: true, serve: true},
		{name: "s3 prefix dot dot", origin: "{type: s3, s3: {bucket: media, endpoint: 'http://127.0.0.1:9', prefix: a/../b}}", behaviors: []string{"{path: '*', public: true}"}},
		{name: "s3 prefix empty segment", origin: "{type: s3, s3: {bucket: media, endpoint: 'http://127.0.0.1:9', prefix: a//b/}}", behaviors: []string{"{path: '*', public: true}"}},

		// The http origin's secret header.
		{name: "secret header", origin: "{type: http, http: {url: 'http://127.0.0.1:9', secret_header: X-Origin-Secret, secret: s}}", validate: true, serve: true},
		{name: "secret header the origin sets", origin: "{type: http, http: {url: 'http://127.0.0.1:9', secret_header: host, secret: s}}"},
		{name: "secret header conditional", origin: "{type: http, http: {url: 'http://127.0.0.1:9', secret_header: If-Match, secret: s}}"},

		// Hosts.
		{name: "host name", dist: "hosts: [media.example.com]", validate: true, serve: true},
		{name: "host and port", dist: "hosts: ['media.example.com:8443', 'localhost:8080']", validate: true, serve: true},
		{name: "host IPv4", dist: "hosts: ['192.0.2.1', '192.0.2.1:8080']", validate: true, serve: true},
		{name: "host IPv6", dist: "hosts: ['[::1]', '[2001:db8::1]:8443']", validate: true, serve: true},
		{name: "host upper case", dist: "hosts: [Media.example.com]"},
		{name: "host IPv6 without brackets", dist: "hosts: ['::1']"},
		{name: "host IPv6 zone", dist: "hosts: ['[fe80::1%eth0]']"},
		{name: "host underscore", dist: "hosts: [media_files.example.com]"},
		{name: "host port 0", dist: "hosts: ['media.example.com:0']"},
		{name: "host port too large", dist: "hosts: ['media.example.com:65536']"},
		{name: "host wildcard", dist: "hosts: ['*.example.com']"},
		{name: "host repeated", dist: "hosts: [a.example.com, a.example.com]"},
		{name: "host in two distributions", dist: "hosts: [a.example.com]", others: []string{"name: other, hosts: [b.example.com, a.example.com]"}},
		{name: "host and port in two distributions", dist: "hosts: ['a.example.com:8443']", others: []string{"name: other, hosts: [a.example.com]"}, validate: true, serve: true},
		{name: "one default distribution", others: []string{"name: other, hosts: [b.example.com]"}, validate: true, serve: true},
		{name: "two default distributions", others: []string{"name: other"}},
		{name: "default distribution after others", dist: "hosts: [a.example.com]", others: []string{"name: b, hosts: [b.example.com]", "name: c"}, validate: true, serve: true},

		// Distribution names.
		{name: "name", distName: "Media_2-x", validate: true, serve: true},
		{name: "name 64 bytes", distName: strings.Repeat("a", 64), validate: true, serve: true},
		{name: "name 65 bytes", distName: strings.Repeat("a", 65)},
		{name: "name with a space", distName: "'media files'"},
		{name: "name with a dot", distName: "media.example"},
		{name: "name non-ASCII", distName: "médias"},
		{name: "name empty", distName: "''"},
		{name: "name repeated", others: []string{"name: media, hosts: [b.example.com]"}},

		// Allowed methods, viewer protocols and modes.
		{name: "methods GET HEAD OPTIONS", behaviors: []string{"{path: '*', public: true, allowed_methods: [OPTIONS, HEAD, GET]}"}, validate: true, serve: true},
		{name: "methods GET", behaviors: []string{"{path: '*', public: true, allowed_methods: [GET]}"}},
		{name: "methods OPTIONS", behaviors: []string{"{path: '*', public: true, allowed_methods: [OPTIONS]}"}},
		{name: "methods with PUT", behaviors: []string{"{path: '*', public: true, allowed_methods: [GET, HEAD, PUT]}"}},
		{name: "methods lower case", behaviors: []string{"{path: '*', public: true, allowed_methods: [GET, HEAD, options]}"}},
		{name: "methods repeated", behaviors: []string{"{path: '*', public: true, allowed_methods: [GET, GET, HEAD]}"}},
		{name: "methods empty", behaviors: []string{"{path: '*', public: true, allowed_methods: []}"}},
		{name: "protocol https-only", behaviors: []string{"{path: '*', public: true, viewer_protocol: https-only}"}, validate: true, serve: true},
		{name: "protocol redirect-to-https", behaviors: []string{"{path: '*', public: true, viewer_protocol: redirect-to-https}"}, validate: true, serve: true},
		{name: "protocol misspelt", behaviors: []string{"{path: '*', public: true, viewer_protocol: https-onyl}"}},
		{name: "protocol upper case", behaviors: []string{"{path: '*', public: true, viewer_protocol: HTTPS-ONLY}"}},
		// Serve reads "" as its default; the file says allow-all for that.
		{name: "protocol empty", behaviors: []string{"{path: '*', public: true, viewer_protocol: ''}"}, serve: true},
		{name: "mode proxy", behaviors: []string{"{path: '*', public: true, mode: proxy}"}, validate: true, serve: true},
		{name: "mode misspelt", behaviors: []string{"{path: '*', public: true, mode: proxi}"}},
		{name: "mode upper case", origin: s3, behaviors: []string{"{path: '*', public: true, mode: Redirect}"}},
		// Serve reads "" as its default; the file says proxy for that.
		{name: "mode empty", behaviors: []string{"{path: '*', public: true, mode: ''}"}, serve: true},

		// Cache lifetimes.
		{name: "ttl zero", behaviors: []string{"{path: '*', public: true, cache: {min_ttl: 0s, default_ttl: 0s, max_ttl: 0s}}"}, validate: true, serve: true},
		{name: "ttl equal", behaviors: []string{"{path: '*', public: true, cache: {min_ttl: 1h, default_ttl: 1h, max_ttl: 1h}}"}, validate: true, serve: true},
		{name: "ttl default over max", behaviors: []string{"{path: '*', public: true, cache: {default_ttl: 2h, max_ttl: 1h}}"}},
		{name: "ttl default over a zero max", behaviors: []string{"{path: '*', public: true, cache: {max_ttl: 0s}}"}},
		{name: "ttl min over default", behaviors: []string{"{path: '*', public: true, cache: {min_ttl: 2h, default_ttl: 1h}}"}},
		{name: "ttl negative", behaviors: []string{"{path: '*', public: true, cache: {min_ttl: -1s}}"}},

		// Redirect mode's presigned URL lifetime.
		{name: "redirect ttl 1s", origin: s3, behaviors: []string{"{path: '*', public: true, mode: redirect, redirect_ttl: 1s}"}, validate: true, serve: true},
		{name: "redirect ttl 7d", origin: s3, behaviors: []string{"{path: '*', public: true, mode: redirect, redirect_ttl: 7d}"}, validate: true, serve: true},
		{name: "redirect ttl over 7d", origin: s3, behaviors: []string{"{path: '*', public: true, mode: redirect, redirect_ttl: 7d1s}"}},
		{name: "redirect ttl under 1s", origin: s3, behaviors: []string{"{path: '*', public: true, mode: redirect, redirect_ttl: 500ms}"}},
		// Serve reads 0 as its default; the file says 5m for that.
		{name: "redirect ttl 0s", origin: s3, behaviors: []string{"{path: '*', public: true, mode: redirect, redirect_ttl: 0s}"}, serve: true},
		// Proxy mode presigns nothing; the file's rule holds anyway.
		{name: "redirect ttl over 7d in proxy mode", origin: s3, behaviors: []string{"{path: '*', public: true, redirect_ttl: 8d}"}, serve: true},

		// Edge cache chunks.
		{name: "chunk 4KiB", dist: "cache: {chunk_size: 4KiB}", validate: true, serve: true},
		{name: "chunk under 4KiB", dist: "cache: {chunk_size: 4095}"},
		{name: "chunk 64MiB", dist: "cache: {chunk_size: 64MiB, memory: 64MiB}", validate: true, serve: true},
		{name: "chunk over 64MiB", dist: "cache: {chunk_size: 67108865, memory: 128MiB}"},
		// Serve reads 0 as its default (1MiB); the file says 1MiB for that.
		{name: "chunk 0", dist: "cache: {chunk_size: 0}", serve: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			origin := tc.origin
			if origin == "" {
				origin = fmt.Sprintf("{type: dir, dir: {path: %s}}", filepath.Join(dir, "files"))
			}
			behaviors := tc.behaviors
			if behaviors == nil {
				behaviors = []string{"{path: '*', key_groups: [main]}"}
			}
			name := tc.distName
			if name == "" {
				name = "media"
			}
			doc := fmt.Sprintf("data_dir: %s\nkey_groups:\n  main: [{id: K2JCJMDEHXQW5F, public_key_file: %s}]\n"+
				"distributions:\n  - name: %s\n    origin: %s\n", filepath.Join(dir, "data"), filepath.Join(dir, "main.pem"), name, origin)
			if tc.dist != "" {
				doc += "    " + tc.dist + "\n"
			}
			doc += "    behaviors:\n      - " + strings.Join(behaviors, "\n      - ") + "\n"
			for _, o := range tc.others {
				doc += fmt.Sprintf("  - {%s, origin: {type: dir, dir: {path: %s}}, behaviors: [{path: '*', public: true}]}\n", o, filepath.Join(dir, "files"))
			}

			got := agree(t, dir, []byte(doc))
			if got.skip != "" {
				t.Fatalf("cannot be provisioned: %s", got.skip)
			}
			served := serveAlone(t, t.TempDir(), []byte(doc))
			if (got.validate == nil) != tc.validate || (served == nil) != tc.serve {
				t.Errorf("validate: %v\nserve: %v\nwant validate to accept it: %v, serve to: %v\nconfig:\n%s",
					orOK(got.validate), orOK(served), tc.validate, tc.serve, doc)
			}
			if got.validate == nil && got.serve != nil {
				t.Errorf("validate accepts it, serve refuses it: %v", got.serve)
			}
		})
	}
}

// orOK is err, or "ok" for nil.
func orOK(err error) any {
	if err == nil {
		return "ok"
	}
	return err
}
