package testenv

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// MinIOVersion is the version of github.com/minio/minio that
// scripts/install-minio.sh builds; keep the two equal. MinIO's RELEASE
// tags are not semver, so the module proxy knows it by this pseudo-version.
const MinIOVersion = "v0.0.0-20260212201848-7aac2a2c5b7c"

// MinIOBinary returns the MinIO server that tests run: $SIGNET_MINIO when
// set, else the one scripts/install-minio.sh builds under
// ${XDG_CACHE_HOME:-$HOME/.cache}/signet; "" when that is not an
// executable file.
func MinIOBinary() string {
	return cachedBinary("SIGNET_MINIO", "minio-"+MinIOVersion, "minio")
}

// A MinIOServer is a MinIO server started for one test: listening on
// 127.0.0.1 only, keeping its data in the test's temporary directory, and
// killed when the test ends. Client and NewBucket are safe for concurrent
// use; Stop and Start are not, with each other or with them.
type MinIOServer struct {
	Endpoint  string // "http://127.0.0.1:PORT"
	Region    string
	AccessKey string
	SecretKey string

	bin      string
	dir      string // data, home and certs directories live under dir
	addr     string
	console  string
	logPath  string
	client   *awss3.Client
	buckets  atomic.Int64
	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has exited
	procDone error         // cmd.Wait's result, set before exited closes
}

// MinIO starts a fresh MinIO server for t and waits until it is ready.
// Without a MinIO binary (see MinIOBinary) the test skips, or fails when
// SIGNET_TEST_REQUIRE is set.
func MinIO(t testing.TB) *MinIOServer {
	t.Helper()
	bin := MinIOBinary()
	Need(t, "minio (scripts/install-minio.sh)", bin != "")
	dir := t.TempDir()
	m := &MinIOServer{
		Region:    "us-east-1",
		AccessKey: "signet-test",
		SecretKey: "signet-test-secret",
		bin:       bin,
		dir:       dir,
		logPath:   filepath.Join(dir, "minio.log"),
	}
	for _, sub := range []string{"data", "home", "certs"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(m.kill)
	// The ports are free when picked but could be taken before MinIO binds
	// them; then MinIO exits and another pair is tried.
	var err error
	for range 3 {
		m.addr, m.console = FreeAddr(t), FreeAddr(t)
		m.Endpoint = "http://" + m.addr
		if err = m.start(t.Context()); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("starting minio: %v\n%s", err, logTail(m.logPath))
	}
	m.client = awss3.New(awss3.Options{
		BaseEndpoint: aws.String(m.Endpoint),
		Region:       m.Region,
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(m.AccessKey, m.SecretKey, ""),
	})
	return m
}

// Client returns an S3 client with the server's root credentials, for
// tests to set up buckets and objects.
func (m *MinIOServer) Client() *awss3.Client { return m.client }

// NewBucket creates a private bucket with a new name and returns the name.
func (m *MinIOServer) NewBucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("signet-test-%d", m.buckets.Add(1))
	if _, err := m.client.CreateBucket(t.Context(), &awss3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket(%s): %v", name, err)
	}
	return name
}

// Stop kills the server, as an outage would; its data stays for Start.
func (m *MinIOServer) Stop(t testing.TB) {
	t.Helper()
	m.kill()
}

// Start starts the stopped server again, on the same address and data, and
// waits until it is ready.
func (m *MinIOServer) Start(t testing.TB) {
	t.Helper()
	if err := m.start(t.Context()); err != nil {
		t.Fatalf("restarting minio: %v\n%s", err, logTail(m.logPath))
	}
}

// start runs the server and waits for /minio/health/cluster. (Not
// /minio/health/ready, which can answer 200 while the object layer is
// still starting, when S3 calls fail with XMinioServerNotInitialized: seen
// on a loaded machine.)
func (m *MinIOServer) start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil {
		return fmt.Errorf("minio already running")
	}
	logf, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(m.bin, "server",
		"--address", m.addr,
		"--console-address", m.console,
		"--certs-dir", filepath.Join(m.dir, "certs"),
		filepath.Join(m.dir, "data"))
	// A clean environment: nothing of the developer's MINIO_* or AWS_*
	// settings, HOME in the test's directory (MinIO creates ~/.minio), no
	// console, and no update check or call home over the network.
	cmd.Env = []string{
		"HOME=" + filepath.Join(m.dir, "home"),
		"MINIO_ROOT_USER=" + m.AccessKey,
		"MINIO_ROOT_PASSWORD=" + m.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CALLHOME_ENABLE=off",
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	m.cmd, m.exited = cmd, exited
	go func() { // waited for by kill
		m.procDone = cmd.Wait()
		close(exited)
	}()

	ready := m.Endpoint + "/minio/health/cluster"
	deadline := time.Now().Add(60 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ready, nil)
		if err != nil {
			return err
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			m.cmd = nil
			return fmt.Errorf("minio exited before it was ready: %v", m.procDone)
		case <-ctx.Done():
			m.killLocked()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.killLocked()
			return fmt.Errorf("minio not ready at %s after a minute", ready)
		}
	}
}

func (m *MinIOServer) kill() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.killLocked()
}

func (m *MinIOServer) killLocked() {
	if m.cmd == nil {
		return
	}
	_ = m.cmd.Process.Kill()
	<-m.exited
	m.cmd = nil
}
