package sqlite

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signet-dev/signet/internal/state"
	"github.com/signet-dev/signet/internal/state/statetest"
)

func TestContract(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Store {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "signet.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMigrations(t *testing.T) {
	statetest.RunMigrations(t, statetest.Migrator{
		Open: func() func(t *testing.T) *sql.DB {
			paths := map[*testing.T]string{}
			return func(t *testing.T) *sql.DB {
				// Each subtest gets one file, which every Open reaches.
				if paths[t] == "" {
					paths[t] = filepath.Join(t.TempDir(), "signet.db")
				}
				db, err := openDB(paths[t])
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}
		}(),
		Dialect: dialect,
		Dir:     "migrations/sqlite",
	})
}

// TestOpen checks the file's settings, and that its tokens are there when
// it is opened again.
func TestOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signet.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	var mode string
	var busy int
	if err := s.DB().QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	if err := s.DB().QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil || busy != int(BusyTimeout.Milliseconds()) {
		t.Errorf("busy_timeout = %d, %v; want %d", busy, err, BusyTimeout.Milliseconds())
	}
	tok := state.StoredToken{Token: state.Token{ID: "0123456789abcdef", Name: "n", CreatedAt: time.Unix(1e9, 0).UTC()}, Hash: []byte("h")}
	if err := s.CreateToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.Token(t.Context(), tok.ID); err != nil || got.Name != "n" {
		t.Errorf("after reopening: %+v, %v", got, err)
	}
	// A name that needs escaping in the file: URI the driver is given.
	odd := filepath.Join(t.TempDir(), "a?b#c%d e", "signet.db")
	if err := os.Mkdir(filepath.Dir(odd), 0o700); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(t.Context(), odd)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if _, err := os.Stat(odd); err != nil {
		t.Errorf("the database is not where it was asked to be: %v", err)
	}
	// A relative path is relative to the working directory.
	dir := t.TempDir()
	t.Chdir(dir)
	s3, err := Open(t.Context(), filepath.Join("data", "..", "signet.db"))
	if err != nil {
		t.Fatal(err)
	}
	s3.Close()
	if _, err := os.Stat(filepath.Join(dir, "signet.db")); err != nil {
		t.Errorf("a relative path: %v", err)
	}
	if _, err := Open(t.Context(), filepath.Join(t.TempDir(), "no", "such", "dir", "signet.db")); err == nil || !strings.Contains(err.Error(), "signet.db") {
		t.Errorf("Open in a missing directory: %v, want an error naming the file", err)
	}
}
