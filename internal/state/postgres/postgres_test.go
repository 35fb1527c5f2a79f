package postgres

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/signet-dev/signet/internal/state"
	"github.com/signet-dev/signet/internal/state/statetest"
	"github.com/signet-dev/signet/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestContract(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Store {
		s, err := Open(t.Context(), testenv.Postgres(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMigrations(t *testing.T) {
	dsns := map[*testing.T]string{}
	statetest.RunMigrations(t, statetest.Migrator{
		Open: func(t *testing.T) *sql.DB {
			// Each subtest gets one database, which every Open reaches.
			if dsns[t] == "" {
				dsns[t] = testenv.Postgres(t)
			}
			db, err := sql.Open("pgx", dsns[t])
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		},
		Dialect: dialect,
		Dir:     "migrations/postgres",
	})
}

// TestOpenErrors checks that a connection string that does not parse is
// refused without quoting it (it may hold a password), and that an
// unreachable server is reported.
func TestOpenErrors(t *testing.T) {
	_, err := Open(t.Context(), "postgres://u:hunter2@127.0.0.1:99999999/db")
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("bad port: %v, want an error without the password", err)
	}
	_, err = Open(t.Context(), "postgres://u:hunter2@127.0.0.1:1/db?sslmode=disable&connect_timeout=2")
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "u@127.0.0.1/db") {
		t.Errorf("no server: %v, want an error naming user@host/db without the password", err)
	}
}
