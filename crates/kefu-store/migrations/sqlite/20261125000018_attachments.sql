-- Uploaded files. The bytes live under <data_dir>/attachments/<id>; this row is the only
-- thing that keeps a file alive: deleting a conversation (or a message) cascades here, and the
-- server's sweep removes files that no row names any more.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    -- Set once, when a message carries it.
    message_id TEXT REFERENCES messages(id) ON DELETE CASCADE,
    uploader_kind TEXT NOT NULL,
    uploader_id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX attachments_conversation ON attachments(conversation_id);
CREATE INDEX attachments_message ON attachments(message_id);
