// Package state is signet's durable state: the signing API's tokens for
// now (signapi.TokenStore keeps them here), and later share links, revocations, download sessions and the
// webhook queue. Store is the one interface; sqlite (the embedded default)
// and postgres (for several nodes) implement it over the shared SQL of
// sqldb, and statetest is the contract suite both run.
//
// Each implementation migrates its schema when it opens, from the files
// embedded in Migrations, under a lock so that several processes opening
// one database at once migrate it once.
package state

import (
	"context"
	"embed"
	"errors"
	"time"
)

// Migrations holds the schema migrations, migrations/DIALECT/NNNN_name.sql
// for the dialects sqlite and postgres. Versions start at 1 and have no
// gaps; an applied migration is never edited, a change is a new file.
//
//go:embed migrations
var Migrations embed.FS

// ErrNotFound matches the error for a record the store does not hold.
var ErrNotFound = errors.New("state: not found")

// ErrExists matches the error for a record whose id or unique value is
// already taken.
var ErrExists = errors.New("state: already exists")

// Store is signet's durable state. Implementations are safe for concurrent
// use, by several goroutines and by several processes sharing one
// database. Times are kept to the microsecond and returned in UTC.
type Store interface {
	// CreateToken stores t, which must have an ID, with hash, the SHA-256
	// of its secret. An ID or hash already stored gives an error matching
	// ErrExists.
	CreateToken(ctx context.Context, t StoredToken) error
	// Tokens returns every token, revoked ones included, oldest first
	// (by CreatedAt, then ID).
	Tokens(ctx context.Context) ([]StoredToken, error)
	// Token returns the token with id. An unknown id gives an error
	// matching ErrNotFound.
	Token(ctx context.Context, id string) (StoredToken, error)
	// TokenByHash returns the token whose secret has the SHA-256 hash,
	// revoked or not. An unknown hash gives an error matching ErrNotFound.
	TokenByHash(ctx context.Context, hash []byte) (StoredToken, error)
	// RevokeToken sets the RevokedAt of the token with id to at, unless it
	// is revoked already, in which case its first RevokedAt stays. An
	// unknown id gives an error matching ErrNotFound.
	RevokeToken(ctx context.Context, id string, at time.Time) error
	// Close releases the store's connections; later calls fail.
	Close() error
}

// StoredToken is a token with the SHA-256 of its secret, never the secret.
type StoredToken struct {
	Token
	Hash []byte `json:"hash"`
}

// Token is one API token as stored: never its secret, never its hash.
// Tokens are immutable once created, except that Revoke sets RevokedAt.
// Callers must not modify the slices of a Token they are given.
type Token struct {
	// ID is the non-secret part of the token ("sgt_<id>_..."), shown in
	// lists and logs.
	ID string `json:"id"`
	// Name says what the token is for.
	Name string `json:"name"`
	// Scopes say what the token may sign.
	Scopes []Scope `json:"scopes"`
	// MaxLifetime caps the links it signs; 0 leaves only the
	// distribution's cap.
	MaxLifetime time.Duration `json:"max_lifetime"`
	// Rate limits its requests; the zero Rate means no limit.
	Rate Rate `json:"rate"`
	// CreatedAt is when Create made it.
	CreatedAt time.Time `json:"created_at"`
	// RevokedAt is when Revoke revoked it; zero while it is active.
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Scope lets a token sign one distribution's objects whose keys start with
// one of Prefixes. A prefix is a plain string prefix of the object key (no
// leading '/'); end directory prefixes with '/'. The empty prefix covers the
// whole distribution.
type Scope struct {
	Distribution string   `json:"distribution"`
	Prefixes     []string `json:"prefixes"`
}

// Rate is a token bucket: PerSecond requests per second on average, and
// Burst at once. PerSecond 0 means no limit.
type Rate struct {
	PerSecond float64 `json:"per_second"`
	Burst     int     `json:"burst"`
}
