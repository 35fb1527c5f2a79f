package main

import (
	"bufio"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/signet-dev/signet/internal/cfsign"
)

// benchKey is one signing key of the run, with the public key signet
// trusts.
type benchKey struct {
	name    string // "ECDSA P-256" or "RSA-2048"
	short   string // "ecdsa" or "rsa", for file names
	signer  *cfsign.Signer
	pubFile string
}

// newKey makes a key pair, writes its public key into dir, and returns a
// signer with the hash the signet CLI uses by default for the key type:
// SHA-256 for ECDSA, SHA-1 for RSA (what CloudFront and the SDKs use).
func newKey(dir, short string) (*benchKey, error) {
	var (
		key  crypto.Signer
		hash cfsign.Hash
		name string
		err  error
	)
	switch short {
	case "ecdsa":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		hash, name = cfsign.SHA256, "ECDSA P-256"
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
		hash, name = cfsign.SHA1, "RSA-2048"
	default:
		return nil, fmt.Errorf("unknown key type %q", short)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", short, err)
	}
	id, err := cfsign.KeyID(key.Public())
	if err != nil {
		return nil, err
	}
	s, err := cfsign.NewSigner(id, key, hash)
	if err != nil {
		return nil, err
	}
	pub, err := cfsign.MarshalPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	pubFile := filepath.Join(dir, short+"_public_key.pem")
	if err := os.WriteFile(pubFile, pub, 0o644); err != nil {
		return nil, err
	}
	return &benchKey{name: name, short: short, signer: s, pubFile: pubFile}, nil
}

// linkSet describes n request targets: target i names the object
// objects[i mod len] and expires at expires+i*step.
type linkSet struct {
	objects []string // paths, such as /f/00042.bin
	expires int64
	step    int64 // 0: one expiry for all; 1: every link its own
	n       int
}

// cloudFront signs a canned-policy link for host (the Host header the
// client sends) and returns its request target.
func cloudFront(s *cfsign.Signer, host string) func(path string, exp int64) (string, error) {
	prefix := "http://" + host
	return func(path string, exp int64) (string, error) {
		u, err := s.SignCanned(prefix+path, time.Unix(exp, 0))
		if err != nil {
			return "", err
		}
		return strings.TrimPrefix(u, prefix), nil
	}
}

// nginxMD5 returns the request target of an nginx secure_link link for
//
//	secure_link $arg_md5,$arg_expires;
//	secure_link_md5 "$secure_link_expires$uri <secret>";
//
// md5 is the base64url MD5 (no padding) of expires, path, a space and the
// secret, as the nginx documentation's example builds it.
func nginxMD5(secret string) func(path string, exp int64) (string, error) {
	return func(path string, exp int64) (string, error) {
		e := strconv.FormatInt(exp, 10)
		sum := md5.Sum([]byte(e + path + " " + secret))
		return path + "?md5=" + base64.RawURLEncoding.EncodeToString(sum[:]) + "&expires=" + e, nil
	}
}

// writeLinks writes the set's targets, one a line, signing on every CPU.
func writeLinks(file string, set linkSet, sign func(path string, exp int64) (string, error)) error {
	out := make([]string, set.n)
	workers := runtime.GOMAXPROCS(0)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < set.n; i += workers {
				t, err := sign(set.objects[i%len(set.objects)], set.expires+int64(i)*set.step)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				out[i] = t
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("sign links: %w", errs[0])
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for _, t := range out {
		w.WriteString(t)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// verifyRate measures how many links of s one core verifies per second
// with cfsign, the work every cold request costs signet at least once: an
// upper bound for the cold cases' request rate on one server CPU.
func verifyRate(s *cfsign.Signer, host string, d time.Duration) (float64, error) {
	v, err := cfsign.NewVerifier(map[string]crypto.PublicKey{s.KeyID(): s.Public()}, cfsign.Options{})
	if err != nil {
		return 0, err
	}
	target, err := cloudFront(s, host)("/f/00000.bin", time.Now().Add(time.Hour).Unix())
	if err != nil {
		return 0, err
	}
	req := &cfsign.Request{Scheme: "http", Host: host, Target: target, ClientIP: netip.MustParseAddr("127.0.0.1")}
	start := time.Now()
	n := 0
	for time.Since(start) < d {
		if _, err := v.Verify(req); err != nil {
			return 0, fmt.Errorf("verify a fresh link: %w", err)
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
