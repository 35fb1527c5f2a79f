package e2e_test

import (
	"bytes"
	"flag"
	"fmt"
	"slices"
	"strings"
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

// TestOriginOutage takes an S3 origin (MinIO) and an HTTP origin down,
// refused and blackholed. The first request that finds it down, for a
// never-cached object, gets 502 (refused) or 504 (blackholed), and marks
// the origin down (signet_origin_up 0, one log line). While it is down, an
// expired object whose body is cached is served stale and never-cached ones
// get the same status, and no request reaches the origin but the probe's,
// for the object that failed. When the origin is back, the probe marks it
// up and both are served from it again. The test logs what viewers waited
// for during the outage; -outage.gets sets how many requests it makes.
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
		p      *testenv.OutageProxy
		origin string
		path   func(key string) string // the path of a request for key at the origin
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
		p = testenv.NewOutageProxy(t, m.Endpoint)
		origin = fmt.Sprintf(`{type: s3, s3: {bucket: %s, region: %s, endpoint: "http://%s", path_style: true,
        access_key_id: "${S3_KEY}", secret_access_key: "${S3_SECRET}"}}`, bucket, m.Region, p.Addr)
		path = func(key string) string { return "/" + bucket + "/" + key }
		env = []string{"S3_KEY=" + m.AccessKey, "S3_SECRET=" + m.SecretKey}
	case "http":
		o := newCountingOrigin(t)
		for key, body := range objects {
			o.put("/"+key, body)
		}
		p = testenv.NewOutageProxy(t, o.URL)
		origin = fmt.Sprintf(`{type: http, http: {url: "http://%s"}}`, p.Addr)
		path = func(key string) string { return "/" + key }
	}
	// The timeouts key follows the distributions at the top level. A
	// blackhole answers after timeouts.origin; 1s keeps the test short. A
	// refusal is measured with the default.
	e := newCacheEdge(t, "nethttp", fmt.Sprintf(`
  - name: outage
    origin: %s
    cache: {max_stale: 1h}
    behaviors:
      - path: "*"
        key_groups: [%%[1]s]
        cache: {default_ttl: %s, max_ttl: %s}
timeouts: {origin: %s}
`, origin, ttl, ttl, map[string]string{"refused": "30s", "blackholed": "1s"}[mode]), env...)
	link := func(key string) string { return e.link(t, "http://outage.test/"+key) }
	dist := `distribution="outage"`
	a := link("a.bin")
	e.steps(t, cacheStep{"first GET", a, "", 200, objects["a.bin"], "Miss"})
	e.waitFills(t, "outage") // the whole body is cached
	if up := e.metric(t, "signet_origin_up", dist); up != 1 {
		t.Errorf("signet_origin_up with the origin up = %v; want 1", up)
	}
	// Waiting for the cached Info to expire: it was fetched before now, so
	// after now+ttl it is stale.
	time.Sleep(ttl + 100*time.Millisecond)

	state := map[string]testenv.OriginState{"refused": testenv.OriginRefused, "blackholed": testenv.OriginBlackholed}[mode]
	want := map[string]int{"refused": 502, "blackholed": 504}[mode]
	p.Set(t, state)
	start := time.Now()
	resp, _ := e.get(t, link("never-0.bin"))
	first := time.Since(start)
	if resp.StatusCode != want {
		t.Errorf("never cached, origin %s: status %d; want %d", mode, resp.StatusCode, want)
	}
	wantXCache(t, "never cached, origin "+mode, resp, "Error")
	if up := e.metric(t, "signet_origin_up", dist); up != 0 {
		t.Errorf("signet_origin_up after a request found the origin %s = %v; want 0", mode, up)
	}
	// The cause survives into the metric: a refusal is an error, not a
	// cancellation.
	outcome := map[string]string{"refused": "error", "blackholed": "timeout"}[mode]
	if c := e.metric(t, "signet_origin_duration_seconds_count", dist, `outcome="`+outcome+`"`); c == 0 {
		t.Errorf("no origin call counted with outcome=%q", outcome)
	}
	if c := e.metric(t, "signet_origin_duration_seconds_count", dist, `outcome="canceled"`); c != 0 {
		t.Errorf("%v origin calls counted with outcome=\"canceled\"; want 0", c)
	}

	p.Reset()
	gets := e.metric(t, "signet_origin_duration_seconds_count", dist, `op="get"`)
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
	// No request reached the origin but the probe's, for never-0.bin: a
	// blackhole counts them; a refusing origin cannot, but an S3 cold
	// miss is a "get", which the probe (a "stat") is not.
	for i := 1; i <= n; i++ {
		if c := p.Requests(path(fmt.Sprintf("never-%d.bin", i))); c != 0 {
			t.Errorf("while the origin was down %d requests for never-%d.bin reached it; want 0", c, i)
		}
	}
	if c := p.Requests(path("a.bin")); c != 0 {
		t.Errorf("while the origin was down %d requests for a.bin reached it; want 0", c)
	}
	if g := e.metric(t, "signet_origin_duration_seconds_count", dist, `op="get"`); g != gets {
		t.Errorf("while the origin was down %v origin gets were made; want 0", g-gets)
	}

	p.Set(t, testenv.OriginUp)
	e.waitOriginUp(t, "outage")
	e.steps(t,
		cacheStep{"origin back", a, "", 200, objects["a.bin"], "RefreshHit"},
		cacheStep{"origin back, never fetched", link("never-1.bin"), "", 200, objects["never-1.bin"], "Miss"},
	)
	// One log line when the origin went down and one when it came back,
	// not one per request.
	log := e.stderr.WaitFor(t, `"msg":"origin up"`)
	for msg, want := range map[string]int{"origin down": 1, "origin up": 1, "origin failed, serving stale": 0} {
		if got := strings.Count(log, `"msg":"`+msg+`"`); got != want {
			t.Errorf("%d %q lines in the log; want %d\nstderr:\n%s", got, msg, want, log)
		}
	}
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
