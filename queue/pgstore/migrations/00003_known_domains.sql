-- The organisation's recipient history across nodes: external domains
-- some node has delivered to (first-time recipient checks). Nodes keep
-- their own copy and add what they learn here in batches.

-- +goose Up
CREATE TABLE known_domains (
    domain   text PRIMARY KEY,
    first_at timestamptz NOT NULL,
    node     text NOT NULL
);

-- +goose Down
DROP TABLE known_domains;
