-- The audit chain: one entry per committed change of state, each carrying the hash of the one
-- before it, appended in the transaction of the change and never updated or deleted.
CREATE TABLE audit_entries (
    seq              BIGINT PRIMARY KEY NOT NULL,
    prev_hash        TEXT NOT NULL,
    hash             TEXT NOT NULL,
    at               TIMESTAMP NOT NULL,
    request_id       TEXT,
    user_id          TEXT,
    organization_id  TEXT,
    role             TEXT,
    action           TEXT NOT NULL,
    object           TEXT NOT NULL,
    park_id          TEXT,
    summary          TEXT NOT NULL
);
CREATE INDEX audit_entries_park_idx ON audit_entries (park_id, seq);
CREATE INDEX audit_entries_object_idx ON audit_entries (object, seq);

-- The copy of record of a manifest: its canonical JSON as signed at each step (and as each
-- version stood when a revision replaced it), with the document's SHA-256. Inserted only.
CREATE TABLE manifest_records (
    manifest_id   TEXT NOT NULL REFERENCES manifests (id),
    seq           INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    event         TEXT NOT NULL,
    signature_id  TEXT REFERENCES manifest_signatures (id),
    document      TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (manifest_id, seq)
);
CREATE INDEX manifest_records_version_idx ON manifest_records (manifest_id, version, seq);

-- The SHA-256 of the copy of record a signature made.
ALTER TABLE manifest_signatures ADD COLUMN document_sha256 TEXT;
