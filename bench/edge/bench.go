package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

//go:embed urls.lua
var urlsLua []byte

const (
	// host is the Host header every signet link is signed for and every
	// client sends, so that one set of links serves every signet process
	// (a canned policy's resource holds the host).
	host = "bench.local"
	// nFiles distinct 1 KiB files, one per warm link.
	nFiles    = 10000
	smallSize = 1 << 10
	bigSize   = 1 << 30
	// verifiedLinks is signet's limits.verified_links: one behavior
	// trusts both keys, so its cache holds the ECDSA and the RSA warm
	// links (and the cold ones pass through it); 5x the working set of
	// one case keeps the warm links of both from evicting each other.
	verifiedLinks = 5 * nFiles
	// nginxSecret is the secure_link_md5 secret.
	nginxSecret = "edgebench-secret"
)

// bench is one run. Not safe for concurrent use.
type bench struct {
	o        options
	out, log io.Writer
	work     string
	files    string // the directory every server serves
	keys     []*benchKey
	objects  []string // /f/00000.bin ...
	nginx    *server
	signets  []*server
	rows     []*row
	bigRows  []*bigRow
	notes    []string
	failures []string
	warmMax  map[string]float64 // best warm RPS by key short name, and "nginx"
	// busyStarts counts runs that started while the machine was busy.
	busyStarts int
}

// server is one server under test.
type server struct {
	name    string // "nginx", "signet nethttp", "signet fasthttp"
	adapter string // signet's adapter; "" for nginx
	addr    string
	admin   string // signet's admin listener; "" for none
	p       *proc
}

func (s *server) isNginx() bool { return s.adapter == "" }

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "edgebench: "+format+"\n", args...)
}

// fail records a problem that makes the run exit 1 once everything else
// has run.
func (b *bench) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.failures = append(b.failures, msg)
	b.logf("FAIL %s", msg)
}

func (b *bench) cleanup() {
	if b.work == "" {
		return
	}
	if b.o.keep {
		b.logf("work directory kept: %s", b.work)
	} else {
		os.RemoveAll(b.work)
	}
	stateDir = ""
	writeState()
}

