-- The official number the national solid-waste information system assigned to a manifest when
-- the consignor filed it there, kept beside the service's own tracking number: one per
-- manifest, one manifest per number; who recorded it and when.
CREATE TABLE manifest_official_numbers (
    manifest_id     TEXT PRIMARY KEY NOT NULL REFERENCES manifests (id),
    official_number TEXT NOT NULL UNIQUE,
    recorded_by     TEXT NOT NULL,
    recorded_at     TIMESTAMP NOT NULL
);
-- A park may require the official number before the carrier takes hazardous waste over.
ALTER TABLE parks ADD COLUMN require_official_number BOOLEAN NOT NULL DEFAULT FALSE;
