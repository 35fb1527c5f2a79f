// Command edgebench races signet's edge against nginx with secure_link_md5
// on this machine, in one run, and prints one table with the ratios
// (issue 5; STYLE.md, "Peer comparisons"). bench/edge/run.sh installs nginx
// and wrk, builds signet and this program, and runs it:
//
//	bench/edge/run.sh [--quick] [flags]
//
// Servers: nginx (secure_link + secure_link_md5, tuned: sendfile, tcp_nopush,
// open_file_cache, access_log off, long keep-alive), and signet with its
// nethttp and its fasthttp adapter (CloudFront canned-policy links, one case
// with an ECDSA P-256 key, one with an RSA-2048 key). All serve the same
// files from one local directory.
//
// Fairness: every server is pinned with taskset to the server CPUs (default
// CPU 0) and every client (wrk, curl, and the download, TTFB and burst
// clients, which are subcommands of this program) to the client CPUs
// (default CPU 1), so the two never compete for a core. nginx
// runs as many workers, and signet with GOMAXPROCS as large, as the server
// has CPUs. The origins of the cache cases (MinIO, an nginx with an access
// log) stand for remote storage and run on the client CPUs.
//
// Cases:
//   - 1 KiB warm: wrk cycles through 10,000 distinct signed links (10,000
//     distinct files) after a warm-up over the same links;
//   - 1 KiB cold: every request carries a link never sent before (its own
//     Expires), so signet verifies a signature on each; the link files are
//     sized from the warm rate and cfsign's one-core verify rate, and a run
//     that runs out fails instead of wrapping around;
//   - 1 GiB: MB/s of sequential downloads, and server CPU per GiB; the
//     client discards the body in the kernel (recv with MSG_TRUNC), since a
//     client copying every byte (curl) was slower than nginx's sendfile;
//   - cache (needs distributions[].cache in signet's config): time to first
//     byte of a miss from MinIO against a direct presigned GET, origin GETs
//     caused by 100 concurrent cold requests for one object (counted in the
//     origin's access log), and RSS and cache size while streaming 2 GiB.
//
// Server CPU per request is the utime+stime the server's processes (nginx's
// master and workers summed) gained in /proc/<pid>/stat over the measured
// run, divided by the requests wrk counted. Before each run edgebench waits
// for the machine to be quiet, and a warm run disturbed by other load is
// taken again; each row shows the load that was not the server's or wrk's.
// With -profile DIR, signet's CPU profile of each 1 KiB run is saved there.
//
// Nothing here asserts a timing: edgebench fails (exit 1) only when
// something did not run, such as a server refusing a valid link before the
// race, answering an unsigned or tampered link with anything but 403, a
// non-2xx answer during a run, or cold links running out.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "ttfb":
			return runTTFB(ctx, args[1:], stdout, stderr)
		case "burst":
			return runBurst(ctx, args[1:], stdout, stderr)
		case "download":
			return runDownload(ctx, args[1:], stdout, stderr)
		}
	}
	var o options
	fs := flag.NewFlagSet("edgebench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.flags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "edgebench: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if err := o.finish(); err != nil {
		fmt.Fprintf(stderr, "edgebench: %v\n", err)
		return 2
	}
	b := &bench{o: o, out: stdout, log: stderr}
	err := b.run(ctx)
	stopAll()
	b.cleanup()
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "edgebench: interrupted; every process it started is stopped")
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "edgebench: %v\n", err)
		return 1
	}
	if len(b.failures) > 0 {
		fmt.Fprintf(stderr, "edgebench: %d problem(s):\n", len(b.failures))
		for _, f := range b.failures {
			fmt.Fprintf(stderr, "  - %s\n", f)
		}
		return 1
	}
	return 0
}
