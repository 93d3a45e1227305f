-- The file's name as the uploader picked it (the key may be random), so downloads can carry
-- it; and deletions: an entry whose object was deleted stays, for the record and the CSV.
ALTER TABLE uploads ADD COLUMN file_name TEXT NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN deleted_at BIGINT;
ALTER TABLE uploads ADD COLUMN deleted_by TEXT;
