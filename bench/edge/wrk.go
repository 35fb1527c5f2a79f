package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what urls.lua's done() reports for one wrk run.
type wrkResult struct {
	Requests  int64
	Duration  time.Duration
	Bytes     int64
	Connect   int64 // socket errors, by kind
	Read      int64
	Write     int64
	Timeout   int64
	Status    int64 // responses that were not 2xx or 3xx
	P50, P99  time.Duration
	Max       time.Duration
	Exhausted int64 // requests sent after a "once" file ran out
	ClientCPU time.Duration
}

// errors sums every kind of failed request.
func (r wrkResult) errors() int64 {
	return r.Connect + r.Read + r.Write + r.Timeout + r.Status + r.Exhausted
}

// rps is requests per second.
func (r wrkResult) rps() float64 { return float64(r.Requests) / r.Duration.Seconds() }

// parseWrk finds the EDGEBENCH line in wrk's output.
func parseWrk(out []byte) (wrkResult, error) {
	var line string
	for l := range strings.SplitSeq(string(out), "\n") {
		if rest, ok := strings.CutPrefix(l, "EDGEBENCH "); ok {
			line = rest
		}
	}
	if line == "" {
		return wrkResult{}, fmt.Errorf("wrk printed no EDGEBENCH line")
	}
	var r wrkResult
	counts := map[string]*int64{"requests": &r.Requests, "bytes": &r.Bytes, "connect": &r.Connect, "read": &r.Read,
		"write": &r.Write, "status": &r.Status, "timeout": &r.Timeout, "exhausted": &r.Exhausted}
	micros := map[string]*time.Duration{"duration_us": &r.Duration, "p50_us": &r.P50, "p99_us": &r.P99, "max_us": &r.Max}
	for kv := range strings.FieldsSeq(line) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return wrkResult{}, fmt.Errorf("wrk output: %q is not key=value", kv)
		}
		if k == "mean_us" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return wrkResult{}, fmt.Errorf("wrk output %s: %w", k, err)
		}
		if p, ok := counts[k]; ok {
			*p = n
		} else if p, ok := micros[k]; ok {
			*p = time.Duration(n) * time.Microsecond
		}
	}
	if r.Requests == 0 || r.Duration <= 0 {
		return wrkResult{}, fmt.Errorf("wrk made no requests: %s", line)
	}
	return r, nil
}

// wrkRun is one wrk invocation.
type wrkRun struct {
	bin, script string
	cpus        string // taskset list for wrk
	threads     int
	conns       int
	duration    time.Duration
	addr        string // server address
	host        string // Host header
	targets     string // file of request targets
	mode        string // "cycle" or "once"
}

// run starts wrk pinned to its CPUs and parses its report.
func (w wrkRun) run(ctx context.Context) (wrkResult, error) {
	secs := int(w.duration.Round(time.Second) / time.Second)
	args := []string{"-c", w.cpus, w.bin,
		"-t", strconv.Itoa(w.threads), "-c", strconv.Itoa(w.conns), "-d", strconv.Itoa(max(secs, 1)) + "s",
		"--timeout", "10s", "-s", w.script, "http://" + w.addr + "/",
		"--", w.targets, w.mode, w.host, strconv.Itoa(w.threads)}
	cmd := exec.CommandContext(ctx, "taskset", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w: %s%s", err, out.String(), errb.String())
	}
	r, err := parseWrk(out.Bytes())
	if err != nil {
		return wrkResult{}, fmt.Errorf("%w:\n%s%s", err, out.String(), errb.String())
	}
	r.ClientCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return r, nil
}
