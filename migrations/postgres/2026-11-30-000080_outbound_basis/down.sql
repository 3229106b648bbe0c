ALTER TABLE parks DROP COLUMN label_scan_general;
DROP TABLE manifest_outbounds;
