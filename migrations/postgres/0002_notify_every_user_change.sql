-- Every change to a user is notified, not only a credentials change: instances
-- cache users for authorization (their scopes and profile too), and must forget
-- a cached user as soon as any of it changes.
DROP TRIGGER user_credentials_changed ON users;

CREATE TRIGGER user_changed
    AFTER UPDATE ON users
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW)
    EXECUTE FUNCTION latchkey_notify_user_changed();
