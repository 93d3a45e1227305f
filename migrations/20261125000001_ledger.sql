-- The upload ledger and the login sessions. Plain SQL that SQLite and PostgreSQL both run:
-- text ids, BIGINT counts and Unix-second times, no engine-specific types.

CREATE TABLE uploads (
    id TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    object_key TEXT NOT NULL,
    declared_size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    signed_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    client_ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    completed_at BIGINT,
    etag TEXT,
    stored_size BIGINT,
    completed_by TEXT
);

CREATE INDEX uploads_by_user ON uploads (user_name, signed_at);
CREATE INDEX uploads_by_time ON uploads (signed_at);
CREATE INDEX uploads_by_key ON uploads (object_key);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    root TEXT NOT NULL,
    is_admin BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX sessions_by_expiry ON sessions (expires_at);
