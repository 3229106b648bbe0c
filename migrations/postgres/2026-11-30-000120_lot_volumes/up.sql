-- The weighed lots added up per park, day, code, enterprise and contract, so that a year of a
-- park's volumes reads a few thousand rows instead of every lot. A lot counts while it is
-- weighed (stored, or collected); its day is the date of its capture time shifted by the
-- park's day phase (`park_day_phase`: the park's standard UTC offset, in minutes; none, 0).
-- Where a period's boundary is not the start of such a day (another offset in summer, an
-- older park), the figures read the lots of that one day themselves. The trigger below keeps
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
) WITH (fillfactor = 70); -- room on each page for the next version of a row (HOT updates)

-- No lot changes between the totals' first reading and the triggers (an older release may still
-- be serving while migrations run).
LOCK TABLE lots IN SHARE ROW EXCLUSIVE MODE;

INSERT INTO lot_volumes (park_id, day, waste_code, enterprise_id, contract_id, grams, lots)
SELECT park_id, CAST(captured_at AS DATE), waste_code, enterprise_id, contract_id, SUM(net_grams), COUNT(*)
FROM lots WHERE status IN ('stored', 'collected')
GROUP BY 1, 2, 3, 4, 5;

-- The day of a lot of park `p` captured at `at`.
CREATE FUNCTION lot_volume_day(p TEXT, at TIMESTAMP) RETURNS DATE LANGUAGE sql STABLE AS $$
    SELECT CAST(at + make_interval(mins => COALESCE((SELECT minutes FROM park_day_phase WHERE park_id = p), 0)) AS DATE)
$$;

-- Adds `grams` and `lots` (signed) to the totals of a lot's row.
CREATE FUNCTION lot_volumes_add(p TEXT, at TIMESTAMP, code TEXT, ent TEXT, k TEXT, g BIGINT, n BIGINT)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO lot_volumes AS v (park_id, day, waste_code, enterprise_id, contract_id, grams, lots)
    VALUES (p, lot_volume_day(p, at), code, ent, k, g, n)
    ON CONFLICT (park_id, day, waste_code, enterprise_id, contract_id)
    DO UPDATE SET grams = v.grams + EXCLUDED.grams, lots = v.lots + EXCLUDED.lots
$$;

CREATE FUNCTION lots_volumes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.status IN ('stored', 'collected') AND NEW.status IN ('stored', 'collected')
           AND NEW.park_id = OLD.park_id AND NEW.captured_at = OLD.captured_at
           AND NEW.waste_code = OLD.waste_code AND NEW.enterprise_id = OLD.enterprise_id
           AND NEW.contract_id = OLD.contract_id AND NEW.net_grams = OLD.net_grams THEN
            RETURN NULL;
        END IF;
    END IF;
    -- A lot leaving one row and entering another takes the two rows' locks in key order, so
    -- that two such changes cannot wait on each other in a cycle.
    IF TG_OP = 'UPDATE' AND OLD.status IN ('stored', 'collected') AND NEW.status IN ('stored', 'collected')
       AND ROW(NEW.park_id, lot_volume_day(NEW.park_id, NEW.captured_at), NEW.waste_code, NEW.enterprise_id, NEW.contract_id)
         < ROW(OLD.park_id, lot_volume_day(OLD.park_id, OLD.captured_at), OLD.waste_code, OLD.enterprise_id, OLD.contract_id) THEN
        PERFORM lot_volumes_add(NEW.park_id, NEW.captured_at, NEW.waste_code, NEW.enterprise_id, NEW.contract_id, NEW.net_grams, 1);
        PERFORM lot_volumes_add(OLD.park_id, OLD.captured_at, OLD.waste_code, OLD.enterprise_id, OLD.contract_id, -OLD.net_grams, -1);
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status IN ('stored', 'collected') THEN
        PERFORM lot_volumes_add(OLD.park_id, OLD.captured_at, OLD.waste_code, OLD.enterprise_id, OLD.contract_id, -OLD.net_grams, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status IN ('stored', 'collected') THEN
        PERFORM lot_volumes_add(NEW.park_id, NEW.captured_at, NEW.waste_code, NEW.enterprise_id, NEW.contract_id, NEW.net_grams, 1);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER lots_volumes_insert_delete AFTER INSERT OR DELETE ON lots
FOR EACH ROW EXECUTE FUNCTION lots_volumes();
CREATE TRIGGER lots_volumes_update
AFTER UPDATE OF park_id, status, captured_at, waste_code, enterprise_id, contract_id, net_grams ON lots
FOR EACH ROW EXECUTE FUNCTION lots_volumes();
