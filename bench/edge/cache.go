package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	ttfbSize   = 1 << 20 // objects of the time-to-first-byte case
	burstSize  = 16 << 20
	streamSize = 2 << 30
	// The stream case's cache bounds: both below the object's size, so the
	// cache must evict while it fills. streamMemLimit is signet's
	// GOMEMLIMIT: the memory tier plus room for the fills, the disk
	// writers' queue and the runtime, so that the garbage collector,
	// rather than the heap's doubling, decides the process's size.
	streamMemory   = 16 << 20
	streamDisk     = 1 << 30
	streamMemLimit = "40MiB"
	minioBucket    = "edgebench"
	minioUser      = "edgebench"
	minioPass      = "edgebench-secret"
	minioHost      = "minio.bench"
	originHost     = "origin.bench"
)

// cacheCases runs the cases that need signet's edge cache, for each
// adapter: a miss from MinIO against a direct GET, coalescing counted at an
// HTTP origin, and memory and cache size while streaming 2 GiB.
func (b *bench) cacheCases(ctx context.Context) error {
	if b.keys == nil {
		keyDir := filepath.Join(b.work, "keys")
		if err := os.MkdirAll(keyDir, 0o755); err != nil {
			return err
		}
		k, err := newKey(keyDir, "ecdsa")
		if err != nil {
			return err
		}
		b.keys = []*benchKey{k}
	}
	key := b.keys[0]
	originDir := b.path("origin")
	for _, d := range []string{"c", "big"} {
		if err := os.MkdirAll(filepath.Join(originDir, d), 0o755); err != nil {
			return err
		}
	}
	b.logf("writing the origin's files (16 MiB per adapter, 2 GiB)")
	sums := map[string]string{}
	for i, a := range []string{"nethttp", "fasthttp"} {
		f := filepath.Join(originDir, "c", "burst-"+a+".bin")
		if err := writeRandom(f, burstSize, byte(10+i)); err != nil {
			return err
		}
		sum, err := fileSHA256(f)
		if err != nil {
			return err
		}
		sums[a] = sum
	}
	if err := writeRandom(filepath.Join(originDir, "big", "2g.bin"), streamSize, 20); err != nil {
		return err
	}
	origin, err := b.startOrigin(ctx, originDir)
	if err != nil {
		return err
	}
	var m *minio
	if b.o.minio != "" {
		if m, err = b.startMinIO(ctx); err != nil {
			return err
		}
	} else {
		b.notes = append(b.notes, "time to first byte from MinIO: skipped (no -minio binary)")
	}

	var out []string
	for _, a := range []string{"nethttp", "fasthttp"} {
		s, err := b.startCacheSignet(ctx, a, origin.addr, m)
		if err != nil {
			return err
		}
		if m != nil {
			line, err := b.ttfbCase(ctx, a, s, key, m)
			if err != nil {
				return err
			}
			out = append(out, line)
		}
		if err := b.waitQuiet(ctx); err != nil {
			return err
		}
		line, err := b.burstCase(ctx, a, s, key, origin, sums[a])
		if err != nil {
			return err
		}
		out = append(out, line)
		s.p.stop()

		if err := b.waitQuiet(ctx); err != nil {
			return err
		}
		line, err = b.streamCase(ctx, a, key, origin.addr)
		if err != nil {
			return err
		}
		out = append(out, line)
	}
	fmt.Fprintf(b.out, "\nedge cache (origins on CPU %s: MinIO, and nginx with an access log as the HTTP origin)\n\n", b.o.clientCPUs)
	for _, l := range out {
		fmt.Fprintln(b.out, l)
	}
	for _, n := range b.notes {
		fmt.Fprintln(b.out, n)
	}
	return nil
}

// httpOrigin is the nginx that plays an HTTP origin and logs every request.
type httpOrigin struct {
	addr string
	log  string
}

// startOrigin starts nginx serving dir with an access log of method, path,
// status, bytes and Range, on the client CPUs.
func (b *bench) startOrigin(ctx context.Context, dir string) (*httpOrigin, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	ndir := b.path("origin-nginx")
	access := filepath.Join(ndir, "access.log")
	http := fmt.Sprintf(`    log_format origin '$request_method $uri $status $body_bytes_sent "$http_range"';
    access_log %s origin;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    server {
        listen %s;
        root %s;
    }
`, access, addr, dir)
	conf := nginxConf("nginx as the HTTP origin of the cache cases", ndir, 1, http)
	if _, err := b.nginxProc(ctx, "origin-nginx", ndir, conf, b.o.clientCPUs, addr); err != nil {
		return nil, err
	}
	return &httpOrigin{addr: addr, log: access}, nil
}

