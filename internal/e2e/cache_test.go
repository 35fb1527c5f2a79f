package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/signet-dev/signet/internal/cfsign"
	"github.com/signet-dev/signet/internal/testenv"
)

// The tests of this file run the edge cache inside a real `signet serve`:
// concurrent misses counted at an origin of the test's own, a SIGKILL in
// the middle of a fill, a corrupted chunk file, a MinIO outage, and a
// range of a large object.

const mib = 1 << 20

// countingOrigin is an HTTP origin that counts what reaches it: HEADs and
// GETs per path, the Range of each GET, and the body bytes it wrote. A
// GET can be held: it stops after a given byte of the object until a
// channel is closed or the request ends. Its methods are safe for
// concurrent use.
type countingOrigin struct {
	*httptest.Server

	mu      sync.Mutex
	objects map[string]*originObject
	heads   map[string]int
	gets    map[string]int
	ranges  map[string][]string
	sent    map[string]int64
	// gen counts resets: a request counts its bytes only while the
	// generation it started in is current, so a request left over from
	// before a reset (one cut by a SIGKILL, still writing) counts nothing
	// after it.
	gen int
}

type originObject struct {
	data []byte
	etag string
	// A GET whose bytes pass offset hold (0 < hold) stops there until
	// release is closed or the request ends.
	hold    int64
	release chan struct{}
}

func newCountingOrigin(t *testing.T) *countingOrigin {
	o := &countingOrigin{objects: map[string]*originObject{}}
	o.reset()
	o.Server = httptest.NewServer(o)
	t.Cleanup(o.Close)
	return o
}

// put stores data at path (such as "/big.bin") under a new ETag.
func (o *countingOrigin) put(path string, data []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.objects[path] = &originObject{data: data, etag: fmt.Sprintf(`"%x"`, sha256.Sum256(data))}
}

// hold makes GETs of path stop after byte at-1 until the returned func is
// called (it is also called when the test ends).
func (o *countingOrigin) hold(t *testing.T, path string, at int64) (release func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ch := make(chan struct{})
	o.objects[path].hold, o.objects[path].release = at, ch
	release = sync.OnceFunc(func() { close(ch) })
	t.Cleanup(release)
	return release
}

// unhold makes GETs of path stream without stopping again.
func (o *countingOrigin) unhold(path string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.objects[path].hold, o.objects[path].release = 0, nil
}

// reset zeroes the counters. Requests already under way count nothing
// more.
func (o *countingOrigin) reset() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.gen++
	o.heads, o.gets = map[string]int{}, map[string]int{}
	o.ranges, o.sent = map[string][]string{}, map[string]int64{}
}

// few shows at most the first three of ranges.
func few(ranges []string) string {
	if len(ranges) > 3 {
		return fmt.Sprintf("%q and %d more", ranges[:3], len(ranges)-3)
	}
	return fmt.Sprintf("%q", ranges)
}

// counts returns the HEADs, GETs, Range headers and body bytes sent for
// path since the last reset.
func (o *countingOrigin) counts(path string) (heads, gets int, ranges []string, sent int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.heads[path], o.gets[path], append([]string(nil), o.ranges[path]...), o.sent[path]
}

