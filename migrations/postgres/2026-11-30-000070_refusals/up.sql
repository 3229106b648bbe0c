-- The lots a receiver refused, each with the grams of it refused: what a refusal's case is
-- resolved with, and each enterprise's share of it.
CREATE TABLE manifest_refusals (
    manifest_id    TEXT NOT NULL REFERENCES manifests (id),
    lot_id         TEXT NOT NULL REFERENCES lots (id),
    enterprise_id  TEXT NOT NULL REFERENCES enterprises (organization_id),
    grams          BIGINT NOT NULL,
    PRIMARY KEY (manifest_id, lot_id)
);
CREATE INDEX manifest_refusals_enterprise_idx ON manifest_refusals (enterprise_id, manifest_id);
-- A manifest issued to resolve a refusal follows the refused one: `return` (to the consignor)
-- or `forward` (to another licensed receiver). Its lots are the refused lots of the manifest it
-- follows, at their refused grams.
CREATE TABLE manifest_follows (
    manifest_id          TEXT PRIMARY KEY NOT NULL REFERENCES manifests (id),
    follows_manifest_id  TEXT NOT NULL REFERENCES manifests (id),
    reason               TEXT NOT NULL
);
CREATE INDEX manifest_follows_follows_idx ON manifest_follows (follows_manifest_id);
