DROP TABLE idempotency_keys;
DROP TABLE label_sequences;
DROP TABLE inventory;
DROP TABLE lot_events;
DROP TABLE lots;
ALTER TABLE zones DROP COLUMN stored_grams;
