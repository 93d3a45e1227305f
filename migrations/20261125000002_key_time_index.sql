-- Finding an upload by its key: the newest entry first. With the key index alone, SQLite
-- preferred the (user, time) index for its order and scanned a user's whole history.
DROP INDEX uploads_by_key;
CREATE INDEX uploads_by_key_time ON uploads (object_key, signed_at);
