-- Waste lots, their events, the inventory kept with them, label sequences, and the
-- idempotency keys of retried requests.

-- Grams stored in a zone, kept in the same transaction as every lot that enters or leaves it.
ALTER TABLE zones ADD COLUMN stored_grams BIGINT NOT NULL DEFAULT 0;

CREATE TABLE lots (
    id                 TEXT PRIMARY KEY NOT NULL,
    park_id            TEXT NOT NULL REFERENCES parks (organization_id),
    enterprise_id      TEXT NOT NULL REFERENCES enterprises (organization_id),
    contract_id        TEXT NOT NULL REFERENCES contracts (id),
    -- 'warehouse': weighed into the shared warehouse; 'door': declared, waiting at the enterprise.
    route              TEXT NOT NULL CHECK (route IN ('warehouse', 'door')),
    status             TEXT NOT NULL CHECK (status IN ('stored', 'declared', 'voided', 'collected')),
    waste_code         TEXT NOT NULL REFERENCES waste_codes (code),
    kind               TEXT NOT NULL CHECK (kind IN ('hazardous', 'general')),
    category           TEXT NOT NULL,
    physical_form      TEXT NOT NULL,
    container_type     TEXT NOT NULL,
    container_count    INTEGER NOT NULL,
    container_litres   INTEGER,
    warehouse_id       TEXT REFERENCES warehouses (id),
    zone_id            TEXT REFERENCES zones (id),
    -- The current weighing. For a declaration, net_grams is the estimate and gross/tare are empty.
    gross_grams        BIGINT,
    tare_grams         BIGINT,
    net_grams          BIGINT NOT NULL,
    weight_source      TEXT NOT NULL CHECK (weight_source IN ('scale', 'estimate')),
    scale_id           TEXT,
    captured_at        TIMESTAMP NOT NULL,
    received_at        TIMESTAMP NOT NULL,
    recorded_by        TEXT NOT NULL REFERENCES users (id),
    produced_on        DATE NOT NULL,
    main_components    TEXT,
    note               TEXT,
    -- HJ 1276-2022 digital identification code (hazardous lots).
    label_code         TEXT UNIQUE,
    voided_at          TIMESTAMP,
    void_reason        TEXT,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);
CREATE INDEX lots_park_idx ON lots (park_id, id);
CREATE INDEX lots_park_status_idx ON lots (park_id, status, id);
CREATE INDEX lots_enterprise_idx ON lots (enterprise_id, id);
CREATE INDEX lots_enterprise_status_idx ON lots (enterprise_id, status, id);
CREATE INDEX lots_zone_idx ON lots (zone_id, status, id);
CREATE INDEX lots_code_idx ON lots (park_id, waste_code, id);
CREATE INDEX lots_code_status_idx ON lots (park_id, status, waste_code, id);
CREATE INDEX lots_received_idx ON lots (park_id, received_at);
CREATE INDEX lots_contract_idx ON lots (contract_id, status);
CREATE INDEX lots_stored_age_idx ON lots (status, captured_at);

-- Everything that happened to a lot, with who, when and why.
CREATE TABLE lot_events (
    id          TEXT PRIMARY KEY NOT NULL,
    lot_id      TEXT NOT NULL REFERENCES lots (id),
    kind        TEXT NOT NULL CHECK (kind IN ('recorded', 'declared', 'corrected', 'voided')),
    at          TIMESTAMP NOT NULL,
    by_user     TEXT NOT NULL REFERENCES users (id),
    reason      TEXT,
    data        TEXT NOT NULL
);
CREATE INDEX lot_events_lot_idx ON lot_events (lot_id, id);

-- Stock per zone, contract and code.
CREATE TABLE inventory (
    zone_id      TEXT NOT NULL REFERENCES zones (id),
    contract_id  TEXT NOT NULL REFERENCES contracts (id),
    waste_code   TEXT NOT NULL REFERENCES waste_codes (code),
    grams        BIGINT NOT NULL,
    lots         INTEGER NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (zone_id, contract_id, waste_code)
);

-- The last sequence number of label codes per enterprise, code and day.
CREATE TABLE label_sequences (
    enterprise_id  TEXT NOT NULL,
    waste_code     TEXT NOT NULL,
    day            DATE NOT NULL,
    last           INTEGER NOT NULL,
    PRIMARY KEY (enterprise_id, waste_code, day)
);

-- Idempotency-Key of retried POSTs, per caller: the request's fingerprint and, once done, the
-- response to replay.
CREATE TABLE idempotency_keys (
    user_id        TEXT NOT NULL,
    key            TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    locked_at      TIMESTAMP NOT NULL,
    status         INTEGER,
    location       TEXT,
    body           TEXT,
    created_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
