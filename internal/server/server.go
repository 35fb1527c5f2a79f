// Package server is signet's composition root: it builds every component of
// `signet serve` from one config.Config (keys, origins, the edge core, its
// adapters, listeners, the admin endpoints) and runs them until the
// context ends, then shuts down gracefully. It owns the one switch on the
// origin type. Nothing imports it but the CLI.
package server

import (
	"context"
	"crypto"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"github.com/signet-dev/signet/internal/cache"
	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/config"
	"github.com/signet-dev/signet/internal/edge"
	"github.com/signet-dev/signet/internal/edge/fasthttp"
	"github.com/signet-dev/signet/internal/edge/nethttp"
	"github.com/signet-dev/signet/internal/origin"
	dirorigin "github.com/signet-dev/signet/internal/origin/dir"
	"github.com/signet-dev/signet/internal/origin/health"
	httporigin "github.com/signet-dev/signet/internal/origin/http"
	s3origin "github.com/signet-dev/signet/internal/origin/s3"
	"github.com/signet-dev/signet/internal/version"
)

// Server is a configured `signet serve`. Build it with New, then call Run
// once.
type Server struct {
	cfg       *config.Config
	log       *slog.Logger
	metrics   *metrics
	listeners []*listener
	admin     *http.Server
	adminAddr string
	ready     atomic.Bool
	onReady   func([]string)
	acme      *autocert.Manager // the first ACME listener's, for http-01 challenges
	closers   []func() error

	// bound holds the address each listener is bound to once Run has
	// started listening (useful with port 0).
	mu    sync.Mutex
	bound []string
}

// listener is one public server and the address it listens on.
type listener struct {
	srv  listenServer
	addr string
	tls  bool
}

// listenServer is what Run needs of a listener's server: an *http.Server
// (a tlsServer for HTTPS) or the fasthttp adapter's Server, which have the
// same Serve, Shutdown and Close.
type listenServer interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
	Close() error
}

// tlsServer serves HTTPS (and HTTP/2) on a plain listener.
type tlsServer struct{ *http.Server }

func (s tlsServer) Serve(ln net.Listener) error { return s.ServeTLS(ln, "", "") }

// Options are the process-level facts New needs besides the config.
type Options struct {
	// Logger receives operational logs; AccessLog receives one record per
	// request (nil: no access log).
	Logger, AccessLog *slog.Logger
	// Now is the clock for link verification; nil means time.Now.
	Now func() time.Time
	// Ready, if set, is called once every listener is bound, with the
	// public listeners' addresses in config order.
	Ready func(addrs []string)
}

// New builds a server from a validated config. It reads key files and opens
// origins, so errors name the file or origin at fault, wrapped with the
// distribution, behavior or listener they belong to, such as
// "distributions[0] (media): behaviors[1] (/videos/*): ...". It listens on
// nothing until Run. When it fails, it releases what it opened.
func New(ctx context.Context, cfg *config.Config, opts Options) (_ *Server, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: opts.Logger, metrics: newMetrics(), onReady: opts.Ready}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	groups, err := loadKeyGroups(cfg.KeyGroups)
	if err != nil {
		return nil, err
	}
	e, err := s.newEdge(ctx, groups, opts.Now)
	if err != nil {
		return nil, err
	}
	var handler http.Handler = nethttp.NewHandler(e, nethttp.Options{
		TrustedProxies: cfg.TrustedProxies,
		Logger:         opts.AccessLog,
		Observer:       s.metrics,
	})
	var apiListener *listener // the signing API's own, after the public ones
	if cfg.SigningAPI != nil {
		if handler, apiListener, err = s.addSigningAPI(ctx, handler, groups, opts.Now); err != nil {
			return nil, err
		}
	}
	if err := s.addListeners(e, handler, opts.AccessLog); err != nil {
		return nil, err
	}
	if apiListener != nil {
		s.listeners = append(s.listeners, apiListener)
	}
	if cfg.Admin.Address != "" {
		s.admin = s.httpServer(s.adminHandler())
		s.adminAddr = cfg.Admin.Address
	}
	return s, nil
}

