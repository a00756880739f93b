CREATE TABLE accounts (
    id      integer PRIMARY KEY,
    owner   text    NOT NULL,
    balance numeric NOT NULL DEFAULT 0
);
-- no autovacuum: an ANALYZE it starts holds a snapshot that races the examples' own VACUUM
ALTER TABLE accounts SET (autovacuum_enabled = false);
INSERT INTO accounts SELECT g, 'owner ' || g, 100 FROM generate_series(1, 1000) AS g;
