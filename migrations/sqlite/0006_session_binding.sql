-- A session started by the browser app is bound to that browser: it keeps the
-- SHA-256 (hex) of the fingerprint the browser holds in an HttpOnly cookie, and its
-- tokens are accepted only with that cookie. NULL: an unbound session (API clients).
ALTER TABLE sessions ADD COLUMN binding_hash TEXT;
