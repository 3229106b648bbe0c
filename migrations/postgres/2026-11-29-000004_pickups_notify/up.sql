-- Pickup requests raised by the threshold rules, and the notifications that tell the parties:
-- each organisation's messages (its in-app inbox, and the outbox its webhooks are fed from),
-- webhook endpoints, deliveries and every attempt.

-- Share of a zone's capacity at which its waste is called for collection.
ALTER TABLE contracts ADD COLUMN pickup_zone_percent INTEGER NOT NULL DEFAULT 80;

CREATE TABLE pickup_requests (
    id               TEXT PRIMARY KEY NOT NULL,
    park_id          TEXT NOT NULL REFERENCES parks (organization_id),
    contract_id      TEXT NOT NULL REFERENCES contracts (id),
    disposer_id      TEXT NOT NULL REFERENCES disposers (organization_id),
    -- 'warehouse': lots stored in the warehouse; 'door': lots waiting at the enterprises.
    route            TEXT NOT NULL CHECK (route IN ('warehouse', 'door')),
    warehouse_id     TEXT REFERENCES warehouses (id),
    category         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN
                       ('requested', 'accepted', 'scheduled', 'collected', 'declined', 'cancelled')),
    -- What raised it: 'weight', 'zone_capacity', 'storage_age' or 'manual'.
    trigger_kind     TEXT NOT NULL,
    trigger_detail   TEXT NOT NULL,
    -- Set while the request is open (requested, accepted, scheduled): at most one open request
    -- per contract, place and category.
    open_key         TEXT UNIQUE,
    note             TEXT,
    scheduled_on     DATE,
    carrier_id       TEXT REFERENCES organizations (id),
    vehicle_id       TEXT REFERENCES vehicles (id),
    driver_id        TEXT REFERENCES users (id),
    reason           TEXT,
    created_by       TEXT REFERENCES users (id),
    created_at       TIMESTAMP NOT NULL,
    accepted_at      TIMESTAMP,
    accepted_by      TEXT REFERENCES users (id),
    scheduled_at     TIMESTAMP,
    scheduled_by     TEXT REFERENCES users (id),
    closed_at        TIMESTAMP,
    closed_by        TEXT REFERENCES users (id),
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX pickup_requests_park_idx ON pickup_requests (park_id, id);
CREATE INDEX pickup_requests_disposer_idx ON pickup_requests (disposer_id, id);
CREATE INDEX pickup_requests_driver_idx ON pickup_requests (driver_id, id);

-- The open request a lot waits in, if any.
ALTER TABLE lots ADD COLUMN pickup_request_id TEXT REFERENCES pickup_requests (id);
CREATE INDEX lots_pickup_request_idx ON lots (pickup_request_id);
CREATE INDEX lots_waiting_idx ON lots (contract_id, category, status, pickup_request_id);

-- Every lot a request has covered (a cancelled or declined request keeps its list; the lot's
-- own pickup_request_id names only the open request it waits in).
CREATE TABLE pickup_request_lots (
    request_id     TEXT NOT NULL REFERENCES pickup_requests (id),
    lot_id         TEXT NOT NULL REFERENCES lots (id),
    enterprise_id  TEXT NOT NULL REFERENCES enterprises (organization_id),
    added_at       TIMESTAMP NOT NULL,
    PRIMARY KEY (request_id, lot_id)
);
CREATE INDEX pickup_request_lots_enterprise_idx ON pickup_request_lots (enterprise_id, request_id);

-- Everything an organisation is told: its inbox, and the outbox its webhooks are fed from.
CREATE TABLE messages (
    id               TEXT PRIMARY KEY NOT NULL,
    organization_id  TEXT NOT NULL REFERENCES organizations (id),
    type             TEXT NOT NULL,
    subject_id       TEXT NOT NULL,
    title            TEXT NOT NULL,
    data             TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    read_at          TIMESTAMP,
    read_by          TEXT REFERENCES users (id)
);
CREATE INDEX messages_org_idx ON messages (organization_id, id);
CREATE INDEX messages_unread_idx ON messages (organization_id, read_at, id);

-- Conditions already told once (an alarm level reached, a licence about to end).
CREATE TABLE notices (
    key         TEXT PRIMARY KEY NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE webhook_endpoints (
    id                   TEXT PRIMARY KEY NOT NULL,
    organization_id      TEXT NOT NULL REFERENCES organizations (id),
    url                  TEXT NOT NULL,
    description          TEXT,
    -- Comma-separated message types, or '*' for all.
    event_types          TEXT NOT NULL,
    -- whsec_… signing secrets: the current one, and the previous one until it expires.
    secret               TEXT NOT NULL,
    previous_secret      TEXT,
    previous_expires_at  TIMESTAMP,
    status               TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
    disabled_reason      TEXT,
    failing_since        TIMESTAMP,
    created_by           TEXT REFERENCES users (id),
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL
);
CREATE INDEX webhook_endpoints_org_idx ON webhook_endpoints (organization_id, id);

CREATE TABLE webhook_deliveries (
    id               TEXT PRIMARY KEY NOT NULL,
    message_id       TEXT NOT NULL REFERENCES messages (id),
    endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         INTEGER NOT NULL,
    next_attempt_at  TIMESTAMP NOT NULL,
    -- A dispatcher working on the delivery holds it until then; after, another may take it.
    claimed_until    TIMESTAMP,
    last_status      INTEGER,
    last_error       TEXT,
    delivered_at     TIMESTAMP,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_message_idx ON webhook_deliveries (message_id);

CREATE TABLE delivery_attempts (
    id            TEXT PRIMARY KEY NOT NULL,
    delivery_id   TEXT NOT NULL REFERENCES webhook_deliveries (id),
    attempted_at  TIMESTAMP NOT NULL,
    http_status   INTEGER,
    error         TEXT,
    duration_ms   BIGINT NOT NULL
);
CREATE INDEX delivery_attempts_delivery_idx ON delivery_attempts (delivery_id, id);
