package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"time"
)

// Migration is one schema change: the file NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

var migrationName = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)

// Migrations reads dir of fsys: every file must be named NNNN_name.sql,
// and the versions must run 1, 2, 3... without a gap or a repeat.
func Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var out []Migration
	for _, e := range ents { // ReadDir sorts by name, so by version
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			return nil, fmt.Errorf("migrations: %s is not a file named NNNN_name.sql", path.Join(dir, e.Name()))
		}
		v, _ := strconv.Atoi(m[1])
		if v != len(out)+1 {
			return nil, fmt.Errorf("migrations: %s has version %d, want %d (versions start at 1 and have no gaps)", path.Join(dir, e.Name()), v, len(out)+1)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("migrations: %w", err)
		}
		out = append(out, Migration{Version: v, Name: m[2], SQL: string(b)})
	}
	return out, nil
}

// Migrate brings db's schema to the last of migs, in one transaction that
// first takes d's lock, so that of several processes migrating one
// database at once, one applies the migrations and the others then find
// them applied. The versions applied are recorded in schema_migrations. A
// database whose schema is newer than migs (written by a newer signet) is
// refused, and nothing is changed. It returns the versions it applied.
func Migrate(ctx context.Context, db *sql.DB, d *Dialect, migs []Migration) (applied []int, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if d.migrationLock != "" {
		if _, err := tx.ExecContext(ctx, d.migrationLock); err != nil {
			return nil, fmt.Errorf("migrate: lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, d.createMigrations); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	var current sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&current); err != nil {
		return nil, fmt.Errorf("migrate: read version: %w", err)
	}
	if int(current.Int64) > len(migs) {
		return nil, fmt.Errorf("migrate: the database's schema is at version %d, newer than this signet knows (%d): run a signet at least as new as the one that migrated it", current.Int64, len(migs))
	}
	for _, m := range migs[current.Int64:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return nil, fmt.Errorf("migrate: %04d_%s: %w", m.Version, m.Name, err)
		}
		_, err := tx.ExecContext(ctx, d.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
			m.Version, m.Name, time.Now().UTC())
		if err != nil {
			return nil, fmt.Errorf("migrate: record %04d_%s: %w", m.Version, m.Name, err)
		}
		applied = append(applied, m.Version)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("migrate: commit: %w", err)
	}
	return applied, nil
}