// minio is the MinIO server of the time-to-first-byte case.
type minio struct {
	endpoint string
	client   *awss3.Client
}

// startMinIO starts MinIO on the client CPUs and creates the bucket.
func (b *bench) startMinIO(ctx context.Context) (*minio, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	console, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir := b.path("minio")
	for _, d := range []string{"data", "home", "certs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}
	// The environment testenv.MinIO uses.
	env := []string{
		"HOME=" + filepath.Join(dir, "home"),
		"MINIO_ROOT_USER=" + minioUser,
		"MINIO_ROOT_PASSWORD=" + minioPass,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CALLHOME_ENABLE=off",
	}
	p, err := startProc("minio", filepath.Join(dir, "minio.log"), b.o.clientCPUs, env, b.o.minio, "server",
		"--address", addr, "--console-address", console, "--certs-dir", filepath.Join(dir, "certs"), filepath.Join(dir, "data"))
	if err != nil {
		return nil, err
	}
	if err := p.waitHTTP(ctx, addr); err != nil {
		return nil, err
	}
	m := &minio{endpoint: "http://" + addr}
	m.client = awss3.New(awss3.Options{
		BaseEndpoint: aws.String(m.endpoint),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(minioUser, minioPass, ""),
	})
	// MinIO answers HTTP before it accepts every request: retry a little.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err = m.client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(minioBucket)})
		if err == nil {
			return m, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("create the MinIO bucket: %w", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// startCacheSignet starts signet with the adapter and two cached
// distributions: origin.bench over the HTTP origin and, with MinIO,
// minio.bench over the bucket.
func (b *bench) startCacheSignet(ctx context.Context, adapter, originAddr string, m *minio) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	var s3 string
	if m != nil {
		s3 = fmt.Sprintf(`  - name: minio
    hosts: [%s]
    origin:
      type: s3
      s3: {bucket: %s, region: us-east-1, endpoint: %s, path_style: true, access_key_id: %s, secret_access_key: "${EDGEBENCH_S3_SECRET}"}
    cache: {enabled: true, memory: 64MiB}
    behaviors: [{path: "*", key_groups: [bench]}]
`, minioHost, minioBucket, m.endpoint, minioUser)
	}
	conf := b.signetConf("signet-cache-"+adapter, "signet with the "+adapter+" adapter and cached distributions", adapter, addr, "", fmt.Sprintf(`  - name: origin
    hosts: [%s]
    origin: {type: http, http: {url: "http://%s"}}
    cache: {enabled: true, memory: 64MiB}
    behaviors: [{path: "*", key_groups: [bench]}]
%s`, originHost, originAddr, s3))
	p, err := b.signetProc(ctx, "signet-cache-"+adapter, conf, addr, "EDGEBENCH_S3_SECRET="+minioPass)
	if err != nil {
		return nil, err
	}
	return &server{name: "signet " + adapter, adapter: adapter, addr: addr, p: p}, nil
}

// ttfbCase puts 1 MiB objects into MinIO, then measures, alternating, the
// time to first byte of a GET of a new object through signet (a cache
// miss) and of a presigned GET of another new object straight from MinIO,
// both from one client on the client CPUs over kept-alive connections.
func (b *bench) ttfbCase(ctx context.Context, adapter string, s *server, key *benchKey, m *minio) (string, error) {
	body := make([]byte, ttfbSize)
	presign := awss3.NewPresignClient(m.client)
	sign := cloudFront(key.signer, minioHost)
	exp := time.Now().Add(time.Hour).Unix()
	var lines []string
	for i := -1; i < b.o.ttfbN; i++ { // i = -1: one untimed request per side, to open the connections
		label := "warm"
		for _, side := range []string{"direct", "signet"} {
			k := fmt.Sprintf("ttfb/%s-%s-%d.bin", adapter, side, i)
			copy(body, k)
			if _, err := m.client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(minioBucket), Key: aws.String(k), Body: bytes.NewReader(body)}); err != nil {
				return "", fmt.Errorf("put %s into MinIO: %w", k, err)
			}
			if i >= 0 {
				label = side
			}
			if side == "direct" {
				req, err := presign.PresignGetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(minioBucket), Key: aws.String(k)}, awss3.WithPresignExpires(time.Hour))
				if err != nil {
					return "", err
				}
				lines = append(lines, label+"\t"+req.URL+"\t")
			} else {
				t, err := sign("/"+k, exp)
				if err != nil {
					return "", err
				}
				lines = append(lines, label+"\thttp://"+s.addr+t+"\t"+minioHost)
			}
		}
	}
	in := b.path("ttfb-" + adapter + ".txt")
	if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return "", err
	}
	// After the PUTs, let MinIO settle.
	if err := b.waitQuiet(ctx); err != nil {
		return "", err
	}
	var res ttfbResult
	if err := b.pinnedSelf(ctx, &res, "ttfb", "-size", strconv.Itoa(ttfbSize), "-in", in); err != nil {
		return "", fmt.Errorf("time to first byte, %s: %w", adapter, err)
	}
	d, sg := median(res.TTFB["direct"]), median(res.TTFB["signet"])
	misses := res.XCache["Miss from signet"]
	if misses != b.o.ttfbN {
		b.fail("time to first byte, signet %s: %d of %d responses said X-Cache: Miss from signet (%v)", adapter, misses, b.o.ttfbN, res.XCache)
	}
	// Each signet request directly follows a direct one: the median of the
	// pairs' differences is less sensitive to MinIO's slower spells than
	// the difference of the medians.
	var diffs []time.Duration
	for i, dt := range res.TTFB["direct"] {
		if i < len(res.TTFB["signet"]) {
			diffs = append(diffs, res.TTFB["signet"][i]-dt)
		}
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	spread := func(ds []time.Duration) string {
		s := slices.Clone(ds)
		slices.Sort(s)
		return fmt.Sprintf("%.2f/%.2f/%.2f", ms(s[0]), ms(median(s)), ms(s[len(s)*9/10]))
	}
	return fmt.Sprintf("miss from MinIO, signet %-8s  median time to first byte %s through signet, %s direct (presigned GET): difference of medians %+.2fms, median of paired differences %+.2fms\n"+
		"                                   min/median/p90 ms: signet %s, direct %s (%d objects of 1 MiB each side, alternating)",
		adapter, fmtDur(sg), fmtDur(d), ms(sg-d), ms(median(diffs)), spread(res.TTFB["signet"]), spread(res.TTFB["direct"]), b.o.ttfbN), nil
}

