-- TOTP second factor: each agent's secret (sealed by the server's secret box), whether it is
-- confirmed, and the last time step accepted (a code is never accepted twice); one-time
-- recovery codes (SHA-256 hashes); and the short-lived challenges that sit between a correct
-- password and the second factor (hashed like session tokens).
CREATE TABLE agent_totp (
    agent_id TEXT PRIMARY KEY NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 0,
    last_step INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    enabled_at TEXT
);

CREATE TABLE totp_recovery_codes (
    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    used_at TEXT,
    PRIMARY KEY (agent_id, code_hash)
);

CREATE TABLE login_challenges (
    token_hash TEXT PRIMARY KEY NOT NULL,
    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX login_challenges_agent ON login_challenges(agent_id);
CREATE INDEX login_challenges_expires ON login_challenges(expires_at);