// newEdge builds every distribution and the edge core that serves them.
func (s *Server) newEdge(ctx context.Context, groups map[string]map[string]crypto.PublicKey, now func() time.Time) (*edge.Edge, error) {
	ecfg := edge.Config{DebugReason: s.cfg.DebugReasonHeader, Now: now}
	for i, d := range s.cfg.Distributions {
		ed, err := s.newDistribution(ctx, d, groups, now)
		if err != nil {
			return nil, fmt.Errorf("distributions[%d] (%s): %w", i, d.Name, err)
		}
		ecfg.Distributions = append(ecfg.Distributions, ed)
	}
	return edge.New(ecfg) // its errors name the distribution and behavior
}

// newDistribution builds d for the edge: its origin, behind its edge
// cache if it has one, and its behaviors, which read through the cache's
// view with their TTLs.
func (s *Server) newDistribution(ctx context.Context, d config.Distribution, groups map[string]map[string]crypto.PublicKey, now func() time.Time) (edge.Distribution, error) {
	o, presigner, err := s.openOrigin(ctx, d)
	if err != nil {
		return edge.Distribution{}, fmt.Errorf("origin: %w", err)
	}
	r := reads{presigner: presigner}
	ed := edge.Distribution{Name: d.Name, Hosts: d.Hosts, Origin: o}
	if cc := d.EdgeCache(s.cfg.DataDir); cc != nil {
		if r.edgeCache, err = s.addEdgeCache(&ed, cc, now); err != nil {
			return ed, fmt.Errorf("cache: %w", err)
		}
	}
	for i, b := range d.Behaviors {
		for _, g := range b.KeyGroups {
			for id := range groups[g] {
				s.metrics.keys.trust(id, g, d.Name+" "+b.Path)
			}
		}
		eb, err := newBehavior(b, groups, s.cfg, now, r)
		if err != nil {
			return ed, fmt.Errorf("behaviors[%d] (%s): %w", i, b.Path, err)
		}
		ed.Behaviors = append(ed.Behaviors, eb)
	}
	return ed, nil
}

// openOrigin opens d's origin, instrumented and health-checked, and
// returns with it the origin itself as the presigner of redirect mode when
// it can presign (S3). The health check wraps the timed origin: calls it
// does not make while the origin is down are not timed, its probes are.
func (s *Server) openOrigin(ctx context.Context, d config.Distribution) (origin.Origin, origin.Presigner, error) {
	o, closer, err := newOrigin(ctx, d.Origin, time.Duration(s.cfg.Timeouts.Origin))
	if err != nil {
		return nil, nil, err
	}
	presigner, _ := o.(origin.Presigner)
	if closer != nil {
		s.closers = append(s.closers, closer)
	}
	h, err := health.New(instrument(o, d.Name, s.metrics), health.Config{}, s.log.With("distribution", d.Name))
	if err != nil {
		return nil, nil, err
	}
	s.closers = append(s.closers, h.Close)
	if err := s.metrics.watchOrigin(d.Name, h.Up); err != nil {
		return nil, nil, fmt.Errorf("metrics: %w", err)
	}
	return h, presigner, nil
}

// addSigningAPI builds the signing API and returns the public listeners'
// handler and the API's own listener: the API is mounted on the edge's
// handler under its path prefix, or gets a listener of its own (nil
// otherwise).
func (s *Server) addSigningAPI(ctx context.Context, public http.Handler, groups map[string]map[string]crypto.PublicKey, now func() time.Time) (http.Handler, *listener, error) {
	api, err := s.newSigningAPI(ctx, s.cfg, groups, now)
	if err != nil {
		return nil, nil, err
	}
	if a := s.cfg.SigningAPI; a.Address != "" {
		return public, &listener{srv: s.httpServer(api.Handler()), addr: a.Address}, nil
	}
	return withAPI(public, api.Handler(), s.cfg.SigningAPI.PathPrefix), nil, nil
}

