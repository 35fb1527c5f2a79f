// Command crypto measures signet's signing and verifying rates on one core
// and runs `openssl speed` on the same machine in the same run, then prints
// one table with the ratios (STYLE.md, "Peer comparisons").
//
// Two kinds of rows:
//   - raw: crypto/rsa and crypto/ecdsa over a 32-byte digest, the same work
//     as `openssl speed rsa2048 ecdsap256` (which signs a 36- or 20-byte
//     buffer), so the ratio compares the crypto libraries;
//   - cfsign: Signer.SignPolicy on the §15 canned policy and Verifier.Verify
//     on a real canned URL, the whole path a link takes, against the same
//     OpenSSL figure.
//
// Usage (bench/crypto/run.sh sets GOMAXPROCS=1):
//
//	go run . [-d 3s] [-openssl /usr/bin/openssl]
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("crypto", flag.ContinueOnError)
	fs.SetOutput(stderr)
	d := fs.Duration("d", 3*time.Second, "time spent measuring each operation, here and in openssl speed (whole seconds there)")
	opensslPath := fs.String("openssl", "/usr/bin/openssl", "the openssl binary to compare with")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *d < time.Second {
		fmt.Fprintln(stderr, "crypto: -d must be at least 1s")
		return 2
	}
	// One core, as openssl speed without -multi uses.
	runtime.GOMAXPROCS(1)

	ops, err := newOps()
	if err != nil {
		fmt.Fprintf(stderr, "crypto: %v\n", err)
		return 1
	}
	rates := map[string]float64{}
	for _, op := range ops {
		fmt.Fprintf(stderr, "crypto: measuring %s for %v\n", op.name, *d)
		r, warn, err := measure(*d, op.fn)
		if err != nil {
			fmt.Fprintf(stderr, "crypto: %s: %v\n", op.name, err)
			return 1
		}
		if warn != "" {
			fmt.Fprintf(stderr, "crypto: warning: %s %s; other processes compete for the CPU\n", op.name, warn)
		}
		rates[op.name] = r
	}
	fmt.Fprintf(stderr, "crypto: running %s speed -seconds %d rsa2048 ecdsap256\n", *opensslPath, int(d.Seconds()))
	ossl, err := opensslSpeed(ctx, *opensslPath, int(d.Seconds()))
	if err != nil {
		fmt.Fprintf(stderr, "crypto: %v\n", err)
		return 1
	}

	fmt.Fprintf(stdout, "signet (%s, GOMAXPROCS=1) vs %s, single process; %v per operation\n\n",
		runtime.Version(), ossl.version, *d)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tsignet/s\topenssl/s\tratio\t")
	for _, op := range ops {
		o := ossl.rates[op.openssl]
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.2f\t\n", op.name, rates[op.name], o, rates[op.name]/o)
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stderr, "crypto: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "\nratio = signet/s / openssl/s, both per second of CPU time; raw rows use crypto/rsa (PKCS#1 v1.5) and crypto/ecdsa (ASN.1) over a 32-byte digest")
	return 0
}

// op is one measured operation and the openssl speed figure it is set against.
type op struct {
	name    string
	openssl string // key into opensslResult.rates
	fn      func() error
}

// newOps makes fresh keys (no key file is read) and the operations on them.
func newOps() ([]op, error) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256([]byte("signet bench/crypto"))
	rsaSig, err := rsa.SignPKCS1v15(rand.Reader, rsaKey, crypto.SHA256, digest[:])
	if err != nil {
		return nil, err
	}
	ecSig, err := ecdsa.SignASN1(rand.Reader, ecKey, digest[:])
	if err != nil {
		return nil, err
	}
	rsaSign, rsaVerify, err := cfsignOps(rsaKey, cfsign.SHA1)
	if err != nil {
		return nil, err
	}
	ecSign, ecVerify, err := cfsignOps(ecKey, cfsign.SHA256)
	if err != nil {
		return nil, err
	}
	return []op{
		{"rsa2048 sign, crypto/rsa", "rsa2048 sign", func() error {
			_, err := rsa.SignPKCS1v15(rand.Reader, rsaKey, crypto.SHA256, digest[:])
			return err
		}},
		{"rsa2048 verify, crypto/rsa", "rsa2048 verify", func() error {
			return rsa.VerifyPKCS1v15(&rsaKey.PublicKey, crypto.SHA256, digest[:], rsaSig)
		}},
		{"ecdsap256 sign, crypto/ecdsa", "ecdsap256 sign", func() error {
			_, err := ecdsa.SignASN1(rand.Reader, ecKey, digest[:])
			return err
		}},
		{"ecdsap256 verify, crypto/ecdsa", "ecdsap256 verify", func() error {
			if !ecdsa.VerifyASN1(&ecKey.PublicKey, digest[:], ecSig) {
				return errors.New("signature does not verify")
			}
			return nil
		}},
		{"rsa2048-sha1 sign, cfsign SignPolicy", "rsa2048 sign", rsaSign},
		{"rsa2048-sha1 verify, cfsign Verify canned URL", "rsa2048 verify", rsaVerify},
		{"p256-sha256 sign, cfsign SignPolicy", "ecdsap256 sign", ecSign},
		{"p256-sha256 verify, cfsign Verify canned URL", "ecdsap256 verify", ecVerify},
	}, nil
}

