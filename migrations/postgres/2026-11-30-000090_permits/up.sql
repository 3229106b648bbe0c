-- The park's collection permit as a permit: its validity, the codes or categories it covers
-- (as a licence's scope: a `,`-joined list; empty covers every hazardous code) and its annual
-- capacity in grams. A park with a number and no dates holds a permit valid every day
-- (what the number alone meant before). The park's unified social credit code.
ALTER TABLE parks ADD COLUMN uscc TEXT;
ALTER TABLE parks ADD COLUMN permit_valid_from DATE;
ALTER TABLE parks ADD COLUMN permit_valid_until DATE;
ALTER TABLE parks ADD COLUMN permit_scope TEXT NOT NULL DEFAULT '';
ALTER TABLE parks ADD COLUMN permit_annual_capacity_grams BIGINT;

-- A zone assigned to one enterprise as its own storage point inside the park: only its lots
-- enter, and they leave with the enterprise as consignor. NULL: a shared zone.
ALTER TABLE zones ADD COLUMN enterprise_id TEXT REFERENCES organizations (id);

-- Validity of the transport permits (NULL: not recorded, not checked).
ALTER TABLE carriers ADD COLUMN transport_permit_valid_until DATE;
ALTER TABLE vehicles ADD COLUMN dangerous_goods_permit_valid_until DATE;

-- A driver's dangerous-goods qualification (危险货物运输从业资格).
ALTER TABLE users ADD COLUMN dg_qualification_number TEXT;
ALTER TABLE users ADD COLUMN dg_qualification_valid_until DATE;

-- The escort (押运员) of a pickup, a user of the carrier, carried onto its manifests.
ALTER TABLE pickup_requests ADD COLUMN escort_id TEXT;
ALTER TABLE collections ADD COLUMN escort_id TEXT;

-- A manifest's escort, where the waste leaves from (the warehouse's, or the park's, address)
-- and where it goes (the receiver's address), as they were when it was issued. Manifests
-- issued before have no row.
CREATE TABLE manifest_places (
    manifest_id          TEXT PRIMARY KEY NOT NULL REFERENCES manifests (id),
    escort_id            TEXT,
    departure_address    TEXT NOT NULL,
    destination_address  TEXT NOT NULL
);
