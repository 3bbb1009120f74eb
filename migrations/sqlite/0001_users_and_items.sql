-- Users and the items they own.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    email         TEXT,
    full_name     TEXT,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    password_hash TEXT    NOT NULL,
    scopes        TEXT    NOT NULL,          -- space-separated scope names
    created_at    INTEGER NOT NULL,          -- seconds since the Unix epoch
    updated_at    INTEGER NOT NULL
);

CREATE TABLE items (
    owner_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_id     TEXT    NOT NULL,
    description TEXT,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (owner_id, item_id)
);
