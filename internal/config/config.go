// Package config is signet's configuration file: the schema as Go types,
// Default, Parse, Load and Validate.
//
// Loading runs in this order, and nothing in it has side effects (no files
// are created, nothing is logged, nothing touches the network):
//
//  1. Default() gives the zero-config values.
//  2. A strict YAML decode overlays the file: an unknown key, a duplicate key
//     or a value of the wrong type is a problem reported with its line and
//     field path, and every problem in the file is reported at once.
//  3. ${NAME} and ${NAME:-default} are expanded in string values (only
//     there); an unset variable without a default is a problem naming the
//     field, and $$ is a literal $.
//  4. Validate checks the whole config and again reports every problem at
//     once, with its field path (and its line when the config came from a
//     file).
//
// Load (and LoadData) runs Validate even when the decode found problems, on
// what did decode, and returns both kinds together in the order of their
// lines; a value that did not decode is not reported again by Validate.
//
// Validate checks shape only and reads no files. CheckFiles reads the files
// a config names (keys, certificates, the directory origin) and reports the
// ones that are missing or unusable; `signet config validate --files` and
// the server call it.
//
// Problems are *Problem values joined with errors.Join, so a caller can list
// them one by one (see Problems).
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/signet-dev/signet/internal/edge"
)

// Config is one signet configuration. The yaml tag of each field is its key
// in the file. A Config is plain data: it is safe for concurrent reads, and
// Validate, Warnings and CheckFiles do not modify it.
type Config struct {
	// DataDir holds generated keys and state for zero-config runs.
	DataDir string `yaml:"data_dir"`
	// Listeners are the viewer-facing addresses; at least one.
	Listeners []Listener `yaml:"listeners"`
	// Admin is the operations listener (/metrics, /healthz, /readyz).
	Admin Admin `yaml:"admin"`
	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed. In the file each entry is a
	// CIDR prefix ("10.0.0.0/8") or a single address ("192.0.2.7", taken as
	// /32 or /128); a prefix with host bits set is a decode problem.
	TrustedProxies []netip.Prefix `yaml:"trusted_proxies"`
	// DebugReasonHeader adds X-Signet-Reason, the private reason, to
	// refusals. For development only.
	DebugReasonHeader bool `yaml:"debug_reason_header"`
	// ClockSkew widens both time bounds of a signed policy (0 to 5m).
	ClockSkew Duration `yaml:"clock_skew"`
	// Timeouts bound the HTTP servers and origin calls.
	Timeouts Timeouts `yaml:"timeouts"`
	// Limits bound request sizes.
	Limits Limits `yaml:"limits"`
	// Log configures the process log and the access log.
	Log Log `yaml:"log"`
	// KeyGroups maps a key group name to its trusted public keys (at most
	// five, as in CloudFront).
	KeyGroups map[string][]PublicKey `yaml:"key_groups"`
	// SigningAPI serves the signing API (POST /v1/sign/...); nil is off.
	SigningAPI *SigningAPI `yaml:"signing_api"`
	// Distributions are chosen by the request's Host; at least one.
	Distributions []Distribution `yaml:"distributions"`

	// lines maps a field path to the line it was set on; nil for a config
	// built in code. Validate uses it to give lines.
	lines map[string]int
	// inlineSecrets are warnings about secrets written into the file.
	inlineSecrets []*Problem
	// failed holds the field paths whose value did not decode (see
	// decoder.failed); Validate says nothing more about them.
	failed map[string]bool
}

// Listener is one viewer-facing address.
type Listener struct {
	// Address is host:port; an empty host listens on every interface.
	Address string `yaml:"address"`
	// Adapter is the HTTP server implementation: "nethttp" (the default;
	// HTTP/1.1, HTTP/2, TLS, ACME) or "fasthttp" (plain HTTP/1.1, the
	// faster data plane; the edge only).
	Adapter string `yaml:"adapter"`
	// TLS serves HTTPS from certificate files; nil for plain HTTP.
	TLS *TLS `yaml:"tls"`
	// ACME serves HTTPS with certificates obtained for named hosts;
	// exclusive with TLS.
	ACME *ACME `yaml:"acme"`
	// RedirectToHTTPS makes this listener answer every request with a 301
	// to the same URL on https. The listener must be plain HTTP.
	RedirectToHTTPS bool `yaml:"redirect_to_https"`
}

