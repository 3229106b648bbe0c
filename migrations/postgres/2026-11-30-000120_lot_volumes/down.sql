DROP TRIGGER lots_volumes_update ON lots;
DROP TRIGGER lots_volumes_insert_delete ON lots;
DROP FUNCTION lots_volumes();
DROP FUNCTION lot_volumes_add(TEXT, TIMESTAMP, TEXT, TEXT, TEXT, BIGINT, BIGINT);
DROP FUNCTION lot_volume_day(TEXT, TIMESTAMP);
DROP TABLE lot_volumes;
DROP TABLE park_day_phase;
