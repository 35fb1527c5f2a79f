package testenv

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

var motoPython struct {
	once    sync.Once
	path    string // the interpreter's real executable, not a pyenv shim
	version string
}

// MotoPython returns the interpreter that runs moto's server and moto's
// version: the first of $SIGNET_PYTHON, python3 and /usr/bin/python3 that
// imports moto and moto.server (the order scripts/install-test-deps.sh
// checks), or "", "" if none does. The path is the interpreter's own
// executable (sys.executable), so it runs without a pyenv shim's
// environment.
func MotoPython() (path, version string) {
	motoPython.once.Do(func() {
		for _, py := range []string{os.Getenv("SIGNET_PYTHON"), "python3", "/usr/bin/python3"} {
			if py == "" {
				continue
			}
			out, err := exec.Command(py, "-c",
				"import sys, moto, moto.server; print(sys.executable); print(moto.__version__)").Output()
			if err != nil {
				continue
			}
			lines := strings.Fields(string(out))
			if len(lines) != 2 {
				continue
			}
			motoPython.path, motoPython.version = lines[0], lines[1]
			return
		}
	})
	return motoPython.path, motoPython.version
}

// motoBoot starts moto's server (argv: host, port) after two corrections to
// moto's KMS, so that it answers as AWS documents:
//   - Sign and Verify honour MessageType=DIGEST (the message is the digest
//     and is not hashed again). moto 5.2 parses MessageType and then
//     ignores it, so a DIGEST signature covers SHA-256(digest) and verifies
//     against nothing; getmoto/moto pull request #10202 proposes the same
//     fix.
//   - GetPublicKey's answer carries KeySpec. moto 5.2 sends only its
//     deprecated twin, CustomerMasterKeySpec, which signet does not read.
//
// RAW requests, key handling, validation and the rest of the responses
// stay moto's own. If moto's internals have moved, the script
// exits with a message instead of serving a KMS that signs wrongly.
const motoBoot = `
import json, sys, threading
try:
    from moto.kms import responses as kms_responses
    from moto.kms import utils as kms_utils
    from moto.kms.exceptions import ValidationException
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
    RSA, ECDSA, Response = kms_utils.RSAPrivateKey, kms_utils.ECDSAPrivateKey, kms_responses.KmsResponse
    rsa_pad_hash = RSA._RSAPrivateKey__padding_and_hash_algorithm
    ec_hash = ECDSA._ECDSAPrivateKey__hash_algorithm
    check_alg = kms_utils.validate_signing_algorithm
    rsa_algs = kms_utils.SigningAlgorithm.rsa_signing_algorithms()
    rsa_sign, rsa_verify, ec_sign, ec_verify = RSA.sign, RSA.verify, ECDSA.sign, ECDSA.verify
    op_sign, op_verify = Response.sign, Response.verify
    op_get_public_key = Response.get_public_key
except (ImportError, AttributeError) as e:
    sys.exit("signet testenv: cannot add MessageType=DIGEST to this moto's KMS: %r" % (e,))

state = threading.local()

def prehashed(message, h):
    if len(message) != h.digest_size:
        raise ValidationException("Digest is invalid length for algorithm %s." % h.name)
    return Prehashed(h)

def verified(pub, *args):
    try:
        pub.verify(*args)
        return True
    except InvalidSignature:
        return False

def digest_rsa_sign(self, message, alg):
    if not getattr(state, "digest", False):
        return rsa_sign(self, message, alg)
    check_alg(alg, rsa_algs)
    pad, h = rsa_pad_hash(self, alg)
    return self.private_key.sign(message, pad, prehashed(message, h))

def digest_rsa_verify(self, message, signature, alg):
    if not getattr(state, "digest", False):
        return rsa_verify(self, message, signature, alg)
    check_alg(alg, rsa_algs)
    pad, h = rsa_pad_hash(self, alg)
    return verified(self.private_key.public_key(), signature, message, pad, prehashed(message, h))

def digest_ec_sign(self, message, alg):
    if not getattr(state, "digest", False):
        return ec_sign(self, message, alg)
    check_alg(alg, self.valid_signing_algorithms)
    return self.private_key.sign(message, ec.ECDSA(prehashed(message, ec_hash(self, alg))))

def digest_ec_verify(self, message, signature, alg):
    if not getattr(state, "digest", False):
        return ec_verify(self, message, signature, alg)
    check_alg(alg, self.valid_signing_algorithms)
    return verified(self.private_key.public_key(), signature, message,
                    ec.ECDSA(prehashed(message, ec_hash(self, alg))))

def with_message_type(op):
    def wrapped(self):
        state.digest = self._get_param("MessageType") == "DIGEST"
        try:
            return op(self)
        finally:
            state.digest = False
    return wrapped

def get_public_key_with_key_spec(self):
    out = json.loads(op_get_public_key(self))
    out.setdefault("KeySpec", out.get("CustomerMasterKeySpec"))
    return json.dumps(out)

RSA.sign, RSA.verify = digest_rsa_sign, digest_rsa_verify
Response.get_public_key = get_public_key_with_key_spec
ECDSA.sign, ECDSA.verify = digest_ec_sign, digest_ec_verify
Response.sign, Response.verify = with_message_type(op_sign), with_message_type(op_verify)

from moto.server import main
main(["-H", sys.argv[1], "-p", sys.argv[2]])
`

