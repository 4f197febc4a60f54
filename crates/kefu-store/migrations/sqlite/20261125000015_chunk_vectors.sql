-- Sentence embeddings of knowledge-base chunks, addressed by the embedding model and a hash of
-- the exact text embedded. Content addressing means an unchanged chunk is never embedded twice
-- (across revisions, entries or restarts), a model change simply finds no rows for the new
-- model and re-embeds in the background, and the entries stay the only source of metadata
-- (visibility, status) so a vector can never carry a stale permission.
CREATE TABLE kb_chunk_vectors (
    model TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    dimensions INTEGER NOT NULL,
    -- little-endian f32 values
    vector BLOB NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (model, text_hash)
);
