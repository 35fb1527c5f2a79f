package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// options are edgebench's flags.
type options struct {
	signet, signetRev string
	nginx, wrk, curl  string
	minio             string
	quick             bool
	warm, warmup      time.Duration
	cold              time.Duration
	conns             int
	downloads         int
	ttfbN             int
	burstN            int
	serverCPUs        string
	clientCPUs        string
	cases             string
	keep              bool
	quietWait         time.Duration
	profile           string

	nServer, nClient int // CPUs in each list
	run              map[string]bool
}

func (o *options) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.signet, "signet", "bin/signet", "the signet binary")
	fs.StringVar(&o.signetRev, "signet-rev", "", "signet's revision, for the header")
	fs.StringVar(&o.nginx, "nginx", "nginx", "the nginx binary")
	fs.StringVar(&o.wrk, "wrk", "wrk", "the wrk binary")
	fs.StringVar(&o.curl, "curl", "curl", "the curl binary")
	fs.StringVar(&o.minio, "minio", "", "the MinIO binary (scripts/install-minio.sh --print-path); \"\" skips the MinIO case")
	fs.BoolVar(&o.quick, "quick", false, "run every case briefly (about 2 s each): checks that the bench works, measures little")
	fs.DurationVar(&o.warm, "warm", 10*time.Second, "length of each measured warm run (whole seconds)")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "wrk warm-up before each warm run (whole seconds; 0: none)")
	fs.DurationVar(&o.cold, "cold", 5*time.Second, "length of each cold run (whole seconds)")
	fs.IntVar(&o.conns, "conns", 50, "wrk connections in the request-rate cases")
	fs.IntVar(&o.downloads, "downloads", 3, "timed 1 GiB downloads per server")
	fs.IntVar(&o.ttfbN, "ttfb", 31, "cold objects per side in the time-to-first-byte case")
	fs.IntVar(&o.burstN, "burst", 100, "concurrent cold requests in the coalescing case")
	fs.StringVar(&o.serverCPUs, "server-cpus", "0", "CPUs the server under test is pinned to (taskset list)")
	fs.StringVar(&o.clientCPUs, "client-cpus", "1", "CPUs the clients and origins are pinned to (taskset list)")
	fs.StringVar(&o.cases, "cases", "rate,big,cache", "comma-separated groups to run: rate (1 KiB warm and cold), big (1 GiB), cache")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (its path is printed)")
	fs.StringVar(&o.profile, "profile", "", "save a CPU profile of signet during each of its measured 1 KiB runs into this directory (the profiler costs signet a little CPU)")
	fs.DurationVar(&o.quietWait, "quiet-wait", 30*time.Second, "before each run, wait up to this long for other load on the machine to stop")
}

// finish applies --quick and checks the flags.
func (o *options) finish() error {
	if o.quick {
		o.warm, o.warmup, o.cold = 2*time.Second, time.Second, time.Second
		o.downloads, o.ttfbN, o.quietWait = 1, 5, 3*time.Second
	}
	var errs []error
	var err error
	if o.nServer, err = countCPUs(o.serverCPUs); err != nil {
		errs = append(errs, fmt.Errorf("-server-cpus: %w", err))
	}
	if o.nClient, err = countCPUs(o.clientCPUs); err != nil {
		errs = append(errs, fmt.Errorf("-client-cpus: %w", err))
	}
	if o.warm < time.Second || o.cold < time.Second {
		errs = append(errs, errors.New("-warm and -cold must be at least 1s"))
	}
	if o.conns < 1 || o.downloads < 1 || o.ttfbN < 1 || o.burstN < 1 {
		errs = append(errs, errors.New("-conns, -downloads, -ttfb and -burst must be positive"))
	}
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			errs = append(errs, fmt.Errorf("-profile: %w", err))
		}
	}
	o.run = map[string]bool{}
	for c := range strings.SplitSeq(o.cases, ",") {
		switch c {
		case "rate", "big", "cache":
			o.run[c] = true
		default:
			errs = append(errs, fmt.Errorf("-cases: unknown group %q (rate, big, cache)", c))
		}
	}
	for _, bin := range []*string{&o.signet, &o.nginx, &o.wrk, &o.curl} {
		p, err := exec.LookPath(*bin)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*bin = p
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		errs = append(errs, err)
	}
	if runtime.NumCPU() < 2 {
		errs = append(errs, errors.New("needs at least 2 CPUs: one for the server, one for the client"))
	}
	return errors.Join(errs...)
}

// countCPUs counts the CPUs of a taskset list such as "0", "0-1" or "0,2".
func countCPUs(list string) (int, error) {
	n := 0
	for part := range strings.SplitSeq(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return 0, fmt.Errorf("%q is not a CPU list such as 0, 0-1 or 0,2", list)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0, fmt.Errorf("%q is not a CPU list such as 0, 0-1 or 0,2", list)
			}
		}
		n += b - a + 1
	}
	return n, nil
}
