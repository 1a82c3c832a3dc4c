-- The shared held queue of several sendguard nodes. Every node runs the
-- same version; `sendguard db migrate` applies this, nodes never do.

-- +goose Up
-- Key fingerprints: every node must read the same key files (links,
-- sessions and tokens made on one node verify on another). Only a hash
-- of each file is stored here, never the key.
CREATE TABLE node_keys (
    name        text PRIMARY KEY,
    fingerprint text NOT NULL,
    first_node  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Held messages. state is held until one conditional transaction decides
-- it; node is the node that takes the decided message into its own spool
-- (landed once it has), so a release is delivered by exactly one node.
CREATE TABLE held_messages (
    id          text PRIMARY KEY,
    state       text NOT NULL CHECK (state IN ('held', 'released', 'rejected', 'cancelled', 'expired', 'deleted')),
    kind        text NOT NULL,
    origin      text NOT NULL,
    created_at  timestamptz NOT NULL,
    deadline    timestamptz,
    decided_at  timestamptz,
    node        text,
    landed      boolean NOT NULL DEFAULT false,
    sender      text NOT NULL,
    hold        jsonb NOT NULL,
    report      jsonb,
    message     jsonb NOT NULL,
    body        bytea NOT NULL,
    body_size   bigint NOT NULL,
    body_sha256 text NOT NULL
);
-- Bodies are stored gzip-compressed already: no second compression.
ALTER TABLE held_messages ALTER COLUMN body SET STORAGE EXTERNAL;
CREATE INDEX held_messages_due ON held_messages (deadline) WHERE state = 'held' AND deadline IS NOT NULL;
CREATE INDEX held_messages_state ON held_messages (state, created_at);
CREATE INDEX held_messages_unlanded ON held_messages (node) WHERE state <> 'held' AND NOT landed;

-- Link tokens: only the SHA-256 of a token, single use, expiring.
CREATE TABLE hold_tokens (
    hash        bytea PRIMARY KEY CHECK (length(hash) = 32),
    message_id  text NOT NULL REFERENCES held_messages (id) ON DELETE CASCADE,
    role        text NOT NULL,
    subject     text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    expires     timestamptz NOT NULL,
    used_at     timestamptz,
    used_by     jsonb
);
CREATE INDEX hold_tokens_message ON hold_tokens (message_id);
CREATE INDEX hold_tokens_expires ON hold_tokens (expires);

-- One audit chain for the cluster: appends lock the single head row, so
-- sequence numbers and hashes follow one order whatever node writes.
CREATE TABLE audit_head (
    one   boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq   bigint NOT NULL,
    hash  bytea NOT NULL,
    nanos bigint NOT NULL
);
INSERT INTO audit_head (seq, hash, nanos) VALUES (0, decode(repeat('00', 32), 'hex'), 0);
CREATE TABLE audit_events (
    seq        bigint PRIMARY KEY,
    message_id text,
    event      text NOT NULL
);
CREATE INDEX audit_events_message ON audit_events (message_id, seq) WHERE message_id IS NOT NULL;

-- +goose Down
DROP TABLE audit_events;
DROP TABLE audit_head;
DROP TABLE hold_tokens;
DROP TABLE held_messages;
DROP TABLE node_keys;
