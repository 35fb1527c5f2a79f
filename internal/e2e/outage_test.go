package e2e_test

import (
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/signet-dev/signet/internal/testenv"
)

// The tests of this file take a real origin down under a real `signet
// serve`, the two ways an origin goes away: refused (nothing listens) and
// blackholed (connections are accepted, requests never answered).

var outageGets = flag.Int("outage.gets", 20,
	"stale hits and failures TestOriginOutage measures in each case (its log shows their latency)")

// outageProxy stands between signet and a real origin (MinIO, or an HTTP
// server) and takes it down as an outage would: refused closes its
// listener and every connection, so that connections are refused;
// blackholed accepts connections and reads requests but never answers. It
// counts the requests that reach it, by path. Its methods are safe for
// concurrent use.
type outageProxy struct {
	addr  string
	proxy *httputil.ReverseProxy

	mu        sync.Mutex
	srv       *http.Server // nil while refusing
	blackhole bool
	seen      map[string]int
}

// newOutageProxy starts a proxy to target (http://host:port), up.
func newOutageProxy(t *testing.T, target string) *outageProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &outageProxy{addr: testenv.FreeAddr(t), seen: map[string]int{}}
	p.proxy = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host // S3 signs the Host header
	}}
	p.set(t, "up")
	t.Cleanup(func() { p.set(t, "refused") })
	return p
}

func (p *outageProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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

// set puts the proxy in mode "up", "refused" or "blackholed".
func (p *outageProxy) set(t *testing.T, mode string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blackhole = mode == "blackholed"
	switch {
	case mode == "refused" && p.srv != nil:
		p.srv.Close()
		p.srv = nil
	case mode != "refused" && p.srv == nil:
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			t.Fatalf("outage proxy: listen again on %s: %v", p.addr, err)
		}
		p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
		go p.srv.Serve(ln)
	}
}

// requests returns how many requests reached the proxy for path since the
// last reset.
func (p *outageProxy) requests(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.seen[path]
}

func (p *outageProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = map[string]int{}
}

// TestOriginOutage takes an S3 origin (MinIO) and an HTTP origin down,
// refused and blackholed: an expired object whose body is cached is served
// stale, a never-cached one gets 502 (refused) or 504 (blackholed); when
// the origin is back, both are served from it again. It logs what viewers
// waited for during the outage (-outage.gets sets how many requests).
func TestOriginOutage(t *testing.T) {
	for _, kind := range []string{"s3", "http"} {
		for _, mode := range []string{"refused", "blackholed"} {
			t.Run(kind+"/"+mode, func(t *testing.T) { testOriginOutage(t, kind, mode) })
		}
	}
}

func testOriginOutage(t *testing.T, kind, mode string) {
	const ttl = time.Second
	n := *outageGets
	objects := map[string][]byte{"a.bin": randomBytes(100<<10, 7)}
	for i := range n + 1 {
		objects[fmt.Sprintf("never-%d.bin", i)] = randomBytes(1000, byte(i))
	}
	var (
		p      *outageProxy
		origin string
		env    []string
	)
	switch kind {
	case "s3":
		m := testenv.MinIO(t)
		bucket := m.NewBucket(t)
		for key, body := range objects {
			_, err := m.Client().PutObject(t.Context(), &awss3.PutObjectInput{
				Bucket: &bucket, Key: aws.String(key), Body: bytes.NewReader(body),
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		p = newOutageProxy(t, m.Endpoint)
		origin = fmt.Sprintf(`{type: s3, s3: {bucket: %s, region: %s, endpoint: "http://%s", path_style: true,
        access_key_id: "${S3_KEY}", secret_access_key: "${S3_SECRET}"}}`, bucket, m.Region, p.addr)
		env = []string{"S3_KEY=" + m.AccessKey, "S3_SECRET=" + m.SecretKey}
	case "http":
		o := newCountingOrigin(t)
		for key, body := range objects {
			o.put("/"+key, body)
		}
		p = newOutageProxy(t, o.URL)
		origin = fmt.Sprintf(`{type: http, http: {url: "http://%s"}}`, p.addr)
	}
	// The timeouts key follows the distributions at the top level.
	e := newCacheEdge(t, "nethttp", fmt.Sprintf(`
  - name: outage
    origin: %s
    cache: {max_stale: 1h}
    behaviors:
      - path: "*"
        key_groups: [%%[1]s]
        cache: {default_ttl: %s, max_ttl: %s}
timeouts: {origin: 1s}
`, origin, ttl, ttl), env...)
	link := func(key string) string { return e.link(t, "http://outage.test/"+key) }
	a := link("a.bin")
	e.steps(t, cacheStep{"first GET", a, "", 200, objects["a.bin"], "Miss"})
	// Waiting for the cached Info to expire: it was fetched before now, so
	// after now+ttl it is stale.
	time.Sleep(ttl + 100*time.Millisecond)

	p.set(t, mode)
	want := map[string]int{"refused": 502, "blackholed": 504}[mode]
	start := time.Now()
	resp, _ := e.get(t, link("never-0.bin"))
	first := time.Since(start)
	if resp.StatusCode != want {
		t.Errorf("never cached, origin %s: status %d; want %d", mode, resp.StatusCode, want)
	}
	wantXCache(t, "never cached, origin "+mode, resp, "Error")

	var stale, failed []time.Duration
	for i := 1; i <= n; i++ {
		start := time.Now()
		resp, body := e.get(t, a)
		stale = append(stale, time.Since(start))
		wantBytes(t, "expired, origin "+mode, resp, body, 200, objects["a.bin"])
		wantXCache(t, "expired, origin "+mode, resp, "RefreshHit")

		start = time.Now()
		resp, _ = e.get(t, link(fmt.Sprintf("never-%d.bin", i)))
		failed = append(failed, time.Since(start))
		if resp.StatusCode != want {
			t.Errorf("never cached, origin %s: status %d; want %d", mode, resp.StatusCode, want)
		}
	}
	t.Logf("origin %s: first failure %d after %v; %d stale hits: %s; %d more failures: %s",
		mode, want, first.Round(time.Millisecond), n, spread(stale), n, spread(failed))

	p.set(t, "up")
	e.steps(t,
		cacheStep{"origin back", a, "", 200, objects["a.bin"], "RefreshHit"},
		cacheStep{"origin back, never fetched", link("never-0.bin"), "", 200, objects["never-0.bin"], "Miss"},
	)
}

// spread describes durations: p50, p99 and the largest.
func spread(d []time.Duration) string {
	if len(d) == 0 {
		return "none"
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[max(i, 0)].Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("p50 %v, p99 %v, max %v", at(0.5), at(0.99), s[len(s)-1].Round(100*time.Microsecond))
}