// addListeners builds the public listeners: the edge's handler, or the
// edge itself on a fasthttp listener. ACME managers come first, so that a
// plain-HTTP redirect listener answers their http-01 challenges whatever
// the listener order.
func (s *Server) addListeners(e *edge.Edge, handler http.Handler, accessLog *slog.Logger) error {
	managers := make([]*autocert.Manager, len(s.cfg.Listeners))
	for i, l := range s.cfg.Listeners {
		if l.ACME == nil {
			continue
		}
		m, err := newACMEManager(l.ACME, s.cfg.DataDir)
		if err != nil {
			return fmt.Errorf("listeners[%d].acme: %w", i, err)
		}
		managers[i] = m
		if s.acme == nil {
			s.acme = m
		}
	}
	for i, l := range s.cfg.Listeners {
		var ln *listener
		var err error
		if l.Adapter == "fasthttp" {
			ln, err = s.fastListener(l, e, accessLog)
		} else {
			ln, err = s.newListener(l, handler, managers[i])
		}
		if err != nil {
			return fmt.Errorf("listeners[%d]: %w", i, err)
		}
		s.listeners = append(s.listeners, ln)
	}
	return nil
}

// addEdgeCache puts an edge cache in front of ed's origin, which is already
// instrumented, so the origin metrics count what reaches the origin, and
// health-checked, so stale copies are served at once while it is down. The
// cache is closed before the origin at shutdown (closers run in reverse).
func (s *Server) addEdgeCache(ed *edge.Distribution, cc *config.Cache, now func() time.Time) (*cache.Cache, error) {
	ccfg := cache.Config{
		Name:           ed.Name,
		MemoryBytes:    int64(cc.Memory),
		DiskDir:        cc.DiskDir,
		DiskBytes:      int64(cc.Disk),
		MaxStale:       time.Duration(cc.MaxStale),
		ChunkSize:      int64(cc.ChunkSize),
		Now:            now,
		MaxObjectBytes: int64(cc.MaxObjectSize),
	}
	c, err := cache.New(ed.Origin, ccfg, s.log.With("distribution", ed.Name))
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, c.Close)
	s.metrics.edgeCaches.add(ed.Name, c, ccfg)
	ed.Origin, ed.EdgeCached = c, true
	return c, nil
}

// reads is what a distribution's behaviors read through besides its origin:
// its edge cache, if it has one, whose view with a behavior's TTLs the
// behavior reads through, and the presigner of redirect mode, the origin
// itself when it can presign (S3). Redirect mode presigns straight from
// the storage; the cache then only answers the Stat before the redirect.
type reads struct {
	edgeCache *cache.Cache
	presigner origin.Presigner
}

// loadKeyGroups reads every public key of every group, by group name and
// key id.
func loadKeyGroups(groups map[string][]config.PublicKey) (map[string]map[string]crypto.PublicKey, error) {
	out := make(map[string]map[string]crypto.PublicKey, len(groups))
	var errs []error
	for name, keys := range groups {
		out[name] = make(map[string]crypto.PublicKey, len(keys))
		for _, k := range keys {
			data := []byte(k.PEM)
			if k.File != "" {
				var err error
				if data, err = os.ReadFile(k.File); err != nil {
					errs = append(errs, fmt.Errorf("key_groups.%s: key %s: %w", name, k.ID, err))
					continue
				}
			}
			pub, err := cfsign.ParsePublicKey(data)
			if err != nil {
				errs = append(errs, fmt.Errorf("key_groups.%s: key %s: %w", name, k.ID, err))
				continue
			}
			out[name][k.ID] = pub
		}
	}
	return out, errors.Join(errs...)
}

