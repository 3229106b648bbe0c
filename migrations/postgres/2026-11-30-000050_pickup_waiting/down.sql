DROP INDEX pickup_request_lots_lot_idx;
DROP INDEX lots_waiting_idx;
CREATE INDEX lots_waiting_idx ON lots (contract_id, category, status, pickup_request_id);
DROP TRIGGER lots_waiting_update ON lots;
DROP TRIGGER lots_waiting_insert_delete ON lots;
DROP FUNCTION lots_waiting();
DROP TABLE pickup_waiting;
