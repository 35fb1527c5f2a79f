-- The signing API's tokens (state.Token): never the secret, only its SHA-256.
CREATE TABLE tokens (
	id              TEXT PRIMARY KEY,
	name            TEXT NOT NULL,
	scopes          TEXT NOT NULL,  -- JSON array of state.Scope
	max_lifetime_ns BIGINT NOT NULL,
	rate_per_second DOUBLE PRECISION NOT NULL,
	rate_burst      INTEGER NOT NULL,
	created_at      TIMESTAMPTZ NOT NULL,
	revoked_at      TIMESTAMPTZ,
	hash            BYTEA NOT NULL UNIQUE
);