// newOrigin is the one switch on the origin type. The closer, if any,
// releases the origin at shutdown.
func newOrigin(ctx context.Context, c config.Origin, timeout time.Duration) (origin.Origin, func() error, error) {
	switch c.Type {
	case "dir":
		o, err := dirorigin.New(c.Dir.Path)
		if err != nil {
			return nil, nil, err
		}
		return o, o.Close, nil
	case "s3":
		o, err := s3origin.New(ctx, s3origin.Config{
			Bucket: c.S3.Bucket, Region: c.S3.Region, Endpoint: c.S3.Endpoint, PathStyle: c.S3.PathStyle,
			Prefix: c.S3.Prefix, AccessKeyID: c.S3.AccessKeyID, SecretAccessKey: c.S3.SecretAccessKey,
			SessionToken: c.S3.SessionToken, Timeout: timeout,
		})
		if err != nil {
			return nil, nil, err // not a typed nil inside the interface
		}
		return o, nil, nil
	case "http":
		o, err := httporigin.New(httporigin.Config{
			URL: c.HTTP.URL, SecretHeader: c.HTTP.SecretHeader, Secret: c.HTTP.Secret, Timeout: timeout,
		})
		if err != nil {
			return nil, nil, err
		}
		return o, nil, nil
	}
	return nil, nil, fmt.Errorf("unknown origin type %q", c.Type)
}

// newBehavior builds an edge behavior: it reads through the view of the
// distribution's edge cache with its TTLs, if there is a cache, and a
// restricted one gets a verifier trusting the union of its key groups'
// keys.
func newBehavior(b config.Behavior, groups map[string]map[string]crypto.PublicKey, cfg *config.Config, now func() time.Time, r reads) (edge.Behavior, error) {
	eb := edge.Behavior{
		PathPattern:    b.Path,
		AllowedMethods: b.AllowedMethods,
		ViewerProtocol: b.ViewerProtocol,
		OriginPath:     b.OriginPath,
		Mode:           b.Mode,
		RedirectTTL:    time.Duration(b.RedirectTTL),
		Presigner:      r.presigner,
	}
	ttl := cache.TTL{Default: time.Duration(b.Cache.Default), Min: time.Duration(b.Cache.Min), Max: time.Duration(b.Cache.Max)}
	if err := ttl.Check(); err != nil {
		return eb, fmt.Errorf("TTLs: %w", err)
	}
	if r.edgeCache != nil {
		eb.Origin = r.edgeCache.WithTTL(ttl)
	}
	if b.Public {
		return eb, nil
	}
	v, err := cfsign.NewVerifier(trustedKeys(groups, b.KeyGroups), cfsign.Options{
		Skew: time.Duration(cfg.ClockSkew), Now: now, AllowNoResource: b.AllowNoResource,
		MaxLifetime: time.Duration(b.MaxLinkLifetime), RequireIP: b.RequireIP,
		CacheSize: cfg.Limits.VerifiedLinks,
	})
	if err != nil {
		return eb, err
	}
	eb.Verifier = v
	return eb, nil
}

// trustedKeys is the union of the keys of the named key groups, by key id:
// what a behavior trusts (its key groups), or what a distribution's signer
// must sign with (the groups of all its behaviors).
func trustedKeys(groups map[string]map[string]crypto.PublicKey, names []string) map[string]crypto.PublicKey {
	keys := map[string]crypto.PublicKey{}
	for _, g := range names {
		maps.Copy(keys, groups[g])
	}
	return keys
}

