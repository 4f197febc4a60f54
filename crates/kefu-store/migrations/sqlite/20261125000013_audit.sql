-- The audit log: who did what to which thing, when and from where. Append-only (a trigger
-- refuses updates) and hash-chained per chain (one chain per site, one `instance` chain for
-- events that belong to no site): each event's hash covers its content and the previous
-- event's hash, and `audit_chains` keeps each chain's head, so an edited, removed or
-- reordered event is detectable. Retention may delete only a chain's oldest events.
-- `details` is small JSON with no secrets and no message text.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    chain TEXT NOT NULL,
    seq INTEGER NOT NULL,
    site_id TEXT,
    actor_kind TEXT NOT NULL,
    actor_id TEXT,
    action TEXT NOT NULL,
    target_kind TEXT,
    target_id TEXT,
    client_ip TEXT,
    details TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (chain, seq)
);
CREATE INDEX audit_events_action ON audit_events(chain, action, seq);
CREATE INDEX audit_events_time ON audit_events(chain, created_at);

CREATE TABLE audit_chains (
    chain TEXT PRIMARY KEY NOT NULL,
    seq INTEGER NOT NULL,
    head TEXT NOT NULL
);

CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
