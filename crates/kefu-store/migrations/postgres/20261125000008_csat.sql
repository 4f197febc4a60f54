-- Visitors' satisfaction rating (1-5, optional comment) of a resolved conversation; one per
-- conversation, changeable.
CREATE TABLE conversation_ratings (
    conversation_id TEXT PRIMARY KEY NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    rating INTEGER NOT NULL,
    comment TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX conversation_ratings_site ON conversation_ratings(site_id, updated_at);
