-- A request's webhook: where each arrival is POSTed (empty: none), as what (`json`, `wecom`,
-- `dingtalk`), and how the last delivery went (shown on the request's page).
ALTER TABLE requests ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN webhook_kind TEXT NOT NULL DEFAULT 'json';
ALTER TABLE requests ADD COLUMN webhook_status TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN webhook_at BIGINT NOT NULL DEFAULT 0;
