package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// row is one server's figures in a request-rate case.
type row struct {
	caseName string
	server   *server
	res      wrkResult
	cpuReq   float64 // server CPU per request, µs
	srvCPU   float64 // server CPU over the run, as a share of its CPUs
	other    float64 // machine CPU used by neither server nor wrk, in CPUs
	ref      *row    // nginx's row of the same case
}

// bigRow is one server's figures in the 1 GiB case.
type bigRow struct {
	server *server
	mbps   float64 // 10^6 bytes per second
	cpuGiB float64 // server CPU seconds per GiB
	// srvCPU and clientCPU are the server's and the client's CPU over the
	// downloads, as shares of their CPUs.
	srvCPU, clientCPU float64
	ref               *bigRow
}

// rateSpec is one request-rate case.
type rateSpec struct {
	name string
	// links names the file of request targets for a server; warmLinks
	// the file its warm-up cycles through (the warm links, also before a
	// cold run, whose own links must stay unseen).
	links, warmLinks func(*server) string
	mode             string // urls.lua's: "cycle" or "once"
	d                time.Duration
}

// warmLinks names the warm links for a server and key.
func warmLinks(k *benchKey) func(*server) string {
	return func(s *server) string {
		if s.isNginx() {
			return "links-nginx-warm"
		}
		return "links-" + k.short + "-warm"
	}
}

// rateCases runs the 1 KiB cases: warm for each key, then cold for each
// key, each case nginx first, then both signet adapters.
func (b *bench) rateCases(ctx context.Context) error {
	b.warmMax = map[string]float64{}
	for _, k := range b.keys {
		spec := rateSpec{name: "1 KiB warm, " + k.name, links: warmLinks(k), warmLinks: warmLinks(k), mode: "cycle", d: b.o.warm}
		rows, err := b.rateCase(ctx, spec)
		if err != nil {
			return err
		}
		for _, r := range rows {
			name := k.short
			if r.server.isNginx() {
				name = "nginx"
			}
			b.warmMax[name] = max(b.warmMax[name], r.res.rps())
		}
	}
	if err := b.coldLinks(); err != nil {
		return err
	}
	for _, k := range b.keys {
		links := func(s *server) string {
			if s.isNginx() {
				// nginx keeps nothing per link: its cold links are only
				// distinct, as signet's are.
				return "links-nginx-cold-" + k.short
			}
			return "links-" + k.short + "-cold"
		}
		spec := rateSpec{name: "1 KiB cold, " + k.name, links: links, warmLinks: warmLinks(k), mode: "once", d: b.o.cold}
		if _, err := b.rateCase(ctx, spec); err != nil {
			return err
		}
	}
	return nil
}

