-- Sessions: one per login. Access tokens name their session (`sid`), so ending a
-- session refuses its access tokens on every instance.
CREATE TABLE sessions (
    id             TEXT    PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scopes         TEXT    NOT NULL,       -- space-separated, as granted at login
    created_at     INTEGER NOT NULL,       -- seconds since the Unix epoch
    expires_at     INTEGER NOT NULL,       -- the session's absolute end
    revoked_at     INTEGER,
    revoked_reason TEXT
);

CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_end ON sessions (expires_at);

-- Refresh tokens, stored only as SHA-256 hashes. A used one stays (used_at set) so
-- that presenting it again is recognised as reuse.
CREATE TABLE refresh_tokens (
    token_hash TEXT    PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
