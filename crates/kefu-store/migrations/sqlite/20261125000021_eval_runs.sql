-- Stored evaluation runs of a site's knowledge base and assistant: the question suite an admin
-- ran, its figures, and the full report, so quality can be compared over time. Executed by a
-- durable job (jobs.kind = 'eval', params.run_id).
CREATE TABLE eval_runs (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- 'offline' (no language model) or 'llm' (the site's provider chain)
    mode TEXT NOT NULL,
    -- queued, running, done, failed
    status TEXT NOT NULL,
    questions INTEGER NOT NULL,
    suite TEXT NOT NULL,
    metrics TEXT,
    report TEXT,
    error TEXT,
    created_by TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX eval_runs_site ON eval_runs(site_id, created_at);