func (b *bench) run(ctx context.Context) error {
	start := time.Now()
	var err error
	if b.work, err = os.MkdirTemp("", "edgebench-"); err != nil {
		return err
	}
	stateDir = b.work
	writeState()
	// nginx's workers run as nobody when edgebench runs as root: they must
	// be able to read the files.
	if err := os.Chmod(b.work, 0o755); err != nil {
		return err
	}
	b.files = filepath.Join(b.work, "files")
	b.header(start)

	if b.o.run["rate"] || b.o.run["big"] {
		if err := b.setup(ctx); err != nil {
			return err
		}
		if b.o.run["rate"] {
			if err := b.rateCases(ctx); err != nil {
				return err
			}
		}
		if b.o.run["big"] {
			if err := b.bigCase(ctx); err != nil {
				return err
			}
		}
		b.printRates()
		stopAll()
	}
	if b.o.run["cache"] {
		if err := b.cacheCases(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintf(b.out, "\nload average at the end: %s; the run took %s", loadavg(), time.Since(start).Round(time.Second))
	if b.busyStarts > 0 {
		fmt.Fprintf(b.out, "; %d run(s) started on a busy machine (see \"other\")", b.busyStarts)
	}
	fmt.Fprintln(b.out)
	return nil
}

// header prints what was measured, where and how.
func (b *bench) header(start time.Time) {
	w := b.out
	fmt.Fprintf(w, "signet edge vs nginx secure_link_md5 (bench/edge), %s\n", start.UTC().Format(time.RFC3339))
	mode := "full"
	if b.o.quick {
		mode = "--quick: every case briefly, to check the bench runs; the figures are rough"
	}
	fmt.Fprintf(w, "mode: %s\n", mode)
	fmt.Fprintf(w, "machine: %d CPUs (%s), Linux %s, load average %s\n", runtime.NumCPU(), cpuModel(), kernel(), loadavg())
	fmt.Fprintf(w, "signet %s (%s), %s, %s\n", b.o.signetRev, runtime.Version(), firstLine(b.o.nginx, "-v"), firstLine(b.o.wrk, "-v"))
	fmt.Fprintf(w, "pinning: servers on CPU %s, clients (wrk, downloads, curl) and origins (MinIO, nginx) on CPU %s (taskset); nginx worker_processes %d, signet GOMAXPROCS %d\n",
		b.o.serverCPUs, b.o.clientCPUs, b.o.nServer, b.o.nServer)
	fmt.Fprintf(w, "wrk: %d thread(s), %d connections; warm runs %s, cold runs %s, each after a %s warm-up over the warm links; 1 KiB files, %d distinct\n",
		b.o.nClient, b.o.conns, b.o.warm, b.o.cold, b.o.warmup, nFiles)
	fmt.Fprintf(w, "links: nginx md5(expires uri secret) base64url; signet CloudFront canned policy, ECDSA P-256 with SHA-256, RSA-2048 with SHA-1\n")
	fmt.Fprintf(w, "tuning: nginx sendfile, tcp_nopush, open_file_cache max=%d, access_log off, keepalive_requests 1000000; signet limits.verified_links %d, edge cache 64MiB for objects up to 1MiB with 60s TTLs, access_log off, log level warn\n", 2*nFiles, verifiedLinks)
}

// setup writes the files, keys, links and configs, and starts nginx and
// both signet adapters on the server CPUs, each checked before the race.
func (b *bench) setup(ctx context.Context) error {
	b.logf("writing %d files of 1 KiB and one of 1 GiB under %s", nFiles, b.files)
	if err := os.MkdirAll(filepath.Join(b.files, "f"), 0o755); err != nil {
		return err
	}
	rng := rand.NewChaCha8([32]byte{1})
	for i := range nFiles {
		name := fmt.Sprintf("/f/%05d.bin", i)
		b.objects = append(b.objects, name)
		buf := make([]byte, smallSize)
		rng.Read(buf)
		if err := os.WriteFile(filepath.Join(b.files, name), buf, 0o644); err != nil {
			return err
		}
	}
	if b.o.run["big"] {
		if err := os.MkdirAll(filepath.Join(b.files, "big"), 0o755); err != nil {
			return err
		}
		if err := writeRandom(filepath.Join(b.files, "big", "1g.bin"), bigSize, 2); err != nil {
			return err
		}
	}
	if err := os.WriteFile(b.path("urls.lua"), urlsLua, 0o644); err != nil {
		return err
	}
	keyDir := filepath.Join(b.work, "keys")
	if err := os.MkdirAll(keyDir, 0o755); err != nil {
		return err
	}
	for _, k := range []string{"ecdsa", "rsa"} {
		key, err := newKey(keyDir, k)
		if err != nil {
			return err
		}
		b.keys = append(b.keys, key)
	}
	// Warm links: one per file, all with the same expiry a day ahead.
	exp := time.Now().Add(24 * time.Hour).Unix()
	warm := linkSet{objects: b.objects, expires: exp, n: nFiles}
	if err := writeLinks(b.path("links-nginx-warm"), warm, nginxMD5(nginxSecret)); err != nil {
		return err
	}
	for _, k := range b.keys {
		if err := writeLinks(b.path("links-"+k.short+"-warm"), warm, cloudFront(k.signer, host)); err != nil {
			return err
		}
	}

	var err error
	if b.nginx, err = b.startNginx(ctx); err != nil {
		return err
	}
	for _, a := range []string{"nethttp", "fasthttp"} {
		s, err := b.startSignet(ctx, a)
		if err != nil {
			return err
		}
		b.signets = append(b.signets, s)
	}
	return b.checkAll(ctx)
}

// path names a file in the work directory.
func (b *bench) path(name string) string { return filepath.Join(b.work, name) }

// startNginx starts nginx tuned as one would for static files: sendfile,
// tcp_nopush, open_file_cache, no access log, long keep-alive (nginx's
// default keepalive_requests, 1000, would close each connection after
// 1000 requests; signet never does), one worker per server CPU.
func (b *bench) startNginx(ctx context.Context) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir := b.path("nginx")
	http := fmt.Sprintf(`    access_log off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    keepalive_timeout 120s;
    keepalive_requests 1000000;
    open_file_cache max=20000 inactive=60s;
    open_file_cache_valid 60s;
    open_file_cache_min_uses 1;
    open_file_cache_errors on;
    server_tokens off;
    server {
        listen %s;
        root %s;
        location / {
            secure_link $arg_md5,$arg_expires;
            secure_link_md5 "$secure_link_expires$uri %s";
            if ($secure_link = "") { return 403; }
            if ($secure_link = "0") { return 410; }
        }
    }
`, addr, b.files, nginxSecret)
	conf := nginxConf("nginx as a tuned secure_link server", dir, b.o.nServer, http)
	p, err := b.nginxProc(ctx, "nginx", dir, conf, b.o.serverCPUs, addr)
	if err != nil {
		return nil, err
	}
	return &server{name: "nginx", addr: addr, p: p}, nil
}

// nginxConf is a whole nginx.conf: a foreground master with workers
// workers, its pid, logs and temporary files in dir, and the http block's
// body.
func nginxConf(title, dir string, workers int, http string) string {
	return fmt.Sprintf(`# edgebench: %[1]s
daemon off;
master_process on;
worker_processes %[2]d;
pid %[3]s/nginx.pid;
error_log %[3]s/error.log warn;
events {
    worker_connections 4096;
}
http {
    default_type application/octet-stream;
    client_body_temp_path %[3]s/tmp/body;
    proxy_temp_path %[3]s/tmp/proxy;
    fastcgi_temp_path %[3]s/tmp/fastcgi;
    uwsgi_temp_path %[3]s/tmp/uwsgi;
    scgi_temp_path %[3]s/tmp/scgi;
%[4]s}
`, title, workers, dir, http)
}

// nginxProc writes conf into dir and starts nginx with it.
func (b *bench) nginxProc(ctx context.Context, name, dir, conf, cpus, addr string) (*proc, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	p, err := startProc(name, filepath.Join(dir, "stderr.log"), cpus, nil,
		b.o.nginx, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", file)
	if err != nil {
		return nil, err
	}
	if err := p.waitHTTP(ctx, addr); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, tail(filepath.Join(dir, "error.log")))
	}
	return p, nil
}