// rateCase measures every server with wrk, nginx first: the reference of
// the signet rows' ratios.
func (b *bench) rateCase(ctx context.Context, spec rateSpec) ([]*row, error) {
	var rows []*row
	for _, s := range b.all() {
		r, err := b.measure(ctx, spec, s)
		if err != nil {
			return nil, err
		}
		if !s.isNginx() {
			r.ref = rows[0]
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// all is nginx, then the signet servers.
func (b *bench) all() []*server { return append([]*server{b.nginx}, b.signets...) }

// coldLinks writes the links of the cold cases: for each key, more than
// signet can use in one cold run, bounded by the faster of its warm runs
// and by cfsign's one-core verify rate (every cold request verifies a
// signature on the one server CPU), with a 25% margin. Every link has its
// own Expires, after every warm link's, so none was sent before. Both signet
// processes get the same links, which neither has seen.
func (b *bench) coldLinks() error {
	exp := time.Now().Add(25 * time.Hour).Unix()
	for _, k := range b.keys {
		vr, err := verifyRate(k.signer, host, 300*time.Millisecond)
		if err != nil {
			return err
		}
		bound := min(b.warmMax[k.short], vr*float64(b.o.nServer))
		n := int(math.Ceil(1.25*bound*b.o.cold.Seconds())) + 1000
		start := time.Now()
		b.logf("signing %d cold %s links (warm max %.0f/s, cfsign verifies %.0f/s on one core)", n, k.name, b.warmMax[k.short], vr)
		set := linkSet{objects: b.objects, expires: exp, step: 1, n: n}
		if err := writeLinks(b.path("links-"+k.short+"-cold"), set, cloudFront(k.signer, host)); err != nil {
			return err
		}
		b.logf("signed in %s", time.Since(start).Round(100*time.Millisecond))
		// nginx's links cost an MD5 each, so they are counted generously:
		// its cold runs have gone 1.7 times as fast as its warm ones (a
		// quick run's warm rate is taken over 2 seconds of a busy CI
		// machine), and ran out of 1.5 times as many.
		nn := int(math.Ceil(max(2.5*b.warmMax["nginx"], nginxColdFloor)*b.o.cold.Seconds())) + 1000
		set = linkSet{objects: b.objects, expires: exp, step: 1, n: nn}
		if err := writeLinks(b.path("links-nginx-cold-"+k.short), set, nginxMD5(nginxSecret)); err != nil {
			return err
		}
	}
	return nil
}

// nginxColdFloor is the least request rate nginx's cold links are made
// for, per second of a cold run: more than it has reached here on one core.
const nginxColdFloor = 100_000

// disturbed is the "other" CPU load (in CPUs) above which a warm run is
// taken again: the kernel's own network work stays well below it.
const disturbed = 0.3

// measure runs wrk against s for the case, after a warm-up of -warmup, and
// records the row. A warm run ("cycle") disturbed by other load is taken again, up
// to three times in all, and the least disturbed kept; a cold run cannot
// be (its links are spent). Requests that failed mark the run as a failure.
func (b *bench) measure(ctx context.Context, spec rateSpec, s *server) (*row, error) {
	name := spec.name
	var best *row
	for attempt := 1; ; attempt++ {
		r, err := b.measureOnce(ctx, spec, s)
		if err != nil {
			return nil, err
		}
		if best == nil || r.other < best.other {
			best = r
		}
		if best.other <= disturbed || spec.mode != "cycle" || attempt == 3 {
			break
		}
		b.logf("disturbed by %.2f CPUs of other load: again", r.other)
	}
	b.rows = append(b.rows, best)
	res := best.res
	if res.Exhausted > 0 {
		b.fail("%s, %s: the cold links ran out (%d requests after the last one): the run is invalid; raise the margin in coldLinks", name, s.name, res.Exhausted)
	}
	if res.Bytes < res.Requests*smallSize {
		b.fail("%s, %s: %d bytes for %d responses, less than the %d-byte file each", name, s.name, res.Bytes, res.Requests, smallSize)
	}
	if e := res.errors(); e > 0 && res.Exhausted == 0 {
		b.fail("%s, %s: %d requests failed (connect %d, read %d, write %d, timeout %d, non-2xx %d)", name, s.name, e,
			res.Connect, res.Read, res.Write, res.Timeout, res.Status)
	}
	return best, nil
}

// measureOnce waits for a quiet machine, warms up and takes one run.
func (b *bench) measureOnce(ctx context.Context, spec rateSpec, s *server) (*row, error) {
	name := spec.name
	w := wrkRun{
		bin: b.o.wrk, script: b.path("urls.lua"), cpus: b.o.clientCPUs, threads: b.o.nClient,
		conns: b.o.conns, addr: s.addr, host: host, targets: b.path(spec.warmLinks(s)), mode: "cycle",
	}
	if err := b.waitQuiet(ctx); err != nil {
		return nil, err
	}
	if b.o.warmup > 0 {
		w.duration = b.o.warmup
		if _, err := w.run(ctx); err != nil {
			return nil, fmt.Errorf("%s, %s warm-up: %w", name, s.name, err)
		}
	}
	w.targets, w.mode = b.path(spec.links(s)), spec.mode
	pids, err := s.p.pids()
	if err != nil {
		return nil, err
	}
	before, err := takeCPU(pids)
	if err != nil {
		return nil, err
	}
	w.duration = spec.d
	prof := b.startProfile(ctx, spec, s)
	res, err := w.run(ctx)
	if perr := prof(); perr != nil {
		b.logf("profile of %s, %s: %v", name, s.name, perr)
	}
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", name, s.name, err)
	}
	after, err := takeCPU(pids)
	if err != nil {
		return nil, err
	}
	srv, secs := after.server-before.server, res.Duration.Seconds()
	r := &row{
		caseName: name, server: s, res: res,
		cpuReq: srv / float64(res.Requests) * 1e6,
		srvCPU: srv / secs / float64(b.o.nServer),
		// Tick rounding can make it slightly negative on a quiet machine.
		other: max(0, (after.machine-before.machine-srv-res.ClientCPU.Seconds())/secs),
	}
	b.logf("%-24s %-16s %8.0f req/s  p99 %-8s  %5.1f µs CPU/req  server CPU %3.0f%%  wrk CPU %3.0f%%  other %.2f CPUs", name, s.name,
		res.rps(), fmtDur(res.P99), r.cpuReq, 100*r.srvCPU, 100*res.ClientCPU.Seconds()/secs, r.other)
	return r, nil
}

// startProfile starts, with -profile, a CPU profile of signet server s for
// the run's length less a second, and returns a function that waits for it
// and saves it as <dir>/<case>-<adapter>.pprof.
func (b *bench) startProfile(ctx context.Context, spec rateSpec, s *server) func() error {
	if b.o.profile == "" || s.admin == "" {
		return func() error { return nil }
	}
	secs := max(1, int(spec.d/time.Second)-1)
	name := strings.NewReplacer(" ", "-", ",", "", "/", "-").Replace(strings.ToLower(spec.name)) + "-" + s.adapter + ".pprof"
	done := make(chan error, 1)
	go func() {
		status, body, err := get(ctx, s.admin, s.admin, fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), nil)
		if err == nil && status != 200 {
			err = fmt.Errorf("/debug/pprof/profile: status %d", status)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(b.o.profile, name), body, 0o644)
		}
		done <- err
	}()
	return func() error { return <-done }
}