func (o *countingOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	o.mu.Lock()
	obj := o.objects[path]
	switch r.Method {
	case http.MethodHead:
		o.heads[path]++
	case http.MethodGet:
		o.gets[path]++
		o.ranges[path] = append(o.ranges[path], r.Header.Get("Range"))
	}
	var hold int64
	var release chan struct{}
	if obj != nil {
		hold, release = obj.hold, obj.release
	}
	gen := o.gen
	o.mu.Unlock()
	if obj == nil {
		http.NotFound(w, r)
		return
	}
	size := int64(len(obj.data))
	h := w.Header()
	h.Set("ETag", obj.etag)
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Last-Modified", time.Unix(1767200000, 0).UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	first, last, status := int64(0), size-1, http.StatusOK
	if rng := r.Header.Get("Range"); rng != "" && r.Method == http.MethodGet {
		// signet asks for one closed range: bytes=first-last.
		if _, err := fmt.Sscanf(rng, "bytes=%d-%d", &first, &last); err != nil || first > last || last >= size {
			h.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		status = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, size))
	}
	h.Set("Content-Length", strconv.FormatInt(last-first+1, 10))
	w.WriteHeader(status)
	if r.Method != http.MethodGet {
		return
	}
	rc := http.NewResponseController(w)
	for pos := first; pos <= last; {
		if release != nil && pos == hold {
			rc.Flush()
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
			release = nil
		}
		end := min(pos+32<<10, last+1)
		if release != nil && pos < hold && hold < end {
			end = hold
		}
		n, err := w.Write(obj.data[pos:end])
		o.mu.Lock()
		if gen == o.gen {
			o.sent[path] += int64(n)
		}
		o.mu.Unlock()
		if err != nil {
			return
		}
		pos = end
	}
}

// randomBytes returns n bytes that differ per seed.
func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

// cacheEdge is a signet serve config for the cache tests, and the process
// running it; start may run it again on the same ports and files.
type cacheEdge struct {
	*proc
	key         testKey
	addr, admin string
	cfgFile     string
	env         []string
	client      *http.Client // dials the edge whatever the URL's host
	signer      *cfsign.Signer
}

// newCacheEdge writes a config with one listener using adapter, an admin
// listener, key group "main" and the distributions (YAML list items, with
// %[1]s standing for the key group's name), and starts signet on it.
func newCacheEdge(t *testing.T, adapter, distributions string, env ...string) *cacheEdge {
	t.Helper()
	e := &cacheEdge{key: loadTestKey(t, "p256", ""), addr: testenv.FreeAddr(t), admin: testenv.FreeAddr(t), env: env}
	cfg := fmt.Sprintf(`
listeners:
  - address: %s
    adapter: %s
admin:
  address: %s
data_dir: %s
key_groups:
  main: [{id: %s, public_key_file: %s}]
distributions:
%s`, e.addr, adapter, e.admin, filepath.Join(t.TempDir(), "data"), e.key.id, e.key.pubFile,
		fmt.Sprintf(distributions, "main"))
	e.cfgFile = filepath.Join(t.TempDir(), "signet.yaml")
	if err := os.WriteFile(e.cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, e.addr)
		},
		DisableCompression:  true,
		MaxIdleConnsPerHost: 200,
	}
	t.Cleanup(tr.CloseIdleConnections)
	e.client = &http.Client{Transport: tr}
	e.signer = e.key.cfSigner(t, cfsign.SHA256)
	e.start(t)
	return e
}

// start runs signet serve on e's config.
func (e *cacheEdge) start(t *testing.T) {
	t.Helper()
	e.proc = startSignet(t, e.addr, e.admin, e.env, "serve", "--config", e.cfgFile)
}

// kill sends SIGKILL to signet and waits for it to die.
func (e *cacheEdge) kill(t *testing.T) {
	t.Helper()
	if err := e.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-e.done
}

