package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// It is 100 on every Linux architecture Go supports (the kernel's
// CLOCK_TICKS_PER_SEC / USER_HZ is fixed for user space), so one tick is
// 10 ms of CPU time.
const clockTicks = 100

// proc is a child process: a server (nginx, signet, MinIO) that runs until
// stop. Not safe for concurrent use.
type proc struct {
	name   string
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
	err    error // cmd.Wait's result, set before exited closes
}

// procs holds every process started, for stopAll.
var procs []*proc

// startProc starts bin with args, pinned to cpus with taskset when cpus is
// not "", with its output in logPath, in a process group of its own (nginx's
// workers join it). stopAll stops the group when edgebench returns; the
// child is killed if edgebench dies (Pdeathsig), and run.sh's trap kills
// the groups listed in the state file if edgebench died without stopping
// them.
func startProc(name, logPath, cpus string, env []string, bin string, args ...string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	var cmd *exec.Cmd
	if cpus != "" {
		// taskset execs bin, so the pid is the server's own.
		cmd = exec.Command("taskset", append([]string{"-c", cpus, bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() { // waited for by stop
		p.err = cmd.Wait()
		close(p.exited)
	}()
	procs = append(procs, p)
	writeState()
	return p, nil
}

// stateFile, from $EDGEBENCH_STATE, lists what run.sh's trap must clean up
// if edgebench dies without doing it: "pgid N" for each running process
// group, "dir PATH" for the work directory. "" means no file.
var (
	stateFile = os.Getenv("EDGEBENCH_STATE")
	stateDir  string
)

// writeState rewrites the state file, or removes it when nothing is left
// to clean up.
func writeState() {
	if stateFile == "" {
		return
	}
	var b strings.Builder
	if stateDir != "" {
		fmt.Fprintf(&b, "dir %s\n", stateDir)
	}
	for _, p := range procs {
		select {
		case <-p.exited:
		default:
			fmt.Fprintf(&b, "pgid %d\n", p.pid())
		}
	}
	if b.Len() == 0 {
		os.Remove(stateFile)
		return
	}
	os.WriteFile(stateFile, []byte(b.String()), 0o600)
}

// stop ends the process group: SIGTERM (nginx: fast shutdown, signet:
// graceful), then SIGKILL after 10 s, and SIGKILL to whatever is left of
// the group (so that no nginx worker outlives its master).
func (p *proc) stop() {
	select {
	case <-p.exited:
	default:
		_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
			<-p.exited
		}
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	writeState()
}

// stopAll stops every process started, the last first.
func stopAll() {
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].stop()
	}
	procs = nil
}

// pid is the process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// logTail returns the end of the process's log, for error messages.
func (p *proc) logTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// waitHTTP waits until something answers HTTP at addr (any status), or the
// process exits, or 60 s pass.
func (p *proc) waitHTTP(ctx context.Context, addr string) error {
	deadline := time.Now().Add(60 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before it answered at %s (%v):\n%s", p.name, addr, p.err, p.logTail())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer at %s within a minute:\n%s", p.name, addr, p.logTail())
		}
	}
}

// pids returns the process and its children (nginx's workers), whose CPU
// time counts as the server's.
func (p *proc) pids() ([]int, error) {
	kids, err := children(p.pid())
	if err != nil {
		return nil, err
	}
	return append([]int{p.pid()}, kids...), nil
}

// children lists the processes whose parent is pid, from /proc.
func children(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var kids []int
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		st, err := parseStat(b)
		if err != nil {
			return nil, err
		}
		if st.ppid == pid {
			kids = append(kids, n)
		}
	}
	return kids, nil
}

// stat is what edgebench reads from /proc/<pid>/stat.
type stat struct {
	ppid  int
	ticks int64 // utime + stime, in clockTicks
}

// parseStat reads /proc/<pid>/stat. The command name (field 2) is in
// parentheses and may hold spaces or parentheses, so fields are counted
// from the last ')'.
func parseStat(b []byte) (stat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, errors.New("proc stat: no ')'")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return stat{}, fmt.Errorf("proc stat: %d fields after the name", len(f))
	}
	ppid, err1 := strconv.Atoi(f[4-3])
	utime, err2 := strconv.ParseInt(f[14-3], 10, 64)
	stime, err3 := strconv.ParseInt(f[15-3], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return stat{}, fmt.Errorf("proc stat: %w", err)
	}
	return stat{ppid: ppid, ticks: utime + stime}, nil
}

// cpuSeconds is the user plus system CPU time the processes used so far.
func cpuSeconds(pids []int) (float64, error) {
	var ticks int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, fmt.Errorf("read cpu time: %w", err)
		}
		st, err := parseStat(b)
		if err != nil {
			return 0, err
		}
		ticks += st.ticks
	}
	return float64(ticks) / clockTicks, nil
}

// procStatus returns a field of /proc/<pid>/status in bytes, such as
// VmHWM or VmRSS ("VmHWM:     12345 kB").
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc status %s: %w", field, err)
		}
		return kb << 10, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("proc status: no %s", field)
}

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// cpuTimes are CPU seconds used so far: by the server's processes, and by
// the whole machine.
type cpuTimes struct{ server, machine float64 }

// takeCPU reads the CPU time of the processes and of the machine.
func takeCPU(pids []int) (cpuTimes, error) {
	srv, err := cpuSeconds(pids)
	if err != nil {
		return cpuTimes{}, err
	}
	m, err := machineBusy()
	return cpuTimes{srv, m}, err
}

// machineBusy is the busy CPU time of the whole machine so far, in seconds:
// every column of /proc/stat's "cpu" line but idle and iowait (guest time
// is already in user and nice).
func machineBusy() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseMachineBusy(b)
}

func parseMachineBusy(b []byte) (float64, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("proc stat: first line %q", line)
	}
	var busy int64
	// user nice system idle iowait irq softirq steal
	for i, v := range f[1:9] {
		if i == 3 || i == 4 {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc stat: %w", err)
		}
		busy += n
	}
	return float64(busy) / clockTicks, nil
}
