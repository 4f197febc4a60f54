-- The assistant's language-model side: each site's provider chain (tried in order; API keys
-- sealed with the server's secret key, never stored in clear), token and cost totals per site,
-- day and model, and what the assistant read into each visitor message (for analytics).
CREATE TABLE ai_providers (
    id TEXT PRIMARY KEY NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    base_url TEXT NOT NULL,
    model TEXT NOT NULL,
    azure_api_version TEXT,
    api_key_sealed TEXT,
    input_per_million DOUBLE PRECISION NOT NULL DEFAULT 0,
    output_per_million DOUBLE PRECISION NOT NULL DEFAULT 0,
    max_output_tokens INTEGER NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (site_id, name)
);
CREATE INDEX ai_providers_site ON ai_providers(site_id, position);

CREATE TABLE ai_usage (
    site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    requests BIGINT NOT NULL,
    cache_hits BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    prompt_tokens BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    cost_micros BIGINT NOT NULL,
    PRIMARY KEY (site_id, day, provider, model)
);

CREATE TABLE message_classifications (
    message_id TEXT PRIMARY KEY NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    intent TEXT NOT NULL,
    sentiment TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX message_classifications_site ON message_classifications(site_id, created_at);
