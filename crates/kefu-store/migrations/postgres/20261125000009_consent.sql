-- Which version of the site's privacy notice a visitor accepted, and when (sites that require
-- consent refuse messages until the current version is accepted).
ALTER TABLE visitors ADD COLUMN consent_version TEXT;
ALTER TABLE visitors ADD COLUMN consent_at TEXT;