// TLS names a certificate and its private key, PEM files.
type TLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// ACME obtains certificates for Hosts from an ACME CA (autocert).
type ACME struct {
	// Hosts are the names certificates are requested for; at least one.
	Hosts []string `yaml:"hosts"`
	// Email is the contact address given to the CA; optional.
	Email string `yaml:"email"`
	// CacheDir keeps account keys and certificates; "" means
	// DataDir/acme.
	CacheDir string `yaml:"cache_dir"`
	// DirectoryURL is the CA's directory; "" means Let's Encrypt
	// production.
	DirectoryURL string `yaml:"directory_url"`
	// CARootsFile is a PEM file of the CA certificates trusted, instead of
	// the system's, for the HTTPS of DirectoryURL: a private ACME CA such
	// as step-ca. "" means the system's roots.
	CARootsFile string `yaml:"ca_roots_file"`
}

// Admin is the operations listener.
type Admin struct {
	// Address is host:port for /metrics, /healthz and /readyz; ""
	// (the default) disables the admin listener.
	Address string `yaml:"address"`
	// Pprof serves Go's profiler at /debug/pprof/ on the admin listener,
	// for finding where CPU and memory go under real load. Off by default.
	Pprof bool `yaml:"pprof"`
}

// Timeouts bound the servers and origin calls. Zero means no limit where
// that is allowed (read, write, shutdown); read_header, idle and origin
// must be positive.
type Timeouts struct {
	ReadHeader Duration `yaml:"read_header"` // http.Server.ReadHeaderTimeout
	Read       Duration `yaml:"read"`        // http.Server.ReadTimeout; 0 for long downloads
	Write      Duration `yaml:"write"`       // http.Server.WriteTimeout; 0 for long downloads
	Idle       Duration `yaml:"idle"`        // http.Server.IdleTimeout
	Origin     Duration `yaml:"origin"`      // until an origin answers (not the whole body)
	Shutdown   Duration `yaml:"shutdown"`    // how long in-flight requests may finish on SIGTERM
}

// Limits bound what a client may send.
type Limits struct {
	// MaxHeaderBytes bounds the request line plus headers (1 KiB to 1 MiB;
	// CloudFront's limit, 20480, by default).
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// VerifiedLinks bounds, per behavior, the cache of signed links whose
	// signature was verified, so a link seen again skips the public-key
	// check (its time, IP and resource are still checked on every
	// request). 0 turns the cache off; default 10000.
	VerifiedLinks int `yaml:"verified_links"`
}

// Log configures logging.
type Log struct {
	Level     string `yaml:"level"`      // debug, info, warn or error
	Format    string `yaml:"format"`     // json or text
	AccessLog bool   `yaml:"access_log"` // one line per request
}

// SlogLevel is Level as a slog.Level; an invalid level (which Validate
// refuses) gives slog.LevelInfo.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// PublicKey is one trusted public key, given by exactly one of File and
// PEM.
type PublicKey struct {
	// ID is the key pair id links carry in Key-Pair-Id.
	ID string `yaml:"id"`
	// File is a PEM public key file (SubjectPublicKeyInfo).
	File string `yaml:"public_key_file"`
	// PEM is the public key itself, inline.
	PEM string `yaml:"public_key"`
}

