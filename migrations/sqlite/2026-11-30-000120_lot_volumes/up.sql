-- The weighed lots added up per park, day, code, enterprise and contract, so that a year of a
-- park's volumes reads a few thousand rows instead of every lot. A lot counts while it is
-- weighed (stored, or collected); its day is the date of its capture time shifted by the
-- park's day phase (`park_day_phase`: the park's standard UTC offset, in minutes; none, 0).
-- Where a period's boundary is not the start of such a day (another offset in summer, an
-- older park), the figures read the lots of that one day themselves. The triggers below keep
-- the totals in the transaction of every change to a lot, whichever code makes it; a change
-- that leaves a lot's contribution as it was (a collection) does not touch them.
CREATE TABLE park_day_phase (
    park_id TEXT PRIMARY KEY NOT NULL,
    minutes INTEGER NOT NULL
);

CREATE TABLE lot_volumes (
    park_id       TEXT NOT NULL,
    day           DATE NOT NULL,
    waste_code    TEXT NOT NULL,
    enterprise_id TEXT NOT NULL,
    contract_id   TEXT NOT NULL,
    grams         BIGINT NOT NULL,
    lots          BIGINT NOT NULL,
    PRIMARY KEY (park_id, day, waste_code, enterprise_id, contract_id)
);

INSERT INTO lot_volumes (park_id, day, waste_code, enterprise_id, contract_id, grams, lots)
SELECT park_id, date(captured_at), waste_code, enterprise_id, contract_id, SUM(net_grams), COUNT(*)
FROM lots WHERE status IN ('stored', 'collected')
GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER lots_volumes_insert AFTER INSERT ON lots
WHEN NEW.status IN ('stored', 'collected')
BEGIN
    INSERT INTO lot_volumes (park_id, day, waste_code, enterprise_id, contract_id, grams, lots)
    VALUES (NEW.park_id,
            date(NEW.captured_at, printf('%+d minutes', COALESCE((SELECT minutes FROM park_day_phase WHERE park_id = NEW.park_id), 0))),
            NEW.waste_code, NEW.enterprise_id, NEW.contract_id, NEW.net_grams, 1)
    ON CONFLICT (park_id, day, waste_code, enterprise_id, contract_id)
    DO UPDATE SET grams = grams + excluded.grams, lots = lots + 1;
END;

CREATE TRIGGER lots_volumes_leave
AFTER UPDATE OF park_id, status, captured_at, waste_code, enterprise_id, contract_id, net_grams ON lots
WHEN OLD.status IN ('stored', 'collected')
 AND NOT (NEW.status IN ('stored', 'collected') AND NEW.park_id = OLD.park_id
          AND NEW.captured_at = OLD.captured_at AND NEW.waste_code = OLD.waste_code
          AND NEW.enterprise_id = OLD.enterprise_id AND NEW.contract_id = OLD.contract_id
          AND NEW.net_grams = OLD.net_grams)
BEGIN
    UPDATE lot_volumes SET grams = grams - OLD.net_grams, lots = lots - 1
    WHERE park_id = OLD.park_id
      AND day = date(OLD.captured_at, printf('%+d minutes', COALESCE((SELECT minutes FROM park_day_phase WHERE park_id = OLD.park_id), 0)))
      AND waste_code = OLD.waste_code AND enterprise_id = OLD.enterprise_id AND contract_id = OLD.contract_id;
END;

CREATE TRIGGER lots_volumes_enter
AFTER UPDATE OF park_id, status, captured_at, waste_code, enterprise_id, contract_id, net_grams ON lots
WHEN NEW.status IN ('stored', 'collected')
 AND NOT (OLD.status IN ('stored', 'collected') AND NEW.park_id = OLD.park_id
          AND NEW.captured_at = OLD.captured_at AND NEW.waste_code = OLD.waste_code
          AND NEW.enterprise_id = OLD.enterprise_id AND NEW.contract_id = OLD.contract_id
          AND NEW.net_grams = OLD.net_grams)
BEGIN
    INSERT INTO lot_volumes (park_id, day, waste_code, enterprise_id, contract_id, grams, lots)
    VALUES (NEW.park_id,
            date(NEW.captured_at, printf('%+d minutes', COALESCE((SELECT minutes FROM park_day_phase WHERE park_id = NEW.park_id), 0))),
            NEW.waste_code, NEW.enterprise_id, NEW.contract_id, NEW.net_grams, 1)
    ON CONFLICT (park_id, day, waste_code, enterprise_id, contract_id)
    DO UPDATE SET grams = grams + excluded.grams, lots = lots + 1;
END;

CREATE TRIGGER lots_volumes_delete AFTER DELETE ON lots
WHEN OLD.status IN ('stored', 'collected')
BEGIN
    UPDATE lot_volumes SET grams = grams - OLD.net_grams, lots = lots - 1
    WHERE park_id = OLD.park_id
      AND day = date(OLD.captured_at, printf('%+d minutes', COALESCE((SELECT minutes FROM park_day_phase WHERE park_id = OLD.park_id), 0)))
      AND waste_code = OLD.waste_code AND enterprise_id = OLD.enterprise_id AND contract_id = OLD.contract_id;
END;