// burstCase sends o.burstN concurrent requests for one object the cache
// has not seen, and counts the origin's GETs for it in its access log.
func (b *bench) burstCase(ctx context.Context, adapter string, s *server, key *benchKey, o *httpOrigin, sum string) (string, error) {
	path := "/c/burst-" + adapter + ".bin"
	t, err := cloudFront(key.signer, originHost)(path, time.Now().Add(time.Hour).Unix())
	if err != nil {
		return "", err
	}
	var res burstResult
	if err := b.pinnedSelf(ctx, &res, "burst", "-n", strconv.Itoa(b.o.burstN), "-host", originHost,
		"-size", strconv.Itoa(burstSize), "-sha256", sum, "-url", "http://"+s.addr+t); err != nil {
		return "", fmt.Errorf("coalescing, %s: %w", adapter, err)
	}
	if res.Good != b.o.burstN {
		b.fail("coalescing, signet %s: %d of %d responses were a whole 200 with the object's bytes (statuses %v)", adapter, res.Good, b.o.burstN, res.Status)
	}
	methods, err := countOrigin(o.log, path)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("coalescing,       signet %-8s  %d concurrent cold requests for one 16 MiB object: %d GET(s) and %d HEAD(s) at the origin; %d whole 200s, X-Cache %v",
		adapter, b.o.burstN, methods["GET"], methods["HEAD"], res.Good, res.XCache), nil
}

// countOrigin counts the origin's requests for path, by method.
func countOrigin(log, path string) (map[string]int, error) {
	f, err := os.Open(log)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) >= 2 && fs[1] == path {
			n[fs[0]]++
		}
	}
	return n, sc.Err()
}

// streamCase starts a signet whose cache is bounded below the object's
// size, streams the 2 GiB object through it once with curl, and samples
// its RSS, the disk tier's bytes and the cache gauges of /metrics.
func (b *bench) streamCase(ctx context.Context, adapter string, key *benchKey, originAddr string) (string, error) {
	addr, err := freeAddr()
	if err != nil {
		return "", err
	}
	admin, err := freeAddr()
	if err != nil {
		return "", err
	}
	diskDir := b.path("stream-cache-" + adapter)
	conf := b.signetConf("signet-stream-"+adapter, "signet with the "+adapter+" adapter streaming 2 GiB through a bounded cache", adapter, addr, admin, fmt.Sprintf(`  - name: stream
    origin: {type: http, http: {url: "http://%s"}}
    cache: {enabled: true, memory: %s, disk: %s, disk_dir: %s}
    behaviors: [{path: "*", key_groups: [bench]}]
`, originAddr, sizeString(streamMemory), sizeString(streamDisk), diskDir))
	p, err := b.signetProc(ctx, "signet-stream-"+adapter, conf, addr, "GOMEMLIMIT="+streamMemLimit)
	if err != nil {
		return "", err
	}
	defer p.stop()
	t, err := cloudFront(key.signer, host)("/big/2g.bin", time.Now().Add(time.Hour).Unix())
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "taskset", "-c", b.o.clientCPUs, b.o.curl, "-sS", "-o", "/dev/null",
		"-H", "Host: "+host, "-w", "%{http_code} %{size_download} %{time_total}", "http://"+addr+t)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var maxRSS, maxDisk int64
	gauges := map[string]float64{}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var cmdErr error