// Distribution serves one origin to the hosts it names.
type Distribution struct {
	// Name identifies the distribution in logs and metrics.
	Name string `yaml:"name"`
	// Hosts are matched against the request's Host header, lower-cased,
	// port included when the client sent one. Empty means any host: at
	// most one distribution may have no hosts.
	Hosts []string `yaml:"hosts"`
	// Origin is where objects come from.
	Origin Origin `yaml:"origin"`
	// Behaviors are tried in order; the first whose Path matches wins.
	Behaviors []Behavior `yaml:"behaviors"`
	// BaseURL is the scheme and host the signing API makes links for,
	// such as https://media.example.com; required with Signer.
	BaseURL string `yaml:"base_url"`
	// Signer is the key the signing API signs this distribution's links
	// with, and its guardrails; nil means the API does not sign for it.
	Signer *Signer `yaml:"signer"`
	// Cache is the edge cache in front of the origin. Nil (no cache key
	// in the file) means the defaults for s3 and http origins and no cache
	// for dir origins, whose files are local already; see EdgeCache.
	Cache *Cache `yaml:"cache"`
}

// Cache configures a distribution's edge cache: a memory tier, an optional
// disk tier, request coalescing and stale-if-error (package cache).
type Cache struct {
	// Enabled turns the cache on; true when a cache block is present.
	Enabled bool `yaml:"enabled"`
	// Memory bounds the memory tier (default 64MiB).
	Memory Size `yaml:"memory"`
	// Disk bounds the disk tier; 0, the default, means no disk tier.
	Disk Size `yaml:"disk"`
	// DiskDir holds the disk tier; "" means <data_dir>/cache/<name>. Each
	// distribution needs its own.
	DiskDir string `yaml:"disk_dir"`
	// MaxStale is how long past its lifetime a cached object may be served
	// when the origin fails (stale-if-error); 0 turns that off. Default 1h.
	MaxStale Duration `yaml:"max_stale"`
	// ChunkSize is the unit of range fills and storage, 4KiB to 64MiB
	// (default 1MiB).
	ChunkSize Size `yaml:"chunk_size"`
	// MaxObjectSize, when positive, is the largest object whose body is
	// cached; larger ones are read from the origin every time. 0, the
	// default, means no limit.
	MaxObjectSize Size `yaml:"max_object_size"`
}

// DefaultCache returns the cache settings a cache block starts from.
func DefaultCache() Cache {
	return Cache{Enabled: true, Memory: 64 << 20, MaxStale: Duration(time.Hour), ChunkSize: 1 << 20}
}

// setDefaults gives a cache block read from the file its defaults.
func (c *Cache) setDefaults() { *c = DefaultCache() }

// EdgeCache returns the cache d runs with, disk_dir resolved against
// dataDir, or nil when it runs without one.
func (d *Distribution) EdgeCache(dataDir string) *Cache {
	var c Cache
	switch {
	case d.Cache != nil:
		c = *d.Cache
	case d.Origin.Type == "s3" || d.Origin.Type == "http":
		c = DefaultCache()
	default:
		return nil
	}
	if !c.Enabled {
		return nil
	}
	if c.Disk > 0 && c.DiskDir == "" {
		c.DiskDir = filepath.Join(dataDir, "cache", d.Name)
	}
	return &c
}

// StateFile is signet's state database, <data_dir>/signet.db (SQLite):
// the signing API's tokens.
func (c *Config) StateFile() string {
	return filepath.Join(c.DataDir, "signet.db")
}

// SigningAPI is the HTTP signing API of `signet serve`.
type SigningAPI struct {
	// Address is a listener of its own, such as 127.0.0.1:8081 (plain
	// HTTP: keep it on a private network); "" mounts the API on the
	// public listeners under PathPrefix instead.
	Address string `yaml:"address"`
	// PathPrefix is where the API is mounted on the public listeners when
	// Address is "".
	PathPrefix string `yaml:"path_prefix"`
	// MaxBatch bounds the items of one POST /v1/sign/urls.
	MaxBatch int `yaml:"max_batch"`
}

