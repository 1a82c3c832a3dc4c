-- What used to be each node's own and must be the same on every node:
-- stored analysis reports (policy replay, stats, dashboard), senders'
-- behaviour baselines and the console's sign-in back-off.

-- +goose Up
-- One row per accepted message's report (reports.Marshal), ordered as
-- bbolt orders its keys: acceptance time in Unix nanoseconds, then the
-- queue ID byte-wise. Nodes copy their reports here in batches.
CREATE TABLE node_reports (
    t_ns     bigint NOT NULL,
    queue_id text COLLATE "C" NOT NULL,
    report   bytea NOT NULL,
    PRIMARY KEY (t_ns, queue_id)
);

-- One baseline record per sender (baseline.Record.Marshal), keyed by the
-- lower-cased address. Nodes merge their observations in under the row
-- lock, so no node's observations overwrite another's.
CREATE TABLE node_baselines (
    sender  text PRIMARY KEY,
    record  bytea NOT NULL,
    updated timestamptz NOT NULL
);

-- Failed console sign-ins per scope (ip, account) and key (a client IP,
-- or an account and network, which holds a NUL: bytea): failures so far
-- and the last one's time; the back-off is computed from them as
-- ratelimit.Backoff does.
CREATE TABLE node_signin_failures (
    scope    text NOT NULL,
    key      bytea NOT NULL,
    failures integer NOT NULL,
    last_at  timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX node_signin_failures_last ON node_signin_failures (last_at);

-- +goose Down
DROP TABLE node_signin_failures;
DROP TABLE node_baselines;
DROP TABLE node_reports;