// link signs url (http://host/path; the request goes to the edge whatever
// the host) for an hour.
func (e *cacheEdge) link(t *testing.T, url string) string {
	t.Helper()
	u, err := e.signer.SignCanned(url, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// get requests url from the edge with headers ("Name: value").
func (e *cacheEdge) get(t *testing.T, url string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	return do(t, e.client, "GET", url, "", headers...)
}

// metric sums the samples of name on the admin listener's /metrics whose
// labels include every one of labels (`key="value"`).
func (e *cacheEdge) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + e.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (!strings.HasPrefix(rest, "{") && !strings.HasPrefix(rest, " ")) {
			continue
		}
		set, value := "", rest
		if strings.HasPrefix(rest, "{") {
			end := strings.Index(rest, "}")
			set, value = rest[:end+1], rest[end+1:]
		}
		matched := true
		for _, l := range labels {
			if !strings.Contains(set, l) {
				matched = false
			}
		}
		if !matched {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", line, err)
		}
		sum += v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sum
}

// waitFills polls the admin listener until distribution has no chunk
// being fetched or waiting for the disk.
func (e *cacheEdge) waitFills(t *testing.T, distribution string) {
	t.Helper()
	testenv.Wait(t, distribution+" to finish its fills", func() error {
		if n := e.metric(t, "signet_cache_filling_chunks", `distribution="`+distribution+`"`); n != 0 {
			return fmt.Errorf("%v chunks being filled", n)
		}
		return nil
	})
}

// waitOriginUp polls the admin listener until distribution's origin is
// marked up (signet_origin_up 1).
func (e *cacheEdge) waitOriginUp(t *testing.T, distribution string) {
	t.Helper()
	testenv.Wait(t, distribution+"'s origin to be marked up", func() error {
		if up := e.metric(t, "signet_origin_up", `distribution="`+distribution+`"`); up != 1 {
			return fmt.Errorf("signet_origin_up %v\nstderr:\n%s", up, e.stderr)
		}
		return nil
	})
}

// cacheStep is one GET through the edge and what it must answer.
type cacheStep struct {
	what   string
	url    string
	header string // "" or one "Name: value"
	status int    // 502 stands for 502 or 504; the body is checked only for 200 and 206
	body   []byte
	xcache string
}

// steps runs the steps in order.
func (e *cacheEdge) steps(t *testing.T, steps ...cacheStep) {
	t.Helper()
	for _, s := range steps {
		var headers []string
		if s.header != "" {
			headers = append(headers, s.header)
		}
		resp, body := e.get(t, s.url, headers...)
		switch s.status {
		case 502:
			if resp.StatusCode != 502 && resp.StatusCode != 504 {
				t.Errorf("%s: status %d; want 502 or 504", s.what, resp.StatusCode)
			}
		default:
			wantBytes(t, s.what, resp, body, s.status, s.body)
		}
		wantXCache(t, s.what, resp, s.xcache)
	}
}

func wantXCache(t *testing.T, what string, resp *http.Response, want string) {
	t.Helper()
	if got := resp.Header.Get("X-Cache"); got != want+" from signet" {
		t.Errorf("%s: X-Cache %q; want %q", what, got, want+" from signet")
	}
}

func wantBytes(t *testing.T, what string, resp *http.Response, body []byte, status int, want []byte) {
	t.Helper()
	if resp.StatusCode != status || sha256.Sum256(body) != sha256.Sum256(want) {
		t.Errorf("%s: %d, %d bytes (sha256 %x); want %d, %d bytes (sha256 %x)", what,
			resp.StatusCode, len(body), sha256.Sum256(body), status, len(want), sha256.Sum256(want))
	}
}

// TestCacheCoalescing: 100 concurrent GETs of one cold object make one
// origin GET; every viewer gets the bytes the origin has sent so far while
// the rest is still held back, then the whole object.
func TestCacheCoalescing(t *testing.T) { forEachAdapter(t, testCacheCoalescing) }

func testCacheCoalescing(t *testing.T, adapter string) {
	const (
		viewers = 100
		size    = 4*mib + 12345
		part    = 1 * mib // sent at once; the rest waits for release
	)
	o := newCountingOrigin(t)
	data := randomBytes(size, 1)
	o.put("/viral.bin", data)
	release := o.hold(t, "/viral.bin", part)
	e := newCacheEdge(t, adapter, fmt.Sprintf(`
  - name: viral
    origin:
      type: http
      http: {url: %s}
    behaviors:
      - {path: "*", key_groups: [%%[1]s]}
`, o.URL))
	u := e.link(t, "http://"+e.addr+"/viral.bin")

	type result struct {
		status int
		xcache string
		n      int64
		sum    [32]byte
		err    error
	}
	results := make([]result, viewers)
	var gotPart, finished sync.WaitGroup
	gotPart.Add(viewers)
	for i := range viewers {
		finished.Go(func() {
			r := &results[i]
			partDone := sync.OnceFunc(gotPart.Done)
			defer partDone()
			req, err := http.NewRequestWithContext(t.Context(), "GET", u, nil)
			if err != nil {
				r.err = err
				return
			}
			resp, err := e.client.Do(req)
			if err != nil {
				r.err = err
				return
			}
			defer resp.Body.Close()
			r.status, r.xcache = resp.StatusCode, resp.Header.Get("X-Cache")
			h := sha256.New()
			n, err := io.CopyN(h, resp.Body, part)
			if err != nil {
				r.n, r.err = n, fmt.Errorf("reading the first %d bytes: %w", part, err)
				return
			}
			partDone()
			m, err := io.Copy(h, resp.Body)
			r.n, r.err = n+m, err
			copy(r.sum[:], h.Sum(nil))
		})
	}
	allGotPart := make(chan struct{})
	go func() { gotPart.Wait(); close(allGotPart) }()
	select {
	case <-allGotPart:
	case <-time.After(30 * time.Second):
		t.Errorf("after 30s not every viewer had the first %d bytes, which the origin sent at once", part)
	}
	// Checked while the origin still holds back the rest.
	heads, gets, _, sent := o.counts("/viral.bin")
	if heads != 1 || gets != 1 {
		t.Errorf("origin saw %d HEADs and %d GETs while %d viewers waited; want 1 and 1", heads, gets, viewers)
	}
	if sent != part {
		t.Errorf("origin sent %d bytes before release; want %d", sent, part)
	}
	release()
	finished.Wait()
	<-allGotPart

	want := sha256.Sum256(data)
	xcache := map[string]int{}
	for i, r := range results {
		xcache[r.xcache]++
		if r.err != nil || r.status != 200 || r.n != size || r.sum != want {
			t.Errorf("viewer %d: status %d, %d bytes, sha256 %x, %v; want 200, %d bytes, sha256 %x", i, r.status, r.n, r.sum, r.err, size, want)
		}
	}
	if xcache["Miss from signet"] != viewers {
		t.Errorf("X-Cache of the concurrent GETs: %v; want all %d Miss from signet", xcache, viewers)
	}
	if heads, gets, ranges, sent := o.counts("/viral.bin"); heads != 1 || gets != 1 || sent != size {
		t.Errorf("origin saw %d HEADs and %d GETs (%s) and sent %d bytes; want 1 HEAD, 1 GET, %d bytes", heads, gets, few(ranges), sent, size)
	}

	// Later: a Hit, and the origin hears nothing.
	resp, body := e.get(t, u)
	wantBytes(t, "GET after the fill", resp, body, 200, data)
	wantXCache(t, "GET after the fill", resp, "Hit")
	if heads, gets, _, _ := o.counts("/viral.bin"); heads != 1 || gets != 1 {
		t.Errorf("after a Hit the origin has seen %d HEADs and %d GETs; want still 1 and 1", heads, gets)
	}
	// The server's own metrics agree.
	dist := `distribution="viral"`
	for _, m := range []struct {
		name, label string
		want        float64
	}{
		{"signet_origin_duration_seconds_count", `op="open"`, 1},
		{"signet_origin_duration_seconds_count", `op="stat"`, 1},
		{"signet_cache_requests_total", `result="Miss"`, viewers},
		{"signet_cache_requests_total", `result="Hit"`, 1},
	} {
		if got := e.metric(t, m.name, dist, m.label); got != m.want {
			t.Errorf("%s{%s,%s} = %v; want %v", m.name, dist, m.label, got, m.want)
		}
	}
	// The profiler is off unless admin.pprof says otherwise.
	if resp, err := http.Get("http://" + e.admin + "/debug/pprof/"); err != nil || resp.StatusCode != 404 {
		t.Errorf("GET /debug/pprof/ without admin.pprof = %v, %v; want 404", resp, err)
	} else {
		resp.Body.Close()
	}
}

// chunkFiles lists the chunk files of a disk tier (v1/<ab>/<hash>-<index>),
// by index.
func chunkFiles(t *testing.T, dir string) map[int]string {
	t.Helper()
	out := map[int]string{}
	err := filepath.WalkDir(filepath.Join(dir, "v1"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			_, idx, _ := strings.Cut(d.Name(), "-")
			i, err := strconv.Atoi(idx)
			if err != nil {
				return fmt.Errorf("chunk file %s: %w", path, err)
			}
			out[i] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// waitChunks polls dir until it holds at least n chunk files.
func waitChunks(t *testing.T, dir string, n int) {
	t.Helper()
	testenv.Wait(t, fmt.Sprintf("%d chunk files in %s", n, dir), func() error {
		if got := len(chunkFiles(t, dir)); got < n {
			return fmt.Errorf("%d chunk files", got)
		}
		return nil
	})
}

// TestCacheCrash: signet is killed with SIGKILL in the middle of a fill.
// The next process starts on the same disk tier, serves the exact bytes,
// and fetches from the origin only the chunks that had not reached the
// disk. A chunk file corrupted while signet is stopped is detected by its
// checksum and fetched again, never served.
func TestCacheCrash(t *testing.T) {
	const (
		size  = 64 * mib
		chunk = 1 * mib
		held  = 8*chunk + chunk/2 // the origin stalls in the middle of chunk 8
	)
	o := newCountingOrigin(t)
	data := randomBytes(size, 2)
	o.put("/big.bin", data)
	o.hold(t, "/big.bin", held)
	diskDir := filepath.Join(t.TempDir(), "cache")
	e := newCacheEdge(t, "nethttp", fmt.Sprintf(`
  - name: crash
    origin:
      type: http
      http: {url: %s}
    cache: {memory: 4MiB, disk: 256MiB, disk_dir: %s, chunk_size: 1MiB}
    behaviors:
      - {path: "*", key_groups: [%%[1]s]}
`, o.URL, diskDir))
	u := e.link(t, "http://"+e.addr+"/big.bin")

	// A viewer starts the download; the fill gets the first 8 chunks to
	// disk and waits for the origin in the middle of the ninth.
	type result struct {
		n   int64
		err error
	}
	first := make(chan result, 1)
	go func() {
		resp, err := e.client.Get(u)
		if err != nil {
			first <- result{0, err}
			return
		}
		defer resp.Body.Close()
		n, err := io.Copy(io.Discard, resp.Body)
		first <- result{n, err}
	}()
	waitChunks(t, diskDir, 8)
	e.kill(t)
	if r := <-first; r.err == nil || r.n >= size {
		t.Errorf("download cut by SIGKILL: %d bytes, %v; want fewer than %d and an error", r.n, r.err, size)
	}
	// The held GET stays held (it ends with its connection); new ones
	// stream.
	o.unhold("/big.bin")
	if n := len(chunkFiles(t, diskDir)); n != 8 {
		t.Fatalf("%d chunk files after the kill; want 8 (chunks 0-7)", n)
	}
	// What a kill in the middle of a chunk write leaves: a partial file
	// in tmp. (The kill above came while the origin stalled, when no
	// write was in progress; internal/cache's own crash test kills one
	// mid-write.)
	leftover := filepath.Join(diskDir, "tmp", "partial-write")
	if err := os.WriteFile(leftover, data[:1000], 0o600); err != nil {
		t.Fatal(err)
	}

	o.reset()
	e.start(t)
	if left, err := os.ReadDir(filepath.Join(diskDir, "tmp")); err != nil || len(left) != 0 {
		t.Errorf("tmp of the disk tier after the restart: %v, %v; want empty", left, err)
	}
	resp, body := e.get(t, u)
	wantBytes(t, "GET after the restart", resp, body, 200, data)
	wantXCache(t, "GET after the restart", resp, "Miss")
	_, gets, ranges, sent := o.counts("/big.bin")
	wantRange := fmt.Sprintf("bytes=%d-%d", 8*chunk, size-1)
	if gets != 1 || len(ranges) != 1 || ranges[0] != wantRange || sent != size-8*chunk {
		t.Errorf("after the restart the origin saw %d GETs (%s) and sent %d bytes; want 1 GET (%q), %d bytes: chunks 0-7 from disk",
			gets, few(ranges), sent, wantRange, size-8*chunk)
	}
	t.Logf("origin sent %d bytes for the 64 MiB object after the restart", sent)

	// Corrupt chunk 20 while signet is stopped.
	waitChunks(t, diskDir, size/chunk)
	e.stop(t)
	files := chunkFiles(t, diskDir)
	victim := files[20]
	b, err := os.ReadFile(victim)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := append([]byte(nil), b...)
	corrupt[len(corrupt)/2] ^= 0x01
	if err := os.WriteFile(victim, corrupt, 0o600); err != nil {
		t.Fatal(err)
	}
	o.reset()
	e.start(t)
	resp, body = e.get(t, u)
	// (X-Cache says Hit: it is sent before the body, when every chunk
	// was on disk; the corruption shows only when chunk 20 is read.)
	wantBytes(t, "GET with chunk 20 corrupted on disk", resp, body, 200, data)
	_, gets, ranges, sent = o.counts("/big.bin")
	wantRange = fmt.Sprintf("bytes=%d-%d", 20*chunk, 21*chunk-1)
	if gets != 1 || len(ranges) != 1 || ranges[0] != wantRange || sent != chunk {
		t.Errorf("with chunk 20 corrupted the origin saw %d GETs (%s) and sent %d bytes; want 1 GET (%q), %d bytes",
			gets, few(ranges), sent, wantRange, chunk)
	}
	// The corrupt file was replaced by a good one, the same bytes as
	// before the corruption.
	waitChunks(t, diskDir, size/chunk)
	again, err := os.ReadFile(chunkFiles(t, diskDir)[20])
	if err != nil || sha256.Sum256(again) != sha256.Sum256(b) {
		t.Errorf("chunk 20's file after the refetch: %d bytes, %v; want the %d bytes it held before the corruption", len(again), err, len(b))
	}
}

// TestCacheStaleIfError: while MinIO is down, an object cached and expired
// is served stale (RefreshHit) for a distribution with max_stale, and is a
// 502 for one without; an object never fetched is an Error. When MinIO
// is back, everything is served again.
func TestCacheStaleIfError(t *testing.T) {
	const ttl = 2 * time.Second
	m := testenv.MinIO(t)
	bucket := m.NewBucket(t)
	objects := map[string][]byte{
		"a.bin":     randomBytes(300<<10, 3),
		"b.bin":     randomBytes(1000, 4),
		"never.bin": randomBytes(1000, 5),
	}
	for key, body := range objects {
		_, err := m.Client().PutObject(t.Context(), &awss3.PutObjectInput{
			Bucket: &bucket, Key: aws.String(key), Body: bytes.NewReader(body),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	origin := fmt.Sprintf(`
      type: s3
      s3:
        bucket: %s
        region: %s
        endpoint: %s
        path_style: true
        access_key_id: "${S3_KEY}"
        secret_access_key: "${S3_SECRET}"`, bucket, m.Region, m.Endpoint)
	e := newCacheEdge(t, "nethttp", fmt.Sprintf(`
  - name: stale
    hosts: [stale.test]
    origin:%[2]s
    cache: {max_stale: 1h, chunk_size: 64KiB}
    behaviors:
      - path: "*"
        key_groups: [%[1]s]
        cache: {default_ttl: %[3]s, max_ttl: %[3]s}
  - name: strict
    hosts: [strict.test]
    origin:%[2]s
    cache: {max_stale: 0s}
    behaviors:
      - path: "*"
        key_groups: [%[1]s]
        cache: {default_ttl: %[3]s, max_ttl: %[3]s}
`, "%[1]s", origin, ttl), "S3_KEY="+m.AccessKey, "S3_SECRET="+m.SecretKey)
	a := e.link(t, "http://stale.test/a.bin")
	never := e.link(t, "http://stale.test/never.bin")
	b := e.link(t, "http://strict.test/b.bin")

	e.steps(t,
		cacheStep{"first GET", a, "", 200, objects["a.bin"], "Miss"},
		cacheStep{"first GET, strict", b, "", 200, objects["b.bin"], "Miss"},
		cacheStep{"second GET", a, "", 200, objects["a.bin"], "Hit"},
	)
	// Waiting for the cached Infos to expire: they were fetched before
	// now, so after now+ttl they are stale.
	time.Sleep(ttl + 100*time.Millisecond)
	m.Stop(t)
	e.steps(t,
		cacheStep{"expired, MinIO down", a, "", 200, objects["a.bin"], "RefreshHit"},
		cacheStep{"range, expired, MinIO down", a, "Range: bytes=100000-100009", 206, objects["a.bin"][100000:100010], "RefreshHit"},
		cacheStep{"never fetched, MinIO down", never, "", 502, nil, "Error"},
		cacheStep{"max_stale 0s, MinIO down", b, "", 502, nil, "Error"},
	)
	m.Start(t)
	// Each distribution's probe finds MinIO back within a second.
	e.waitOriginUp(t, "stale")
	e.waitOriginUp(t, "strict")
	e.steps(t,
		cacheStep{"MinIO back", a, "", 200, objects["a.bin"], "RefreshHit"}, // the origin confirms the cached version
		cacheStep{"MinIO back, again", a, "", 200, objects["a.bin"], "Hit"},
		cacheStep{"MinIO back, strict", b, "", 200, objects["b.bin"], "RefreshHit"},
		cacheStep{"MinIO back, never fetched", never, "", 200, objects["never.bin"], "Miss"},
	)
}

// TestCacheRange: a cold Range in the middle of a large object fetches the
// chunk it touches, not the object; a second range in that chunk is a Hit.
func TestCacheRange(t *testing.T) { forEachAdapter(t, testCacheRange) }

func testCacheRange(t *testing.T, adapter string) {
	const (
		size  = 32 * mib
		chunk = 1 * mib
	)
	o := newCountingOrigin(t)
	data := randomBytes(size, 6)
	o.put("/large.bin", data)
	e := newCacheEdge(t, adapter, fmt.Sprintf(`
  - name: ranges
    origin:
      type: http
      http: {url: %s}
    cache: {chunk_size: 1MiB}
    behaviors:
      - {path: "*", key_groups: [%%[1]s]}
`, o.URL))
	u := e.link(t, "http://"+e.addr+"/large.bin")

	resp, body := e.get(t, u, "Range: bytes=20000000-20000999")
	wantBytes(t, "cold range", resp, body, 206, data[20000000:20001000])
	wantXCache(t, "cold range", resp, "Miss")
	if got, want := resp.Header.Get("Content-Range"), fmt.Sprintf("bytes 20000000-20000999/%d", size); got != want {
		t.Errorf("cold range: Content-Range %q; want %q", got, want)
	}
	// Bytes 20000000-20000999 lie in chunk 19, which the fill finishes
	// after the response.
	e.waitFills(t, "ranges")
	_, gets, ranges, sent := o.counts("/large.bin")
	wantRange := fmt.Sprintf("bytes=%d-%d", 19*chunk, 20*chunk-1)
	if gets != 1 || len(ranges) != 1 || ranges[0] != wantRange || sent > 2*chunk {
		t.Errorf("cold range: origin saw %d GETs (%s) and sent %d bytes; want 1 GET (%q), at most %d bytes", gets, few(ranges), sent, wantRange, 2*chunk)
	}
	t.Logf("origin sent %d bytes for a 1000-byte range of a %d-byte object", sent, size)

	resp, body = e.get(t, u, "Range: bytes=20500000-20500099")
	wantBytes(t, "range in the cached chunk", resp, body, 206, data[20500000:20500100])
	wantXCache(t, "range in the cached chunk", resp, "Hit")
	if _, gets, _, _ := o.counts("/large.bin"); gets != 1 {
		t.Errorf("range in the cached chunk: origin saw %d GETs; want still 1", gets)
	}
}
