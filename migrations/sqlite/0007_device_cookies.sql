-- Device cookies: a browser that signed in to an account holds one, and its logins
-- for that account are not refused by the block that failures from elsewhere put
-- on the account. Stored only as the SHA-256 of the cookie's random value.
CREATE TABLE device_cookies (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,       -- seconds since the Unix epoch
    expires_at INTEGER NOT NULL
);

CREATE INDEX device_cookies_by_user ON device_cookies (user_id);
CREATE INDEX device_cookies_by_end ON device_cookies (expires_at);
