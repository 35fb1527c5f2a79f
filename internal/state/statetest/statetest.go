// Package statetest is the contract suite every state.Store runs (Run), and
// the tests of the migration runner that each database runs
// (RunMigrations): SQLite on a file, PostgreSQL on a real server.
package statetest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/signet-dev/signet/internal/state"
	"github.com/signet-dev/signet/internal/state/sqldb"
)

// Run runs the contract suite against the stores open returns: each call
// must return a store on a fresh, empty database, closed when t ends.
func Run(t *testing.T, open func(t *testing.T) state.Store) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, open(t)) })
	}
}

// Cases is the number of cases Run runs.
func Cases() int { return len(cases) }

var cases = []struct {
	name string
	run  func(*testing.T, state.Store)
}{
	{"TokenRoundTrip", testTokenRoundTrip},
	{"TokenNotFound", testTokenNotFound},
	{"TokenExists", testTokenExists},
	{"TokensOrder", testTokensOrder},
	{"RevokeToken", testRevokeToken},
	{"TokensConcurrent", testTokensConcurrent},
}

// base is a second-truncated time such as tokens get, in a zone other
// than UTC, which the store must return in UTC.
var base = time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("X", 3600))

// token returns a token named name with the hash of "secret-"+name.
func token(name string, created time.Time) state.StoredToken {
	h := sha256.Sum256([]byte("secret-" + name))
	return state.StoredToken{
		Token: state.Token{
			ID:          fmt.Sprintf("%x", h[:8]),
			Name:        name,
			Scopes:      []state.Scope{{Distribution: "media", Prefixes: []string{"", "videos/"}}, {Distribution: "docs", Prefixes: []string{"a"}}},
			MaxLifetime: 90 * time.Minute,
			Rate:        state.Rate{PerSecond: 2.5, Burst: 10},
			CreatedAt:   created,
		},
		Hash: h[:],
	}
}

// utc is tok as the store returns it.
func utc(tok state.StoredToken) state.StoredToken {
	tok.CreatedAt = tok.CreatedAt.UTC()
	if !tok.RevokedAt.IsZero() {
		tok.RevokedAt = tok.RevokedAt.UTC()
	}
	return tok
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func testTokenRoundTrip(t *testing.T, s state.Store) {
	ctx := t.Context()
	// Every field set, a hostile name, and a time with microseconds.
	tok := token("ünï <b>&'\"\\ name", base.Add(123456*time.Microsecond))
	tok.RevokedAt = base.Add(time.Hour)
	plain := token("plain", base)
	plain.MaxLifetime, plain.Rate = 0, state.Rate{}
	for _, tk := range []state.StoredToken{tok, plain} {
		if err := s.CreateToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
		got, err := s.Token(ctx, tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "Token", got, utc(tk))
		if got.CreatedAt.Location() != time.UTC {
			t.Errorf("CreatedAt in %v, want UTC", got.CreatedAt.Location())
		}
		got, err = s.TokenByHash(ctx, tk.Hash)
		if err != nil {
			t.Fatal(err)
		}
		same(t, "TokenByHash", got, utc(tk))
	}
	if err := s.CreateToken(ctx, state.StoredToken{Hash: []byte{1}}); err == nil {
		t.Error("CreateToken without an id: no error")
	}
}

func testTokenNotFound(t *testing.T, s state.Store) {
	ctx := t.Context()
	if err := s.CreateToken(ctx, token("a", base)); err != nil {
		t.Fatal(err)
	}
	other := token("b", base)
	if _, err := s.Token(ctx, other.ID); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Token(unknown) = %v, want ErrNotFound", err)
	}
	if _, err := s.TokenByHash(ctx, other.Hash); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("TokenByHash(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.RevokeToken(ctx, other.ID, base); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("RevokeToken(unknown) = %v, want ErrNotFound", err)
	}
	if toks, err := s.Tokens(ctx); err != nil || len(toks) != 1 {
		t.Errorf("Tokens = %d tokens, %v; want 1", len(toks), err)
	}
}

