-- Login throttling: failed sign-ins counted per account and per client address, in the
-- database so the count survives restarts and is shared by every node. The key is the SHA-256
-- of "account:<e-mail>" or "ip:<address>", so unknown e-mails are counted exactly like known
-- ones and the table lists no addresses in clear. A row is forgotten (reset on the next
-- failure, purged later) once `forget_at` has passed.
CREATE TABLE login_throttle (
    key_hash TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL,
    locked_until TEXT,
    forget_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX login_throttle_forget ON login_throttle(forget_at);