// A MotoServer is moto's AWS emulator (Secrets Manager, KMS and the rest)
// started for one test: listening on 127.0.0.1 only, with a fresh in-memory
// state, and killed when the test ends. Its fields are read-only and safe
// for concurrent use.
//
// KMS Sign and Verify honour MessageType=DIGEST, and GetPublicKey sends
// KeySpec, as AWS does and moto itself does not yet (see motoBoot in
// moto.go); everything else is moto as installed.
type MotoServer struct {
	Endpoint string // "http://127.0.0.1:PORT"
	Region   string // "us-east-1"
	Version  string // moto's version, such as "5.2.1"
	// Credentials are fake static credentials, which moto accepts; pass
	// them explicitly to every client instead of relying on the
	// environment.
	Credentials aws.CredentialsProvider
}

// Moto starts a fresh moto server for t and waits until it answers.
// Without a python that imports moto (see MotoPython) the test skips, or
// fails when SIGNET_TEST_REQUIRE is set.
func Moto(t testing.TB) *MotoServer {
	t.Helper()
	py, version := MotoPython()
	Need(t, "moto (a python3 that imports moto; scripts/install-test-deps.sh)", py != "")
	dir := t.TempDir()
	m := &MotoServer{
		Region:      "us-east-1",
		Version:     version,
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	}
	// The port is free when picked but could be taken before moto binds
	// it; then moto exits and another is tried.
	var err error
	for range 3 {
		addr := FreeAddr(t)
		m.Endpoint = "http://" + addr
		if err = m.start(t, py, dir, addr); err == nil {
			return m
		}
	}
	t.Fatalf("starting moto: %v", err)
	return nil
}

// AWSConfig returns an SDK configuration that reaches the server with its
// region and fake credentials, for tests to build clients from.
func (m *MotoServer) AWSConfig() aws.Config {
	return aws.Config{
		Region:       m.Region,
		Credentials:  m.Credentials,
		BaseEndpoint: aws.String(m.Endpoint),
	}
}

// start runs the server on addr and waits for /moto-api/; on success the
// process is killed and waited for when t ends.
func (m *MotoServer) start(t testing.TB, py, dir, addr string) error {
	host, port, _ := strings.Cut(addr, ":")
	logPath := filepath.Join(dir, "moto-"+port+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(py, "-c", motoBoot, host, port)
	// A clean environment: none of the developer's AWS_* or MOTO_*
	// settings, HOME in the test's directory.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"PYTHONDONTWRITEBYTECODE=1",
		"PYTHONUNBUFFERED=1",
	}
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { // waited for by kill
		waitErr = cmd.Wait()
		close(exited)
	}()
	kill := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	ready := m.Endpoint + "/moto-api/"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ready, nil)
		if err != nil {
			kill()
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(kill)
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("moto exited before it was ready: %v\n%s", waitErr, logTail(logPath))
		case <-ctx.Done():
			kill()
			return fmt.Errorf("moto not ready at %s: %w\n%s", ready, ctx.Err(), logTail(logPath))
		case <-time.After(50 * time.Millisecond):
		}
	}
}
