ALTER TABLE parks DROP COLUMN require_official_number;
DROP TABLE manifest_official_numbers;
