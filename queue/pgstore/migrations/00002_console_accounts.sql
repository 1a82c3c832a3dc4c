-- Console accounts and sessions shared by the nodes (package consolepg):
-- an account added on one node signs in on every node, a session made on
-- one is valid on all. Records are the console's JSON (argon2id password
-- hash, TOTP secret and last used step, role); sessions are stored under
-- the SHA-256 of their ID, never the ID.

-- +goose Up
CREATE TABLE console_users (
    name   text PRIMARY KEY,
    record bytea NOT NULL
);

CREATE TABLE console_sessions (
    key       bytea PRIMARY KEY CHECK (length(key) = 32),
    user_name text NOT NULL DEFAULT '',
    expires   timestamptz NOT NULL,
    record    bytea NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_name) WHERE user_name <> '';
CREATE INDEX console_sessions_expires ON console_sessions (expires);

-- +goose Down
DROP TABLE console_sessions;
DROP TABLE console_users;
