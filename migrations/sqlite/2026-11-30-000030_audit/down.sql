ALTER TABLE manifest_signatures DROP COLUMN document_sha256;
DROP TABLE manifest_records;
DROP TABLE audit_entries;