sample:
	for {
		if rss, err := procStatus(p.pid(), "VmRSS"); err == nil {
			maxRSS = max(maxRSS, rss)
		}
		maxDisk = max(maxDisk, dirBytes(diskDir))
		scrapeCache(ctx, admin, gauges)
		select {
		case cmdErr = <-done:
			break sample
		case <-tick.C:
		}
	}
	maxDisk = max(maxDisk, dirBytes(diskDir))
	scrapeCache(ctx, admin, gauges)
	hwm, err := procStatus(p.pid(), "VmHWM")
	if err != nil {
		return "", err
	}
	f := strings.Fields(out.String())
	if cmdErr != nil || len(f) != 3 || f[0] != "200" || f[1] != strconv.Itoa(streamSize) {
		b.fail("streaming 2 GiB, signet %s: curl said %q (%v); want a whole 200", adapter, out.String(), cmdErr)
	}
	mbps := 0.0
	if len(f) == 3 {
		if secs, err := strconv.ParseFloat(f[2], 64); err == nil && secs > 0 {
			mbps = streamSize / secs / 1e6
		}
	}
	line := fmt.Sprintf("streaming 2 GiB,  signet %-8s  VmHWM %.1f MiB (largest VmRSS sampled %.1f MiB; GOMEMLIMIT %s); %.0f MB/s through the miss\n", adapter, mib(hwm), mib(maxRSS), streamMemLimit, mbps)
	line += fmt.Sprintf("                                   files in the disk tier's directory: at most %d bytes (%.1f MiB), bound %d (%s)%s\n",
		maxDisk, mib(maxDisk), int64(streamDisk), sizeString(streamDisk), over(maxDisk, streamDisk))
	for _, tier := range []string{"memory", "disk"} {
		bound := gauges["signet_cache_limit_bytes/"+tier]
		got, ok := gauges["signet_cache_bytes/"+tier]
		if !ok {
			line += fmt.Sprintf("                                   %s tier: no signet_cache_bytes gauge in /metrics\n", tier)
			continue
		}
		line += fmt.Sprintf("                                   %s tier (signet_cache_bytes): at most %.0f bytes (%.1f MiB), bound %.0f%s\n",
			tier, got, got/(1<<20), bound, over(int64(got), int64(bound)))
	}
	return strings.TrimSuffix(line, "\n"), nil
}

// over says by how much n exceeds bound, or "" if it does not.
func over(n, bound int64) string {
	if bound <= 0 || n <= bound {
		return ""
	}
	return fmt.Sprintf(": OVER by %d bytes", n-bound)
}

// scrapeCache keeps the largest value of signet_cache_bytes and
// signet_cache_limit_bytes in signet's /metrics, by tier, under
// "<metric>/<tier>" (the bench's signets have one cached distribution).
func scrapeCache(ctx context.Context, admin string, gauges map[string]float64) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+admin+"/metrics", nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		series, value, ok := strings.Cut(sc.Text(), " ")
		name, labels, _ := strings.Cut(series, "{")
		if !ok || (name != "signet_cache_bytes" && name != "signet_cache_limit_bytes") {
			continue
		}
		_, tier, ok := strings.Cut(labels, `tier="`)
		tier, _, _ = strings.Cut(tier, `"`)
		v, err := strconv.ParseFloat(value, 64)
		if !ok || err != nil {
			continue
		}
		k := name + "/" + tier
		gauges[k] = max(gauges[k], v)
	}
}

// dirBytes is the size of the regular files under dir.
func dirBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// pinnedSelf runs this program's subcommand on the client CPUs and decodes
// its JSON answer into v.
func (b *bench) pinnedSelf(ctx context.Context, v any, args ...string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "taskset", append([]string{"-c", b.o.clientCPUs, self}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s", err, errb.String())
	}
	return json.Unmarshal(out.Bytes(), v)
}

