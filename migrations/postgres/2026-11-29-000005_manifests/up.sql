-- Collections (the driver's outbound weighing of a pickup), transfer manifests with their signed
-- steps, versions and revisions, and the gap-free manifest serials.

CREATE TABLE collections (
    id             TEXT PRIMARY KEY NOT NULL,
    request_id     TEXT NOT NULL REFERENCES pickup_requests (id),
    park_id        TEXT NOT NULL REFERENCES parks (organization_id),
    carrier_id     TEXT NOT NULL REFERENCES organizations (id),
    vehicle_id     TEXT NOT NULL REFERENCES vehicles (id),
    driver_id      TEXT NOT NULL REFERENCES users (id),
    scale_id       TEXT NOT NULL,
    gross_grams    BIGINT,
    tare_grams     BIGINT,
    net_grams      BIGINT NOT NULL,
    captured_at    TIMESTAMP NOT NULL,
    recorded_by    TEXT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX collections_request_idx ON collections (request_id);

-- The last serial per number prefix (year and city of departure, and kind).
CREATE TABLE manifest_counters (
    prefix  TEXT PRIMARY KEY NOT NULL,
    last    BIGINT NOT NULL
);

CREATE TABLE manifests (
    id                  TEXT PRIMARY KEY NOT NULL,
    number              TEXT NOT NULL UNIQUE,
    -- 'hazardous': a transfer manifest; 'general': a transfer record of general waste.
    kind                TEXT NOT NULL CHECK (kind IN ('hazardous', 'general')),
    collection_id       TEXT NOT NULL REFERENCES collections (id),
    park_id             TEXT NOT NULL REFERENCES parks (organization_id),
    region_code         TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN
                          ('draft', 'confirmed', 'in_transit', 'received', 'completed')),
    -- 'park_warehouse' (the park, as collector) or 'enterprise'.
    consignor_type      TEXT NOT NULL,
    consignor_id        TEXT NOT NULL REFERENCES organizations (id),
    carrier_id          TEXT NOT NULL REFERENCES organizations (id),
    vehicle_id          TEXT NOT NULL REFERENCES vehicles (id),
    driver_id           TEXT NOT NULL REFERENCES users (id),
    receiver_id         TEXT NOT NULL REFERENCES organizations (id),
    licence_id          TEXT REFERENCES licences (id),
    waste_code          TEXT NOT NULL REFERENCES waste_codes (code),
    category            TEXT NOT NULL,
    physical_form       TEXT NOT NULL,
    packaging           TEXT NOT NULL,
    emergency_measures  TEXT NOT NULL,
    inbound_grams       BIGINT NOT NULL,
    outbound_grams      BIGINT NOT NULL,
    received_grams      BIGINT,
    refused_grams       BIGINT,
    -- 'accepted', 'partially_refused' or 'refused'.
    decision            TEXT,
    treatment           TEXT,
    -- Set at the carrier's take-over: the last day the receiver may confirm receipt.
    receipt_due_on      DATE,
    -- Set when the mass balance is beyond the tolerance: what differs.
    flag_detail         TEXT,
    -- The case of refused waste: 'open' until the park office resolves it.
    case_status         TEXT,
    case_resolution     TEXT,
    version             INTEGER NOT NULL,
    created_at          TIMESTAMP NOT NULL,
    updated_at          TIMESTAMP NOT NULL
);
CREATE INDEX manifests_park_idx ON manifests (park_id, id);
CREATE INDEX manifests_region_idx ON manifests (region_code, id);
CREATE INDEX manifests_receiver_idx ON manifests (receiver_id, id);
CREATE INDEX manifests_carrier_idx ON manifests (carrier_id, id);
CREATE INDEX manifests_consignor_idx ON manifests (consignor_id, id);
CREATE INDEX manifests_due_idx ON manifests (status, receipt_due_on);

-- The lots a manifest groups, with the weight each brought in.
CREATE TABLE manifest_lots (
    manifest_id    TEXT NOT NULL REFERENCES manifests (id),
    lot_id         TEXT NOT NULL UNIQUE REFERENCES lots (id),
    enterprise_id  TEXT NOT NULL REFERENCES enterprises (organization_id),
    inbound_grams  BIGINT NOT NULL,
    PRIMARY KEY (manifest_id, lot_id)
);
CREATE INDEX manifest_lots_enterprise_idx ON manifest_lots (enterprise_id, manifest_id);

-- Who signed which step, for which organisation, in which role, and when.
CREATE TABLE manifest_signatures (
    id               TEXT PRIMARY KEY NOT NULL,
    manifest_id      TEXT NOT NULL REFERENCES manifests (id),
    step             TEXT NOT NULL,
    user_id          TEXT NOT NULL REFERENCES users (id),
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    role             TEXT NOT NULL,
    at               TIMESTAMP NOT NULL,
    data             TEXT
);
CREATE INDEX manifest_signatures_manifest_idx ON manifest_signatures (manifest_id, id);

-- Every version of a manifest, as the API showed it.
CREATE TABLE manifest_versions (
    manifest_id  TEXT NOT NULL REFERENCES manifests (id),
    version      INTEGER NOT NULL,
    data         TEXT NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (manifest_id, version)
);

-- Changes proposed after a signature, applied once every other signing party approved.
CREATE TABLE manifest_revisions (
    id               TEXT PRIMARY KEY NOT NULL,
    manifest_id      TEXT NOT NULL REFERENCES manifests (id),
    proposed_by      TEXT NOT NULL REFERENCES users (id),
    proposed_org     TEXT NOT NULL REFERENCES organizations (id),
    reason           TEXT NOT NULL,
    changes          TEXT NOT NULL,
    -- 'pending', 'applied' or 'rejected'.
    status           TEXT NOT NULL,
    -- Comma-separated organisation ids whose approval is needed, and those that gave it.
    needed           TEXT NOT NULL,
    approved         TEXT NOT NULL,
    decided_by       TEXT REFERENCES users (id),
    created_at       TIMESTAMP NOT NULL,
    decided_at       TIMESTAMP
);
CREATE INDEX manifest_revisions_manifest_idx ON manifest_revisions (manifest_id, id);

-- Lots leave with a collection: their events say so.
ALTER TABLE lot_events DROP CONSTRAINT lot_events_kind_check;
ALTER TABLE lot_events ADD CONSTRAINT lot_events_kind_check
    CHECK (kind IN ('recorded', 'declared', 'corrected', 'voided', 'collected'));
