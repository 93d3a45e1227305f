-- What each entry was signed as (`file`: one POST with an exact key and size; `form`: the
-- plain form's key prefix; `multipart`: an upload in parts), and when the sweep checked the
-- storage after its ticket expired: an upload never confirmed still counts, an unused
-- ticket is forgotten, an object that broke its ticket is removed.
ALTER TABLE uploads ADD COLUMN kind TEXT NOT NULL DEFAULT 'file';
ALTER TABLE uploads ADD COLUMN checked_at BIGINT;
UPDATE uploads SET kind = 'form' WHERE declared_size = 0 AND content_type = '';
UPDATE uploads SET checked_at = completed_at WHERE completed_at IS NOT NULL AND kind = 'file';
CREATE INDEX uploads_to_check ON uploads (expires_at) WHERE checked_at IS NULL;
CREATE INDEX uploads_pending ON uploads (user_name) WHERE completed_at IS NULL;
