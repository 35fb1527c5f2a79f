package testenv

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"
)

// An OriginState is how an OutageProxy treats connections.
type OriginState int

const (
	// OriginUp passes requests on to the origin.
	OriginUp OriginState = iota
	// OriginRefused listens on nothing and has closed every connection, so
	// that connections are refused.
	OriginRefused
	// OriginBlackholed accepts connections and reads requests but never
	// answers, until the client gives up.
	OriginBlackholed
)

// An OutageProxy stands between a client and a real origin (MinIO, an HTTP
// server) on 127.0.0.1 and takes the origin down as an outage would,
// refused or blackholed. It counts the requests that reach it, by path,
// whatever its state. It keeps the Host header, which S3 signs. Its methods
// are safe for concurrent use.
type OutageProxy struct {
	Addr string // "127.0.0.1:PORT"

	proxy *httputil.ReverseProxy

	mu        sync.Mutex
	srv       *http.Server  // nil while refusing
	served    chan struct{} // closed when srv.Serve has returned
	blackhole bool
	seen      map[string]int
}

// NewOutageProxy starts a proxy to target ("http://host:port"), up, and
// closes it when the test ends.
func NewOutageProxy(t testing.TB, target string) *OutageProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &OutageProxy{Addr: FreeAddr(t), seen: map[string]int{}}
	p.proxy = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host
	}}
	p.Set(t, OriginUp)
	t.Cleanup(func() { p.Set(t, OriginRefused) })
	return p
}

func (p *OutageProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.seen[r.URL.Path]++
	hole := p.blackhole
	p.mu.Unlock()
	if hole {
		<-r.Context().Done() // the client gave up, or the proxy closed
		return
	}
	p.proxy.ServeHTTP(w, r)
}

// Set puts the proxy in state s. Going from OriginRefused to another state
// listens on Addr again.
func (p *OutageProxy) Set(t testing.TB, s OriginState) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blackhole = s == OriginBlackholed
	switch {
	case s == OriginRefused && p.srv != nil:
		p.srv.Close()
		<-p.served
		p.srv = nil
	case s != OriginRefused && p.srv == nil:
		ln, err := net.Listen("tcp", p.Addr)
		if err != nil {
			t.Fatalf("outage proxy: listen on %s: %v", p.Addr, err)
		}
		srv, served := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}, make(chan struct{})
		go func() {
			defer close(served)
			srv.Serve(ln)
		}()
		p.srv, p.served = srv, served
	}
}

// Requests returns how many requests for path reached the proxy since the
// last Reset.
func (p *OutageProxy) Requests(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[path]
}

// Reset zeroes the counts.
func (p *OutageProxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = map[string]int{}
}
