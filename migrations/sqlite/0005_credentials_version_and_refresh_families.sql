-- A user's credentials version goes up whenever their password is replaced or
-- they are disabled. A session is created, and an upgraded hash of the same
-- password is stored, only if the version is still the one the password check saw:
-- a login or rehash in flight cannot outlive a password change.
ALTER TABLE users ADD COLUMN credentials_version INTEGER NOT NULL DEFAULT 0;

-- Each session holds its one live refresh token. A refresh token reads
-- `<family>.<secret>`: the family names its session, and only the SHA-256 of the
-- current token is kept. A token of a known family that is not the current one was
-- spent already (reuse: the session ends), with no spent token stored.
ALTER TABLE sessions ADD COLUMN refresh_family TEXT;
ALTER TABLE sessions ADD COLUMN refresh_hash TEXT;
ALTER TABLE sessions ADD COLUMN refresh_expires_at INTEGER;

-- Tokens issued before this migration have no family: their session keeps them as
-- its current token (found by hash) until its next renewal gives it a family.
UPDATE sessions
SET (refresh_hash, refresh_expires_at) = (
    SELECT token_hash, expires_at FROM refresh_tokens
    WHERE refresh_tokens.session_id = sessions.id AND used_at IS NULL
    ORDER BY expires_at DESC LIMIT 1
);

DROP TABLE refresh_tokens;

CREATE UNIQUE INDEX sessions_by_refresh_family ON sessions (refresh_family);
CREATE UNIQUE INDEX sessions_by_refresh_hash ON sessions (refresh_hash);
