-- Each site's search vocabulary (custom dictionary words and synonym groups) as one JSON
-- document; no row means an empty lexicon.
CREATE TABLE kb_lexicons (
    site_id TEXT PRIMARY KEY NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    lexicon TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT
);
