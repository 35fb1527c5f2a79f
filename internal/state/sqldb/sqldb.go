// Package sqldb is the database/sql code that state's SQLite and
// PostgreSQL stores share: the queries, written once with '?' placeholders
// and rebound per Dialect, and the migration runner.
package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/signet-dev/signet/internal/state"
)

// Dialect is what differs between the databases.
type Dialect struct {
	dollar           bool   // placeholders are $1, $2... instead of ?
	migrationLock    string // run first in the migration transaction; "" when BeginTx locks already
	createMigrations string
	isUnique         func(error) bool
}

// NewDialect describes a database for Store and Migrate: dollar says
// whether placeholders are $1, $2...; lock is
// a statement that takes the migration lock inside the transaction ("" if
// beginning one already does); timestamp is the column type for times;
// isUnique tells a unique-constraint violation.
func NewDialect(dollar bool, lock, timestamp string, isUnique func(error) bool) *Dialect {
	return &Dialect{
		dollar:        dollar,
		migrationLock: lock,
		createMigrations: "CREATE TABLE IF NOT EXISTS schema_migrations (" +
			"version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at " + timestamp + " NOT NULL)",
		isUnique: isUnique,
	}
}

// rebind turns the '?' placeholders of q into $1, $2... if d uses those.
// The queries here have no '?' in literals.
func (d *Dialect) rebind(q string) string {
	if !d.dollar {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Store implements state.Store on a database/sql DB whose schema Migrate
// has brought up to date. Safe for concurrent use.
type Store struct {
	db *sql.DB
	d  *Dialect
}

var _ state.Store = (*Store)(nil)

// New returns a Store on db, which it closes on Close.
func New(db *sql.DB, d *Dialect) *Store { return &Store{db: db, d: d} }

// DB returns the database, for tests.
func (s *Store) DB() *sql.DB { return s.db }

// Close implements state.Store.
func (s *Store) Close() error { return s.db.Close() }

const tokenColumns = "id, name, scopes, max_lifetime_ns, rate_per_second, rate_burst, created_at, revoked_at, hash"

// CreateToken implements state.Store.
func (s *Store) CreateToken(ctx context.Context, t state.StoredToken) error {
	if t.ID == "" || len(t.Hash) == 0 {
		return fmt.Errorf("state: create token: empty id or hash")
	}
	scopes, err := json.Marshal(t.Scopes)
	if err != nil {
		return fmt.Errorf("state: create token %s: %w", t.ID, err)
	}
	_, err = s.db.ExecContext(ctx, s.d.rebind("INSERT INTO tokens ("+tokenColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
		t.ID, t.Name, string(scopes), int64(t.MaxLifetime), t.Rate.PerSecond, t.Rate.Burst,
		t.CreatedAt.UTC().Truncate(time.Microsecond), nullTime(t.RevokedAt), t.Hash)
	if err != nil {
		if s.d.isUnique(err) {
			return fmt.Errorf("state: create token %s: %w", t.ID, state.ErrExists)
		}
		return fmt.Errorf("state: create token %s: %w", t.ID, err)
	}
	return nil
}

// Tokens implements state.Store.
func (s *Store) Tokens(ctx context.Context) ([]state.StoredToken, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+tokenColumns+" FROM tokens ORDER BY created_at, id")
	if err != nil {
		return nil, fmt.Errorf("state: list tokens: %w", err)
	}
	defer rows.Close()
	var out []state.StoredToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("state: list tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state: list tokens: %w", err)
	}
	return out, nil
}

// Token implements state.Store.
func (s *Store) Token(ctx context.Context, id string) (state.StoredToken, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, s.d.rebind("SELECT "+tokenColumns+" FROM tokens WHERE id = ?"), id))
	if err != nil {
		return state.StoredToken{}, fmt.Errorf("state: token %q: %w", id, notFound(err))
	}
	return t, nil
}

// TokenByHash implements state.Store.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (state.StoredToken, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, s.d.rebind("SELECT "+tokenColumns+" FROM tokens WHERE hash = ?"), hash))
	if err != nil {
		return state.StoredToken{}, fmt.Errorf("state: token by hash: %w", notFound(err))
	}
	return t, nil
}

// RevokeToken implements state.Store.
func (s *Store) RevokeToken(ctx context.Context, id string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, s.d.rebind("UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?"), at.UTC().Truncate(time.Microsecond), id)
	if err != nil {
		return fmt.Errorf("state: revoke token %q: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("state: revoke token %q: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("state: revoke token %q: %w", id, state.ErrNotFound)
	}
	return nil
}

// scanToken reads one row of tokenColumns.
func scanToken(row interface{ Scan(...any) error }) (state.StoredToken, error) {
	var (
		t       state.StoredToken
		scopes  string
		life    int64
		revoked sql.NullTime
	)
	err := row.Scan(&t.ID, &t.Name, &scopes, &life, &t.Rate.PerSecond, &t.Rate.Burst, &t.CreatedAt, &revoked, &t.Hash)
	if err != nil {
		return state.StoredToken{}, err
	}
	if err := json.Unmarshal([]byte(scopes), &t.Scopes); err != nil {
		return state.StoredToken{}, fmt.Errorf("token %s: scopes: %w", t.ID, err)
	}
	t.MaxLifetime = time.Duration(life)
	t.CreatedAt = t.CreatedAt.UTC()
	if revoked.Valid {
		t.RevokedAt = revoked.Time.UTC()
	}
	return t, nil
}

func nullTime(t time.Time) sql.NullTime {
	return sql.NullTime{Time: t.UTC().Truncate(time.Microsecond), Valid: !t.IsZero()}
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return state.ErrNotFound
	}
	return err
}
