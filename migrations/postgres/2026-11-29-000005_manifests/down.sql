DELETE FROM lot_events WHERE kind = 'collected';
ALTER TABLE lot_events DROP CONSTRAINT lot_events_kind_check;
ALTER TABLE lot_events ADD CONSTRAINT lot_events_kind_check
    CHECK (kind IN ('recorded', 'declared', 'corrected', 'voided'));
DROP TABLE manifest_revisions;
DROP TABLE manifest_versions;
DROP TABLE manifest_signatures;
DROP TABLE manifest_lots;
DROP TABLE manifests;
DROP TABLE manifest_counters;
DROP TABLE collections;
