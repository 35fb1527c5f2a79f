package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// postgresDirs are where PostgresBin looks after PATH: the symlinks this
// machine has, then Debian's package (postgresql-15 on bookworm).
var postgresDirs = []string{"/usr/local/bin", "/usr/lib/postgresql/15/bin"}

// PostgresBin returns the directory holding initdb and postgres: the first
// of $PATH, /usr/local/bin and /usr/lib/postgresql/15/bin that has both as
// executable files (the order scripts/install-test-deps.sh checks); "" when
// none has.
func PostgresBin() string {
	dirs := filepath.SplitList(os.Getenv("PATH"))
	dirs = append(dirs, postgresDirs...)
	for _, dir := range dirs {
		if dir != "" && isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir
		}
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// pg is the run's PostgreSQL server, started by the first call to Postgres
// and stopped by Main after the run.
var pg struct {
	mainRunning atomic.Bool
	mu          sync.Mutex
	srv         *postgresServer
	err         error // why it could not start; reported to every caller
	dbs         atomic.Int64
}

// postgresServer is a running postgres process with its data directory.
type postgresServer struct {
	dir  string // removed by stop
	addr string // 127.0.0.1:PORT
	log  string
	proc *process
}

// Main runs the tests of a package with m, stops the PostgreSQL server that
// Postgres may have started, and exits with the tests' code. A package
// whose tests call Postgres uses it as its TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	pg.mainRunning.Store(true)
	code := m.Run()
	pg.mu.Lock()
	if pg.srv != nil {
		pg.srv.stop()
		pg.srv = nil
	}
	pg.mu.Unlock()
	os.Exit(code)
}

// Postgres creates a fresh, empty database on the test run's PostgreSQL
// server and returns its connection string ("postgres://postgres@127.0.0.1:
// PORT/NAME?sslmode=disable"; trust authentication, so no password). The
// server is started by the first call (initdb in a temporary directory,
// listening on a free loopback port, its unix socket in that directory)
// and stopped by Main at the end of the run; the database is dropped when
// t ends. Without initdb and postgres (see PostgresBin) the test skips, or
// fails when SIGNET_TEST_REQUIRE is set. The package's TestMain must be
// Main.
func Postgres(t testing.TB) string {
	t.Helper()
	bin := needPostgres(t)
	if !pg.mainRunning.Load() {
		t.Fatal("testenv.Postgres needs `func TestMain(m *testing.M) { testenv.Main(m) }` in the package, which stops the server after the run")
	}
	pg.mu.Lock()
	if pg.srv == nil && pg.err == nil {
		pg.srv, pg.err = startPostgres(bin)
	}
	srv, err := pg.srv, pg.err
	pg.mu.Unlock()
	if err != nil {
		t.Fatalf("starting postgres: %v", err)
	}
	name := fmt.Sprintf("signet_test_%d", pg.dbs.Add(1))
	if err := srv.exec(t.Context(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("postgres: %v", err)
	}
	t.Cleanup(func() {
		// Not t.Context: it is done by the time cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("postgres: %v", err)
		}
	})
	return srv.dsn(name)
}

// needPostgres returns PostgresBin, after Need has checked that there is
// one and someone to run it as.
func needPostgres(t testing.TB) string {
	t.Helper()
	bin := PostgresBin()
	Need(t, "postgresql (initdb and postgres; scripts/install-test-deps.sh)", bin != "")
	_, err := postgresUser()
	Need(t, "a postgres user to run PostgreSQL as, since it refuses root (Debian's postgresql package creates it)", err == nil)
	return bin
}

func (s *postgresServer) dsn(db string) string {
	return "postgres://postgres@" + s.addr + "/" + db + "?sslmode=disable"
}

// exec runs one statement on the server's postgres database.
func (s *postgresServer) exec(ctx context.Context, sql string) error {
	conn, err := pgconn.Connect(ctx, s.dsn("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql).ReadAll(); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// startPostgres runs initdb in a new temporary directory and starts the
// server on a free loopback port, retrying with another port if it was
// taken in between.
func startPostgres(bin string) (*postgresServer, error) {
	dir, err := os.MkdirTemp("", "signet-postgres-")
	if err != nil {
		return nil, err
	}
	s := &postgresServer{dir: dir, log: filepath.Join(dir, "postgres.log")}
	cred, err := postgresCredential(dir)
	if err == nil {
		err = s.initdb(bin, cred)
	}
	for range 3 {
		if err != nil {
			break
		}
		s.addr, err = freeLoopbackAddr()
		if err != nil {
			break
		}
		if err = s.start(bin, cred); err == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, err
}

// postgresCredential returns who runs initdb and postgres: this process's
// user, or, since PostgreSQL refuses to run as root, the "postgres" user
// that Debian's package creates, who then gets dir.
func postgresCredential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := postgresUser()
	if err != nil {
		return nil, err
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("user postgres: %w", err)
	}
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// postgresUser returns the user PostgreSQL runs as when this process is
// root (nil when it is not): "postgres".
func postgresUser() (*user.User, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses root: %w", err)
	}
	return u, nil
}

// postgresCmd is a command of bin run in dir with a clean environment, as
// cred (nil: as this process).
func (s *postgresServer) postgresCmd(bin string, cred *syscall.Credential, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Dir = s.dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.dir, "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred} // nil: as this process
	return cmd
}

func (s *postgresServer) initdb(bin string, cred *syscall.Credential) error {
	cmd := s.postgresCmd(bin, cred, "initdb", "-D", filepath.Join(s.dir, "data"),
		"-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, tail(string(out)))
	}
	return nil
}

// start runs postgres on s.addr (TCP on loopback only, the unix socket in
// s.dir) and waits until it accepts connections. Durability is off: the
// data lives for one test run.
func (s *postgresServer) start(bin string, cred *syscall.Credential) error {
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666)
	if err != nil {
		return err
	}
	defer logf.Close()
	_, port, _ := strings.Cut(s.addr, ":")
	cmd := s.postgresCmd(bin, cred, "postgres", "-D", filepath.Join(s.dir, "data"),
		"-h", "127.0.0.1", "-p", port, "-k", s.dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=300")
	cmd.Stdout, cmd.Stderr = logf, logf
	// Should the test binary die without running Main's stop (a panic, a
	// -timeout, kill -9), the kernel sends postgres SIGQUIT, an immediate
	// shutdown, instead of leaving it running. Pdeathsig follows the thread
	// that started the process, so that thread is locked and kept.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	type result struct {
		p   *process
		err error
	}
	started := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread lives as long as the test binary
		p, err := startProcess(cmd)
		started <- result{p, err}
		select {}
	}()
	r := <-started
	if r.err != nil {
		return r.err
	}
	p := r.p
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		conn, err := pgconn.Connect(ctx, s.dsn("postgres"))
		if err == nil {
			conn.Close(ctx)
			s.proc = p
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("postgres exited before it was ready: %v\n%s", p.err, logTail(s.log))
		case <-ctx.Done():
			p.kill()
			return fmt.Errorf("postgres not ready on %s after a minute: %v\n%s", s.addr, err, logTail(s.log))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop shuts the server down (fast shutdown: SIGINT; SIGKILL after 10s)
// and removes its directory.
func (s *postgresServer) stop() {
	_ = s.proc.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.proc.exited:
	case <-time.After(10 * time.Second):
		s.proc.kill()
	}
	os.RemoveAll(s.dir)
}

// freeLoopbackAddr is FreeAddr without a test.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