// httpServer returns an http.Server with the configured timeouts and header
// limit: every server signet runs has them set explicitly. Its handler
// closes the connection after an ambiguously framed request
// (nethttp.Framing), whichever handler it is: the edge, the signing API,
// the https redirect or the admin endpoints.
func (s *Server) httpServer(h http.Handler) *http.Server {
	t := s.cfg.Timeouts
	return &http.Server{
		Handler:           nethttp.Framing(h),
		ReadHeaderTimeout: time.Duration(t.ReadHeader),
		ReadTimeout:       time.Duration(t.Read),
		WriteTimeout:      time.Duration(t.Write),
		IdleTimeout:       time.Duration(t.Idle),
		MaxHeaderBytes:    s.cfg.Limits.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

func (s *Server) newListener(l config.Listener, h http.Handler, m *autocert.Manager) (*listener, error) {
	if l.RedirectToHTTPS {
		h = http.HandlerFunc(redirectToHTTPS)
		if s.acme != nil {
			h = s.acme.HTTPHandler(h) // ACME http-01 challenges, then the redirect
		}
	}
	var tlsConfig *tls.Config
	switch {
	case l.TLS != nil:
		cert, err := tls.LoadX509KeyPair(l.TLS.CertFile, l.TLS.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	case m != nil:
		tlsConfig = m.TLSConfig() // also answers tls-alpn-01 challenges
		tlsConfig.MinVersion = tls.VersionTLS12
	}
	srv := s.httpServer(h)
	if tlsConfig == nil {
		return &listener{srv: srv, addr: l.Address}, nil
	}
	srv.TLSConfig = tlsConfig
	return &listener{srv: tlsServer{srv}, addr: l.Address, tls: true}, nil
}

// fastListener serves the edge alone with the fasthttp adapter, on a plain
// HTTP listener (Validate refuses it elsewhere), with the limits httpServer
// gives net/http. fasthttp has one read timeout, for the request line,
// headers and any body; the edge reads no body, so it is read_header, or
// read if that is shorter.
func (s *Server) fastListener(l config.Listener, e *edge.Edge, accessLog *slog.Logger) (*listener, error) {
	t := s.cfg.Timeouts
	read := time.Duration(t.ReadHeader)
	if r := time.Duration(t.Read); r > 0 && r < read {
		read = r
	}
	srv, err := fasthttp.New(e, fasthttp.Options{
		TrustedProxies: s.cfg.TrustedProxies,
		Logger:         accessLog,
		Observer:       s.metrics,
		ErrorLog:       s.log,
		ReadTimeout:    read,
		WriteTimeout:   time.Duration(t.Write),
		IdleTimeout:    time.Duration(t.Idle),
		MaxHeaderBytes: s.cfg.Limits.MaxHeaderBytes,
	})
	if err != nil {
		return nil, err
	}
	return &listener{srv: srv, addr: l.Address}, nil
}

// newACMEManager returns the certificate manager of an ACME listener: only
// its named hosts, the account and certificates cached in its cache_dir
// (default <data_dir>/acme), the CA's directory trusted through
// ca_roots_file when one is set.
func newACMEManager(c *config.ACME, dataDir string) (*autocert.Manager, error) {
	cache := c.CacheDir
	if cache == "" {
		cache = filepath.Join(dataDir, "acme")
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		HostPolicy: hostPolicy(c.Hosts),
		Cache:      autocert.DirCache(cache),
		Email:      c.Email,
	}
	if c.DirectoryURL != "" || c.CARootsFile != "" {
		m.Client = &acme.Client{DirectoryURL: c.DirectoryURL}
	}
	if c.CARootsFile != "" {
		roots, err := config.LoadCARoots(c.CARootsFile)
		if err != nil {
			return nil, fmt.Errorf("ca_roots_file: %w", err)
		}
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		m.Client.HTTPClient = &http.Client{Transport: t}
	}
	return m, nil
}

// hostPolicy allows certificates for hosts only. It ignores a port on the
// name: an http-01 validation request carries one in its Host header when
// the CA validates on a port other than 80, as a test CA such as Pebble
// can, and autocert's own HostWhitelist would then refuse the challenge
// with a 403.
func hostPolicy(hosts []string) autocert.HostPolicy {
	allowed := autocert.HostWhitelist(hosts...)
	return func(ctx context.Context, host string) error {
		return allowed(ctx, edge.StripPort(host))
	}
}

// redirectToHTTPS answers every request with a permanent redirect to the
// same host and target over https. The port is dropped, as the edge core's
// redirect-to-https does: this listener's port is never the HTTPS one.
func redirectToHTTPS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "close")
	http.Redirect(w, r, "https://"+edge.StripPort(r.Host)+r.RequestURI, http.StatusMovedPermanently)
}

// adminHandler serves /metrics, /keys (use of each trusted key id, for
// rotation), /healthz (the process is alive) and /readyz (listening, and not
// shutting down).
func (s *Server) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /keys", s.metrics.keys.handler)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !s.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	if s.cfg.Admin.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	return mux
}

