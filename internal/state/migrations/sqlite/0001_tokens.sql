-- The signing API's tokens (state.Token): never the secret, only its SHA-256.
CREATE TABLE tokens (
	id              TEXT PRIMARY KEY,
	name            TEXT NOT NULL,
	scopes          TEXT NOT NULL,  -- JSON array of state.Scope
	max_lifetime_ns INTEGER NOT NULL,
	rate_per_second REAL NOT NULL,
	rate_burst      INTEGER NOT NULL,
	created_at      TIMESTAMP NOT NULL,
	revoked_at      TIMESTAMP,
	hash            BLOB NOT NULL UNIQUE
);
