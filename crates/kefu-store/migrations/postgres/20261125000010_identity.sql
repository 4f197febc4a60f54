-- Widget identity verification: each site's HMAC secret (sealed by the server's secret box),
-- and the customer's own user id on visitors whose identity was verified with it.
ALTER TABLE sites ADD COLUMN identity_secret_sealed TEXT;
ALTER TABLE visitors ADD COLUMN external_id TEXT;
