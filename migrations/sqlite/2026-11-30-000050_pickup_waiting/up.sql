-- What waits for collection, kept as running totals so that the pickup rules read a few rows
-- instead of every waiting lot: grams and lots per pickup group (contract, place, category),
-- zone and code. `place` is the warehouse for stored lots and '' for lots declared at the
-- enterprises' doors; `zone` is '' for those. `oldest` is when the oldest of them was weighed
-- or declared — or earlier: a lot leaving does not move it forward (only the last one leaving
-- clears it), so the storage-age rule re-reads the lots when `oldest` says a rule is crossed. A lot waits while it is in no request and is
-- stored in a warehouse or declared at a door. The triggers below keep the totals in the
-- transaction of every change to a lot, whichever code makes it.
CREATE TABLE pickup_waiting (
    contract_id  TEXT NOT NULL,
    place        TEXT NOT NULL,
    category     TEXT NOT NULL,
    zone         TEXT NOT NULL,
    waste_code   TEXT NOT NULL,
    grams        BIGINT NOT NULL,
    lots         BIGINT NOT NULL,
    oldest       TIMESTAMP,
    PRIMARY KEY (contract_id, place, category, zone, waste_code)
);

INSERT INTO pickup_waiting (contract_id, place, category, zone, waste_code, grams, lots, oldest)
SELECT contract_id,
       CASE WHEN status = 'stored' THEN warehouse_id ELSE '' END,
       category, COALESCE(zone_id, ''), waste_code, SUM(net_grams), COUNT(*), MIN(captured_at)
FROM lots
WHERE pickup_request_id IS NULL
  AND ((status = 'stored' AND warehouse_id IS NOT NULL) OR (status = 'declared' AND route = 'door'))
GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER lots_waiting_insert AFTER INSERT ON lots
WHEN NEW.pickup_request_id IS NULL
 AND ((NEW.status = 'stored' AND NEW.warehouse_id IS NOT NULL) OR (NEW.status = 'declared' AND NEW.route = 'door'))
BEGIN
    INSERT INTO pickup_waiting (contract_id, place, category, zone, waste_code, grams, lots, oldest)
    VALUES (NEW.contract_id, CASE WHEN NEW.status = 'stored' THEN NEW.warehouse_id ELSE '' END,
            NEW.category, COALESCE(NEW.zone_id, ''), NEW.waste_code, NEW.net_grams, 1, NEW.captured_at)
    ON CONFLICT (contract_id, place, category, zone, waste_code)
    DO UPDATE SET grams = grams + excluded.grams, lots = lots + 1,
        oldest = CASE WHEN oldest IS NULL OR excluded.oldest < oldest THEN excluded.oldest ELSE oldest END;
END;

CREATE TRIGGER lots_waiting_leave
AFTER UPDATE OF contract_id, route, status, category, warehouse_id, zone_id, waste_code, net_grams, captured_at, pickup_request_id ON lots
WHEN OLD.pickup_request_id IS NULL
 AND ((OLD.status = 'stored' AND OLD.warehouse_id IS NOT NULL) OR (OLD.status = 'declared' AND OLD.route = 'door'))
BEGIN
    UPDATE pickup_waiting SET grams = grams - OLD.net_grams, lots = lots - 1,
        oldest = CASE WHEN lots = 1 THEN NULL ELSE oldest END
    WHERE contract_id = OLD.contract_id
      AND place = CASE WHEN OLD.status = 'stored' THEN OLD.warehouse_id ELSE '' END
      AND category = OLD.category AND zone = COALESCE(OLD.zone_id, '') AND waste_code = OLD.waste_code;
END;

CREATE TRIGGER lots_waiting_enter
AFTER UPDATE OF contract_id, route, status, category, warehouse_id, zone_id, waste_code, net_grams, captured_at, pickup_request_id ON lots
WHEN NEW.pickup_request_id IS NULL
 AND ((NEW.status = 'stored' AND NEW.warehouse_id IS NOT NULL) OR (NEW.status = 'declared' AND NEW.route = 'door'))
BEGIN
    INSERT INTO pickup_waiting (contract_id, place, category, zone, waste_code, grams, lots, oldest)
    VALUES (NEW.contract_id, CASE WHEN NEW.status = 'stored' THEN NEW.warehouse_id ELSE '' END,
            NEW.category, COALESCE(NEW.zone_id, ''), NEW.waste_code, NEW.net_grams, 1, NEW.captured_at)
    ON CONFLICT (contract_id, place, category, zone, waste_code)
    DO UPDATE SET grams = grams + excluded.grams, lots = lots + 1,
        oldest = CASE WHEN oldest IS NULL OR excluded.oldest < oldest THEN excluded.oldest ELSE oldest END;
END;

CREATE TRIGGER lots_waiting_delete AFTER DELETE ON lots
WHEN OLD.pickup_request_id IS NULL
 AND ((OLD.status = 'stored' AND OLD.warehouse_id IS NOT NULL) OR (OLD.status = 'declared' AND OLD.route = 'door'))
BEGIN
    UPDATE pickup_waiting SET grams = grams - OLD.net_grams, lots = lots - 1,
        oldest = CASE WHEN lots = 1 THEN NULL ELSE oldest END
    WHERE contract_id = OLD.contract_id
      AND place = CASE WHEN OLD.status = 'stored' THEN OLD.warehouse_id ELSE '' END
      AND category = OLD.category AND zone = COALESCE(OLD.zone_id, '') AND waste_code = OLD.waste_code;
END;

-- The waiting lots of one group, oldest first, on one index (the old one lacked the warehouse).
DROP INDEX lots_waiting_idx;
CREATE INDEX lots_waiting_idx ON lots (contract_id, category, status, warehouse_id, pickup_request_id, captured_at);
-- Whether a lot was ever in a request.
CREATE INDEX pickup_request_lots_lot_idx ON pickup_request_lots (lot_id);
