-- Recent failed logins per throttled subject (an account or a client address).
-- The key is a SHA-256 of the subject, so the table names neither.
CREATE TABLE login_failures (
    subject_key     TEXT    PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL      -- seconds since the Unix epoch
);

CREATE INDEX login_failures_by_age ON login_failures (last_failure_at);
