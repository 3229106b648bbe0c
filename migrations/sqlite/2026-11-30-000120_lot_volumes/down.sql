DROP TRIGGER lots_volumes_delete;
DROP TRIGGER lots_volumes_enter;
DROP TRIGGER lots_volumes_leave;
DROP TRIGGER lots_volumes_insert;
DROP TABLE lot_volumes;
DROP TABLE park_day_phase;
