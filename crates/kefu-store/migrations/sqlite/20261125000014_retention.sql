-- Periodic jobs (the retention sweep) are queued by every node, but each period's job has one
-- key, so only the first insert lands and the sweep runs once however many nodes there are.
ALTER TABLE jobs ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX jobs_dedupe ON jobs(dedupe_key);
