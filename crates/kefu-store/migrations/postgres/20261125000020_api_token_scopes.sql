-- API tokens carry scopes (read, write, admin; space-separated). Tokens made before scopes
-- existed could do everything their agent could, so they keep all three.
ALTER TABLE api_tokens ADD COLUMN scopes TEXT NOT NULL DEFAULT 'read write admin';
