DROP TABLE manifest_revisions;
DROP TABLE manifest_versions;
DROP TABLE manifest_signatures;
DROP TABLE manifest_lots;
DROP TABLE manifests;
DROP TABLE manifest_counters;
DROP TABLE collections;
