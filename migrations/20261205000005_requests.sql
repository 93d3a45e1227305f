-- Upload requests: a link (and its QR code) that lets anyone send files into a folder of the
-- creator's, under the request's limits. The link's token is never stored, only its SHA-256.
-- Each upload sent through a request records it, with the sender's name and note.
CREATE TABLE requests (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    creator TEXT NOT NULL,
    title TEXT NOT NULL,
    instructions TEXT NOT NULL,
    folder TEXT NOT NULL,
    naming TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    closed_at BIGINT,
    max_files BIGINT NOT NULL,
    max_file_size BIGINT NOT NULL,
    max_total_bytes BIGINT NOT NULL,
    allowed_types TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    ask_name BIGINT NOT NULL,
    ask_note BIGINT NOT NULL,
    sender_folders BIGINT NOT NULL
);

CREATE INDEX requests_by_creator ON requests (creator, created_at);

ALTER TABLE uploads ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN sender_name TEXT NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN sender_note TEXT NOT NULL DEFAULT '';
CREATE INDEX uploads_by_request ON uploads (request_id, signed_at);
