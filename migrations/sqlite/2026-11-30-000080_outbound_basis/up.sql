-- How each manifest's outbound figure came about, one row per manifest (beside the manifest's
-- row, which holds as many columns as the query layer takes): `weighed` — its own weighing,
-- with the scale and the device's capture time — or `allocated` — its share of the vehicle's
-- weighing, in proportion to the inbound weights, which nobody weighed.
CREATE TABLE manifest_outbounds (
    manifest_id  TEXT PRIMARY KEY NOT NULL REFERENCES manifests (id),
    basis        TEXT NOT NULL,
    scale_id     TEXT,
    captured_at  TIMESTAMP
);
-- Manifests issued before were allocated, except the only manifest of its trip: the vehicle's
-- weighing was then its own.
INSERT INTO manifest_outbounds (manifest_id, basis, scale_id, captured_at)
SELECT m.id, 'weighed', c.scale_id, c.captured_at
FROM manifests m JOIN collections c ON c.id = m.collection_id
WHERE c.gross_grams IS NOT NULL
  AND (SELECT COUNT(*) FROM manifests o WHERE o.collection_id = m.collection_id) = 1;
INSERT INTO manifest_outbounds (manifest_id, basis)
SELECT m.id, 'allocated' FROM manifests m
WHERE NOT EXISTS (SELECT 1 FROM manifest_outbounds w WHERE w.manifest_id = m.id);
-- Whether the driver must scan the label of every container of general waste at collection
-- (hazardous waste always is); a park may turn it off.
ALTER TABLE parks ADD COLUMN label_scan_general BOOLEAN NOT NULL DEFAULT 1;
