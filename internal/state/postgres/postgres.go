// Package postgres is the state.Store in PostgreSQL, for several signet
// nodes sharing one database; any PostgreSQL-compatible service will do.
// It uses jackc/pgx/v5 through database/sql.
package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/signet-dev/signet/internal/state"
	"github.com/signet-dev/signet/internal/state/sqldb"
)

// migrationLockKey is the advisory lock the migration transaction holds,
// so that nodes starting together migrate one after the other: the first
// applies the migrations, the others then find them applied. The value is
// arbitrary ("signet" in ASCII) and must never change.
const migrationLockKey = 0x7369676e6574

var dialect = sqldb.NewDialect(true, fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", migrationLockKey), "TIMESTAMPTZ", func(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505" // unique_violation
})

// Open connects to the database dsn names (a postgres:// URL or key=value
// string, as libpq takes) and migrates its schema.
func Open(ctx context.Context, dsn string) (*sqldb.Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// The error may quote the DSN, and with it a password.
		return nil, errors.New("state: postgres: the connection string does not parse")
	}
	db := stdlib.OpenDB(*cfg)
	migs, err := sqldb.Migrations(state.Migrations, "migrations/postgres")
	if err == nil {
		_, err = sqldb.Migrate(ctx, db, dialect, migs)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("state: postgres %s@%s/%s: %w", cfg.User, cfg.Host, cfg.Database, err)
	}
	return sqldb.New(db, dialect), nil
}

var _ state.Store = (*sqldb.Store)(nil)