// waitQuiet waits, up to -quiet-wait, until the machine has been nearly idle for
// half a second (under 0.2 busy CPUs while every bench server is idle), so
// that a run does not start in the middle of someone else's build. Runs
// are disturbed anyway when load arrives during them: the "other" column
// shows it.
func (b *bench) waitQuiet(ctx context.Context) error {
	deadline := time.Now().Add(b.o.quietWait)
	for {
		before, err := machineBusy()
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		after, err := machineBusy()
		if err != nil {
			return err
		}
		busy := (after - before) / 0.5
		if busy < 0.2 {
			return nil
		}
		if time.Now().After(deadline) {
			b.logf("the machine stayed busy (%.2f CPUs besides the bench) for %s: measuring anyway", busy, b.o.quietWait)
			b.busyStarts++
			return nil
		}
	}
}

// bigCase downloads the 1 GiB file from each server on the client CPUs
// (the download subcommand, which discards the body in the kernel): one
// untimed download to warm up, then o.downloads timed ones, one after
// another.
func (b *bench) bigCase(ctx context.Context) error {
	exp := time.Now().Add(24 * time.Hour).Unix()
	const path = "/big/1g.bin"
	var ref *bigRow
	for _, s := range b.all() {
		var target string
		var err error
		if s.isNginx() {
			target, err = nginxMD5(nginxSecret)(path, exp)
		} else {
			target, err = cloudFront(b.keys[0].signer, host)(path, exp)
		}
		if err != nil {
			return err
		}
		if err := b.waitQuiet(ctx); err != nil {
			return err
		}
		if _, _, _, err := b.download(ctx, s, target); err != nil {
			return err
		}
		pids, err := s.p.pids()
		if err != nil {
			return err
		}
		before, err := takeCPU(pids)
		if err != nil {
			return err
		}
		var bytes int64
		var secs, clientCPU float64
		for range b.o.downloads {
			n, t, c, err := b.download(ctx, s, target)
			if err != nil {
				return err
			}
			bytes += n
			secs += t
			clientCPU += c
		}
		after, err := takeCPU(pids)
		if err != nil {
			return err
		}
		r := &bigRow{server: s, mbps: float64(bytes) / secs / 1e6, cpuGiB: (after.server - before.server) / (float64(bytes) / (1 << 30)),
			srvCPU: (after.server - before.server) / secs / float64(b.o.nServer), clientCPU: clientCPU / secs, ref: ref}
		b.bigRows = append(b.bigRows, r)
		if s.isNginx() {
			ref = r
		}
		b.logf("1 GiB %-16s %8.0f MB/s  %.3f s CPU/GiB", s.name, r.mbps, r.cpuGiB)
	}
	return nil
}