// Signer names where a distribution's signing key comes from, and the
// guardrails the signing API applies to the links it makes with it.
type Signer struct {
	// Source is file, env, secrets_manager or kms.
	Source string `yaml:"source"`
	// KeyID is the CloudFront key pair id; a Secrets Manager secret in
	// JSON form may carry its own.
	KeyID string `yaml:"key_id"`
	// PrivateKeyFile (source file) is a PEM private key.
	PrivateKeyFile string `yaml:"private_key_file"`
	// Env (source env) names the environment variable holding the PEM.
	Env string `yaml:"env"`
	// SecretID (source secrets_manager) is the secret's name or ARN;
	// Refresh is how often it is read again.
	SecretID string   `yaml:"secret_id"`
	Refresh  Duration `yaml:"refresh"`
	// KMSKeyID (source kms) is the KMS key id, ARN or alias.
	KMSKeyID string `yaml:"kms_key_id"`
	// Region and Endpoint locate Secrets Manager or KMS; "" means the
	// standard AWS configuration.
	Region   string `yaml:"region"`
	Endpoint string `yaml:"endpoint"`
	// MaxLifetime caps the lifetime of the links the API makes.
	MaxLifetime Duration `yaml:"max_lifetime"`
	// RequireIP refuses to sign links that bind no client IP.
	RequireIP bool `yaml:"require_ip"`
	// AllowBroad allows over-broad resources such as "*".
	AllowBroad bool `yaml:"allow_broad"`
	// Quantum rounds expiries up to a multiple of it, so that repeated
	// requests get the same, cacheable link; 0 is off.
	Quantum Duration `yaml:"quantum"`
	// CacheSize bounds the cache of signed links when Quantum > 0.
	CacheSize int `yaml:"cache_size"`
}

// Origin selects one origin by Type; exactly the matching block is set.
type Origin struct {
	Type string      `yaml:"type"` // dir, s3 or http
	Dir  *DirOrigin  `yaml:"dir"`
	S3   *S3Origin   `yaml:"s3"`
	HTTP *HTTPOrigin `yaml:"http"`
}

// DirOrigin serves a local directory.
type DirOrigin struct {
	Path string `yaml:"path"`
}

// S3Origin serves a bucket of S3 or an S3-compatible store. Empty
// credentials mean the standard AWS chain (environment, shared files,
// instance role). Fields tagged secret:"true" are expected from ${NAME};
// a literal value there draws a warning.
type S3Origin struct {
	Bucket          string `yaml:"bucket"`
	Region          string `yaml:"region"`     // "" means the AWS chain's region
	Endpoint        string `yaml:"endpoint"`   // "" means AWS; e.g. http://127.0.0.1:9000 for MinIO
	PathStyle       bool   `yaml:"path_style"` // bucket in the path, not the host name
	Prefix          string `yaml:"prefix"`     // prepended to every object key
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key" secret:"true"`
	SessionToken    string `yaml:"session_token" secret:"true"`
}

// HTTPOrigin forwards requests to an upstream HTTP server.
type HTTPOrigin struct {
	// URL is the upstream's base URL; the object key is appended.
	URL string `yaml:"url"`
	// SecretHeader and Secret are sent with every origin request so the
	// upstream can refuse requests that did not come through the edge.
	SecretHeader string `yaml:"secret_header"`
	Secret       string `yaml:"secret" secret:"true"`
}