// Addrs returns the addresses the listeners are bound to, once Run has
// started listening: the public ones in config order, then the signing
// API's own listener, if it has one.
func (s *Server) Addrs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bound...)
}

// Run listens on every configured address, serves until ctx ends, then
// shuts down gracefully: /readyz turns 503, listeners stop accepting, and
// in-flight requests (downloads included) may finish until the shutdown
// timeout, after which remaining connections are closed. It returns the
// first serving error, or nil after a clean shutdown.
func (s *Server) Run(ctx context.Context) error {
	defer s.close()
	all, err := s.listen()
	if err != nil {
		return err
	}
	s.log.Info("starting", "version", version.Get().Version)
	errc := make(chan error, len(all))
	var wg sync.WaitGroup
	for _, b := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.log.Info("listening", "address", b.ln.Addr().String(), "tls", b.tls)
			if err := b.srv.Serve(b.ln); !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	s.ready.Store(true)
	if s.onReady != nil {
		s.onReady(s.Addrs())
	}

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	s.shutdown(ctx, all)
	wg.Wait()
	s.log.Info("stopped")
	return runErr
}

// bound is a server and the listener it serves.
type bound struct {
	srv listenServer
	ln  net.Listener
	tls bool
}

// listen binds every listener, the admin one last, and records the public
// addresses for Addrs. On failure it closes what it bound.
func (s *Server) listen() ([]bound, error) {
	var all []bound
	add := func(srv listenServer, addr string, tls bool) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, b := range all {
				b.ln.Close()
			}
			return err
		}
		all = append(all, bound{srv, ln, tls})
		return nil
	}
	for _, l := range s.listeners {
		if err := add(l.srv, l.addr, l.tls); err != nil {
			return nil, fmt.Errorf("listen %s: %w", l.addr, err)
		}
		s.mu.Lock()
		s.bound = append(s.bound, all[len(all)-1].ln.Addr().String())
		s.mu.Unlock()
	}
	if s.admin != nil {
		if err := add(s.admin, s.adminAddr, false); err != nil {
			return nil, fmt.Errorf("listen admin %s: %w", s.adminAddr, err)
		}
	}
	return all, nil
}

// shutdown turns /readyz to 503, lets the public servers finish their
// requests until the shutdown timeout, closes what is left, and closes the
// admin server last.
func (s *Server) shutdown(ctx context.Context, all []bound) {
	s.ready.Store(false)
	s.log.Info("shutting down", "timeout", time.Duration(s.cfg.Timeouts.Shutdown).String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Duration(s.cfg.Timeouts.Shutdown))
	defer cancel()
	var wg sync.WaitGroup
	for _, b := range all {
		if b.srv == s.admin {
			continue // keep /readyz answering 503 until the rest is done
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.srv.Shutdown(sctx); err != nil {
				s.log.Warn("shutdown deadline passed; closing connections", "error", err)
				b.srv.Close()
			}
		}()
	}
	wg.Wait()
	if s.admin != nil {
		s.admin.Close()
	}
}

// close runs the closers in reverse order: what was built last, such as a
// cache over an origin, is closed first.
func (s *Server) close() {
	for _, c := range slices.Backward(s.closers) {
		c()
	}
	s.closers = nil
}

func isNotFound(err error) bool { return errors.Is(err, fs.ErrNotExist) }
