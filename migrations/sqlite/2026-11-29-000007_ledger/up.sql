-- Ledgers (台账): every movement of a lot in or out of a warehouse's stock, on its business
-- date, and indexes for filtering lots by business date (the weighing's capture time).
--
-- `stock_movements` is written by `lots::stock` in the transaction of the change it records:
--   in          a weighing into a zone (at = the weighing's capture time, lots +1)
--   correction  a corrected weight of a stored lot (signed delta, at = time of the correction)
--   void        a stored lot voided (negative grams, at = time of the void, lots −1)
--   out         a stored lot collected (negative grams, at = the collection's capture time,
--               lots −1), with the manifest or transfer record number and the receiver
-- Lots declared at an enterprise's door never enter a warehouse's stock and have no movements.
-- The receiving side cannot send refused waste back into stock (a refusal opens a case that the
-- park office resolves), so there is no movement for refusals.
CREATE TABLE stock_movements (
    id               TEXT PRIMARY KEY NOT NULL,
    park_id          TEXT NOT NULL REFERENCES parks (organization_id),
    warehouse_id     TEXT NOT NULL REFERENCES warehouses (id),
    zone_id          TEXT NOT NULL REFERENCES zones (id),
    enterprise_id    TEXT NOT NULL REFERENCES enterprises (organization_id),
    contract_id      TEXT NOT NULL REFERENCES contracts (id),
    lot_id           TEXT NOT NULL REFERENCES lots (id),
    waste_code       TEXT NOT NULL,
    -- hazardous or general
    kind             TEXT NOT NULL CHECK (kind IN ('hazardous', 'general')),
    category         TEXT NOT NULL,
    movement         TEXT NOT NULL CHECK (movement IN ('in', 'correction', 'void', 'out')),
    -- Signed: what the stock gained (in, a heavier correction) or lost.
    grams            BIGINT NOT NULL,
    lots             INTEGER NOT NULL,
    -- The business time (UTC); its date in the park's time zone is the ledger's date.
    at               TIMESTAMP NOT NULL,
    -- When the server recorded the movement.
    recorded_at      TIMESTAMP NOT NULL,
    -- The manifest or transfer record number (out).
    document_number  TEXT,
    receiver_id      TEXT,
    receiver_name    TEXT,
    by_user          TEXT NOT NULL REFERENCES users (id)
);
CREATE INDEX stock_movements_warehouse_idx ON stock_movements (warehouse_id, kind, at, id);
CREATE INDEX stock_movements_enterprise_idx ON stock_movements (enterprise_id, kind, at, id);
CREATE INDEX stock_movements_park_idx ON stock_movements (park_id, kind, at, id);
CREATE INDEX stock_movements_lot_idx ON stock_movements (lot_id);

-- Lots by business date.
CREATE INDEX lots_captured_idx ON lots (park_id, captured_at);
CREATE INDEX lots_enterprise_captured_idx ON lots (enterprise_id, captured_at);

-- Backfill from the lots, their events and the manifests. What cannot be reconstructed:
-- * the weight first weighed in is derived as the current weight less the recorded
--   corrections (their before/after in the events); a lot whose capture time was corrected
--   appears under its corrected capture time, the earlier one stays only in its history;
-- * a lot voided after its collection cannot exist, and a lot collected before manifests were
--   issued (there was no such release) would have no movement out: none is invented;
-- * recorded_at of an `in` is the lot's reception time, of the others the time of the event or
--   of the collection's record.
INSERT INTO stock_movements (id, park_id, warehouse_id, zone_id, enterprise_id, contract_id,
    lot_id, waste_code, kind, category, movement, grams, lots, at, recorded_at, by_user)
SELECT 'mov_in_' || substr(l.id, 5), l.park_id, l.warehouse_id, l.zone_id, l.enterprise_id,
    l.contract_id, l.id, l.waste_code, l.kind, l.category, 'in',
    l.net_grams - COALESCE((
        SELECT SUM(CAST(json_extract(e.data, '$.after.net_grams') AS INTEGER)
                 - CAST(json_extract(e.data, '$.before.net_grams') AS INTEGER))
        FROM lot_events e WHERE e.lot_id = l.id AND e.kind = 'corrected'), 0),
    1, l.captured_at, l.received_at, l.recorded_by
FROM lots l
WHERE l.route = 'warehouse' AND l.zone_id IS NOT NULL AND l.warehouse_id IS NOT NULL;

INSERT INTO stock_movements (id, park_id, warehouse_id, zone_id, enterprise_id, contract_id,
    lot_id, waste_code, kind, category, movement, grams, lots, at, recorded_at, by_user)
SELECT 'mov_co_' || substr(e.id, 5), l.park_id, l.warehouse_id, l.zone_id, l.enterprise_id,
    l.contract_id, l.id, l.waste_code, l.kind, l.category, 'correction',
    CAST(json_extract(e.data, '$.after.net_grams') AS INTEGER)
        - CAST(json_extract(e.data, '$.before.net_grams') AS INTEGER),
    0, e.at, e.at, e.by_user
FROM lot_events e JOIN lots l ON l.id = e.lot_id
WHERE e.kind = 'corrected' AND l.route = 'warehouse' AND l.zone_id IS NOT NULL
    AND l.warehouse_id IS NOT NULL;

INSERT INTO stock_movements (id, park_id, warehouse_id, zone_id, enterprise_id, contract_id,
    lot_id, waste_code, kind, category, movement, grams, lots, at, recorded_at, by_user)
SELECT 'mov_vo_' || substr(l.id, 5), l.park_id, l.warehouse_id, l.zone_id, l.enterprise_id,
    l.contract_id, l.id, l.waste_code, l.kind, l.category, 'void', -l.net_grams, -1,
    l.voided_at, l.voided_at,
    COALESCE((SELECT e.by_user FROM lot_events e WHERE e.lot_id = l.id AND e.kind = 'voided'
              ORDER BY e.id LIMIT 1), l.recorded_by)
FROM lots l
WHERE l.status = 'voided' AND l.route = 'warehouse' AND l.zone_id IS NOT NULL
    AND l.warehouse_id IS NOT NULL AND l.voided_at IS NOT NULL;

INSERT INTO stock_movements (id, park_id, warehouse_id, zone_id, enterprise_id, contract_id,
    lot_id, waste_code, kind, category, movement, grams, lots, at, recorded_at,
    document_number, receiver_id, receiver_name, by_user)
SELECT 'mov_ou_' || substr(l.id, 5), l.park_id, l.warehouse_id, l.zone_id, l.enterprise_id,
    l.contract_id, l.id, l.waste_code, l.kind, l.category, 'out', -l.net_grams, -1,
    c.captured_at, c.created_at, m.number, m.receiver_id, o.name, c.recorded_by
FROM lots l
JOIN manifest_lots ml ON ml.lot_id = l.id
JOIN manifests m ON m.id = ml.manifest_id
JOIN collections c ON c.id = m.collection_id
JOIN organizations o ON o.id = m.receiver_id
WHERE l.status = 'collected' AND l.route = 'warehouse' AND l.zone_id IS NOT NULL
    AND l.warehouse_id IS NOT NULL;