// startSignet starts `signet serve` with the adapter on the server CPUs,
// trusting both keys for every path of the files directory. Its access log
// is off, as nginx's is.
func (b *bench) startSignet(ctx context.Context, adapter string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	// With -profile, the admin listener serves Go's profiler.
	admin := ""
	if b.o.profile != "" {
		if admin, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	// The edge cache plays nginx's open_file_cache: metadata for 60s
	// (open_file_cache_valid), and the small files' bytes in memory; the
	// 1 GiB file is over max_object_size and keeps the sendfile path.
	conf := b.signetConf("signet-"+adapter, "signet with the "+adapter+" adapter", adapter, addr, admin, fmt.Sprintf(`  - name: files
    origin: {type: dir, dir: {path: %s}}
    cache: {memory: 64MiB, max_object_size: 1MiB}
    behaviors: [{path: "*", key_groups: [bench], cache: {default_ttl: 60s, max_ttl: 60s}}]
`, b.files))
	p, err := b.signetProc(ctx, "signet-"+adapter, conf, addr)
	if err != nil {
		return nil, err
	}
	return &server{name: "signet " + adapter, adapter: adapter, addr: addr, admin: admin, p: p}, nil
}

// signetConf is a whole signet config for the process name (its data_dir
// is <work>/<name>-data): one listener with the adapter at
// addr, the admin listener at admin ("": none), logs as quiet as nginx's
// (warnings, no access log), the run's public keys as key group "bench",
// and the distributions (YAML list items).
func (b *bench) signetConf(name, title, adapter, addr, admin, distributions string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "# edgebench: %s\ndata_dir: %s\n", title, b.path(name+"-data"))
	fmt.Fprintf(&s, "listeners:\n  - address: %s\n    adapter: %s\n", addr, adapter)
	if admin != "" {
		fmt.Fprintf(&s, "admin: {address: %s, pprof: %t}\n", admin, b.o.profile != "")
	}
	// The verified-link cache: see verifiedLinks.
	fmt.Fprintf(&s, "limits: {verified_links: %d}\n", verifiedLinks)
	s.WriteString("log: {level: warn, format: json, access_log: false}\nkey_groups:\n  bench:\n")
	for _, k := range b.keys {
		fmt.Fprintf(&s, "    - {id: %s, public_key_file: %s}\n", k.signer.KeyID(), k.pubFile)
	}
	s.WriteString("distributions:\n" + distributions)
	return s.String()
}

