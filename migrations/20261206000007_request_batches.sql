-- A sender's finished batch is told to the request's webhook once: each upload it told
-- carries that message's id (empty: not told yet).
ALTER TABLE uploads ADD COLUMN batch_id TEXT NOT NULL DEFAULT '';
