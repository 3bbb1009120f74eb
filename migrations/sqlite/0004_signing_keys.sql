-- Token signing keys, shared by every instance. The newest live key signs; every
-- live key verifies. A rotated-out key keeps verifying until retire_after, when the
-- tokens it signed have expired.
CREATE TABLE signing_keys (
    kid          TEXT    PRIMARY KEY,
    algorithm    TEXT    NOT NULL,
    secret       BLOB    NOT NULL,       -- HMAC secret or private key (DER)
    created_at   INTEGER NOT NULL,       -- seconds since the Unix epoch
    retire_after INTEGER                 -- null while the key may sign
);