// signetProc writes conf and starts signet with it on the server CPUs, with
// GOMAXPROCS set to their number, and env added to its environment.
func (b *bench) signetProc(ctx context.Context, name, conf, addr string, env ...string) (*proc, error) {
	file := b.path(name + ".yaml")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	p, err := startProc(name, b.path(name+".log"), b.o.serverCPUs,
		append([]string{"GOMAXPROCS=" + strconv.Itoa(b.o.nServer)}, env...), b.o.signet, "serve", "--config", file)
	if err != nil {
		return nil, err
	}
	if err := p.waitHTTP(ctx, addr); err != nil {
		return nil, err
	}
	return p, nil
}

// checkAll makes sure that no server is an open door and that each serves
// the right bytes: a signed link (the first warm one, and for signet one
// per key) gets 200 and the file, an unsigned or tampered link 403.
func (b *bench) checkAll(ctx context.Context) error {
	want, err := os.ReadFile(filepath.Join(b.files, b.objects[0]))
	if err != nil {
		return err
	}
	var errs []string
	check := func(s *server, target string, status int, body []byte) {
		got, gotBody, err := get(ctx, s.addr, host, target, nil)
		switch {
		case err != nil:
			errs = append(errs, fmt.Sprintf("%s: GET %s: %v", s.name, redact(target), err))
		case got != status:
			errs = append(errs, fmt.Sprintf("%s: GET %s = %d; want %d", s.name, redact(target), got, status))
		case body != nil && !bytes.Equal(gotBody, body):
			errs = append(errs, fmt.Sprintf("%s: GET %s: body differs from the file (%d bytes; want %d)", s.name, redact(target), len(gotBody), len(body)))
		}
	}
	firstLink := func(name string) string {
		l, _ := firstLineOf(b.path("links-" + name + "-warm"))
		return l
	}
	ng := firstLink("nginx")
	check(b.nginx, ng, 200, want)
	check(b.nginx, b.objects[0], 403, nil)
	check(b.nginx, tamper(ng, "md5="), 403, nil)
	for _, s := range b.signets {
		check(s, b.objects[0], 403, nil)
		for _, k := range b.keys {
			l := firstLink(k.short)
			check(s, l, 200, want)
			check(s, tamper(l, "Signature="), 403, nil)
		}
		// An nginx link is no CloudFront link.
		check(s, ng, 403, nil)
	}
	if len(errs) > 0 {
		return fmt.Errorf("servers failed the checks before the race:\n  %s", strings.Join(errs, "\n  "))
	}
	b.logf("checked: every server answers 200 with the file to a signed link, 403 to unsigned and tampered ones")
	return nil
}

// get sends GET target to addr with the Host header and returns the status
// and body.
func get(ctx context.Context, addr, hostHeader, target string, header http.Header) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+target, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Host = hostHeader
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// tamper changes the first character of the value after name in target.
func tamper(target, name string) string {
	i := strings.Index(target, name)
	if i < 0 {
		return target + "&" + name + "x"
	}
	i += len(name)
	c := byte('A')
	if target[i] == 'A' {
		c = 'B'
	}
	return target[:i] + string(c) + target[i+1:]
}

// redact drops the query of a target for error messages: signatures are
// never printed (STYLE.md).
func redact(target string) string {
	p, _, _ := strings.Cut(target, "?")
	return p
}

// writeRandom writes size pseudo-random bytes to file.
func writeRandom(file string, size int64, seed byte) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := io.CopyN(w, rand.NewChaCha8([32]byte{seed}), size); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// firstLineOf returns a file's first line.
func firstLineOf(file string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	return sc.Text(), sc.Err()
}

// tail returns the end of a file, for error messages.
func tail(file string) string {
	b, _ := os.ReadFile(file)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// firstLine runs bin with args and returns the first line it prints.
func firstLine(bin string, args ...string) string {
	out, _ := exec.Command(bin, args...).CombinedOutput()
	l, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return l
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for l := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

// ratio formats a/b, or "-" when b is zero.
func ratio(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}
