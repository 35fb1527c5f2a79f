// Package sqlite is the state.Store in a SQLite file, the embedded
// default: one node, no server to run. It uses modernc.org/sqlite, which
// is pure Go, so signet still builds with CGO_ENABLED=0.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/signet-dev/signet/internal/state"
	"github.com/signet-dev/signet/internal/state/sqldb"
)

// BusyTimeout is how long a statement waits for another connection's or
// process's write lock before it fails with SQLITE_BUSY.
const BusyTimeout = 5 * time.Second

// dialect: BEGIN IMMEDIATE (the _txlock of the DSN) takes the write lock
// when a transaction starts, so the migration transaction needs no lock of
// its own, and two writers never deadlock upgrading read locks.
var dialect = sqldb.NewDialect(false, "", "TIMESTAMP", func(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && (e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
})

// Open opens the database file at path, creating it (the directory must
// exist) in WAL mode with mode 0600, and migrates its schema.
func Open(ctx context.Context, path string) (*sqldb.Store, error) {
	// SQLite would create it 0644; its -wal and -shm files take its mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	f.Close()
	db, err := openDB(path)
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	migs, err := sqldb.Migrations(state.Migrations, "migrations/sqlite")
	if err == nil {
		_, err = sqldb.Migrate(ctx, db, dialect, migs)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	return sqldb.New(db, dialect), nil
}

// openDB returns a handle on the file at path with signet's settings. Each
// connection sets the pragmas, since SQLite keeps them per connection
// (WAL mode itself is kept in the file).
func openDB(path string) (*sql.DB, error) {
	// As a file: URI, which the driver needs for the query, a relative
	// path would be read as a host name.
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	// FULL, not WAL's usual NORMAL: a revocation, once acknowledged,
	// must survive a power cut too, not only a crash of signet.
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return sql.Open("sqlite", (&url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}).String())
}