// cfsignOps returns signing the §15 canned policy with cfsign.Signer, and
// verifying the §15 URL signed with it through cfsign.Verifier.
func cfsignOps(key crypto.Signer, hash cfsign.Hash) (sign, verify func() error, err error) {
	id, err := cfsign.KeyID(key.Public())
	if err != nil {
		return nil, nil, err
	}
	s, err := cfsign.NewSigner(id, key, hash)
	if err != nil {
		return nil, nil, err
	}
	v, err := cfsign.NewVerifier(map[string]crypto.PublicKey{id: key.Public()}, cfsign.Options{})
	if err != nil {
		return nil, nil, err
	}
	const origin = "https://d111111abcdef8.cloudfront.net"
	expires := time.Now().Add(24 * time.Hour)
	policy := cfsign.CannedPolicy(origin+"/image.jpg", expires.Unix())
	signed, err := s.SignCanned(origin+"/image.jpg", expires)
	if err != nil {
		return nil, nil, err
	}
	req := &cfsign.Request{Scheme: "https", Host: strings.TrimPrefix(origin, "https://"), Target: strings.TrimPrefix(signed, origin)}
	if _, err := v.Verify(req); err != nil {
		return nil, nil, fmt.Errorf("the signed URL does not verify: %w", err)
	}
	sign = func() error { _, err := s.SignPolicy(policy); return err }
	verify = func() error { _, err := v.Verify(req); return err }
	return sign, verify, nil
}

// measure runs fn for d of wall-clock time after a short warm-up and
// returns calls per second of CPU time (user and system) the process used,
// as openssl speed counts per second of its user time. So a busy machine
// changes neither figure much; warn reports when the process had less than
// 90% of a core.
func measure(d time.Duration, fn func() error) (rate float64, warn string, err error) {
	for range 10 {
		if err := fn(); err != nil {
			return 0, "", err
		}
	}
	n := 0
	start, cpu0 := time.Now(), cpuTime()
	for {
		if err := fn(); err != nil {
			return 0, "", err
		}
		n++
		if el := time.Since(start); el >= d {
			cpu := cpuTime() - cpu0
			if cpu < el*9/10 {
				warn = fmt.Sprintf("had %.0f%% of a core", 100*cpu.Seconds()/el.Seconds())
			}
			return float64(n) / cpu.Seconds(), warn, nil
		}
	}
}

// cpuTime is the user plus system time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err) // cannot fail for RUSAGE_SELF
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type opensslResult struct {
	version string
	rates   map[string]float64 // "rsa2048 sign", "rsa2048 verify", "ecdsap256 sign", "ecdsap256 verify"
}

// The summary lines of openssl 3.0's speed output:
//
//	                  sign    verify    sign/s verify/s
//	rsa 2048 bits 0.000335s 0.000019s   2987.8  52936.0
//	                              sign    verify    sign/s verify/s
//	 256 bits ecdsa (nistp256)   0.0000s   0.0001s  52375.8  17020.0
var (
	rsaLine     = regexp.MustCompile(`^rsa\s+2048 bits\s+\S+\s+\S+\s+([0-9.]+)\s+([0-9.]+)\s*$`)
	ecdsaLine   = regexp.MustCompile(`^\s*256 bits ecdsa \(nistp256\)\s+\S+\s+\S+\s+([0-9.]+)\s+([0-9.]+)\s*$`)
	versionLine = regexp.MustCompile(`^version:\s*(.+)$`)
)

func opensslSpeed(ctx context.Context, path string, seconds int) (opensslResult, error) {
	cmd := exec.CommandContext(ctx, path, "speed", "-seconds", strconv.Itoa(seconds), "rsa2048", "ecdsap256")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return opensslResult{}, fmt.Errorf("%s speed: %w\n%s", path, err, stderr.Bytes())
	}
	return parseSpeed(out)
}

// parseSpeed reads the version and the sign/s and verify/s columns of the
// RSA-2048 and ECDSA P-256 summary lines.
func parseSpeed(out []byte) (opensslResult, error) {
	res := opensslResult{version: "openssl", rates: map[string]float64{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if m := versionLine.FindStringSubmatch(line); m != nil {
			res.version = "OpenSSL " + strings.TrimSpace(m[1])
		}
		for _, alg := range []struct {
			name string
			re   *regexp.Regexp
		}{{"rsa2048", rsaLine}, {"ecdsap256", ecdsaLine}} {
			m := alg.re.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			for i, what := range []string{"sign", "verify"} {
				r, err := strconv.ParseFloat(m[i+1], 64)
				if err != nil {
					return res, fmt.Errorf("openssl speed: %q: %w", line, err)
				}
				res.rates[alg.name+" "+what] = r
			}
		}
	}
	for _, k := range []string{"rsa2048 sign", "rsa2048 verify", "ecdsap256 sign", "ecdsap256 verify"} {
		if res.rates[k] <= 0 {
			return res, fmt.Errorf("openssl speed: no %s rate in its output:\n%s", k, out)
		}
	}
	return res, nil
}