// Behavior is what a distribution does for the paths Path matches.
type Behavior struct {
	// Path is a pattern with '*' wildcards, starting with '/', or "*"
	// for every path.
	Path string `yaml:"path"`
	// Public serves without a signature; exclusive with KeyGroups.
	Public bool `yaml:"public"`
	// KeyGroups names the trusted key groups (at most four).
	KeyGroups []string `yaml:"key_groups"`
	// AllowedMethods are GET and HEAD, and optionally OPTIONS.
	AllowedMethods []string `yaml:"allowed_methods"`
	// ViewerProtocol is allow-all, https-only or redirect-to-https.
	ViewerProtocol string `yaml:"viewer_protocol"`
	// OriginPath is prepended to the object key (the request path without
	// its leading '/'), for example "media/".
	OriginPath string `yaml:"origin_path"`
	// Mode is proxy (stream through the edge) or redirect (answer with a
	// short-lived presigned S3 URL; needs an s3 origin).
	Mode string `yaml:"mode"`
	// RedirectTTL is the lifetime of a redirect-mode presigned URL.
	RedirectTTL Duration `yaml:"redirect_ttl"`
	// AllowNoResource accepts custom policies without a Resource.
	AllowNoResource bool `yaml:"allow_no_resource"`
	// MaxLinkLifetime, when positive, refuses links valid for longer than
	// this from now: a guardrail that bounds a key rotation's wait.
	MaxLinkLifetime Duration `yaml:"max_link_lifetime"`
	// RequireIP refuses links whose policy binds no client IP range.
	RequireIP bool `yaml:"require_ip"`
	// Cache sets the cache lifetimes.
	Cache CacheTTL `yaml:"cache"`
}

// CacheTTL bounds how long responses are cached: Default when the origin
// says nothing, clamped to [Min, Max] otherwise.
type CacheTTL struct {
	Default Duration `yaml:"default_ttl"`
	Min     Duration `yaml:"min_ttl"`
	Max     Duration `yaml:"max_ttl"`
}

// Default returns the configuration of a zero-config run: data in
// ./signet-data, one plain HTTP listener on 127.0.0.1:8080, no admin
// listener, and no distributions. It does not pass Validate on its own: a
// zero-config server adds the distribution and key it generates.
func Default() *Config {
	c := &Config{
		DataDir:   "./signet-data",
		Listeners: []Listener{defaultListener()},
		Timeouts: Timeouts{
			ReadHeader: Duration(10 * time.Second),
			Idle:       Duration(120 * time.Second),
			Origin:     Duration(30 * time.Second),
			Shutdown:   Duration(30 * time.Second),
		},
		Limits: Limits{MaxHeaderBytes: 20480, VerifiedLinks: 10000},
		Log:    Log{Level: "info", Format: "json", AccessLog: true},
	}
	return c
}

func defaultListener() Listener {
	return Listener{Address: "127.0.0.1:8080", Adapter: "nethttp"}
}

// setDefaults gives a listener read from the file its defaults before the
// file's keys overlay them.
func (l *Listener) setDefaults() { *l = Listener{Adapter: "nethttp"} }

// DefaultBehavior returns a behavior with the defaults a behavior in the
// file starts from: GET and HEAD, allow-all, proxy mode, a 5m redirect TTL,
// and cache TTLs of 24h (default), 0s (min) and 365d (max). Its Path and
// access (Public or KeyGroups) are left for the caller to set.
func DefaultBehavior() Behavior {
	return Behavior{
		AllowedMethods: slices.Clone(edge.DefaultMethods),
		ViewerProtocol: edge.AllowAll,
		Mode:           edge.ModeProxy,
		RedirectTTL:    Duration(edge.DefaultRedirectTTL),
		Cache: CacheTTL{
			Default: Duration(24 * time.Hour),
			Max:     Duration(365 * 24 * time.Hour),
		},
	}
}

// setDefaults gives a behavior read from the file its defaults.
func (b *Behavior) setDefaults() { *b = DefaultBehavior() }

// setDefaults gives a signing_api block read from the file its defaults.
func (a *SigningAPI) setDefaults() { *a = SigningAPI{PathPrefix: "/_signet", MaxBatch: 100} }

// setDefaults gives a signer block read from the file its defaults.
func (s *Signer) setDefaults() {
	*s = Signer{
		Refresh:     Duration(5 * time.Minute),
		MaxLifetime: Duration(7 * 24 * time.Hour),
		CacheSize:   10000,
	}
}