// ttfbResult is the answer of the ttfb subcommand.
type ttfbResult struct {
	TTFB   map[string][]time.Duration
	XCache map[string]int
}

// runTTFB is the ttfb subcommand: for each line of -in, "label TAB url TAB
// host", a GET timed to its first response byte, then read to the end; the
// times by label as JSON. Every answer must be a whole 200.
func runTTFB(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flagSet("ttfb", stderr)
	in := fset.String("in", "", "a file of requests, one a line: label TAB url TAB host")
	size := fset.Int64("size", 0, "the size every body must have")
	if err := fset.Parse(args); err != nil {
		return 2
	}
	text, err := os.ReadFile(*in)
	if err != nil {
		fmt.Fprintf(stderr, "ttfb: %v\n", err)
		return 1
	}
	res := ttfbResult{TTFB: map[string][]time.Duration{}, XCache: map[string]int{}}
	// One client per server, so each side keeps its own connection alive.
	clients := map[string]*http.Client{}
	for l := range strings.SplitSeq(strings.TrimSuffix(string(text), "\n"), "\n") {
		f := strings.Split(l, "\t")
		if len(f) != 3 {
			fmt.Fprintf(stderr, "ttfb: bad line %q\n", l)
			return 2
		}
		label, u, h := f[0], f[1], f[2]
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			fmt.Fprintf(stderr, "ttfb: %v\n", err)
			return 1
		}
		if h != "" {
			req.Host = h
		}
		c := clients[req.URL.Host]
		if c == nil {
			c = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}
			clients[req.URL.Host] = c
		}
		start := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			fmt.Fprintf(stderr, "ttfb: GET %s: %v\n", redact(u), err)
			return 1
		}
		// Do returns once the status line and headers are in: the first
		// byte arrived then.
		ttfb := time.Since(start)
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || n != *size {
			fmt.Fprintf(stderr, "ttfb: GET %s = %d, %d bytes, %v; want 200 and %d bytes\n", redact(u), resp.StatusCode, n, err, *size)
			return 1
		}
		if label == "signet" {
			res.XCache[resp.Header.Get("X-Cache")]++
		}
		if label != "warm" {
			res.TTFB[label] = append(res.TTFB[label], ttfb)
		}
	}
	return writeJSON(stdout, stderr, res)
}

// burstResult is the answer of the burst subcommand.
type burstResult struct {
	Good   int            // whole 200s with the expected bytes
	Status map[int]int    // responses by status
	XCache map[string]int // responses by X-Cache
}

// runBurst is the burst subcommand: -n GETs of one URL released at once,
// each on its own connection, each body hashed.
func runBurst(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := flagSet("burst", stderr)
	n := fset.Int("n", 100, "concurrent requests")
	u := fset.String("url", "", "the URL")
	h := fset.String("host", "", "the Host header")
	size := fset.Int64("size", 0, "the size every body must have")
	sum := fset.String("sha256", "", "the SHA-256 every body must have, hex")
	if err := fset.Parse(args); err != nil {
		return 2
	}
	tr := &http.Transport{MaxIdleConnsPerHost: *n, DisableCompression: true}
	client := &http.Client{Transport: tr}
	res := burstResult{Status: map[int]int{}, XCache: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for range *n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, *u, nil)
		if err != nil {
			fmt.Fprintf(stderr, "burst: %v\n", err)
			return 1
		}
		req.Host = *h
		wg.Go(func() {
			<-gate
			resp, err := client.Do(req)
			if err != nil {
				mu.Lock()
				res.Status[0]++
				mu.Unlock()
				return
			}
			hash := sha256.New()
			got, err := io.Copy(hash, resp.Body)
			resp.Body.Close()
			mu.Lock()
			defer mu.Unlock()
			res.Status[resp.StatusCode]++
			res.XCache[resp.Header.Get("X-Cache")]++
			if err == nil && resp.StatusCode == 200 && got == *size && hex.EncodeToString(hash.Sum(nil)) == *sum {
				res.Good++
			}
		})
	}
	close(gate)
	wg.Wait()
	return writeJSON(stdout, stderr, res)
}

// flagSet is a subcommand's flag set, reporting to stderr.
func flagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func writeJSON(stdout, stderr io.Writer, v any) int {
	if err := json.NewEncoder(stdout).Encode(v); err != nil {
		fmt.Fprintf(stderr, "edgebench: %v\n", err)
		return 1
	}
	return 0
}

func fileSHA256(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// median of ds; 0 if empty.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// sizeString writes a byte count as signet's config reads it.
func sizeString(n int64) string {
	switch {
	case n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	}
	return strconv.FormatInt(n, 10)
}
