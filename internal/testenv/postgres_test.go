package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestMain(m *testing.M) { Main(m) }

// TestPostgres checks that each call gives a fresh database of its own on
// one server, and that the server listens on loopback.
func TestPostgres(t *testing.T) {
	a, b := Postgres(t), Postgres(t)
	if a == b {
		t.Fatalf("two calls gave the same database %s", a)
	}
	for _, dsn := range []string{a, b} {
		if !strings.HasPrefix(dsn, "postgres://postgres@127.0.0.1:") {
			t.Errorf("dsn %s: not on loopback", dsn)
		}
		conn, err := pgconn.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		res, err := conn.Exec(t.Context(), "CREATE TABLE t (x int); SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").ReadAll()
		conn.Close(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := string(res[1].Rows[0][0]); got != "1" {
			t.Errorf("%s: %s tables after creating one, want 1 (not fresh)", dsn, got)
		}
	}
}

// TestPostgresDiesWithTestBinary kills -9 a test binary that has started
// the server (this one, run again as a helper) and checks that the server
// goes too, instead of running on without Main to stop it.
func TestPostgresDiesWithTestBinary(t *testing.T) {
	if os.Getenv("SIGNET_TESTENV_PG_HELPER") != "" {
		Postgres(t)
		fmt.Println("postmaster", pg.srv.proc.cmd.Process.Pid, pg.srv.dir)
		time.Sleep(time.Minute)
		return
	}
	needPostgres(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestPostgresDiesWithTestBinary$", "-test.v")
	cmd.Env = append(os.Environ(), "SIGNET_TESTENV_PG_HELPER=1")
	out := &Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	var (
		pid int
		dir string
	)
	Wait(t, "the helper's postmaster pid", func() error {
		_, after, ok := strings.Cut(out.String(), "postmaster ")
		if !ok {
			return fmt.Errorf("output so far:\n%s", out.String())
		}
		_, err := fmt.Sscan(after, &pid, &dir)
		return err
	})
	// The helper cannot remove its directory; this test does.
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("postmaster %d not running: %v", pid, err)
	}
	cmd.Process.Kill()
	Wait(t, "the postmaster to exit", func() error {
		if err := syscall.Kill(pid, 0); err == nil {
			return fmt.Errorf("postmaster %d still running", pid)
		}
		return nil
	})
}
