-- Knowledge base: entries with their current content, and every immutable revision.
-- `content` holds the revision's full EntryContent as JSON; the entry row repeats the fields
-- that lists filter and sort on.

CREATE TABLE kb_entries (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    category TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    visibility TEXT NOT NULL,
    language TEXT,
    review_due TEXT,
    owner_id TEXT REFERENCES agents(id) ON DELETE SET NULL,
    content TEXT NOT NULL,
    source_key TEXT,
    content_hash TEXT,
    hit_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT,
    UNIQUE (site_id, source_key)
);
CREATE INDEX kb_entries_site ON kb_entries(site_id, category, status, updated_at);
CREATE INDEX kb_entries_review ON kb_entries(site_id, review_due);

CREATE TABLE kb_revisions (
    entry_id TEXT NOT NULL REFERENCES kb_entries(id) ON DELETE CASCADE,
    revision INTEGER NOT NULL,
    content TEXT NOT NULL,
    author_id TEXT,
    note TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (entry_id, revision)
);
