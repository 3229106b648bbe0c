DROP INDEX pickup_request_lots_lot_idx;
DROP INDEX lots_waiting_idx;
CREATE INDEX lots_waiting_idx ON lots (contract_id, category, status, pickup_request_id);
DROP TRIGGER lots_waiting_delete;
DROP TRIGGER lots_waiting_enter;
DROP TRIGGER lots_waiting_leave;
DROP TRIGGER lots_waiting_insert;
DROP TABLE pickup_waiting;