func testTokenExists(t *testing.T, s state.Store) {
	ctx := t.Context()
	a := token("a", base)
	if err := s.CreateToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	sameID := token("b", base)
	sameID.ID = a.ID
	sameHash := token("c", base)
	sameHash.Hash = a.Hash
	for _, tk := range []state.StoredToken{a, sameID, sameHash} {
		if err := s.CreateToken(ctx, tk); !errors.Is(err, state.ErrExists) {
			t.Errorf("CreateToken(%s) = %v, want ErrExists", tk.Name, err)
		}
	}
	got, err := s.Token(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "the first token, after the refused ones", got, utc(a))
}

func testTokensOrder(t *testing.T, s state.Store) {
	ctx := t.Context()
	if toks, err := s.Tokens(ctx); err != nil || len(toks) != 0 {
		t.Fatalf("Tokens of an empty store = %v, %v", toks, err)
	}
	// Created out of order; two at the same time, ordered by id; a
	// fraction of a second that must order after the whole second.
	var want []state.StoredToken
	for i, d := range []time.Duration{0, 0, time.Second / 2, time.Second, 3 * time.Second} {
		want = append(want, utc(token(fmt.Sprint("t", i), base.Add(d))))
	}
	if want[0].ID > want[1].ID {
		want[0], want[1] = want[1], want[0]
	}
	for _, i := range []int{4, 2, 1, 3, 0} {
		if err := s.CreateToken(ctx, want[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeToken(ctx, want[2].ID, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	want[2].RevokedAt = base.Add(time.Hour).UTC()
	got, err := s.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "Tokens", got, want)
}

func testRevokeToken(t *testing.T, s state.Store) {
	ctx := t.Context()
	a, b := token("a", base), token("b", base)
	for _, tk := range []state.StoredToken{a, b} {
		if err := s.CreateToken(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	first := base.Add(time.Minute + 250*time.Millisecond)
	if err := s.RevokeToken(ctx, a.ID, first); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, a.ID, first.Add(time.Hour)); err != nil {
		t.Errorf("revoking again: %v", err)
	}
	got, err := s.TokenByHash(ctx, a.Hash)
	if err != nil {
		t.Fatal(err)
	}
	a.RevokedAt = first
	same(t, "revoked twice", got, utc(a))
	got, err = s.Token(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "the other token", got, utc(b))
}

func testTokensConcurrent(t *testing.T, s state.Store) {
	ctx := t.Context()
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			tk := token(fmt.Sprint("c", i), base.Add(time.Duration(i)*time.Second))
			errs <- s.CreateToken(ctx, tk)
			errs <- s.RevokeToken(ctx, tk.ID, base.Add(time.Hour))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	toks, err := s.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != n {
		t.Fatalf("%d tokens, want %d", len(toks), n)
	}
	for i, tk := range toks {
		if tk.Name != fmt.Sprint("c", i) || tk.RevokedAt.IsZero() {
			t.Errorf("tokens[%d] = %s revoked %v, want c%d revoked", i, tk.Name, tk.RevokedAt, i)
		}
	}
}

// Migrator is a database for RunMigrations.
type Migrator struct {
	// Open returns a new handle on the test's database, closed when t
	// ends; every call reaches the same, initially empty, database.
	Open func(t *testing.T) *sql.DB
	// Dialect is the database's; Dir its migrations' directory in
	// state.Migrations, such as "migrations/sqlite".
	Dialect *sqldb.Dialect
	Dir     string
}

// Migrate runs sqldb.Migrate with m's dialect.
func (m Migrator) Migrate(ctx context.Context, db *sql.DB, migs []sqldb.Migration) ([]int, error) {
	return sqldb.Migrate(ctx, db, m.Dialect, migs)
}

// RunMigrations tests the migration runner on a database: the real
// migrations apply once, several processes starting together migrate
// once, and a schema newer than the binary knows is refused.
func RunMigrations(t *testing.T, m Migrator) {
	shipped, err := sqldb.Migrations(state.Migrations, m.Dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("AppliesOnce", func(t *testing.T) {
		db := m.Open(t)
		applied, err := m.Migrate(t.Context(), db, shipped)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != len(shipped) || len(applied) == 0 {
			t.Errorf("applied %v, want all %d", applied, len(shipped))
		}
		applied, err = m.Migrate(t.Context(), m.Open(t), shipped)
		if err != nil || len(applied) != 0 {
			t.Errorf("second run applied %v, %v; want none", applied, err)
		}
		checkVersions(t, db, len(shipped))
	})
	t.Run("Concurrent", func(t *testing.T) {
		// Without the lock, a second runner would apply a migration again,
		// and these fail when their table exists.
		// The first is slow (a counting query both databases run), to
		// hold the window open; the runners are connected and wait at a
		// barrier, so that they start together.
		migs := testMigrations(t, 3)
		migs[0].SQL = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 200000) SELECT count(*) FROM c;\n" + migs[0].SQL
		const n = 6
		dbs := make([]*sql.DB, n)
		for i := range dbs {
			dbs[i] = m.Open(t)
			if err := dbs[i].PingContext(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			total []int
			start = make(chan struct{})
		)
		for _, db := range dbs {
			wg.Go(func() {
				<-start
				applied, err := m.Migrate(t.Context(), db, migs)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total = append(total, applied...)
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
		if len(total) != len(migs) {
			t.Errorf("%d runners applied %v between them, want each of the %d migrations once", n, total, len(migs))
		}
		checkVersions(t, dbs[0], len(migs))
	})
	t.Run("NewerSchema", func(t *testing.T) {
		db := m.Open(t)
		migs := testMigrations(t, 2)
		if _, err := m.Migrate(t.Context(), db, migs); err != nil {
			t.Fatal(err)
		}
		_, err := m.Migrate(t.Context(), db, migs[:1])
		if err == nil || !strings.Contains(err.Error(), "schema is at version 2, newer than this signet knows (1)") {
			t.Errorf("older binary: %v, want a refusal naming both versions", err)
		}
		checkVersions(t, db, 2)
	})
	t.Run("FailedMigrationRollsBack", func(t *testing.T) {
		db := m.Open(t)
		migs := append(testMigrations(t, 2), sqldb.Migration{Version: 3, Name: "broken", SQL: "CREATE TABLE table_1 (x INTEGER)"})
		_, err := m.Migrate(t.Context(), db, migs)
		if err == nil || !strings.Contains(err.Error(), "0003_broken") {
			t.Fatalf("a broken migration: %v, want an error naming it", err)
		}
		checkVersions(t, db, 0)
	})
}

// testMigrations returns n migrations, each creating a table, parsed from
// files as the real ones are.
func testMigrations(t *testing.T, n int) []sqldb.Migration {
	fsys := fstest.MapFS{}
	for i := 1; i <= n; i++ {
		fsys[fmt.Sprintf("m/%04d_table_%d.sql", i, i)] = &fstest.MapFile{Data: fmt.Appendf(nil, "CREATE TABLE table_%d (x INTEGER);", i)}
	}
	migs, err := sqldb.Migrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	return migs
}

// checkVersions checks that schema_migrations holds versions 1 to n once
// each (no table counts as none).
func checkVersions(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	var count, distinct int
	var max sql.NullInt64
	err := db.QueryRowContext(context.Background(), "SELECT count(*), count(DISTINCT version), max(version) FROM schema_migrations").Scan(&count, &distinct, &max)
	if err != nil && n == 0 && strings.Contains(err.Error(), "schema_migrations") {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if count != n || distinct != n || int(max.Int64) != n {
		t.Errorf("schema_migrations: %d rows, %d versions, max %d; want %d", count, distinct, max.Int64, n)
	}
}
