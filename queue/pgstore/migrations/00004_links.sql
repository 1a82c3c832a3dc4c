-- Download links shared by the nodes (storage.driver postgres): package
-- records, token hashes, one-time code states, the download log and the
-- files, encrypted at rest under the nodes' link.key (never stored here),
-- in chunks so that no request holds a whole file.

-- +goose Up
CREATE TABLE link_packages (
    id          text PRIMARY KEY,
    message_id  text NOT NULL,
    created     timestamptz NOT NULL,
    info        jsonb NOT NULL,
    -- when the files go (expiry, or revocation); NULL once they are gone
    files_due   timestamptz,
    -- when the record goes (expiry plus retention)
    records_due timestamptz NOT NULL
);
CREATE INDEX link_packages_message ON link_packages (message_id, created);
CREATE INDEX link_packages_files_due ON link_packages (files_due) WHERE files_due IS NOT NULL;
CREATE INDEX link_packages_records_due ON link_packages (records_due);

CREATE TABLE link_tokens (
    hash       bytea PRIMARY KEY,
    package_id text NOT NULL REFERENCES link_packages ON DELETE CASCADE,
    role       text NOT NULL,
    recipient  text NOT NULL DEFAULT ''
);
CREATE INDEX link_tokens_package ON link_tokens (package_id);

CREATE TABLE link_codes (
    hash  bytea PRIMARY KEY REFERENCES link_tokens ON DELETE CASCADE,
    state jsonb NOT NULL
);

CREATE TABLE link_log (
    package_id text NOT NULL REFERENCES link_packages ON DELETE CASCADE,
    seq        bigint GENERATED ALWAYS AS IDENTITY,
    entry      jsonb NOT NULL,
    PRIMARY KEY (package_id, seq)
);

CREATE TABLE link_files (
    package_id text NOT NULL REFERENCES link_packages ON DELETE CASCADE,
    file_no    integer NOT NULL,
    size       bigint NOT NULL, -- encrypted size
    chunk_size integer NOT NULL,
    PRIMARY KEY (package_id, file_no)
);

-- Chunks are written before their package row commits, in the same
-- transaction, so they carry no foreign key to it.
CREATE TABLE link_chunks (
    package_id text NOT NULL,
    file_no    integer NOT NULL,
    chunk_no   integer NOT NULL,
    data       bytea NOT NULL,
    PRIMARY KEY (package_id, file_no, chunk_no)
);
ALTER TABLE link_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- +goose Down
DROP TABLE link_chunks;
DROP TABLE link_files;
DROP TABLE link_log;
DROP TABLE link_codes;
DROP TABLE link_tokens;
DROP TABLE link_packages;
