-- The registry: parks, enterprises, disposers and their licences, carriers and vehicles,
-- environment bureaus, warehouses and zones, the waste catalog, and "1+N" contracts.
-- Nothing here is deleted: changes end with dates or are kept in `revisions`.

-- A park is carried by its management office's organisation.
CREATE TABLE parks (
    organization_id           TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id),
    region_code               TEXT NOT NULL,
    address                   TEXT NOT NULL,
    time_zone                 TEXT NOT NULL,
    collection_permit_number  TEXT,
    created_at                TIMESTAMP NOT NULL,
    updated_at                TIMESTAMP NOT NULL
);
CREATE INDEX parks_region_idx ON parks (region_code);

CREATE TABLE enterprises (
    organization_id  TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id),
    park_id          TEXT NOT NULL REFERENCES parks (organization_id),
    uscc             TEXT NOT NULL UNIQUE,
    contact_name     TEXT NOT NULL,
    contact_phone    TEXT NOT NULL,
    joined_on        DATE NOT NULL,
    left_on          DATE,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX enterprises_park_idx ON enterprises (park_id, organization_id);

CREATE TABLE disposers (
    organization_id  TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id),
    uscc             TEXT NOT NULL UNIQUE,
    region_code      TEXT NOT NULL,
    address          TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);

-- Hazardous-waste business licences (危险废物经营许可证). `scope` lists HW categories and
-- codes, comma-separated.
CREATE TABLE licences (
    id                     TEXT PRIMARY KEY NOT NULL,
    disposer_id            TEXT NOT NULL REFERENCES disposers (organization_id),
    number                 TEXT NOT NULL,
    issuing_authority      TEXT NOT NULL,
    valid_from             DATE NOT NULL,
    valid_to               DATE NOT NULL,
    annual_capacity_grams  BIGINT NOT NULL,
    scope                  TEXT NOT NULL,
    created_at             TIMESTAMP NOT NULL,
    UNIQUE (disposer_id, number)
);
CREATE INDEX licences_valid_to_idx ON licences (valid_to);

CREATE TABLE carriers (
    organization_id          TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id),
    uscc                     TEXT NOT NULL UNIQUE,
    region_code              TEXT NOT NULL,
    transport_permit_number  TEXT NOT NULL,
    created_at               TIMESTAMP NOT NULL,
    updated_at               TIMESTAMP NOT NULL
);

-- Vehicles of a carrier, or of a disposal company running its own fleet.
CREATE TABLE vehicles (
    id                             TEXT PRIMARY KEY NOT NULL,
    operator_id                    TEXT NOT NULL REFERENCES organizations (id),
    plate                          TEXT NOT NULL,
    dangerous_goods_permit_number  TEXT NOT NULL,
    retired_on                     DATE,
    created_at                     TIMESTAMP NOT NULL,
    updated_at                     TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX vehicles_active_plate_idx ON vehicles (plate) WHERE retired_on IS NULL;
CREATE INDEX vehicles_operator_idx ON vehicles (operator_id, id);

-- Environment bureaus; `jurisdiction` is a region-code prefix.
CREATE TABLE bureaus (
    organization_id  TEXT PRIMARY KEY NOT NULL REFERENCES organizations (id),
    jurisdiction     TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);

CREATE TABLE warehouses (
    id          TEXT PRIMARY KEY NOT NULL,
    park_id     TEXT NOT NULL REFERENCES parks (organization_id),
    name        TEXT NOT NULL,
    address     TEXT NOT NULL,
    closed_on   DATE,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    UNIQUE (park_id, name)
);

-- A zone holds hazardous or general waste; `categories` lists the categories it may hold
-- (comma-separated; empty means any category of its kind).
CREATE TABLE zones (
    id              TEXT PRIMARY KEY NOT NULL,
    warehouse_id    TEXT NOT NULL REFERENCES warehouses (id),
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('hazardous', 'general')),
    categories      TEXT NOT NULL,
    capacity_grams  BIGINT NOT NULL,
    closed_on       DATE,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    UNIQUE (warehouse_id, name)
);

CREATE TABLE waste_categories (
    code        TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('hazardous', 'general')),
    name_zh     TEXT NOT NULL,
    name_en     TEXT,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE waste_codes (
    code             TEXT PRIMARY KEY NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('hazardous', 'general')),
    category         TEXT NOT NULL REFERENCES waste_categories (code),
    name_zh          TEXT NOT NULL,
    characteristics  TEXT NOT NULL,
    withdrawn_on     DATE,
    edition          TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX waste_codes_category_idx ON waste_codes (category, code);

CREATE TABLE catalog_imports (
    id           TEXT PRIMARY KEY NOT NULL,
    imported_by  TEXT NOT NULL REFERENCES users (id),
    imported_at  TIMESTAMP NOT NULL,
    edition      TEXT,
    lines        INTEGER NOT NULL,
    accepted     INTEGER NOT NULL,
    rejected     INTEGER NOT NULL,
    report       TEXT NOT NULL
);

CREATE TABLE contracts (
    id                TEXT PRIMARY KEY NOT NULL,
    park_id           TEXT NOT NULL REFERENCES parks (organization_id),
    disposer_id       TEXT NOT NULL REFERENCES disposers (organization_id),
    number            TEXT NOT NULL,
    valid_from        DATE NOT NULL,
    valid_to          DATE NOT NULL,
    max_storage_days  INTEGER NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    UNIQUE (park_id, number)
);
CREATE INDEX contracts_disposer_idx ON contracts (disposer_id, id);
CREATE INDEX contracts_valid_to_idx ON contracts (valid_to);

CREATE TABLE contract_members (
    id             TEXT PRIMARY KEY NOT NULL,
    contract_id    TEXT NOT NULL REFERENCES contracts (id),
    enterprise_id  TEXT NOT NULL REFERENCES enterprises (organization_id),
    joined_on      DATE NOT NULL,
    left_on        DATE,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX contract_members_contract_idx ON contract_members (contract_id, enterprise_id);
CREATE INDEX contract_members_enterprise_idx ON contract_members (enterprise_id);

-- Dated rules: a new row with a later `effective_from` supersedes the previous one.
CREATE TABLE contract_prices (
    id              TEXT PRIMARY KEY NOT NULL,
    contract_id     TEXT NOT NULL REFERENCES contracts (id),
    target          TEXT NOT NULL,
    fen_per_tonne   BIGINT NOT NULL,
    effective_from  DATE NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    created_by      TEXT REFERENCES users (id),
    UNIQUE (contract_id, target, effective_from)
);

CREATE TABLE contract_thresholds (
    id               TEXT PRIMARY KEY NOT NULL,
    contract_id      TEXT NOT NULL REFERENCES contracts (id),
    target           TEXT NOT NULL,
    threshold_grams  BIGINT NOT NULL,
    effective_from   DATE NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    created_by       TEXT REFERENCES users (id),
    UNIQUE (contract_id, target, effective_from)
);

-- Every version of every registry object, as the JSON the API showed, with who made it and
-- when: the answer to "what was true on that day".
CREATE TABLE revisions (
    id           TEXT PRIMARY KEY NOT NULL,
    entity       TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    recorded_at  TIMESTAMP NOT NULL,
    recorded_by  TEXT REFERENCES users (id),
    data         TEXT NOT NULL
);
CREATE INDEX revisions_entity_idx ON revisions (entity, entity_id, recorded_at);
