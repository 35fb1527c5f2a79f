package testenv

import (
	"context"
	"strings"
	"testing"

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
