DELETE FROM lot_events WHERE kind = 'collected';
CREATE TABLE lot_events_old (
    id          TEXT PRIMARY KEY NOT NULL,
    lot_id      TEXT NOT NULL REFERENCES lots (id),
    kind        TEXT NOT NULL CHECK (kind IN ('recorded', 'declared', 'corrected', 'voided')),
    at          TIMESTAMP NOT NULL,
    by_user     TEXT NOT NULL REFERENCES users (id),
    reason      TEXT,
    data        TEXT NOT NULL
);
INSERT INTO lot_events_old SELECT id, lot_id, kind, at, by_user, reason, data FROM lot_events;
DROP TABLE lot_events;
ALTER TABLE lot_events_old RENAME TO lot_events;
CREATE INDEX lot_events_lot_idx ON lot_events (lot_id, id);
DROP TABLE manifest_revisions;
DROP TABLE manifest_versions;
DROP TABLE manifest_signatures;
DROP TABLE manifest_lots;
DROP TABLE manifests;
DROP TABLE manifest_counters;
DROP TABLE collections;