// download fetches target from s once with the download subcommand,
// pinned to the client CPUs, and returns the bytes, the seconds it took and
// the client's CPU seconds. Anything but a whole 200 is an error.
func (b *bench) download(ctx context.Context, s *server, target string) (n int64, secs, cpu float64, err error) {
	self, err := os.Executable()
	if err != nil {
		return 0, 0, 0, err
	}
	cmd := exec.CommandContext(ctx, "taskset", "-c", b.o.clientCPUs, self, "download",
		"-addr", s.addr, "-host", host, "-target", target, "-size", strconv.Itoa(bigSize))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return 0, 0, 0, fmt.Errorf("1 GiB from %s: %w: %s", s.name, err, errb.String())
	}
	var res downloadResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return 0, 0, 0, fmt.Errorf("1 GiB from %s: %w", s.name, err)
	}
	cpu = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	return res.Bytes, res.Seconds, cpu, nil
}

// printRates prints the request-rate table and the 1 GiB table.
func (b *bench) printRates() {
	if len(b.rows) > 0 {
		fmt.Fprintf(b.out, "\n1 KiB objects behind signed links; ratios are signet/nginx (RPS above 1 and CPU and p99 below 1 favour signet)\n\n")
		tw := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "case\tserver\tRPS\tp99\tCPU/req µs\tRPS ratio\tCPU ratio\tp99 ratio\terrors\tserver CPU\twrk CPU\tother\t")
		last := ""
		for _, r := range b.rows {
			name := r.caseName
			if name == last {
				name = ""
			}
			last = r.caseName
			rr, cr, pr := "", "", ""
			if r.ref != nil {
				rr = ratio(r.res.rps(), r.ref.res.rps())
				cr = ratio(r.cpuReq, r.ref.cpuReq)
				pr = ratio(r.res.P99.Seconds(), r.ref.res.P99.Seconds())
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%.1f\t%s\t%s\t%s\t%d\t%.0f%%\t%.0f%%\t%.2f\t\n", name, r.server.name, r.res.rps(), fmtDur(r.res.P99),
				r.cpuReq, rr, cr, pr, r.res.errors(), 100*r.srvCPU, 100*r.res.ClientCPU.Seconds()/r.res.Duration.Seconds(), r.other)
		}
		tw.Flush()
		fmt.Fprintf(b.out, "\nserver CPU: the server's CPU time over the run, as a share of its %d CPU(s); well below 100%% it was not the limit.\n", b.o.nServer)
		fmt.Fprintf(b.out, "wrk CPU: the load generator's own; near %d%% it, not the server, may be the limit.\n", 100*b.o.nClient)
		fmt.Fprintf(b.out, "other: busy CPUs of the machine beyond server and wrk (kernel network work, and anything else running: above ~0.3 the run was disturbed).\n")
	}
	if len(b.bigRows) > 0 {
		fmt.Fprintf(b.out, "\n1 GiB object, %d sequential download(s) per server after one untimed; the client discards the body in the kernel (recv MSG_TRUNC)\n\n", b.o.downloads)
		tw := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "server\tMB/s\tCPU s/GiB\tMB/s ratio\tCPU ratio\tserver CPU\tclient CPU\t")
		for _, r := range b.bigRows {
			mr, cr := "", ""
			if r.ref != nil {
				mr, cr = ratio(r.mbps, r.ref.mbps), ratio(r.cpuGiB, r.ref.cpuGiB)
			}
			fmt.Fprintf(tw, "%s\t%.0f\t%.3f\t%s\t%s\t%.0f%%\t%.0f%%\t\n", r.server.name, r.mbps, r.cpuGiB, mr, cr, 100*r.srvCPU, 100*r.clientCPU)
		}
		tw.Flush()
	}
}

// fmtDur prints a latency in ms with two decimals.
func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}
