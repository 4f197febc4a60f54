-- Visitors' thumbs up/down on assistant answers (one per message, changeable), and per-entry
-- totals so editors can find entries that draw negative feedback.
CREATE TABLE message_feedback (
    message_id TEXT PRIMARY KEY NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    rating TEXT NOT NULL,
    reason TEXT,
    created_at TEXT NOT NULL
);
ALTER TABLE kb_entries ADD COLUMN thumbs_up BIGINT NOT NULL DEFAULT 0;
ALTER TABLE kb_entries ADD COLUMN thumbs_down BIGINT NOT NULL DEFAULT 0;