// Parse decodes a YAML config over Default() and expands ${NAME} in string
// values with getenv (nil means no variable is set). It does not validate:
// the config it returns may still fail Validate. On a problem it returns a
// nil Config and every problem found, joined.
func Parse(data []byte, getenv func(string) (string, bool)) (*Config, error) {
	c, d := parse(data, getenv)
	if len(d.problems) > 0 {
		return nil, errors.Join(d.problems...)
	}
	return c, nil
}

// parse decodes data over Default(). The config holds whatever decoded,
// even when the decoder found problems.
func parse(data []byte, getenv func(string) (string, bool)) (*Config, *decoder) {
	if getenv == nil {
		getenv = func(string) (string, bool) { return "", false }
	}
	c := Default()
	d := &decoder{getenv: getenv, lines: map[string]int{}, failed: map[string]bool{}}
	d.document(data, c)
	c.lines = d.lines
	c.inlineSecrets = d.inlineSecrets
	c.failed = d.failed
	return c, d
}

// Load reads the config file at path, parses it with the process
// environment, resolves relative file paths in it against the file's
// directory, and validates it. A read failure is returned as the
// *fs.PathError of os.ReadFile; every other problem is a *Problem.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err // an *fs.PathError: it names the file and what failed
	}
	return LoadData(data, filepath.Dir(path), os.LookupEnv)
}

// LoadData is Load for a file already read: data is its content, dir the
// directory its relative paths are relative to, and getenv its
// environment (nil means no variable is set). The problems of the decode
// and of Validate come back together, in the order of their lines: Validate
// runs on what decoded, and reports nothing about a value that did not
// decode (that would say the same thing twice). Only a document that cannot
// be walked at all (a YAML syntax error, a second document, a hundred
// problems) gets its decode problems alone.
func LoadData(data []byte, dir string, getenv func(string) (string, bool)) (*Config, error) {
	c, d := parse(data, getenv)
	problems := d.problems
	if d.whole {
		c.resolvePaths(dir)
		problems = append(problems, c.validate()...)
	}
	if len(problems) > 0 {
		return nil, joinByLine(problems)
	}
	return c, nil
}

// resolvePaths makes the relative file paths in c relative to dir instead
// of the working directory, as a file's references are read relative to
// the file. Empty paths stay empty.
func (c *Config) resolvePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	abs(&c.DataDir)
	for i := range c.Listeners {
		l := &c.Listeners[i]
		if l.TLS != nil {
			abs(&l.TLS.CertFile)
			abs(&l.TLS.KeyFile)
		}
		if l.ACME != nil {
			abs(&l.ACME.CacheDir)
			abs(&l.ACME.CARootsFile)
		}
	}
	for _, keys := range c.KeyGroups {
		for i := range keys {
			abs(&keys[i].File)
		}
	}
	for i := range c.Distributions {
		if ca := c.Distributions[i].Cache; ca != nil {
			abs(&ca.DiskDir)
		}
		if o := c.Distributions[i].Origin.Dir; o != nil {
			abs(&o.Path)
		}
		if s := c.Distributions[i].Signer; s != nil {
			abs(&s.PrivateKeyFile)
		}
	}
}

// Problem is one thing wrong with a config, or one warning about it: where (the line, when known,
// and the field path, such as distributions[0].behaviors[1].key_groups)
// and what. Its message never contains a secret.
type Problem struct {
	Line int    // 1-based; 0 when unknown
	Path string // field path; "" for the document as a whole
	Msg  string
}

// Error is "line N: path: message", leaving out the parts that are unknown.
func (p *Problem) Error() string {
	s := p.Msg
	if p.Path != "" {
		s = p.Path + ": " + s
	}
	if p.Line > 0 {
		s = fmt.Sprintf("line %d: %s", p.Line, s)
	}
	return s
}

// Problems lists the *Problem values in err, which Parse, Load, Validate or
// CheckFiles returned, in the order they were found. It returns nil when
// err holds none.
func Problems(err error) []*Problem {
	var out []*Problem
	var walk func(error)
	walk = func(err error) {
		if p, ok := err.(*Problem); ok {
			out = append(out, p)
			return
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}
