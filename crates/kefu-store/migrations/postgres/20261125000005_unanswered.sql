-- Questions the assistant could not answer (no knowledge, low confidence, repeated failure):
-- the editors' to-do list. The question is stored with personal data redacted.
CREATE TABLE kb_unanswered (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    conversation_id TEXT REFERENCES conversations(id) ON DELETE SET NULL,
    question TEXT NOT NULL,
    reason TEXT NOT NULL,
    confidence DOUBLE PRECISION NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX kb_unanswered_site ON kb_unanswered(site_id, created_at);
